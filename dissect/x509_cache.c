/*
 * dissect/x509_cache.c - certificates already read.
 *
 * Decoding a certificate through libcrypto 3 costs tens of microseconds
 * (its public-key decoders dominate); a server shows the same chain on every
 * connection.  The cache keeps the facts of certificates seen, keyed by the
 * SHA-256 of their DER, and copies them into each new connection's chain.
 * Threads (-j) share one cache under its lock: a certificate is read once
 * however many workers see it, and reading happens outside the lock.
 * Bounded: when full, certificates are still read, just not remembered.
 */
#include "dissect/dissect.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { OCSP_MEMO = 8 };

/* Owns its entries, borrows the weak-key lists. */
struct x509_cache {
  struct tls_cert *slots; /* open addressing on der_key() */
  size_t nslots, count;
  struct {
    uint8_t *der;
    size_t len;
    struct tls_ocsp_facts facts;
  } ocsp[OCSP_MEMO]; /* replaced round robin */
  size_t ocsp_next;
  const struct x509_weak_keys *weak_keys;
  pthread_mutex_t lock; /* everything above but weak_keys, set before use */
};

void x509_cache_set_weak_keys(struct x509_cache *c, const struct x509_weak_keys *keys) {
  if (c)
    c->weak_keys = keys;
}

struct x509_cache *x509_cache_new(size_t max_entries) {
  struct x509_cache *c = calloc(1, sizeof(*c));
  size_t n = 16;
  while (n < max_entries * 2)
    n *= 2;
  if (c && !(c->slots = calloc(n, sizeof(*c->slots)))) {
    free(c);
    return NULL;
  }
  if (c) {
    c->nslots = n;
    pthread_mutex_init(&c->lock, NULL);
  }
  return c;
}

void x509_cache_free(struct x509_cache *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->nslots; i++)
    x509_cert_clear(&c->slots[i]);
  for (size_t i = 0; i < OCSP_MEMO; i++)
    free(c->ocsp[i].der);
  free(c->slots);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

static char *dup_or_null(const char *s, bool *ok) {
  if (!s)
    return NULL;
  char *d = strdup(s);
  *ok = *ok && d;
  return d;
}

static char **dup_list(char *const *v, size_t n, bool *ok) {
  if (!n)
    return NULL;
  char **d = calloc(n, sizeof(*d));
  for (size_t i = 0; d && i < n; i++)
    d[i] = dup_or_null(v[i], ok);
  *ok = *ok && d;
  return d;
}

/* Deep copy of the facts (not der, at): dst is cleared first.  false when
 * out of memory (dst then holds what could be copied, all owned). */
static bool copy_facts(struct tls_cert *dst, const struct tls_cert *src) {
  uint8_t *der = dst->der;
  size_t der_len = dst->der_len;
  struct tls_at at = dst->at;
  *dst = *src;
  dst->der = der, dst->der_len = der_len, dst->at = at;
  bool ok = true;
  dst->subject = dup_or_null(src->subject, &ok);
  dst->issuer = dup_or_null(src->issuer, &ok);
  dst->subject_cn = dup_or_null(src->subject_cn, &ok);
  dst->issuer_cn = dup_or_null(src->issuer_cn, &ok);
  dst->subject_o = dup_or_null(src->subject_o, &ok);
  dst->issuer_o = dup_or_null(src->issuer_o, &ok);
  dst->serial_hex = dup_or_null(src->serial_hex, &ok);
  dst->san = dup_list(src->san, src->n_san, &ok);
  dst->policies = dup_list(src->policies, src->n_policies, &ok);
  if (!dst->san)
    dst->n_san = 0;
  if (!dst->policies)
    dst->n_policies = 0;
  return ok;
}

/* Where to look for a certificate: a hash of its length and of its first
 * and last 32 bytes (the tail is the signature, unique to each certificate).
 * Cheap next to the SHA-256 of the whole DER, which the first read of a
 * certificate computes and the cache then hands out; the full DER is
 * compared before an entry is used. */
static uint64_t der_key(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ n;
  size_t head = n < 32 ? n : 32;
  for (size_t i = 0; i < head; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  for (size_t i = n - head; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

static bool same_der(const struct tls_cert *a, const uint8_t *der, size_t len) {
  return a->der_len == len && memcmp(a->der, der, len) == 0;
}

/* Read the certificate and look its key up in the weak-key lists. */
static void parse_fresh(const struct x509_cache *c, struct tls_cert *cert) {
  x509_cert_parse(cert);
  cert->weak_key = x509_weak_keys_lookup(c ? c->weak_keys : NULL, cert);
}

/* The slot holding der, or the empty one where it would go (under lock). */
static struct tls_cert *find_slot(struct x509_cache *c, const uint8_t *der, size_t len) {
  size_t j = (size_t)der_key(der, len) & (c->nslots - 1);
  while (c->slots[j].der && !same_der(&c->slots[j], der, len))
    j = (j + 1) & (c->nslots - 1);
  return &c->slots[j];
}

void x509_cert_parse_cached(struct x509_cache *c, struct tls_cert *cert) {
  if (!c || !cert->der_len) {
    parse_fresh(c, cert);
    return;
  }
  pthread_mutex_lock(&c->lock);
  struct tls_cert *hit = find_slot(c, cert->der, cert->der_len);
  bool copied = hit->der && copy_facts(cert, hit);
  bool was_there = hit->der != NULL;
  pthread_mutex_unlock(&c->lock);
  if (copied)
    return;
  parse_fresh(c, cert); /* a miss, or out of memory in the copy: read it afresh */
  if (was_there)
    return;
  struct tls_cert keep = {0};
  keep.der = malloc(cert->der_len);
  if (!keep.der)
    return;
  memcpy(keep.der, cert->der, cert->der_len);
  keep.der_len = cert->der_len;
  if (!copy_facts(&keep, cert)) {
    x509_cert_clear(&keep);
    return;
  }
  pthread_mutex_lock(&c->lock);
  hit = find_slot(c, cert->der, cert->der_len); /* another thread may have added it */
  bool stored = !hit->der && c->count * 2 < c->nslots; /* full: read, not remembered */
  if (stored) {
    *hit = keep;
    c->count++;
  }
  pthread_mutex_unlock(&c->lock);
  if (!stored)
    x509_cert_clear(&keep);
}

bool x509_cache_ocsp_get(struct x509_cache *c, const uint8_t *der, size_t len,
                         struct tls_ocsp_facts *out) {
  if (!c || !len)
    return false;
  bool found = false;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; !found && i < OCSP_MEMO; i++) {
    if (c->ocsp[i].der && c->ocsp[i].len == len && memcmp(c->ocsp[i].der, der, len) == 0) {
      *out = c->ocsp[i].facts;
      found = true;
    }
  }
  pthread_mutex_unlock(&c->lock);
  return found;
}

void x509_cache_ocsp_put(struct x509_cache *c, const uint8_t *der, size_t len,
                         const struct tls_ocsp_facts *facts) {
  uint8_t *copy = c && len ? malloc(len) : NULL;
  if (!copy)
    return;
  memcpy(copy, der, len);
  pthread_mutex_lock(&c->lock);
  size_t i = c->ocsp_next++ % OCSP_MEMO;
  uint8_t *old = c->ocsp[i].der;
  c->ocsp[i].der = copy;
  c->ocsp[i].len = len;
  c->ocsp[i].facts = *facts;
  pthread_mutex_unlock(&c->lock);
  free(old);
}
