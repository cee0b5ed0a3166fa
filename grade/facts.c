/*
 * grade/facts.c - what one TLS connection proves about its server.
 *
 * Every fact is made by family (grade/fact_table.h: its prefix, argument
 * and meaning; checks.c and score.c read them by the same ids).  The
 * inferences follow grading-reference.md 4.2: what the client offered is
 * the baseline, what the server chose (or refused) against it is the fact.
 * Facts of every endpoint (DROWN, what plain HTTP said) are derived once all
 * evidence is in (derive.c) and never saved.
 */
#include "grade/clients.h"
#include "grade/facts.h"
#include "base/hex.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool version_is_tls13(uint16_t v) {
  return v == TLS_VERSION_TLS13 || v == TLS_VERSION_DTLS13;
}

/* Best version a ClientHello offers (supported_versions, else legacy). */
static uint16_t client_max_version(const struct tls_client_hello *ch) {
  uint16_t best = 0;
  for (size_t i = 0; i < ch->versions.n; i++) {
    uint16_t v = ch->versions.v[i];
    if (!tls_is_grease(v) && (v >> 8) == 3 && v > best)
      best = v;
  }
  return best ? best : ch->legacy_version;
}

static bool is_fs(const struct tls_suite_info *s) {
  return s->forward_secret && !s->anonymous;
}
static bool is_aead(const struct tls_suite_info *s) {
  return s->aead;
}
static bool is_not_rc4(const struct tls_suite_info *s) {
  return !s->rc4 && s->bits > 0;
}

static bool is_rc4(const struct tls_suite_info *s) {
  return s->rc4;
}
static bool is_block64(const struct tls_suite_info *s) {
  return s->block_bits == 64;
}
static bool is_weak(const struct tls_suite_info *s) {
  return s->bits < 112 || s->export_grade;
}
static bool is_anon(const struct tls_suite_info *s) {
  return s->anonymous;
}

/* The kinds of suite a client offers, one bit each: its list is looked up
 * once per session rather than once per question (a browser offers a few
 * dozen suites). */
enum offer_kind {
  OFFER_FS,
  OFFER_AEAD,
  OFFER_NOT_RC4,
  OFFER_RC4,
  OFFER_BLOCK64,
  OFFER_WEAK,
  OFFER_ANON,
  N_OFFER_KINDS
};
static bool (*const OFFER_PRED[N_OFFER_KINDS])(const struct tls_suite_info *) = {
    is_fs, is_aead, is_not_rc4, is_rc4, is_block64, is_weak, is_anon};

static unsigned offered_kinds(const struct tls_client_hello *ch) {
  unsigned kinds = 0;
  for (size_t i = 0; i < ch->ciphers.n; i++) {
    const struct tls_suite_info *s = tls_suite_lookup(ch->ciphers.v[i]);
    for (int k = 0; s && !s->scsv && k < N_OFFER_KINDS; k++)
      if (OFFER_PRED[k](s))
        kinds |= 1u << k;
  }
  return kinds;
}

/* The client offered a kind of suite and the server chose another kind:
 * evidence (weak, "as far as clients asked") that the server declines it.
 * grading-reference.md 4.3: such support is known only if offered. */
static void declined_facts(struct ev_endpoint *ep, const struct tls_session *s,
                           const struct tls_suite_info *chosen, unsigned offered,
                           const struct ev_sample *at) {
  static const struct {
    enum ev_fact_id fact;
    enum offer_kind kind;
  } kinds[] = {{EV_DECLINED_RC4, OFFER_RC4},
               {EV_DECLINED_BLOCK64, OFFER_BLOCK64},
               {EV_DECLINED_WEAK, OFFER_WEAK},
               {EV_DECLINED_ANON, OFFER_ANON}};
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (!OFFER_PRED[kinds[i].kind](chosen) && (offered & (1u << kinds[i].kind)))
      ev_add_version(ep, at, kinds[i].fact, s->version);
  if (s->sh.compression == 0 &&
      memchr(s->ch.compression.p ? s->ch.compression.p : (const uint8_t *)"", 1,
             s->ch.compression.n))
    ev_add(ep, at, EV_DECLINED_COMPRESSION, NULL);
}

static bool client_offered(const struct tls_client_hello *ch, uint32_t suite) {
  for (size_t i = 0; i < ch->ciphers.n; i++)
    if (ch->ciphers.v[i] == suite)
      return true;
  return false;
}

/* Could the server have chosen suite su in this handshake?  Proven only
 * from the handshake itself; what it cannot prove is UNKNOWN, never a
 * reason to fail (grading-reference.md 4.3). */
enum usable {
  USABLE_NO,       /* invalid for the version, or the certificate cannot sign it */
  USABLE_UNKNOWN,  /* needs what a passive observer cannot see (PSK, fixed DH, ...) */
  USABLE_IF_GROUP, /* ECDHE: usable if the server accepts a group the client offered */
  USABLE_IF_DHE,   /* DHE: usable if the server has DH parameters */
  USABLE_YES
};

/* RFC 8446 B.4: TLS 1.3 suites only under TLS 1.3, and only they.  AEAD
 * and SHA-256/384 suites are TLS 1.2's (RFC 5246 A.5, RFC 5288 4, RFC
 * 5289 3): a TLS 1.0 or 1.1 server cannot choose them. */
static bool valid_for_version(const struct tls_suite_info *su, uint16_t v) {
  if (su->scsv)
    return false;
  if (version_is_tls13(v))
    return su->kx == TLS_KX_TLS13;
  if (su->kx == TLS_KX_TLS13)
    return false;
  size_t n = strlen(su->name);
  bool tls12_mac = n > 7 && (strcmp(su->name + n - 7, "_SHA256") == 0 ||
                             strcmp(su->name + n - 7, "_SHA384") == 0);
  bool tls12 = v == TLS_VERSION_TLS12 || v == TLS_VERSION_DTLS12;
  return tls12 || !(su->aead || tls12_mac);
}

/* The suite authentication the server's certificate allows: the leaf's
 * key type, else (the certificate not seen) the chosen suite's, which the
 * server could sign.  TLS_AUTH_NULL: not known. */
static uint8_t certificate_auth(const struct tls_session *s, const struct tls_suite_info *chosen) {
  if (s->chain_len && s->chain[0]->parsed) {
    switch (s->chain[0]->key_type) {
    case TLS_KEY_RSA:
      return TLS_AUTH_RSA;
    case TLS_KEY_EC:
      return TLS_AUTH_ECDSA;
    case TLS_KEY_DSA:
      return TLS_AUTH_DSS;
    default:
      return TLS_AUTH_NULL;
    }
  }
  if (chosen->auth == TLS_AUTH_RSA || chosen->auth == TLS_AUTH_ECDSA ||
      chosen->auth == TLS_AUTH_DSS)
    return chosen->auth;
  return TLS_AUTH_NULL;
}

static enum usable usable(const struct tls_session *s, const struct tls_suite_info *su,
                          const struct tls_suite_info *chosen, uint8_t cert_auth) {
  if (!valid_for_version(su, s->version))
    return USABLE_NO;
  if (su == chosen || su->kx == TLS_KX_TLS13)
    return USABLE_YES; /* TLS 1.3: the suite does not depend on key or group (RFC 8446 4.1.1) */
  if (su->auth != TLS_AUTH_ANON) {
    if (su->auth != TLS_AUTH_RSA && su->auth != TLS_AUTH_ECDSA && su->auth != TLS_AUTH_DSS)
      return USABLE_UNKNOWN; /* PSK, SRP, Kerberos, GOST */
    if (cert_auth == TLS_AUTH_NULL)
      return USABLE_UNKNOWN;
    if (su->auth != cert_auth)
      return USABLE_NO; /* the certificate shown cannot sign it */
  }
  switch (su->kx) {
  case TLS_KX_RSA:
    return su->export_grade ? USABLE_UNKNOWN : USABLE_YES;
  case TLS_KX_ECDHE:
    /* A group the server chose in this very handshake is shared. */
    return chosen->kx == TLS_KX_ECDHE && s->kex.is_ecdh && s->kex.curve ? USABLE_YES
                                                                        : USABLE_IF_GROUP;
  case TLS_KX_DHE:
    return chosen->kx == TLS_KX_DHE && s->kex.is_dh ? USABLE_YES : USABLE_IF_DHE;
  default:
    return USABLE_UNKNOWN;
  }
}

/* The server passed over suites of a kind (FS, AEAD) that the client
 * listed before the chosen one: `refused:SUITE` for each one usable here,
 * else `passed_over:COND:SUITE` per condition that would make it usable (a
 * group the client offered, "dhe").  checks.c holds them against what the
 * server shows elsewhere: a refusal only when it negotiates SUITE in some
 * handshake (a scanner listing suites the server lacks proves nothing) and
 * accepts COND.  A suite the client listed after the chosen one proves
 * nothing: the server may follow the client's order.  At most
 * PASSED_OVER_MAX suites of a hello are noted. */
#define PASSED_OVER_MAX 8

static void passed_over_one(struct ev_endpoint *ep, const struct tls_session *s,
                            const struct tls_suite_info *su, enum usable u,
                            const struct ev_sample *at, enum ev_fact_id refused,
                            enum ev_fact_id passed_over) {
  char name[160];
  if (u == USABLE_YES) {
    ev_add_name(ep, at, refused, su->name);
    return;
  }
  if (u == USABLE_IF_DHE) {
    snprintf(name, sizeof name, "dhe:%s", su->name);
    ev_add_name(ep, at, passed_over, name);
    return;
  }
  for (size_t i = 0; u == USABLE_IF_GROUP && i < s->ch.groups.n; i++) {
    uint16_t id = s->ch.groups.v[i];
    const char *g = tls_group_name(id);
    bool ffdhe = id >= 0x0100 && id <= 0x01ff; /* RFC 7919: not for ECDHE */
    if (g && !ffdhe && !tls_is_grease(id)) {
      snprintf(name, sizeof name, "%s:%s", g, su->name);
      ev_add_name(ep, at, passed_over, name);
    }
  }
}
static void passed_over_facts(struct ev_endpoint *ep, const struct tls_session *s,
                              const struct tls_suite_info *chosen, const struct ev_sample *at,
                              bool (*kind)(const struct tls_suite_info *), enum ev_fact_id refused,
                              enum ev_fact_id passed_over) {
  uint8_t cert_auth = certificate_auth(s, chosen);
  size_t noted = 0;
  for (size_t i = 0; i < s->ch.ciphers.n && noted < PASSED_OVER_MAX; i++) {
    const struct tls_suite_info *su = tls_suite_lookup(s->ch.ciphers.v[i]);
    if (su == chosen)
      break;
    if (!su || !kind(su))
      continue;
    enum usable u = usable(s, su, chosen, cert_auth);
    if (u == USABLE_YES || u == USABLE_IF_DHE || u == USABLE_IF_GROUP) {
      passed_over_one(ep, s, su, u, at, refused, passed_over);
      noted++;
    }
  }
}

/* Whose order decides (reference 4.2 item 6): the client's first suite
 * the server could have chosen here, and whether the server took it.
 * Suites it could not choose (another version's, another key type's) are
 * not the client's choice; one whose use cannot be proven ends the search:
 * nothing is known. */
static void preference_facts(struct ev_endpoint *ep, const struct tls_session *s,
                             const struct tls_suite_info *chosen, const struct ev_sample *at) {
  uint8_t cert_auth = certificate_auth(s, chosen);
  for (size_t i = 0; i < s->ch.ciphers.n; i++) {
    uint16_t id = s->ch.ciphers.v[i];
    const struct tls_suite_info *first = tls_suite_lookup(id);
    if (tls_is_grease(id))
      continue; /* RFC 8701: never a choice */
    if (!first)
      return; /* an unknown suite: the server may know it */
    enum usable u = usable(s, first, chosen, cert_auth);
    if (u == USABLE_NO)
      continue;
    if (first == chosen)
      ev_add(ep, at, EV_PREF_TOOK_FIRST, NULL);
    else if (u == USABLE_YES)
      ev_add_name(ep, at, EV_PREF_SKIPPED, first->name);
    return;
  }
}

static void suite_facts(struct ev_endpoint *ep, const struct tls_session *s,
                        const struct ev_sample *at) {
  const struct tls_suite_info *su = s->version == TLS_VERSION_SSL2
                                        ? tls_sslv2_suite_lookup(s->sh.cipher)
                                        : tls_suite_lookup(s->sh.cipher);
  if (!su) {
    char hex[8];
    snprintf(hex, sizeof(hex), "0x%04x", s->sh.cipher);
    ev_add_name(ep, at, EV_SUITE, hex);
    return;
  }
  uint16_t v = s->version;
  ev_add_name(ep, at, EV_SUITE, su->name);
  ev_add_number(ep, at, EV_CIPHER_BITS, su->bits);
  if (s->version == TLS_VERSION_SSL2)
    return; /* SSL 2.0 fails on its own; RC4/CBC rules are about SSL 3 and TLS */
  bool rc4 = su->rc4;
  if (rc4)
    ev_add_version(ep, at, EV_RC4, v);
  else
    ev_add(ep, at, EV_NON_RC4, NULL);
  if (su->block_bits == 64)
    ev_add_version(ep, at, EV_BLOCK64, v);
  if (su->cbc)
    ev_add_version(ep, at, EV_CBC, v);
  if (su->export_grade)
    ev_add(ep, at, EV_EXPORT, NULL);
  if (su->bits == 0)
    ev_add(ep, at, EV_NULL_CIPHER, NULL);
  if (su->anonymous)
    ev_add(ep, at, EV_ANON, NULL);
  const struct tls_client_hello *ch = &s->ch;
  if (!s->has_client_hello)
    return;
  unsigned offered = offered_kinds(ch);
  if (rc4 && (offered & (1u << OFFER_NOT_RC4)))
    ev_add(ep, at, EV_RC4_DESPITE_ALTERNATIVES, NULL);
  declined_facts(ep, s, su, offered, at);
  /* A resumption keeps its session's suite, and a suite the client did not
   * offer was not chosen from its list: neither says what the server
   * prefers. */
  bool chose = !s->resumed && client_offered(ch, s->sh.cipher);
  if (su->forward_secret || version_is_tls13(s->version))
    ev_add(ep, at, EV_FS_GIVEN, NULL);
  else if (chose)
    passed_over_facts(ep, s, su, at, is_fs, EV_FS_REFUSED, EV_FS_PASSED_OVER);
  if (su->aead)
    ev_add(ep, at, EV_AEAD_GIVEN, NULL);
  else if (chose)
    passed_over_facts(ep, s, su, at, is_aead, EV_AEAD_REFUSED, EV_AEAD_PASSED_OVER);
  if (chose)
    preference_facts(ep, s, su, at);
}

static void version_facts(struct ev_endpoint *ep, const struct tls_session *s,
                          const struct ev_sample *at) {
  uint16_t v = s->version;
  ev_add_version(ep, at, EV_VERSION, v);
  if (s->sh.downgrade[0])
    ev_add_name(ep, at, EV_SENTINEL, s->sh.downgrade);
  if (!s->has_client_hello || v == TLS_VERSION_SSL2)
    return;
  uint16_t offered = client_max_version(&s->ch);
  bool dtls = (v >> 8) == 0xfe; /* DTLS versions: major byte 0xfe (RFC 6347 4.1) */
  if (dtls)
    return;
  if (offered >= TLS_VERSION_TLS13 && v < TLS_VERSION_TLS13 &&
      strcmp(s->sh.downgrade, "DOWNGRD01") != 0)
    ev_add(ep, at, EV_TLS13_REFUSED, NULL);
  if (offered >= TLS_VERSION_TLS12 && v < TLS_VERSION_TLS12 && !s->sh.downgrade[0])
    ev_add(ep, at, EV_TLS12_REFUSED, NULL);
  if (offered >= TLS_VERSION_TLS10 && v == TLS_VERSION_SSL3 && !s->sh.downgrade[0])
    ev_add(ep, at, EV_SSL3_FOR_TLS_CLIENT, NULL);
  if (s->ch.fallback_scsv)
    ev_add_version(ep, at, EV_SCSV_ACCEPTED, v);
}

static void kex_facts(struct ev_endpoint *ep, const struct tls_session *s,
                      const struct ev_sample *at) {
  const struct tls_kex *k = &s->kex;
  struct ev_sample kat = *at;
  if (k->present && k->at.frame)
    kat.frame = k->at.frame;
  if (k->is_dh) {
    ev_add_number(ep, &kat, EV_KX_DH, (uint64_t)k->dh_bits); /* never negative */
    if (k->dh_group)
      ev_add_name(ep, &kat, EV_KX_DH_GROUP, k->dh_group);
  }
  if (k->is_ecdh && k->curve) {
    const char *g = tls_group_name(k->curve);
    ev_add(ep, &kat, EV_KX_ECDH,
           &(struct ev_args){.name = g ? g : "unknown", .number = tls_group_bits(k->curve)});
  }
  if (k->is_rsa)
    ev_add_number(ep, &kat, EV_KX_RSA_EXPORT, (uint64_t)k->rsa_bits); /* never negative */
  uint16_t g13 = s->sh.key_share_group;
  if (version_is_tls13(s->version) && g13) {
    const char *g = tls_group_name(g13);
    unsigned bits = tls_group_bits(g13);
    if (g13 >= 0x0100 && g13 <= 0x0104) /* ffdhe: a DH group by size */
      ev_add_number(ep, at, EV_KX_DH, bits);
    else
      ev_add(ep, at, EV_KX_ECDH, &(struct ev_args){.name = g ? g : "unknown", .number = bits});
  }
}

static void reneg_facts(struct ev_endpoint *ep, const struct tls_session *s,
                        const struct ev_sample *at) {
  if (version_is_tls13(s->version) || s->version == TLS_VERSION_SSL2)
    return; /* no renegotiation in TLS 1.3 (RFC 8446 4.1.2) */
  if (s->secure_reneg)
    ev_add(ep, at, EV_RENEG_SECURE, NULL);
  else if (s->has_client_hello && (s->ch.reneg_info || s->ch.empty_reneg_scsv))
    ev_add(ep, at, EV_RENEG_MISSING, NULL);
  if (s->renegotiations && !s->secure_reneg)
    ev_add(ep, at, EV_RENEG_INSECURE_ATTEMPT, NULL);
}

static void heartbeat_facts(struct ev_endpoint *ep, const struct tls_session *s,
                            const struct ev_sample *at) {
  if (s->sh.heartbeat)
    ev_add(ep, at, EV_HEARTBEAT_EXTENSION, NULL);
  size_t request = 0;
  for (size_t i = 0; i < s->n_heartbeats; i++)
    if (s->heartbeats[i].dir == FLOW_C2S && s->heartbeats[i].record_length > request)
      request = s->heartbeats[i].record_length;
  /* RFC 6520 4: a response echoes the request's payload; one much longer
   * than any request leaked memory (CVE-2014-0160). */
  for (size_t i = 0; i < s->n_heartbeats; i++) {
    const struct tls_heartbeat *h = &s->heartbeats[i];
    if (h->dir == FLOW_S2C && request && h->record_length > request + 64) {
      struct ev_sample hat = {at->file, h->at.frame, h->at.ts, at->aborted};
      ev_add(ep, &hat, EV_HEARTBEAT_OVERLONG, NULL);
      break;
    }
  }
}

/* A fatal alert before any ServerHello refused what the hello offered. */
static void refusal_facts(struct ev_endpoint *ep, const struct tls_session *s,
                          const struct ev_sample *at) {
  if (s->has_server_hello || !s->has_client_hello)
    return;
  for (size_t i = 0; i < s->n_alerts; i++) {
    const struct tls_alert *a = &s->alerts[i];
    if (a->dir != FLOW_S2C || a->encrypted || a->level != 2)
      continue;
    struct ev_sample aat = {at->file, a->at.frame, a->at.ts, false};
    if (a->desc == 86 && s->ch.fallback_scsv)
      ev_add(ep, &aat, EV_SCSV_REFUSED_FALLBACK, NULL);
    const char *name = tls_alert_name(a->desc);
    ev_add(ep, &aat, EV_REFUSED,
           &(struct ev_args){.version = client_max_version(&s->ch), .name = name ? name : "alert"});
    return;
  }
}

static void server_facts(struct ev_endpoint *ep, const struct tls_session *s,
                         const struct ev_conn *c, const struct ev_sample *at) {
  ev_add(ep, at, EV_SERVER_HELLO, NULL);
  version_facts(ep, s, at);
  suite_facts(ep, s, at);
  kex_facts(ep, s, at);
  reneg_facts(ep, s, at);
  heartbeat_facts(ep, s, at);
  if (s->sh.compression == 1)
    ev_add(ep, at, EV_COMPRESSION_DEFLATE, NULL);
  /* Ticketbleed (CVE-2016-9244, reference 2): a short client session id
   * answered by a 32-byte one that starts with it: the server echoed 32
   * bytes of its memory. */
  size_t n = s->ch.session_id.n;
  if (s->has_client_hello && n > 0 && n < 32 && s->sh.session_id.n == 32 &&
      memcmp(s->sh.session_id.p, s->ch.session_id.p, n) == 0)
    ev_add(ep, at, EV_TICKETBLEED_ECHO, NULL);
  if (s->resumed)
    ev_add(ep, at, EV_RESUMED, NULL);
  if (s->established)
    ev_add(ep, at, EV_ESTABLISHED, NULL);
  if (s->chain_len)
    ev_cert_facts(ep, s, c, at);
  else if (version_is_tls13(s->version) && !s->resumed)
    ev_add(ep, at, EV_TLS13_CERT_HIDDEN, NULL);
  if (s->ocsp_stapled) {
    struct ev_sample oat = {at->file, s->ocsp_at.frame, s->ocsp_at.ts, at->aborted};
    ev_add(ep, &oat, EV_OCSP_STAPLED, NULL);
    if (s->ocsp_cert_status == 0)
      ev_add(ep, &oat, EV_OCSP_GOOD, NULL);
    else if (s->ocsp_cert_status == 1)
      ev_add(ep, &oat, EV_OCSP_REVOKED, NULL);
  }
}

/* The offer as a server sees it, written out for hashing: every list a
 * server may choose from or by, GREASE left out (RFC 8701: a client draws
 * new values at each connection, and servers ignore them).  Each list is
 * tagged and counted, so that no two offers write the same bytes. */
struct offer_text {
  EVP_MD_CTX *md;
  uint8_t bytes[512]; /* hashed when full */
  size_t n;
  bool failed;
};

static void put_u16(struct offer_text *t, uint16_t v) {
  if (t->n + 2 > sizeof(t->bytes)) {
    t->failed = t->failed || !EVP_DigestUpdate(t->md, t->bytes, t->n);
    t->n = 0;
  }
  t->bytes[t->n++] = (uint8_t)(v >> 8);
  t->bytes[t->n++] = (uint8_t)v;
}

static void put_list(struct offer_text *t, uint16_t tag, const uint16_t *v, size_t n) {
  size_t kept = 0;
  for (size_t i = 0; i < n; i++)
    kept += !tls_is_grease(v[i]);
  put_u16(t, tag);
  put_u16(t, (uint16_t)(kept > UINT16_MAX ? UINT16_MAX : kept));
  for (size_t i = 0; i < n; i++)
    if (!tls_is_grease(v[i]))
      put_u16(t, v[i]);
}

static void put_bytes(struct offer_text *t, uint16_t tag, const uint8_t *p, size_t n) {
  put_u16(t, tag);
  put_u16(t, (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n));
  for (size_t i = 0; i < n; i++)
    put_u16(t, p[i]);
}

static int by_value(const void *a, const void *b) {
  uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
  return (x > y) - (x < y);
}

/* A digest of the whole offer (hex, 32 digits: 128 bits of SHA-256):
 * versions (legacy and supported_versions), suites, compression,
 * extensions (as a set: some clients shuffle their order), groups, key
 * shares, signature algorithms, point formats and ALPN.  JA3 leaves out
 * supported_versions, key shares and signature algorithms, and two offers
 * that differ there may rightly get different answers. */
static bool offer_digest(const struct tls_client_hello *ch, char hex[33]) {
  struct offer_text t = {.md = EVP_MD_CTX_new()};
  uint16_t *exts = calloc(ch->extensions.n + 1, sizeof(*exts));
  if (!t.md || !exts || !EVP_DigestInit_ex(t.md, tls_sha256(), NULL)) { /* NULL: no SHA-256 */
    EVP_MD_CTX_free(t.md);
    free(exts);
    return false;
  }
  put_u16(&t, ch->sslv2_format);
  put_u16(&t, ch->legacy_version);
  put_list(&t, 1, ch->versions.v, ch->versions.n);
  put_list(&t, 2, ch->ciphers.v, ch->ciphers.n);
  put_u16(&t, 3);
  put_u16(&t, (uint16_t)(ch->n_sslv2_ciphers > UINT16_MAX ? UINT16_MAX : ch->n_sslv2_ciphers));
  for (size_t i = 0; i < ch->n_sslv2_ciphers; i++) {
    put_u16(&t, (uint16_t)(ch->sslv2_ciphers[i] >> 16));
    put_u16(&t, (uint16_t)ch->sslv2_ciphers[i]);
  }
  put_bytes(&t, 4, ch->compression.p, ch->compression.n);
  if (ch->extensions.n)
    memcpy(exts, ch->extensions.v, ch->extensions.n * sizeof(*exts));
  qsort(exts, ch->extensions.n, sizeof(*exts), by_value);
  put_list(&t, 5, exts, ch->extensions.n);
  put_list(&t, 6, ch->groups.v, ch->groups.n);
  put_list(&t, 7, ch->key_share_groups.v, ch->key_share_groups.n);
  put_list(&t, 8, ch->sig_algs.v, ch->sig_algs.n);
  put_bytes(&t, 9, ch->ec_point_formats.p, ch->ec_point_formats.n);
  for (size_t i = 0; i < ch->n_alpn; i++)
    put_bytes(&t, 10, ch->alpn[i].p, ch->alpn[i].n);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  bool ok = !t.failed && EVP_DigestUpdate(t.md, t.bytes, t.n) &&
            EVP_DigestFinal_ex(t.md, md, &md_len) && md_len >= 16;
  if (ok)
    hex_encode(hex, md, 16);
  EVP_MD_CTX_free(t.md);
  free(exts);
  return ok;
}

/* What this very offer (offer_digest) was answered: the same offer
 * answered differently later shows that the server's configuration
 * changed (score.c).  Different offers prove nothing: a server preferring
 * AES still gives RC4 to a client offering only RC4.  A resumption keeps
 * the suite of its session, so it is left out. */
static void answer_fact(struct ev_endpoint *ep, const struct tls_session *s, const char *file) {
  char offer[33];
  if (!s->has_client_hello || s->resumed || !offer_digest(&s->ch, offer))
    return;
  if (s->has_server_hello) {
    struct ev_sample sat = {(char *)file, s->sh.at.frame, s->sh.at.ts, false};
    ev_add(ep, &sat, EV_ANSWER,
           &(struct ev_args){.name = offer, .version = s->version, .number = s->sh.cipher});
    return;
  }
  for (size_t i = 0; i < s->n_alerts; i++) {
    const struct tls_alert *a = &s->alerts[i];
    if (a->dir == FLOW_S2C && !a->encrypted && a->level == 2) {
      struct ev_sample aat = {(char *)file, a->at.frame, a->at.ts, false};
      ev_add(ep, &aat, EV_ANSWER, &(struct ev_args){.name = offer, .number = EV_ANSWER_REFUSED});
      return;
    }
  }
}

/* RFC 7469 2.6 and 4.3: a pin set is valid when some pin names a key of
 * the chain and some other pin does not (the backup).  The chain is the
 * one the server sent: a pinned root it does not send is not seen. */
static const char *pins_against_chain(const struct tls_session *s, const struct http_pkp *pkp) {
  bool match = false, backup = pkp->pins_dropped > 0;
  for (size_t i = 0; i < pkp->n_pins; i++) {
    char hex[65];
    hex_encode(hex, pkp->pins[i], 32);
    bool in_chain = false;
    for (size_t j = 0; j < s->chain_len; j++)
      in_chain = in_chain || strcmp(s->chain[j]->spki_sha256, hex) == 0;
    match = match || in_chain;
    backup = backup || !in_chain;
  }
  return !match ? "no_pin_matches_chain" : !backup ? "no_backup_pin" : NULL;
}

/* What decryption with a key log showed: its outcome, and the security
 * headers of every HTTP response read (each fact at the response's frame). */
static void https_facts(struct ev_endpoint *ep, const struct tls_session *s, const char *file) {
  const struct tls_decryption *d = &s->decryption;
  if (d->status == TLS_DECRYPT_OK) {
    struct ev_sample at = {(char *)file, s->sh.at.frame, s->sh.at.ts, false};
    ev_add(ep, &at, EV_DECRYPT_OK, NULL);
  } else if (d->status == TLS_DECRYPT_FAILED) {
    struct ev_sample at = {(char *)file, d->failed_at.frame, d->failed_at.ts, false};
    ev_add(ep, &at, EV_DECRYPT_FAILED, NULL);
  } else if (d->status == TLS_DECRYPT_NO_KEYS) {
    struct ev_sample at = {(char *)file, s->sh.at.frame, s->sh.at.ts, false};
    ev_add(ep, &at, EV_DECRYPT_NO_KEYS, NULL);
  }
  for (size_t i = 0; s->https && i < s->https->n; i++) {
    const struct tls_http_response *r = &s->https->r[i];
    struct ev_sample at = {(char *)file, r->at.frame, r->at.ts, false};
    ev_add(ep, &at, EV_HTTPS_RESPONSE, NULL);
    if (!r->has_sts) {
      ev_add(ep, &at, EV_HSTS_ABSENT, NULL);
    } else if (!r->sts_parsed.valid) {
      ev_add_name(ep, &at, EV_HSTS_INVALID, r->sts_parsed.invalid);
    } else {
      ev_add_number(ep, &at, EV_HSTS_MAX_AGE, r->sts_parsed.max_age);
      if (r->sts_parsed.include_subdomains)
        ev_add(ep, &at, EV_HSTS_INCLUDE_SUBDOMAINS, NULL);
      if (r->sts_parsed.preload)
        ev_add(ep, &at, EV_HSTS_PRELOAD, NULL);
    }
    if (!r->has_pkp)
      continue;
    const char *bad = r->pkp_parsed.invalid;
    if (!bad && s->chain_len)
      bad = pins_against_chain(s, &r->pkp_parsed);
    if (bad)
      ev_add_name(ep, &at, EV_HPKP_INVALID, bad);
    else
      ev_add(ep, &at, s->chain_len ? EV_HPKP_VALID : EV_HPKP_UNVERIFIED, NULL);
  }
}

/* A session's frame as a sample (outside aborted handshakes). */
static struct ev_sample sample_of(const struct tls_at *at, const struct ev_conn *c) {
  const char *file = at->file_index < c->n_files ? c->files[at->file_index] : "";
  return (struct ev_sample){(char *)file, at->frame, at->ts, false};
}

/* A server flight without a client side (tls_session_unverified): no
 * endpoint is graded from it; its address is noted as unverified, at the
 * first of its messages. */
static void unverified_facts(struct ev_store *ev, const struct tls_session *s,
                             const struct ev_conn *c) {
  static const struct tls_at none;
  const struct tls_at *msgs[] = {&s->sh.at,   &s->chain_at,
                                 &s->kex.at,  s->cert_request ? &s->cert_request->at : &none,
                                 &s->ocsp_at, &s->ticket_at};
  const struct tls_at *first = msgs[0];
  for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
    if (msgs[i]->frame && (!first->frame || msgs[i]->ts < first->ts))
      first = msgs[i];
  struct ev_endpoint *ep = ev_endpoint_get(ev, "-", c->server_ip, c->server_port);
  struct ev_sample at = sample_of(first, c);
  if (ep)
    ev_add(ep, &at, EV_UNVERIFIED, NULL);
}

/* The endpoint a session's ClientHello names: its SNI (or "-"), the
 * server's address and port; answered: the session gives more than its
 * ClientHello (the endpoint cap's classes). */
static struct ev_endpoint *hello_endpoint(struct ev_store *ev, const struct tls_session *s,
                                          const struct ev_conn *c, bool answered) {
  char *host = NULL;
  if (s->ch.sni.n) {
    bool replaced;
    host = report_utf8(s->ch.sni.p, s->ch.sni.n, &replaced);
  }
  struct ev_endpoint *ep =
      ev_endpoint_for(ev, host ? host : "-", c->server_ip, c->server_port, answered);
  free(host);
  return ep;
}

/* What the server would have said was evicted with the flow: its
 * ClientHello proves nothing of the server, and neither a refusal nor
 * silence may be read from it.  The endpoint (SNI, address, port) learns
 * that it was seen and evicted, so that the report says so instead of
 * "never answered". */
void ev_add_evicted(struct ev_store *ev, const struct tls_session *s, const struct ev_conn *c) {
  struct ev_endpoint *ep = hello_endpoint(ev, s, c, false);
  ev_clients_add(ev, s, c, NULL);
  if (!ep)
    return;
  struct ev_sample at = sample_of(&s->ch.at, c);
  ev_add(ep, &at, EV_HANDSHAKES, NULL);
  ev_add(ep, &at, EV_EVICTED_UNANSWERED, NULL);
}

/* Does s give its endpoint more than HANDSHAKES?  Exactly when one of
 * the facts ev_add_session notes beside it will be: a violation, a
 * ServerHello, a refusal (refusal_facts: a clear fatal alert from the
 * server), a malformed part, decryption or HTTP from a key log. */
static bool session_answered(const struct tls_session *s) {
  if (s->violation || s->has_server_hello || s->malformed ||
      s->decryption.status == TLS_DECRYPT_OK || s->decryption.status == TLS_DECRYPT_FAILED ||
      (s->https && s->https->n))
    return true;
  for (size_t i = 0; i < s->n_alerts; i++) {
    const struct tls_alert *a = &s->alerts[i];
    if (a->dir == FLOW_S2C && !a->encrypted && a->level == 2)
      return true;
  }
  return false;
}

/* What a session proves (README "What counts as evidence"): nothing when
 * it has no ClientHello (an unverified flight) or its server's hello did
 * not answer it (a violation, noted); when the client aborted the
 * handshake, facts that may fail checks but pass none. */
void ev_add_session(struct ev_store *ev, const struct tls_session *s, const struct ev_conn *c) {
  if (!s->is_tls || !s->has_client_hello) {
    if (tls_session_unverified(s))
      unverified_facts(ev, s, c);
    return;
  }
  struct ev_endpoint *ep = hello_endpoint(ev, s, c, session_answered(s));
  ev_clients_add(ev, s, c, ep); /* the client inventory, whatever the endpoint cap did */
  if (!ep)
    return; /* at the endpoint cap (counted), or out of memory */
  struct ev_sample at = sample_of(&s->ch.at, c);
  const char *file = at.file;
  ev_add(ep, &at, EV_HANDSHAKES, NULL);
  if (s->violation) {
    struct ev_sample vat = sample_of(&s->violation_at, c);
    ev_add_name(ep, &vat, EV_VIOLATION, s->violation);
    return;
  }
  const struct tls_alert *abort = tls_session_client_abort(s);
  if (s->has_server_hello) {
    struct ev_sample sat = {(char *)file, s->sh.at.frame, s->sh.at.ts, abort != NULL};
    if (abort) {
      const char *name = tls_alert_name(abort->desc);
      struct ev_sample aat = sample_of(&abort->at, c);
      ev_add_name(ep, &aat, EV_ABORTED, name ? name : "alert");
    }
    server_facts(ep, s, c, &sat);
    ev_pq_facts(ep, s, &sat);
    if (s->chain_len)
      ev_chain_notes(ev, ep, s, c, &sat);
  } else {
    refusal_facts(ep, s, &at);
  }
  ev_ech_facts(ep, s, c, &at);
  answer_fact(ep, s, file);
  https_facts(ep, s, file);
  if (s->malformed)
    ev_add_name(ep, &at, EV_MALFORMED, s->malformed);
}

/* Clear-text HTTP: what a visitor of http://HOST got.  Kept on the HTTP
 * endpoint (host, ip, port); the TLS endpoints of the same host and
 * address learn it in ev_derive_facts. */
void ev_add_http(struct ev_store *ev, const struct http_facts *h, const struct ev_conn *c) {
  if (!h->responses || !h->host[0])
    return;
  bool replaced;
  char *host = report_utf8((const uint8_t *)h->host, strlen(h->host), &replaced);
  struct ev_endpoint *ep = host ? ev_endpoint_get(ev, host, c->server_ip, c->server_port) : NULL;
  free(host);
  if (!ep)
    return;
  const char *file = h->at.file_index < c->n_files ? c->files[h->at.file_index] : "";
  struct ev_sample at = {(char *)file, h->at.frame, h->at.ts, false};
  if (h->redirect_https)
    ev_add(ep, &at, EV_HTTP_REDIRECT_HTTPS, NULL);
  else
    ev_add(ep, &at, EV_HTTP_NO_REDIRECT, &(struct ev_args){.number = (uint64_t)(int64_t)h->status});
}
