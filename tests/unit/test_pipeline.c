/*
 * tests/unit/test_pipeline.c - pipeline/: the run as the command line makes
 * it, driven through pl_run_capture() with settings, and its counters.
 *
 * Expected values come from outside the pipeline: libpcap's own count of a
 * file's records, the lines the run wrote, the README's documented
 * defaults.  Run from the repository's root (samples/ is read).
 */
#include "pipeline/pipeline.h"
#include "tests/unit/harness.h"

#include <pcap/pcap.h>
#include <stddef.h>
#include <unistd.h>

#define SAMPLE "samples/a-grade.pcap"
#define SAMPLE_KEYLOG "samples/a-grade.keylog"

/* libpcap's count of the file's records. */
static uint64_t records_in(const char *path) {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t *p = pcap_open_offline(path, errbuf);
  uint64_t n = 0;
  struct pcap_pkthdr *h;
  const u_char *data;
  while (p && pcap_next_ex(p, &h, &data) == 1)
    n++;
  if (p)
    pcap_close(p);
  return n;
}

static size_t lines_in(const char *path) {
  FILE *f = fopen(path, "r");
  size_t n = 0;
  int c;
  while (f && (c = fgetc(f)) != EOF)
    n += c == '\n';
  if (f)
    fclose(f);
  return n;
}

/* A scratch file for the run's output; the caller unlinks it. */
static void scratch(char *path, size_t len) {
  snprintf(path, len, "/tmp/tlsgrade-test-pipeline-XXXXXX");
  int fd = mkstemp(path);
  if (fd >= 0)
    close(fd);
}

/* Is 64-bit slot i of struct pl_counters the capture period, which is
 * merged as earliest and latest rather than added? */
static bool period_slot(size_t i) {
  return i == offsetof(struct pl_counters, cap.first_ts) / sizeof(uint64_t) ||
         i == offsetof(struct pl_counters, cap.last_ts) / sizeof(uint64_t);
}

/* pl_counters_add adds every counter: fill each 64-bit slot of the struct
 * with its own value and add it twice into a zeroed one.  The capture
 * period is the earliest first and the latest last packet time. */
static void counters_add_every_field(void) {
  CHECK_EQ_U(sizeof(struct pl_counters) % sizeof(uint64_t), 0);
  size_t slots = sizeof(struct pl_counters) / sizeof(uint64_t);
  uint64_t words[64];
  CHECK(slots <= 64);
  for (size_t i = 0; i < slots && i < 64; i++)
    words[i] = (uint64_t)(i + 1) << 8 | 7;
  struct pl_counters from, into = {0};
  memcpy(&from, words, sizeof(from));
  pl_counters_add(&into, &from);
  pl_counters_add(&into, &from);
  memcpy(words, &into, sizeof(into));
  for (size_t i = 0; i < slots && i < 64; i++)
    if (!period_slot(i) && words[i] != 2 * (((uint64_t)(i + 1) << 8) | 7)) {
      fprintf(stderr, "  counter slot %zu not added\n", i);
      CHECK(false);
    }
}

static void counters_add_period(void) {
  struct pl_counters a = {0}, b = {0}, none = {0}, into = {0};
  a.cap.packets = 2, a.cap.first_ts = 5000, a.cap.last_ts = 9000;
  b.cap.packets = 1, b.cap.first_ts = 3000, b.cap.last_ts = 7000;
  pl_counters_add(&into, &none); /* no packet: no period */
  pl_counters_add(&into, &a);
  pl_counters_add(&into, &b);
  pl_counters_add(&into, &none);
  CHECK_EQ_U(into.cap.packets, 3);
  CHECK_EQ_U(into.cap.first_ts, 3000);
  CHECK_EQ_U(into.cap.last_ts, 9000);
}

/* The defaults the README's option table and Limits section document. */
static void settings_defaults_as_documented(void) {
  struct pl_settings s;
  pl_settings_default(&s);
  CHECK(s.mode == PL_MODE_GRADE);
  CHECK(s.format == PL_FORMAT_TEXT);
  CHECK_EQ_U(s.jobs, 1);
  CHECK_EQ_U(s.limits.max_flows, 500000);
  CHECK_EQ_U(s.limits.idle_timeout, 300ull * 1000000);
  CHECK_EQ_U(s.limits.tcp_ooo_bytes, 256 * 1024);
  CHECK_EQ_U(s.limits.tcp_ooo_segments, 1024);
  CHECK_EQ_U(s.tls_limits.max_handshake_bytes, 4 * 1024 * 1024);
  CHECK_EQ_U(s.tls_limits.max_chain_len, 16);
  CHECK_EQ_U(s.live.snaplen, 262144);
  CHECK_EQ_U(s.max_weak_keys, 4000000);
  CHECK_EQ_U(s.cert_cache_entries, 4096);
  CHECK(s.stop == NULL && s.output == NULL);
}

/* --handshakes: every record read, every flow ended, one line per
 * printed handshake. */
static void handshakes_run_counts(void) {
  char out[64];
  scratch(out, sizeof(out));
  struct pl_settings s;
  pl_settings_default(&s);
  s.mode = PL_MODE_HANDSHAKES;
  s.output = out;
  char *inputs[] = {SAMPLE};
  struct pl_counters c;
  CHECK_EQ_U(pl_run_capture(&s, inputs, 1, &c), PL_EXIT_OK);
  CHECK(c.cap.packets > 0);
  CHECK_EQ_U(c.cap.packets, records_in(SAMPLE));
  CHECK(c.cap.flows > 0);
  CHECK_EQ_U(c.flows_ended, c.cap.flows);
  CHECK(c.handshakes_printed > 0);
  CHECK_EQ_U(c.handshakes_printed, lines_in(out));
  CHECK(c.tls_connections <= c.sessions && c.sessions <= c.cap.flows);
  CHECK_EQ_U(c.decrypt[TLS_DECRYPT_OK], 0); /* no key log given */
  unlink(out);
}

/* With the sample's key log every TLS connection of it decrypts
 * (samples/README.md: the key log holds each connection's secrets). */
static void keylog_run_decrypts(void) {
  char out[64];
  scratch(out, sizeof(out));
  struct pl_settings s;
  pl_settings_default(&s);
  s.mode = PL_MODE_HANDSHAKES;
  s.output = out;
  const char *keylogs[] = {SAMPLE_KEYLOG};
  s.keylog_files = keylogs;
  s.n_keylog_files = 1;
  char *inputs[] = {SAMPLE};
  struct pl_counters c;
  CHECK_EQ_U(pl_run_capture(&s, inputs, 1, &c), PL_EXIT_OK);
  CHECK(c.tls_connections > 0);
  CHECK_EQ_U(c.decrypt[TLS_DECRYPT_OK], c.tls_connections);
  CHECK_EQ_U(c.decrypt[TLS_DECRYPT_FAILED], 0);
  unlink(out);
}

/* A stop asked for before the run: nothing is read, the run still ends
 * the way a stopped capture does (its --flows stats line written). */
static void stop_before_run_reads_nothing(void) {
  char out[64];
  scratch(out, sizeof(out));
  struct pl_stop stop = {0};
  pl_stop_request(&stop);
  CHECK(stop.requested);
  struct pl_settings s;
  pl_settings_default(&s);
  s.mode = PL_MODE_FLOWS;
  s.no_ndpi = true;
  s.output = out;
  s.stop = &stop;
  char *inputs[] = {SAMPLE};
  struct pl_counters c;
  CHECK_EQ_U(pl_run_capture(&s, inputs, 1, &c), PL_EXIT_OK);
  CHECK_EQ_U(c.cap.packets, 0);
  CHECK_EQ_U(lines_in(out), 1); /* the stats line only */
  CHECK(stop.source == NULL);   /* the run let go of its source */
  unlink(out);
}

/* -j 2 folds its workers' counters into what one thread counts. */
static void workers_fold_counters(void) {
  char out[64];
  scratch(out, sizeof(out));
  struct pl_settings s;
  pl_settings_default(&s);
  s.format = PL_FORMAT_JSON;
  s.ca_file = "samples/certs/root.pem";
  s.output = out;
  char *inputs[] = {"samples"};
  struct pl_counters one, two;
  CHECK_EQ_U(pl_run_capture(&s, inputs, 1, &one), PL_EXIT_OK);
  s.jobs = 2;
  CHECK_EQ_U(pl_run_capture(&s, inputs, 1, &two), PL_EXIT_OK);
  CHECK(one.cap.packets > 0 && one.sessions > 0);
  CHECK_EQ_U(two.cap.packets, one.cap.packets);
  CHECK_EQ_U(two.cap.bytes, one.cap.bytes);
  CHECK_EQ_U(two.cap.flows, one.cap.flows);
  CHECK_EQ_U(two.flows_ended, one.flows_ended);
  CHECK_EQ_U(two.sessions, one.sessions);
  CHECK_EQ_U(two.tls_connections, one.tls_connections);
  unlink(out);
}

/* --handshakes makes no evidence store and asks the run's trust memo,
 * which its -j workers share: each line with a chain carries the verdict
 * of `openssl verify -purpose sslserver -attime <capture time> -CAfile
 * samples/certs/root.pem -untrusted samples/certs/int.pem
 * -verify_hostname <SNI> <leaf>.pem` (a.pem: "OK"; expired.pem, valid
 * 2020-2021: only "error 10 ... certificate has expired", so its name
 * matches), with one thread or two. */
static size_t count_trust(const char *path, const char *sni, const char *verdict, size_t *lines) {
  FILE *f = fopen(path, "r");
  char line[16384];
  size_t found = 0;
  *lines = 0;
  while (f && fgets(line, sizeof(line), f)) {
    ++*lines;
    if (strstr(line, sni) && strstr(line, "\"trust\":"))
      found += strstr(line, verdict) != NULL ? 1 : 1000; /* a wrong verdict shows */
  }
  if (f)
    fclose(f);
  return found;
}

static void handshakes_share_the_trust_memo(void) {
  char out[64];
  scratch(out, sizeof(out));
  struct pl_settings s;
  pl_settings_default(&s);
  s.mode = PL_MODE_HANDSHAKES;
  s.ca_file = "samples/certs/root.pem";
  s.output = out;
  char *inputs[] = {"samples/a-grade.pcap", "samples/expired-leaf.pcap"};
  static const char trusted[] = "\"trust\":{\"trusted\":true,\"expired\":false,"
                                "\"not_yet_valid\":false,\"self_signed\":false,"
                                "\"chain_complete\":true,\"chain_in_order\":true,"
                                "\"hostname_match\":true}";
  static const char expired[] = "\"trust\":{\"trusted\":false,\"reason\":\"certificate has "
                                "expired\",\"expired\":true,\"not_yet_valid\":false,"
                                "\"self_signed\":false,\"chain_complete\":true,"
                                "\"chain_in_order\":true,\"hostname_match\":true}";
  for (size_t jobs = 1; jobs <= 2; jobs++) {
    s.jobs = jobs;
    struct pl_counters c;
    CHECK_EQ_U(pl_run_capture(&s, inputs, 2, &c), PL_EXIT_OK);
    size_t lines;
    size_t good = count_trust(out, "\"sni\":\"a.example.test\"", trusted, &lines);
    CHECK(good > 0 && good < 1000);
    CHECK_EQ_U(count_trust(out, "\"sni\":\"expired.example.test\"", expired, &lines), 1);
    CHECK_EQ_U(lines, c.handshakes_printed);
  }
  unlink(out);
}

/* A missing input is a runtime error, not a crash; counters stay zero. */
static void missing_input_is_an_error(void) {
  struct pl_settings s;
  pl_settings_default(&s);
  s.mode = PL_MODE_FLOWS;
  s.no_ndpi = true;
  char *inputs[] = {"samples/no-such-file.pcap"};
  struct pl_counters c;
  CHECK_EQ_U(pl_run_capture(&s, inputs, 1, &c), PL_EXIT_RUNTIME);
  CHECK_EQ_U(c.cap.packets, 0);
}

int main(void) {
  RUN(counters_add_every_field);
  RUN(counters_add_period);
  RUN(settings_defaults_as_documented);
  RUN(handshakes_run_counts);
  RUN(keylog_run_decrypts);
  RUN(stop_before_run_reads_nothing);
  RUN(workers_fold_counters);
  RUN(handshakes_share_the_trust_memo);
  RUN(missing_input_is_an_error);
  return harness_done();
}
