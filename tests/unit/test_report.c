/*
 * tests/unit/test_report.c - grade/report_*.c: the output sanitisers and
 * the JSON report's formatting.
 *
 * Where the expected values come from:
 *  - Terminal and HTML escapes: the rules in grade/report.h and
 *    grade/sanitize.c (C0, DEL and C1 as \xNN / \u00NN; the five HTML
 *    specials as entities; invalid UTF-8 as U+FFFD, RFC 3629), applied by
 *    hand to each input.
 *  - JSON: the report splices pre-printed parts into each server object,
 *    so every server must be byte for byte what cJSON itself prints for the
 *    same tree: the test parses the report with cJSON and prints each
 *    server again with cJSON_Print.
 *  - Findings order: the letters of grading-reference.md section 3 (T and
 *    M replace any letter, a cap lowers it, a warning makes A into A-),
 *    worst first, ordered by hand.
 */
#include "grade/report.h"
#include "grade/report_json.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* What fn writes for s. */
static char *written(void (*fn)(FILE *, const char *), const char *s) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (!out)
    return NULL;
  fn(out, s);
  fclose(out);
  return text;
}

static void term_escapes(void) {
  char *t = written(report_term_puts, "plain ASCII, and caf\xc3\xa9");
  CHECK_STR(t, "plain ASCII, and caf\xc3\xa9");
  free(t);
  /* ESC, BEL, DEL; C1 CSI (C2 9B) and NEL (C2 85); the copyright sign
   * (C2 A9) is printable; FF is not UTF-8. */
  t = written(report_term_puts, "\x1b[2Jx\x07y\x7f\xc2\x9b\xc2\x85\xc2\xa9\xff!");
  CHECK_STR(t, "\\x1b[2Jx\\x07y\\x7f\\u009b\\u0085\xc2\xa9\xef\xbf\xbd!");
  free(t);
  t = written(report_term_puts, "");
  CHECK_STR(t, "");
  free(t);
}

static void html_escapes(void) {
  char *t = written(report_html_puts, "<a href='x'>&\"</a>");
  CHECK_STR(t, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  free(t);
  /* Controls become U+FFFD as an entity; invalid UTF-8 as the character. */
  t = written(report_html_puts, "a\x01\x7f\xc3\xa9\xc0\xafz");
  CHECK_STR(t, "a&#xfffd;&#xfffd;\xc3\xa9\xef\xbf\xbd\xef\xbf\xbdz");
  free(t);
}

static void uint_digits(void) {
  char buf[REPORT_UINT_LEN];
  CHECK_EQ_U(report_uint(buf, 0), 1);
  CHECK_STR(buf, "0");
  CHECK_EQ_U(report_uint(buf, 18446744073709551615ULL), 20);
  CHECK_STR(buf, "18446744073709551615");
  struct ev_sample s = {(char *)"a.pcap", 1234567, 0, false};
  char *where = report_sample(&s);
  CHECK_STR(where, "a.pcap:1234567");
  free(where);
}

/* Two servers with evidence shared between checks, a fact seen 10^16
 * times, wire strings to sanitise and escape, and a sample file name that
 * is not UTF-8. */
static struct ev_store *store(void) {
  struct ev_store *ev = ev_store_new();
  const char *hosts[] = {"a.example", "b\xff\x1b<.example"};
  for (int h = 0; h < 2; h++) {
    struct ev_endpoint *ep = ev_endpoint_get(ev, hosts[h], h ? "2001:db8::1" : "192.0.2.1", 443);
    struct ev_sample at = {(char *)(h ? "capture-\xe9\".pcap" : "capture.pcap"), 10,
                           1700000000000000LL, false};
    const char *keys[] = {"handshakes",         "server_hello",
                          "version:TLSv1.2",    "version:TLSv1.0",
                          "cipher_bits:128",    "non_rc4",
                          "fs:given",           "aead:given",
                          "kx:ecdh:x25519:256", "cert_key:rsa:2048",
                          "trust:ok",           "hostname:match",
                          "cert:leaf:ab12",     "reneg:secure",
                          "established",        "suite:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
      at.frame++;
      at.ts += 1500;
      ev_note(ep, &at, "%s", keys[k]);
    }
    ev_note(ep, &at, "suite:TLS_\"odd\"\\name\t\xc3\xa9\xfe");
    for (int i = 0; i < 3; i++)
      ev_note(ep, &at, "version:TLSv1.2");
  }
  /* A count of 10^16 can only come from an evidence file: it prints as
   * cJSON prints any double. */
  const char *saved = "{\"tlsgrade_evidence\": 2, \"endpoints\": [{\"host\": \"a.example\", "
                      "\"ip\": \"192.0.2.1\", \"port\": 443, \"facts\": [{\"k\": "
                      "\"kx:ecdh:x448:448\", \"n\": 1e16, \"first_us\": 1700000000000000, "
                      "\"last_us\": 1700000000000001}]}]}";
  cJSON *j = cJSON_Parse(saved);
  char err[200];
  struct ev_store *big = j ? ev_from_json(j, err, sizeof(err)) : NULL;
  cJSON_Delete(j);
  CHECK(big != NULL && ev_merge(ev, big) == 0);
  ev_store_free(big);
  return ev;
}

/* The JSON report of order[0..n) as text (malloc'd), rendered on `jobs`
 * threads. */
static char *json_report(const struct grade_result *const *order, size_t n, unsigned jobs,
                         const volatile sig_atomic_t *stop) {
  const char *inputs[] = {"capture.pcap"};
  struct report_meta meta = {.inputs = inputs, .n_inputs = 1, .jobs = jobs, .stop = stop};
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (out) {
    report_json(out, order, n, &meta);
    fclose(out);
  }
  return text;
}

static void json_servers_as_cjson_prints_them(void) {
  struct ev_store *ev = store();
  struct grade_result r[2];
  size_t n = 0;
  for (size_t i = 0; i < ev_count(ev) && n < 2; i++)
    grade_endpoint(ev_endpoint_at(ev, i), &r[n++]);
  CHECK_EQ_U(n, 2);
  const struct grade_result *order[] = {&r[0], &r[1]};
  char *text = json_report(order, n, 1, NULL);
  cJSON *doc = text ? cJSON_Parse(text) : NULL;
  CHECK(doc != NULL);
  const cJSON *servers = cJSON_GetObjectItem(doc, "servers");
  CHECK_EQ_U(cJSON_GetArraySize(servers), 2);
  const cJSON *server;
  size_t servers_seen = 0, evidence_seen = 0;
  cJSON_ArrayForEach(server, servers) {
    char *again = cJSON_Print(server);
    CHECK(again && strstr(text, again) != NULL);
    free(again);
    servers_seen++;
    const cJSON *check;
    cJSON_ArrayForEach(check, cJSON_GetObjectItem(server, "checks")) {
      evidence_seen += (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(check, "evidence"));
    }
  }
  CHECK_EQ_U(servers_seen, 2);
  CHECK(evidence_seen > 10);
  CHECK(strstr(text, "\"sample_invalid_utf8\":\ttrue") != NULL);
  CHECK(strstr(text, "\"fact_invalid_utf8\":\ttrue") != NULL);
  CHECK(strstr(text, "\"count\":\t1e+16") != NULL);
  CHECK(strstr(text, "\"count\":\t4,") != NULL);
  cJSON_Delete(doc);
  free(text);
  ev_store_free(ev);
}

/* Listings are as long as the server's evidence: 70 suites and 60 leaf
 * certificates on one server (a load balancer rotating them), every one
 * listed, and the element as cJSON prints the tree it parses to. */
static void json_long_listings(void) {
  struct ev_store *ev = ev_store_new();
  struct ev_endpoint *ep = ev_endpoint_get(ev, "lb.example", "192.0.2.7", 443);
  struct ev_sample at = {(char *)"capture.pcap", 1, 1700000000000000LL, false};
  ev_note(ep, &at, "handshakes");
  ev_note(ep, &at, "server_hello");
  ev_note(ep, &at, "version:TLSv1.2");
  for (int i = 0; i < 70; i++) {
    at.frame++;
    ev_note(ep, &at, "suite:0x%04x", 0x1000 + i);
  }
  for (int i = 0; i < 60; i++) {
    at.frame++;
    ev_note(ep, &at, "cert:leaf:%064x", i);
  }
  struct grade_result r;
  grade_endpoint(ep, &r);
  const struct grade_result *order[] = {&r};
  char *text = json_report(order, 1, 1, NULL);
  cJSON *doc = text ? cJSON_Parse(text) : NULL;
  CHECK(doc != NULL);
  const cJSON *server = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "servers"), 0);
  CHECK(server != NULL);
  CHECK_EQ_U(cJSON_GetArraySize(cJSON_GetObjectItem(server, "ciphers")), 70);
  CHECK_EQ_U(cJSON_GetArraySize(cJSON_GetObjectItem(server, "certificates")), 60);
  char *again = server ? cJSON_Print(server) : NULL;
  CHECK(again && strstr(text, again) != NULL);
  free(again);
  cJSON_Delete(doc);
  free(text);
  ev_store_free(ev);
}

/* A report large enough to be graded and rendered by several threads:
 * the text is byte for byte what one thread writes, and it parses with
 * its servers in order. */
static char *report_with(struct ev_store *ev, unsigned jobs, size_t *n_out,
                         const volatile sig_atomic_t *stop) {
  size_t n = ev_count(ev);
  const struct ev_endpoint **eps = calloc(n, sizeof(*eps));
  struct grade_result **r = calloc(n, sizeof(*r));
  const struct grade_result **order = calloc(n, sizeof(*order));
  char *text = NULL;
  if (eps && r && order) {
    for (size_t i = 0; i < n; i++)
      eps[i] = ev_endpoint_at(ev, i);
    CHECK(grade_endpoints(eps, n, r, jobs, NULL) == GRADE_ALL);
    for (size_t i = 0; i < n; i++)
      order[i] = r[i];
    text = json_report(order, n, jobs, stop);
  }
  *n_out = n;
  free(eps);
  free(order);
  for (size_t i = 0; r && i < n; i++)
    free(r[i]);
  free(r);
  return text;
}

static struct ev_store *many_servers(void) {
  struct ev_store *ev = ev_store_new();
  const char *versions[] = {"version:TLSv1.2", "version:TLSv1.0", "version:TLSv1.3",
                            "version:SSLv3"};
  const char *suites[] = {"suite:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                          "suite:TLS_RSA_WITH_RC4_128_SHA", "suite:TLS_AES_256_GCM_SHA384"};
  for (int h = 0; h < 1100; h++) {
    char host[32], ip[32];
    snprintf(host, sizeof(host), "h%d.example", h);
    snprintf(ip, sizeof(ip), "10.%d.%d.1", h / 256, h % 256);
    struct ev_endpoint *ep = ev_endpoint_get(ev, host, ip, 443);
    struct ev_sample at = {(char *)"capture.pcap", (uint64_t)h * 10, 1700000000000000LL + h, false};
    ev_note(ep, &at, "handshakes");
    ev_note(ep, &at, "server_hello");
    ev_note(ep, &at, "%s", versions[h % 4]);
    ev_note(ep, &at, "%s", suites[h % 3]);
    ev_note(ep, &at, "cert_key:rsa:%d", h % 5 ? 2048 : 1024);
    ev_note(ep, &at, "trust:%s", h % 7 ? "ok" : "expired");
    ev_note(ep, &at, "cert:leaf:%04x", h);
  }
  return ev;
}

static void json_threads_write_what_one_writes(void) {
  struct ev_store *ev = many_servers();
  size_t n1 = 0, n3 = 0;
  char *one = report_with(ev, 1, &n1, NULL);
  char *three = report_with(ev, 3, &n3, NULL);
  CHECK_EQ_U(n1, 1100);
  CHECK(one && three && strcmp(one, three) == 0);
  cJSON *doc = three ? cJSON_Parse(three) : NULL;
  CHECK(doc != NULL);
  CHECK_EQ_U(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "servers")), 1100);
  cJSON_Delete(doc);
  free(one);
  free(three);
  ev_store_free(ev);
}

/* A signal stops the rendering: once the stop flag is set, no further
 * server is written and the report ends there, on one thread or three. */
static void stop_flag_ends_the_report(void) {
  struct ev_store *ev = many_servers();
  volatile sig_atomic_t stop = 1;
  for (unsigned jobs = 1; jobs <= 3; jobs += 2) {
    size_t n = 0;
    char *text = report_with(ev, jobs, &n, &stop);
    CHECK_EQ_U(n, 1100);
    CHECK(text && strstr(text, "\"servers\": [\n") != NULL);
    CHECK(text && strstr(text, "h1.example") == NULL);
    CHECK(text && strstr(text, "\"limits\"") == NULL);
    free(text);
  }
  ev_store_free(ev);
}

/* report_findings (report.h): by the weight of the effect (cap F, T, M,
 * caps E..B, warnings and caps at A, no A+, informational), severity within
 * it, check order last; the check that gives the letter shown comes first. */
static void findings_by_imposed_letter(void) {
  static const struct {
    enum check_status status;
    enum check_effect effect;
    char cap;
    int severity;
  } in[] = {
      {CHECK_FAIL, EFFECT_WARN, 0, 9},     /* 0: A- */
      {CHECK_FAIL, EFFECT_CAP, 'C', 9},    /* 1: C */
      {CHECK_FAIL, EFFECT_NO_APLUS, 0, 9}, /* 2: blocks A+ only */
      {CHECK_FAIL, EFFECT_CAP, 'F', 1},    /* 3: F, less severe */
      {CHECK_FAIL, EFFECT_NAME, 0, 1},     /* 4: M */
      {CHECK_FAIL, EFFECT_CAP, 'F', 5},    /* 5: F */
      {CHECK_PASS, EFFECT_CAP, 'B', 9},    /* 6: passed: not a finding */
      {CHECK_FAIL, EFFECT_NONE, 0, 9},     /* 7: informational */
      {CHECK_FAIL, EFFECT_CAP, 'A', 1},    /* 8: A */
      {CHECK_UNKNOWN, EFFECT_TRUST, 0, 9}, /* 9: undecided */
      {CHECK_FAIL, EFFECT_TRUST, 0, 0},    /* 10: T */
      {CHECK_FAIL, EFFECT_CAP, 'F', 5},    /* 11: F, as severe as 5 */
  };
  static struct grade_result r;
  r.n_checks = sizeof(in) / sizeof(in[0]);
  for (size_t i = 0; i < r.n_checks; i++)
    r.checks[i] = (struct check_result){.id = "x",
                                        .status = in[i].status,
                                        .effect = in[i].effect,
                                        .cap = in[i].cap,
                                        .severity = in[i].severity};
  const struct check_result *out[GRADE_MAX_CHECKS];
  /* Letter "B": no check gives it, so the weight order alone. */
  static const size_t want[] = {5, 11, 3, 10, 4, 1, 0, 8, 2, 7};
  snprintf(r.letter, sizeof r.letter, "B");
  size_t affecting, n = report_findings(&r, out, &affecting);
  CHECK_EQ_U(n, sizeof(want) / sizeof(want[0]));
  CHECK_EQ_U(affecting, 9);
  for (size_t i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++)
    CHECK_EQ_U(out[i] - r.checks, want[i]);
  /* Letter "T": the trust check that gives it moves to the front. */
  static const size_t want_t[] = {10, 5, 11, 3, 4, 1, 0, 8, 2, 7};
  snprintf(r.letter, sizeof r.letter, "T");
  n = report_findings(&r, out, &affecting);
  CHECK_EQ_U(n, sizeof(want_t) / sizeof(want_t[0]));
  for (size_t i = 0; i < n && i < sizeof(want_t) / sizeof(want_t[0]); i++)
    CHECK_EQ_U(out[i] - r.checks, want_t[i]);
}

/* report_confidence (report.h): the letter is marked when the chain's
 * trust was not decided, '*' without a certificate, '?' with one no store
 * verified; a T, or a chain verified, is shown plain. */
static void confidence_marks(void) {
  static const char *const tls12[] = {
      "handshakes",      "server_hello",
      "version:TLSv1.2", "suite:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "cipher_bits:128", "kx:ecdh:x25519:256",
      "established"};
  static const char *const leaf[] = {
      "cert:leaf:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
      "cert_key:rsa:2048", "hostname:match"};
  struct {
    bool cert;
    const char *trust; /* NULL: no verdict */
    bool decided;
    char mark;
  } cases[] = {{false, NULL, false, '*'},
               {true, NULL, false, '?'},
               {true, "trust:ok", true, 0},
               {true, "trust:untrusted:unable_to_get_issuer_cert", true, 0}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    struct ev_store *ev = ev_store_new();
    struct ev_endpoint *ep = ev_endpoint_get(ev, "c.example", "192.0.2.9", 443);
    struct ev_sample at = {(char *)"c.pcap", 1, 1700000000000000LL, false};
    for (size_t i = 0; i < sizeof tls12 / sizeof tls12[0]; i++)
      ev_note(ep, &at, "%s", tls12[i]);
    for (size_t i = 0; cases[k].cert && i < sizeof leaf / sizeof leaf[0]; i++)
      ev_note(ep, &at, "%s", leaf[i]);
    if (cases[k].trust)
      ev_note(ep, &at, "%s", cases[k].trust);
    struct grade_result *r = calloc(1, sizeof(*r));
    grade_endpoint(ep, r);
    CHECK(r->graded);
    struct report_confidence c;
    report_confidence(r, &c);
    CHECK(c.certificate_seen == cases[k].cert);
    CHECK(c.trust_decided == cases[k].decided);
    CHECK(c.mark == cases[k].mark);
    char want[8];
    snprintf(want, sizeof want, "%s%s", r->letter,
             cases[k].mark == '*'   ? "*"
             : cases[k].mark == '?' ? "?"
                                    : "");
    CHECK_STR(c.display, want);
    CHECK((c.note != NULL) == (cases[k].mark != 0));
    if (cases[k].trust && strncmp(cases[k].trust, "trust:untrusted:", 16) == 0)
      CHECK_STR(r->letter, "T");
    free(r);
    ev_store_free(ev);
  }
}

/* report_json_plain_run against a byte at a time: each byte cJSON escapes
 * (a control, '"', '\\') and some it does not (' ', 0x7f, 0x80, 0xff, the
 * borrow edges 0x20 and 0x21) at every place of strings of 0 to 24 bytes,
 * before and after other such bytes. */
static size_t plain_by_bytes(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
    i++;
  return i;
}

static void json_plain_run_is_a_byte_loop(void) {
  const unsigned char probes[] = {0x01, 0x09, 0x1f, '"', '\\', 0x20, 0x21, 0x5b, 0x7f, 0x80, 0xff};
  char s[32];
  size_t wrong = 0, cases = 0;
  for (size_t n = 0; n <= 24; n++)
    for (size_t at = 0; at < n || (n == 0 && at == 0); at++)
      for (size_t a = 0; a < sizeof probes; a++)
        for (size_t b = 0; b < sizeof probes; b++) {
          memset(s, 'x', n);
          s[n] = '\0';
          if (n) {
            s[at] = (char)probes[a];
            s[(at + 5) % n] = (char)probes[b];
          }
          cases++;
          wrong += report_json_plain_run(s, n) != plain_by_bytes(s, n);
        }
  CHECK(cases > 20000);
  CHECK_EQ_U(wrong, 0);
}

int main(void) {
  RUN(json_plain_run_is_a_byte_loop);
  RUN(term_escapes);
  RUN(html_escapes);
  RUN(uint_digits);
  RUN(confidence_marks);
  RUN(json_servers_as_cjson_prints_them);
  RUN(json_long_listings);
  RUN(json_threads_write_what_one_writes);
  RUN(stop_flag_ends_the_report);
  RUN(findings_by_imposed_letter);
  return harness_done();
}
