/*
 * grade/checks.c - one check per rule of the rating guide
 * (grading-reference.md section 2), each pass, fail or unknown from the
 * endpoint's facts.  Unknown is honest: a passive observer sees only what
 * clients negotiated.  A fail comes only from a proven fact.
 */
#include "grade/checks.h"
#include "grade/distrust.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fact lists for check_table.h: a family (fact_table.h's id without EV_)
 * and what its argument must be; versions by dissect's names (SSL3,
 * TLS12, ...). */
#define FACTS(...) ((const struct fact_match[]){__VA_ARGS__, {.id = EV_N_FACTS}})
#define NEVER ((const struct fact_match[]){{.id = EV_N_FACTS}})
#define ANY(family)                                                                                \
  { .id = EV_##family, .test = ARG_ANY }
#define VERSIONS(family, lo, hi)                                                                   \
  {                                                                                                \
    .id = EV_##family, .test = ARG_VERSIONS, .version_lo = TLS_VERSION_##lo,                       \
    .version_hi = TLS_VERSION_##hi                                                                 \
  }
#define VERSION_IS(family, v) VERSIONS(family, v, v)
/* A version that has a name: one without ("unknown") is 0 in the fact. */
#define NAMED_VERSION(family)                                                                      \
  { .id = EV_##family, .test = ARG_VERSIONS, .version_lo = 1, .version_hi = UINT16_MAX }
#define NUMBER_IS(family, n)                                                                       \
  { .id = EV_##family, .test = ARG_NUMBER_IS, .number = (n) }
#define NAME_IS(family, s)                                                                         \
  { .id = EV_##family, .test = ARG_NAME_IS, .name = (s) }

/* Does f's typed argument pass m's test?  (f is of m's family.) */
static bool argument_fits(const struct ev_fact *f, const struct fact_match *m) {
  switch (m->test) {
  case ARG_ANY:
    return true;
  case ARG_VERSIONS:
    return f->typed.version >= m->version_lo && f->typed.version <= m->version_hi;
  case ARG_NUMBER_IS:
    return f->typed.number == m->number;
  case ARG_NAME_IS:
    return ev_fact_name_is(f, m->name);
  }
  return false;
}

/* The first fact (in key order) that m selects, NULL none; `accepted`:
 * only a fact seen outside aborted handshakes (ev_fact_accepted). */
static const struct ev_fact *first_match(const struct ev_endpoint *ep, const struct fact_match *m,
                                         bool accepted) {
  if (ev_fact_kind(m->id) == EV_ARG_NONE) {
    const struct ev_fact *f = ev_find_id(ep, m->id, NULL); /* one key: the family's */
    return f && (!accepted || ev_fact_accepted(f)) ? f : NULL;
  }
  size_t n;
  const struct ev_fact *const *facts = ev_facts_of(ep, m->id, &n);
  for (size_t i = 0; i < n; i++)
    if (facts[i]->typed.id == m->id && argument_fits(facts[i], m) &&
        (!accepted || ev_fact_accepted(facts[i])))
      return facts[i];
  return NULL;
}

/* The fact that the first entry of `list` to select any selects first:
 * a list is in the order of the evidence a check prefers. */
static const struct ev_fact *select_first(const struct ev_endpoint *ep,
                                          const struct fact_match *list, bool accepted) {
  for (; list && list->id != EV_N_FACTS; list++) {
    const struct ev_fact *f = first_match(ep, list, accepted);
    if (f)
      return f;
  }
  return NULL;
}

/* Any fact may fail a check... */
static const struct ev_fact *any(const struct ev_endpoint *ep, const struct fact_match *list) {
  return select_first(ep, list, false);
}

/* ...but only one seen outside aborted handshakes may pass it. */
static const struct ev_fact *any_accepted(const struct ev_endpoint *ep,
                                          const struct fact_match *list) {
  return select_first(ep, list, true);
}

static const struct ev_fact *accepted_or_null(const struct ev_fact *f) {
  return f && ev_fact_accepted(f) ? f : NULL;
}

static void add_evidence(struct check_result *c, const struct ev_fact *f) {
  if (f && c->n_evidence < sizeof(c->evidence) / sizeof(c->evidence[0]))
    c->evidence[c->n_evidence++] = f;
}

static void decide(struct check_result *c, enum check_status st, const struct ev_fact *f,
                   const char *reason) {
  c->status = st;
  c->reason = reason;
  add_evidence(c, f);
}

/* The common shape: fail on any fail-fact, else pass on any pass-fact. */
static void generic(const struct check_def *d, const struct ev_endpoint *ep,
                    struct check_result *c) {
  const struct ev_fact *f = any(ep, d->fail_facts);
  if (f) {
    decide(c, CHECK_FAIL, f, d->fail_reason);
    return;
  }
  f = any_accepted(ep, d->pass_facts);
  if (f)
    decide(c, CHECK_PASS, f, d->pass_reason);
  else
    c->reason = d->unknown_reason;
}

/* SSL 3.0 is the best version: SSLv3 chosen for TLS clients, nothing better. */
static void eval_ssl3_only(const struct check_def *d, const struct ev_endpoint *ep,
                           struct check_result *c) {
  const struct ev_fact *better =
      any_accepted(ep, FACTS(VERSIONS(VERSION, TLS10, TLS13), ANY(SENTINEL)));
  const struct ev_fact *f = ev_find_id(ep, EV_SSL3_FOR_TLS_CLIENT, NULL);
  if (f && !better)
    decide(c, CHECK_FAIL, f, d->fail_reason);
  else if (better)
    decide(c, CHECK_PASS, better, d->pass_reason);
  else
    c->reason = d->unknown_reason;
}

/* RC4 only: every negotiated suite RC4 though clients offered others. */
static void eval_rc4_only(const struct check_def *d, const struct ev_endpoint *ep,
                          struct check_result *c) {
  const struct ev_fact *other = accepted_or_null(ev_find_id(ep, EV_NON_RC4, NULL));
  const struct ev_fact *f = ev_find_id(ep, EV_RC4_DESPITE_ALTERNATIVES, NULL);
  if (f && !other)
    decide(c, CHECK_FAIL, f, d->fail_reason);
  else if (other)
    decide(c, CHECK_PASS, other, d->pass_reason);
  else
    c->reason = d->unknown_reason;
}

/* Refusal of a version wins only when that version was never negotiated. */
static void eval_proven_or_sentinel(const struct check_def *d, const struct ev_endpoint *ep,
                                    struct check_result *c) {
  const struct ev_fact *pass = any_accepted(ep, d->pass_facts);
  const struct ev_fact *fail = any(ep, d->fail_facts);
  if (pass)
    decide(c, CHECK_PASS, pass, d->pass_reason);
  else if (fail)
    decide(c, CHECK_FAIL, fail, d->fail_reason);
  else
    c->reason = d->unknown_reason;
}

/* Did the server accept the key exchange a passed_over fact names: the
 * group (kx:ecdh of that group) or DH parameters ("dhe": any kx:dh), in
 * any handshake?  secp256r1 is acceptable to every server: RFC 8446 9.1
 * makes it mandatory, and it is the one curve every ECDHE stack has (a
 * server without ECDHE at all is what no_fs is about).  The answer is the
 * fact that proves it (over itself for secp256r1). */
static const struct ev_fact *accepted(const struct ev_endpoint *ep, const struct ev_fact *over,
                                      const char *cond, size_t len) {
  if (len == 3 && memcmp(cond, "dhe", 3) == 0)
    return ev_first_of(ep, EV_KX_DH);
  if (len == 9 && memcmp(cond, "secp256r1", 9) == 0)
    return over;
  size_t n;
  const struct ev_fact *const *kx = ev_facts_of(ep, EV_KX_ECDH, &n);
  for (size_t i = 0; i < n; i++)
    if (kx[i]->typed.id == EV_KX_ECDH && kx[i]->typed.name_len == len &&
        memcmp(ev_fact_name(kx[i]), cond, len) == 0)
      return kx[i];
  return NULL;
}

/* Suites every stack that offers forward secrecy (AEAD) at all enables:
 * ECDHE with AES-GCM, AES-CBC or ChaCha20-Poly1305 (AES-GCM or
 * ChaCha20-Poly1305 with any key exchange).  A server that never gives
 * forward secrecy (AEAD) and passes over one of them is without it, as
 * SSL Labs' browser simulation would find; a rarer suite (ARIA, CCM,
 * Camellia, DHE) passed over proves nothing, since the server may simply
 * not have it. */
static bool baseline_suite(const char *name, size_t len, bool fs) {
  static const char *const ciphers[] = {"_AES_128_GCM_", "_AES_256_GCM_", "_CHACHA20_POLY1305_",
                                        "_AES_128_CBC_", "_AES_256_CBC_"};
  char s[128];
  if (len >= sizeof s)
    return false;
  memcpy(s, name, len);
  s[len] = '\0';
  if (fs && strncmp(s, "TLS_ECDHE_", 10) != 0)
    return false;
  for (size_t i = 0; i < (fs ? 5u : 3u); i++)
    if (strstr(s, ciphers[i]))
      return true;
  return false;
}

/* The suite:NAME fact of a suite negotiated at ep, NULL when none: the
 * proof that the server has that suite enabled.  suite ends its fact's
 * key, so it is NUL-terminated (ev_fact_name). */
static const struct ev_fact *negotiated(const struct ev_endpoint *ep, const char *suite) {
  return ev_find_id(ep, EV_SUITE, &(const struct ev_args){.name = suite});
}

/* Forward secrecy, AEAD: fail when the server passed over a suite of the
 * kind that the client listed before the one chosen and that the server
 * could use (fail_facts: the proven family, then the family proven once
 * the server is seen accepting its group or DH); else pass when given. */
static void eval_passed_over(const struct check_def *d, const struct ev_endpoint *ep,
                             struct check_result *c) {
  size_t n;
  bool fs = d->fail_facts[0].id == EV_FS_REFUSED;
  /* Failed without the suite seen negotiated (baseline_suite): say so. */
  const char *without =
      fs ? "no client got forward secrecy, though one listed first an ECDHE suite every server "
           "with forward secrecy enables"
         : "no client got an AEAD suite, though one listed first an AES-GCM or ChaCha20 suite "
           "every server with AEAD enables";
  bool never_given = ev_first_of(ep, d->pass_facts[0].id) == NULL;
  const struct ev_fact *const *refused = ev_facts_of(ep, d->fail_facts[0].id, &n);
  for (size_t i = 0; i < n; i++) {
    if (refused[i]->typed.id != d->fail_facts[0].id)
      continue;
    const char *suite = ev_fact_name(refused[i]);
    size_t len = refused[i]->typed.name_len;
    const struct ev_fact *has = negotiated(ep, suite);
    if (has || (never_given && baseline_suite(suite, len, fs))) {
      decide(c, CHECK_FAIL, refused[i], has ? d->fail_reason : without);
      if (has)
        add_evidence(c, has);
      return;
    }
  }
  const struct ev_fact *const *over = ev_facts_of(ep, d->fail_facts[1].id, &n);
  for (size_t i = 0; i < n; i++) {
    if (over[i]->typed.id != d->fail_facts[1].id)
      continue;
    const char *name = ev_fact_name(over[i]);
    const char *colon = memchr(name, ':', over[i]->typed.name_len);
    if (!colon)
      continue;
    size_t cond_len = (size_t)(colon - name);
    const struct ev_fact *kx = accepted(ep, over[i], name, cond_len);
    size_t suite_len = over[i]->typed.name_len - cond_len - 1;
    const struct ev_fact *has = kx ? negotiated(ep, colon + 1) : NULL;
    if (has || (kx && never_given && baseline_suite(colon + 1, suite_len, fs))) {
      decide(c, CHECK_FAIL, over[i], has ? d->fail_reason : without);
      if (kx != over[i])
        add_evidence(c, kx);
      if (has)
        add_evidence(c, has);
      return;
    }
  }
  generic(&(struct check_def){.pass_facts = d->pass_facts,
                              .pass_reason = d->pass_reason,
                              .unknown_reason = d->unknown_reason},
          ep, c);
}

/* A kind of key: a family whose number is bits, and for cert_key the key
 * type its name says (NULL: any). */
struct key_kind {
  enum ev_fact_id fact;
  const char *type;
};

/* Smallest key of a kind (in key order, the first of equals), -1 when
 * none. */
static int min_bits(const struct ev_endpoint *ep, struct key_kind kind,
                    const struct ev_fact **which) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_of(ep, kind.fact, &n);
  int best = -1;
  for (size_t i = 0; i < n; i++) {
    const struct ev_fact *f = facts[i];
    if (f->typed.id != kind.fact || (kind.type && !ev_fact_name_is(f, kind.type)))
      continue;
    int bits = f->typed.number > INT_MAX ? INT_MAX : (int)f->typed.number;
    if (best < 0 || bits < best) {
      best = bits;
      *which = f;
    }
  }
  return best;
}

static int weakest_key(const struct ev_endpoint *ep, const struct ev_fact **which,
                       bool with_export);

/* RSA-equivalent strength of the weakest key protecting a handshake. */
int checks_weakest_key(const struct ev_endpoint *ep, const struct ev_fact **which) {
  return weakest_key(ep, which, true);
}

/* with_export: count the temporary RSA key of export suites (FREAK) too;
 * key_weak speaks of certificate keys and DH groups only (reference 2). */
static int weakest_key(const struct ev_endpoint *ep, const struct ev_fact **which,
                       bool with_export) {
  static const struct key_kind finite_field[] = {{EV_CERT_KEY_TYPE, "rsa"},
                                                 {EV_CERT_KEY_TYPE, "dsa"},
                                                 {EV_KX_DH, NULL},
                                                 {EV_KX_RSA_EXPORT, NULL}};
  int weakest = -1;
  size_t n_finite = sizeof(finite_field) / sizeof(finite_field[0]) - (with_export ? 0 : 1);
  for (size_t i = 0; i < n_finite; i++) {
    const struct ev_fact *f = NULL;
    int bits = min_bits(ep, finite_field[i], &f);
    if (bits >= 0 && (weakest < 0 || bits < weakest))
      weakest = bits, *which = f;
  }
  static const struct key_kind elliptic[] = {{EV_CERT_KEY_TYPE, "ec"},
                                             {EV_CERT_KEY_TYPE, "ed25519"},
                                             {EV_CERT_KEY_TYPE, "ed448"},
                                             {EV_KX_ECDH, NULL}};
  for (size_t i = 0; i < sizeof(elliptic) / sizeof(elliptic[0]); i++) {
    const struct ev_fact *f = NULL;
    int bits = min_bits(ep, elliptic[i], &f);
    if (bits <= 0)
      continue;
    /* NIST SP 800-57 part 1 table 2: 160 -> 1024, 224 -> 2048, 256 -> 3072,
     * 384 -> 7680 (grading-reference.md 1, unconfirmed mapping). */
    int rsa = bits < 160 ? 512 : bits < 224 ? 1024 : bits < 256 ? 2048 : bits < 384 ? 3072 : 7680;
    if (weakest < 0 || rsa < weakest)
      weakest = rsa, *which = f;
  }
  return weakest;
}

static void eval_key(const struct check_def *d, const struct ev_endpoint *ep,
                     struct check_result *c) {
  const struct ev_fact *f = NULL;
  int bits = weakest_key(ep, &f, d->threshold == 1024);
  const struct ev_fact *export_key = ev_first_of(ep, EV_KX_RSA_EXPORT);
  if (d->threshold == 1024 && export_key) {
    decide(c, CHECK_FAIL, export_key, "an export RSA key exchange (512-bit temporary key, FREAK)");
  } else if (bits < 0 || !any_accepted(ep, FACTS(ANY(CERT_KEY_TYPE))) || !ev_fact_accepted(f)) {
    if (bits >= 0 && bits < d->threshold)
      decide(c, CHECK_FAIL, f, d->fail_reason);
    else
      c->reason = d->unknown_reason;
  } else if (bits < d->threshold) {
    decide(c, CHECK_FAIL, f, d->fail_reason);
  } else {
    decide(c, CHECK_PASS, f, d->pass_reason);
  }
}

/* A check that needs an active probe: unknown unless the capture proves it. */
static void eval_active(const struct check_def *d, const struct ev_endpoint *ep,
                        struct check_result *c) {
  generic(d, ep, c);
  if (c->status == CHECK_PASS)
    c->status = CHECK_UNKNOWN; /* absence of proof is not proof */
}

/* DROWN: the key also speaks SSL 2.0 in the evidence, or the server's
 * address answers SSL 2.0 to hellos without SNI (which SSL 2.0 cannot
 * carry, address_facts.c): then the server speaks it itself, as the
 * endpoint that answered SSL 2.0 does. */
static void eval_drown(const struct check_def *d, const struct ev_endpoint *ep,
                       struct check_result *c) {
  eval_active(d, ep, c);
  if (c->status == CHECK_FAIL && c->evidence[0]->typed.id == EV_DERIVED_NO_SNI_VERSION)
    c->reason = "this server's address answers SSL 2.0 (hellos without SNI: SSL 2.0 cannot name "
                "a server), so its key speaks SSL 2.0";
}

/* Every verdict of chain verification (the "trust:" families). */
#define TRUST_VERDICTS                                                                             \
  FACTS(ANY(TRUST_OK), ANY(TRUST_OK_BUT_TIME), ANY(TRUST_UNTRUSTED), ANY(TRUST_EXPIRED),           \
        ANY(TRUST_NOT_YET_VALID), ANY(TRUST_SELF_SIGNED))

/* Why a certificate check is unknown when no leaf was read: TLS 1.3 hid
 * it (no key log opened it), or no certificate came at all. */
static const char *unseen_certificate(const struct check_def *d, const struct ev_endpoint *ep) {
  return ev_find_id(ep, EV_TLS13_CERT_HIDDEN, NULL)
             ? "TLS 1.3 encrypts the certificate: not visible without a key log"
             : d->unknown_reason;
}

/* Certificate checks: unknown says why (hidden by TLS 1.3, no trust
 * verdict to build on, or no certificate at all). */
static void eval_cert(const struct check_def *d, const struct ev_endpoint *ep,
                      struct check_result *c) {
  const struct ev_fact *fail = any(ep, d->fail_facts);
  const struct ev_fact *seen = any_accepted(ep, d->pass_facts);
  if (fail)
    decide(c, CHECK_FAIL, fail, d->fail_reason);
  else if (seen)
    decide(c, CHECK_PASS, seen, d->pass_reason);
  else if (ev_first_of(ep, EV_CERT_LEAF))
    c->reason = any(ep, TRUST_VERDICTS)
                    ? "not decidable: the chain does not verify to a trusted root"
                    : "not decidable: no trust store was loaded";
  else
    c->reason = unseen_certificate(d, ep);
}

/* The longest validity the CA/Browser Forum allows a TLS server
 * certificate issued on `date` (YYYY-MM-DD, its notBefore), in days:
 * Baseline Requirements 6.3.2 as amended by ballots SC22 (398 days from
 * 2020-09-01) and SC-081 (200 from 2026-03-15, 100 from 2027-03-15, 47
 * from 2029-03-15); 825 days from 2018-03-01 (ballot 193).  0: issued
 * before that, not judged. */
static unsigned lifetime_limit(const char *date) {
  static const struct {
    const char *from;
    unsigned days;
  } schedule[] = {{"2029-03-15", 47},
                  {"2027-03-15", 100},
                  {"2026-03-15", 200},
                  {"2020-09-01", 398},
                  {"2018-03-01", 825}};
  for (size_t i = 0; i < sizeof schedule / sizeof schedule[0]; i++)
    if (strncmp(date, schedule[i].from, 10) >= 0)
      return schedule[i].days;
  return 0;
}

/* cert_lifetime: every leaf seen against the schedule in force at its
 * notBefore; a leaf longer than that fails (its key names both dates). */
static void eval_cert_lifetime(const struct check_def *d, const struct ev_endpoint *ep,
                               struct check_result *c) {
  size_t n = 0;
  const struct ev_fact *const *f = ev_facts_with(ep, "cert_lifetime:", &n);
  const struct ev_fact *over = NULL, *within = NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned limit = lifetime_limit(ev_fact_name(f[i]));
    if (limit && f[i]->typed.number > limit && !over)
      over = f[i];
    else if (limit && f[i]->typed.number <= limit && ev_fact_accepted(f[i]) && !within)
      within = f[i];
  }
  if (over)
    decide(c, CHECK_FAIL, over, d->fail_reason);
  else if (within)
    decide(c, CHECK_PASS, within, d->pass_reason);
  else if (n)
    c->reason = "the leaf was issued before 2018-03-01: no maximum is judged";
  else
    c->reason = unseen_certificate(d, ep);
}

/* ct: the embedded SCTs of each leaf against Chrome's policy.  Too few
 * fail only where clients asked for SCTs in the handshake and got none
 * (ct:tls_none, never ct:tls_sent): SCTs may come that way instead. */
static void eval_ct(const struct check_def *d, const struct ev_endpoint *ep,
                    struct check_result *c) {
  size_t n = 0;
  const struct ev_fact *const *f = ev_facts_with(ep, "cert_ct:", &n);
  const struct ev_fact *few = NULL, *enough = NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned have, need;
    if (sscanf(ev_fact_name(f[i]), "%u/%u", &have, &need) != 2)
      continue;
    if (have < need && !few)
      few = f[i];
    else if (have >= need && ev_fact_accepted(f[i]) && !enough)
      enough = f[i];
  }
  const struct ev_fact *none = ev_first_of(ep, EV_CT_TLS_NONE);
  const struct ev_fact *sent = ev_first_of(ep, EV_CT_TLS_SENT);
  if (few && none && !sent)
    decide(c, CHECK_FAIL, few, d->fail_reason);
  else if (enough && !few)
    decide(c, CHECK_PASS, enough, d->pass_reason);
  else if (few && sent)
    c->reason = "too few embedded SCTs, but the server sends SCTs in the handshake (not counted)";
  else if (few)
    c->reason = "too few embedded SCTs; no TLS 1.0-1.2 client asked for SCTs in the handshake";
  else
    c->reason = unseen_certificate(d, ep);
}

/* Debian weak keys (reference 2, debian_key): decided only for keys whose
 * size has a list (--weak-keys); otherwise say which list was missing. */
static void eval_debian_key(const struct check_def *d, const struct ev_endpoint *ep,
                            struct check_result *c) {
  static const struct {
    int bits;
    const char *reason;
  } missing[] = {
#define MISSING(bits) {bits, "no weak-key list for RSA-" #bits " loaded; see --weak-keys"}
      MISSING(512),  MISSING(768),  MISSING(1024), MISSING(1536),
      MISSING(2048), MISSING(3072), MISSING(4096), MISSING(8192),
#undef MISSING
  };
  generic(d, ep, c);
  if (c->status != CHECK_UNKNOWN)
    return;
  const struct ev_fact *rsa = any(ep, FACTS(NAME_IS(CERT_KEY_TYPE, "rsa")));
  if (rsa) {
    c->reason = "no weak-key list for this RSA key size loaded; see --weak-keys";
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
      if ((uint64_t)missing[i].bits == rsa->typed.number)
        c->reason = missing[i].reason;
    add_evidence(c, rsa);
  } else if (ev_first_of(ep, EV_CERT_KEY_TYPE)) {
    c->reason = "the certificate key is not RSA: the weak-key lists hold RSA keys";
  } else if (ev_find_id(ep, EV_TLS13_CERT_HIDDEN, NULL)) {
    c->reason = unseen_certificate(d, ep);
  }
}

/* Distrusted CAs (reference 2, distrusted_ca): the reason names the event
 * (from grade/distrust.tsv); every event the chain fell under is evidence. */
static void eval_distrust(const struct check_def *d, const struct ev_endpoint *ep,
                          struct check_result *c) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_of(ep, EV_DISTRUST, &n);
  for (size_t i = 0; i < n; i++) {
    if (facts[i]->typed.id != EV_DISTRUST)
      continue;
    const struct distrust_event *event = distrust_event_by_id(ev_fact_name(facts[i]));
    if (c->status != CHECK_FAIL)
      decide(c, CHECK_FAIL, facts[i], event ? event->reason : d->fail_reason);
    else
      add_evidence(c, facts[i]);
  }
  if (c->status == CHECK_FAIL)
    return;
  const struct ev_fact *checked = accepted_or_null(ev_find_id(ep, EV_DISTRUST_CHECKED, NULL));
  if (checked)
    decide(c, CHECK_PASS, checked, d->pass_reason);
  else if (ev_first_of(ep, EV_CERT_LEAF))
    c->reason = ev_find_id(ep, EV_CERT_UNREADABLE, NULL)
                    ? "libcrypto could not read the certificate"
                    : "evidence saved before this check existed";
  else
    c->reason = unseen_certificate(d, ep);
}

/* Server preference (reference 4.2 item 6): proven when the server skipped
 * a client's first choice that it is known to support; client order is
 * only suggested when every handshake took the client's first suite. */
static void eval_preference(const struct check_def *d, const struct ev_endpoint *ep,
                            struct check_result *c) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_of(ep, EV_PREF_SKIPPED, &n);
  for (size_t i = 0; i < n; i++) {
    const struct ev_args suite = {.name = ev_fact_name(facts[i])};
    const struct ev_fact *supported = accepted_or_null(ev_find_id(ep, EV_SUITE, &suite));
    if (supported && ev_fact_accepted(facts[i])) {
      decide(c, CHECK_PASS, facts[i], d->pass_reason);
      add_evidence(c, supported);
      break;
    }
  }
  if (c->status == CHECK_UNKNOWN) {
    const struct ev_fact *first = ev_find_id(ep, EV_PREF_TOOK_FIRST, NULL);
    c->reason = first && !ev_first_of(ep, EV_PREF_SKIPPED)
                    ? "every handshake got the client's first suite: client order (weak)"
                    : d->unknown_reason;
    add_evidence(c, first);
  }
}

/* The longest RFC 6797 max-age seen (the first in key order of equals). */
static const struct ev_fact *longest_max_age(const struct ev_endpoint *ep,
                                             unsigned long long *age) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_of(ep, EV_HSTS_MAX_AGE, &n);
  const struct ev_fact *best = NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned long long v = facts[i]->typed.number;
    if (facts[i]->typed.id == EV_HSTS_MAX_AGE && (!best || v > *age))
      best = facts[i], *age = v;
  }
  return best;
}

/* Why HSTS is unknown: no key log, decryption failed, or the key log had
 * no secret for this server's connections. */
static const char *hsts_unknown_reason(const struct check_def *d, const struct ev_endpoint *ep) {
  if (ev_find_id(ep, EV_DECRYPT_FAILED, NULL) && !ev_find_id(ep, EV_DECRYPT_OK, NULL))
    return "decryption with the key log failed (its secrets do not match): HTTP not visible";
  if (ev_find_id(ep, EV_DECRYPT_OK, NULL))
    return "connections were decrypted, but no HTTP response was read";
  if (ev_find_id(ep, EV_DECRYPT_NO_KEYS, NULL))
    return "the key log given opened none of this server's connections (no secret for their "
           "client random): HTTP not visible";
  return d->unknown_reason;
}

/* A+ needs HSTS with max-age of at least six months (grading-reference
 * 3: LONG_MAX_AGE, 15552000 s).  Fail needs HTTP that was actually read:
 * a shorter max-age, an invalid header, or responses without one. */
static void eval_hsts(const struct check_def *d, const struct ev_endpoint *ep,
                      struct check_result *c) {
  unsigned long long age = 0;
  const struct ev_fact *longest = longest_max_age(ep, &age);
  const struct ev_fact *f;
  if (longest && age >= (unsigned long long)d->threshold && ev_fact_accepted(longest))
    decide(c, CHECK_PASS, longest, d->pass_reason);
  else if (longest && age >= (unsigned long long)d->threshold)
    c->reason = hsts_unknown_reason(d, ep);
  else if (longest)
    decide(c, CHECK_FAIL, longest, "HSTS max-age is shorter than six months (15552000 s)");
  else if ((f = ev_first_of(ep, EV_HSTS_INVALID)))
    decide(c, CHECK_FAIL, f, "the HSTS header is invalid: browsers ignore it");
  else if ((f = ev_find_id(ep, EV_HSTS_ABSENT, NULL)))
    decide(c, CHECK_FAIL, f, d->fail_reason);
  else
    c->reason = hsts_unknown_reason(d, ep);
}

/* HSTS present but unusable (reference 2 hsts_bad): max-age=0 (RFC 6797
 * 6.1.1: "cease to regard the host as a Known HSTS Host"), no max-age, or
 * not parsable.  Passes on a usable header, or on responses without one
 * (no header, nothing wrong with it: that is the hsts check's business). */
static void eval_hsts_bad(const struct check_def *d, const struct ev_endpoint *ep,
                          struct check_result *c) {
  const struct ev_fact *f = ev_first_of(ep, EV_HSTS_INVALID);
  unsigned long long age = 0;
  const struct ev_fact *longest = longest_max_age(ep, &age);
  const struct ev_fact *zero =
      ev_find_id(ep, EV_HSTS_MAX_AGE, &(const struct ev_args){.number = 0});
  if (f)
    decide(c, CHECK_FAIL, f, d->fail_reason);
  else if (zero)
    decide(c, CHECK_FAIL, zero, "HSTS max-age=0: the header disables HSTS");
  else if (longest && ev_fact_accepted(longest))
    decide(c, CHECK_PASS, longest, d->pass_reason);
  else if ((f = accepted_or_null(ev_find_id(ep, EV_HTTPS_RESPONSE, NULL))))
    decide(c, CHECK_PASS, f, "no HSTS header sent, so none is invalid");
  else
    c->reason = hsts_unknown_reason(d, ep);
}

/* Pass only on HTTP actually read; an HPKP header is optional. */
static void eval_hpkp(const struct check_def *d, const struct ev_endpoint *ep,
                      struct check_result *c) {
  generic(d, ep, c);
  if (c->status == CHECK_UNKNOWN)
    c->reason = hsts_unknown_reason(d, ep);
}

/* The pq:chosen (or pq:obsolete) fact, seen outside aborted handshakes,
 * of the group a pq:refused fact names as offered; NULL none. */
static const struct ev_fact *pq_chosen_elsewhere(const struct ev_endpoint *ep,
                                                 const struct ev_fact *refused) {
  const char *name = ev_fact_name(refused);
  const char *colon = memchr(name, ':', refused->typed.name_len);
  if (!colon)
    return NULL;
  char group[64];
  size_t len = (size_t)(colon - name);
  if (len >= sizeof group)
    return NULL;
  memcpy(group, name, len);
  group[len] = '\0';
  const struct ev_args a = {.name = group};
  const struct ev_fact *f = accepted_or_null(ev_find_id(ep, EV_PQ_CHOSEN, &a));
  return f ? f : accepted_or_null(ev_find_id(ep, EV_PQ_OBSOLETE, &a));
}

/* Post-quantum key exchange (README "What counts as evidence"): a
 * classical answer to a post-quantum key share fails only when the server
 * chooses no post-quantum group at all, or chooses that very group for
 * other clients (a server lacking one of several post-quantum groups
 * refuses nothing by passing over it, as with suites); else the server's
 * post-quantum choice passes, the retired Kyber draft said so. */
static void eval_pq_kex(const struct check_def *d, const struct ev_endpoint *ep,
                        struct check_result *c) {
  const struct ev_fact *modern = any_accepted(ep, FACTS(ANY(PQ_CHOSEN)));
  const struct ev_fact *obsolete = any_accepted(ep, FACTS(ANY(PQ_OBSOLETE)));
  size_t n;
  const struct ev_fact *const *refused = ev_facts_of(ep, EV_PQ_REFUSED, &n);
  for (size_t i = 0; i < n; i++) {
    if (refused[i]->typed.id != EV_PQ_REFUSED)
      continue;
    const struct ev_fact *same = pq_chosen_elsewhere(ep, refused[i]);
    if (same || (!modern && !obsolete)) {
      decide(c, CHECK_FAIL, refused[i],
             same ? "a client that sent a key share for a post-quantum group the server chooses "
                    "elsewhere got a classical key exchange"
                  : d->fail_reason);
      add_evidence(c, same);
      return;
    }
  }
  if (modern)
    decide(c, CHECK_PASS, modern, d->pass_reason);
  else if (obsolete)
    decide(c, CHECK_PASS, obsolete,
           "the server chose X25519Kyber768Draft00 or SecP256r1Kyber768Draft00: post-quantum but "
           "obsolete (pre-standard Kyber, retired for ML-KEM)");
  else if (ev_first_of(ep, EV_PQ_NO_RETRY))
    decide(c, CHECK_UNKNOWN, ev_first_of(ep, EV_PQ_NO_RETRY),
           "clients listed a post-quantum group without a key share for it, and the server took "
           "their classical share without a HelloRetryRequest: a round trip saved, no refusal");
  else
    c->reason = d->unknown_reason;
}

/* Encrypted Client Hello: whether the server accepted it is in the
 * ServerHello random (RFC 9849 7.2), checkable only with the inner hello,
 * or encrypted: never decided here.  The evidence counts the offers. */
static void eval_ech(const struct check_def *d, const struct ev_endpoint *ep,
                     struct check_result *c) {
  const struct ev_fact *offered = ev_find_id(ep, EV_ECH_OFFERED, NULL);
  const struct ev_fact *confirmed = ev_find_id(ep, EV_ECH_HRR_CONFIRMATION, NULL);
  if (!offered) {
    c->reason = d->unknown_reason;
    return;
  }
  add_evidence(c, offered);
  add_evidence(c, ev_find_id(ep, EV_HANDSHAKES, NULL));
  add_evidence(c, confirmed);
  c->reason = confirmed ? "clients offered ECH, and a HelloRetryRequest carried the confirmation "
                          "a server sends when it accepts; verifying it needs the ECH keys"
                        : "clients offered ECH (the outer extension: real or GREASE, the bytes "
                          "do not tell); whether the server accepted it needs its ECH keys";
}

#include "grade/check_table.h"

_Static_assert(sizeof(CHECKS) / sizeof(CHECKS[0]) <= GRADE_MAX_CHECKS,
               "grade_result has room for every check (GRADE_MAX_CHECKS)");
_Static_assert(GRADE_MAX_CHECKS <= UINT8_MAX + 1, "check_result.rule holds a rule's index");

size_t checks_run(const struct ev_endpoint *ep, struct check_result *out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < sizeof(CHECKS) / sizeof(CHECKS[0]) && n < max; i++) {
    const struct check_def *d = &CHECKS[i];
    struct check_result *c = &out[n++];
    memset(c, 0, sizeof(*c));
    c->id = d->id;
    c->rule = (uint8_t)i;
    c->effect = d->effect;
    c->cap = d->cap;
    c->severity = (int16_t)d->severity;
    (d->eval ? d->eval : generic)(d, ep, c);
  }
  return n;
}

const char *check_title(const struct check_result *c) {
  return CHECKS[c->rule].title;
}

const char *check_recommendation(const struct check_result *c) {
  return CHECKS[c->rule].recommendation;
}
