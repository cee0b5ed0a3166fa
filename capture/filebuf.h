/*
 * capture/filebuf.h - a classic pcap file read by byte ranges into
 * buffers that are reused (filebuf.c); private to capture/.
 */
#ifndef TLSGRADE_CAPTURE_FILEBUF_H
#define TLSGRADE_CAPTURE_FILEBUF_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>

/* pcap-savefile(5): the file header, then records, each a header and the
 * captured bytes. */
#define CAP_PCAP_FILE_HEADER 24
#define CAP_PCAP_RECORD_HEADER 16
/* How far ahead of a walk through a file's bytes its lines are prefetched:
 * walking record headers is otherwise a chain of memory misses. */
#define CAP_PREFETCH_BYTES 2048

/* A classic pcap 2.4 file's layout, from its header (libpcap agreeing). */
struct cap_pcap_format {
  bool swapped, nano;
  uint32_t snapshot; /* libpcap's, after its own corrections */
};
bool cap_pcap_format_of(pcap_t *p, const uint8_t *head, struct cap_pcap_format *f);
bool cap_filebuf_use_libpcap(void); /* TLSGRADE_READER=libpcap */

/* The record at rec, `left` bytes before the end of the file, by libpcap's
 * rules: 1 (hdr as pcap_next_ex gives it, its data at rec + 16, size bytes
 * in the file), 0 the end, -1 an error (its text in err unless err is
 * NULL; libpcap's stream would stand stop_at bytes further). */
struct cap_pcap_record {
  struct pcap_pkthdr hdr;
  size_t size;
  size_t stop_at;
};
int cap_pcap_record(const struct cap_pcap_format *f, const uint8_t *rec, size_t left,
                    struct cap_pcap_record *out, char *err, size_t errlen);

/* A classic pcap file open for reading by byte ranges (fd -1: none). */
struct cap_filebuf_file {
  int fd;
  size_t size; /* when it was opened */
  struct cap_pcap_format fmt;
};
/* Open the file at path, already opened and checked by libpcap as p: true
 * when it is a pcap 2.4 file (never with TLSGRADE_READER=libpcap); false
 * (f->fd -1) when libpcap must read it. */
bool cap_filebuf_file_open(struct cap_filebuf_file *f, pcap_t *p, const char *path);
void cap_filebuf_file_close(struct cap_filebuf_file *f);

/* A run of a file's bytes read into a buffer of its own, [off, off + len),
 * which is reused (its pages stay mapped: a fresh mapping's pages each
 * cost a miss in the page tables on first touch).  All zero: empty. */
struct cap_filebuf_run {
  uint8_t *buf;
  size_t cap; /* of buf */
  size_t off, len;
};
/* Bytes [off, off + len) of f, in run r: read (with at least the bytes up
 * to `until`, within the file) when r does not hold them all.  The bytes
 * from keep (<= off) on that r holds are kept; those before keep may go.
 * NULL, the reason in err, when the file cannot be read or ends before the
 * size it had when opened (it shrank). */
const uint8_t *cap_filebuf_read(const struct cap_filebuf_file *f, struct cap_filebuf_run *r,
                                size_t keep, size_t off, size_t len, size_t until, char *err,
                                size_t errlen);
void cap_filebuf_run_free(struct cap_filebuf_run *r);

struct cap_filebuf;
/* The file at path, already opened and checked by libpcap as p,
 * positioned at its first record; bpf: the filter, or NULL.  NULL when
 * libpcap must read it (not a pcap 2.4 file, not a regular file,
 * TLSGRADE_READER=libpcap, or it cannot be read so): never an error. */
struct cap_filebuf *cap_filebuf_open(pcap_t *p, const char *path, const char *bpf);
/* As pcap_next_ex for a file: 1 a packet (valid until the next call), 0 the
 * end, -1 an error (cap_filebuf_error; cap_filebuf_offset is where the
 * read stopped). */
int cap_filebuf_next(struct cap_filebuf *m, struct pcap_pkthdr **hdr, const u_char **data);
const char *cap_filebuf_error(const struct cap_filebuf *m);
long cap_filebuf_offset(const struct cap_filebuf *m);
void cap_filebuf_close(struct cap_filebuf *m);

#endif
