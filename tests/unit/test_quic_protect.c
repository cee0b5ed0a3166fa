/*
 * tests/unit/test_quic_protect.c - dissect/quic_protect.c: packet keys
 * from a TLS secret, header protection, AEAD, key updates.
 *
 * Expected values come from RFC 9001 Appendix A.5 (ChaCha20-Poly1305
 * short header packet: secret, key, iv, hp, ku, the protected packet and
 * its payload).  The key-update case seals a packet here with libcrypto
 * directly under keys of the RFC's "ku" secret.  Handshake-space packets
 * of the three suites are checked against tshark on real captures in
 * tests/e2e/test_quic_keylog.py.
 */
#include "dissect/dissect.h"
#include "dissect/quic.h"
#include "dissect/quic_protect.h"
#include "tests/unit/harness.h"

#include <openssl/evp.h>

#include <string.h>

static const struct quic_labels V1 = {"quic key", "quic iv", "quic hp", "quic ku"};

/* RFC 9001 A.5 */
static const char A5_SECRET[] = "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b";
static const char A5_KEY[] = "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8";
static const char A5_IV[] = "e0459b3474bdd0e44a41c144";
static const char A5_HP[] = "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4";
static const char A5_KU[] = "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9";
static const char A5_PACKET[] = "4cfe4189655e5cd55c41f69080575d7999c25a5bfb";
#define A5_PN UINT64_C(654360564)

static bool eq_hex(const uint8_t *p, size_t n, const char *hex) {
  size_t len = 0;
  uint8_t *want = harness_unhex(hex, &len);
  bool eq = want && len == n && memcmp(p, want, n) == 0;
  free(want);
  return eq;
}

static struct quic_secret secret_of(uint16_t suite, const char *hex) {
  struct quic_secret s = {suite, 0, {0}};
  size_t len = 0;
  uint8_t *v = harness_unhex(hex, &len);
  if (v && len <= sizeof s.v) {
    memcpy(s.v, v, len);
    s.len = (uint8_t)len;
  }
  free(v);
  return s;
}

static void test_a5_keys(void) {
  struct quic_secret s = secret_of(0x1303, A5_SECRET);
  struct quic_keys k;
  CHECK(quic_keys_from_secret(&k, &s, &V1));
  CHECK_EQ_U(k.key_len, 32);
  CHECK(eq_hex(k.key, 32, A5_KEY));
  CHECK(eq_hex(k.iv, 12, A5_IV));
  CHECK(eq_hex(k.hp, 32, A5_HP));
  CHECK(quic_secret_update(&s, &V1));
  CHECK(eq_hex(s.v, s.len, A5_KU));
  /* The suite's hash fixes the secret's length; CCM is not supported. */
  struct quic_secret wrong = secret_of(0x1302, A5_SECRET);
  CHECK(!quic_keys_from_secret(&k, &wrong, &V1));
  CHECK(!quic_suite_supported(0x1304));
  CHECK(quic_suite_supported(0x1301) && quic_suite_supported(0x1302));
}

static void test_a5_packet(void) {
  struct quic_secret s = secret_of(0x1303, A5_SECRET);
  struct quic_keys k;
  size_t n = 0, len = 0;
  uint8_t *pkt = harness_unhex(A5_PACKET, &n);
  uint8_t out[64];
  struct quic_unprotected u;
  CHECK(quic_keys_from_secret(&k, &s, &V1));
  /* Empty DCID: the header is the first byte; expected: RFC's 654360563 + 1. */
  struct rd body = rd_make(pkt, n);
  struct rd header = rd_sub(&body, 1);
  CHECK_EQ_U(quic_header_open(&k, header, body, false, A5_PN, &u), QUIC_OK);
  CHECK_EQ_U(u.first, 0x42);
  CHECK_EQ_U(u.pn_len, 3);
  CHECK(u.pn == A5_PN);
  CHECK_EQ_U(quic_payload_open(&k, header, body, &u, out, sizeof out, &len), QUIC_OK);
  CHECK(eq_hex(out, len, "01"));
  /* A flipped tag byte does not authenticate. */
  pkt[n - 1] ^= 1;
  CHECK_EQ_U(quic_payload_open(&k, header, body, &u, out, sizeof out, &len), QUIC_ERR_AUTH);
  /* Too short for the sample (RFC 9001 5.4.2). */
  struct rd short_body = rd_make(pkt + 1, 19);
  CHECK_EQ_U(quic_header_open(&k, header, short_body, false, A5_PN, &u), QUIC_ERR_HEADER);
  free(pkt);
}

/* Seal a 1-RTT packet (empty DCID, 2-byte packet number) with ChaCha20-
 * Poly1305 and ChaCha20 header protection, by RFC 9001 5.3 and 5.4.4. */
static size_t seal_chacha(const struct quic_keys *k, const struct quic_keys *hp, bool phase,
                          uint64_t pn, const uint8_t *payload, size_t n, uint8_t *out) {
  uint8_t nonce[12], mask[5] = {0}, zeros[5] = {0};
  int len = 0;
  out[0] = (uint8_t)(0x41 | (phase ? 0x04 : 0));
  out[1] = (uint8_t)(pn >> 8);
  out[2] = (uint8_t)pn;
  memcpy(nonce, k->iv, 12);
  for (int i = 0; i < 8; i++)
    nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, k->key, nonce);
  EVP_EncryptUpdate(c, NULL, &len, out, 3);
  EVP_EncryptUpdate(c, out + 3, &len, payload, (int)n);
  EVP_EncryptFinal_ex(c, out + 3 + n, &len);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + 3 + n);
  /* sample at packet number offset + 4 = 5 */
  EVP_EncryptInit_ex(c, EVP_chacha20(), NULL, hp->hp, out + 5);
  EVP_EncryptUpdate(c, mask, &len, zeros, 5);
  EVP_CIPHER_CTX_free(c);
  out[0] ^= mask[0] & 0x1f;
  out[1] ^= mask[1];
  out[2] ^= mask[2];
  return 3 + n + 16;
}

static int open_short(struct quic_tls_keys *tk, const uint8_t *pkt, size_t n, uint64_t expected,
                      uint8_t *out, size_t *len) {
  struct rd body = rd_make(pkt, n);
  struct rd header = rd_sub(&body, 1);
  struct quic_unprotected u;
  return quic_tls_open(tk, 0, false, header, body, expected, out, 64, &u, len);
}

/* RFC 9001 6: a packet with the other key phase opens with the next
 * generation's keys (from the "quic ku" secret), which become current;
 * the header protection key stays the first one. */
static void test_key_update(void) {
  struct quic_secret hs[2] = {secret_of(0x1303, A5_SECRET), secret_of(0x1303, A5_SECRET)};
  struct quic_secret app[2] = {secret_of(0x1303, A5_SECRET), secret_of(0x1303, A5_SECRET)};
  struct quic_secret ku = secret_of(0x1303, A5_KU);
  struct quic_keys first, next;
  uint8_t pkt[64], out[64];
  const uint8_t ping[] = {0x01, 0x00, 0x00};
  size_t n, len = 0;
  CHECK(quic_keys_from_secret(&first, &app[0], &V1));
  CHECK(quic_keys_from_secret(&next, &ku, &V1));
  struct quic_tls_keys *tk = quic_tls_keys_new(hs, app, &V1);
  CHECK(tk != NULL);
  if (!tk)
    return;
  n = seal_chacha(&first, &first, false, 1, ping, sizeof ping, pkt);
  CHECK_EQ_U(open_short(tk, pkt, n, 1, out, &len), QUIC_OK);
  CHECK(len == sizeof ping && memcmp(out, ping, len) == 0);
  n = seal_chacha(&next, &first, true, 2, ping, sizeof ping, pkt);
  CHECK_EQ_U(open_short(tk, pkt, n, 2, out, &len), QUIC_OK);
  CHECK_EQ_U(quic_tls_key_updates(tk, 0), 1);
  /* A reordered packet of the old phase, numbered before the update. */
  n = seal_chacha(&first, &first, false, 1, ping, sizeof ping, pkt);
  CHECK_EQ_U(open_short(tk, pkt, n, 3, out, &len), QUIC_OK);
  /* The old keys with the new phase's bit do not authenticate. */
  n = seal_chacha(&first, &first, true, 3, ping, sizeof ping, pkt);
  CHECK_EQ_U(open_short(tk, pkt, n, 3, out, &len), QUIC_ERR_AUTH);
  CHECK_EQ_U(quic_tls_key_updates(tk, 0), 1);
  quic_tls_keys_free(tk);
  /* No keys for a direction without an application secret. */
  app[0].len = 0;
  tk = quic_tls_keys_new(hs, app, &V1);
  CHECK(tk != NULL);
  if (tk)
    CHECK_EQ_U(open_short(tk, pkt, n, 3, out, &len), QUIC_ERR_VERSION);
  quic_tls_keys_free(tk);
}

int main(void) {
  RUN(test_a5_keys);
  RUN(test_a5_packet);
  RUN(test_key_update);
  return harness_done();
}
