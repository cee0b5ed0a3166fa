/*
 * tests/fuzz/fuzz_quic.c - UDP datagrams of one flow through
 * quic_conn_datagram, the CRYPTO bytes on into a tls_conn's handshake
 * parser (as conn.c does for QUIC flows).
 *
 * Input: datagrams, each
 *   u8   bit 0 direction (0 client->server), bit 1 built (below)
 *   u16  length (big-endian; cut to what is left), then that many bytes.
 * A raw datagram is given as is.  A built one is a protected Initial packet
 * the harness makes, so that the fuzzer reaches the frame parser and the
 * CRYPTO reassembly past the AEAD it could never forge:
 *   u8 version (low 2 bits: v1, v2, draft-29, draft-34), u8 DCID length
 *   (mod 21), DCID, u8 SCID length (mod 21), SCID, u8 packet number length
 *   (low 2 bits + 1), u16 payload length, payload (the frames, in clear),
 *   and whatever follows is appended to the datagram as it is (a
 *   coalesced packet, padding, garbage).
 * Client packets are protected with keys from their own DCID, server
 * packets with keys from the first client DCID (RFC 9001 5.2).
 * With bit 2 of the first byte set the bytes are instead the server's data
 * of a QUIC stream for the HTTP/3 reader (h3.c, as 1-RTT STREAM frames a
 * key log opened reach it): u8 stream id, u16 offset, then the data.
 *
 * Checked: CRYPTO bytes of a direction are delivered in order, each once,
 * from offset 0.
 */
#include "dissect/conn.h"
#include "dissect/quic.h"
#include "tests/fuzz/fuzz.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct quic_fuzz_state {
  struct tls_conn *conn;   /* the CRYPTO bytes' consumer */
  uint64_t next_offset[2]; /* what the next delivery must start at */
  uint8_t key_dcid[20];
  size_t key_dcid_len;
  bool have_key_dcid;
  uint64_t next_pn[2];
};

static void quic_fuzz_crypto(void *ctx, int dir, const uint8_t *data, size_t len, uint64_t offset,
                             uint32_t file_index, uint64_t frame, int64_t ts) {
  struct quic_fuzz_state *st = ctx;
  FUZZ_INVARIANT(dir == 0 || dir == 1);
  FUZZ_INVARIANT(offset == st->next_offset[dir]);
  FUZZ_INVARIANT(data && len > 0);
  st->next_offset[dir] += len;
  struct tls_at at = {file_index, frame, ts};
  tls_handshake_stream(st->conn, dir, data, len, &at);
}

static bool quic_fuzz_gcm_seal(const uint8_t key[16], const uint8_t nonce[12], const uint8_t *aad,
                               size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[16]) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int out_len = 0;
  bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, nonce) == 1 &&
            EVP_EncryptUpdate(c, NULL, &out_len, aad, (int)aad_len) == 1 &&
            (len == 0 || EVP_EncryptUpdate(c, buf, &out_len, buf, (int)len) == 1) &&
            EVP_EncryptFinal_ex(c, buf + len, &out_len) == 1 &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

static bool quic_fuzz_hp_mask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[16]) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int out_len = 0;
  bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
            EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
            EVP_EncryptUpdate(c, mask, &out_len, sample, 16) == 1 && out_len == 16;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

/* Build a protected Initial from the description in `in` (see the head of
 * the file); *out is malloc'ed.  false when the description is short. */
static bool quic_fuzz_build(struct quic_fuzz_state *st, int dir, struct rd in, uint8_t **out,
                            size_t *out_len) {
  static const uint32_t versions[4] = {QUIC_VERSION_1, QUIC_VERSION_2, 0xff00001du, 0xff000022u};
  uint32_t version = versions[rd_u8(&in) & 3];
  size_t dcid_len = rd_u8(&in) % 21;
  const uint8_t *dcid = rd_bytes(&in, dcid_len);
  size_t scid_len = rd_u8(&in) % 21;
  const uint8_t *scid = rd_bytes(&in, scid_len);
  size_t pn_len = (rd_u8(&in) & 3) + 1;
  size_t payload_len = rd_u16(&in);
  if (in.err)
    return false;
  if (payload_len > in.n)
    payload_len = in.n;
  if (payload_len > 16000)
    payload_len = 16000; /* the Length field below is a 2-byte varint */
  const uint8_t *payload = rd_bytes(&in, payload_len);
  /* The header protection sample starts 4 bytes after the packet number
   * start and is 16 bytes long: pad the payload with PADDING frames. */
  size_t padded = payload_len + pn_len < 4 ? 4 - pn_len : payload_len;
  size_t hdr_len = 1 + 4 + 1 + dcid_len + 1 + scid_len + 1 + 2;
  size_t pkt_len = hdr_len + pn_len + padded + 16;
  uint8_t *pkt = calloc(1, pkt_len + in.n);
  if (!pkt)
    return false;
  const uint8_t *key_cid = dcid;
  size_t key_cid_len = dcid_len;
  if (dir == 0 && !st->have_key_dcid) {
    memcpy(st->key_dcid, dcid, dcid_len);
    st->key_dcid_len = dcid_len;
    st->have_key_dcid = true;
  }
  if (dir == 1 && st->have_key_dcid) {
    key_cid = st->key_dcid;
    key_cid_len = st->key_dcid_len;
  }
  uint8_t key[16], iv[12], hp[16];
  if (quic_initial_keys(version, key_cid, key_cid_len, dir, key, iv, hp) != QUIC_OK) {
    free(pkt);
    return false;
  }
  /* RFC 9000 17.2.2; RFC 9369 3.2 gives the Initial type bits 01 in v2. */
  uint8_t type_bits = version == QUIC_VERSION_2 ? 1 : 0;
  uint64_t pn = st->next_pn[dir]++;
  uint8_t *p = pkt;
  *p++ = (uint8_t)(0xc0 | type_bits << 4 | (pn_len - 1));
  for (int i = 3; i >= 0; i--)
    *p++ = (uint8_t)(version >> (8 * i));
  *p++ = (uint8_t)dcid_len;
  if (dcid_len)
    memcpy(p, dcid, dcid_len);
  p += dcid_len;
  *p++ = (uint8_t)scid_len;
  if (scid_len)
    memcpy(p, scid, scid_len);
  p += scid_len;
  *p++ = 0; /* token length */
  size_t length = pn_len + padded + 16;
  *p++ = (uint8_t)(0x40 | length >> 8);
  *p++ = (uint8_t)length;
  uint8_t *pn_at = p;
  for (size_t i = 0; i < pn_len; i++)
    *p++ = (uint8_t)(pn >> (8 * (pn_len - 1 - i)));
  if (payload_len)
    memcpy(p, payload, payload_len); /* the rest of padded is zeros: PADDING */
  uint8_t nonce[12];
  memcpy(nonce, iv, 12);
  for (size_t i = 0; i < 8; i++)
    nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
  uint8_t mask[16];
  bool ok = quic_fuzz_gcm_seal(key, nonce, pkt, (size_t)(p - pkt), p, padded, p + padded) &&
            quic_fuzz_hp_mask(hp, pn_at + 4, mask);
  if (!ok) {
    free(pkt);
    return false;
  }
  pkt[0] ^= mask[0] & 0x0f;
  for (size_t i = 0; i < pn_len; i++)
    pn_at[i] ^= mask[1 + i];
  if (in.n)
    memcpy(pkt + pkt_len, in.p, in.n);
  *out = pkt;
  *out_len = pkt_len + in.n;
  return true;
}

static void quic_fuzz_response(void *ctx, const struct http_response_view *v,
                               const struct tls_at *at) {
  (void)at;
  FUZZ_INVARIANT(v->http_version == 3);
  FUZZ_INVARIANT(!v->has_sts || v->sts_len <= 8192);
  ++*(unsigned *)ctx;
}

/* A chunk of HTTP/3 stream data: u8 id, u16 offset, data. */
static void quic_fuzz_h3(struct h3_conn *h3, struct rd chunk, uint64_t frame) {
  uint8_t id = rd_u8(&chunk);
  uint16_t off = rd_u16(&chunk);
  struct tls_at at = {0, frame, 0};
  if (!chunk.err && h3)
    h3_conn_stream(h3, id, off, chunk.p, chunk.n, &at);
}

int fuzz_quic_one(const uint8_t *data, size_t size) {
  struct tls_limits lim;
  tls_limits_default(&lim);
  struct quic_fuzz_state st = {0};
  st.conn = tls_conn_new(&lim, true, 443);
  struct quic_conn *q = quic_conn_new(lim.max_handshake_bytes);
  if (!st.conn || !q) {
    tls_conn_free(st.conn);
    quic_conn_free(q);
    return 0;
  }
  unsigned responses = 0;
  struct h3_conn *h3 = h3_conn_new(quic_fuzz_response, &responses, 16, 16u << 10);
  struct rd in = rd_make(data, size);
  uint64_t frame = 0;
  while (in.n) {
    uint8_t h = rd_u8(&in);
    size_t len = rd_u16(&in);
    if (in.err)
      break;
    struct rd dg = rd_sub(&in, len <= in.n ? len : in.n);
    int dir = h & 1;
    if (h & 4) {
      quic_fuzz_h3(h3, dg, ++frame);
      continue;
    }
    uint8_t *built = NULL;
    size_t built_len = 0;
    if ((h & 2) && !quic_fuzz_build(&st, dir, dg, &built, &built_len))
      continue;
    frame++;
    quic_conn_datagram(q, dir, built ? built : dg.p, built ? built_len : dg.n, 0, frame,
                       (int64_t)frame * 1000, quic_fuzz_crypto, &st);
    free(built);
  }
  const struct quic_stats *qs = quic_conn_stats(q);
  FUZZ_INVARIANT(qs->crypto_bytes[0] == st.next_offset[0]);
  FUZZ_INVARIANT(qs->crypto_bytes[1] == st.next_offset[1]);
  FUZZ_INVARIANT(qs->initial_decrypted + qs->initial_undecryptable == qs->initial_packets);
  (void)quic_conn_version(q);
  (void)quic_conn_malformed(q);
  quic_conn_free(q);
  tls_conn_free(st.conn);
  h3_conn_free(h3);
  return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_quic_one(data, size);
}
#endif
