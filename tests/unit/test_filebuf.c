/*
 * tests/unit/test_filebuf.c - the pcap reader walks a pcap file record by
 * record exactly as libpcap's pcap_next_ex does (headers and bytes), is
 * used for classic pcap files, and leaves pcapng files and
 * TLSGRADE_READER=libpcap to libpcap; so do the runs of bytes the -j team
 * reads.  A file that shrinks under the reader is an error that says so.
 * (tests/e2e/test_reader.py compares whole runs on the corpus and on cut
 * and rewritten files.)
 */
#include "capture/filebuf.h"
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

#define SAMPLE "samples/demo-cloud-consoles.pcap"
#define PCAPNG "../shared/corpus/pcaps/ndpi__quic-33.pcapng"

static pcap_t *open_offline(const char *path) {
  char err[PCAP_ERRBUF_SIZE];
  return pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
}

static void walks_as_libpcap(const char *bpf) {
  pcap_t *ref = open_offline(SAMPLE), *p = open_offline(SAMPLE);
  CHECK(ref && p);
  if (!ref || !p)
    return;
  struct bpf_program prog;
  if (bpf) {
    CHECK(pcap_compile(ref, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) == 0);
    CHECK(pcap_setfilter(ref, &prog) == 0);
    pcap_freecode(&prog);
  }
  struct cap_filebuf *m = cap_filebuf_open(p, SAMPLE, bpf);
  CHECK(m != NULL);
  size_t records = 0, differ = 0;
  for (; m;) {
    struct pcap_pkthdr *a, *b;
    const u_char *da, *db;
    int ra = pcap_next_ex(ref, &a, &da);
    int rb = cap_filebuf_next(m, &b, &db);
    if (ra == PCAP_ERROR_BREAK && rb == 0)
      break;
    if (ra != 1 || rb != 1) {
      differ++;
      break;
    }
    records++;
    if (a->ts.tv_sec != b->ts.tv_sec || a->ts.tv_usec != b->ts.tv_usec || a->caplen != b->caplen ||
        a->len != b->len || memcmp(da, db, a->caplen) != 0)
      differ++;
  }
  CHECK(records > (bpf ? 10u : 100u));
  CHECK_EQ_U(differ, 0);
  cap_filebuf_close(m);
  pcap_close(ref);
  pcap_close(p);
}

static void every_record(void) {
  walks_as_libpcap(NULL);
}

static void filtered_records(void) {
  walks_as_libpcap("tcp and dst port 443");
}

/* path, opened by libpcap, is not taken by the buffered reader. */
static void left_to_libpcap(const char *path) {
  pcap_t *p = open_offline(path);
  CHECK(p != NULL);
  if (p) {
    struct cap_filebuf *m = cap_filebuf_open(p, path, NULL);
    CHECK(m == NULL);
    cap_filebuf_close(m);
    pcap_close(p);
  }
}

static void pcapng_and_override_left_to_libpcap(void) {
  left_to_libpcap(PCAPNG);
  setenv("TLSGRADE_READER", "libpcap", 1);
  left_to_libpcap(SAMPLE);
  unsetenv("TLSGRADE_READER");
}

/* The sample's bytes (read with stdio) into file; their length. */
static size_t sample_bytes(uint8_t *file, size_t cap) {
  FILE *in = fopen(SAMPLE, "rb");
  CHECK(in != NULL);
  if (!in)
    return 0;
  size_t n = fread(file, 1, cap, in);
  fclose(in);
  CHECK(n > 20000 && n < cap);
  return n;
}

/* A file cut after it was opened: the reader stops with an error that
 * says the file shrank (not a crash, not a silent end). */
static void shrinking_file_is_reported(void) {
  static uint8_t file[1 << 21];
  size_t file_len = sample_bytes(file, sizeof(file));
  char path[] = "/tmp/tlsgrade-filebuf-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0 || !file_len)
    return;
  CHECK_EQ_U((size_t)write(fd, file, file_len), file_len);
  pcap_t *p = open_offline(path);
  struct cap_filebuf *m = p ? cap_filebuf_open(p, path, NULL) : NULL;
  CHECK(m != NULL);
  CHECK(ftruncate(fd, 5000) == 0);
  struct pcap_pkthdr *h;
  const u_char *d;
  int rc;
  size_t records = 0;
  while (m && (rc = cap_filebuf_next(m, &h, &d)) == 1)
    records++;
  CHECK(m && rc == -1);
  size_t whole = 0; /* the records that end within the first 5000 bytes */
  for (size_t off = CAP_PCAP_FILE_HEADER; off + 16 <= 5000;) {
    uint32_t caplen;
    memcpy(&caplen, file + off + 8, 4); /* the sample is little-endian */
    if (off + 16 + caplen > 5000)
      break;
    whole++;
    off += 16 + caplen;
  }
  CHECK(whole > 0);
  CHECK_EQ_U(records, whole);
  CHECK(m && strstr(cap_filebuf_error(m), "shrank while it was being read") != NULL);
  cap_filebuf_close(m);
  if (p)
    pcap_close(p);
  close(fd);
  unlink(path);
}

/* The runs the -j team reads: every record as libpcap reads it, in one run
 * that keeps all from its start; and in a run that keeps only from each
 * record on, which never holds much more than asked. */
static void runs_read_the_file(void) {
  static uint8_t file[1 << 21];
  size_t file_len = sample_bytes(file, sizeof(file));
  pcap_t *p = open_offline(SAMPLE), *ref = open_offline(SAMPLE);
  struct cap_filebuf_file f;
  CHECK(p && ref && cap_filebuf_file_open(&f, p, SAMPLE));
  if (!p || !ref || f.fd < 0)
    return;
  CHECK_EQ_U(f.size, file_len);
  CHECK_EQ_U(f.fmt.snapshot, pcap_snapshot(ref));
  struct cap_filebuf_run whole = {0}, moving = {0};
  size_t off = CAP_PCAP_FILE_HEADER, records = 0, differ = 0, most = 0;
  char err[PCAP_ERRBUF_SIZE];
  for (;;) {
    struct cap_pcap_record rec;
    struct pcap_pkthdr *h;
    const u_char *d;
    size_t left = f.size - off, head = left < 16 ? left : 16;
    const uint8_t *a =
        left ? cap_filebuf_read(&f, &whole, CAP_PCAP_FILE_HEADER, off, head, off, err, sizeof(err))
             : NULL;
    int rc = cap_pcap_record(&f.fmt, a, left, &rec, err, sizeof(err));
    int ra = pcap_next_ex(ref, &h, &d);
    if (rc == 0 && ra == PCAP_ERROR_BREAK)
      break;
    if (rc != 1 || ra != 1) {
      differ++;
      break;
    }
    a = cap_filebuf_read(&f, &whole, CAP_PCAP_FILE_HEADER, off, rec.size, off, err, sizeof(err));
    const uint8_t *b =
        cap_filebuf_read(&f, &moving, off, off, rec.size, off + 4096, err, sizeof(err));
    if (!a || !b || rec.hdr.caplen != h->caplen || rec.hdr.len != h->len ||
        memcmp(a + CAP_PCAP_RECORD_HEADER, d, h->caplen) != 0 ||
        memcmp(b, file + off, rec.size) != 0)
      differ++;
    if (moving.len > most)
      most = moving.len;
    records++;
    off += rec.size;
  }
  CHECK(records > 100);
  CHECK_EQ_U(differ, 0);
  CHECK(whole.off == CAP_PCAP_FILE_HEADER && whole.len == file_len - CAP_PCAP_FILE_HEADER);
  CHECK(memcmp(whole.buf, file + CAP_PCAP_FILE_HEADER, whole.len) == 0);
  CHECK(most < 4096 + 65536); /* what it keeps from a record on, and 4 kB more */
  cap_filebuf_run_free(&whole);
  cap_filebuf_run_free(&moving);
  cap_filebuf_file_close(&f);
  CHECK(f.fd == -1);
  pcap_close(p);
  pcap_close(ref);
}

static void file_left_to_libpcap(void) {
  struct cap_filebuf_file f;
  pcap_t *p = open_offline(PCAPNG);
  CHECK(p && !cap_filebuf_file_open(&f, p, PCAPNG));
  CHECK(f.fd == -1);
  if (p)
    pcap_close(p);
  setenv("TLSGRADE_READER", "libpcap", 1);
  p = open_offline(SAMPLE);
  CHECK(p && !cap_filebuf_file_open(&f, p, SAMPLE));
  CHECK(f.fd == -1);
  if (p)
    pcap_close(p);
  unsetenv("TLSGRADE_READER");
}

int main(void) {
  RUN(every_record);
  RUN(filtered_records);
  RUN(pcapng_and_override_left_to_libpcap);
  RUN(shrinking_file_is_reported);
  RUN(runs_read_the_file);
  RUN(file_left_to_libpcap);
  return harness_done();
}
