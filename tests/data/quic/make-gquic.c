/*
 * tests/data/quic/make-gquic.c - write the Google QUIC datagrams of
 * gquic-t050.udp, gquic-t051.udp and gquic-q050.udp (committed; the tests
 * read them, and tshark decodes them in tests/e2e/test_quic_versions.py).
 *
 *   cc -o /tmp/make-gquic tests/data/quic/make-gquic.c -lcrypto
 *   python3 tests/data/quic/gquic-hellos.py | /tmp/make-gquic T051 > tests/data/quic/gquic-t051.udp
 *
 * stdin: two lines of hex, the client's and the server's TLS handshake
 * messages (gquic-hellos.py builds them with tests/e2e/pcapgen.py).  Out: one
 * datagram a line, "frame dir hex" as extract.sh writes them: the client's
 * Initial and the server's, protected as Chromium protects the Initials of
 * its TLS versions (QUICHE quic_crypto_utils.cc InitialSaltForVersion: the
 * RFC 9001 5.2 derivation with the version's own salt, labels "quic key",
 * "quic iv", "quic hp"; the long header of IETF QUIC).  The frames are
 * Google QUIC's, not IETF QUIC's (QUICHE uses IETF frames from draft 29 on):
 * CRYPTO is type 0x08 with a varint offset and length, ACK is a special
 * type 01NTLLMM (here 0x40: one-byte largest acked and block length), PADDING
 * fills the rest of the packet.  Q050 carries Google's own crypto
 * handshake, not TLS: its CRYPTO frame holds the first bytes of a CHLO
 * message (tag "CHLO").  Written independently of dissect/quic.c; only the
 * salts are shared knowledge.
 */
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t SALT_Q050[20] = {0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94,
                                      0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0, 0xd3, 0xb5, 0x6b, 0x45};
static const uint8_t SALT_T050[20] = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
                                      0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
static const uint8_t SALT_T051[20] = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                                      0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};
static const uint8_t DCID[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
static const uint8_t SCID[8] = {0x51, 0x30, 0x35, 0x31, 0x73, 0x65, 0x72, 0x76};

static void die(const char *what) {
  fprintf(stderr, "make-gquic: %s\n", what);
  exit(1);
}

/* HKDF (RFC 5869) through EVP_PKEY: extract, or expand with info. */
static void hkdf(int mode, const uint8_t *salt, size_t salt_len, const uint8_t *key, size_t key_len,
                 const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
  EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
  size_t n = out_len;
  if (!c || EVP_PKEY_derive_init(c) <= 0 || EVP_PKEY_CTX_set_hkdf_mode(c, mode) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) <= 0 ||
      (salt_len && EVP_PKEY_CTX_set1_hkdf_salt(c, salt, (int)salt_len) <= 0) ||
      EVP_PKEY_CTX_set1_hkdf_key(c, key, (int)key_len) <= 0 ||
      (info_len && EVP_PKEY_CTX_add1_hkdf_info(c, info, (int)info_len) <= 0) ||
      EVP_PKEY_derive(c, out, &n) <= 0 || n != out_len)
    die("hkdf");
  EVP_PKEY_CTX_free(c);
}

/* RFC 8446 7.1 HKDF-Expand-Label with an empty context. */
static void expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t len) {
  uint8_t info[64];
  size_t k = 0, l = strlen(label);
  info[k++] = 0, info[k++] = (uint8_t)len, info[k++] = (uint8_t)(6 + l);
  memcpy(info + k, "tls13 ", 6), k += 6;
  memcpy(info + k, label, l), k += l;
  info[k++] = 0;
  hkdf(EVP_PKEY_HKDEF_MODE_EXPAND_ONLY, NULL, 0, secret, 32, info, k, out, len);
}

struct keys {
  uint8_t key[16], iv[12], hp[16];
};

static struct keys initial_keys(const uint8_t salt[20], int server) {
  uint8_t initial[32], side[32];
  struct keys k;
  hkdf(EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY, salt, 20, DCID, sizeof DCID, NULL, 0, initial, 32);
  expand_label(initial, server ? "server in" : "client in", side, 32);
  expand_label(side, "quic key", k.key, 16);
  expand_label(side, "quic iv", k.iv, 12);
  expand_label(side, "quic hp", k.hp, 16);
  return k;
}

/* An Initial (RFC 9000 17.2.2) of version, packet number 0 (4 bytes),
 * carrying (the server: an ACK of packet 0, then) one CRYPTO frame at
 * offset 0 and PADDING up to 1200 bytes for the client, protected with k
 * (RFC 9001 5.3, 5.4). */
static size_t initial(uint8_t *out, uint32_t version, const struct keys *k, int server,
                      const uint8_t *data, size_t len) {
  uint8_t plain[1400], mask[16], nonce[12];
  size_t p = 0, h = 0;
  if (server) { /* ACK 0x40: largest acked 0, delay 0, first block 1, no timestamps */
    static const uint8_t ack[] = {0x40, 0x00, 0x00, 0x00, 0x01, 0x00};
    memcpy(plain, ack, sizeof ack), p += sizeof ack;
  }
  plain[p++] = 0x08, plain[p++] = 0x00; /* Google QUIC CRYPTO, offset 0 */
  plain[p++] = (uint8_t)(0x40 | len >> 8), plain[p++] = (uint8_t)len;
  memcpy(plain + p, data, len), p += len;
  size_t want = server ? p : 1200 - 1 - 4 - 1 - 8 - 1 - 1 - 2 - 4 - 16 - (server ? 8 : 0);
  while (p < want)
    plain[p++] = 0; /* PADDING */
  out[h++] = 0xc3;
  for (int i = 3; i >= 0; i--)
    out[h++] = (uint8_t)(version >> (8 * i));
  if (server) { /* to the client's empty SCID, from the server's own */
    out[h++] = 0;
    out[h++] = sizeof SCID, memcpy(out + h, SCID, sizeof SCID), h += sizeof SCID;
  } else {
    out[h++] = sizeof DCID, memcpy(out + h, DCID, sizeof DCID), h += sizeof DCID;
    out[h++] = 0;
  }
  out[h++] = 0; /* no token */
  size_t length = 4 + p + 16;
  out[h++] = (uint8_t)(0x40 | length >> 8), out[h++] = (uint8_t)length;
  out[h++] = 0, out[h++] = 0, out[h++] = 0, out[h++] = 0; /* packet number 0 */
  memcpy(nonce, k->iv, 12);                               /* XOR with pn 0 */
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n;
  if (!c || !EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k->key, nonce) ||
      !EVP_EncryptUpdate(c, NULL, &n, out, (int)h) ||
      !EVP_EncryptUpdate(c, out + h, &n, plain, (int)p) ||
      !EVP_EncryptFinal_ex(c, out + h + p, &n) ||
      !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + h + p) ||
      !EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k->hp, NULL) ||
      !EVP_EncryptUpdate(c, mask, &n, out + h, 16)) /* sample: pn offset + 4 */
    die("aes");
  EVP_CIPHER_CTX_free(c);
  out[0] ^= mask[0] & 0x0f;
  for (int i = 0; i < 4; i++)
    out[h - 4 + i] ^= mask[1 + i];
  return h + p + 16;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  unsigned v;
  while (s[0] && s[1] && s[0] != '\n' && n < cap && sscanf(s, "%2x", &v) == 1)
    out[n++] = (uint8_t)v, s += 2;
  return n;
}

static void print(unsigned frame, int dir, const uint8_t *p, size_t n) {
  printf("%u %d ", frame, dir);
  for (size_t i = 0; i < n; i++)
    printf("%02x", p[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc != 2)
    die("usage: make-gquic T050|T051|Q050 < hellos");
  const char *v = argv[1];
  const uint8_t *salt = strcmp(v, "T050") == 0   ? SALT_T050
                        : strcmp(v, "T051") == 0 ? SALT_T051
                        : strcmp(v, "Q050") == 0 ? SALT_Q050
                                                 : NULL;
  if (!salt || strlen(v) != 4)
    die("unknown version");
  uint32_t version = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
  static char line[2][8192];
  uint8_t msg[2][2048], pkt[1500];
  size_t len[2];
  for (int i = 0; i < 2; i++) {
    if (!fgets(line[i], sizeof line[i], stdin))
      die("want two lines of hex");
    len[i] = unhex(line[i], msg[i], sizeof msg[i]);
  }
  if (version == 0x51303530) { /* Q050: a CHLO, not TLS */
    static const uint8_t chlo[] = {'C', 'H', 'L', 'O', 1, 0, 0, 0, 'S', 'N', 'I', 0, 4, 0, 0, 0};
    memcpy(msg[0], chlo, sizeof chlo);
    len[0] = sizeof chlo;
  }
  for (int dir = 0; dir < (version == 0x51303530 ? 1 : 2); dir++) {
    struct keys k = initial_keys(salt, dir);
    print(1 + (unsigned)dir, dir, pkt, initial(pkt, version, &k, dir, msg[dir], len[dir]));
  }
  return 0;
}
