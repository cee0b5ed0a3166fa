/*
 * dissect/x509_cache.c - certificates already read.
 *
 * Decoding a certificate through libcrypto 3 costs tens of microseconds
 * (its public-key decoders dominate); a server shows the same chain on every
 * connection.  The cache keeps the certificates seen, read, keyed by their
 * DER, and each connection's chain points to the entries: nothing is
 * copied, and an open connection holds a pointer per certificate.
 * Threads (-j) share one cache under its lock: a certificate is read once
 * however many workers see it, and reading happens outside the lock.
 * Bounded: when full, certificates are still read, just not remembered
 * (each such read is counted: x509_cache_refused).
 */
#include "base/hash.h"
#include "dissect/dissect.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { OCSP_MEMO = 8 };

/* Owns its entries, borrows the weak-key lists. */
struct x509_cache {
  struct tls_cert **slots; /* open addressing on der_key(); entries owned */
  size_t nslots, count;
  size_t max;     /* entries at most (nslots is at least twice that) */
  size_t refused; /* certificates read but not remembered: full */
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
    c->max = max_entries;
    pthread_mutex_init(&c->lock, NULL);
  }
  return c;
}

void x509_cache_free(struct x509_cache *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->nslots; i++) {
    x509_cert_clear(c->slots[i]); /* clears `cached` too */
    free(c->slots[i]);
  }
  for (size_t i = 0; i < OCSP_MEMO; i++)
    free(c->ocsp[i].der);
  free(c->slots);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

/* Where to look for a certificate: a hash of its length and of its first
 * and last 32 bytes (the tail is the signature, unique to each certificate).
 * Cheap next to the SHA-256 of the whole DER, which the first read of a
 * certificate computes and the cache then hands out; the full DER is
 * compared before an entry is used. */
static uint64_t der_key(const uint8_t *p, size_t n) {
  size_t head = n < 32 ? n : 32;
  uint64_t h = hash_bytes(HASH_FNV_OFFSET ^ n, p, head);
  if (head)
    h = hash_bytes(h, p + (n - head), head);
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
static struct tls_cert **find_slot(struct x509_cache *c, const uint8_t *der, size_t len) {
  size_t j = (size_t)der_key(der, len) & (c->nslots - 1);
  while (c->slots[j] && !same_der(c->slots[j], der, len))
    j = (j + 1) & (c->nslots - 1);
  return &c->slots[j];
}

struct tls_cert *x509_cert_read_cached(struct x509_cache *c, const uint8_t *der, size_t len) {
  if (c && len) {
    pthread_mutex_lock(&c->lock);
    struct tls_cert *hit = *find_slot(c, der, len);
    pthread_mutex_unlock(&c->lock);
    if (hit)
      return hit; /* stored whole before the lock let it be seen */
  }
  /* A miss: read it (outside the lock), then offer it to the cache. */
  struct tls_cert *cert = calloc(1, sizeof(*cert));
  if (!cert || !(cert->der = malloc(len ? len : 1))) {
    free(cert);
    return NULL;
  }
  memcpy(cert->der, der, len);
  cert->der_len = len;
  parse_fresh(c, cert);
  if (!c || !len)
    return cert; /* read, not remembered */
  pthread_mutex_lock(&c->lock);
  struct tls_cert **slot = find_slot(c, der, len); /* another thread may have added it */
  struct tls_cert *kept = *slot;
  if (!kept && c->count < c->max) {
    cert->cached = true;
    kept = *slot = cert;
    c->count++;
  } else if (!kept) { /* full: read, not remembered */
    c->refused++;
  }
  pthread_mutex_unlock(&c->lock);
  if (kept && kept != cert)
    x509_cert_release(cert); /* the same facts, read twice: keep the stored ones */
  return kept ? kept : cert;
}

size_t x509_cache_refused(struct x509_cache *c) {
  if (!c)
    return 0;
  pthread_mutex_lock(&c->lock);
  size_t n = c->refused;
  pthread_mutex_unlock(&c->lock);
  return n;
}

void x509_cert_release(const struct tls_cert *cert) {
  if (cert && !cert->cached) {
    struct tls_cert *own = (struct tls_cert *)cert; /* made by read_cached, not const */
    x509_cert_clear(own);
    free(own);
  }
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
