/*
 * tests/fuzz/fuzz_pcap.c - a whole capture file (pcap or pcapng) through
 * the full pipeline: cap_source_files -> cap_decoder -> flow_table ->
 * tls_conn, wired as tlsgrade.c wires --handshakes: the dissector made at a
 * flow's first payload, one certificate cache shared by the flows.
 *
 * The bytes are written to a memfd and opened by path (/proc/self/fd/N), so
 * libpcap reads them exactly as it reads a file given on the command line.
 *
 * Classic pcap headers carry two fields libpcap ignores (thiszone, sigfigs:
 * bytes 8..15).  A non-zero byte 12 (in sigfigs, in either byte order of the
 * file) selects tight limits, so the fuzzer reaches eviction, fragment and
 * out-of-order caps (and a 2-entry certificate cache) without megabytes of
 * input.  The corpus seeds have it zero: default limits, as tlsgrade
 * --handshakes --no-ndpi.
 *
 * Every classic pcap input is also read by the mapped reader and by
 * libpcap side by side: they must agree record by record.
 *
 * nDPI only names the flow (tlsgrade gives the dissector no app name) and
 * initialising it per input costs ~60 ms, 10 times a typical input: it is
 * off unless FUZZ_PCAP_NDPI=1 is in the environment, to fuzz flow.c's nDPI
 * glue on its own.
 */
#include "capture/capture.h"
#include "capture/filemap.h"
#include "dissect/dissect.h"
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct pcap_fuzz_run {
  struct tls_limits tls_limits;
  struct x509_cache *certs; /* shared by the flows, as tlsgrade shares one per thread */
  uint64_t flows_started, flows_ended;
};

static void pcap_fuzz_flow_start(void *ctx, struct flow *f) {
  struct pcap_fuzz_run *run = ctx;
  run->flows_started++;
  FUZZ_INVARIANT(f->user == NULL);
}

/* The dissector is made at a flow's first payload, as tlsgrade does. */
static void pcap_fuzz_flow_data(void *ctx, struct flow *f, int dir, const uint8_t *data, size_t len,
                                uint64_t gap_len, unsigned flags, uint32_t file_index,
                                uint64_t frame, cap_time_us ts) {
  struct pcap_fuzz_run *run = ctx;
  /* capture's promises to its consumer */
  FUZZ_INVARIANT(dir == FLOW_C2S || dir == FLOW_S2C);
  FUZZ_INVARIANT(data || len == 0 || (flags & TCP_DATA_SKIP));
  if (!f->user) {
    f->user = tls_conn_new(&run->tls_limits, f->l4_proto == 17, f->server_port);
    if (!f->user)
      return;
    if (!f->roles_from_syn)
      tls_conn_roles_guessed(f->user);
    tls_conn_set_cert_cache(f->user, run->certs);
  }
  if (tls_conn_data(f->user, dir, data, len, gap_len, flags, file_index, frame, ts))
    flow_set_skip(f, dir, true);
}

static void pcap_fuzz_flow_closing(void *ctx, struct flow *f) {
  (void)ctx;
  if (f->user)
    (void)tls_conn_session(f->user)->established;
}

static void pcap_fuzz_flow_end(void *ctx, struct flow *f, enum flow_end_reason why) {
  struct pcap_fuzz_run *run = ctx;
  (void)why;
  run->flows_ended++;
  if (!f->user)
    return;
  /* What the report reads: walk the facts so that ASan checks them. */
  const struct tls_session *s = tls_conn_session(f->user);
  size_t total = 0;
  for (size_t i = 0; i < s->chain_len; i++)
    total += s->chain[i]->der_len + (s->chain[i]->subject ? strlen(s->chain[i]->subject) : 0);
  total += s->ch.sni.n + s->sh.alpn.n + strlen(s->ja4) + strlen(s->ch.ja3);
  FUZZ_INVARIANT(s->n_alerts <= TLS_MAX_ALERTS && s->n_heartbeats <= TLS_MAX_HEARTBEATS);
  (void)total;
  tls_conn_free(f->user);
  f->user = NULL;
}

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

/* Tight limits when a classic pcap header has a non-zero sigfigs byte. */
static void pcap_fuzz_limits(const uint8_t *data, size_t size, struct cap_limits *lim,
                             struct tls_limits *tls_lim, bool *use_ndpi) {
  static const uint8_t magic_le[4] = {0xd4, 0xc3, 0xb2, 0xa1},
                       magic_be[4] = {0xa1, 0xb2, 0xc3, 0xd4};
  static const uint8_t magic_nle[4] = {0x4d, 0x3c, 0xb2, 0xa1},
                       magic_nbe[4] = {0xa1, 0xb2, 0x3c, 0x4d};
  cap_limits_default(lim);
  tls_limits_default(tls_lim);
  const char *ndpi = getenv("FUZZ_PCAP_NDPI");
  *use_ndpi = ndpi && strcmp(ndpi, "1") == 0;
  if (size < 24 || !(memcmp(data, magic_le, 4) == 0 || memcmp(data, magic_be, 4) == 0 ||
                     memcmp(data, magic_nle, 4) == 0 || memcmp(data, magic_nbe, 4) == 0))
    return;
  uint8_t knob = data[12];
  if (!knob)
    return;
  lim->max_flows = 1 + (knob & 7);
  lim->tcp_ooo_bytes = 64u << ((knob >> 3) & 7);
  lim->tcp_ooo_segments = 1 + ((knob >> 3) & 7);
  lim->reasm_total_bytes = 128u << (knob & 7);
  lim->frag_datagrams = 1 + (knob & 3);
  lim->frag_bytes = 256u << ((knob >> 2) & 7);
  lim->frag_timeout = 1000000;
  lim->idle_timeout = 2000000;
  lim->close_timeout = 1000000;
  lim->ndpi_max_packets = 1 + (knob & 3);
  tls_lim->max_handshake_bytes = 512u << ((knob >> 5) & 7);
  tls_lim->max_chain_len = 1 + (knob & 3);
  tls_lim->max_cert_bytes = 256u << ((knob >> 4) & 7);
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
  struct cap_filemap *m = p ? cap_filemap_open(p, path, NULL) : NULL;
  for (; m;) {
    struct pcap_pkthdr *a, *b;
    const u_char *da, *db;
    int ra = pcap_next_ex(ref, &a, &da);
    int rb = cap_filemap_next(m, &b, &db);
    if (ra == PCAP_ERROR_BREAK) {
      FUZZ_INVARIANT(rb == 0);
      break;
    }
    FUZZ_INVARIANT(ra == rb);
    if (ra < 0) {
      FUZZ_INVARIANT(strcmp(pcap_geterr(ref), cap_filemap_error(m)) == 0);
      break;
    }
    FUZZ_INVARIANT(a->ts.tv_sec == b->ts.tv_sec && a->ts.tv_usec == b->ts.tv_usec);
    FUZZ_INVARIANT(a->caplen == b->caplen && a->len == b->len);
    FUZZ_INVARIANT(memcmp(da, db, a->caplen) == 0);
  }
  cap_filemap_close(m);
  if (p)
    pcap_close(p);
  if (ref)
    pcap_close(ref);
}

int fuzz_pcap_one(const uint8_t *data, size_t size) {
  if (!pcap_fuzz_write(data, size))
    return 0;
  char path[64], err[1024] = "";
  snprintf(path, sizeof path, "/proc/self/fd/%d", pcap_fuzz_fd);
  char *paths[1] = {path};
  struct cap_source *src = cap_source_files(paths, 1, NULL, err, sizeof err);
  if (!src)
    return 0; /* not a capture file: refused before reading, as tlsgrade does */
  struct cap_limits lim;
  struct pcap_fuzz_run run = {0};
  bool use_ndpi;
  pcap_fuzz_limits(data, size, &lim, &run.tls_limits, &use_ndpi);
  struct cap_stats stats = {0};
  struct cap_callbacks cb = {.ctx = &run,
                             .flow_start = pcap_fuzz_flow_start,
                             .flow_data = pcap_fuzz_flow_data,
                             .flow_closing = pcap_fuzz_flow_closing,
                             .flow_end = pcap_fuzz_flow_end};
  run.certs = x509_cache_new(lim.max_flows < 8 ? 2 : 64);
  struct cap_decoder *dec = cap_decoder_new(&lim, &stats);
  struct flow_table *ft = flow_table_new(&lim, &stats, &cb, use_ndpi);
  unsigned warnings = 0;
  if (dec && ft)
    cap_source_run(src, dec, ft, &stats, &warnings, err, sizeof err);
  flow_table_free(ft);
  cap_decoder_free(dec);
  cap_source_free(src);
  x509_cache_free(run.certs);
  FUZZ_INVARIANT(!ft || run.flows_started == run.flows_ended);
  FUZZ_INVARIANT(!ft || run.flows_started == stats.flows);
  pcap_fuzz_readers_agree(path);
  return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_pcap_one(data, size);
}
#endif
