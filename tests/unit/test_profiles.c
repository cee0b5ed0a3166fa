/*
 * tests/unit/test_profiles.c - grade/profiles.c: compliance profile items
 * and verdicts on crafted evidence.
 *
 * Where the expected values come from:
 *  - What each profile allows: the published lists, read by hand, never
 *    from grade/profiles.tsv: Mozilla Server Side TLS 5.7
 *    (ssl-config.mozilla.org/guidelines/5.7.json: modern TLS 1.3 only with
 *    AES-GCM and ChaCha20 suites, groups X25519, P-256, P-384, ECDSA
 *    P-256/P-384 certificates, HSTS 63072000 s, 90-day certificates;
 *    intermediate adds TLS 1.2 with ECDHE/DHE AEAD suites, RSA 2048, DH
 *    2048, 366 days; old adds TLS 1.0/1.1, CBC suites and
 *    TLS_RSA_WITH_3DES_EDE_CBC_SHA, DH 1024, RSA certificates only), NIST
 *    SP 800-52r2 (3.1: TLS 1.2 and 1.3 shall be supported; 3.3.1: AES
 *    suites only, groups from SP 800-56A, X25519 not among them; 112-bit
 *    keys), BSI TR-02102-2 (Table 1 and 11: no ChaCha20, no RSA key
 *    transport; 3000-bit RSA and DH).
 *  - The facts of each scenario: what grade/facts.c notes for it (the keys
 *    of grade/fact_table.h), as tests/unit/test_grade.c builds them.
 *  - The soundness rule (README "What counts as evidence"): a fail needs a
 *    fact the server chose; a pass needs proof, never a fact seen only in
 *    handshakes their client aborted.
 */
#include "grade/grade.h"
#include "harness.h"

#include <string.h>

#define T0 ((cap_time_us)1735689600 * 1000000)

static uint64_t next_frame = 1;

static void note_all(struct ev_endpoint *ep, bool aborted, const char *const *keys) {
  for (; *keys; keys++) {
    uint64_t frame = next_frame++;
    struct ev_sample at = {(char *)"case.pcap", frame, T0 + (cap_time_us)frame * 1000, aborted};
    ev_note(ep, &at, "%s", *keys);
  }
}
#define NOTE(ep, ...) note_all((ep), false, (const char *const[]){__VA_ARGS__, NULL})
#define NOTE_ABORTED(ep, ...) note_all((ep), true, (const char *const[]){__VA_ARGS__, NULL})

/* One scenario: a store with one endpoint, graded once its facts are in. */
struct scenario {
  struct ev_store *ev;
  struct ev_endpoint *ep;
  struct grade_result r;
};

static void begin(struct scenario *s) {
  s->ev = ev_store_new();
  s->ep = ev_endpoint_get(s->ev, "www.example.com", "192.0.2.10", 443);
  CHECK(s->ep != NULL);
}

static void grade(struct scenario *s) {
  grade_endpoint(s->ep, &s->r);
}

static void end(struct scenario *s) {
  ev_store_free(s->ev);
}

static struct grade_profile_result profile(const struct scenario *s, const char *id) {
  struct grade_profile_result p;
  memset(&p, 0, sizeof p);
  int i = grade_profile_find(id);
  CHECK(i >= 0);
  CHECK(i >= 0 && grade_profile(&s->r, (size_t)i, &p));
  return p;
}

static const char *verdict(const struct scenario *s, const char *id) {
  return grade_profile_verdict_name(profile(s, id).verdict);
}

/* "pass", "fail", "unknown", or "absent" when the profile has no such item. */
static const char *item(const struct scenario *s, const char *id, const char *item_id) {
  struct grade_profile_result p = profile(s, id);
  for (size_t i = 0; i < p.n_items; i++)
    if (strcmp(p.items[i].id, item_id) == 0)
      return p.items[i].status == CHECK_PASS   ? "pass"
             : p.items[i].status == CHECK_FAIL ? "fail"
                                               : "unknown";
  return "absent";
}

/* The key of the first fact a failed item cites. */
static const char *failed_fact(const struct scenario *s, const char *id) {
  struct grade_profile_result p = profile(s, id);
  const struct grade_profile_item *it = grade_profile_failed_item(&p);
  return it && it->n_evidence ? it->evidence[0]->key : "";
}

/* A TLS 1.3 handshake, certificate encrypted. */
static void hs13(struct ev_endpoint *ep, const char *suite, const char *group) {
  NOTE(ep, "handshakes", "server_hello", "version:TLSv1.3", suite, "non_rc4", "fs:given",
       "aead:given", group, "established", "tls13_cert_hidden");
}

static void test_names(void) {
  CHECK_EQ_U(grade_profile_count(), 5);
  const char *ids[] = {"mozilla-modern", "mozilla-intermediate", "mozilla-old", "nist-800-52r2",
                       "bsi-tr-02102-2"};
  for (size_t i = 0; i < 5; i++)
    CHECK(grade_profile_find(ids[i]) >= 0);
  CHECK(grade_profile_find("mozilla") < 0);
  CHECK(grade_profile_id(5) == NULL);
}

/* TLS 1.3 only, X25519, AES-128-GCM: nothing Mozilla forbids was seen,
 * but nothing proves the rest: meets what was seen.  X25519 is no SP
 * 800-56A group (NIST) nor in TR-02102-2 Table 10 (BSI): fails. */
static void test_tls13_only(void) {
  struct scenario s;
  begin(&s);
  hs13(s.ep, "suite:TLS_AES_128_GCM_SHA256", "kx:ecdh:x25519:256");
  grade(&s);
  CHECK_STR(verdict(&s, "mozilla-modern"), "meets what was seen");
  CHECK_STR(verdict(&s, "mozilla-intermediate"), "meets what was seen");
  CHECK_STR(verdict(&s, "mozilla-old"), "meets what was seen");
  CHECK_STR(item(&s, "mozilla-modern", "versions"), "unknown");
  CHECK_STR(item(&s, "mozilla-modern", "suites"), "unknown");
  CHECK_STR(item(&s, "mozilla-modern", "cert_key"), "unknown");
  CHECK_STR(verdict(&s, "nist-800-52r2"), "fails");
  CHECK_STR(failed_fact(&s, "nist-800-52r2"), "kx:ecdh:x25519:256");
  CHECK_STR(verdict(&s, "bsi-tr-02102-2"), "fails");
  /* NIST requires TLS 1.3 (3.1): proven by the negotiation; TLS 1.2, also
   * required, is not proven by TLS 1.3. */
  CHECK_STR(item(&s, "nist-800-52r2", "tls13"), "pass");
  CHECK_STR(item(&s, "nist-800-52r2", "tls12"), "unknown");
  end(&s);
}

/* The same server over P-256 with ChaCha20: BSI and NIST list no ChaCha20
 * suite (TR-02102-2 Table 11, SP 800-52r2 3.3.1.2). */
static void test_chacha(void) {
  struct scenario s;
  begin(&s);
  hs13(s.ep, "suite:TLS_CHACHA20_POLY1305_SHA256", "kx:ecdh:secp256r1:256");
  grade(&s);
  CHECK_STR(verdict(&s, "mozilla-modern"), "meets what was seen");
  CHECK_STR(item(&s, "nist-800-52r2", "groups"), "unknown");
  CHECK_STR(item(&s, "nist-800-52r2", "suites"), "fail");
  CHECK_STR(item(&s, "bsi-tr-02102-2", "suites"), "fail");
  end(&s);
}

/* TLS 1.3 over P-256 with AES-128-GCM and an ECDSA P-256 leaf: allowed by
 * modern, intermediate, NIST and BSI (SP 800-52r2 3.3.1.2 and 3.3.1.1;
 * TR-02102-2 Tables 10, 11 and 3.6 for 250-bit EC keys), so each meets
 * what was seen, and none more: the suites and groups not chosen stay
 * unknown.  Mozilla old names RSA certificates only (5.7: certificate_types
 * rsa): it fails on the EC key, and meets what was seen with TLS 1.2,
 * ECDHE-RSA-AES128-GCM and a 2048-bit RSA leaf. */
static void test_every_profile_met(void) {
  struct scenario s;
  begin(&s);
  hs13(s.ep, "suite:TLS_AES_128_GCM_SHA256", "kx:ecdh:secp256r1:256");
  NOTE(s.ep, "cert:leaf:00", "cert_key:ec:256");
  grade(&s);
  const char *ids[] = {"mozilla-modern", "mozilla-intermediate", "nist-800-52r2", "bsi-tr-02102-2"};
  for (size_t i = 0; i < 4; i++) {
    CHECK_STR(verdict(&s, ids[i]), "meets what was seen");
    CHECK_STR(item(&s, ids[i], "suites"), "unknown");
  }
  CHECK_STR(item(&s, "nist-800-52r2", "cert_key"), "pass");
  CHECK_STR(item(&s, "bsi-tr-02102-2", "cert_key"), "pass");
  CHECK_STR(verdict(&s, "mozilla-old"), "fails");
  CHECK_STR(failed_fact(&s, "mozilla-old"), "cert_key:ec:256");
  end(&s);
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2",
       "suite:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "kx:ecdh:secp256r1:256", "established",
       "cert:leaf:00", "cert_key:rsa:2048");
  grade(&s);
  CHECK_STR(verdict(&s, "mozilla-old"), "meets what was seen");
  CHECK_STR(item(&s, "mozilla-old", "cert_key"), "pass");
  end(&s);
}

/* A client whose best version was TLS 1.2 refused: modern's versions
 * item passes (the newest version below TLS 1.3), intermediate's is still
 * undecided (TLS 1.1 is the one to see refused). */
static void test_version_refused(void) {
  struct scenario s;
  begin(&s);
  hs13(s.ep, "suite:TLS_AES_256_GCM_SHA384", "kx:ecdh:secp384r1:384");
  NOTE(s.ep, "handshakes", "refused:TLSv1.2:protocol_version");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-modern", "versions"), "pass");
  CHECK_STR(item(&s, "mozilla-intermediate", "versions"), "unknown");
  CHECK_STR(verdict(&s, "mozilla-modern"), "meets what was seen"); /* suites never pass */
  end(&s);
  begin(&s);
  hs13(s.ep, "suite:TLS_AES_256_GCM_SHA384", "kx:ecdh:secp384r1:384");
  NOTE(s.ep, "handshakes", "refused:TLSv1.1:protocol_version");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-intermediate", "versions"), "pass");
  CHECK_STR(item(&s, "mozilla-modern", "versions"), "unknown");
  CHECK_STR(item(&s, "bsi-tr-02102-2", "versions"), "pass");
  end(&s);
}

/* RC4 under TLS 1.2: no profile lists an RC4 suite. */
static void test_rc4(void) {
  struct scenario s;
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2", "suite:TLS_RSA_WITH_RC4_128_SHA",
       "rc4:TLSv1.2", "established", "cert:leaf:00", "cert_key:rsa:2048");
  grade(&s);
  for (size_t i = 0; i < grade_profile_count(); i++) {
    CHECK_STR(verdict(&s, grade_profile_id(i)), "fails");
    CHECK_STR(item(&s, grade_profile_id(i), "suites"), "fail");
  }
  CHECK_STR(failed_fact(&s, "mozilla-old"), "suite:TLS_RSA_WITH_RC4_128_SHA");
  end(&s);
}

/* 3DES: Mozilla old lists TLS_RSA_WITH_3DES_EDE_CBC_SHA (its last suite),
 * never the ECDHE 3DES suite; intermediate and modern list neither. */
static void test_3des(void) {
  struct scenario s;
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2", "suite:TLS_RSA_WITH_3DES_EDE_CBC_SHA",
       "block64:TLSv1.2", "established");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-old", "suites"), "unknown");
  CHECK_STR(item(&s, "mozilla-intermediate", "suites"), "fail");
  CHECK_STR(item(&s, "mozilla-modern", "versions"), "fail");
  CHECK_STR(item(&s, "nist-800-52r2", "suites"), "fail");
  CHECK_STR(item(&s, "bsi-tr-02102-2", "suites"), "fail");
  end(&s);
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2",
       "suite:TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "kx:ecdh:x25519:256", "established");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-old", "suites"), "fail");
  end(&s);
}

/* What a client offered is no fault of the server: a client offering RC4
 * that got AES-GCM (declined:rc4), a post-quantum group listed and a
 * classical share taken without a retry (pq:no_retry). */
static void test_offers_never_fail(void) {
  struct scenario s;
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2",
       "suite:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "kx:ecdh:secp256r1:256",
       "declined:rc4:TLSv1.2", "declined:block64:TLSv1.2", "established");
  grade(&s);
  CHECK_STR(verdict(&s, "mozilla-intermediate"), "meets what was seen");
  CHECK_STR(verdict(&s, "mozilla-old"), "meets what was seen");
  end(&s);
}

/* Finite-field DH: intermediate needs 2048 bits, old 1024, modern none
 * (dh_param_size null), BSI 3000. */
static void test_dh(void) {
  struct scenario s;
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2",
       "suite:TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "kx:dh:1024", "established");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-intermediate", "groups"), "fail");
  CHECK_STR(item(&s, "mozilla-old", "groups"), "unknown");
  CHECK_STR(item(&s, "mozilla-modern", "groups"), "fail");
  end(&s);
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2",
       "suite:TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "kx:dh:2048", "established");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-intermediate", "groups"), "unknown");
  CHECK_STR(item(&s, "nist-800-52r2", "groups"), "unknown");
  CHECK_STR(item(&s, "bsi-tr-02102-2", "groups"), "fail");
  end(&s);
}

/* Certificate keys: modern takes ECDSA P-256/P-384 only; intermediate and
 * NIST RSA 2048; BSI needs RSA 3000.  A key seen only in handshakes their
 * client aborted fails but never passes. */
static void test_cert_key(void) {
  struct scenario s;
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2",
       "suite:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "established", "cert:leaf:00",
       "cert_key:rsa:2048");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-modern", "cert_key"), "fail");
  CHECK_STR(item(&s, "mozilla-intermediate", "cert_key"), "pass");
  CHECK_STR(item(&s, "nist-800-52r2", "cert_key"), "pass");
  CHECK_STR(item(&s, "bsi-tr-02102-2", "cert_key"), "fail");
  end(&s);
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2",
       "suite:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "established");
  NOTE_ABORTED(s.ep, "cert:leaf:00", "cert_key:ec:256");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-intermediate", "cert_key"), "unknown");
  end(&s);
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2",
       "suite:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "established");
  NOTE_ABORTED(s.ep, "version:TLSv1.0");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-intermediate", "versions"), "fail"); /* aborted may fail */
  end(&s);
}

/* Mozilla's HSTS is two years (hsts_min_age 63072000) and its leaf at
 * most 90 (modern) or 366 days; NIST and BSI have neither item. */
static void test_hsts_lifetime(void) {
  struct scenario s;
  begin(&s);
  hs13(s.ep, "suite:TLS_AES_128_GCM_SHA256", "kx:ecdh:x25519:256");
  NOTE(s.ep, "decrypt:ok", "https:response", "hsts:max-age:31536000", "cert:leaf:00",
       "cert_lifetime:2025-01-01..2025-12-31:365");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-modern", "hsts"), "fail");
  CHECK_STR(item(&s, "mozilla-modern", "cert_lifetime"), "fail");
  CHECK_STR(item(&s, "mozilla-intermediate", "cert_lifetime"), "pass");
  CHECK_STR(item(&s, "nist-800-52r2", "hsts"), "absent");
  end(&s);
  begin(&s);
  hs13(s.ep, "suite:TLS_AES_128_GCM_SHA256", "kx:ecdh:x25519:256");
  NOTE(s.ep, "decrypt:ok", "https:response", "hsts:max-age:63072000");
  grade(&s);
  CHECK_STR(item(&s, "mozilla-modern", "hsts"), "pass");
  end(&s);
}

/* NIST 3.1: TLS 1.3 shall be supported; a client offering it that got
 * TLS 1.2 without the sentinel proves it is not (as check no_tls13).  A
 * TLS 1.3-only server refusing a client whose best version is TLS 1.2
 * fails the TLS 1.2 requirement. */
static void test_nist_tls13(void) {
  struct scenario s;
  begin(&s);
  NOTE(s.ep, "handshakes", "server_hello", "version:TLSv1.2",
       "suite:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "kx:ecdh:secp256r1:256", "tls13:refused",
       "established");
  grade(&s);
  CHECK_STR(item(&s, "nist-800-52r2", "tls13"), "fail");
  CHECK_STR(item(&s, "nist-800-52r2", "tls12"), "pass");
  CHECK_STR(verdict(&s, "nist-800-52r2"), "fails");
  CHECK_STR(verdict(&s, "mozilla-intermediate"), "meets what was seen");
  end(&s);
  begin(&s);
  hs13(s.ep, "suite:TLS_AES_128_GCM_SHA256", "kx:ecdh:secp256r1:256");
  NOTE(s.ep, "handshakes", "refused:TLSv1.2:protocol_version");
  grade(&s);
  CHECK_STR(item(&s, "nist-800-52r2", "tls12"), "fail");
  CHECK_STR(item(&s, "nist-800-52r2", "tls13"), "pass");
  CHECK_STR(item(&s, "mozilla-modern", "versions"), "pass");
  end(&s);
}

int main(void) {
  RUN(test_names);
  RUN(test_tls13_only);
  RUN(test_chacha);
  RUN(test_version_refused);
  RUN(test_rc4);
  RUN(test_3des);
  RUN(test_offers_never_fail);
  RUN(test_dh);
  RUN(test_cert_key);
  RUN(test_hsts_lifetime);
  RUN(test_nist_tls13);
  RUN(test_every_profile_met);
  return harness_done();
}
