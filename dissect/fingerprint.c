/*
 * dissect/fingerprint.c - JA3, JA3S (salesforce/ja3) and JA4 (FoxIO-LLC/ja4,
 * technical_details/JA4.md) of the hellos hello.c read.
 *
 * Each fingerprint is a digest of a text made of the hello's numbers.  The
 * text is written by hand into a buffer and handed to libcrypto in one
 * piece: one snprintf and one EVP_DigestUpdate per number cost more than
 * the rest of the hello's parse.
 */
#include "dissect/internal.h"
#include "base/hex.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

/* MD5 and SHA-256, fetched once.  Handed EVP_md5() or EVP_sha256(),
 * EVP_DigestInit_ex looks the algorithm up in the providers again at every
 * call (OpenSSL 3's implicit fetch), under a lock the -j threads share:
 * that cost more than the rest of a fingerprint. */
static EVP_MD *fetched_md5, *fetched_sha256;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void free_digests(void) {
  EVP_MD_free(fetched_md5);
  EVP_MD_free(fetched_sha256);
}

static void fetch_digests(void) {
  fetched_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
  fetched_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
  atexit(free_digests); /* before libcrypto's own clean-up, registered earlier */
}

/* NULL when libcrypto has no such digest: no fingerprint then. */
static const EVP_MD *digest_md5(void) {
  pthread_once(&fetch_once, fetch_digests);
  return fetched_md5;
}

static const EVP_MD *digest_sha256(void) {
  pthread_once(&fetch_once, fetch_digests);
  return fetched_sha256;
}

const EVP_MD *tls_sha256(void) {
  return digest_sha256();
}

/* A digest fed through a buffer, flushed when full and at the end. */
struct md_text {
  EVP_MD_CTX *ctx;
  size_t n;
  char buf[1024];
};

static bool md_open(struct md_text *t, const EVP_MD *md) {
  t->n = 0;
  t->ctx = md ? EVP_MD_CTX_new() : NULL;
  if (t->ctx && !EVP_DigestInit_ex(t->ctx, md, NULL)) {
    EVP_MD_CTX_free(t->ctx);
    t->ctx = NULL;
  }
  return t->ctx != NULL;
}

static void md_flush(struct md_text *t) {
  if (t->n)
    EVP_DigestUpdate(t->ctx, t->buf, t->n);
  t->n = 0;
}

static void md_char(struct md_text *t, char c) {
  if (t->n == sizeof t->buf)
    md_flush(t);
  t->buf[t->n++] = c;
}

static void md_dec(struct md_text *t, unsigned v) {
  char d[10];
  size_t k = 0;
  do
    d[k++] = (char)('0' + v % 10);
  while (v /= 10);
  while (k)
    md_char(t, d[--k]);
}

static void md_hex4(struct md_text *t, uint16_t v) {
  for (int shift = 12; shift >= 0; shift -= 4)
    md_char(t, hex_digits[(v >> shift) & 15]);
}

/* Finish into the hex of the digest's first n_bytes (out: 2n+1 chars). */
static bool md_close(struct md_text *t, size_t n_bytes, char *out) {
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  md_flush(t);
  bool ok = EVP_DigestFinal_ex(t->ctx, md, &md_len) && md_len >= n_bytes;
  EVP_MD_CTX_free(t->ctx);
  if (ok)
    hex_encode(out, md, n_bytes);
  return ok;
}

/* A list as text: decimal joined by '-' (JA3) or 4-digit hex joined by ','
 * (JA4); GREASE left out when asked. */
static void md_list(struct md_text *t, const uint16_t *v, size_t n, bool skip_grease,
                    bool ja4_hex) {
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    if (skip_grease && tls_is_grease(v[i]))
      continue;
    if (!first)
      md_char(t, ja4_hex ? ',' : '-');
    if (ja4_hex)
      md_hex4(t, v[i]);
    else
      md_dec(t, v[i]);
    first = false;
  }
}

/* ------------------------------------------------------------------ */
/* JA3 / JA3S                                                          */

/* JA3: MD5 of
 * "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats",
 * GREASE (RFC 8701) left out of every list. */
void hello_ja3(struct tls_client_hello *ch) {
  struct md_text t;
  if (!md_open(&t, digest_md5()))
    return;
  md_dec(&t, ch->legacy_version);
  md_char(&t, ',');
  md_list(&t, ch->ciphers.v, ch->ciphers.n, true, false);
  md_char(&t, ',');
  md_list(&t, ch->extensions.v, ch->extensions.n, true, false);
  md_char(&t, ',');
  md_list(&t, ch->groups.v, ch->groups.n, true, false);
  md_char(&t, ',');
  for (size_t i = 0; i < ch->ec_point_formats.n; i++) {
    if (i)
      md_char(&t, '-');
    md_dec(&t, ch->ec_point_formats.p[i]);
  }
  md_close(&t, 16, ch->ja3);
}

/* JA3S: MD5 of "SSLVersion,Cipher,Extensions" (extensions as sent). */
void hello_ja3s(struct tls_server_hello *sh) {
  struct md_text t;
  if (!md_open(&t, digest_md5()))
    return;
  md_dec(&t, sh->legacy_version);
  md_char(&t, ',');
  md_dec(&t, sh->cipher);
  md_char(&t, ',');
  md_list(&t, sh->extensions.v, sh->extensions.n, false, false);
  md_close(&t, 16, sh->ja3s);
}

/* ------------------------------------------------------------------ */
/* JA4                                                                 */

static const struct {
  uint16_t version;
  char code[3];
} ja4_versions[] = {
    {TLS_VERSION_TLS13, "13"},  {TLS_VERSION_TLS12, "12"},  {TLS_VERSION_TLS11, "11"},
    {TLS_VERSION_TLS10, "10"},  {TLS_VERSION_SSL3, "s3"},   {TLS_VERSION_SSL2, "s2"},
    {TLS_VERSION_DTLS10, "d1"}, {TLS_VERSION_DTLS12, "d2"}, {TLS_VERSION_DTLS13, "d3"},
};

static const char *ja4_version_code(uint16_t version) {
  for (size_t i = 0; i < sizeof ja4_versions / sizeof ja4_versions[0]; i++)
    if (ja4_versions[i].version == version)
      return ja4_versions[i].code;
  return "00";
}

/* Highest supported_versions entry without GREASE, else legacy_version.
 * DTLS numbers count downwards, so there the lowest is the highest. */
static uint16_t ja4_version(const struct tls_client_hello *ch) {
  uint16_t best = 0;
  uint32_t best_rank = 0;
  for (size_t i = 0; i < ch->versions.n; i++) {
    uint16_t v = ch->versions.v[i];
    uint32_t rank = v >= 0xfe00 ? 0x10000u + (0xffffu - v) : v;
    if (!tls_is_grease(v) && rank > best_rank) {
      best = v;
      best_rank = rank;
    }
  }
  return best ? best : ch->legacy_version;
}

static bool alnum(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last character of the first ALPN value; its hex form's when
 * either byte is not alphanumeric; "00" without one. */
static void ja4_alpn(const struct tls_client_hello *ch, char out[2]) {
  out[0] = out[1] = '0';
  if (ch->n_alpn == 0 || ch->alpn[0].n == 0)
    return;
  uint8_t first = ch->alpn[0].p[0], last = ch->alpn[0].p[ch->alpn[0].n - 1];
  if (alnum(first) && alnum(last)) {
    out[0] = (char)first;
    out[1] = (char)last;
  } else {
    out[0] = hex_digits[first >> 4];
    out[1] = hex_digits[last & 15];
  }
}

static int cmp_u16(const void *a, const void *b) {
  uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
  return (x > y) - (x < y);
}

/* Non-GREASE values of v (minus SNI and ALPN when drop_sni_alpn), sorted. */
static uint16_t *ja4_sorted(const struct tls_u16s *v, bool drop_sni_alpn, size_t *n_out) {
  *n_out = 0;
  uint16_t *out = malloc((v->n ? v->n : 1) * sizeof *out);
  if (!out)
    return NULL;
  for (size_t i = 0; i < v->n; i++) {
    uint16_t x = v->v[i];
    if (tls_is_grease(x) ||
        (drop_sni_alpn &&
         (x == TLS_EXT_SERVER_NAME || x == TLS_EXT_APPLICATION_LAYER_PROTOCOL_NEGOTIATION)))
      continue;
    out[(*n_out)++] = x;
  }
  qsort(out, *n_out, sizeof *out, cmp_u16);
  return out;
}

/* First 12 hex digits of SHA-256 of the list (+ "_" + signature
 * algorithms when there are some), "000000000000" for an empty list. */
static bool ja4_hash(const uint16_t *v, size_t n, const struct tls_u16s *sig_algs, char out[13]) {
  memcpy(out, "000000000000", 13);
  if (n == 0)
    return true;
  struct md_text t;
  if (!md_open(&t, digest_sha256()))
    return false;
  md_list(&t, v, n, false, true);
  size_t n_sig = 0;
  for (size_t i = 0; sig_algs && i < sig_algs->n; i++)
    n_sig += !tls_is_grease(sig_algs->v[i]);
  if (n_sig) {
    md_char(&t, '_');
    md_list(&t, sig_algs->v, sig_algs->n, true, true);
  }
  return md_close(&t, 6, out);
}

void hello_ja4(const struct tls_client_hello *ch, char transport, char out[40]) {
  out[0] = 0;
  size_t n_ciphers = 0, n_exts = 0, n_all_exts = 0;
  bool sni = false;
  for (size_t i = 0; i < ch->extensions.n; i++) {
    n_all_exts += !tls_is_grease(ch->extensions.v[i]);
    sni |= ch->extensions.v[i] == TLS_EXT_SERVER_NAME;
  }
  uint16_t *ciphers = ja4_sorted(&ch->ciphers, false, &n_ciphers);
  uint16_t *exts = ja4_sorted(&ch->extensions, true, &n_exts);
  char cipher_hash[13], ext_hash[13], alpn[2];
  bool ok = ciphers && exts && ja4_hash(ciphers, n_ciphers, NULL, cipher_hash) &&
            ja4_hash(exts, n_exts, &ch->sig_algs, ext_hash);
  free(ciphers);
  free(exts);
  if (!ok)
    return;
  ja4_alpn(ch, alpn);
  snprintf(out, 40, "%c%s%c%02u%02u%c%c_%s_%s", transport, ja4_version_code(ja4_version(ch)),
           sni ? 'd' : 'i', (unsigned)(n_ciphers > 99 ? 99 : n_ciphers),
           (unsigned)(n_all_exts > 99 ? 99 : n_all_exts), alpn[0], alpn[1], cipher_hash, ext_hash);
}
