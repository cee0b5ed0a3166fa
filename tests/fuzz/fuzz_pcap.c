/*
 * tests/fuzz/fuzz_pcap.c - a whole capture file (pcap or pcapng) through
 * the run tlsgrade makes of it: pl_run_capture (pipeline/), the same glue,
 * workers and report driver as the command line, with the settings the
 * input's header selects.
 *
 * The bytes are written to a memfd and opened by path (/proc/self/fd/N), so
 * libpcap reads them exactly as it reads a file given on the command line.
 *
 * Classic pcap headers carry two fields libpcap ignores (thiszone, sigfigs:
 * bytes 8..15).  In sigfigs (either byte order of the file):
 *   - a non-zero byte 12 selects tight limits, so the fuzzer reaches
 *     eviction, fragment and out-of-order caps (and a 2-entry certificate
 *     cache) without megabytes of input;
 *   - byte 13 selects what the run writes: 0 --handshakes, then the JSON,
 *     text and HTML reports (grading, clear-text HTTP, facts), then -j 2
 *     with the JSON report;
 * The corpus seeds have both zero: default limits, as tlsgrade --handshakes.
 * Every run is given two key logs (--keylog, see pcap_fuzz_settings), so a
 * capture they match is decrypted: its HTTP/1.x (libhtp) and HTTP/2
 * (nghttp2's HPACK) responses are read as the command line reads them.
 * Clear-text HTTP on port 80 needs no key (regressions/pcap/http-80-*).
 * Every report goes to /dev/null; the trust anchors are the samples' root
 * (the fuzzer and the replay run from the repository's root).
 *
 * Every classic pcap input is also read by the mapped reader and by
 * libpcap side by side: they must agree record by record.
 *
 * nDPI runs for --flows only, and initialising it per input costs ~60 ms,
 * 10 times a typical input: FUZZ_PCAP_NDPI=1 in the environment makes
 * every run a --flows run, to fuzz flow.c's nDPI glue on its own.
 */
#include "capture/filebuf.h"
#include "pipeline/pipeline.h"
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* One memfd for the process, rewritten per input. */
static int pcap_fuzz_fd = -1;

static bool pcap_fuzz_write(const uint8_t *data, size_t size) {
  if (pcap_fuzz_fd < 0 && (pcap_fuzz_fd = memfd_create("fuzz_pcap", 0)) < 0)
    return false;
  if (ftruncate(pcap_fuzz_fd, 0) != 0)
    return false;
  size_t done = 0;
  while (done < size) {
    ssize_t k = pwrite(pcap_fuzz_fd, data + done, size - done, (off_t)done);
    if (k <= 0)
      return false;
    done += (size_t)k;
  }
  return true;
}

/* The run's settings from the header's spare bytes (see the top). */
static void pcap_fuzz_settings(const uint8_t *data, size_t size, struct pl_settings *set) {
  static const uint8_t magic_le[4] = {0xd4, 0xc3, 0xb2, 0xa1},
                       magic_be[4] = {0xa1, 0xb2, 0xc3, 0xd4};
  static const uint8_t magic_nle[4] = {0x4d, 0x3c, 0xb2, 0xa1},
                       magic_nbe[4] = {0xa1, 0xb2, 0x3c, 0x4d};
  pl_settings_default(set);
  set->mode = PL_MODE_HANDSHAKES;
  set->output = "/dev/null";
  set->ca_file = "samples/certs/root.pem";
  set->cert_cache_entries = 64;
  /* the secrets of samples/a-grade.pcap (HTTP/1.0) and of
   * regressions/pcap/h2-keylog.pcap (HTTP/2): mutations of those captures
   * reach decryption and the HTTP readers behind it */
  static const char *const keylogs[2] = {"samples/a-grade.keylog", "tests/fuzz/h2.keylog"};
  set->keylog_files = keylogs;
  set->n_keylog_files = 2;
  const char *ndpi = getenv("FUZZ_PCAP_NDPI");
  if (ndpi && strcmp(ndpi, "1") == 0)
    set->mode = PL_MODE_FLOWS;
  if (size < 24 || !(memcmp(data, magic_le, 4) == 0 || memcmp(data, magic_be, 4) == 0 ||
                     memcmp(data, magic_nle, 4) == 0 || memcmp(data, magic_nbe, 4) == 0))
    return;
  static const struct {
    enum pl_mode mode;
    enum pl_format format;
    unsigned jobs;
  } outputs[] = {
      {PL_MODE_HANDSHAKES, PL_FORMAT_JSON, 1}, {PL_MODE_GRADE, PL_FORMAT_JSON, 1},
      {PL_MODE_GRADE, PL_FORMAT_TEXT, 1},      {PL_MODE_GRADE, PL_FORMAT_HTML, 1},
      {PL_MODE_GRADE, PL_FORMAT_JSON, 2},
  };
  if (set->mode != PL_MODE_FLOWS) {
    size_t pick = data[13] % (sizeof(outputs) / sizeof(outputs[0]));
    set->mode = outputs[pick].mode;
    set->format = outputs[pick].format;
    set->jobs = outputs[pick].jobs;
  }
  uint8_t knob = data[12];
  if (!knob)
    return;
  struct cap_limits *lim = &set->limits;
  struct tls_limits *tls_lim = &set->tls_limits;
  lim->max_flows = 1 + (knob & 7);
  lim->tcp_ooo_bytes = 64u << ((knob >> 3) & 7);
  lim->tcp_ooo_segments = 1 + ((knob >> 3) & 7);
  lim->reasm_total_bytes = 128u << (knob & 7);
  lim->tcp_recent_bytes = 4u << ((knob >> 2) & 7); /* rings that wrap often */
  lim->recent_total_bytes = 64u << (knob & 7);
  lim->frag_datagrams = 1 + (knob & 3);
  lim->frag_bytes = 256u << ((knob >> 2) & 7);
  lim->frag_pieces = 1 + (knob & 7);
  lim->frag_timeout = 1000000;
  lim->idle_timeout = 2000000;
  lim->close_timeout = 1000000;
  lim->ndpi_max_packets = 1 + (knob & 3);
  tls_lim->max_handshake_bytes = 512u << ((knob >> 5) & 7);
  tls_lim->max_chain_len = 1 + (knob & 3);
  tls_lim->max_cert_bytes = 256u << ((knob >> 4) & 7);
  tls_lim->max_quic_pieces = 1 + (knob & 7);
  tls_lim->max_dtls_pieces = 1 + (knob & 7);
  set->cert_cache_entries = 2;
}

/* The mapped reader against libpcap, record by record: the same headers,
 * bytes and end (a clean end, or an error at the same record with the same
 * text). */
static void pcap_fuzz_readers_agree(const char *path) {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t *ref = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  pcap_t *p =
      ref ? pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf)
          : NULL;
  struct cap_filebuf *m = p ? cap_filebuf_open(p, path, NULL) : NULL;
  for (; m;) {
    struct pcap_pkthdr *a, *b;
    const u_char *da, *db;
    int ra = pcap_next_ex(ref, &a, &da);
    int rb = cap_filebuf_next(m, &b, &db);
    if (ra == PCAP_ERROR_BREAK) {
      FUZZ_INVARIANT(rb == 0);
      break;
    }
    FUZZ_INVARIANT(ra == rb);
    if (ra < 0) {
      FUZZ_INVARIANT(strcmp(pcap_geterr(ref), cap_filebuf_error(m)) == 0);
      break;
    }
    FUZZ_INVARIANT(a->ts.tv_sec == b->ts.tv_sec && a->ts.tv_usec == b->ts.tv_usec);
    FUZZ_INVARIANT(a->caplen == b->caplen && a->len == b->len);
    FUZZ_INVARIANT(memcmp(da, db, a->caplen) == 0);
  }
  cap_filebuf_close(m);
  if (p)
    pcap_close(p);
  if (ref)
    pcap_close(ref);
}

int fuzz_pcap_one(const uint8_t *data, size_t size) {
  if (!pcap_fuzz_write(data, size))
    return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", pcap_fuzz_fd);
  char *paths[1] = {path};
  struct pl_settings set;
  pcap_fuzz_settings(data, size, &set);
  struct pl_counters count;
  pl_run_capture(&set, paths, 1, &count);
  /* the pipeline's promises: every flow made is ended, once; a session is
   * handed over at most once per flow, and only a session can print */
  FUZZ_INVARIANT(count.flows_ended == count.cap.flows);
  FUZZ_INVARIANT(count.sessions <= count.cap.flows);
  FUZZ_INVARIANT(count.tls_connections <= count.sessions);
  FUZZ_INVARIANT(count.handshakes_printed <= count.sessions);
  pcap_fuzz_readers_agree(path);
  return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_pcap_one(data, size);
}
#endif
