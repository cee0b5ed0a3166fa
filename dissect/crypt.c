/*
 * dissect/crypt.c - TLS record protection, opened with keys from a key log.
 * Every primitive is libcrypto's (EVP_KDF "HKDF" and "TLS1-PRF", EVP_CIPHER,
 * EVP_MAC "HMAC"); this file only lays out nonces, additional data and key
 * blocks as the RFCs say.
 *
 *   TLS 1.3 (RFC 8446 5.2-5.3, 7.1-7.3): AES-GCM, ChaCha20-Poly1305; the
 *     per-record nonce is the IV XOR the sequence number; the inner content
 *     type follows the plaintext, then zero padding.
 *   TLS 1.0-1.2 (RFC 5246 6.2.3, 6.3): AES-GCM (RFC 5288, explicit nonce),
 *     ChaCha20-Poly1305 (RFC 7905), and CBC suites with HMAC, MAC-then-
 *     encrypt or encrypt-then-MAC (RFC 7366); TLS 1.0 chains CBC IVs.
 */
#include "dissect/decrypt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdlib.h>
#include <string.h>

#define TAG_LEN 16

enum crypt_mode {
  CRYPT_GCM_EXPLICIT, /* TLS 1.2 GCM: 4-byte salt + 8-byte nonce in the record */
  CRYPT_AEAD_XOR,     /* TLS 1.3, and ChaCha20-Poly1305 in TLS 1.2 */
  CRYPT_CBC,
};

struct tls_crypt {
  enum crypt_mode mode;
  bool tls13;
  bool etm;         /* CBC: encrypt-then-MAC */
  bool explicit_iv; /* CBC: TLS >= 1.1 sends the IV in each record */
  EVP_CIPHER *cipher;
  EVP_CIPHER_CTX *ctx;
  EVP_MAC_CTX *mac; /* CBC only */
  uint8_t key[32];
  size_t key_len;
  uint8_t iv[16]; /* salt, AEAD IV, or the chained CBC IV of TLS 1.0 */
  size_t iv_len;
  size_t block;
  uint8_t mac_key[48];
  size_t mac_len;
  uint64_t seq;
  const char *digest; /* TLS 1.3: the suite's hash, for key updates */
  uint8_t secret[TLS_SECRET_MAX];
  size_t secret_len;
};

void tls_crypt_free(struct tls_crypt *k) {
  if (!k)
    return;
  EVP_CIPHER_CTX_free(k->ctx);
  EVP_CIPHER_free(k->cipher);
  EVP_MAC_CTX_free(k->mac);
  OPENSSL_cleanse(k, sizeof(*k));
  free(k);
}

bool tls_kdf_derive(const char *name, const OSSL_PARAM *params, uint8_t *out, size_t out_len) {
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
  EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  bool ok = kctx && EVP_KDF_derive(kctx, out, out_len, params) > 0;
  EVP_KDF_CTX_free(kctx);
  EVP_KDF_free(kdf);
  return ok;
}

bool tls13_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
                        const char *label, uint8_t *out, size_t out_len) {
  /* HkdfLabel: uint16 length, opaque label<7..255> = "tls13 " + label,
   * opaque context<0..255> (empty here). */
  uint8_t info[2 + 1 + 255 + 1];
  size_t label_len = strlen(label);
  if (6 + label_len > 255 || out_len > 0xffff)
    return false;
  info[0] = (uint8_t)(out_len >> 8);
  info[1] = (uint8_t)out_len;
  info[2] = (uint8_t)(6 + label_len);
  memcpy(info + 3, "tls13 ", 6);
  memcpy(info + 9, label, label_len);
  info[9 + label_len] = 0;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 10 + label_len),
      OSSL_PARAM_construct_end(),
  };
  return tls_kdf_derive("HKDF", params, out, out_len);
}

/* RFC 5246 5: PRF(secret, label, seed1 + seed2); digest "MD5-SHA1" is the
 * TLS 1.0/1.1 PRF (RFC 2246 5). */
static bool tls_prf(const char *digest, const uint8_t *secret, size_t secret_len, const char *label,
                    const uint8_t seed1[32], const uint8_t seed2[32], uint8_t *out,
                    size_t out_len) {
  uint8_t seed[64 + 64];
  size_t label_len = strlen(label);
  if (label_len > 64)
    return false;
  memcpy(seed, label, label_len);
  memcpy(seed + label_len, seed1, 32);
  memcpy(seed + label_len + 32, seed2, 32);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, label_len + 64),
      OSSL_PARAM_construct_end(),
  };
  bool ok = tls_kdf_derive("TLS1-PRF", params, out, out_len);
  OPENSSL_cleanse(seed, sizeof(seed));
  return ok;
}

/* The cipher context keyed once; each record then sets only its IV. */
static bool cipher_init(struct tls_crypt *k, const char *name) {
  k->cipher = EVP_CIPHER_fetch(NULL, name, NULL);
  k->ctx = EVP_CIPHER_CTX_new();
  if (!k->cipher || !k->ctx || EVP_DecryptInit_ex2(k->ctx, k->cipher, k->key, NULL, NULL) <= 0)
    return false;
  if (k->mode == CRYPT_CBC)
    EVP_CIPHER_CTX_set_padding(k->ctx, 0); /* TLS padding is checked here */
  return true;
}

static const struct {
  uint16_t suite;
  const char *cipher, *digest;
  size_t key_len;
} TLS13_SUITES[] = {
    {0x1301, "AES-128-GCM", "SHA256", 16},
    {0x1302, "AES-256-GCM", "SHA384", 32},
    {0x1303, "ChaCha20-Poly1305", "SHA256", 32},
};

/* RFC 8446 7.3: [sender]_write_key and _iv from a traffic secret. */
static bool tls13_keys(struct tls_crypt *k) {
  k->iv_len = 12;
  if (!tls13_expand_label(k->digest, k->secret, k->secret_len, "key", k->key, k->key_len) ||
      !tls13_expand_label(k->digest, k->secret, k->secret_len, "iv", k->iv, k->iv_len))
    return false;
  k->seq = 0;
  return EVP_DecryptInit_ex2(k->ctx, k->cipher, k->key, NULL, NULL) > 0;
}

struct tls_crypt *tls_crypt_tls13(uint16_t suite, const uint8_t *secret, size_t secret_len,
                                  const char **why) {
  size_t i = 0;
  while (i < sizeof(TLS13_SUITES) / sizeof(TLS13_SUITES[0]) && TLS13_SUITES[i].suite != suite)
    i++;
  if (i == sizeof(TLS13_SUITES) / sizeof(TLS13_SUITES[0])) {
    *why = "TLS 1.3 suite not supported (AES-GCM and ChaCha20-Poly1305 are)";
    return NULL;
  }
  struct tls_crypt *k = calloc(1, sizeof(*k));
  if (!k) {
    *why = "out of memory";
    return NULL;
  }
  k->mode = CRYPT_AEAD_XOR;
  k->tls13 = true;
  k->digest = TLS13_SUITES[i].digest;
  k->key_len = TLS13_SUITES[i].key_len;
  size_t hash_len = strcmp(k->digest, "SHA384") == 0 ? 48 : 32;
  if (secret_len != hash_len) {
    *why = "the logged secret's length does not match the suite's hash";
    tls_crypt_free(k);
    return NULL;
  }
  memcpy(k->secret, secret, secret_len);
  k->secret_len = secret_len;
  k->cipher = EVP_CIPHER_fetch(NULL, TLS13_SUITES[i].cipher, NULL);
  k->ctx = EVP_CIPHER_CTX_new();
  if (!k->cipher || !k->ctx || !tls13_keys(k)) {
    *why = "libcrypto refused the keys";
    tls_crypt_free(k);
    return NULL;
  }
  return k;
}

bool tls_crypt_key_update(struct tls_crypt *k) {
  uint8_t next[TLS_SECRET_MAX];
  if (!k->tls13 ||
      !tls13_expand_label(k->digest, k->secret, k->secret_len, "traffic upd", next, k->secret_len))
    return false;
  memcpy(k->secret, next, k->secret_len);
  OPENSSL_cleanse(next, sizeof(next));
  return tls13_keys(k);
}

/* TLS 1.0-1.2 bulk ciphers, by the registry's cipher name. */
static const struct {
  const char *name, *evp;
  size_t key_len;
  enum crypt_mode mode;
} TLS12_CIPHERS[] = {
    {"AES_128_GCM", "AES-128-GCM", 16, CRYPT_GCM_EXPLICIT},
    {"AES_256_GCM", "AES-256-GCM", 32, CRYPT_GCM_EXPLICIT},
    {"ARIA_128_GCM", "ARIA-128-GCM", 16, CRYPT_GCM_EXPLICIT},
    {"ARIA_256_GCM", "ARIA-256-GCM", 32, CRYPT_GCM_EXPLICIT},
    {"CHACHA20_POLY1305", "ChaCha20-Poly1305", 32, CRYPT_AEAD_XOR},
    {"AES_128_CBC", "AES-128-CBC", 16, CRYPT_CBC},
    {"AES_256_CBC", "AES-256-CBC", 32, CRYPT_CBC},
    {"CAMELLIA_128_CBC", "CAMELLIA-128-CBC", 16, CRYPT_CBC},
    {"CAMELLIA_256_CBC", "CAMELLIA-256-CBC", 32, CRYPT_CBC},
    {"3DES_EDE_CBC", "DES-EDE3-CBC", 24, CRYPT_CBC},
};

static bool ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), k = strlen(tail);
  return n >= k && strcmp(s + n - k, tail) == 0;
}

bool tls_crypt_tls12(uint16_t version, uint16_t suite, bool etm, const uint8_t master[48],
                     const uint8_t client_random[32], const uint8_t server_random[32],
                     struct tls_crypt **client_write, struct tls_crypt **server_write,
                     const char **why) {
  *client_write = *server_write = NULL;
  const struct tls_suite_info *info = tls_suite_lookup(suite);
  if (version < TLS_VERSION_TLS10 || version > TLS_VERSION_TLS12) {
    *why = "only TLS 1.0-1.3 records are decrypted (not SSL 3.0 or DTLS)";
    return false;
  }
  size_t c = 0;
  while (info && c < sizeof(TLS12_CIPHERS) / sizeof(TLS12_CIPHERS[0]) &&
         strcmp(TLS12_CIPHERS[c].name, info->cipher) != 0)
    c++;
  if (!info || c == sizeof(TLS12_CIPHERS) / sizeof(TLS12_CIPHERS[0])) {
    *why = "cipher not supported (AES/ARIA-GCM, ChaCha20-Poly1305, AES/Camellia/3DES-CBC are)";
    return false;
  }
  enum crypt_mode mode = TLS12_CIPHERS[c].mode;
  /* The MAC of CBC suites, and the PRF hash of TLS 1.2, come from the
   * suite name's last part (RFC 5246 A.5, RFC 5289). */
  const char *mac = NULL;
  size_t mac_len = 0;
  if (mode == CRYPT_CBC) {
    if (ends_with(info->name, "_SHA"))
      mac = "SHA1", mac_len = 20;
    else if (ends_with(info->name, "_SHA256"))
      mac = "SHA256", mac_len = 32;
    else if (ends_with(info->name, "_SHA384"))
      mac = "SHA384", mac_len = 48;
  } else if (ends_with(info->name, "_SHA256") || ends_with(info->name, "_SHA384")) {
    mac = "";
  }
  if (!mac) {
    *why = "suite MAC not supported";
    return false;
  }
  const char *prf = version < TLS_VERSION_TLS12        ? "MD5-SHA1"
                    : ends_with(info->name, "_SHA384") ? "SHA384"
                                                       : "SHA256";
  size_t key_len = TLS12_CIPHERS[c].key_len;
  size_t block = mode == CRYPT_CBC ? (strstr(info->cipher, "3DES") ? 8 : 16) : 0;
  size_t iv_len = mode == CRYPT_GCM_EXPLICIT ? 4 : mode == CRYPT_AEAD_XOR ? 12 : block;
  /* RFC 5246 6.3: client MAC key, server MAC key, client key, server key,
   * client IV, server IV. */
  uint8_t kb[2 * 48 + 2 * 32 + 2 * 16];
  size_t kb_len = 2 * (mac_len + key_len + iv_len);
  if (!tls_prf(prf, master, 48, "key expansion", server_random, client_random, kb, kb_len)) {
    *why = "libcrypto refused the key derivation";
    return false;
  }
  struct tls_crypt *k[2] = {calloc(1, sizeof(struct tls_crypt)),
                            calloc(1, sizeof(struct tls_crypt))};
  bool ok = k[0] && k[1];
  for (int side = 0; ok && side < 2; side++) {
    struct tls_crypt *d = k[side];
    d->mode = mode;
    d->etm = etm && mode == CRYPT_CBC;
    d->explicit_iv = version >= TLS_VERSION_TLS11;
    d->block = block;
    d->mac_len = mac_len;
    d->key_len = key_len;
    d->iv_len = iv_len;
    memcpy(d->mac_key, kb + side * mac_len, mac_len);
    memcpy(d->key, kb + 2 * mac_len + side * key_len, key_len);
    memcpy(d->iv, kb + 2 * mac_len + 2 * key_len + side * iv_len, iv_len);
    ok = cipher_init(d, TLS12_CIPHERS[c].evp);
    if (ok && mode == CRYPT_CBC) {
      EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
      d->mac = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
      EVP_MAC_free(hmac);
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)mac, 0),
          OSSL_PARAM_construct_end()};
      ok = d->mac && EVP_MAC_CTX_set_params(d->mac, params) > 0;
    }
  }
  OPENSSL_cleanse(kb, sizeof(kb));
  if (!ok) {
    tls_crypt_free(k[0]);
    tls_crypt_free(k[1]);
    *why = "libcrypto refused the keys";
    return false;
  }
  *client_write = k[0];
  *server_write = k[1];
  return true;
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}

/* Decrypt ct[0..n) in place and check the tag. */
static bool aead_open(struct tls_crypt *k, const uint8_t nonce[12], const uint8_t *aad,
                      size_t aad_len, uint8_t *ct, size_t n, const uint8_t *tag) {
  int len;
  uint8_t scratch[32];
  if (EVP_DecryptInit_ex2(k->ctx, NULL, NULL, nonce, NULL) <= 0 ||
      EVP_DecryptUpdate(k->ctx, NULL, &len, aad, (int)aad_len) <= 0 ||
      (n && EVP_DecryptUpdate(k->ctx, ct, &len, ct, (int)n) <= 0) ||
      EVP_CIPHER_CTX_ctrl(k->ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag) <= 0)
    return false;
  return EVP_DecryptFinal_ex(k->ctx, scratch, &len) > 0;
}

/* RFC 8446 5.3 / RFC 7905 2: the IV XOR the 64-bit sequence number. */
static void xor_nonce(const struct tls_crypt *k, uint8_t nonce[12]) {
  uint8_t seq[8];
  put_u64(seq, k->seq);
  memcpy(nonce, k->iv, 12);
  for (int i = 0; i < 8; i++)
    nonce[4 + i] ^= seq[i];
}

static bool open_tls13(struct tls_crypt *k, uint8_t *type, uint16_t version, uint8_t *body,
                       size_t n, uint8_t **plain, size_t *plain_len) {
  if (*type != 23 || n < TAG_LEN + 1)
    return false;
  uint8_t nonce[12],
      aad[5] = {*type, (uint8_t)(version >> 8), (uint8_t)version, (uint8_t)(n >> 8), (uint8_t)n};
  xor_nonce(k, nonce);
  size_t ct_len = n - TAG_LEN;
  if (!aead_open(k, nonce, aad, sizeof(aad), body, ct_len, body + ct_len))
    return false;
  /* TLSInnerPlaintext: content, content type, zeros (RFC 8446 5.2). */
  while (ct_len && body[ct_len - 1] == 0)
    ct_len--;
  if (!ct_len)
    return false;
  *type = body[ct_len - 1];
  *plain = body;
  *plain_len = ct_len - 1;
  return true;
}

/* The pseudo-header every TLS 1.0-1.2 MAC and AEAD covers. */
static void seq_header(const struct tls_crypt *k, uint8_t type, uint16_t version, size_t len,
                       uint8_t out[13]) {
  put_u64(out, k->seq);
  out[8] = type;
  out[9] = (uint8_t)(version >> 8);
  out[10] = (uint8_t)version;
  out[11] = (uint8_t)(len >> 8);
  out[12] = (uint8_t)len;
}

static bool open_aead12(struct tls_crypt *k, uint8_t type, uint16_t version, uint8_t *body,
                        size_t n, uint8_t **plain, size_t *plain_len) {
  uint8_t nonce[12], aad[13];
  size_t explicit_len = k->mode == CRYPT_GCM_EXPLICIT ? 8 : 0;
  if (n < explicit_len + TAG_LEN)
    return false;
  if (explicit_len) {
    memcpy(nonce, k->iv, 4);
    memcpy(nonce + 4, body, 8);
  } else {
    xor_nonce(k, nonce);
  }
  size_t ct_len = n - explicit_len - TAG_LEN;
  seq_header(k, type, version, ct_len, aad);
  uint8_t *ct = body + explicit_len;
  if (!aead_open(k, nonce, aad, sizeof(aad), ct, ct_len, ct + ct_len))
    return false;
  *plain = ct;
  *plain_len = ct_len;
  return true;
}

static bool mac_matches(struct tls_crypt *k, uint8_t type, uint16_t version, const uint8_t *data,
                        size_t len, const uint8_t *expect) {
  uint8_t hdr[13], out[64];
  size_t out_len = 0;
  seq_header(k, type, version, len, hdr);
  if (EVP_MAC_init(k->mac, k->mac_key, k->mac_len, NULL) <= 0 ||
      EVP_MAC_update(k->mac, hdr, sizeof(hdr)) <= 0 ||
      (len && EVP_MAC_update(k->mac, data, len) <= 0) ||
      EVP_MAC_final(k->mac, out, &out_len, sizeof(out)) <= 0 || out_len != k->mac_len)
    return false;
  return CRYPTO_memcmp(out, expect, k->mac_len) == 0;
}

/* RFC 5246 6.2.3.2 (MAC, then padding, then CBC) and RFC 7366 (CBC, then
 * a MAC over IV and ciphertext). */
static bool open_cbc(struct tls_crypt *k, uint8_t type, uint16_t version, uint8_t *body, size_t n,
                     uint8_t **plain, size_t *plain_len) {
  size_t enc_len = n;
  if (k->etm) {
    if (n < k->mac_len)
      return false;
    enc_len = n - k->mac_len;
    if (!mac_matches(k, type, version, body, enc_len, body + enc_len))
      return false;
  }
  size_t iv_len = k->explicit_iv ? k->block : 0;
  if (enc_len < iv_len + k->block || (enc_len - iv_len) % k->block)
    return false;
  uint8_t iv[16], next_iv[16];
  memcpy(iv, iv_len ? body : k->iv, k->block);
  uint8_t *ct = body + iv_len;
  size_t ct_len = enc_len - iv_len;
  memcpy(next_iv, ct + ct_len - k->block, k->block);
  int len;
  if (EVP_DecryptInit_ex2(k->ctx, NULL, NULL, iv, NULL) <= 0 ||
      EVP_DecryptUpdate(k->ctx, ct, &len, ct, (int)ct_len) <= 0 || (size_t)len != ct_len)
    return false;
  if (!k->explicit_iv)
    memcpy(k->iv, next_iv, k->block); /* TLS 1.0: the next record's IV */
  size_t pad = ct[ct_len - 1];
  size_t tail = pad + 1 + (k->etm ? 0 : k->mac_len);
  if (tail > ct_len)
    return false;
  for (size_t i = 0; i <= pad; i++)
    if (ct[ct_len - 1 - i] != pad)
      return false;
  size_t content_len = ct_len - tail;
  if (!k->etm && !mac_matches(k, type, version, ct, content_len, ct + content_len))
    return false;
  *plain = ct;
  *plain_len = content_len;
  return true;
}

bool tls_crypt_open(struct tls_crypt *k, uint8_t *type, uint16_t version, uint8_t *body, size_t n,
                    uint8_t **plain, size_t *plain_len) {
  bool ok;
  if (k->tls13)
    ok = open_tls13(k, type, version, body, n, plain, plain_len);
  else if (k->mode == CRYPT_CBC)
    ok = open_cbc(k, *type, version, body, n, plain, plain_len);
  else
    ok = open_aead12(k, *type, version, body, n, plain, plain_len);
  if (ok)
    k->seq++;
  return ok;
}
