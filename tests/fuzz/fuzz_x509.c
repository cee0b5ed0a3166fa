/*
 * tests/fuzz/fuzz_x509.c - the bytes as one DER certificate through
 * x509_cert_parse / x509_cert_clear, then, when libcrypto accepted it, as
 * the leaf of a one-certificate chain through x509_trust_check_store
 * (trust store: tests/data/x509/pki-root.pem, found from the repository
 * root, opened once; skipped when it is not there).
 *
 * Checked: reading the certificate twice through an x509_cache (a miss that
 * stores it, then a hit that copies it) gives the facts a plain
 * x509_cert_parse gives.
 */
#include "dissect/dissect.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

static struct x509_store *x509_fuzz_store;
static bool x509_fuzz_store_tried;

static bool x509_fuzz_same_str(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static bool x509_fuzz_same_list(char *const *a, size_t na, char *const *b, size_t nb) {
  if (na != nb)
    return false;
  for (size_t i = 0; i < na; i++)
    if (!x509_fuzz_same_str(a[i], b[i]))
      return false;
  return true;
}

static bool x509_fuzz_same(const struct tls_cert *a, const struct tls_cert *b) {
  return a->parsed == b->parsed && x509_fuzz_same_str(a->parse_error, b->parse_error) &&
         x509_fuzz_same_str(a->subject, b->subject) && x509_fuzz_same_str(a->issuer, b->issuer) &&
         x509_fuzz_same_str(a->subject_cn, b->subject_cn) &&
         x509_fuzz_same_str(a->issuer_cn, b->issuer_cn) &&
         x509_fuzz_same_str(a->subject_o, b->subject_o) &&
         x509_fuzz_same_str(a->issuer_o, b->issuer_o) && a->has_weak_key_fp == b->has_weak_key_fp &&
         memcmp(a->weak_key_fp, b->weak_key_fp, sizeof a->weak_key_fp) == 0 &&
         x509_fuzz_same_list(a->san, a->n_san, b->san, b->n_san) && a->key_type == b->key_type &&
         a->key_bits == b->key_bits && strcmp(a->key_curve, b->key_curve) == 0 &&
         strcmp(a->sig_alg, b->sig_alg) == 0 && strcmp(a->sig_oid, b->sig_oid) == 0 &&
         strcmp(a->not_before, b->not_before) == 0 && strcmp(a->not_after, b->not_after) == 0 &&
         a->not_before_us == b->not_before_us && a->not_after_us == b->not_after_us &&
         x509_fuzz_same_str(a->serial_hex, b->serial_hex) && strcmp(a->sha256, b->sha256) == 0 &&
         a->is_ca == b->is_ca && a->self_signed == b->self_signed &&
         a->must_staple == b->must_staple && a->has_sct_list == b->has_sct_list &&
         x509_fuzz_same_list(a->policies, a->n_policies, b->policies, b->n_policies);
}

/* A cert owning a copy of data[0..size). */
static bool x509_fuzz_cert(struct tls_cert *cert, const uint8_t *data, size_t size) {
  memset(cert, 0, sizeof *cert);
  cert->der = malloc(size ? size : 1);
  if (!cert->der)
    return false;
  if (size)
    memcpy(cert->der, data, size);
  cert->der_len = size;
  return true;
}

/* Read through a cache twice: the miss reads it, the hit gets the entry
 * (or, when nothing could be stored, reads it again); both must say what
 * the plain read said. */
static void x509_fuzz_cached(const struct tls_cert *plain, const uint8_t *data, size_t size) {
  struct x509_cache *cache = x509_cache_new(4);
  if (!cache)
    return;
  struct tls_cert *miss = x509_cert_read_cached(cache, data, size);
  struct tls_cert *hit = x509_cert_read_cached(cache, data, size);
  if (miss)
    FUZZ_INVARIANT(x509_fuzz_same(plain, miss));
  if (hit)
    FUZZ_INVARIANT(x509_fuzz_same(plain, hit));
  if (miss && hit)
    FUZZ_INVARIANT(!size || (hit == miss && hit->cached));
  x509_cert_release(miss);
  x509_cert_release(hit);
  x509_cache_free(cache);
}

int fuzz_x509_one(const uint8_t *data, size_t size) {
  struct tls_cert cert;
  if (!x509_fuzz_cert(&cert, data, size))
    return 0;
  x509_cert_parse(&cert);
  FUZZ_INVARIANT(cert.parsed == (cert.parse_error == NULL));
  if (cert.parsed) {
    FUZZ_INVARIANT(cert.subject && cert.issuer && cert.subject_cn && cert.issuer_cn);
    FUZZ_INVARIANT(cert.subject_o && cert.issuer_o);
    FUZZ_INVARIANT(!cert.has_weak_key_fp || cert.key_type == TLS_KEY_RSA);
    FUZZ_INVARIANT(cert.serial_hex && strlen(cert.sha256) == 64);
    FUZZ_INVARIANT(strlen(cert.not_before) < sizeof cert.not_before);
    for (size_t i = 0; i < cert.n_san; i++)
      FUZZ_INVARIANT(cert.san[i] != NULL);
    if (!x509_fuzz_store_tried) {
      struct x509_trust_opts opts = {"tests/data/x509/pki-root.pem", NULL};
      char reason[256];
      x509_fuzz_store_tried = true;
      x509_fuzz_store = x509_store_open(&opts, reason, sizeof reason);
    }
    if (x509_fuzz_store) {
      struct x509_trust trust;
      const struct tls_cert *link = &cert;
      x509_trust_check_store(x509_fuzz_store, &link, 1, "www.example.com", cert.not_before_us + 1,
                             &trust);
      FUZZ_INVARIANT(trust.checked);
    }
  }
  x509_fuzz_cached(&cert, data, size);
  x509_cert_clear(&cert);
  FUZZ_INVARIANT(cert.der == NULL && cert.subject == NULL);
  return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_x509_one(data, size);
}
#endif
