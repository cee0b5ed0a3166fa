/*
 * tests/unit/test_facts.c - grade/facts.c and the fact vocabulary
 * (grade/fact_table.h, vocab.c): sessions in, facts out, read by family
 * and typed argument, and their printed keys.
 *
 * Where the expected values come from:
 *  - Suite names and ids: the IANA TLS Cipher Suites registry (RFC 5246
 *    A.5, RFC 4492 6, RFC 5289 3.2, RFC 8446 B.4); SSL 2.0 cipher kinds:
 *    draft-hickman-netscape-ssl-00 appendix A.
 *  - Versions: 0x0303 is TLS 1.2 (RFC 5246 A.1), 0x0302 TLS 1.1, 0x0304
 *    TLS 1.3 (RFC 8446 4.2.1), 0x0002 SSL 2.0.
 *  - Groups: secp256r1 is 0x0017, a 256-bit curve (RFC 8422 5.1.1).
 *  - Alerts: handshake_failure 40, inappropriate_fallback 86 (RFC 5246
 *    7.2, RFC 7507 2).
 *  - The printed keys: the evidence format (README "Evidence and merging",
 *    grade/fact_table.h) written out by hand here, so that a family whose
 *    prefix is renamed fails.
 *  - Which facts a session proves: the rules in grade/facts.c's functions
 *    (grading-reference.md 4.2), applied by hand to each scenario.
 *  - Which facts a check cites: the check's condition in
 *    grading-reference.md section 2 (its id), and where several facts prove
 *    it, the order of its list in grade/check_table.h.
 */
#include "grade/grade.h"
#include "harness.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 ((uint64_t)1735689600 * 1000000) /* 2025-01-01 */
#define JA3 "0123456789abcdef0123456789abcdef"

static const char *const FILES[] = {"facts.pcap"};
static const struct ev_conn CONN = {"192.0.2.10", 443,  FILES,         1, NULL, NULL,
                                    NULL,         NULL, "198.51.100.7"};

/* A session whose client offered `suites` (wire order) at legacy version
 * `client_version`, and whose server chose `suite` at `version`. */
struct hello {
  uint16_t client_version;
  const uint16_t *versions; /* supported_versions, NULL none */
  size_t n_versions;
  const uint16_t *suites;
  size_t n_suites;
  uint16_t version, suite; /* version 0: no ServerHello */
};

static void session_of(struct tls_session *s, const struct hello *h) {
  memset(s, 0, sizeof(*s));
  s->is_tls = true;
  s->has_client_hello = true;
  s->ch.at = (struct tls_at){0, 1, (cap_time_us)T0};
  s->ch.legacy_version = h->client_version;
  s->ch.versions = (struct tls_u16s){(uint16_t *)h->versions, h->n_versions};
  s->ch.ciphers = (struct tls_u16s){(uint16_t *)h->suites, h->n_suites};
  memcpy(s->ch.ja3, JA3, sizeof(s->ch.ja3));
  if (h->version) {
    s->has_server_hello = true;
    s->sh.at = (struct tls_at){0, 2, (cap_time_us)T0 + 1000};
    s->sh.version = h->version;
    s->sh.cipher = h->suite;
    s->version = h->version;
  }
}

static const struct ev_endpoint *only_endpoint(struct ev_store *ev) {
  CHECK_EQ_U(ev_count(ev), 1);
  return ev_endpoint_at(ev, 0);
}

/* The fact printed `key` is there, of family id. */
static const struct ev_fact *fact(const struct ev_endpoint *ep, const char *key,
                                  enum ev_fact_id id) {
  const struct ev_fact *f = ep ? ev_find(ep, key) : NULL;
  if (!f)
    fprintf(stderr, "  no fact %s\n", key);
  CHECK(f != NULL);
  CHECK(f && f->typed.id == id);
  return f && f->typed.id == id ? f : NULL;
}

/* ---- sessions in, facts out ---- */

/* TLS 1.2: the client offers AES-GCM first, then AES-CBC, RC4 and 3DES;
 * the server takes TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (0xc013) over
 * secp256r1. */
static void tls12_cbc_over_ecdhe(void) {
  static const uint16_t offer[] = {0xc02f, 0xc013, 0x0005, 0x000a};
  struct hello h = {0x0303, NULL, 0, offer, 4, 0x0303, 0xc013};
  struct tls_session s;
  session_of(&s, &h);
  s.kex = (struct tls_kex){.present = true, .is_ecdh = true, .curve = 0x0017};
  struct ev_store *ev = ev_store_new();
  ev_add_session(ev, &s, &CONN);
  const struct ev_endpoint *ep = only_endpoint(ev);
  const struct ev_fact *f = fact(ep, "version:TLSv1.2", EV_VERSION);
  CHECK(f && f->typed.version == 0x0303 && ev_fact_name_is(f, "TLSv1.2"));
  f = fact(ep, "suite:TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", EV_SUITE);
  CHECK(f && strcmp(ev_fact_name(f), "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA") == 0);
  f = fact(ep, "cipher_bits:128", EV_CIPHER_BITS);
  CHECK(f && f->typed.number == 128);
  f = fact(ep, "cbc:TLSv1.2", EV_CBC);
  CHECK(f && f->typed.version == 0x0303);
  fact(ep, "non_rc4", EV_NON_RC4);
  CHECK(ev_first_of(ep, EV_RC4) == NULL);
  CHECK(ev_first_of(ep, EV_BLOCK64) == NULL); /* AES: a 128-bit block */
  fact(ep, "fs:given", EV_FS_GIVEN);
  fact(ep, "aead:refused:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
       EV_AEAD_REFUSED); /* GCM offered, CBC taken */
  f = fact(ep, "declined:rc4:TLSv1.2", EV_DECLINED_RC4);
  CHECK(f && f->typed.version == 0x0303);
  fact(ep, "declined:block64:TLSv1.2", EV_DECLINED_BLOCK64);
  f = fact(ep, "pref:skipped:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", EV_PREF_SKIPPED);
  CHECK(f && ev_fact_name_is(f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
  f = fact(ep, "kx:ecdh:secp256r1:256", EV_KX_ECDH);
  CHECK(f && ev_fact_name_is(f, "secp256r1") && f->typed.number == 256);
  f = ev_first_of(ep, EV_ANSWER); /* named by a digest of the offer (offer_digests) */
  CHECK(f && f->typed.name_len == 32 && f->typed.version == 0x0303 && f->typed.number == 0xc013);
  CHECK(ev_first_of(ep, EV_TLS13_REFUSED) == NULL); /* TLS 1.3 was not offered */
  ev_store_free(ev);
}

/* A client offering TLS 1.3 (and TLS_AES_128_GCM_SHA256) gets TLS 1.2
 * with TLS_RSA_WITH_RC4_128_SHA (0x0005) and no DOWNGRD01 sentinel. */
static void tls13_refused_for_rc4(void) {
  static const uint16_t versions[] = {0x0304, 0x0303};
  static const uint16_t offer[] = {0x1301, 0x0005};
  struct hello h = {0x0303, versions, 2, offer, 2, 0x0303, 0x0005};
  struct tls_session s;
  session_of(&s, &h);
  struct ev_store *ev = ev_store_new();
  ev_add_session(ev, &s, &CONN);
  const struct ev_endpoint *ep = only_endpoint(ev);
  fact(ep, "tls13:refused", EV_TLS13_REFUSED);
  const struct ev_fact *f = fact(ep, "rc4:TLSv1.2", EV_RC4);
  CHECK(f && f->typed.version == 0x0303);
  /* The family whose prefix "rc4:" starts its key is another. */
  fact(ep, "rc4:despite_alternatives", EV_RC4_DESPITE_ALTERNATIVES);
  /* TLS_AES_128_GCM_SHA256 is TLS 1.3's alone (RFC 8446 B.4): a TLS 1.2
   * server could not choose it, so nothing was passed over. */
  CHECK(ev_first_of(ep, EV_FS_REFUSED) == NULL && ev_first_of(ep, EV_AEAD_REFUSED) == NULL);
  CHECK(ev_first_of(ep, EV_PREF_SKIPPED) == NULL);
  fact(ep, "pref:took_first", EV_PREF_TOOK_FIRST);
  f = fact(ep, "suite:TLS_RSA_WITH_RC4_128_SHA", EV_SUITE);
  CHECK(ev_first_of(ep, EV_NON_RC4) == NULL && ev_first_of(ep, EV_CBC) == NULL);
  ev_store_free(ev);
}

/* One TLS 1.2 handshake with supported_groups `groups` and, when
 * rsa_leaf, an RSA certificate; its endpoint's facts in a new store. */
static struct ev_store *chose(const uint16_t *offer, size_t n, uint16_t suite,
                              const uint16_t *groups, size_t n_groups, bool rsa_leaf) {
  struct hello h = {0x0303, NULL, 0, offer, n, 0x0303, suite};
  struct tls_session s;
  session_of(&s, &h);
  s.ch.groups = (struct tls_u16s){(uint16_t *)groups, n_groups};
  struct tls_cert leaf;
  memset(&leaf, 0, sizeof(leaf));
  leaf.parsed = true;
  leaf.key_type = TLS_KEY_RSA;
  leaf.key_bits = 2048;
  const struct tls_cert *chain[1] = {&leaf};
  if (rsa_leaf) {
    s.chain = chain;
    s.chain_len = 1;
  }
  struct ev_store *ev = ev_store_new();
  ev_add_session(ev, &s, &CONN);
  return ev;
}

static bool no_fs_aead_evidence(const struct ev_endpoint *ep) {
  return !ev_first_of(ep, EV_FS_REFUSED) && !ev_first_of(ep, EV_AEAD_REFUSED) &&
         !ev_first_of(ep, EV_FS_PASSED_OVER) && !ev_first_of(ep, EV_AEAD_PASSED_OVER);
}

/* A scanner lists TLS_RSA_WITH_AES_128_CBC_SHA (0x002f) before
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (0xc02f): a server taking the
 * client's first choice passed nothing over (RFC 5246 7.4.1.2: the
 * client's list is in its order of preference). */
static void client_order_is_no_refusal(void) {
  static const uint16_t offer[] = {0x002f, 0xc02f, 0xc013};
  static const uint16_t groups[] = {0x001d, 0x0017};
  struct ev_store *ev = chose(offer, 3, 0x002f, groups, 2, true);
  const struct ev_endpoint *ep = only_endpoint(ev);
  CHECK(no_fs_aead_evidence(ep));
  fact(ep, "pref:took_first", EV_PREF_TOOK_FIRST);
  ev_store_free(ev);
}

/* TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xc02b) needs an ECDSA
 * certificate (RFC 8422 2.1); the server shows an RSA one, or (none seen)
 * chose an RSA-signed suite: passing it over proves nothing, and the
 * server's first usable choice was the client's. */
static void unusable_offer_is_no_refusal(void) {
  static const uint16_t offer[] = {0xc02b, 0x002f};
  static const uint16_t groups[] = {0x0017};
  for (int leaf = 0; leaf < 2; leaf++) {
    struct ev_store *ev = chose(offer, 2, 0x002f, groups, 1, leaf);
    const struct ev_endpoint *ep = only_endpoint(ev);
    CHECK(no_fs_aead_evidence(ep));
    fact(ep, "pref:took_first", EV_PREF_TOOK_FIRST);
    ev_store_free(ev);
  }
}

/* The server passes over usable suites the client listed first:
 * TLS_RSA_WITH_AES_128_GCM_SHA256 (0x009c) with an RSA certificate is
 * usable as it stands (aead:refused:SUITE, and the server's order decided);
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (0xc02f) is usable if the server
 * accepts one of the client's groups (x25519 0x001d, secp256r1 0x0017),
 * which a handshake that is not ECDHE does not show. */
static void passed_over_usable_suites(void) {
  static const uint16_t rsa_gcm_first[] = {0x009c, 0x002f};
  struct ev_store *ev = chose(rsa_gcm_first, 2, 0x002f, NULL, 0, true);
  const struct ev_endpoint *ep = only_endpoint(ev);
  fact(ep, "aead:refused:TLS_RSA_WITH_AES_128_GCM_SHA256", EV_AEAD_REFUSED);
  fact(ep, "pref:skipped:TLS_RSA_WITH_AES_128_GCM_SHA256", EV_PREF_SKIPPED);
  CHECK(!ev_first_of(ep, EV_FS_REFUSED) && !ev_first_of(ep, EV_FS_PASSED_OVER));
  ev_store_free(ev);
  static const uint16_t ecdhe_first[] = {0xc02f, 0x002f};
  static const uint16_t groups[] = {0x0a0a, 0x001d, 0x0017}; /* GREASE first (RFC 8701) */
  ev = chose(ecdhe_first, 2, 0x002f, groups, 3, true);
  ep = only_endpoint(ev);
  fact(ep, "fs:passed_over:x25519:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", EV_FS_PASSED_OVER);
  fact(ep, "fs:passed_over:secp256r1:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", EV_FS_PASSED_OVER);
  fact(ep, "aead:passed_over:secp256r1:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", EV_AEAD_PASSED_OVER);
  CHECK(!ev_first_of(ep, EV_FS_REFUSED) && !ev_first_of(ep, EV_AEAD_REFUSED));
  CHECK(!ev_first_of(ep, EV_PREF_SKIPPED) && !ev_first_of(ep, EV_PREF_TOOK_FIRST));
  ev_store_free(ev);
}

/* TLS 1.3 negotiated with TLS_AES_128_GCM_SHA256 (0x1301): the client's
 * first suite after a GREASE value (0x0a0a, RFC 8701, never chosen),
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, is TLS 1.2's alone (RFC 8446
 * B.4), so the client's first usable choice was taken. */
static void other_version_suite_not_passed_over(void) {
  static const uint16_t versions[] = {0x0304, 0x0303};
  static const uint16_t offer[] = {0x0a0a, 0xc02f, 0x1301, 0x1302};
  struct hello h = {0x0303, versions, 2, offer, 4, 0x0304, 0x1301};
  struct tls_session s;
  session_of(&s, &h);
  struct ev_store *ev = ev_store_new();
  ev_add_session(ev, &s, &CONN);
  const struct ev_endpoint *ep = only_endpoint(ev);
  CHECK(ev_first_of(ep, EV_PREF_SKIPPED) == NULL);
  fact(ep, "pref:took_first", EV_PREF_TOOK_FIRST);
  fact(ep, "fs:given", EV_FS_GIVEN);
  fact(ep, "aead:given", EV_AEAD_GIVEN);
  ev_store_free(ev);
}

/* The answer fact's name: the same offer (GREASE apart, RFC 8701; the
 * extensions in any order) gives the same, and offers with the same JA3
 * that differ in supported_versions, key shares or signature algorithms
 * (none of which JA3 covers) give different ones. */
static void offer_digests(void) {
  static const uint16_t offer[] = {0x1301, 0xc02f};
  static const uint16_t final13[] = {0x0304, 0x0303}, draft28[] = {0x7f1c, 0x0303};
  static const uint16_t grease13[] = {0x1a1a, 0x0304, 0x0303};
  static const uint16_t exts[] = {10, 43, 51, 13}, shuffled[] = {51, 13, 10, 43};
  static const uint16_t x25519[] = {0x001d}, p256[] = {0x0017};
  static const uint16_t pss[] = {0x0804}, pkcs1[] = {0x0401};
  struct {
    const uint16_t *versions, *exts, *shares, *sigs;
    size_t n_versions;
  } offers[] = {
      {final13, exts, x25519, pss, 2},      /* 0 */
      {grease13, shuffled, x25519, pss, 3}, /* 1: the same offer as 0 */
      {draft28, exts, x25519, pss, 2},      /* 2: drafts only */
      {final13, exts, p256, pss, 2},        /* 3: another key share */
      {final13, exts, x25519, pkcs1, 2},    /* 4: other signature algorithms */
  };
  char names[5][33];
  for (size_t i = 0; i < 5; i++) {
    struct hello h = {0x0303, offers[i].versions, offers[i].n_versions, offer, 2, 0x0303, 0xc02f};
    struct tls_session s;
    session_of(&s, &h);
    s.ch.extensions = (struct tls_u16s){(uint16_t *)offers[i].exts, 4};
    s.ch.key_share_groups = (struct tls_u16s){(uint16_t *)offers[i].shares, 1};
    s.ch.sig_algs = (struct tls_u16s){(uint16_t *)offers[i].sigs, 1};
    struct ev_store *ev = ev_store_new();
    ev_add_session(ev, &s, &CONN);
    const struct ev_fact *f = ev_first_of(only_endpoint(ev), EV_ANSWER);
    CHECK(f && f->typed.name_len == 32);
    snprintf(names[i], sizeof(names[i]), "%.*s", f ? 32 : 0, f ? ev_fact_name(f) : "");
    ev_store_free(ev);
  }
  CHECK_STR(names[1], names[0]);
  for (size_t i = 2; i < 5; i++)
    CHECK(strcmp(names[i], names[0]) != 0);
}

/* No ServerHello: a fatal handshake_failure (40) answers a hello offering
 * at most TLS 1.1; a fallback hello gets inappropriate_fallback (86). */
static void refusals(void) {
  static const uint16_t offer[] = {0x002f};
  struct hello h = {0x0302, NULL, 0, offer, 1, 0, 0};
  struct tls_session s;
  session_of(&s, &h);
  struct tls_alert alert = {{0, 3, (cap_time_us)T0 + 2000}, FLOW_S2C, false, false, 2, 40};
  s.alerts = &alert;
  s.n_alerts = 1;
  struct ev_store *ev = ev_store_new();
  ev_add_session(ev, &s, &CONN);
  const struct ev_endpoint *ep = only_endpoint(ev);
  const struct ev_fact *f = fact(ep, "refused:TLSv1.1:handshake_failure", EV_REFUSED);
  CHECK(f && f->typed.version == 0x0302 && ev_fact_name_is(f, "handshake_failure"));
  CHECK(f && f->sample.frame == 3);
  f = ev_first_of(ep, EV_ANSWER);
  CHECK(f && f->typed.name_len == 32 && f->typed.number == EV_ANSWER_REFUSED);
  CHECK(ev_first_of(ep, EV_SCSV_REFUSED_FALLBACK) == NULL);
  s.ch.fallback_scsv = true;
  alert.desc = 86;
  ev_add_session(ev, &s, &CONN);
  fact(ep, "scsv:refused_fallback", EV_SCSV_REFUSED_FALLBACK);
  f = fact(ep, "refused:TLSv1.1:inappropriate_fallback", EV_REFUSED);
  CHECK(f && f->typed.version == 0x0302);
  ev_store_free(ev);
}

/* A leaf: RSA-2048, its fingerprint and its key's.  Over SSL 2.0 the key
 * is an sslv2:key, and every endpoint showing the same key in a TLS
 * certificate is DROWN-affected (derived, never saved). */
static void certificate_and_drown(void) {
  static const uint16_t offer[] = {0x002f};
  struct hello h = {0x0303, NULL, 0, offer, 1, 0x0303, 0x002f};
  struct tls_cert leaf;
  memset(&leaf, 0, sizeof(leaf));
  leaf.parsed = true;
  leaf.key_type = TLS_KEY_RSA;
  leaf.key_bits = 2048;
  snprintf(leaf.sha256, sizeof(leaf.sha256), "%064d", 7);
  snprintf(leaf.spki_sha256, sizeof(leaf.spki_sha256), "%064d", 9);
  snprintf(leaf.sig_alg, sizeof(leaf.sig_alg), "sha256WithRSAEncryption");
  const struct tls_cert *chain[1] = {&leaf};
  struct tls_session s;
  session_of(&s, &h);
  s.chain = chain;
  s.chain_len = 1;
  struct ev_store *ev = ev_store_new();
  ev_add_session(ev, &s, &CONN);
  h.version = 0x0002;
  h.suite = 0x0700; /* no SSL 2.0 kind: shown as hex */
  session_of(&s, &h);
  s.chain = chain;
  s.chain_len = 1;
  const struct ev_conn v2 = {"192.0.2.99", 443, FILES, 1, NULL, NULL, NULL, NULL, NULL};
  ev_add_session(ev, &s, &v2);
  CHECK_EQ_U(ev_count(ev), 2);
  const struct ev_endpoint *tls = ev_endpoint_get(ev, "-", "192.0.2.10", 443);
  const struct ev_endpoint *old = ev_endpoint_get(ev, "-", "192.0.2.99", 443);
  char key[EV_KEY_MAX];
  snprintf(key, sizeof(key), "cert:leaf:%064d", 7);
  const struct ev_fact *f = fact(tls, key, EV_CERT_LEAF);
  CHECK(f && f->typed.name_len == 64);
  f = fact(tls, "cert_key:rsa:2048", EV_CERT_KEY_TYPE);
  CHECK(f && ev_fact_name_is(f, "rsa") && f->typed.number == 2048);
  snprintf(key, sizeof(key), "cert:key:%064d", 9);
  fact(tls, key, EV_CERT_KEY);
  snprintf(key, sizeof(key), "sslv2:key:%064d", 9);
  fact(old, key, EV_SSLV2_KEY);
  f = fact(old, "version:SSLv2", EV_VERSION);
  CHECK(f && f->typed.version == 0x0002);
  fact(old, "suite:0x0700", EV_SUITE);
  ev_derive_facts(ev, NULL);
  fact(tls, "derived:drown", EV_DERIVED_DROWN);
  CHECK(ev_find_id(tls, EV_DERIVED_DROWN, NULL) != NULL);
  cJSON *saved = ev_to_json(ev);
  char *text = saved ? cJSON_PrintUnformatted(saved) : NULL;
  CHECK(text && !strstr(text, "derived:") && strstr(text, "\"cert_key:rsa:2048\""));
  free(text);
  cJSON_Delete(saved);
  ev_store_free(ev);
}

/* ---- the vocabulary ---- */

static bool same_typed(const struct ev_typed *a, const struct ev_typed *b) {
  return a->id == b->id && a->version == b->version && a->name_at == b->name_at &&
         a->name_len == b->name_len && a->number == b->number;
}

/* Every family's key, made and parsed back, says the same; so does a
 * saved and loaded store. */
static void keys_round_trip(void) {
  struct ev_store *ev = ev_store_new();
  struct ev_endpoint *ep = ev_endpoint_get(ev, "h", "192.0.2.1", 443);
  struct ev_sample at = {(char *)"x.pcap", 1, 5, false};
  for (unsigned id = 0; id < EV_N_FACTS; id++) {
    struct ev_args a = {.version = 0x0301, .number = 1024, .name = "name"};
    if (ev_fact_kind(id) == EV_ARG_ANSWER)
      a.name = JA3, a.number = 0x002f;
    char key[EV_KEY_MAX];
    struct ev_typed made, parsed;
    CHECK(ev_key_make(id, &a, key, &made));
    ev_key_parse(key, &parsed);
    if (!same_typed(&made, &parsed))
      fprintf(stderr, "  %s: parsed as family %u\n", key, parsed.id);
    CHECK(same_typed(&made, &parsed));
    CHECK_EQ_U(made.id, id);
    ev_add(ep, &at, id, &a);
  }
  cJSON *json = ev_to_json(ev);
  char err[128];
  struct ev_store *back = json ? ev_from_json(json, err, sizeof(err)) : NULL;
  CHECK(back != NULL);
  size_t n = 0;
  const struct ev_fact **facts = ev_sorted_facts(ep, &n);
  for (size_t i = 0; back && facts && i < n; i++) {
    const struct ev_fact *f = ev_find(ev_endpoint_at(back, 0), facts[i]->key);
    bool saved = ev_fact_saved(facts[i]->typed.id);
    CHECK(saved ? f && same_typed(&f->typed, &facts[i]->typed) : !f);
  }
  free(facts);
  ev_store_free(back);
  cJSON_Delete(json);
  ev_store_free(ev);
}

/* Written out by hand: the keys the evidence files hold. */
static void printed_keys(void) {
  static const struct {
    enum ev_fact_id id;
    struct ev_args a;
    const char *key;
  } t[] = {
      {EV_HANDSHAKES, {0}, "handshakes"},
      {EV_VERSION, {.version = 0x0304}, "version:TLSv1.3"},
      {EV_VERSION, {.version = 0xfefd}, "version:DTLSv1.2"},
      {EV_VERSION, {.version = 0x0305}, "version:unknown"},
      {EV_CIPHER_BITS, {.number = 0}, "cipher_bits:0"},
      {EV_KX_DH, {.number = 1024}, "kx:dh:1024"},
      {EV_HSTS_MAX_AGE, {.number = UINT64_MAX}, "hsts:max-age:18446744073709551615"},
      {EV_HTTP_NO_REDIRECT, {.number = (uint64_t)-1}, "http:no_redirect:-1"},
      {EV_HTTP_NO_REDIRECT, {.number = 200}, "http:no_redirect:200"},
      {EV_KX_ECDH, {.name = "x25519", .number = 256}, "kx:ecdh:x25519:256"},
      {EV_REFUSED,
       {.version = 0x0300, .name = "protocol_version"},
       "refused:SSLv3:protocol_version"},
      {EV_ANSWER,
       {.name = JA3, .version = 0x0303, .number = 0xc02f},
       "answer:" JA3 ":TLSv1.2:0xc02f"},
      {EV_DECLINED_WEAK, {.version = 0x0301}, "declined:weak:TLSv1.0"},
      {EV_SCSV_ACCEPTED, {.version = 0x0302}, "scsv:accepted:TLSv1.1"},
      {EV_TRUST_UNTRUSTED,
       {.name = "unable to get local issuer certificate"},
       "trust:untrusted:unable to get local issuer certificate"},
      {EV_DERIVED_DROWN, {0}, "derived:drown"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    char key[EV_KEY_MAX];
    struct ev_typed typed;
    CHECK(ev_key_make(t[i].id, &t[i].a, key, &typed));
    CHECK_STR(key, t[i].key);
  }
  /* Hand-made evidence keeps its family even when its argument is not one
   * this program prints. */
  struct ev_typed typed;
  ev_key_parse("http:no_redirect:/", &typed);
  CHECK_EQ_U(typed.id, EV_HTTP_NO_REDIRECT);
  ev_key_parse("fact:1", &typed);
  CHECK_EQ_U(typed.id, EV_OTHER);
  ev_key_parse("version:TLSv1.2x", &typed);
  CHECK(typed.id == EV_VERSION && typed.version == 0);
}

/* A fact's argument, printed from its typed arguments, is what its key
 * holds after the family's prefix (the keys written out by hand). */
static void arguments_print_as_keys(void) {
  static const struct {
    const char *key, *argument;
  } t[] = {
      {"handshakes", ""},
      {"version:TLSv1.3", "TLSv1.3"},
      {"version:unknown", "unknown"},
      {"suite:TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
      {"kx:dh:2048", "2048"},
      {"kx:ecdh:x25519:256", "x25519:256"},
      {"cert_key:rsa:2048", "rsa:2048"},
      {"http:no_redirect:-1", "-1"},
      {"refused:SSLv3:protocol_version", "SSLv3:protocol_version"},
      {"answer:" JA3 ":TLSv1.2:0xc02f", JA3 ":TLSv1.2:0xc02f"},
      {"answer:" JA3 ":refused", JA3 ":refused"},
  };
  struct ev_store *ev = ev_store_new();
  struct ev_endpoint *ep = ev_endpoint_get(ev, "h", "192.0.2.1", 443);
  struct ev_sample at = {(char *)"x.pcap", 1, 5, false};
  for (size_t i = 0; ep && i < sizeof(t) / sizeof(t[0]); i++) {
    ev_note(ep, &at, "%s", t[i].key);
    const struct ev_fact *f = ev_find(ep, t[i].key);
    char argument[EV_KEY_MAX] = "-";
    CHECK(f != NULL);
    if (f)
      ev_fact_argument(f, argument);
    CHECK_STR(argument, t[i].argument);
  }
  /* A name cut with its key (at 255 bytes) is printed as cut. */
  char name[300];
  memset(name, 'a', sizeof(name) - 1);
  name[sizeof(name) - 1] = '\0';
  ev_add_name(ep, &at, EV_SUITE, name);
  size_t n = 0;
  const struct ev_fact *const *suites = ev_facts_of(ep, EV_SUITE, &n);
  const struct ev_fact *cut = n == 2 ? suites[1] : NULL; /* after "suite:TLS_..." */
  char argument[EV_KEY_MAX] = "";
  CHECK(cut != NULL);
  if (cut)
    ev_fact_argument(cut, argument);
  CHECK_EQ_U(strlen(argument), 255 - strlen("suite:"));
  CHECK(strspn(argument, "a") == strlen(argument));
  ev_store_free(ev);
}

/* Prefixes: one per family; a key without argument has no colon at its
 * end, a family with one ends in a colon. */
static void table_is_sound(void) {
  for (unsigned i = 0; i < EV_N_FACTS; i++) {
    const char *p = ev_fact_prefix(i);
    size_t n = strlen(p);
    CHECK(n > 0 && ev_fact_meaning(i) && ev_fact_meaning(i)[0]);
    CHECK((ev_fact_kind(i) == EV_ARG_NONE) == (p[n - 1] != ':'));
    for (unsigned j = 0; j < i; j++)
      CHECK(strcmp(p, ev_fact_prefix(j)) != 0);
  }
  CHECK(ev_fact_prefix(EV_OTHER) == NULL);
  CHECK(!ev_fact_saved(EV_DERIVED_HTTP_PLAIN) && ev_fact_saved(EV_VERSION));
}

/* The registry's RC4 and CBC columns (IANA names: RFC 5246 A.5, RFC 5288
 * 3; SSL 2.0 kinds: draft-hickman-netscape-ssl-00 appendix A). */
static void registry_suite_families(void) {
  static const struct {
    uint32_t id;
    bool sslv2, rc4, cbc;
  } t[] = {
      {0x0005, false, true, false},  /* TLS_RSA_WITH_RC4_128_SHA */
      {0x0003, false, true, false},  /* TLS_RSA_EXPORT_WITH_RC4_40_MD5 */
      {0x000a, false, false, true},  /* TLS_RSA_WITH_3DES_EDE_CBC_SHA */
      {0x002f, false, false, true},  /* TLS_RSA_WITH_AES_128_CBC_SHA */
      {0x009c, false, false, false}, /* TLS_RSA_WITH_AES_128_GCM_SHA256 */
      {0x0001, false, false, false}, /* TLS_RSA_WITH_NULL_MD5 */
      {0x1303, false, false, false}, /* TLS_CHACHA20_POLY1305_SHA256 */
      {0x010080, true, true, false}, /* SSL_CK_RC4_128_WITH_MD5 */
      {0x0700c0, true, false, true}, /* SSL_CK_DES_192_EDE3_CBC_WITH_MD5 */
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    const struct tls_suite_info *s =
        t[i].sslv2 ? tls_sslv2_suite_lookup(t[i].id) : tls_suite_lookup(t[i].id);
    CHECK(s != NULL);
    if (s && (s->rc4 != t[i].rc4 || s->cbc != t[i].cbc))
      fprintf(stderr, "  0x%04x: rc4 %d cbc %d\n", (unsigned)t[i].id, s->rc4, s->cbc);
    CHECK(s && s->rc4 == t[i].rc4 && s->cbc == t[i].cbc);
  }
}

/* ---- which facts a check cites ---- */

/* An endpoint holding the facts `keys` printed (NULL-terminated). */
static const struct ev_endpoint *endpoint_of(struct ev_store *ev, const char *const *keys) {
  struct ev_endpoint *ep = ev_endpoint_get(ev, "h", "192.0.2.1", 443);
  CHECK(ep != NULL);
  for (uint64_t frame = 1; ep && *keys; keys++, frame++) {
    struct ev_sample at = {(char *)"cite.pcap", frame, (cap_time_us)(T0 + frame), false};
    ev_note(ep, &at, "%s", *keys);
  }
  return ep;
}

/* Check `id` of r has status st and cites the fact printed `key` first
 * (NULL: cites none). */
static void cites(const struct grade_result *r, const char *id, enum check_status st,
                  const char *key) {
  const struct check_result *c = NULL;
  for (size_t i = 0; i < r->n_checks; i++)
    if (strcmp(r->checks[i].id, id) == 0)
      c = &r->checks[i];
  CHECK(c != NULL);
  if (!c)
    return;
  const char *cited = c->n_evidence ? c->evidence[0]->key : NULL;
  if (c->status != st || (key ? !cited || strcmp(cited, key) != 0 : cited != NULL))
    fprintf(stderr, "  %s: status %d cites %s, expected %d %s\n", id, (int)c->status,
            cited ? cited : "nothing", (int)st, key ? key : "nothing");
  CHECK_EQ_U(c->status, st);
  CHECK(key ? cited && strcmp(cited, key) == 0 : cited == NULL);
}

/* Checks select facts by family and typed argument: a neighbouring
 * version, number, name or family is not cited (grading-reference.md
 * section 2, per check id). */
static void checks_cite_by_family_and_argument(void) {
  static struct grade_result r;
  struct ev_store *ev = ev_store_new();
  /* tls10_11 fails on TLS 1.0/1.1 (or DTLS 1.0, TLS 1.1's DTLS) and passes
   * on a refused hello whose best was 1.1 at most: TLS 1.2, DTLS 1.2 and a
   * refused TLS 1.2 hello decide nothing.  ssl2 and ssl3 need SSL 2.0 and
   * 3.0 themselves; no_tls12 passes on the TLS 1.2 ServerHello. */
  grade_endpoint(
      endpoint_of(ev, (const char *const[]){"server_hello", "version:TLSv1.2", "version:DTLSv1.2",
                                            "refused:TLSv1.2:protocol_version",
                                            "refused:SSLv3:handshake_failure", NULL}),
      &r);
  cites(&r, "tls10_11", CHECK_UNKNOWN, NULL);
  cites(&r, "ssl2", CHECK_UNKNOWN, NULL);
  cites(&r, "ssl3", CHECK_PASS, "refused:SSLv3:handshake_failure");
  cites(&r, "poodle", CHECK_PASS, "refused:SSLv3:handshake_failure");
  cites(&r, "no_tls12", CHECK_PASS, "version:TLSv1.2");
  ev_store_free(ev);

  ev = ev_store_new();
  grade_endpoint(endpoint_of(ev, (const char *const[]){"server_hello", "version:DTLSv1.0",
                                                       "version:SSLv2", "cbc:TLSv1.0", NULL}),
                 &r);
  cites(&r, "tls10_11", CHECK_FAIL, "version:DTLSv1.0");
  cites(&r, "ssl2", CHECK_FAIL, "version:SSLv2");
  cites(&r, "ssl3", CHECK_UNKNOWN, NULL);
  cites(&r, "poodle", CHECK_UNKNOWN, NULL); /* CBC, but under TLS 1.0 */
  ev_store_free(ev);

  /* weak_cipher: below 112 bits.  400 and 560 bits are not 40 and 56. */
  ev = ev_store_new();
  grade_endpoint(
      endpoint_of(ev, (const char *const[]){"server_hello", "cipher_bits:128", "cipher_bits:400",
                                            "cipher_bits:560", "declined:weak:TLSv1.2", NULL}),
      &r);
  cites(&r, "weak_cipher", CHECK_PASS, "declined:weak:TLSv1.2");
  ev_store_free(ev);
  ev = ev_store_new();
  grade_endpoint(endpoint_of(ev, (const char *const[]){"cipher_bits:400", "cipher_bits:56",
                                                       "declined:weak:TLSv1.2", NULL}),
                 &r);
  cites(&r, "weak_cipher", CHECK_FAIL, "cipher_bits:56"); /* DES */
  ev_store_free(ev);

  /* rc4_modern needs RC4 under TLS 1.1+; rc4 any RC4.  no_tls13 passes
   * only on the DOWNGRD01 sentinel (DOWNGRD00: TLS 1.1 or below).  rsa_e1
   * passes on an RSA key, not an EC one. */
  ev = ev_store_new();
  grade_endpoint(endpoint_of(ev, (const char *const[]){"rc4:TLSv1.0", "declined:rc4:TLSv1.0",
                                                       "sentinel:DOWNGRD00", "tls13:refused",
                                                       "cert_key:ec:256", NULL}),
                 &r);
  cites(&r, "rc4_modern", CHECK_UNKNOWN, NULL);
  cites(&r, "rc4", CHECK_FAIL, "rc4:TLSv1.0");
  cites(&r, "no_tls13", CHECK_FAIL, "tls13:refused");
  cites(&r, "rsa_e1", CHECK_UNKNOWN, NULL);
  ev_store_free(ev);
  ev = ev_store_new();
  grade_endpoint(
      endpoint_of(ev, (const char *const[]){"rc4:TLSv1.2", "sentinel:DOWNGRD01", "tls13:refused",
                                            "cert_key:ec:256", "cert_key:rsa:2048", NULL}),
      &r);
  cites(&r, "rc4_modern", CHECK_FAIL, "rc4:TLSv1.2");
  cites(&r, "no_tls13", CHECK_PASS, "sentinel:DOWNGRD01");
  cites(&r, "rsa_e1", CHECK_PASS, "cert_key:rsa:2048");
  ev_store_free(ev);
}

int main(void) {
  RUN(tls12_cbc_over_ecdhe);
  RUN(tls13_refused_for_rc4);
  RUN(client_order_is_no_refusal);
  RUN(unusable_offer_is_no_refusal);
  RUN(passed_over_usable_suites);
  RUN(other_version_suite_not_passed_over);
  RUN(offer_digests);
  RUN(refusals);
  RUN(certificate_and_drown);
  RUN(keys_round_trip);
  RUN(printed_keys);
  RUN(arguments_print_as_keys);
  RUN(table_is_sound);
  RUN(registry_suite_families);
  RUN(checks_cite_by_family_and_argument);
  return harness_done();
}
