/*
 * tests/unit/test_filemap.c - the mapped reader walks a pcap file record
 * by record exactly as libpcap's pcap_next_ex does (headers and bytes), is
 * used for classic pcap files, and leaves pcapng files and
 * TLSGRADE_READER=libpcap to libpcap; so does the whole-file mapping the -j
 * team reads.  (tests/e2e/test_reader.py compares
 * whole runs on the corpus and on cut and rewritten files.)
 */
#include "capture/filemap.h"
#include "harness.h"

#include <stdlib.h>
#include <sys/wait.h>
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
  struct cap_filemap *m = cap_filemap_open(p, SAMPLE, bpf);
  CHECK(m != NULL);
  size_t records = 0, differ = 0;
  for (; m;) {
    struct pcap_pkthdr *a, *b;
    const u_char *da, *db;
    int ra = pcap_next_ex(ref, &a, &da);
    int rb = cap_filemap_next(m, &b, &db);
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
  cap_filemap_close(m);
  pcap_close(ref);
  pcap_close(p);
}

static void every_record(void) {
  walks_as_libpcap(NULL);
}

static void filtered_records(void) {
  walks_as_libpcap("tcp and dst port 443");
}

/* path, opened by libpcap, is not taken by the mapped reader. */
static void left_to_libpcap(const char *path) {
  pcap_t *p = open_offline(path);
  CHECK(p != NULL);
  if (p) {
    struct cap_filemap *m = cap_filemap_open(p, path, NULL);
    CHECK(m == NULL);
    cap_filemap_close(m);
    pcap_close(p);
  }
}

static void pcapng_and_override_left_to_libpcap(void) {
  left_to_libpcap(PCAPNG);
  setenv("TLSGRADE_READER", "libpcap", 1);
  left_to_libpcap(SAMPLE);
  unsetenv("TLSGRADE_READER");
}

/* A file cut while mapped: the reader's SIGBUS becomes a message and exit
 * status 1 (in a child process, whose stderr is read back). */
static void shrinking_file_is_reported(void) {
  char path[] = "/tmp/tlsgrade-filemap-XXXXXX";
  int fd = mkstemp(path);
  FILE *in = fopen(SAMPLE, "rb");
  CHECK(fd >= 0 && in);
  if (fd < 0 || !in)
    return;
  char buf[65536];
  size_t n, total = 0;
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
    total += (size_t)write(fd, buf, n);
  fclose(in);
  CHECK(total > 20000);
  int err_pipe[2];
  CHECK(pipe(err_pipe) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(err_pipe[1], 2);
    pcap_t *p = open_offline(path);
    struct cap_filemap *m = p ? cap_filemap_open(p, path, NULL) : NULL;
    if (!m || ftruncate(fd, 5000) != 0)
      _exit(3);
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned sum = 0;
    while (cap_filemap_next(m, &h, &d) == 1)
      sum += d[h->caplen ? h->caplen - 1 : 0];
    _exit(sum == 12345 ? 4 : 2); /* not reached: the pages past 5000 bytes are gone */
  }
  close(err_pipe[1]);
  char text[512] = "";
  size_t have = 0;
  for (ssize_t got; have < sizeof(text) - 1 &&
                    (got = read(err_pipe[0], text + have, sizeof(text) - 1 - have)) > 0;)
    have += (size_t)got;
  text[have] = '\0';
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  CHECK(strstr(text, "shrank while it was being read") != NULL);
  CHECK(strstr(text, path) != NULL);
  close(fd);
  unlink(path);
}

/* The whole-file mapping the -j team reads: the file's bytes (read back
 * with stdio), walked record by record as libpcap walks them, still the
 * file's bytes after the pages behind the readers are let go. */
static void whole_file_mapping(void) {
  FILE *in = fopen(SAMPLE, "rb");
  CHECK(in != NULL);
  if (!in)
    return;
  static uint8_t file[1 << 21];
  size_t file_len = fread(file, 1, sizeof(file), in);
  fclose(in);
  CHECK(file_len > 20000 && file_len < sizeof(file));
  pcap_t *p = open_offline(SAMPLE), *ref = open_offline(SAMPLE);
  struct cap_filemap_whole m;
  CHECK(p && ref && cap_filemap_whole_open(&m, p, SAMPLE));
  if (!p || !ref || !m.base)
    return;
  CHECK_EQ_U(m.size, file_len);
  CHECK(memcmp(m.base, file, file_len) == 0);
  CHECK_EQ_U(m.fmt.snapshot, pcap_snapshot(ref));
  size_t off = CAP_PCAP_FILE_HEADER, records = 0, differ = 0;
  for (;;) {
    struct cap_pcap_record rec;
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = cap_pcap_record(&m.fmt, m.base + off, m.size - off, &rec, err, sizeof(err));
    int ra = pcap_next_ex(ref, &h, &d);
    if (rc == 0 && ra == PCAP_ERROR_BREAK)
      break;
    if (rc != 1 || ra != 1) {
      differ++;
      break;
    }
    if (rec.hdr.caplen != h->caplen || rec.hdr.len != h->len ||
        memcmp(m.base + off + CAP_PCAP_RECORD_HEADER, d, h->caplen) != 0)
      differ++;
    records++;
    off += rec.size;
  }
  CHECK(records > 100);
  CHECK_EQ_U(differ, 0);
  cap_filemap_whole_drop(&m, m.size / 2);
  CHECK(m.dropped > 0 && m.dropped <= m.size / 2 && m.dropped % m.page == 0);
  CHECK(memcmp(m.base, file, file_len) == 0); /* dropped pages come back from the file */
  cap_filemap_whole_close(&m);
  CHECK(m.base == NULL && m.size == 0);
  pcap_close(p);
  pcap_close(ref);
}

static void whole_file_left_to_libpcap(void) {
  struct cap_filemap_whole m;
  pcap_t *p = open_offline(PCAPNG);
  CHECK(p && !cap_filemap_whole_open(&m, p, PCAPNG));
  CHECK(m.base == NULL);
  if (p)
    pcap_close(p);
  setenv("TLSGRADE_READER", "libpcap", 1);
  p = open_offline(SAMPLE);
  CHECK(p && !cap_filemap_whole_open(&m, p, SAMPLE));
  CHECK(m.base == NULL);
  if (p)
    pcap_close(p);
  unsetenv("TLSGRADE_READER");
}

int main(void) {
  RUN(every_record);
  RUN(filtered_records);
  RUN(pcapng_and_override_left_to_libpcap);
  RUN(shrinking_file_is_reported);
  RUN(whole_file_mapping);
  RUN(whole_file_left_to_libpcap);
  return harness_done();
}
