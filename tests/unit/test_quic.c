/*
 * tests/unit/test_quic.c - dissect/quic.c: Initial keys, packet protection,
 * frames, CRYPTO reassembly, Retry, malformed input.
 *
 * Expected values come from outside tlsgrade:
 *  - RFC 9001 Appendix A (keys, protected client and server Initial, and
 *    their unprotected payloads), copied from rfc9001.txt;
 *  - RFC 9369 Appendix A (the same for QUIC version 2);
 *  - the corpus captures, whose UDP payloads tshark extracted into
 *    tests/data/quic/ (extract.sh there), checked against tshark's rows in
 *    /work/shared/corpus/expected/NAME.tshark.tsv (values quoted below);
 *  - packets built here with libcrypto directly from the RFC 9001 A.1 keys
 *    (build_initial), for frames and reassembly cases the RFCs lack.
 * Run from the repository root (the data files are found relative to it).
 */
#include "dissect/dissect.h"
#include "dissect/quic.h"
#include "base/rd.h"
#include "tests/unit/harness.h"

#include <openssl/evp.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* RFC 9001 Appendix A                                                 */

static const char RFC9001_DCID[] = "8394c8f03e515708";

/* A.1 */
static const char V1_CLIENT_KEY[] = "1f369613dd76d5467730efcbe3b1a22d";
static const char V1_CLIENT_IV[] = "fa044b2f42a3fd3b46fb255c";
static const char V1_CLIENT_HP[] = "9f50449e04a0e810283a1e9933adedd2";
static const char V1_SERVER_KEY[] = "cf3a5331653c364c88f0f379b6067e37";
static const char V1_SERVER_IV[] = "0ac1493ca1905853b0bba03e";
static const char V1_SERVER_HP[] = "c206b8d9b9f0f37644430b490eeaa314";

/* A.2: the CRYPTO frame; PADDING makes the payload 1162 bytes. */
static const char CLIENT_CRYPTO_FRAME[] =
    "060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a 00080006001d00170018001000070005"
    "04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408 050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806 048000ffff";
#define CLIENT_PAYLOAD_LEN 1162

static const char V1_CLIENT_PACKET[] =
    "c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

/* A.3: ACK, CRYPTO with the ServerHello, no PADDING. */
static const char SERVER_PAYLOAD[] =
    "02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739"
    "88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94"
    "0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00"
    "020304";

static const char V1_SERVER_PACKET[] =
    "cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

/* A.4: the Retry answering A.2. */
static const char V1_RETRY_PACKET[] =
    "ff000000010008f067a5502a4262b574 6f6b656e04a265ba2eff4d829058fb3f"
    "0f2496ba";

/* ------------------------------------------------------------------ */
/* RFC 9369 Appendix A (same DCID and payloads as RFC 9001's)          */

static const char V2_CLIENT_KEY[] = "8b1a0bc121284290a29e0971b5cd045d";
static const char V2_CLIENT_IV[] = "91f73e2351d8fa91660e909f";
static const char V2_CLIENT_HP[] = "45b95e15235d6f45a6b19cbcb0294ba9";
static const char V2_SERVER_KEY[] = "82db637861d55e1d011f19ea71d5d2a7";
static const char V2_SERVER_IV[] = "dd13c276499c0249d3310652";
static const char V2_SERVER_HP[] = "edf6d05c83121201b436e16877593c3a";

static const char V2_CLIENT_PACKET[] =
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";

static const char V2_SERVER_PACKET[] =
    "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698"
    "baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17"
    "f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
    "c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8"
    "4bed8521e2e140";

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

struct buf {
  uint8_t *p;
  size_t n;
};

/* Hex (spaces ignored) to bytes; caller frees. */
static struct buf unhex(const char *s) {
  struct buf b;
  b.p = harness_unhex(s, &b.n);
  return b;
}

static bool bytes_eq_hex(const uint8_t *p, size_t n, const char *hex) {
  struct buf want = unhex(hex);
  bool eq = want.n == n && memcmp(want.p, p, n) == 0;
  free(want.p);
  return eq;
}

/* Collects what quic_conn_datagram delivers, per direction. */
struct collector {
  uint8_t *data[2];
  size_t len[2];
  unsigned calls[2];
  unsigned bad;           /* a delivery not at the end of what came before */
  uint64_t done_frame[2]; /* frame that completed the first handshake message */
};

static void collect(void *ctx, int dir, const uint8_t *data, size_t len, uint64_t offset,
                    uint32_t file_index, uint64_t frame, int64_t ts) {
  struct collector *c = ctx;
  (void)file_index;
  (void)ts;
  if (dir < 0 || dir > 1 || offset != c->len[dir] || len == 0) {
    c->bad++;
    return;
  }
  c->data[dir] = realloc(c->data[dir], c->len[dir] + len);
  memcpy(c->data[dir] + c->len[dir], data, len);
  c->len[dir] += len;
  c->calls[dir]++;
  if (!c->done_frame[dir] && c->len[dir] >= 4) {
    size_t msg = (size_t)c->data[dir][1] << 16 | (size_t)c->data[dir][2] << 8 | c->data[dir][3];
    if (c->len[dir] >= 4 + msg)
      c->done_frame[dir] = frame;
  }
}

static void collector_free(struct collector *c) {
  free(c->data[0]);
  free(c->data[1]);
}

static bool feed(struct quic_conn *q, int dir, const struct buf *b, uint64_t frame,
                 struct collector *c) {
  return quic_conn_datagram(q, dir, b->p, b->n, 0, frame, 0, collect, c);
}

struct pkeys {
  uint8_t key[16], iv[12], hp[16];
};

/* RFC 9001 A.1 keys of side dir. */
static struct pkeys rfc_keys(int dir) {
  struct pkeys k;
  struct buf key = unhex(dir ? V1_SERVER_KEY : V1_CLIENT_KEY);
  struct buf iv = unhex(dir ? V1_SERVER_IV : V1_CLIENT_IV);
  struct buf hp = unhex(dir ? V1_SERVER_HP : V1_CLIENT_HP);
  memcpy(k.key, key.p, 16);
  memcpy(k.iv, iv.p, 12);
  memcpy(k.hp, hp.p, 16);
  free(key.p);
  free(iv.p);
  free(hp.p);
  return k;
}

/* Protect a version 1 Initial independently of quic.c (RFC 9001 5.3,
 * 5.4): the given DCID, empty SCID and token, a 4-byte packet number. */
static struct buf build_packet(const struct pkeys *k, const uint8_t *dcid, size_t dcid_len,
                               uint32_t pn, const uint8_t *payload, size_t len) {
  size_t length = 4 + len + 16, hdr = 0;
  struct buf out = {calloc(1, 1 + 4 + 1 + dcid_len + 2 + 2 + length), 0};
  uint8_t nonce[12], mask[16];
  int n = 0;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

  out.p[hdr++] = 0xc3; /* Initial, 4-byte packet number */
  out.p[hdr++] = 0, out.p[hdr++] = 0, out.p[hdr++] = 0, out.p[hdr++] = 1;
  out.p[hdr++] = (uint8_t)dcid_len;
  memcpy(out.p + hdr, dcid, dcid_len);
  hdr += dcid_len;
  out.p[hdr++] = 0; /* SCID */
  out.p[hdr++] = 0; /* token */
  out.p[hdr++] = (uint8_t)(0x40 | length >> 8);
  out.p[hdr++] = (uint8_t)length;
  for (int i = 3; i >= 0; i--)
    out.p[hdr++] = (uint8_t)(pn >> (8 * i));
  out.n = hdr + len + 16;
  memcpy(nonce, k->iv, 12);
  for (int i = 0; i < 4; i++)
    nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
  EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k->key, nonce);
  EVP_EncryptUpdate(c, NULL, &n, out.p, (int)hdr);
  EVP_EncryptUpdate(c, out.p + hdr, &n, payload, (int)len);
  EVP_EncryptFinal_ex(c, out.p + hdr + len, &n);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out.p + hdr + len);
  EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k->hp, NULL);
  EVP_EncryptUpdate(c, mask, &n, out.p + hdr, 16); /* sample at pn_offset + 4 */
  EVP_CIPHER_CTX_free(c);
  out.p[0] ^= mask[0] & 0x0f;
  for (int i = 0; i < 4; i++)
    out.p[hdr - 4 + i] ^= mask[1 + i];
  return out;
}

/* A packet of side dir with the RFC 9001 DCID and A.1 keys. */
static struct buf build_hex(int dir, uint32_t pn, const char *payload_hex) {
  struct buf pl = unhex(payload_hex), dcid = unhex(RFC9001_DCID);
  struct pkeys k = rfc_keys(dir);
  struct buf b = build_packet(&k, dcid.p, dcid.n, pn, pl.p, pl.n);
  free(pl.p);
  free(dcid.p);
  return b;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

static void check_keys(uint32_t version, int dir, const char *key, const char *iv, const char *hp) {
  struct buf dcid = unhex(RFC9001_DCID);
  uint8_t k[16], i[12], h[16];
  CHECK_EQ_U(quic_initial_keys(version, dcid.p, dcid.n, dir, k, i, h), QUIC_OK);
  CHECK(bytes_eq_hex(k, 16, key));
  CHECK(bytes_eq_hex(i, 12, iv));
  CHECK(bytes_eq_hex(h, 16, hp));
  free(dcid.p);
}

static void test_keys_rfc9001(void) {
  check_keys(QUIC_VERSION_1, 0, V1_CLIENT_KEY, V1_CLIENT_IV, V1_CLIENT_HP);
  check_keys(QUIC_VERSION_1, 1, V1_SERVER_KEY, V1_SERVER_IV, V1_SERVER_HP);
}

static void test_keys_rfc9369(void) {
  check_keys(QUIC_VERSION_2, 0, V2_CLIENT_KEY, V2_CLIENT_IV, V2_CLIENT_HP);
  check_keys(QUIC_VERSION_2, 1, V2_SERVER_KEY, V2_SERVER_IV, V2_SERVER_HP);
}

static void test_keys_refused(void) {
  uint8_t k[16], i[12], h[16], cid[21] = {0};
  CHECK_EQ_U(quic_initial_keys(0x12345678, cid, 8, 0, k, i, h), QUIC_ERR_VERSION);
  CHECK_EQ_U(quic_initial_keys(QUIC_VERSION_1, cid, 21, 0, k, i, h), QUIC_ERR_HEADER);
  /* An empty DCID is legal input to the derivation. */
  CHECK_EQ_U(quic_initial_keys(QUIC_VERSION_1, cid, 0, 0, k, i, h), QUIC_OK);
}

/* ------------------------------------------------------------------ */
/* Single packets                                                      */

static void check_client_packet(uint32_t version, const char *packet_hex) {
  struct buf pkt = unhex(packet_hex), dcid = unhex(RFC9001_DCID);
  struct buf frame = unhex(CLIENT_CRYPTO_FRAME);
  uint8_t plain[1500];
  size_t len = sizeof plain, pkt_len = 0;

  CHECK_EQ_U(pkt.n, 1200);
  CHECK_EQ_U(quic_decrypt_initial(version, dcid.p, dcid.n, 0, pkt.p, pkt.n, plain, &len, &pkt_len),
             QUIC_OK);
  CHECK_EQ_U(len, CLIENT_PAYLOAD_LEN);
  CHECK_EQ_U(pkt_len, 1200);
  CHECK(memcmp(plain, frame.p, frame.n) == 0);
  size_t zeros = 0;
  for (size_t i = frame.n; i < len; i++)
    zeros += plain[i] == 0;
  CHECK_EQ_U(zeros, CLIENT_PAYLOAD_LEN - frame.n);
  /* Too small an output buffer. */
  len = 100;
  CHECK_EQ_U(quic_decrypt_initial(version, dcid.p, dcid.n, 0, pkt.p, pkt.n, plain, &len, NULL),
             QUIC_ERR_SPACE);
  /* Server keys do not open a client packet. */
  len = sizeof plain;
  CHECK_EQ_U(quic_decrypt_initial(version, dcid.p, dcid.n, 1, pkt.p, pkt.n, plain, &len, NULL),
             QUIC_ERR_AUTH);
  free(pkt.p);
  free(dcid.p);
  free(frame.p);
}

static void check_server_packet(uint32_t version, const char *packet_hex) {
  struct buf pkt = unhex(packet_hex), dcid = unhex(RFC9001_DCID);
  uint8_t plain[1500];
  size_t len = sizeof plain, pkt_len = 0;

  CHECK_EQ_U(quic_decrypt_initial(version, dcid.p, dcid.n, 1, pkt.p, pkt.n, plain, &len, &pkt_len),
             QUIC_OK);
  CHECK_EQ_U(pkt_len, pkt.n);
  CHECK(bytes_eq_hex(plain, len, SERVER_PAYLOAD));
  free(pkt.p);
  free(dcid.p);
}

static void test_rfc9001_client_initial(void) {
  check_client_packet(QUIC_VERSION_1, V1_CLIENT_PACKET);
}

static void test_rfc9001_server_initial(void) {
  check_server_packet(QUIC_VERSION_1, V1_SERVER_PACKET);
}

static void test_rfc9369_client_initial(void) {
  check_client_packet(QUIC_VERSION_2, V2_CLIENT_PACKET);
}

static void test_rfc9369_server_initial(void) {
  check_server_packet(QUIC_VERSION_2, V2_SERVER_PACKET);
}

static void test_decrypt_refusals(void) {
  struct buf v1 = unhex(V1_CLIENT_PACKET), v2 = unhex(V2_CLIENT_PACKET);
  struct buf retry = unhex(V1_RETRY_PACKET), dcid = unhex(RFC9001_DCID);
  uint8_t plain[1500];
  size_t len = sizeof plain;

  /* The version argument must match the packet's. */
  CHECK_EQ_U(quic_decrypt_initial(QUIC_VERSION_2, dcid.p, dcid.n, 0, v1.p, v1.n, plain, &len, NULL),
             QUIC_ERR_VERSION);
  CHECK_EQ_U(quic_decrypt_initial(QUIC_VERSION_1, dcid.p, dcid.n, 0, v2.p, v2.n, plain, &len, NULL),
             QUIC_ERR_VERSION);
  CHECK_EQ_U(
      quic_decrypt_initial(QUIC_VERSION_1, dcid.p, dcid.n, 0, retry.p, retry.n, plain, &len, NULL),
      QUIC_ERR_NOT_INITIAL);
  /* A wrong DCID gives wrong keys. */
  dcid.p[0] ^= 1;
  CHECK_EQ_U(quic_decrypt_initial(QUIC_VERSION_1, dcid.p, dcid.n, 0, v1.p, v1.n, plain, &len, NULL),
             QUIC_ERR_AUTH);
  free(v1.p);
  free(v2.p);
  free(retry.p);
  free(dcid.p);
}

/* Every truncation of the RFC packet fails cleanly, alone and in a flow. */
static void test_truncations(void) {
  struct buf pkt = unhex(V1_CLIENT_PACKET), dcid = unhex(RFC9001_DCID);
  uint8_t plain[1500];
  unsigned ok = 0, delivered = 0, unflagged = 0;

  for (size_t n = 0; n < pkt.n; n++) {
    uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees overreads */
    size_t len = sizeof plain;
    struct collector c = {0};
    struct quic_conn *q = quic_conn_new(4096);
    memcpy(copy, pkt.p, n);
    ok += quic_decrypt_initial(QUIC_VERSION_1, dcid.p, dcid.n, 0, copy, n, plain, &len, NULL) ==
          QUIC_OK;
    bool is_quic = quic_conn_datagram(q, 0, copy, n, 0, 1, 0, collect, &c);
    delivered += c.len[0] + c.len[1] > 0;
    unflagged += is_quic && !quic_conn_malformed(q);
    CHECK_EQ_U(is_quic, n >= 5); /* first byte and version make it QUIC */
    collector_free(&c);
    quic_conn_free(q);
    free(copy);
  }
  CHECK_EQ_U(ok, 0);
  CHECK_EQ_U(delivered, 0);
  CHECK_EQ_U(unflagged, 0);
  free(pkt.p);
  free(dcid.p);
}

/* Any changed byte of header or ciphertext fails authentication. */
static void test_flipped_bytes(void) {
  struct buf pkt = unhex(V1_CLIENT_PACKET), dcid = unhex(RFC9001_DCID);
  size_t where[] = {1199 /* tag */, 500 /* ciphertext */, 7 /* DCID in the AAD */,
                    19 /* packet number */, 0 /* packet number length bits */};
  uint8_t plain[1500];

  for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
    size_t len = sizeof plain;
    struct collector c = {0};
    struct quic_conn *q = quic_conn_new(4096);
    pkt.p[where[i]] ^= 0x01;
    CHECK(quic_decrypt_initial(QUIC_VERSION_1, dcid.p, dcid.n, 0, pkt.p, pkt.n, plain, &len,
                               NULL) != QUIC_OK);
    CHECK(feed(q, 0, &pkt, 1, &c));
    CHECK(quic_conn_malformed(q) != NULL);
    CHECK_EQ_U(c.len[0], 0);
    CHECK_EQ_U(quic_conn_stats(q)->initial_undecryptable, 1);
    pkt.p[where[i]] ^= 0x01;
    collector_free(&c);
    quic_conn_free(q);
  }
  free(pkt.p);
  free(dcid.p);
}

/* ------------------------------------------------------------------ */
/* A flow                                                              */

/* RFC 9001 A.2 then A.3 through a connection: both hellos come out. */
static void check_rfc_flow(uint32_t version, const char *client_hex, const char *server_hex) {
  struct buf cli = unhex(client_hex), srv = unhex(server_hex), frame = unhex(CLIENT_CRYPTO_FRAME);
  struct buf server_payload = unhex(SERVER_PAYLOAD);
  struct quic_conn *q = quic_conn_new(4096);
  struct collector c = {0};

  CHECK(feed(q, 0, &cli, 1, &c));
  CHECK(feed(q, 1, &srv, 2, &c));
  CHECK(quic_conn_malformed(q) == NULL);
  CHECK_EQ_U(quic_conn_version(q), version);
  /* The CRYPTO frame's data starts 4 bytes in (type, offset, 2-byte length). */
  CHECK_EQ_U(c.len[0], 241);
  CHECK(c.len[0] == 241 && memcmp(c.data[0], frame.p + 4, 241) == 0);
  CHECK_EQ_U(c.len[1], 90);
  CHECK(c.len[1] == 90 && memcmp(c.data[1], server_payload.p + 9, 90) == 0);
  CHECK_EQ_U(c.done_frame[0], 1);
  CHECK_EQ_U(c.done_frame[1], 2);
  CHECK_EQ_U(c.bad, 0);
  CHECK_EQ_U(quic_conn_stats(q)->initial_decrypted, 2);
  /* The same packets again are retransmissions: nothing new. */
  CHECK(feed(q, 0, &cli, 3, &c));
  CHECK_EQ_U(c.len[0], 241);
  quic_conn_free(q);
  collector_free(&c);
  free(cli.p);
  free(srv.p);
  free(frame.p);
  free(server_payload.p);
}

static void test_flow_rfc9001(void) {
  check_rfc_flow(QUIC_VERSION_1, V1_CLIENT_PACKET, V1_SERVER_PACKET);
}

static void test_flow_rfc9369(void) {
  check_rfc_flow(QUIC_VERSION_2, V2_CLIENT_PACKET, V2_SERVER_PACKET);
}

/* A server Initial before any client Initial cannot be opened: counted,
 * not malformed. */
static void test_server_first(void) {
  struct buf srv = unhex(V1_SERVER_PACKET);
  struct quic_conn *q = quic_conn_new(4096);
  struct collector c = {0};

  CHECK(feed(q, 1, &srv, 1, &c));
  CHECK(quic_conn_malformed(q) == NULL);
  CHECK_EQ_U(quic_conn_stats(q)->initial_undecryptable, 1);
  CHECK_EQ_U(c.len[1], 0);
  CHECK_EQ_U(quic_conn_version(q), QUIC_VERSION_1);
  quic_conn_free(q);
  collector_free(&c);
  free(srv.p);
}

/* Client Initial and a Handshake packet coalesced, then zero padding; a
 * following packet with another DCID is ignored (RFC 9000 12.2). */
static void test_coalesced(void) {
  struct buf cli = unhex(V1_CLIENT_PACKET), srv = unhex(V1_SERVER_PACKET);
  /* A Handshake packet (type 2): DCID 8394c8f03e515708, Length 20. */
  struct buf hs = unhex("e000000001088394c8f03e51570800 14"
                        "0000000000000000000000000000000000000000");
  size_t n = cli.n + hs.n + 30 + srv.n;
  struct buf dg = {calloc(1, n), n};
  struct quic_conn *q = quic_conn_new(4096);
  struct collector c = {0};

  memcpy(dg.p, cli.p, cli.n);
  memcpy(dg.p + cli.n, hs.p, hs.n);
  CHECK(feed(q, 0, &dg, 1, &c)); /* Initial, Handshake, 30 + srv.n zeros */
  CHECK(quic_conn_malformed(q) == NULL);
  CHECK_EQ_U(c.len[0], 241);
  CHECK_EQ_U(quic_conn_stats(q)->skipped_packets, 1);
  memcpy(dg.p + cli.n + hs.n, srv.p, srv.n); /* now a packet with DCID f067... */
  CHECK(feed(q, 0, &dg, 2, &c));
  CHECK(quic_conn_malformed(q) == NULL);
  CHECK_EQ_U(quic_conn_stats(q)->skipped_packets, 3);
  CHECK_EQ_U(quic_conn_stats(q)->initial_decrypted, 2);
  quic_conn_free(q);
  collector_free(&c);
  free(cli.p);
  free(srv.p);
  free(hs.p);
  free(dg.p);
}

static void test_not_quic(void) {
  /* DTLS 1.2 ClientHello record header, RTP v2, a short header, too short. */
  struct buf dtls = unhex("16fefd000000000000000000500100004400010000000000");
  struct buf rtp = unhex("8000123400000001000000000000000000");
  struct buf rtp1 = unhex("8000000001000001000000000000000000"); /* "version 1" */
  struct buf short_hdr = unhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
  struct buf tiny = unhex("c0000000");
  struct buf cli = unhex(V1_CLIENT_PACKET);
  struct quic_conn *q = quic_conn_new(4096);
  struct collector c = {0};

  CHECK(!feed(q, 0, &dtls, 1, &c));
  CHECK(!feed(q, 0, &rtp, 2, &c));
  CHECK(!feed(q, 0, &rtp1, 2, &c));
  CHECK(!feed(q, 0, &short_hdr, 3, &c));
  CHECK(!feed(q, 0, &tiny, 4, &c));
  CHECK_EQ_U(quic_conn_version(q), 0);
  CHECK(feed(q, 0, &cli, 5, &c));
  /* Once the flow is QUIC, a short header is a skipped 1-RTT packet. */
  CHECK(feed(q, 1, &short_hdr, 6, &c));
  CHECK_EQ_U(quic_conn_stats(q)->skipped_packets, 1);
  CHECK(quic_conn_malformed(q) == NULL);
  quic_conn_free(q);
  collector_free(&c);
  free(dtls.p);
  free(rtp.p);
  free(rtp1.p);
  free(short_hdr.p);
  free(tiny.p);
  free(cli.p);
}

static void test_version_negotiation(void) {
  /* A client Initial of a reserved version (RFC 9000 15), then the
   * server's Version Negotiation: version 0, CIDs, versions 1 and GREASE. */
  struct buf grease = unhex("c01a2a3a4a0401020304040506070800");
  struct buf vn = unhex("80000000000401020304040506070800000001 1a2a3a4a");
  struct quic_conn *q = quic_conn_new(4096);
  struct collector c = {0};

  CHECK(!feed(q, 1, &vn, 1, &c)); /* alone, VN does not make a flow QUIC */
  CHECK(feed(q, 0, &grease, 1, &c));
  CHECK_EQ_U(quic_conn_version(q), 0x1a2a3a4a);
  CHECK(feed(q, 1, &vn, 2, &c));
  CHECK(quic_conn_malformed(q) == NULL);
  CHECK_EQ_U(quic_conn_stats(q)->skipped_packets, 2);
  quic_conn_free(q);
  collector_free(&c);
  free(vn.p);
  free(grease.p);
}

/* RFC 9001 A.2, the Retry of A.4 (SCID f067a5502a4262b5), then a new
 * client Initial to that DCID and a server Initial, both protected with
 * keys from the new DCID (RFC 9001 5.2): quic.c must switch keys. */
static void test_retry_packet(void) {
  struct buf cli = unhex(V1_CLIENT_PACKET), retry = unhex(V1_RETRY_PACKET);
  struct buf new_cid = unhex("f067a5502a4262b5");
  struct pkeys kc, ks;
  struct quic_conn *q = quic_conn_new(4096);
  struct collector c = {0};

  CHECK_EQ_U(quic_initial_keys(QUIC_VERSION_1, new_cid.p, new_cid.n, 0, kc.key, kc.iv, kc.hp),
             QUIC_OK);
  CHECK_EQ_U(quic_initial_keys(QUIC_VERSION_1, new_cid.p, new_cid.n, 1, ks.key, ks.iv, ks.hp),
             QUIC_OK);
  struct buf cli2 = build_packet(&kc, new_cid.p, new_cid.n, 3, (const uint8_t *)"\x06\x00\x01X", 4);
  struct buf srv = build_packet(&ks, new_cid.p, new_cid.n, 0, (const uint8_t *)"\x06\x00\x02YZ", 5);

  CHECK(feed(q, 0, &cli, 1, &c));
  CHECK(feed(q, 1, &retry, 2, &c));
  CHECK_EQ_U(quic_conn_stats(q)->retries, 1);
  CHECK(feed(q, 0, &cli2, 3, &c));
  CHECK(feed(q, 1, &srv, 4, &c));
  CHECK(quic_conn_malformed(q) == NULL);
  CHECK_EQ_U(quic_conn_stats(q)->initial_decrypted, 3);
  CHECK_EQ_U(c.len[0], 241); /* the retransmitted byte 0 is old news */
  CHECK(c.len[1] == 2 && memcmp(c.data[1], "YZ", 2) == 0);
  /* The first attempt's keys no longer open server packets. */
  struct buf srv_old = unhex(V1_SERVER_PACKET);
  CHECK(feed(q, 1, &srv_old, 5, &c));
  CHECK_STR(quic_conn_malformed(q), "Initial packet failed authentication");
  quic_conn_free(q);
  collector_free(&c);
  free(cli.p);
  free(retry.p);
  free(new_cid.p);
  free(cli2.p);
  free(srv.p);
  free(srv_old.p);
}

/* ------------------------------------------------------------------ */
/* Frames and reassembly, with packets built here                      */

/* CRYPTO frames out of order and overlapping: first copy wins. */
static void test_reassembly(void) {
  struct quic_conn *q = quic_conn_new(4096);
  struct collector c = {0};
  /* One packet: [6,10) "GHIJ", PING, [2,6) "cdef", ACK, [4,8) "xxxx". */
  struct buf p1 = build_hex(0, 0,
                            "0606044748494a 01 06020463646566 0200000000"
                            "060404787878780000000000000000000000");
  /* Next packet: [0,4) "ABCD" completes [0,10); [9,12) "zKL" adds KL. */
  struct buf p2 = build_hex(0, 1, "060004414243440609037a4b4c00");

  CHECK(feed(q, 0, &p1, 1, &c));
  CHECK_EQ_U(c.len[0], 0);
  CHECK(feed(q, 0, &p2, 2, &c));
  CHECK(quic_conn_malformed(q) == NULL);
  CHECK_EQ_U(c.len[0], 12);
  CHECK(c.len[0] == 12 && memcmp(c.data[0], "ABcdefGHIJKL", 12) == 0);
  CHECK_EQ_U(c.bad, 0);
  CHECK_EQ_U(quic_conn_stats(q)->crypto_bytes[0], 12);
  CHECK_EQ_U(quic_conn_stats(q)->crypto_bytes_refused, 0);
  quic_conn_free(q);
  collector_free(&c);
  free(p1.p);
  free(p2.p);
}

/* Out-of-order data beyond max_crypto_bytes is refused and counted. */
static void test_reassembly_cap(void) {
  struct quic_conn *q = quic_conn_new(6);
  struct collector c = {0};
  /* [4,8) held; [10,14) refused (4 + 4 > 6); then [0,4). */
  struct buf p1 = build_hex(0, 0, "06040465666768060a046b6c6d6e");
  struct buf p2 = build_hex(0, 1, "0600046162636400");

  CHECK(feed(q, 0, &p1, 1, &c));
  CHECK_EQ_U(quic_conn_stats(q)->crypto_bytes_refused, 4);
  CHECK(feed(q, 0, &p2, 2, &c));
  CHECK_EQ_U(c.len[0], 8);
  CHECK(c.len[0] == 8 && memcmp(c.data[0], "abcdefgh", 8) == 0);
  CHECK(quic_conn_malformed(q) == NULL);
  quic_conn_free(q);
  collector_free(&c);
  free(p1.p);
  free(p2.p);
}

/* Out-of-order pieces are bounded in number too: 300 one-byte CRYPTO frames
 * at offsets 1..300 (none at 0) keep the first QUIC_HELD_PIECES and count
 * the rest; the byte at offset 0 then delivers what was held. */
static void test_reassembly_piece_cap(void) {
  struct quic_conn *q = quic_conn_new(65536);
  struct collector c = {0};
  char *hex = malloc(300 * 10 + 1);
  size_t k = 0;
  for (unsigned off = 1; off <= 300; off++) /* CRYPTO, 2-byte varint offset, length 1 */
    k += (size_t)sprintf(hex + k, "06%02x%02x01%02x", 0x40 | off >> 8, off & 0xff, off & 0xff);
  struct buf p1 = build_hex(0, 0, hex);
  struct buf p2 = build_hex(0, 1, "06000100");

  CHECK(feed(q, 0, &p1, 1, &c));
  CHECK_EQ_U(c.len[0], 0);
  CHECK_EQ_U(quic_conn_stats(q)->crypto_pieces_refused, 300 - QUIC_HELD_PIECES);
  CHECK_EQ_U(quic_conn_stats(q)->crypto_bytes_refused, 300 - QUIC_HELD_PIECES);
  CHECK(feed(q, 0, &p2, 2, &c));
  CHECK_EQ_U(c.len[0], 1 + QUIC_HELD_PIECES);
  CHECK(c.len[0] > 256 && c.data[0][0] == 0 && c.data[0][1] == 1 && c.data[0][256] == 0);
  CHECK(quic_conn_malformed(q) == NULL);
  quic_conn_free(q);
  collector_free(&c);
  free(hex);
  free(p1.p);
  free(p2.p);
}

/* The pieces bound is a setting: at 4, ten one-byte frames at offsets
 * 1..10 keep 4 and refuse 6. */
static void test_reassembly_piece_setting(void) {
  struct quic_conn *q = quic_conn_new(65536);
  quic_conn_set_caps(q, 4, NULL, 0);
  struct collector c = {0};
  char hex[10 * 8 + 1];
  size_t k = 0;
  for (unsigned off = 1; off <= 10; off++) /* CRYPTO, offset, length 1, one byte */
    k += (size_t)sprintf(hex + k, "06%02x01%02x", off, off);
  struct buf p1 = build_hex(0, 0, hex);
  CHECK(feed(q, 0, &p1, 1, &c));
  CHECK_EQ_U(quic_conn_stats(q)->crypto_pieces_refused, 6);
  CHECK_EQ_U(quic_conn_stats(q)->crypto_budget_refused, 0);
  quic_conn_free(q);
  collector_free(&c);
  free(p1.p);
}

/* A client Initial of three 1200-byte CRYPTO frames at offsets 1, 1201 and
 * 2401: the hole at 0 never fills, so all three are held. */
static struct buf three_held_pieces(void) {
  char *hex = malloc(3 * (10 + 2400) + 1);
  size_t k = 0;
  for (unsigned i = 0; i < 3; i++) {
    unsigned off = 1 + 1200 * i; /* 2-byte varints: 0x40 | high bits; 1200 = 0x4b0 */
    k += (size_t)sprintf(hex + k, "06%02x%02x44b0", 0x40 | off >> 8, off & 0xff);
    for (unsigned b = 0; b < 1200; b++)
      k += (size_t)sprintf(hex + k, "%02x", (i * 7 + b) & 0xff);
  }
  struct buf p = build_hex(0, 0, hex);
  free(hex);
  return p;
}

/* Held pieces of all connections draw on one budget: with 4500 bytes, the
 * first connection's 3600 bytes (and their headers) fit; the second's
 * first piece would pass the budget and is more than a stream's first
 * 1 kB (always granted), so all three are refused and counted as the budget's, not the stream's
 * caps'.  What is held goes back when a connection is freed. */
static void test_reassembly_budget(void) {
  struct tls_budget budget = {0};
  struct quic_conn *a = quic_conn_new(65536), *b = quic_conn_new(65536);
  quic_conn_set_caps(a, QUIC_HELD_PIECES, &budget, 4500);
  quic_conn_set_caps(b, QUIC_HELD_PIECES, &budget, 4500);
  struct collector ca = {0}, cb = {0};
  struct buf p = three_held_pieces();

  CHECK(feed(a, 0, &p, 1, &ca));
  CHECK_EQ_U(quic_conn_stats(a)->crypto_budget_refused, 0);
  CHECK(budget.held >= 3600 && budget.held <= 4500);
  CHECK_EQ_U(budget.held, quic_conn_held_cost(a));
  CHECK(feed(b, 0, &p, 1, &cb));
  CHECK_EQ_U(quic_conn_stats(b)->crypto_budget_refused, 3);
  CHECK_EQ_U(quic_conn_stats(b)->crypto_pieces_refused, 0);
  CHECK_EQ_U(quic_conn_held_cost(b), 0);
  CHECK_EQ_U(ca.len[0] + cb.len[0], 0);
  quic_conn_free(a);
  CHECK_EQ_U(budget.held, 0);
  /* Room again: b now holds a piece its next datagram brings. */
  CHECK(feed(b, 0, &p, 2, &cb));
  CHECK_EQ_U(quic_conn_stats(b)->crypto_budget_refused, 3);
  CHECK_EQ_U(budget.held, quic_conn_held_cost(b));
  CHECK(budget.held >= 3600);
  quic_conn_free(b);
  CHECK_EQ_U(budget.held, 0);
  collector_free(&ca);
  collector_free(&cb);
  free(p.p);
}

/* Each bad payload: the reason quic.c gives (static strings, compared). */
static void check_bad_payload(const char *payload_hex, const char *reason) {
  struct quic_conn *q = quic_conn_new(4096);
  struct collector c = {0};
  struct buf p = build_hex(0, 0, payload_hex);

  CHECK(feed(q, 0, &p, 1, &c));
  CHECK_STR(quic_conn_malformed(q), reason);
  CHECK_EQ_U(quic_conn_stats(q)->initial_decrypted, 1);
  CHECK_EQ_U(c.bad, 0);
  quic_conn_free(q);
  collector_free(&c);
  free(p.p);
}

static void test_bad_frames(void) {
  /* CRYPTO offset 2^62-1 (8-byte varint) with one byte of data. */
  check_bad_payload("06ffffffffffffffff0141", "CRYPTO frame beyond 2^62-1");
  /* CRYPTO length (2^62-1) beyond the packet. */
  check_bad_payload("0600ffffffffffffffff41424344", "truncated frame");
  /* ACK claiming 2^62-1 ranges. */
  check_bad_payload("0200 00 ffffffffffffffff 00 0000", "truncated frame");
  /* ACK_ECN cut in its ECN counts. */
  check_bad_payload("0300000000 0000", "truncated frame");
  /* STREAM, NEW_TOKEN and the application CONNECTION_CLOSE are not
   * allowed in Initial packets (RFC 9000 12.4). */
  check_bad_payload("0800000000", "frame type not allowed in an Initial packet");
  check_bad_payload("0701410000", "frame type not allowed in an Initial packet");
  check_bad_payload("1d0000000000", "frame type not allowed in an Initial packet");
  /* A frame type as a long varint, unknown. */
  check_bad_payload("ffffffffffffffff", "frame type not allowed in an Initial packet");
  /* No frames at all. */
  check_bad_payload("", "Initial packet without frames");
}

/* CONNECTION_CLOSE with a reason phrase and PING are fine. */
static void test_good_frames(void) {
  struct quic_conn *q = quic_conn_new(4096);
  struct collector c = {0};
  struct buf p = build_hex(0, 0, "01 1c0a0003627965 0300000100000100 0102 0600026869");

  CHECK(feed(q, 0, &p, 1, &c));
  CHECK(quic_conn_malformed(q) == NULL);
  CHECK(c.len[0] == 2 && memcmp(c.data[0], "hi", 2) == 0);
  quic_conn_free(q);
  collector_free(&c);
  free(p.p);
}

static void test_bad_headers(void) {
  static const struct {
    const char *hex, *reason;
  } cases[] = {
      /* Token length 2^62-1. */
      {"c000000001088394c8f03e51570800 ffffffffffffffff 00", "truncated long header"},
      /* Length 2^62-1. */
      {"c000000001088394c8f03e5157080000 ffffffffffffffff 00", "packet Length beyond the datagram"},
      /* DCID length 21. */
      {"c00000000115000000000000000000000000000000000000000000000000000000",
       "connection ID longer than 20 bytes"},
      /* DCID length beyond the datagram. */
      {"c000000001ff0000", "truncated long header"},
      /* Length 19: too short for the 16-byte sample at offset 4. */
      {"c000000001088394c8f03e515708000013 00000000000000000000000000000000000000",
       "Initial packet too short for header protection"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct buf b = unhex(cases[i].hex);
    struct quic_conn *q = quic_conn_new(4096);
    struct collector c = {0};
    CHECK(feed(q, 0, &b, 1, &c));
    CHECK_STR(quic_conn_malformed(q), cases[i].reason);
    quic_conn_free(q);
    collector_free(&c);
    free(b.p);
  }
}

/* ------------------------------------------------------------------ */
/* Corpus captures                                                     */

/* Facts of the first handshake message of a stream, as the tshark TSV
 * shows them (lists comma-separated, code points 0x%04x). */
struct hello {
  int type;
  bool complete; /* whole message, parsed to its end */
  char sni[256];
  char ciphers[512];
  char groups[256];     /* ClientHello supported_groups / ServerHello key_share */
  char extensions[256]; /* decimal */
};

static void append(char *s, size_t cap, bool hex, unsigned v) {
  size_t n = strlen(s);
  snprintf(s + n, cap - n, hex ? "%s0x%04x" : "%s%u", n ? "," : "", v);
}

static void hello_extension(struct hello *h, uint16_t type, struct rd data) {
  append(h->extensions, sizeof h->extensions, false, type);
  if (type == 0 && h->type == 1) {
    struct rd list = rd_vec16(&data);
    rd_u8(&list);
    struct rd name = rd_vec16(&list);
    if (!list.err && name.n < sizeof h->sni)
      memcpy(h->sni, name.p, name.n);
  } else if (type == 10 && h->type == 1) {
    struct rd list = rd_vec16(&data);
    while (list.n >= 2)
      append(h->groups, sizeof h->groups, true, rd_u16(&list));
  } else if (type == 51 && h->type == 2) {
    append(h->groups, sizeof h->groups, true, rd_u16(&data));
  }
}

static struct hello parse_hello(const uint8_t *p, size_t n) {
  struct hello h = {0};
  struct rd r = rd_make(p, n);
  h.type = rd_u8(&r);
  struct rd body = rd_vec24(&r);
  rd_u16(&body);       /* legacy_version */
  rd_bytes(&body, 32); /* random */
  rd_vec8(&body);      /* session id */
  if (h.type == 1) {
    struct rd suites = rd_vec16(&body);
    while (suites.n >= 2)
      append(h.ciphers, sizeof h.ciphers, true, rd_u16(&suites));
    rd_vec8(&body); /* compression */
  } else {
    append(h.ciphers, sizeof h.ciphers, true, rd_u16(&body));
    rd_u8(&body);
  }
  struct rd exts = rd_vec16(&body);
  while (exts.n && !exts.err) {
    uint16_t type = rd_u16(&exts);
    hello_extension(&h, type, rd_vec16(&exts));
  }
  h.complete = !r.err && rd_done(&body) && rd_done(&exts);
  return h;
}

/* Feed tests/data/quic/NAME.udp ("frame dir hex" lines) to a connection. */
static bool run_capture(const char *name, struct quic_conn *q, struct collector *c) {
  char path[256];
  snprintf(path, sizeof path, "tests/data/quic/%s.udp", name);
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  if (!f) {
    fprintf(stderr, "  cannot open %s (run from the repository root)\n", path);
    return false;
  }
  while (getline(&line, &cap, f) > 0) {
    unsigned long long frame;
    int dir, used = 0;
    if (sscanf(line, "%llu %d %n", &frame, &dir, &used) < 2)
      continue;
    struct buf b = unhex(line + used);
    feed(q, dir, &b, frame, c);
    free(b.p);
  }
  free(line);
  fclose(f);
  return true;
}

struct expect {
  const char *capture;
  uint32_t version;
  uint64_t ch_frame, sh_frame; /* 0: no ServerHello in the capture */
  const char *sni, *ciphers, *groups, *extensions;
  const char *sh_cipher, *sh_group, *sh_extensions;
};

/* From /work/shared/corpus/expected/<capture>.tshark.tsv, proto quic,
 * decrypted 0: frame, sni, ciphers, groups, extensions of client_hello;
 * ciphers, groups, extensions of server_hello; info quic_version. */
static const struct expect corpus[] = {
    {"v2", QUIC_VERSION_2, 1, 2, "test", "0x1301,0x1302,0x1303", "0x0017,0x001d",
     "51,0,16,43,13,10,57,45,42,41", "0x1301", "0x0017", "43,51"},
    {"chromium", QUIC_VERSION_1, 1, 2, "api.cirrus-ci.com", "0x1301,0x1302,0x1303",
     "0x001d,0x0017,0x0018", "43,10,0,17513,51,45,27,13,16,57,41", "0x1301", "0x001d", "41,51,43"},
    {"ooo", QUIC_VERSION_1, 1, 0, "ssl.gstatic.com", "0x1301,0x1302,0x1303", "0x001d,0x0017,0x0018",
     "45,16,0,42,43,17513,13,27,57,10,51,41", NULL, NULL, NULL},
    {"retry", QUIC_VERSION_1, 2, 8, "www.gravatar.com", "0x1301,0x1303,0x1302",
     "0x11ec,0x001d,0x0017,0x0018,0x0019", "10,23,34,51,45,5,13,0,28,65281,43,16,57,65037",
     "0x1301", "0x001d", "43,51"},
    {"q33", QUIC_VERSION_1, 1, 2, "", "0x1301,0x1302,0x1303", "0x0017,0x001d",
     "51,16,43,13,10,57,45", "0x1301", "0x0017", "43,51"},
};

/* Google QUIC with TLS (tests/data/quic/make-gquic.c): what tshark 4.0
 * decodes from those datagrams (tls.handshake.ciphersuite,
 * extensions_supported_group, extension.type, key_share group). */
static const struct expect google[] = {
    {"gquic-t050", QUIC_VERSION_T050, 1, 2, "gquic.example.test", "0x1301,0x1302", "0x001d",
     "0,16,10,13,43,51,65281", "0x1301", "0x001d", "43,51"},
    {"gquic-t051", QUIC_VERSION_T051, 1, 2, "gquic.example.test", "0x1301,0x1302", "0x001d",
     "0,16,10,13,43,51,65281", "0x1301", "0x001d", "43,51"},
};

static void check_capture(const struct expect *e, struct collector *c, struct quic_conn *q) {
  CHECK(run_capture(e->capture, q, c));
  CHECK(quic_conn_malformed(q) == NULL);
  CHECK_EQ_U(quic_conn_version(q), e->version);
  CHECK_EQ_U(c->bad, 0);
  CHECK_EQ_U(quic_conn_stats(q)->crypto_bytes_refused, 0);
  struct hello ch = parse_hello(c->data[0], c->len[0]);
  CHECK_EQ_U(ch.type, 1);
  CHECK(ch.complete);
  CHECK_EQ_U(c->done_frame[0], e->ch_frame);
  CHECK_STR(ch.sni, e->sni);
  CHECK_STR(ch.ciphers, e->ciphers);
  CHECK_STR(ch.groups, e->groups);
  CHECK_STR(ch.extensions, e->extensions);
  if (!e->sh_frame) {
    CHECK_EQ_U(c->len[1], 0);
    return;
  }
  struct hello sh = parse_hello(c->data[1], c->len[1]);
  CHECK_EQ_U(sh.type, 2);
  CHECK(sh.complete);
  CHECK_EQ_U(c->done_frame[1], e->sh_frame);
  CHECK_STR(sh.ciphers, e->sh_cipher);
  CHECK_STR(sh.groups, e->sh_group);
  CHECK_STR(sh.extensions, e->sh_extensions);
}

static void test_corpus(void) {
  for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
    struct quic_conn *q = quic_conn_new(65536);
    struct collector c = {0};
    unsigned before = (unsigned)harness_current_failed;
    check_capture(&corpus[i], &c, q);
    if ((unsigned)harness_current_failed != before)
      fprintf(stderr, "  (capture %s)\n", corpus[i].capture);
    quic_conn_free(q);
    collector_free(&c);
  }
}

static void test_google_tls(void) {
  for (size_t i = 0; i < sizeof google / sizeof google[0]; i++) {
    struct quic_conn *q = quic_conn_new(65536);
    struct collector c = {0};
    unsigned before = (unsigned)harness_current_failed;
    check_capture(&google[i], &c, q);
    CHECK_EQ_U(quic_conn_unsupported(q), 0);
    if ((unsigned)harness_current_failed != before)
      fprintf(stderr, "  (capture %s)\n", google[i].capture);
    quic_conn_free(q);
    collector_free(&c);
  }
}

/* Q050 carries Google's own crypto (a CHLO): recognised as QUIC, counted,
 * nothing delivered as TLS. */
static void test_google_unsupported(void) {
  struct quic_conn *q = quic_conn_new(65536);
  struct collector c = {0};
  CHECK(run_capture("gquic-q050", q, &c));
  CHECK_EQ_U(quic_conn_unsupported(q), 0x51303530u);
  CHECK_EQ_U(quic_conn_stats(q)->unsupported_packets, 1);
  CHECK_EQ_U(c.len[0] + c.len[1], 0);
  CHECK(quic_conn_malformed(q) == NULL);
  quic_conn_free(q);
  collector_free(&c);
  /* Version tags: a letter and three digits, nothing else. */
  CHECK(quic_version_is_google(0x51303436u)); /* Q046 */
  CHECK(quic_version_is_google(QUIC_VERSION_T051));
  CHECK(!quic_version_is_google(0x5130353au)); /* "Q05:" */
  CHECK(!quic_version_is_google(0x52303530u)); /* "R050" */
  CHECK(!quic_version_is_google(QUIC_VERSION_1));
  char name[QUIC_VERSION_NAME_LEN];
  CHECK_STR(quic_version_name(0x51303530u, name), "Q050");
  CHECK_STR(quic_version_name(0xff00001du, name), "draft-29");
  CHECK_STR(quic_version_name(QUIC_VERSION_2, name), "2");
  CHECK_STR(quic_version_name(0x1a2a3a4au, name), "0x1a2a3a4a");
}

/* The out-of-order capture really holds data back; the Retry capture has
 * two Retries and a second DCID. */
static void test_corpus_details(void) {
  struct quic_conn *q = quic_conn_new(65536);
  struct collector c = {0};

  CHECK(run_capture("ooo", q, &c));
  CHECK(c.calls[0] > 1);
  CHECK_EQ_U(quic_conn_stats(q)->initial_decrypted, 1);
  quic_conn_free(q);
  collector_free(&c);

  memset(&c, 0, sizeof c);
  q = quic_conn_new(65536);
  CHECK(run_capture("retry", q, &c));
  CHECK_EQ_U(quic_conn_stats(q)->retries, 2);
  CHECK_EQ_U(quic_conn_stats(q)->initial_undecryptable, 0);
  quic_conn_free(q);
  collector_free(&c);

  /* The cap applies to a real capture: 0 bytes of room, nothing held. */
  memset(&c, 0, sizeof c);
  q = quic_conn_new(0);
  CHECK(run_capture("ooo", q, &c));
  CHECK(quic_conn_stats(q)->crypto_bytes_refused > 0);
  CHECK(c.len[0] < 4 || parse_hello(c.data[0], c.len[0]).complete == false);
  quic_conn_free(q);
  collector_free(&c);
}

int main(void) {
  RUN(test_keys_rfc9001);
  RUN(test_keys_rfc9369);
  RUN(test_keys_refused);
  RUN(test_rfc9001_client_initial);
  RUN(test_rfc9001_server_initial);
  RUN(test_rfc9369_client_initial);
  RUN(test_rfc9369_server_initial);
  RUN(test_decrypt_refusals);
  RUN(test_truncations);
  RUN(test_flipped_bytes);
  RUN(test_flow_rfc9001);
  RUN(test_flow_rfc9369);
  RUN(test_server_first);
  RUN(test_coalesced);
  RUN(test_not_quic);
  RUN(test_version_negotiation);
  RUN(test_retry_packet);
  RUN(test_reassembly);
  RUN(test_reassembly_cap);
  RUN(test_reassembly_piece_cap);
  RUN(test_reassembly_piece_setting);
  RUN(test_reassembly_budget);
  RUN(test_bad_frames);
  RUN(test_good_frames);
  RUN(test_bad_headers);
  RUN(test_corpus);
  RUN(test_corpus_details);
  RUN(test_google_tls);
  RUN(test_google_unsupported);
  return harness_done();
}
