/*
 * capture/filemap.h - a classic pcap file read in place (filemap.c);
 * private to capture/.
 */
#ifndef TLSGRADE_CAPTURE_FILEMAP_H
#define TLSGRADE_CAPTURE_FILEMAP_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>

/* pcap-savefile(5): the file header, then records, each a header and the
 * captured bytes. */
#define CAP_PCAP_FILE_HEADER 24
#define CAP_PCAP_RECORD_HEADER 16
/* How far ahead of a walk through a mapped file its lines are prefetched:
 * walking record headers is otherwise a chain of memory misses. */
#define CAP_PREFETCH_BYTES 2048

/* A classic pcap 2.4 file's layout, from its header (libpcap agreeing). */
struct cap_pcap_format {
  bool swapped, nano;
  uint32_t snapshot; /* libpcap's, after its own corrections */
};
bool cap_pcap_format_of(pcap_t *p, const uint8_t *head, struct cap_pcap_format *f);
bool cap_filemap_use_libpcap(void); /* TLSGRADE_READER=libpcap */

/* The record at rec, `left` bytes before the end of the file, by libpcap's
 * rules: 1 (hdr as pcap_next_ex gives it, its data at rec + 16, size bytes
 * in the file), 0 the end, -1 an error (its text in err; libpcap's stream
 * would stand stop_at bytes further). */
struct cap_pcap_record {
  struct pcap_pkthdr hdr;
  size_t size;
  size_t stop_at;
};
int cap_pcap_record(const struct cap_pcap_format *f, const uint8_t *rec, size_t left,
                    struct cap_pcap_record *out, char *err, size_t errlen);

/* This thread is about to read path through a mapping: should the file
 * shrink meanwhile, the process says so and exits 1 instead of dying of
 * SIGBUS.  (cap_filemap_open does it for its own mapping.) */
void cap_filemap_guard(const char *path);

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

/* A whole classic pcap file mapped at once, for the readers that share it
 * (team.c) and read it front to back.  All zero: nothing mapped. */
struct cap_filemap_whole {
  const uint8_t *base;
  size_t size;
  struct cap_pcap_format fmt;
  size_t page;
  size_t dropped; /* the pages before it are let go */
};
/* Map the file at path, already opened and checked by libpcap as p: true
 * when it is a pcap 2.4 file that maps (never with TLSGRADE_READER=libpcap);
 * false (m left all zero) when libpcap must read it. */
bool cap_filemap_whole_open(struct cap_filemap_whole *m, pcap_t *p, const char *path);
/* No reader reads before byte upto any more: let those pages go, so that
 * a file larger than memory streams through the page cache. */
void cap_filemap_whole_drop(struct cap_filemap_whole *m, size_t upto);
void cap_filemap_whole_close(struct cap_filemap_whole *m);

#endif
