/*
 * dissect/quic_protect.c - QUIC packet protection through libcrypto:
 * RFC 9001 5.1 (keys from a secret), 5.3 (AEAD), 5.4 (header protection:
 * AES-ECB for the AES suites, ChaCha20 for ChaCha20-Poly1305), 6 (key
 * update), and RFC 9000 A.3 (packet number decoding).
 */
#include "dissect/decrypt.h"
#include "dissect/quic.h"
#include "dissect/quic_protect.h"

#include <openssl/evp.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define IV_LEN 12
#define TAG_LEN 16
#define SAMPLE_LEN 16
#define PN_MAX_LEN 4

/* RFC 9001 5.3: the AEAD and hash of each TLS 1.3 suite QUIC may use. */
struct suite_info {
  uint16_t suite;
  uint8_t aead, key_len, hash_len;
  const char *digest;
};

static const struct suite_info suites[] = {
    {0x1301, QUIC_AEAD_AES_128_GCM, 16, 32, "SHA256"},
    {0x1302, QUIC_AEAD_AES_256_GCM, 32, 48, "SHA384"},
    {0x1303, QUIC_AEAD_CHACHA20_POLY1305, 32, 32, "SHA256"},
};

static const struct suite_info *suite_lookup(uint16_t suite) {
  for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
    if (suites[i].suite == suite)
      return &suites[i];
  return NULL;
}

bool quic_suite_supported(uint16_t suite) {
  return suite_lookup(suite) != NULL;
}

bool quic_keys_from_secret(struct quic_keys *k, const struct quic_secret *s,
                           const struct quic_labels *l) {
  const struct suite_info *si = suite_lookup(s->suite);
  if (!si || s->len != si->hash_len)
    return false;
  memset(k, 0, sizeof *k);
  k->aead = si->aead;
  k->key_len = si->key_len;
  return tls13_expand_label(si->digest, s->v, s->len, l->key, k->key, si->key_len) &&
         tls13_expand_label(si->digest, s->v, s->len, l->iv, k->iv, IV_LEN) &&
         tls13_expand_label(si->digest, s->v, s->len, l->hp, k->hp, si->key_len);
}

bool quic_secret_update(struct quic_secret *s, const struct quic_labels *l) {
  const struct suite_info *si = suite_lookup(s->suite);
  uint8_t next[QUIC_SECRET_MAX];
  if (!si || s->len != si->hash_len ||
      !tls13_expand_label(si->digest, s->v, s->len, l->ku, next, s->len))
    return false;
  memcpy(s->v, next, s->len);
  return true;
}

/* RFC 9001 5.4.3 (AES-ECB of the sample) and 5.4.4 (ChaCha20 with the
 * sample's first 4 bytes as the little-endian block counter and the other
 * 12 as the nonce: libcrypto's 16-byte ChaCha20 IV is exactly that). */
static bool hp_mask(const struct quic_keys *k, const uint8_t sample[SAMPLE_LEN], uint8_t mask[16]) {
  static const uint8_t zeros[16];
  const EVP_CIPHER *cipher = k->aead == QUIC_AEAD_CHACHA20_POLY1305 ? EVP_chacha20()
                             : k->key_len == 32                     ? EVP_aes_256_ecb()
                                                                    : EVP_aes_128_ecb();
  bool chacha = k->aead == QUIC_AEAD_CHACHA20_POLY1305;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok = c && EVP_EncryptInit_ex(c, cipher, NULL, k->hp, chacha ? sample : NULL) == 1 &&
            EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
            EVP_EncryptUpdate(c, mask, &len, chacha ? zeros : sample, 16) == 1 && len == 16;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

/* RFC 9000 A.3: the packet number closest to the next expected one. */
static uint64_t decode_pn(uint64_t expected, uint64_t truncated, unsigned bits) {
  uint64_t win = UINT64_C(1) << bits, hwin = win / 2, mask = win - 1;
  uint64_t candidate = (expected & ~mask) | truncated;

  if (candidate + hwin <= expected && candidate < (UINT64_C(1) << 62) - win)
    return candidate + win;
  if (candidate > expected + hwin && candidate >= win)
    return candidate - win;
  return candidate;
}

int quic_header_open(const struct quic_keys *k, struct rd header, struct rd body, bool long_header,
                     uint64_t expected_pn, struct quic_unprotected *u) {
  struct rd ahead = body;
  uint8_t mask[16];
  const uint8_t *sample, *pn_wire;
  uint64_t truncated = 0;
  (void)header;

  rd_bytes(&ahead, PN_MAX_LEN); /* RFC 9001 5.4.2: the sample assumes a 4-byte number */
  sample = rd_bytes(&ahead, SAMPLE_LEN);
  if (!sample)
    return QUIC_ERR_HEADER;
  if (!hp_mask(k, sample, mask))
    return QUIC_ERR_LIBCRYPTO;
  u->first = header.n ? header.p[0] : 0;
  u->first ^= mask[0] & (long_header ? 0x0f : 0x1f);
  u->pn_len = (size_t)(u->first & 3) + 1;
  pn_wire = rd_bytes(&body, u->pn_len);
  if (!pn_wire || body.n < TAG_LEN)
    return QUIC_ERR_HEADER;
  for (size_t i = 0; i < u->pn_len; i++) {
    u->pn_bytes[i] = pn_wire[i] ^ mask[1 + i];
    truncated = truncated << 8 | u->pn_bytes[i];
  }
  u->pn = decode_pn(expected_pn, truncated, (unsigned)u->pn_len * 8);
  return QUIC_OK;
}

static const EVP_CIPHER *aead_cipher(const struct quic_keys *k) {
  switch (k->aead) {
  case QUIC_AEAD_AES_256_GCM:
    return EVP_aes_256_gcm();
  case QUIC_AEAD_CHACHA20_POLY1305:
    return EVP_chacha20_poly1305();
  default:
    return EVP_aes_128_gcm();
  }
}

/* RFC 9001 5.3: the AAD is the header with its protection removed: the
 * clear first byte, the header bytes after it, the clear packet number. */
int quic_payload_open(const struct quic_keys *k, struct rd header, struct rd body,
                      const struct quic_unprotected *u, uint8_t *out, size_t cap, size_t *out_len) {
  uint8_t nonce[IV_LEN];
  const uint8_t *ct, *tag;
  size_t ct_len;
  int aad_len = 0, len = 0, final_len = 0, rc = QUIC_ERR_LIBCRYPTO;

  rd_bytes(&body, u->pn_len);
  rd_u8(&header);
  if (body.err || header.err || body.n < TAG_LEN)
    return QUIC_ERR_HEADER;
  ct_len = body.n - TAG_LEN;
  if (ct_len > cap)
    return QUIC_ERR_SPACE;
  ct = rd_bytes(&body, ct_len);
  tag = rd_bytes(&body, TAG_LEN);
  memcpy(nonce, k->iv, IV_LEN);
  for (size_t i = 0; i < 8; i++)
    nonce[IV_LEN - 1 - i] ^= (uint8_t)(u->pn >> (8 * i));

  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  bool ok = c && ct_len <= INT_MAX && header.n <= INT_MAX &&
            EVP_DecryptInit_ex(c, aead_cipher(k), NULL, NULL, NULL) == 1 &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, IV_LEN, NULL) == 1 &&
            EVP_DecryptInit_ex(c, NULL, NULL, k->key, nonce) == 1 &&
            EVP_DecryptUpdate(c, NULL, &aad_len, &u->first, 1) == 1 &&
            (header.n == 0 || EVP_DecryptUpdate(c, NULL, &aad_len, header.p, (int)header.n) == 1) &&
            EVP_DecryptUpdate(c, NULL, &aad_len, u->pn_bytes, (int)u->pn_len) == 1 &&
            (ct_len == 0 || EVP_DecryptUpdate(c, out, &len, ct, (int)ct_len) == 1) &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag) == 1;
  if (ok)
    rc = EVP_DecryptFinal_ex(c, out + len, &final_len) == 1 ? QUIC_OK : QUIC_ERR_AUTH;
  EVP_CIPHER_CTX_free(c);
  *out_len = ct_len;
  return rc;
}

/* ------------------------------------------------------------------ */
/* A connection's key-log keys                                         */

/* 1-RTT keys of one direction: the current key phase, the previous one
 * (reordered packets sent before an update), and the next (RFC 9001 6.3:
 * derived ahead, so a packet with the other phase bit can be tried). */
struct app_dir {
  bool valid;
  bool phase;    /* key phase bit of cur */
  bool has_prev; /* prev holds the phase before cur */
  uint64_t phase_start_pn;
  struct quic_keys hp; /* header protection is never updated (RFC 9001 6) */
  struct quic_keys prev, cur, next;
  struct quic_secret next_secret; /* next's secret, for the update after it */
  unsigned updates;
};

struct quic_tls_keys {
  const struct quic_labels *labels; /* static */
  bool hs_valid[2];
  struct quic_keys hs[2];
  struct app_dir app[2];
};

static bool app_dir_init(struct app_dir *a, const struct quic_secret *s,
                         const struct quic_labels *l) {
  a->next_secret = *s;
  a->valid = quic_keys_from_secret(&a->cur, s, l) && quic_secret_update(&a->next_secret, l) &&
             quic_keys_from_secret(&a->next, &a->next_secret, l);
  a->hp = a->cur;
  return a->valid;
}

struct quic_tls_keys *quic_tls_keys_new(const struct quic_secret hs[2],
                                        const struct quic_secret app[2],
                                        const struct quic_labels *labels) {
  struct quic_tls_keys *k = calloc(1, sizeof *k);
  if (!k)
    return NULL;
  k->labels = labels;
  for (int dir = 0; dir < 2; dir++) {
    k->hs_valid[dir] = quic_keys_from_secret(&k->hs[dir], &hs[dir], labels);
    if (!k->hs_valid[dir] || (app[dir].len && !app_dir_init(&k->app[dir], &app[dir], labels))) {
      free(k);
      return NULL;
    }
  }
  return k;
}

void quic_tls_keys_free(struct quic_tls_keys *k) {
  free(k);
}

unsigned quic_tls_key_updates(const struct quic_tls_keys *k, int dir) {
  return k->app[dir & 1].updates;
}

/* RFC 9001 6.2-6.5: the phase bit of the current keys opens with them; the
 * other bit with the previous keys for a packet numbered before the
 * update, else with the next keys, which then become current. */
static int open_app(struct app_dir *a, const struct quic_labels *l, struct rd header,
                    struct rd body, struct quic_unprotected *u, uint8_t *out, size_t cap,
                    size_t *out_len) {
  bool phase = (u->first & 0x04) != 0;
  if (phase == a->phase)
    return quic_payload_open(&a->cur, header, body, u, out, cap, out_len);
  if (a->has_prev && u->pn < a->phase_start_pn)
    return quic_payload_open(&a->prev, header, body, u, out, cap, out_len);
  int rc = quic_payload_open(&a->next, header, body, u, out, cap, out_len);
  if (rc != QUIC_OK)
    return rc;
  a->prev = a->cur;
  a->has_prev = true;
  a->cur = a->next;
  a->phase = phase;
  a->phase_start_pn = u->pn;
  a->updates++;
  if (!quic_secret_update(&a->next_secret, l) ||
      !quic_keys_from_secret(&a->next, &a->next_secret, l))
    a->valid = false; /* libcrypto failed: no more 1-RTT packets */
  return QUIC_OK;
}

int quic_tls_open(struct quic_tls_keys *k, int dir, bool long_header, struct rd header,
                  struct rd body, uint64_t expected_pn, uint8_t *out, size_t cap,
                  struct quic_unprotected *u, size_t *out_len) {
  dir &= 1;
  if (long_header ? !k->hs_valid[dir] : !k->app[dir].valid)
    return QUIC_ERR_VERSION;
  const struct quic_keys *hp = long_header ? &k->hs[dir] : &k->app[dir].hp;
  int rc = quic_header_open(hp, header, body, long_header, expected_pn, u);
  if (rc != QUIC_OK)
    return rc;
  if (long_header)
    return quic_payload_open(&k->hs[dir], header, body, u, out, cap, out_len);
  return open_app(&k->app[dir], k->labels, header, body, u, out, cap, out_len);
}
