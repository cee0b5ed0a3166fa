/*
 * tests/fuzz/fuzz_handshake.c - one handshake message body through the
 * dissector's message parsers.
 *
 * Input: a 4-byte header, then the message body (after the 4-byte TLS or
 * 12-byte DTLS handshake header, which the harness writes).
 *   byte 0   bits 0..2 what the body is:
 *              0 ClientHello    -> hello_parse_client + hello_ja4
 *              1 ServerHello    -> hello_parse_server
 *              2 Certificate    -> a tls_conn, after a ClientHello and a
 *              3 ServerKeyExchange  ServerHello choosing the suite below
 *              4 CertificateStatus  (so SKE parsing follows the suite)
 *              5 SSLv2 CLIENT-HELLO -> hello_parse_sslv2_client
 *              6 SSLv2 SERVER-HELLO -> hello_parse_sslv2_server
 *              7 ServerHello    -> a tls_conn, after a ClientHello
 *            bit 3 DTLS (the hello parsers' dtls flag; for a tls_conn,
 *              DTLS records over UDP with the body in fragments)
 *   byte 1   bits 0..1 version (SSL 3.0 .. TLS 1.2; DTLS 1.0, 1.2),
 *            bit 4 the Certificate comes from the client,
 *            bit 5 tight tls_limits (chain and certificate caps),
 *            for 2..4: bit 6 the body is a CertificateRequest instead,
 *            bit 7 a NewSessionTicket (after the ServerHello, like them)
 *   bytes 2-3 the cipher suite the ServerHello chooses (big-endian)
 */
#include "dissect/conn.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

struct hs_fuzz_link {
  struct tls_conn *c;
  bool dtls;
  uint16_t version;
  uint16_t msg_seq[2];
  uint64_t frame;
};

/* Records of at most `chunk` body bytes, one tls_conn_data call each. */
static void hs_fuzz_send(struct hs_fuzz_link *l, int dir, uint8_t type, const uint8_t *body,
                         size_t len) {
  size_t chunk = l->dtls ? 1000 : 16384, hdr = l->dtls ? 13 + 12 : 5;
  uint8_t *rec = malloc(hdr + 4 + chunk);
  if (!rec)
    return;
  uint16_t seq = l->msg_seq[dir]++;
  if (!l->dtls) {
    /* The TLS handshake header goes into the first record's bytes. */
    uint8_t *msg = malloc(4 + len);
    if (!msg) {
      free(rec);
      return;
    }
    msg[0] = type;
    msg[1] = (uint8_t)(len >> 16);
    msg[2] = (uint8_t)(len >> 8);
    msg[3] = (uint8_t)len;
    if (len)
      memcpy(msg + 4, body, len);
    for (size_t off = 0; off < 4 + len; off += chunk) {
      size_t k = 4 + len - off < chunk ? 4 + len - off : chunk;
      rec[0] = TLS_CT_HANDSHAKE;
      rec[1] = (uint8_t)(l->version >> 8);
      rec[2] = (uint8_t)l->version;
      rec[3] = (uint8_t)(k >> 8);
      rec[4] = (uint8_t)k;
      memcpy(rec + 5, msg + off, k);
      l->frame++;
      tls_conn_data(l->c, dir, rec, 5 + k, 0, 0, 0, l->frame, (cap_time_us)l->frame);
    }
    free(msg);
    free(rec);
    return;
  }
  size_t off = 0;
  do {
    size_t k = len - off < chunk ? len - off : chunk;
    size_t rec_len = 12 + k;
    uint8_t *p = rec;
    *p++ = TLS_CT_HANDSHAKE;
    *p++ = (uint8_t)(l->version >> 8);
    *p++ = (uint8_t)l->version;
    memset(p, 0, 8); /* epoch 0, sequence number */
    p += 8;
    *p++ = (uint8_t)(rec_len >> 8);
    *p++ = (uint8_t)rec_len;
    *p++ = type;
    *p++ = (uint8_t)(len >> 16);
    *p++ = (uint8_t)(len >> 8);
    *p++ = (uint8_t)len;
    *p++ = (uint8_t)(seq >> 8);
    *p++ = (uint8_t)seq;
    *p++ = (uint8_t)(off >> 16);
    *p++ = (uint8_t)(off >> 8);
    *p++ = (uint8_t)off;
    *p++ = (uint8_t)(k >> 16);
    *p++ = (uint8_t)(k >> 8);
    *p++ = (uint8_t)k;
    if (k)
      memcpy(p, body + off, k);
    l->frame++;
    tls_conn_data(l->c, dir, rec, hdr + k, 0, 0, 0, l->frame, (cap_time_us)l->frame);
    off += k;
  } while (off < len);
  free(rec);
}

/* A ClientHello offering `suite` (and no extensions). */
static void hs_fuzz_client_hello(struct hs_fuzz_link *l, uint16_t suite) {
  uint8_t ch[2 + 32 + 1 + 1 + 2 + 2 + 2] = {0};
  size_t n = 0;
  ch[n++] = (uint8_t)(l->version >> 8);
  ch[n++] = (uint8_t)l->version;
  n += 32;     /* random */
  ch[n++] = 0; /* session_id */
  if (l->dtls)
    ch[n++] = 0; /* cookie */
  ch[n++] = 0;
  ch[n++] = 2;
  ch[n++] = (uint8_t)(suite >> 8);
  ch[n++] = (uint8_t)suite;
  ch[n++] = 1; /* compression: null */
  ch[n++] = 0;
  hs_fuzz_send(l, FLOW_C2S, 1, ch, n);
}

static void hs_fuzz_server_hello(struct hs_fuzz_link *l, uint16_t suite) {
  uint8_t sh[2 + 32 + 1 + 2 + 1] = {0};
  size_t n = 0;
  sh[n++] = (uint8_t)(l->version >> 8);
  sh[n++] = (uint8_t)l->version;
  n += 32;
  sh[n++] = 0;
  sh[n++] = (uint8_t)(suite >> 8);
  sh[n++] = (uint8_t)suite;
  sh[n++] = 0;
  hs_fuzz_send(l, FLOW_S2C, 2, sh, n);
}

static void hs_fuzz_conn(uint8_t what, uint8_t options, bool dtls, uint16_t suite,
                         const uint8_t *body, size_t len) {
  static const uint16_t tls_versions[4] = {0x0300, 0x0301, 0x0302, 0x0303};
  static const uint16_t dtls_versions[4] = {0xfeff, 0xfefd, 0xfeff, 0xfefd};
  struct tls_limits lim;
  tls_limits_default(&lim);
  if (options & 0x20) {
    lim.max_chain_len = 2;
    lim.max_cert_bytes = 1024;
    lim.max_handshake_bytes = 2048;
  }
  struct hs_fuzz_link l = {0};
  l.dtls = dtls;
  l.version = dtls ? dtls_versions[options & 3] : tls_versions[options & 3];
  l.c = tls_conn_new(&lim, dtls, 443);
  if (!l.c)
    return;
  hs_fuzz_client_hello(&l, suite);
  if (what == 7) {
    hs_fuzz_send(&l, FLOW_S2C, 2, body, len);
  } else {
    hs_fuzz_server_hello(&l, suite);
    static const uint8_t types[5] = {0, 0, 11, 12, 22};
    uint8_t type = options & 0x40 ? 13 : options & 0x80 ? 4 : types[what];
    int dir = what == 2 && (options & 0x10) ? FLOW_C2S : FLOW_S2C;
    hs_fuzz_send(&l, dir, type, body, len);
  }
  const struct tls_session *s = tls_conn_session(l.c);
  FUZZ_INVARIANT(s->chain_len <= lim.max_chain_len);
  FUZZ_INVARIANT(!s->kex.present || s->kex.dh_bits >= 0);
  tls_conn_free(l.c);
}

int fuzz_handshake_one(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  uint8_t what = data[0] & 7, options = data[1];
  bool dtls = data[0] & 8;
  uint16_t suite = (uint16_t)(data[2] << 8 | data[3]);
  const uint8_t *body = data + 4;
  size_t len = size - 4;
  struct tls_client_hello ch = {0};
  struct tls_server_hello sh = {0};
  const uint8_t *cert = NULL;
  size_t cert_len = 0;
  char ja4[40];
  switch (what) {
  case 0:
    hello_parse_client(&ch, rd_make(body, len), dtls);
    hello_ja4(&ch, dtls ? 'd' : 't', ja4);
    FUZZ_INVARIANT(strlen(ja4) < sizeof ja4);
    break;
  case 1:
    hello_parse_server(&sh, rd_make(body, len), dtls);
    break;
  case 5:
    hello_parse_sslv2_client(&ch, rd_make(body, len));
    hello_ja4(&ch, 't', ja4);
    break;
  case 6:
    hello_parse_sslv2_server(&sh, rd_make(body, len), &cert, &cert_len);
    FUZZ_INVARIANT(!cert || (cert >= body && cert_len <= len && cert + cert_len <= body + len));
    break;
  default:
    hs_fuzz_conn(what, options, dtls, suite, body, len);
    break;
  }
  hello_client_clear(&ch);
  hello_server_clear(&sh);
  return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_handshake_one(data, size);
}
#endif
