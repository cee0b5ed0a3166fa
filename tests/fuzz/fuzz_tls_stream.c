/*
 * tests/fuzz/fuzz_tls_stream.c - both directions of one connection through
 * tls_conn_data, as capture delivers them.
 *
 * Input:
 *   byte 0   options: bit 0 UDP (segments are datagrams: DTLS, QUIC),
 *            bit 1 roles guessed (no SYN seen), bit 2 tight tls_limits,
 *            bits 3..6 the server port (a table: STARTTLS ports and 443),
 *            bit 7 a key log with the secrets of RFC 8448 section 3 (its
 *            ClientHello.random): TLS 1.3 traffic secrets and a
 *            CLIENT_RANDOM master secret, so seeds built from the RFC's
 *            records decrypt and mutations reach HTTP and the key
 *            schedule
 *   byte 1   piece size: each TCP segment is delivered in pieces of this
 *            many bytes (0: whole), to split record headers anywhere
 *   then segments, each
 *     u8   bit 0 direction (0 client->server), bit 1 a gap comes before
 *          it (gap_len = 1 + bits 2..7)
 *     u16  length (big-endian; cut to what is left)
 *     the bytes; an empty TCP segment with the gap bit is the gap
 *          reported at the end of a stream (data NULL, length 0)
 * Once tls_conn_data asks for no more payload of a direction, that
 * direction's later segments arrive as skip deliveries (data NULL,
 * TCP_DATA_SKIP), as flow_set_skip makes capture do.
 *
 * Checked besides the sanitizers: over TCP, cutting segments into pieces
 * changes nothing the dissector reports (see fuzz_tls_stream_one).
 *
 * Seeds: tests/fuzz/make-seeds.sh, from the corpus captures' TCP and UDP
 * payloads (tshark).
 */
#include "dissect/conn.h"
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

static const uint16_t stream_fuzz_ports[16] = {443,  25,  587,  143,  110,  21,  119, 4190,
                                               5432, 389, 5222, 8443, 4433, 993, 853, 0};

/* What one run learned, for comparing two runs. */
struct stream_fuzz_facts {
  bool is_tls, roles_swapped, has_ch, has_sh, has_hrr, has_ch2, resumed, established;
  bool ocsp_stapled, cert_request, new_session_ticket, secure_reneg;
  bool kex_present, kex_dh, kex_ecdh, kex_rsa;
  bool encrypted[2], ccs_seen[2], gap[2];
  uint16_t version, curve, sig_scheme;
  uint32_t cipher;
  int dh_bits, rsa_bits, ocsp_cert_status;
  size_t chain_len, client_chain_len, n_alerts, n_heartbeats, alerts_dropped;
  size_t der_bytes;
  uint64_t records[2], app_data_bytes[2];
  unsigned renegotiations, cap_handshake, cap_chain;
  const char *malformed;
  uint64_t malformed_frame;
  char ja3[33], ja3s[33], ja4[40];
  uint8_t dec_status;
  uint64_t dec_records[2], https_responses;
  bool segment_bound; /* a mode whose parse depends on segment starts */
};

/* RFC 8448 3: ClientHello.random and the four traffic secrets; the master
 * secret is arbitrary (TLS 1.2 records then fail, which is a path too). */
#define STREAM_FUZZ_RANDOM "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
static const char *const stream_fuzz_keylog[] = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET " STREAM_FUZZ_RANDOM
    " b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET " STREAM_FUZZ_RANDOM
    " b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
    "CLIENT_TRAFFIC_SECRET_0 " STREAM_FUZZ_RANDOM
    " 9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
    "SERVER_TRAFFIC_SECRET_0 " STREAM_FUZZ_RANDOM
    " a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
    "CLIENT_RANDOM " STREAM_FUZZ_RANDOM " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
    "1c1d1e1f202122232425262728292a2b2c2d2e2f",
};

static void stream_fuzz_collect(const struct tls_conn *c, struct stream_fuzz_facts *f) {
  const struct tls_session *s = tls_conn_session(c);
  memset(f, 0, sizeof *f);
  f->is_tls = s->is_tls;
  f->roles_swapped = s->roles_swapped;
  f->has_ch = s->has_client_hello;
  f->has_sh = s->has_server_hello;
  f->has_hrr = s->has_hrr;
  f->has_ch2 = s->has_ch2;
  f->resumed = s->resumed;
  f->established = s->established;
  f->ocsp_stapled = s->ocsp_stapled;
  f->cert_request = s->cert_request != NULL;
  f->new_session_ticket = s->new_session_ticket;
  f->secure_reneg = s->secure_reneg;
  f->kex_present = s->kex.present;
  f->kex_dh = s->kex.is_dh;
  f->kex_ecdh = s->kex.is_ecdh;
  f->kex_rsa = s->kex.is_rsa;
  f->version = s->version;
  f->curve = s->kex.curve;
  f->sig_scheme = s->kex.sig_scheme;
  f->cipher = s->sh.cipher;
  f->dh_bits = s->kex.dh_bits;
  f->rsa_bits = s->kex.rsa_bits;
  f->ocsp_cert_status = s->ocsp_cert_status;
  f->chain_len = s->chain_len;
  f->client_chain_len = s->client_chain_len;
  f->n_alerts = s->n_alerts;
  f->n_heartbeats = s->n_heartbeats;
  f->alerts_dropped = s->alerts_dropped;
  for (size_t i = 0; i < s->chain_len; i++)
    f->der_bytes += s->chain[i]->der_len;
  for (int dir = 0; dir < 2; dir++) {
    f->encrypted[dir] = s->encrypted[dir];
    f->ccs_seen[dir] = s->ccs_seen[dir];
    f->gap[dir] = s->gap[dir];
    f->records[dir] = s->records[dir];
    f->app_data_bytes[dir] = s->app_data_bytes[dir];
    enum tls_dir_mode mode = c->dir[dir].mode;
    f->segment_bound |=
        mode == TLS_MODE_PLAINTEXT || mode == TLS_MODE_SSLV2 || c->dir[dir].plaintext_seen > 0;
  }
  f->renegotiations = s->renegotiations;
  f->cap_handshake = s->cap_handshake;
  f->cap_chain = s->cap_chain;
  f->malformed = s->malformed;
  f->malformed_frame = s->malformed_at.frame;
  f->dec_status = s->decryption.status;
  f->dec_records[0] = s->decryption.records[0];
  f->dec_records[1] = s->decryption.records[1];
  f->https_responses = s->https ? s->https->responses : 0;
  memcpy(f->ja3, s->ch.ja3, sizeof f->ja3);
  memcpy(f->ja3s, s->sh.ja3s, sizeof f->ja3s);
  memcpy(f->ja4, s->ja4, sizeof f->ja4);
}

static bool stream_fuzz_same(const struct stream_fuzz_facts *a, const struct stream_fuzz_facts *b) {
#define SAME(field) (a->field == b->field)
  return SAME(is_tls) && SAME(roles_swapped) && SAME(has_ch) && SAME(has_sh) && SAME(has_hrr) &&
         SAME(has_ch2) && SAME(resumed) && SAME(established) && SAME(ocsp_stapled) &&
         SAME(cert_request) && SAME(new_session_ticket) && SAME(secure_reneg) &&
         SAME(kex_present) && SAME(kex_dh) && SAME(kex_ecdh) && SAME(kex_rsa) &&
         SAME(encrypted[0]) && SAME(encrypted[1]) && SAME(ccs_seen[0]) && SAME(ccs_seen[1]) &&
         SAME(gap[0]) && SAME(gap[1]) && SAME(version) && SAME(curve) && SAME(sig_scheme) &&
         SAME(cipher) && SAME(dh_bits) && SAME(rsa_bits) && SAME(ocsp_cert_status) &&
         SAME(chain_len) && SAME(client_chain_len) && SAME(n_alerts) && SAME(n_heartbeats) &&
         SAME(alerts_dropped) && SAME(der_bytes) && SAME(records[0]) && SAME(records[1]) &&
         SAME(app_data_bytes[0]) && SAME(app_data_bytes[1]) && SAME(renegotiations) &&
         SAME(cap_handshake) && SAME(cap_chain) && SAME(malformed) && SAME(malformed_frame) &&
         SAME(dec_status) && SAME(dec_records[0]) && SAME(dec_records[1]) &&
         SAME(https_responses) && strcmp(a->ja3, b->ja3) == 0 && strcmp(a->ja3s, b->ja3s) == 0 &&
         strcmp(a->ja4, b->ja4) == 0;
#undef SAME
}

/* One pass over the input, TCP segments cut into pieces of `piece` bytes
 * (0: whole).  false when there is nothing to run. */
static bool stream_fuzz_run(const uint8_t *data, size_t size, size_t piece,
                            struct stream_fuzz_facts *facts) {
  struct rd in = rd_make(data, size);
  uint8_t options = rd_u8(&in);
  rd_u8(&in); /* the piece size, given by the caller */
  if (in.err)
    return false;
  bool udp = options & 1;
  struct tls_limits lim;
  tls_limits_default(&lim);
  if (options & 4) {
    lim.max_handshake_bytes = 300;
    lim.max_chain_len = 1;
    lim.max_cert_bytes = 200;
  }
  struct tls_conn *c = tls_conn_new(&lim, udp, stream_fuzz_ports[(options >> 3) & 15]);
  if (!c)
    return false;
  struct tls_keylog *kl = (options & 0x80) ? tls_keylog_new() : NULL;
  for (size_t i = 0; kl && i < sizeof(stream_fuzz_keylog) / sizeof(stream_fuzz_keylog[0]); i++)
    FUZZ_INVARIANT(tls_keylog_add_line(kl, stream_fuzz_keylog[i]) == 1);
  tls_conn_set_keylog(c, kl);
  if (options & 2)
    tls_conn_roles_guessed(c);
  bool skip[2] = {false, false};
  uint64_t frame = 0;
  while (in.n) {
    uint8_t h = rd_u8(&in);
    size_t len = rd_u16(&in);
    if (in.err)
      break;
    struct rd seg = rd_sub(&in, len <= in.n ? len : in.n);
    int dir = h & 1;
    unsigned flags = (h & 2) ? TCP_DATA_GAP : 0;
    uint64_t gap_len = (h & 2) ? 1 + (h >> 2) : 0;
    frame++;
    cap_time_us ts = (cap_time_us)frame * 1000;
    if (udp || seg.n == 0) {
      if (seg.n == 0 && !udp && !flags)
        continue;
      tls_conn_data(c, dir, seg.n ? seg.p : NULL, seg.n, gap_len, flags, 0, frame, ts);
      continue;
    }
    while (seg.n) {
      size_t k = piece && piece < seg.n ? piece : seg.n;
      const uint8_t *p = rd_bytes(&seg, k);
      if (skip[dir])
        tls_conn_data(c, dir, NULL, k, gap_len, flags | TCP_DATA_SKIP, 0, frame, ts);
      else
        skip[dir] = tls_conn_data(c, dir, p, k, gap_len, flags, 0, frame, ts);
      flags = 0;
      gap_len = 0;
    }
  }
  const struct tls_session *s = tls_conn_session(c);
  FUZZ_INVARIANT(s->n_alerts <= TLS_MAX_ALERTS && s->n_heartbeats <= TLS_MAX_HEARTBEATS);
  FUZZ_INVARIANT(s->chain_len <= lim.max_chain_len);
  for (size_t i = 0; i < s->chain_len; i++)
    FUZZ_INVARIANT(s->chain[i]->der_len <= lim.max_cert_bytes);
  FUZZ_INVARIANT(strlen(s->ja4) < sizeof s->ja4);
  FUZZ_INVARIANT(!s->https || s->https->n <= TLS_MAX_HTTP_RESPONSES);
  stream_fuzz_collect(c, facts);
  tls_conn_free(c);
  tls_keylog_free(kl);
  return true;
}

/* TLS records do not care where TCP cut the stream: a run with segments cut
 * into pieces must learn what the run with whole segments learns.  (Not
 * for STARTTLS plaintext and SSLv2, which look at segment starts.) */
int fuzz_tls_stream_one(const uint8_t *data, size_t size) {
  struct stream_fuzz_facts cut, whole;
  if (size < 2 || !stream_fuzz_run(data, size, data[1], &cut))
    return 0;
  if ((data[0] & 1) || data[1] == 0 || cut.segment_bound)
    return 0;
  if (stream_fuzz_run(data, size, 0, &whole) && !whole.segment_bound)
    FUZZ_INVARIANT(stream_fuzz_same(&cut, &whole));
  return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_tls_stream_one(data, size);
}
#endif
