/*
 * grade/chains.c - chains completed passively.  A server that sends its
 * leaf without the intermediate is not untrusted when that intermediate is
 * known: sent by any server in any connection of the evidence, or given in
 * a bundle (--intermediates).  SSL Labs completes such chains (AIA) and
 * caps them at B (chain_incomplete); so do we, without going online.
 *
 * The order of the capture must not matter (the intermediate may come
 * after the incomplete chain, or from another -j worker), so a chain that
 * stops for want of an issuer keeps its trust facts back: the store notes
 * it (pending) with every CA certificate it sees, and ev_complete_chains
 * decides once all evidence is in.  The certificates found only ever serve
 * as untrusted ones: libcrypto checks every signature and the anchor still
 * comes from the trust store.
 */
#include "base/hash.h"
#include "grade/chains.h"
#include "grade/distrust.h"
#include "grade/report.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds (README "Limits", ev_store_set_chain_limits): distinct CA
 * certificates remembered, and distinct incomplete chains waiting.  Beyond
 * them a note is refused and counted (ev_chains_cap_hits): a flood of
 * made-up CAs or chains costs nothing more, and a chain crowded out keeps
 * its session's own verdict (untrusted: the honest answer without the
 * intermediate).  Each is indexed by open addressing, at most half full. */

struct seen_ca {
  char sha256[65];
  /* Its DER (owned) and, when the capture decoded it, a reference to the
   * decoded form, which the pool then takes without decoding again. */
  struct tls_cert cert;
  struct ev_sample at; /* the Certificate message; file owned */
};

/* One distinct chain of one endpoint, and the sessions that sent it: as
 * much of them as a fact keeps (count, earliest sample, latest time). */
struct pending {
  char *key; /* endpoint, SNI and chain: owned */
  char *host, *ip, *sni;
  uint16_t port;
  cap_time_us verified_at;
  struct tls_cert *certs; /* der, der_len, the decoded form and sha256 only: owned */
  size_t n;
  struct ev_sample first, last; /* the earliest sighting, and the latest; files owned */
  uint64_t sessions;
};

struct ev_chains {
  struct seen_ca *cas;
  size_t n_cas, cap_cas;
  struct pending *pend;
  size_t n_pend, cap_pend;
  uint32_t *ca_slots, *pend_slots; /* index + 1, 0 empty */
  size_t ca_nslots, pend_nslots;   /* powers of two, at least twice the caps */
  size_t max_cas, max_pend;
  uint64_t ca_refused, pend_refused;
};

/* *dst becomes src, with a file name of its own: samples outlive the
 * inputs they came from once evidence is loaded or merged. */
static void sample_keep(struct ev_sample *dst, const struct ev_sample *src) {
  char *file = src->file ? strdup(src->file) : NULL;
  free(dst->file);
  *dst = *src;
  dst->file = file; /* NULL when out of memory: a sample without its file */
}

static void pending_clear(struct pending *p) {
  free(p->first.file);
  free(p->last.file);
  free(p->key);
  free(p->host);
  free(p->ip);
  free(p->sni);
  for (size_t i = 0; i < p->n; i++)
    x509_cert_clear(&p->certs[i]);
  free(p->certs);
  memset(p, 0, sizeof(*p));
}

void ev_chains_free(struct ev_chains *chains) {
  if (!chains)
    return;
  for (size_t i = 0; i < chains->n_cas; i++) {
    x509_cert_clear(&chains->cas[i].cert);
    free(chains->cas[i].at.file);
  }
  free(chains->cas);
  for (size_t i = 0; i < chains->n_pend; i++)
    pending_clear(&chains->pend[i]);
  free(chains->pend);
  free(chains->ca_slots);
  free(chains->pend_slots);
  free(chains);
}

static size_t slots_for(size_t cap) {
  size_t n = 16;
  while (n < 2 * cap)
    n *= 2;
  return n;
}

static struct ev_chains *chains_new(size_t max_cas, size_t max_pend) {
  struct ev_chains *ch = calloc(1, sizeof(*ch));
  if (ch) {
    ch->max_cas = max_cas, ch->max_pend = max_pend;
    ch->ca_nslots = slots_for(max_cas), ch->pend_nslots = slots_for(max_pend);
    ch->ca_slots = calloc(ch->ca_nslots, sizeof(*ch->ca_slots));
    ch->pend_slots = calloc(ch->pend_nslots, sizeof(*ch->pend_slots));
  }
  if (ch && (!ch->ca_slots || !ch->pend_slots)) {
    ev_chains_free(ch);
    ch = NULL;
  }
  return ch;
}

static struct ev_chains *chains_of(struct ev_store *ev) {
  struct ev_chains **slot = ev_store_chains(ev);
  if (!*slot) {
    size_t max_cas, max_pend;
    ev_store_chain_limits(ev, &max_cas, &max_pend);
    *slot = chains_new(max_cas, max_pend);
  }
  return *slot;
}

void ev_chains_cap_hits(const struct ev_store *ev, uint64_t *cas, uint64_t *pending) {
  struct ev_chains *ch = *ev_store_chains((struct ev_store *)ev);
  *cas = ch ? ch->ca_refused : 0;
  *pending = ch ? ch->pend_refused : 0;
}

/* Room for one more of n elements of size bytes in *array. */
static bool grow(void **array, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return true;
  size_t more = *cap ? 2 * *cap : 8;
  void *grown = realloc(*array, more * size);
  if (!grown)
    return false;
  *array = grown, *cap = more;
  return true;
}

/* Is a earlier than b (time, then file, then frame)?  As evidence.c's. */
static bool sample_before(const struct ev_sample *a, const struct ev_sample *b) {
  if (a->ts != b->ts)
    return a->ts < b->ts;
  int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");
  return c ? c < 0 : a->frame < b->frame;
}

/* The slot of key in slots (its index + 1 there), or the empty one where
 * it would go; name(ctx, i) is the key of entry i. */
static uint32_t *find_slot(uint32_t *slots, size_t nslots, const char *key,
                           const char *(*name)(void *, size_t), void *ctx) {
  size_t j = hash_str(HASH_FNV_OFFSET, key) & (nslots - 1);
  while (slots[j] && strcmp(name(ctx, slots[j] - 1), key) != 0)
    j = (j + 1) & (nslots - 1);
  return &slots[j];
}

static const char *ca_name(void *ctx, size_t i) {
  return ((struct ev_chains *)ctx)->cas[i].sha256;
}

static const char *pend_name(void *ctx, size_t i) {
  return ((struct ev_chains *)ctx)->pend[i].key;
}

/* cert's DER and decoded form, taken from it (the rest stays cert's). */
static struct tls_cert take_der(struct tls_cert *cert) {
  struct tls_cert der = {.der = cert->der, .der_len = cert->der_len, .x509 = cert->x509};
  cert->der = NULL, cert->der_len = 0, cert->x509 = NULL;
  return der;
}

/* One CA certificate: its DER and decoded form are taken from cert, kept
 * or freed. */
static void note_ca(struct ev_chains *ch, const char *sha256, struct tls_cert *cert,
                    const struct ev_sample *at) {
  struct tls_cert der = take_der(cert);
  uint32_t *slot = find_slot(ch->ca_slots, ch->ca_nslots, sha256, ca_name, ch);
  if (*slot) {
    struct seen_ca *ca = &ch->cas[*slot - 1];
    if (sample_before(at, &ca->at)) /* the earliest, whatever the order */
      sample_keep(&ca->at, at);
    x509_cert_clear(&der);
    return;
  }
  if (ch->n_cas >= ch->max_cas) {
    ch->ca_refused = ev_count_add(ch->ca_refused, 1);
    x509_cert_clear(&der);
    return;
  }
  if (!der.der || !grow((void **)&ch->cas, &ch->cap_cas, ch->n_cas, sizeof(*ch->cas))) {
    x509_cert_clear(&der);
    return;
  }
  struct seen_ca *ca = &ch->cas[ch->n_cas++];
  memcpy(ca->sha256, sha256, sizeof(ca->sha256));
  ca->cert = der, ca->at = (struct ev_sample){0};
  sample_keep(&ca->at, at);
  *slot = (uint32_t)ch->n_cas;
}

/* A copy of cert's DER and decoded form for note_ca, unless the CA is
 * known already (nothing to copy then). */
static struct tls_cert der_copy(struct ev_chains *ch, const char *sha256,
                                const struct tls_cert *cert) {
  struct tls_cert copy = {0};
  if (!*find_slot(ch->ca_slots, ch->ca_nslots, sha256, ca_name, ch) &&
      !x509_cert_copy_der(&copy, cert))
    memset(&copy, 0, sizeof(copy));
  return copy;
}

void ev_chains_note_ca(struct ev_store *ev, const struct tls_cert *cert,
                       const struct ev_sample *sample) {
  struct ev_chains *ch = chains_of(ev);
  if (!ch || !cert->sha256[0])
    return;
  struct tls_cert copy = der_copy(ch, cert->sha256, cert);
  note_ca(ch, cert->sha256, &copy, sample);
}

/* Endpoint, SNI, then each certificate's fingerprint and whether it was
 * valid at the time (trust_memo.c's key: what the verdict depends on). */
static char *pending_key(const struct ev_endpoint *ep, const char *sni,
                         const struct tls_cert *const *chain, size_t n, cap_time_us at) {
  size_t cap = strlen(ep->host) + strlen(ep->ip) + strlen(sni) + 80 * n + 32;
  char *key = malloc(cap);
  if (!key)
    return NULL;
  size_t k = (size_t)snprintf(key, cap, "%s|%s|%u|%s|", ep->host, ep->ip, ep->port, sni);
  for (size_t i = 0; i < n; i++) {
    const struct tls_cert *c = chain[i];
    bool valid = c->parsed && c->not_before_us <= at && at <= c->not_after_us;
    k += (size_t)snprintf(key + k, cap - k, "%s%c", c->sha256[0] ? c->sha256 : "-",
                          valid ? '+' : '-');
  }
  return key;
}

static bool pending_init(struct pending *p, char *key, const struct ev_endpoint *ep,
                         const char *sni, const struct tls_cert *const *chain, size_t n,
                         cap_time_us at) {
  memset(p, 0, sizeof(*p));
  p->key = key, p->port = ep->port, p->verified_at = at;
  p->host = strdup(ep->host), p->ip = strdup(ep->ip), p->sni = strdup(sni);
  p->certs = calloc(n ? n : 1, sizeof(*p->certs));
  bool ok = p->host && p->ip && p->sni && p->certs;
  /* The DER, and the decoded form when the capture's parse kept it, so
   * that completing the chain decodes nothing again. */
  for (size_t i = 0; ok && i < n; i++, p->n++) {
    ok = x509_cert_copy_der(&p->certs[i], chain[i]);
    memcpy(p->certs[i].sha256, chain[i]->sha256,
           sizeof(p->certs[i].sha256)); /* its verdict's key */
  }
  if (!ok)
    pending_clear(p);
  return ok;
}

/* Sessions that sent a pending chain: their count, earliest and latest. */
static void pending_seen(struct pending *p, const struct ev_sample *first,
                         const struct ev_sample *last, uint64_t sessions) {
  if (!p->sessions || sample_before(first, &p->first))
    sample_keep(&p->first, first);
  if (!p->sessions || sample_before(&p->last, last))
    sample_keep(&p->last, last);
  p->sessions = ev_count_add(p->sessions, sessions);
}

/* One more sighting of a chain: noted, or refused at the cap (false). */
static bool note_pending(struct ev_chains *ch, const struct ev_endpoint *ep, const char *sni,
                         const struct tls_cert *const *chain, size_t n, cap_time_us verified_at,
                         const struct ev_sample *first, const struct ev_sample *last,
                         uint64_t sessions) {
  char *key = pending_key(ep, sni, chain, n, verified_at);
  if (!key)
    return false;
  uint32_t *slot = find_slot(ch->pend_slots, ch->pend_nslots, key, pend_name, ch);
  if (*slot) {
    free(key);
  } else if (ch->n_pend >= ch->max_pend) {
    ch->pend_refused = ev_count_add(ch->pend_refused, 1); /* the session keeps its own verdict */
    free(key);
    return false;
  } else {
    if (!grow((void **)&ch->pend, &ch->cap_pend, ch->n_pend, sizeof(*ch->pend))) {
      free(key);
      return false;
    }
    if (!pending_init(&ch->pend[ch->n_pend], key, ep, sni, chain, n, verified_at))
      return false; /* key went with it */
    *slot = (uint32_t)++ch->n_pend;
  }
  pending_seen(&ch->pend[*slot - 1], first, last, sessions);
  return true;
}

bool ev_chains_note_pending(struct ev_store *ev, const struct ev_endpoint *ep, const char *sni,
                            const struct tls_session *s, const struct ev_sample *sample) {
  struct ev_chains *ch = chains_of(ev);
  return ch && note_pending(ch, ep, sni, (const struct tls_cert *const *)s->chain, s->chain_len,
                            sample->ts, sample, sample, 1);
}

/* A worker's pending chain into ch: joined with the same one, or moved. */
static void absorb_pending(struct ev_chains *ch, struct pending *from) {
  uint32_t *slot = find_slot(ch->pend_slots, ch->pend_nslots, from->key, pend_name, ch);
  if (*slot) {
    pending_seen(&ch->pend[*slot - 1], &from->first, &from->last, from->sessions);
    pending_clear(from);
  } else if (ch->n_pend >= ch->max_pend) {
    ch->pend_refused = ev_count_add(ch->pend_refused, 1);
    pending_clear(from);
  } else if (!grow((void **)&ch->pend, &ch->cap_pend, ch->n_pend, sizeof(*ch->pend))) {
    pending_clear(from);
  } else {
    ch->pend[ch->n_pend] = *from; /* moved: from owns nothing now */
    memset(from, 0, sizeof(*from));
    *slot = (uint32_t)++ch->n_pend;
  }
}

int ev_chains_absorb(struct ev_chains **into, struct ev_chains **from) {
  struct ev_chains *src = *from;
  if (!src)
    return 0;
  if (!*into) {
    *into = src, *from = NULL;
    return 0;
  }
  struct ev_chains *dst = *into;
  for (size_t i = 0; i < src->n_cas; i++) {
    note_ca(dst, src->cas[i].sha256, &src->cas[i].cert, &src->cas[i].at); /* kept or freed */
  }
  for (size_t i = 0; i < src->n_pend; i++)
    absorb_pending(dst, &src->pend[i]);
  dst->ca_refused = ev_count_add(dst->ca_refused, src->ca_refused);
  dst->pend_refused = ev_count_add(dst->pend_refused, src->pend_refused);
  ev_chains_free(src);
  *from = NULL;
  return 0;
}

static int ca_cmp(const void *a, const void *b) {
  const struct seen_ca *x = a, *y = b;
  return sample_before(&x->at, &y->at) ? -1 : sample_before(&y->at, &x->at) ? 1 : 0;
}

/* The CA certificates seen, the earliest sighting first, as a pool: where
 * each was found is "file:frame" of the Certificate message that held it. */
static struct x509_pool *seen_pool(struct ev_chains *ch) {
  struct x509_pool *pool = x509_pool_new();
  if (ch->n_cas)
    qsort(ch->cas, ch->n_cas, sizeof(*ch->cas), ca_cmp);
  memset(ch->ca_slots, 0, ch->ca_nslots * sizeof(*ch->ca_slots)); /* the order moved */
  for (size_t i = 0; i < ch->n_cas; i++)
    *find_slot(ch->ca_slots, ch->ca_nslots, ch->cas[i].sha256, ca_name, ch) = (uint32_t)(i + 1);
  for (size_t i = 0; pool && i < ch->n_cas; i++) {
    char *where = report_sample(&ch->cas[i].at);
    x509_pool_add_cert(pool, &ch->cas[i].cert, where ? where : "");
    free(where);
  }
  return pool;
}

/* libcrypto's reason, and the issuer still missing with where its
 * certificate is published (the AIA caIssuers URL): all a reader needs to
 * fetch it.  Sanitised UTF-8, malloc'd. */
static char *untrusted_reason(const struct x509_trust *t, const struct x509_completion *done) {
  char text[800];
  if (!done->missing_issuer[0])
    snprintf(text, sizeof text, "%s", t->reason);
  else
    snprintf(text, sizeof text, "%s: issuer '%s' seen nowhere%s%s%s", t->reason,
             done->missing_issuer, done->missing_aia[0] ? " (caIssuers " : "", done->missing_aia,
             done->missing_aia[0] ? ")" : "");
  bool replaced;
  return report_utf8((const uint8_t *)text, strlen(text), &replaced);
}

/* The distrust events of the completed chain: what the server sent and
 * the intermediates that completed it, against the anchor now known (the
 * session's own check had neither). */
static size_t completed_distrust(const struct pending *p, const struct x509_trust *t,
                                 const struct x509_completion *done,
                                 struct distrust_hit hits[EV_DISTRUST_HITS]) {
  size_t n = p->n + done->n_added;
  struct tls_cert *certs = calloc(n, sizeof(*certs));
  const struct tls_cert **links = calloc(n, sizeof(*links));
  size_t found = 0;
  for (size_t i = 0; certs && links && i < n; i++) {
    const uint8_t *der = i < p->n ? p->certs[i].der : done->added_der[i - p->n];
    size_t len = i < p->n ? p->certs[i].der_len : done->added_len[i - p->n];
    if ((certs[i].der = malloc(len ? len : 1)) != NULL) {
      memcpy(certs[i].der, der, len);
      certs[i].der_len = len;
      x509_cert_parse(&certs[i]);
    }
    links[i] = &certs[i];
  }
  if (certs && links)
    found = distrust_match(links, n, t->anchor_spki_sha256, hits, EV_DISTRUST_HITS);
  for (size_t i = 0; certs && i < n; i++)
    x509_cert_clear(&certs[i]);
  free(certs);
  free(links);
  return found;
}

/* The decision on one pending chain: what x509_trust_complete() says, the
 * distrust events of the completed chain and the reason when untrusted.
 * Each depends only on the chain and the validity of the certificates
 * path building could use (done.same_from..same_until), so the endpoints
 * that send the same chain share one.  (The hostname is no part of it:
 * the facts made here do not use the verdict's hostname fields.) */
struct verdict {
  char *key; /* the chain's fingerprints: owned */
  struct x509_trust trust;
  struct x509_completion done; /* owned: x509_completion_clear */
  struct distrust_hit hits[EV_DISTRUST_HITS];
  size_t n_hits;
  char *reason; /* untrusted: the fact's text (owned), else NULL */
};

static void verdict_clear(struct verdict *v) {
  free(v->key);
  x509_completion_clear(&v->done);
  free(v->reason);
  memset(v, 0, sizeof(*v));
}

static void decide(struct verdict *v, const struct pending *p, const struct x509_store *trust,
                   const struct x509_pool *const *pools, size_t n_pools) {
  const struct tls_cert **links = calloc(p->n ? p->n : 1, sizeof(*links));
  for (size_t i = 0; links && i < p->n; i++)
    links[i] = &p->certs[i];
  if (!links) {
    memset(&v->trust, 0, sizeof(v->trust));
    memset(&v->done, 0, sizeof(v->done));
    return;
  }
  struct x509_trust *t = &v->trust;
  x509_trust_complete(trust, pools, n_pools, links, p->n, p->sni[0] ? p->sni : NULL, p->verified_at,
                      t, &v->done);
  free(links);
  v->n_hits = t->trusted ? completed_distrust(p, t, &v->done, v->hits) : 0;
  v->reason = !t->trusted && !t->trusted_but_time ? untrusted_reason(t, &v->done) : NULL;
}

/* The facts of one pending chain, from its verdict. */
static void complete_one(struct ev_store *ev, struct pending *p, const struct verdict *v) {
  struct ev_endpoint *ep = ev_endpoint_get(ev, p->host, p->ip, p->port);
  if (!ep || !v->trust.checked)
    return;
  const struct x509_trust *t = &v->trust;
  /* As many facts as sessions sent the chain: the earliest sighting gives
   * the fact's sample, the latest its last time, and carries the rest of
   * the count (up to EV_COUNT_MAX from a file: never one add each). */
  const struct ev_sample *sighting[2] = {&p->first, &p->last};
  const uint64_t times[2] = {1, p->sessions - 1};
  for (int i = 0; i < 2 && times[i]; i++) {
    const struct ev_sample *at = sighting[i];
    for (size_t k = 0; k < v->n_hits; k++)
      ev_add_times(ep, at, EV_DISTRUST, &(const struct ev_args){.name = v->hits[k].event->id},
                   times[i]);
    if (t->trusted)
      ev_add_times(ep, at, EV_TRUST_OK, NULL, times[i]);
    else if (t->trusted_but_time)
      ev_add_times(ep, at, EV_TRUST_OK_BUT_TIME, NULL, times[i]);
    else
      ev_add_times(ep, at, EV_TRUST_UNTRUSTED,
                   &(const struct ev_args){.name = v->reason ? v->reason : t->reason}, times[i]);
    if ((t->trusted || t->trusted_but_time) && !t->chain_complete) {
      if (v->done.found_in)
        ev_add_times(ep, at, EV_CHAIN_INCOMPLETE_FROM,
                     &(const struct ev_args){.name = v->done.found_in}, times[i]);
      else
        ev_add_times(ep, at, EV_CHAIN_INCOMPLETE, NULL, times[i]);
    }
  }
}

/* The chain's fingerprints one after the other, or NULL when a
 * certificate has none (such a chain is decided on its own). */
static char *verdict_key(const struct pending *p) {
  char *key = malloc(64 * p->n + 1);
  size_t k = 0;
  for (size_t i = 0; key && i < p->n; i++) {
    if (!p->certs[i].sha256[0]) {
      free(key);
      return NULL;
    }
    memcpy(key + k, p->certs[i].sha256, 64);
    k += 64;
  }
  if (key)
    key[k] = '\0';
  return key;
}

/* The verdicts decided so far in one ev_complete_chains(): at most one per
 * pending chain, so as bounded as those. */
struct verdicts {
  struct verdict *v;
  size_t n;
  uint32_t *slots; /* nslots: index + 1, 0 empty */
  size_t nslots;   /* the pending table's: at least twice the pending chains */
};

static const char *verdict_name(void *ctx, size_t i) {
  return ((struct verdicts *)ctx)->v[i].key;
}

/* The verdict on p: one already decided for the same chain at a time
 * with the same validities, or a new one (kept in *fresh when it
 * cannot be remembered; the caller clears it). */
static const struct verdict *verdict_of(struct verdicts *memo, struct verdict *fresh,
                                        const struct pending *p, const struct x509_store *trust,
                                        const struct x509_pool *const *pools, size_t n_pools) {
  char *key = memo->slots ? verdict_key(p) : NULL;
  uint32_t *slot = key ? find_slot(memo->slots, memo->nslots, key, verdict_name, memo) : NULL;
  if (slot && *slot) {
    const struct verdict *known = &memo->v[*slot - 1];
    if (known->done.same_from <= p->verified_at && p->verified_at <= known->done.same_until) {
      free(key);
      return known;
    }
    slot = NULL; /* another time, another verdict: decided afresh */
  }
  struct verdict *v = slot ? &memo->v[memo->n] : fresh;
  memset(v, 0, sizeof(*v));
  decide(v, p, trust, pools, n_pools);
  if (slot) {
    v->key = key;
    *slot = (uint32_t)++memo->n;
  } else {
    free(key);
  }
  return v;
}

void ev_complete_chains(struct ev_store *ev, const struct x509_store *trust,
                        const struct x509_pool *bundle) {
  struct ev_chains *ch = *ev_store_chains(ev);
  if (!ch || !ch->n_pend || !trust)
    return;
  struct x509_pool *seen = seen_pool(ch);
  /* The capture first: a certificate both sent and in the bundle is
   * reported where a server sent it. */
  const struct x509_pool *pools[] = {seen, bundle};
  struct verdicts memo = {.v = calloc(ch->n_pend, sizeof(*memo.v)),
                          .slots = calloc(ch->pend_nslots, sizeof(*memo.slots)),
                          .nslots = ch->pend_nslots};
  if (!memo.v) { /* decided one by one */
    free(memo.slots);
    memo.slots = NULL;
  }
  for (size_t i = 0; i < ch->n_pend; i++) {
    struct verdict fresh = {0};
    complete_one(ev, &ch->pend[i], verdict_of(&memo, &fresh, &ch->pend[i], trust, pools, 2));
    verdict_clear(&fresh);
    pending_clear(&ch->pend[i]);
  }
  for (size_t i = 0; i < memo.n; i++)
    verdict_clear(&memo.v[i]);
  free(memo.v);
  free(memo.slots);
  ch->n_pend = 0; /* decided: a later report (--interval) keeps these facts */
  memset(ch->pend_slots, 0, ch->pend_nslots * sizeof(*ch->pend_slots));
  x509_pool_free(seen);
}

bool ev_chains_waiting(const struct ev_store *ev) {
  const struct ev_chains *ch = *ev_store_chains((struct ev_store *)ev);
  return ch && ch->n_pend > 0;
}

/* A copy of p that owns all it holds; false when out of memory. */
static bool pending_dup(struct pending *copy, const struct pending *p) {
  memset(copy, 0, sizeof(*copy));
  copy->key = strdup(p->key);
  struct ev_endpoint ep = {.host = p->host, .ip = p->ip, .port = p->port};
  const struct tls_cert **links = calloc(p->n ? p->n : 1, sizeof(*links));
  for (size_t i = 0; links && i < p->n; i++)
    links[i] = &p->certs[i];
  bool ok =
      copy->key && links && pending_init(copy, copy->key, &ep, p->sni, links, p->n, p->verified_at);
  free(links);
  if (!ok) {
    if (copy->key && !copy->host) /* pending_init never ran */
      free(copy->key);
    return false;
  }
  pending_seen(copy, &p->first, &p->last, p->sessions);
  return true;
}

int ev_chains_copy(struct ev_store *into, const struct ev_chains *from) {
  if (!from)
    return 0;
  struct ev_chains *dst = chains_of(into);
  if (!dst)
    return -1;
  for (size_t i = 0; i < from->n_cas; i++) {
    const struct seen_ca *ca = &from->cas[i];
    struct tls_cert copy = der_copy(dst, ca->sha256, &ca->cert);
    note_ca(dst, ca->sha256, &copy, &ca->at);
  }
  for (size_t i = 0; i < from->n_pend; i++) {
    struct pending copy;
    if (!pending_dup(&copy, &from->pend[i]))
      return -1;
    absorb_pending(dst, &copy);
  }
  dst->ca_refused = ev_count_add(dst->ca_refused, from->ca_refused);
  dst->pend_refused = ev_count_add(dst->pend_refused, from->pend_refused);
  return 0;
}

/* ---- saved with the evidence: what a later merge completes ---- */

static cJSON *der_json(const uint8_t *der, size_t len) {
  char *text = malloc(4 * ((len + 2) / 3) + 1);
  if (!text || len > INT32_MAX) {
    free(text);
    return NULL;
  }
  EVP_EncodeBlock((unsigned char *)text, der, (int)len);
  cJSON *s = cJSON_CreateString(text);
  free(text);
  return s;
}

static void sample_json(cJSON *o, const char *name, const struct ev_sample *at) {
  cJSON *s = cJSON_AddObjectToObject(o, name);
  if (at->file)
    cJSON_AddStringToObject(s, "file", at->file);
  cJSON_AddNumberToObject(s, "frame", (double)at->frame);
  cJSON_AddNumberToObject(s, "ts_us", (double)at->ts);
}

static cJSON *pending_json(const struct pending *p) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "host", p->host);
  cJSON_AddStringToObject(o, "ip", p->ip);
  cJSON_AddNumberToObject(o, "port", p->port);
  cJSON_AddStringToObject(o, "sni", p->sni);
  cJSON_AddNumberToObject(o, "verified_us", (double)p->verified_at);
  cJSON_AddNumberToObject(o, "sessions", (double)p->sessions);
  sample_json(o, "first", &p->first);
  sample_json(o, "last", &p->last);
  cJSON *certs = cJSON_AddArrayToObject(o, "certs");
  for (size_t i = 0; i < p->n; i++)
    cJSON_AddItemToArray(certs, der_json(p->certs[i].der, p->certs[i].der_len));
  return o;
}

cJSON *ev_chains_to_json(const struct ev_chains *ch) {
  if (!ch || (!ch->n_cas && !ch->n_pend && !ch->ca_refused && !ch->pend_refused))
    return NULL;
  cJSON *o = cJSON_CreateObject();
  cJSON *cas = cJSON_AddArrayToObject(o, "cas");
  for (size_t i = 0; i < ch->n_cas; i++) {
    cJSON *ca = cJSON_CreateObject();
    cJSON_AddItemToObject(ca, "der", der_json(ch->cas[i].cert.der, ch->cas[i].cert.der_len));
    sample_json(ca, "at", &ch->cas[i].at);
    cJSON_AddItemToArray(cas, ca);
  }
  cJSON *pend = cJSON_AddArrayToObject(o, "pending");
  for (size_t i = 0; i < ch->n_pend; i++)
    cJSON_AddItemToArray(pend, pending_json(&ch->pend[i]));
  cJSON_AddNumberToObject(o, "cas_refused", (double)ch->ca_refused);
  cJSON_AddNumberToObject(o, "pending_refused", (double)ch->pend_refused);
  return o;
}

#define CHAINS_DER_MAX (1u << 20) /* a certificate in saved evidence */
#define CHAINS_CERTS_MAX 64       /* certificates of one saved chain */

static const char *json_str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) && strlen(v->valuestring) < 1024 ? v->valuestring : NULL;
}

/* A sample as saved; its file stays the JSON's (callers copy it). */
static bool sample_from_json(const cJSON *o, const char *name, struct ev_sample *at) {
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, name);
  double frame, ts;
  if (!cJSON_IsObject(s) || !ev_json_num(s, "frame", 0, 1e18, &frame) ||
      !ev_json_num(s, "ts_us", -EV_JSON_TS_LIMIT, EV_JSON_TS_LIMIT, &ts))
    return false;
  const char *file = json_str(s, "file");
  at->file = (char *)file, at->frame = (uint64_t)frame, at->ts = (cap_time_us)ts;
  return file != NULL || !cJSON_GetObjectItemCaseSensitive(s, "file");
}

/* A certificate as saved, decoded and parsed (x509_cert_clear frees it). */
static bool cert_from_json(const cJSON *v, struct tls_cert *cert) {
  memset(cert, 0, sizeof(*cert));
  size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
  if (!n || n % 4 || n / 4 * 3 > CHAINS_DER_MAX || !(cert->der = malloc(n / 4 * 3)))
    return false;
  int len = EVP_DecodeBlock(cert->der, (const unsigned char *)v->valuestring, (int)n);
  if (len < 0) {
    x509_cert_clear(cert);
    return false;
  }
  /* EVP_DecodeBlock counts the padding as bytes */
  len -= (v->valuestring[n - 1] == '=') + (v->valuestring[n - 2] == '=');
  cert->der_len = (size_t)len;
  x509_cert_parse(cert);
  return true;
}

static bool ca_from_json(struct ev_chains *ch, const cJSON *o) {
  struct tls_cert cert;
  struct ev_sample at = {0};
  if (!cert_from_json(cJSON_GetObjectItemCaseSensitive(o, "der"), &cert))
    return false;
  bool ok = cert.parsed && cert.is_ca && sample_from_json(o, "at", &at);
  if (ok) {
    note_ca(ch, cert.sha256, &cert, &at); /* it takes the DER, keeps or frees it */
  }
  x509_cert_clear(&cert);
  return ok;
}

static bool pending_from_json(struct ev_chains *ch, const cJSON *o) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "certs");
  size_t n = (size_t)cJSON_GetArraySize(arr);
  struct ev_endpoint ep = {.host = (char *)json_str(o, "host"), .ip = (char *)json_str(o, "ip")};
  const char *sni = json_str(o, "sni");
  double port, verified, sessions;
  struct ev_sample first = {0}, last = {0};
  if (!cJSON_IsArray(arr) || !n || n > CHAINS_CERTS_MAX || !ep.host || !ep.ip ||
      !ev_ip_valid(ep.ip) || !sni || !ev_json_num(o, "port", 0, 65535, &port) ||
      !ev_json_num(o, "verified_us", -EV_JSON_TS_LIMIT, EV_JSON_TS_LIMIT, &verified) ||
      !ev_json_num(o, "sessions", 1, (double)EV_COUNT_MAX, &sessions) ||
      !sample_from_json(o, "first", &first) || !sample_from_json(o, "last", &last))
    return false;
  ep.port = (uint16_t)port;
  struct tls_cert certs[CHAINS_CERTS_MAX];
  const struct tls_cert *links[CHAINS_CERTS_MAX];
  size_t got = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    if (!cert_from_json(v, &certs[got]))
      break;
    links[got] = &certs[got];
    got++;
  }
  bool ok = got == n && certs[0].parsed; /* a chain waits only when its leaf was read */
  if (ok)                                /* refused at the cap: counted there, as a run would */
    note_pending(ch, &ep, sni, links, n, (cap_time_us)verified, &first, &last, (uint64_t)sessions);
  for (size_t i = 0; i < got; i++)
    x509_cert_clear(&certs[i]);
  return ok;
}

int ev_chains_from_json(struct ev_store *into, const cJSON *o, char *err, size_t errlen) {
  if (!o)
    return 0;
  const cJSON *cas = cJSON_GetObjectItemCaseSensitive(o, "cas");
  const cJSON *pend = cJSON_GetObjectItemCaseSensitive(o, "pending");
  double ca_refused, pend_refused;
  struct ev_chains *ch = chains_of(into);
  bool ok = ch && cJSON_IsObject(o) && cJSON_IsArray(cas) && cJSON_IsArray(pend) &&
            ev_json_num(o, "cas_refused", 0, (double)EV_COUNT_MAX, &ca_refused) &&
            ev_json_num(o, "pending_refused", 0, (double)EV_COUNT_MAX, &pend_refused);
  const cJSON *v;
  if (ok)
    cJSON_ArrayForEach(v, cas) {
      if (!(ok = ca_from_json(ch, v)))
        break;
    }
  if (ok)
    cJSON_ArrayForEach(v, pend) {
      if (!(ok = pending_from_json(ch, v)))
        break;
    }
  if (!ok) {
    snprintf(err, errlen, "malformed chain notes in the evidence");
    return -1;
  }
  ch->ca_refused = ev_count_add(ch->ca_refused, (uint64_t)ca_refused);
  ch->pend_refused = ev_count_add(ch->pend_refused, (uint64_t)pend_refused);
  return 0;
}
