/*
 * tests/unit/test_distrust.c - grade/distrust.c: which chains fall under a
 * browser distrust event of grade/distrust.tsv.
 *
 * Where the expected values come from: the rows of grade/distrust.tsv and
 * the matching rule written at its head (CA names: every issuer name and
 * every subject name after the leaf; whole values, ASCII case-folded; leaf
 * notBefore for dated events; exemptions).  Names are written the way
 * dissect/x509.c stores them (values joined by ',', a ',' inside a value
 * as "\x2c"), as its own tests establish.
 */
#include "grade/distrust.h"
#include "harness.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* 2025-01-01 and 2024-11-01, 00:00:00 UTC (date -u -d ... +%s). */
#define JAN_2025 ((cap_time_us)1735689600 * 1000000)
#define NOV_2024 ((cap_time_us)1730419200 * 1000000)

struct name {
  const char *o, *cn;
};

static struct tls_cert cert(struct name subject, struct name issuer) {
  struct tls_cert c;
  memset(&c, 0, sizeof c);
  c.parsed = true;
  c.subject_o = (char *)subject.o;
  c.subject_cn = (char *)subject.cn;
  c.issuer_o = (char *)issuer.o;
  c.issuer_cn = (char *)issuer.cn;
  c.not_before_us = JAN_2025;
  return c;
}

static const struct name LEAF = {"Example Shop", "www.example.test"};
static const struct name SAMPLE_ROOT = {"tlsgrade samples", "tlsgrade Sample Root CA"};

/* The events a chain falls under, "ID@CERT" joined with ' ' (CERT: the
 * index of the certificate that matched, n for the anchor). */
static void events_of(const struct tls_cert *chain, size_t n, const char *anchor, char *out,
                      size_t len) {
  struct distrust_hit hits[8];
  const struct tls_cert *links[8]; /* a session holds its chain as pointers */
  for (size_t i = 0; i < n && i < 8; i++)
    links[i] = &chain[i];
  size_t k = distrust_match(links, n < 8 ? n : 8, anchor, hits, 8);
  out[0] = '\0';
  for (size_t i = 0; i < k; i++) {
    size_t at = strlen(out);
    snprintf(out + at, len - at, "%s%s@%zu", i ? " " : "", hits[i].event->id, hits[i].cert);
  }
}

static void expect_events(const char *what, struct name ca, struct name issuer, const char *want) {
  struct tls_cert chain[2] = {cert(LEAF, ca), cert(ca, issuer)};
  char got[256];
  events_of(chain, 2, NULL, got, sizeof got);
  if (strcmp(got, want) != 0) {
    fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", what, got, want);
    harness_current_failed++;
  }
}

static void exact_names_only(void) {
  struct name symantec = {"Symantec Corporation", "Symantec Class 3 Secure Server CA - G4"};
  /* chain leaf <- ca <- issuer: the leaf's issuer name is ca's subject */
  expect_events("Symantec intermediate", symantec, SAMPLE_ROOT, "symantec@0");
  expect_events("case folded", (struct name){"SYMANTEC corporation", "x"}, SAMPLE_ROOT,
                "symantec@0");
  expect_events("not a substring", (struct name){"Not Symantec Testing", "Symantec CA"},
                SAMPLE_ROOT, "");
  expect_events("no longer name", (struct name){"Symantec Corporation Ltd", "CA"}, SAMPLE_ROOT, "");
  expect_events("no shorter name", (struct name){"Symantec", "CA"}, SAMPLE_ROOT, "");
  expect_events("thawte Ltd is not thawte, Inc.", (struct name){"Thawte Ltd", "CA"}, SAMPLE_ROOT,
                "");
  /* an escaped ',' inside a value, and one of several O values */
  expect_events("VeriSign, Inc.", SAMPLE_ROOT,
                (struct name){"VeriSign\\x2c Inc.", "VeriSign Class 3 Public Primary "
                                                    "Certification Authority - G5"},
                "symantec@1");
  expect_events("second O value", (struct name){"Example,StartCom Ltd.", "CA"}, SAMPLE_ROOT,
                "wosign_startcom@0");
  expect_events("a value cut at the escaped comma", (struct name){"VeriSign", "CA"}, SAMPLE_ROOT,
                "");
}

/* The leaf's own subject is a customer's name, never a CA's. */
static void leaf_subject_is_not_a_ca(void) {
  struct name symantec_site = {"Symantec Corporation", "www.symantec.example"};
  struct tls_cert chain[2] = {cert(symantec_site, SAMPLE_ROOT), cert(SAMPLE_ROOT, SAMPLE_ROOT)};
  char got[256];
  events_of(chain, 2, NULL, got, sizeof got);
  CHECK_STR(got, "");
  /* but its issuer is a CA name */
  struct tls_cert direct[1] = {cert(LEAF, symantec_site)};
  events_of(direct, 1, NULL, got, sizeof got);
  CHECK_STR(got, "symantec@0");
}

/* Entrust: only leaves with notBefore at or after 2024-11-12T00:00:00Z. */
static void dated_event(void) {
  struct name entrust = {"Entrust\\x2c Inc.", "Entrust Certification Authority - L1K"};
  struct tls_cert chain[2] = {cert(LEAF, entrust), cert(entrust, SAMPLE_ROOT)};
  char got[256];
  events_of(chain, 2, NULL, got, sizeof got);
  CHECK_STR(got, "entrust@0");
  chain[0].not_before_us = NOV_2024;
  events_of(chain, 2, NULL, got, sizeof got);
  CHECK_STR(got, "");
  chain[0].not_before_us = (cap_time_us)1731369600 * 1000000; /* 2024-11-12 00:00:00 */
  events_of(chain, 2, NULL, got, sizeof got);
  CHECK_STR(got, "entrust@0");
  chain[0].not_before_us -= 1000000;
  events_of(chain, 2, NULL, got, sizeof got);
  CHECK_STR(got, "");
}

/* Apple IST CA 2 - G1 and Google Internet Authority G2 (both under GeoTrust
 * Global CA) are exempted from the Symantec distrust; GeoTrust alone is not. */
static void exemptions(void) {
  struct name geotrust = {"GeoTrust Inc.", "GeoTrust Global CA"};
  expect_events("GeoTrust intermediate", (struct name){"Example", "Example CA"}, geotrust,
                "symantec@1");
  expect_events("Google Internet Authority G2",
                (struct name){"Google Inc", "Google Internet "
                                            "Authority G2"},
                geotrust, "");
  expect_events("Apple IST CA 2 - G1", (struct name){"Apple Inc.", "Apple IST CA 2 - G1"}, geotrust,
                "");
  expect_events("another Apple CA is not exempt", (struct name){"Apple Inc.", "Apple CA 9"},
                geotrust, "symantec@1");
}

/* A root key (SHA-256 of its SPKI, from the list) sent or as the anchor. */
static void root_keys(void) {
  /* TrustCor RootCert CA-1 (row of distrust.tsv) */
  const char *trustcor = "ea87f462deefffbd7775aa2a4b7e0fcb91c22eee6df69ed90100ccc73b311476";
  struct tls_cert chain[2] = {cert(LEAF, SAMPLE_ROOT), cert(SAMPLE_ROOT, SAMPLE_ROOT)};
  char got[256];
  events_of(chain, 2, trustcor, got, sizeof got);
  CHECK_STR(got, "trustcor@2");
  snprintf(chain[1].spki_sha256, sizeof chain[1].spki_sha256, "%s", trustcor);
  events_of(chain, 2, "", got, sizeof got);
  CHECK_STR(got, "trustcor@1");
  /* the leaf's own key is not a CA key */
  struct tls_cert leaf_only[1] = {cert(LEAF, SAMPLE_ROOT)};
  snprintf(leaf_only[0].spki_sha256, sizeof leaf_only[0].spki_sha256, "%s", trustcor);
  events_of(leaf_only, 1, NULL, got, sizeof got);
  CHECK_STR(got, "");
}

/* The trust memo keeps a chain's distrust events with its verdict: asked
 * again for the same fingerprints, name and validity, it answers from
 * memory (the names are changed behind its back to show it), and a chain
 * with other fingerprints is matched afresh. */
static void memo_keeps_events(void) {
  struct x509_trust_opts opts = {"samples/certs/root.pem", NULL};
  char reason[256];
  struct x509_store *store = x509_store_open(&opts, reason, sizeof reason);
  CHECK(store != NULL);
  struct x509_trust_memo *memo = ev_trust_memo_new(X509_TRUST_MEMO_DEFAULT);
  struct name symantec = {"Symantec Corporation", "Symantec Class 3 Secure Server CA - G4"};
  struct tls_cert chain[2] = {cert(LEAF, symantec), cert(symantec, SAMPLE_ROOT)};
  snprintf(chain[0].sha256, sizeof chain[0].sha256, "%064d", 1);
  snprintf(chain[1].sha256, sizeof chain[1].sha256, "%064d", 2);
  chain[0].not_after_us = chain[1].not_after_us = JAN_2025 + 1;
  struct tls_session s;
  memset(&s, 0, sizeof s);
  const struct tls_cert *links[2] = {&chain[0], &chain[1]};
  s.chain = links;
  s.chain_len = 2;
  struct ev_chain_verdict v;
  ev_chain_verdict(memo, &s, store, JAN_2025, &v);
  CHECK_EQ_U(v.n_distrust, 1);
  CHECK(v.n_distrust == 1 && strcmp(v.distrust[0].event->id, "symantec") == 0);
  chain[0].issuer_o = chain[1].subject_o = (char *)"Example CA"; /* same fingerprints */
  ev_chain_verdict(memo, &s, store, JAN_2025, &v);
  CHECK(v.n_distrust == 1 && strcmp(v.distrust[0].event->id, "symantec") == 0);
  snprintf(chain[1].sha256, sizeof chain[1].sha256, "%064d", 3); /* another chain */
  ev_chain_verdict(memo, &s, store, JAN_2025, &v);
  CHECK_EQ_U(v.n_distrust, 0);
  x509_trust_memo_free(memo);
  x509_store_close(store);
}

static void unreadable_and_lookup(void) {
  struct tls_cert chain[1] = {cert(LEAF, (struct name){"StartCom Ltd.", "x"})};
  chain[0].parsed = false;
  struct distrust_hit hits[2];
  const struct tls_cert *links[1] = {&chain[0]};
  CHECK_EQ_U(distrust_match(links, 1, NULL, hits, 2), 0);
  CHECK_EQ_U(distrust_match(NULL, 0, NULL, hits, 2), 0);
  const struct distrust_event *e = distrust_event_by_id("symantec");
  CHECK(e != NULL);
  CHECK(e && strstr(e->reason, "Symantec") != NULL);
  CHECK(e && strstr(e->source, "Distrust of Symantec TLS Certificates") != NULL);
  CHECK(distrust_event_by_id("nonesuch") == NULL);
}

int main(void) {
  RUN(exact_names_only);
  RUN(leaf_subject_is_not_a_ca);
  RUN(dated_event);
  RUN(exemptions);
  RUN(root_keys);
  RUN(unreadable_and_lookup);
  RUN(memo_keeps_events);
  return harness_done();
}
