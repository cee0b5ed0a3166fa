/*
 * dissect/x509_cache.c - certificates already read, by SHA-256.
 *
 * Decoding a certificate through libcrypto 3 costs tens of microseconds
 * (its public-key decoders dominate); a server shows the same chain on every
 * connection.  The cache keeps the facts of certificates seen, keyed by the
 * SHA-256 of their DER, and copies them into each new connection's chain.
 * One cache per thread (it is not locked); bounded: when full, certificates
 * are still read, just not remembered.
 */
#include "dissect/dissect.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Owns its entries, borrows the weak-key lists. */
struct x509_cache {
  struct tls_cert *slots; /* open addressing on the first bytes of sha256 */
  size_t nslots, count;
  const struct x509_weak_keys *weak_keys;
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
  if (c)
    c->nslots = n;
  return c;
}

void x509_cache_free(struct x509_cache *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->nslots; i++)
    x509_cert_clear(&c->slots[i]);
  free(c->slots);
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

static void sha256_hex(const uint8_t *p, size_t n, char out[65]) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  out[0] = '\0';
  if (EVP_Digest(p, n, d, &len, EVP_sha256(), NULL) != 1 || len != 32)
    return;
  for (unsigned i = 0; i < len; i++) {
    out[2 * i] = "0123456789abcdef"[d[i] >> 4];
    out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
  }
  out[64] = '\0';
}

static size_t slot_of(const struct x509_cache *c, const char sha[65]) {
  size_t h = strtoull((char[17]){sha[0], sha[1], sha[2], sha[3], sha[4], sha[5], sha[6], sha[7],
                                 sha[8], sha[9], sha[10], sha[11], sha[12], sha[13], sha[14],
                                 sha[15], 0},
                      NULL, 16);
  size_t j = h & (c->nslots - 1);
  while (c->slots[j].der && strcmp(c->slots[j].sha256, sha) != 0)
    j = (j + 1) & (c->nslots - 1);
  return j;
}

/* Read the certificate and look its key up in the weak-key lists. */
static void parse_fresh(const struct x509_cache *c, struct tls_cert *cert) {
  x509_cert_parse(cert);
  cert->weak_key = x509_weak_keys_lookup(c ? c->weak_keys : NULL, cert);
}

void x509_cert_parse_cached(struct x509_cache *c, struct tls_cert *cert) {
  char sha[65];
  if (!c) {
    parse_fresh(c, cert);
    return;
  }
  sha256_hex(cert->der, cert->der_len, sha);
  if (!sha[0]) {
    parse_fresh(c, cert);
    return;
  }
  struct tls_cert *hit = &c->slots[slot_of(c, sha)];
  if (hit->der && hit->der_len == cert->der_len &&
      memcmp(hit->der, cert->der, cert->der_len) == 0) {
    if (!copy_facts(cert, hit))
      parse_fresh(c, cert); /* out of memory in the copy: read it afresh */
    return;
  }
  parse_fresh(c, cert);
  if (hit->der || c->count * 2 >= c->nslots)
    return; /* full (or a different certificate with the same prefix) */
  struct tls_cert keep = {0};
  keep.der = malloc(cert->der_len ? cert->der_len : 1);
  if (!keep.der)
    return;
  memcpy(keep.der, cert->der, cert->der_len);
  keep.der_len = cert->der_len;
  if (!copy_facts(&keep, cert)) {
    x509_cert_clear(&keep);
    return;
  }
  *hit = keep;
  c->count++;
}
