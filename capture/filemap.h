/*
 * capture/filemap.h - a classic pcap file read in place (filemap.c);
 * private to capture/.
 */
#ifndef TLSGRADE_CAPTURE_FILEMAP_H
#define TLSGRADE_CAPTURE_FILEMAP_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>

struct cap_filemap;
/* The file at path, already opened and checked by libpcap as p, mapped and
 * positioned at its first record; bpf: the filter, or NULL.  NULL when
 * libpcap must read it (not a pcap 2.4 file, not a regular file,
 * TLSGRADE_READER=libpcap, or mapping failed): never an error. */
struct cap_filemap *cap_filemap_open(pcap_t *p, const char *path, const char *bpf);
/* As pcap_next_ex for a file: 1 a packet (valid until the next call), 0 the
 * end, -1 an error (cap_filemap_error; cap_filemap_offset is where the
 * read stopped). */
int cap_filemap_next(struct cap_filemap *m, struct pcap_pkthdr **hdr, const u_char **data);
const char *cap_filemap_error(const struct cap_filemap *m);
long cap_filemap_offset(const struct cap_filemap *m);
void cap_filemap_close(struct cap_filemap *m);

#endif
