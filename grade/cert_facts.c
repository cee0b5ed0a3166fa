/*
 * grade/cert_facts.c - what a session's certificates prove about its
 * server: the leaf's fields (key, signature, validity, names, EV policy,
 * OCSP staple), the chain's trust verdict (remembered per run in the
 * trust memo, with its distrust events), and what completing chains later
 * needs (chains.c).  facts.c calls it for every session with a chain.
 */
#include "grade/chains.h"
#include "grade/distrust.h"
#include "grade/facts.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A Certificate Transparency log of grade/ct_logs.tsv. */
struct ct_log {
  uint8_t id[32];
  const char *operator, * name, *state;
};
#include "grade/ct_logs_data.h"

/* Extended Validation policy OIDs: the CA/Browser Forum's, and the CA-
 * specific ones browsers recognised (Chromium ev_root_ca_metadata). */
static const char *const EV_POLICIES[] = {
    "2.23.140.1.1",                 /* CA/B Forum EV */
    "1.3.6.1.4.1.34697.2.1",        /* AffirmTrust */
    "2.16.840.1.114412.2.1",        /* DigiCert */
    "2.16.840.1.114028.10.1.2",     /* Entrust */
    "1.3.6.1.4.1.6449.1.2.1.5.1",   /* Sectigo (Comodo) */
    "2.16.840.1.113733.1.7.23.6",   /* VeriSign / Symantec */
    "1.3.6.1.4.1.14370.1.6",        /* GeoTrust */
    "2.16.840.1.114413.1.7.23.3",   /* GoDaddy */
    "2.16.840.1.114414.1.7.23.3",   /* Starfield */
    "1.3.6.1.4.1.4146.1.1",         /* GlobalSign */
    "2.16.840.1.113733.1.7.48.1",   /* Thawte */
    "1.3.6.1.4.1.8024.0.2.100.1.2", /* QuoVadis */
    "2.16.756.1.89.1.2.1.1",        /* SwissSign */
    "1.2.616.1.113527.2.5.1.1",     /* Certum */
};

static bool weak_sig(const char *sig, const char *what) {
  return strstr(sig, what) != NULL;
}

/* The memo keeps a chain's distrust events with its verdict, as a payload
 * opaque to dissect/: matching them needs the verified anchor (an SPKI
 * match on a root the server did not send), and costs a pass over every
 * rule for every certificate, so it is done once per chain, as
 * verification is, and dissect/ knows nothing of distrust. */
struct distrust_found {
  struct distrust_hit hits[EV_DISTRUST_HITS];
  size_t n;
};

static void derive_distrust(const struct tls_cert *const *chain, size_t n,
                            const struct x509_trust *trust, void *payload, void *arg) {
  (void)arg;
  struct distrust_found *found = payload;
  found->n = distrust_match(chain, n, trust->anchor_spki_sha256, found->hits, EV_DISTRUST_HITS);
}

struct x509_trust_memo *ev_trust_memo_new(size_t max_entries) {
  const struct x509_memo_payload distrust = {sizeof(struct distrust_found), derive_distrust, NULL};
  return x509_trust_memo_new(&distrust, max_entries);
}

void ev_chain_verdict(struct x509_trust_memo *memo, const struct tls_session *s,
                      const struct x509_store *trust, cap_time_us at, struct ev_chain_verdict *v) {
  char *host = NULL;
  if (s->ch.sni.n && !memchr(s->ch.sni.p, 0, s->ch.sni.n))
    host = strndup((const char *)s->ch.sni.p, s->ch.sni.n);
  memset(v, 0, sizeof(*v));
  struct distrust_found found;
  memset(&found, 0, sizeof(found));
  if (memo) {
    x509_trust_memo_verdict(memo, trust, s->chain, s->chain_len, host, at, &v->trust, &found);
  } else {
    x509_trust_check_store(trust, s->chain, s->chain_len, host, at, &v->trust);
    derive_distrust(s->chain, s->chain_len, &v->trust, &found, NULL);
  }
  memcpy(v->distrust, found.hits, sizeof(v->distrust));
  v->n_distrust = found.n;
  free(host);
}

void ev_trust_verdict(struct x509_trust_memo *memo, const struct tls_session *s,
                      const struct x509_store *trust, cap_time_us at, struct x509_trust *t) {
  struct ev_chain_verdict v;
  ev_chain_verdict(memo, s, trust, at, &v);
  *t = v.trust;
}

/* A chain that stopped for want of an issuer: whether it is untrusted or
 * only incomplete is decided with every intermediate of the evidence
 * (chains.c, ev_complete_chains). */
static bool chain_waits(const struct x509_trust *t, const struct tls_session *s) {
  return t->checked && !t->trusted && !t->trusted_but_time && !t->chain_complete &&
         s->chain[0]->parsed;
}

/* The validity period of the CA/Browser Forum's Baseline Requirements
 * (1.6.1: "from notBefore through notAfter, inclusive"), in days rounded
 * up, so that a period longer than N days by one second counts N + 1. */
static bool leaf_days(const struct tls_cert *leaf, uint64_t *days) {
  if (!leaf->not_before[0] || !leaf->not_after[0] || leaf->not_after_us < leaf->not_before_us)
    return false;
  uint64_t seconds = (uint64_t)(leaf->not_after_us - leaf->not_before_us) / 1000000 + 1;
  *days = (seconds + 86399) / 86400;
  return true;
}

static void lifetime_fact(struct ev_endpoint *ep, const struct ev_sample *at,
                          const struct tls_cert *leaf) {
  uint64_t days;
  if (!leaf_days(leaf, &days))
    return;
  char span[32]; /* "YYYY-MM-DD..YYYY-MM-DD" */
  snprintf(span, sizeof span, "%.10s..%.10s", leaf->not_before, leaf->not_after);
  ev_add(ep, at, EV_CERT_LIFETIME, &(struct ev_args){.name = span, .number = days});
}

static int ct_log_cmp(const void *id, const void *log) {
  return memcmp(id, ((const struct ct_log *)log)->id, 32);
}

/* "Operator Name", or "unknown " and the id in base64. */
static void ct_log_label(const uint8_t id[32], char *out, size_t len) {
  const struct ct_log *log =
      bsearch(id, CT_LOGS, sizeof CT_LOGS / sizeof CT_LOGS[0], sizeof CT_LOGS[0], ct_log_cmp);
  unsigned char b64[48];
  if (log) {
    snprintf(out, len, "%s %s", log->operator, log->name);
  } else {
    EVP_EncodeBlock(b64, id, 32);
    snprintf(out, len, "unknown %s", (const char *)b64);
  }
}

static bool has_u16(const struct tls_u16s *list, uint16_t v) {
  for (size_t i = 0; i < list->n; i++)
    if (list->v[i] == v)
      return true;
  return false;
}

/* Chrome's CT policy for embedded SCTs: two from distinct logs for a
 * certificate of at most 180 days, three beyond.  SCTs may also come in
 * the handshake (RFC 6962 3.3: TLS extension 18, or an OCSP staple),
 * which a TLS 1.0-1.2 client asking for them (extension 18) shows. */
static void ct_facts(struct ev_endpoint *ep, const struct ev_sample *at,
                     const struct tls_session *s, const struct tls_cert *leaf) {
  uint64_t days;
  if (!leaf_days(leaf, &days))
    return;
  char need[16], label[96];
  snprintf(need, sizeof need, "%u/%u", (unsigned)leaf->n_sct_logs, days <= 180 ? 2u : 3u);
  ev_add(ep, at, EV_CERT_CT, &(struct ev_args){.name = need, .number = days});
  for (size_t i = 0; i < leaf->n_sct_logs; i++) {
    ct_log_label(leaf->sct_logs[i], label, sizeof label);
    ev_add_name(ep, at, EV_CERT_CT_LOG, label);
  }
  bool tls12 = s->version >= TLS_VERSION_TLS10 && s->version <= TLS_VERSION_TLS12;
  if (!tls12 || !has_u16(&s->ch.extensions, 18))
    return;
  bool sent = has_u16(&s->sh.extensions, 18) || s->ocsp_stapled;
  ev_add(ep, at, sent ? EV_CT_TLS_SENT : EV_CT_TLS_NONE, NULL);
}

void ev_cert_facts(struct ev_endpoint *ep, const struct tls_session *s, const struct ev_conn *c,
                   const struct ev_sample *at) {
  const struct tls_cert *leaf = s->chain[0];
  struct ev_sample cat = *at;
  if (s->chain_at.frame)
    cat.frame = s->chain_at.frame, cat.ts = s->chain_at.ts;
  ev_add_name(ep, &cat, EV_CERT_LEAF, leaf->sha256);
  ev_sent_chain_facts(ep, s, &cat);
  if (!leaf->parsed) {
    ev_add(ep, &cat, EV_CERT_UNREADABLE, NULL);
    return;
  }
  static const char *const types[] = {"unknown", "rsa",   "dsa", "ec",
                                      "ed25519", "ed448", "dh",  "other"};
  ev_add(ep, &cat, EV_CERT_KEY_TYPE,
         &(struct ev_args){.name = types[leaf->key_type < 8 ? leaf->key_type : 0],
                           .number = (uint64_t)leaf->key_bits}); /* never negative (x509.c) */
  if (leaf->rsa_exponent_one)
    ev_add(ep, &cat, EV_CERT_RSA_E1, NULL);
  if (leaf->weak_key == TLS_WEAK_KEY_LISTED)
    ev_add(ep, &cat, EV_CERT_DEBIAN_WEAK, NULL);
  else if (leaf->weak_key == TLS_WEAK_KEY_NOT_LISTED)
    ev_add(ep, &cat, EV_CERT_DEBIAN_OK, NULL);
  if (leaf->spki_sha256[0])
    ev_add_name(ep, &cat, s->version == TLS_VERSION_SSL2 ? EV_SSLV2_KEY : EV_CERT_KEY,
                leaf->spki_sha256);
  for (size_t i = 0; i < s->chain_len; i++) {
    const struct tls_cert *cert = s->chain[i];
    if (!cert->parsed || (i > 0 && cert->self_signed))
      continue; /* a root's own signature is not checked by anyone */
    if (weak_sig(cert->sig_alg, "sha1") || weak_sig(cert->sig_alg, "SHA1"))
      ev_add(ep, &cat, EV_CERT_SIG_SHA1, NULL);
    if (weak_sig(cert->sig_alg, "md5") || weak_sig(cert->sig_alg, "md2"))
      ev_add(ep, &cat, EV_CERT_SIG_MD5, NULL);
  }
  lifetime_fact(ep, &cat, leaf);
  ct_facts(ep, &cat, s, leaf);
  for (size_t i = 0; i < leaf->n_policies; i++)
    for (size_t k = 0; k < sizeof(EV_POLICIES) / sizeof(EV_POLICIES[0]); k++)
      if (strcmp(leaf->policies[i], EV_POLICIES[k]) == 0)
        ev_add(ep, &cat, EV_CERT_EV, NULL);
  struct ev_chain_verdict v; /* trust and distrust, once per chain */
  memset(&v, 0, sizeof(v));
  if (c->trust)
    ev_chain_verdict(c->memo, s, c->trust, cat.ts, &v);
  else
    v.n_distrust = distrust_match(s->chain, s->chain_len, NULL, v.distrust, EV_DISTRUST_HITS);
  const struct x509_trust t = v.trust;
  for (size_t i = 0; i < v.n_distrust; i++)
    ev_add_name(ep, &cat, EV_DISTRUST, v.distrust[i].event->id);
  ev_add(ep, &cat, EV_DISTRUST_CHECKED, NULL);
  if (!c->trust)
    return;
  ev_trust_store_fact(ep, c, &cat);
  if (chain_waits(&t, s))
    ; /* ev_complete_chains says trusted, incomplete or untrusted */
  else if (t.trusted)
    ev_add(ep, &cat, EV_TRUST_OK, NULL);
  else if (t.trusted_but_time)
    ev_add(ep, &cat, EV_TRUST_OK_BUT_TIME, NULL); /* the expired check says the rest */
  else if (t.checked)
    ev_add_name(ep, &cat, EV_TRUST_UNTRUSTED, t.reason);
  if (t.expired)
    ev_add(ep, &cat, EV_TRUST_EXPIRED, NULL);
  if (t.not_yet_valid)
    ev_add(ep, &cat, EV_TRUST_NOT_YET_VALID, NULL);
  if (t.self_signed)
    ev_add(ep, &cat, EV_TRUST_SELF_SIGNED, NULL);
  /* Incomplete is decidable only when the chain verified: a missing issuer
   * in an untrusted chain may as well be an unknown root. */
  if (t.trusted && !t.chain_complete)
    ev_add(ep, &cat, EV_CHAIN_INCOMPLETE, NULL);
  if (t.checked && !t.chain_in_order)
    ev_add(ep, &cat, EV_CHAIN_UNORDERED, NULL);
  if (t.hostname_checked)
    ev_add(ep, &cat, t.hostname_match ? EV_HOSTNAME_MATCH : EV_HOSTNAME_MISMATCH, NULL);
}

/* What completing chains needs of this session: the CA certificates it
 * sent (an intermediate for other chains), and its chain if it waits. */
void ev_chain_notes(struct ev_store *ev, struct ev_endpoint *ep, const struct tls_session *s,
                    const struct ev_conn *c, const struct ev_sample *at) {
  struct ev_sample cat = *at;
  if (s->chain_at.frame)
    cat.frame = s->chain_at.frame, cat.ts = s->chain_at.ts;
  for (size_t i = 1; i < s->chain_len; i++)
    if (s->chain[i]->parsed && s->chain[i]->is_ca)
      ev_chains_note_ca(ev, s->chain[i], &cat);
  if (!c->trust || !s->chain[0]->parsed)
    return;
  struct ev_chain_verdict v; /* the memo's: the verdict ev_cert_facts had */
  ev_chain_verdict(c->memo, s, c->trust, cat.ts, &v);
  /* A chain completed later would say trusted: not from a handshake its
   * client aborted, whose facts pass nothing (and a want of an issuer
   * fails nothing either). */
  if (!chain_waits(&v.trust, s) || at->aborted)
    return;
  char *sni = NULL;
  if (s->ch.sni.n && !memchr(s->ch.sni.p, 0, s->ch.sni.n))
    sni = strndup((const char *)s->ch.sni.p, s->ch.sni.n);
  if (!ev_chains_note_pending(ev, ep, sni ? sni : "", s, &cat)) /* cap reached */
    ev_add_name(ep, &cat, EV_TRUST_UNTRUSTED, v.trust.reason);  /* the session's own verdict */
  free(sni);
}
