/*
 * Unit tests of the record layer and the connection dissector
 * (dissect/record.c, conn.c, handshake.c) on hand-built byte streams.
 *
 * The TLS 1.3 handshake is RFC 8448 section 3 ("Simple 1-RTT Handshake"):
 * the ClientHello and ServerHello records are the RFC's bytes; the protected
 * records that follow are given the RFC's record headers (17 03 03 + length)
 * with arbitrary contents, since only their headers are read.
 */
#include "dissect/dissect.h"
#include "tests/unit/harness.h"

#include <stdlib.h>
#include <string.h>

// clang-format off
/* RFC 8448 3, {client} "send handshake record": complete record (197 octets). */
static const char rfc8448_ch_record[] =
    "16 03 01 00 c4 01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a"
    "8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01 00 00 91 00 00 00 0b"
    "00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19"
    "01 00 01 01 01 02 01 03 01 04 00 23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d e5 60 e4"
    "bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00 03"
    "02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02"
    "01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01";
/* RFC 8448 3, {server} "send handshake record": complete record (95 octets). */
static const char rfc8448_sh_record[] =
    "16 03 03 00 5a 02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a"
    "c5 cb 14 34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24 00 1d 00 20 c9 82 88"
    "76 11 20 95 fe 66 76 2b db f7 c6 72 e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00"
    "2b 00 02 03 04";
// clang-format on

static struct tls_conn *new_conn(void) {
  struct tls_limits lim;
  tls_limits_default(&lim);
  return tls_conn_new(&lim, false, 443);
}

/* Feed bytes in pieces of `step` (0: all at once), all in `frame`. */
static bool feed(struct tls_conn *c, int dir, const uint8_t *p, size_t n, size_t step,
                 uint64_t frame) {
  bool skip = false;
  if (!step)
    step = n;
  for (size_t off = 0; off < n; off += step) {
    size_t k = n - off < step ? n - off : step;
    skip = tls_conn_data(c, dir, p + off, k, 0, 0, 0, frame, (cap_time_us)frame * 1000);
  }
  return skip;
}

static void feed_hex(struct tls_conn *c, int dir, const char *s, size_t step, uint64_t frame) {
  size_t n;
  uint8_t *b = harness_unhex(s, &n);
  feed(c, dir, b, n, step, frame);
  free(b);
}

/* A protected record: header 17 03 03 len, then len filler bytes. */
static void protected_record(struct tls_conn *c, int dir, size_t len, uint64_t frame) {
  uint8_t *b = calloc(1, len + 5);
  b[0] = 0x17, b[1] = 3, b[2] = 3, b[3] = (uint8_t)(len >> 8), b[4] = (uint8_t)len;
  feed(c, dir, b, len + 5, 0, frame);
  free(b);
}

/* The budget all connections' buffers draw on: what each holds is added,
 * what it gives back (idle release, or freeing the connection) comes off,
 * and a buffer past the budget is refused and counted, the first 1 kB
 * always granted. */
static void buffer_budget(void) {
  struct tls_limits lim;
  tls_limits_default(&lim);
  lim.max_buffer_total = 8192; /* a's record (4 kB buffered), then its message (4 kB) */
  struct tls_budget budget = {0};
  struct tls_conn *a = tls_conn_new(&lim, false, 443), *b = tls_conn_new(&lim, false, 443);
  tls_conn_set_budget(a, &budget);
  tls_conn_set_budget(b, &budget);
  /* A Certificate record of 3000 bytes, its message claiming 9000. */
  size_t len = 3000;
  uint8_t *rec = calloc(1, len + 5);
  rec[0] = 0x16, rec[1] = 3, rec[2] = 3, rec[3] = (uint8_t)(len >> 8), rec[4] = (uint8_t)len;
  rec[5] = 0x0b, rec[7] = 9000 >> 8, rec[8] = 9000 & 0xff;
  feed(a, FLOW_S2C, rec, len + 5, 0, 1);
  CHECK(budget.held > 0 && budget.held <= lim.max_buffer_total);
  CHECK_EQ_U(budget.held, tls_conn_buffer_bytes(a));
  CHECK_EQ_U(tls_conn_session(a)->cap_buffer_total, 0);
  feed(b, FLOW_S2C, rec, len + 5, 0, 1); /* room for b's record, not for its message */
  CHECK(tls_conn_session(b)->cap_buffer_total > 0);
  CHECK_EQ_U(budget.held, tls_conn_buffer_bytes(a) + tls_conn_buffer_bytes(b));
  tls_conn_free(a);
  CHECK_EQ_U(budget.held, tls_conn_buffer_bytes(b));
  tls_conn_free(b);
  CHECK_EQ_U(budget.held, 0);
  free(rec);
}

/* One DTLS 1.2 datagram (RFC 6347 4.1 record header, 4.2.2 handshake
 * header): a fragment [off, off + n) of a Certificate claiming msg_len
 * bytes, message_seq 0, n bytes of 0x42. */
static void dtls_fragment(struct tls_conn *c, uint32_t msg_len, uint32_t off, uint32_t n) {
  size_t body = 12 + n;
  uint8_t *d = calloc(1, 13 + body);
  d[0] = 22, d[1] = 0xfe, d[2] = 0xfd; /* handshake, DTLS 1.2; epoch and seq 0 */
  d[11] = (uint8_t)(body >> 8), d[12] = (uint8_t)body;
  uint8_t *h = d + 13;
  h[0] = 11;
  h[1] = (uint8_t)(msg_len >> 16), h[2] = (uint8_t)(msg_len >> 8), h[3] = (uint8_t)msg_len;
  h[6] = (uint8_t)(off >> 16), h[7] = (uint8_t)(off >> 8), h[8] = (uint8_t)off;
  h[9] = (uint8_t)(n >> 16), h[10] = (uint8_t)(n >> 8), h[11] = (uint8_t)n;
  memset(h + 12, 0x42, n);
  feed(c, FLOW_S2C, d, 13 + body, 0, 1);
  free(d);
}

/* DTLS messages being put together draw on the same budget as TLS
 * buffers: with 6000 bytes, a's first 3000 bytes of a 9000-byte
 * Certificate fit; b's do not (past the first 1 kB, always granted), and
 * its refusal is counted.  Freeing gives everything back. */
static void dtls_budget(void) {
  struct tls_limits lim;
  tls_limits_default(&lim);
  lim.max_buffer_total = 6000;
  struct tls_budget budget = {0};
  struct tls_conn *a = tls_conn_new(&lim, true, 4433), *b = tls_conn_new(&lim, true, 4433);
  tls_conn_set_budget(a, &budget);
  tls_conn_set_budget(b, &budget);
  dtls_fragment(a, 9000, 0, 3000);
  CHECK(budget.held >= 3000 && budget.held <= lim.max_buffer_total);
  CHECK_EQ_U(budget.held, tls_conn_buffer_bytes(a));
  CHECK_EQ_U(tls_conn_session(a)->cap_buffer_total, 0);
  dtls_fragment(b, 9000, 0, 3000);
  CHECK_EQ_U(tls_conn_session(b)->cap_buffer_total, 1);
  CHECK_EQ_U(budget.held, tls_conn_buffer_bytes(a) + tls_conn_buffer_bytes(b));
  /* Pieces ahead of a hole too: a's budget spent, b's 2000-byte piece is refused. */
  dtls_fragment(b, 9000, 5000, 2000);
  CHECK_EQ_U(tls_conn_session(b)->cap_buffer_total, 2);
  tls_conn_free(a);
  CHECK_EQ_U(budget.held, tls_conn_buffer_bytes(b));
  dtls_fragment(b, 9000, 5000, 2000); /* room again */
  CHECK(budget.held >= 2000);
  CHECK_EQ_U(tls_conn_session(b)->cap_buffer_total, 2);
  tls_conn_free(b);
  CHECK_EQ_U(budget.held, 0);
}

/* Fragments held ahead of a hole are bounded per direction
 * (max_dtls_pieces) and counted on their own: at 4, ten one-byte
 * fragments at offsets 100, 200, ... 1000 keep 4 and refuse 6. */
static void dtls_piece_cap(void) {
  struct tls_limits lim;
  tls_limits_default(&lim);
  lim.max_dtls_pieces = 4;
  struct tls_conn *c = tls_conn_new(&lim, true, 4433);
  for (uint32_t off = 100; off <= 1000; off += 100)
    dtls_fragment(c, 2000, off, 1);
  CHECK_EQ_U(tls_conn_session(c)->cap_dtls_pieces, 6);
  CHECK_EQ_U(tls_conn_session(c)->cap_handshake, 0);
  tls_conn_free(c);
}

static void rfc8448_handshake(size_t step) {
  struct tls_conn *c = new_conn();
  feed_hex(c, FLOW_C2S, rfc8448_ch_record, step, 1);
  /* A whole ClientHello read: an idle direction keeps no buffer (a flood
   * of hellos nobody answers holds one waiting connection per flow). */
  CHECK_EQ_U(tls_conn_buffer_bytes(c), 0);
  feed_hex(c, FLOW_S2C, rfc8448_sh_record, step, 2);
  /* RFC 8448 3: the server's protected handshake record is 674 octets of
   * payload (17 03 03 02 a2), the client's Finished 53 (17 03 03 00 35). */
  protected_record(c, FLOW_S2C, 0x2a2, 2);
  protected_record(c, FLOW_C2S, 0x35, 3);
  /* ...and none once both directions are protected (no key log). */
  CHECK_EQ_U(tls_conn_buffer_bytes(c), 0);
  const struct tls_session *s = tls_conn_session(c);
  CHECK(s->is_tls);
  CHECK(s->has_client_hello && s->has_server_hello);
  CHECK_EQ_U(s->ch.at.frame, 1);
  CHECK_EQ_U(s->sh.at.frame, 2);
  CHECK_EQ_U(s->version, 0x0304);
  CHECK_EQ_U(s->sh.cipher, 0x1301);
  CHECK_EQ_U(s->sh.key_share_group, 0x001d);
  CHECK_EQ_U(s->ch.ciphers.n, 3);
  CHECK(s->ch.sni.n == 6 && memcmp(s->ch.sni.p, "server", 6) == 0);
  CHECK(s->encrypted[FLOW_S2C] && s->encrypted[FLOW_C2S]);
  CHECK(s->established);
  CHECK(!s->resumed);
  CHECK(s->malformed == NULL);
  CHECK(s->violation == NULL); /* the server chose what the client offered */
  CHECK(!tls_session_unverified(s) && !tls_session_client_abort(s));
  CHECK_EQ_U(s->records[FLOW_S2C], 2);
  tls_conn_free(c);
}

static void rfc8448_whole_records(void) {
  rfc8448_handshake(0);
}

static void rfc8448_byte_by_byte(void) {
  rfc8448_handshake(1);
}

static void rfc8448_odd_pieces(void) {
  rfc8448_handshake(7);
}

/* The ClientHello split over two handshake records (RFC 8446 5.1 allows a
 * message to span records). */
static void message_across_records(void) {
  size_t n;
  uint8_t *rec = harness_unhex(rfc8448_ch_record, &n);
  size_t body = n - 5, first = 50;
  uint8_t *two = malloc(n + 5);
  memcpy(two, "\x16\x03\x01", 3);
  two[3] = 0, two[4] = (uint8_t)first;
  memcpy(two + 5, rec + 5, first);
  memcpy(two + 5 + first, "\x16\x03\x01", 3);
  two[8 + first] = (uint8_t)((body - first) >> 8), two[9 + first] = (uint8_t)(body - first);
  memcpy(two + 10 + first, rec + 5 + first, body - first);
  struct tls_conn *c = new_conn();
  feed(c, FLOW_C2S, two, n + 5, 0, 4);
  const struct tls_session *s = tls_conn_session(c);
  CHECK(s->has_client_hello);
  CHECK_EQ_U(s->ch.ciphers.n, 3);
  CHECK_EQ_U(s->records[FLOW_C2S], 2);
  CHECK(s->malformed == NULL);
  tls_conn_free(c);
  free(rec);
  free(two);
}

/* A 16 MB handshake length claim, drip-fed one byte per call: flagged and
 * counted at once, nothing buffered beyond the cap. */
static void huge_handshake_claim(void) {
  struct tls_conn *c = new_conn();
  uint8_t hdr[9] = {0x16, 3, 3, 0x40, 0x00, 0x0b, 0xff, 0xff, 0xff};
  feed(c, FLOW_S2C, hdr, sizeof(hdr), 1, 1);
  uint8_t zero = 0;
  for (int i = 0; i < 100000; i++)
    tls_conn_data(c, FLOW_S2C, &zero, 1, 0, 0, 0, 2, 2000);
  const struct tls_session *s = tls_conn_session(c);
  CHECK_EQ_U(s->cap_handshake, 1);
  CHECK(s->malformed && strstr(s->malformed, "cap"));
  CHECK_EQ_U(s->chain_len, 0);
  tls_conn_free(c);
}

static void garbage_after_record(void) {
  struct tls_conn *c = new_conn();
  feed_hex(c, FLOW_C2S, rfc8448_ch_record, 0, 1);
  bool skip = false;
  uint8_t junk[] = {0x99, 0x03, 0x03, 0x00, 0x10, 1, 2, 3};
  skip = feed(c, FLOW_C2S, junk, sizeof(junk), 0, 2);
  const struct tls_session *s = tls_conn_session(c);
  CHECK(s->has_client_hello);
  CHECK(s->malformed && strstr(s->malformed, "record"));
  CHECK_EQ_U(s->malformed_at.frame, 2);
  CHECK(skip); /* nothing more to learn from this direction */
  tls_conn_free(c);
}

static void not_tls_on_443(void) {
  /* A client that speaks first in clear text, and not as a STARTTLS
   * protocol does (HTTP): no switch can follow, nothing more to read. */
  struct tls_conn *c = new_conn();
  const char *http = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
  bool skip = feed(c, FLOW_C2S, (const uint8_t *)http, strlen(http), 0, 1);
  CHECK(skip);
  CHECK(!tls_conn_session(c)->is_tls);
  tls_conn_free(c);
  /* A server greeting (RFC 5321 4.2): STARTTLS may follow, until the
   * plaintext limit. */
  c = new_conn();
  const char *greeting = "220 mail.example ESMTP\r\n";
  skip = feed(c, FLOW_S2C, (const uint8_t *)greeting, strlen(greeting), 0, 1);
  CHECK(!skip);
  uint8_t *big = malloc(300 * 1024);
  memset(big, 'a', 300 * 1024);
  skip = feed(c, FLOW_S2C, big, 300 * 1024, 0, 2);
  free(big);
  CHECK(!tls_conn_session(c)->is_tls);
  CHECK(skip); /* gave up after the plaintext limit */
  tls_conn_free(c);
}

/* Certificate message whose list length claims more than the message. */
static void certificate_list_lies(void) {
  struct tls_conn *c = new_conn();
  feed_hex(c, FLOW_C2S,
           "16 03 01 00 2d 01 00 00 29 03 03" /* TLS 1.2 ClientHello */
           " 00000000000000000000000000000000 00000000000000000000000000000000"
           " 00 00 02 00 2f 01 00",
           0, 1);
  feed_hex(c, FLOW_S2C,
           "16 03 03 00 2a 02 00 00 26 03 03"
           " 00000000000000000000000000000000 00000000000000000000000000000000"
           " 00 00 2f 00",
           0, 2);
  /* Certificate: list length 0x000100 but only 3 bytes follow. */
  feed_hex(c, FLOW_S2C, "16 03 03 00 0a 0b 00 00 06 00 01 00 00 00 00", 0, 3);
  const struct tls_session *s = tls_conn_session(c);
  CHECK(s->has_server_hello);
  CHECK_EQ_U(s->version, 0x0303);
  CHECK_EQ_U(s->sh.cipher, 0x002f);
  CHECK(s->malformed && strstr(s->malformed, "certificate"));
  CHECK_EQ_U(s->malformed_at.frame, 3);
  CHECK_EQ_U(s->chain_len, 0);
  tls_conn_free(c);
}

static void certificate_chain_parsed(void) {
  FILE *f = fopen("tests/data/x509/pki-leaf.der", "rb");
  CHECK(f != NULL);
  if (!f)
    return;
  uint8_t der[4096];
  size_t n = fread(der, 1, sizeof(der), f);
  fclose(f);
  size_t msg = 3 + 3 + n, rec = 4 + msg;
  uint8_t *b = malloc(5 + rec);
  size_t k = 0;
  b[k++] = 0x16, b[k++] = 3, b[k++] = 3, b[k++] = (uint8_t)(rec >> 8), b[k++] = (uint8_t)rec;
  b[k++] = 0x0b, b[k++] = 0, b[k++] = (uint8_t)(msg >> 8), b[k++] = (uint8_t)msg;
  b[k++] = 0, b[k++] = (uint8_t)((n + 3) >> 8), b[k++] = (uint8_t)(n + 3);
  b[k++] = 0, b[k++] = (uint8_t)(n >> 8), b[k++] = (uint8_t)n;
  memcpy(b + k, der, n);
  struct tls_conn *c = new_conn();
  feed(c, FLOW_S2C, b, k + n, 100, 7); /* in 100-byte pieces */
  const struct tls_session *s = tls_conn_session(c);
  CHECK_EQ_U(s->chain_len, 1);
  CHECK_EQ_U(s->chain_at.frame, 7);
  CHECK(s->chain_len == 1 && s->chain[0]->parsed);
  CHECK(s->malformed == NULL);
  tls_conn_free(c);
  free(b);
}

static void alerts_plain_and_encrypted(void) {
  struct tls_conn *c = new_conn();
  feed_hex(c, FLOW_S2C, "15 03 03 00 02 02 28", 0, 5); /* fatal handshake_failure */
  feed_hex(c, FLOW_C2S, "15 03 03 00 1a 0000000000000000000000000000000000000000000000000000", 0,
           6);
  const struct tls_session *s = tls_conn_session(c);
  CHECK_EQ_U(s->n_alerts, 2);
  CHECK(!s->alerts[0].encrypted);
  CHECK_EQ_U(s->alerts[0].level, 2);
  CHECK_EQ_U(s->alerts[0].desc, 40);
  CHECK_EQ_U(s->alerts[0].dir, FLOW_S2C);
  CHECK_EQ_U(s->alerts[0].at.frame, 5);
  CHECK(s->alerts[1].encrypted);
  CHECK_EQ_U(s->alerts[1].dir, FLOW_C2S);
  tls_conn_free(c);
}

/* RFC 6520 4: a heartbeat request whose declared payload (0x4000) exceeds
 * its record (3 bytes): the Heartbleed probe. */
static void heartbeat_overlong_claim(void) {
  struct tls_conn *c = new_conn();
  feed_hex(c, FLOW_C2S, "18 03 02 00 03 01 40 00", 0, 9);
  const struct tls_session *s = tls_conn_session(c);
  CHECK_EQ_U(s->n_heartbeats, 1);
  CHECK_EQ_U(s->heartbeats[0].type, 1);
  CHECK_EQ_U(s->heartbeats[0].payload_length, 0x4000);
  CHECK_EQ_U(s->heartbeats[0].record_length, 3);
  tls_conn_free(c);
}

static void gap_mid_record_stops_parsing(void) {
  struct tls_conn *c = new_conn();
  size_t n;
  uint8_t *rec = harness_unhex(rfc8448_ch_record, &n);
  tls_conn_data(c, FLOW_C2S, rec, 20, 0, 0, 0, 1, 1000);
  bool skip = tls_conn_data(c, FLOW_C2S, rec + 40, n - 40, 20, TCP_DATA_GAP, 0, 2, 2000);
  const struct tls_session *s = tls_conn_session(c);
  CHECK(skip);
  CHECK(!s->has_client_hello);
  CHECK(s->gap[FLOW_C2S]);
  tls_conn_free(c);
  free(rec);
}

/* An SSLv2-format CLIENT-HELLO (2-byte header, msg type 1, version 3.1),
 * as old clients sent it (RFC 5246 E.2). */
static void sslv2_compatible_hello(void) {
  struct tls_conn *c = new_conn();
  feed_hex(c, FLOW_C2S,
           "80 2b 01 03 01 00 12 00 00 00 10" /* len 43, CLIENT-HELLO, 3.1, 18/0/16 */
           " 00 00 2f 00 00 35 00 00 0a 01 00 80 07 00 c0 03 00 80" /* 6 specs */
           " 00112233445566778899aabbccddeeff",                     /* challenge */
           0, 1);
  const struct tls_session *s = tls_conn_session(c);
  CHECK(s->has_client_hello);
  CHECK(s->ch.sslv2_format);
  CHECK_EQ_U(s->ch.legacy_version, 0x0301);
  CHECK_EQ_U(s->ch.n_sslv2_ciphers, 6);
  CHECK_EQ_U(s->ch.ciphers.n, 3); /* the specs with a 0 first byte are TLS suites */
  tls_conn_free(c);
}

/* ---- hand-built hellos: does the ServerHello answer the ClientHello? ---- */

struct hello {
  uint8_t b[512];
  size_t n;
};

static void put8(struct hello *h, unsigned v) {
  h->b[h->n++] = (uint8_t)v;
}

static void put16(struct hello *h, unsigned v) {
  put8(h, v >> 8);
  put8(h, v & 0xff);
}

/* A list of 16-bit values with a length prefix of `len_bytes` bytes. */
static void put_list(struct hello *h, const uint16_t *v, size_t n, int len_bytes) {
  if (len_bytes == 2)
    put16(h, (unsigned)(2 * n));
  else
    put8(h, (unsigned)(2 * n));
  for (size_t i = 0; i < n; i++)
    put16(h, v[i]);
}

/* An offer: 0-terminated lists; versions NULL: no supported_versions. */
struct offer {
  uint16_t legacy;
  const uint16_t *suites, *versions, *shares, *groups;
  const uint8_t *compression; /* count, then the methods */
};

static size_t count(const uint16_t *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

/* Record (RFC 5246 6.2.1) and handshake header (7.4) around body[5+4..]. */
static void frame_hello(struct hello *h, uint8_t type) {
  size_t body = h->n - 9;
  h->b[0] = 0x16, h->b[1] = 3, h->b[2] = 1, h->b[3] = (uint8_t)((h->n - 5) >> 8);
  h->b[4] = (uint8_t)(h->n - 5);
  h->b[5] = type, h->b[6] = 0, h->b[7] = (uint8_t)(body >> 8), h->b[8] = (uint8_t)body;
}

/* RFC 5246 7.4.1.2 and RFC 8446 4.1.2 / 4.2: supported_versions (43),
 * supported_groups (10), key_share (51, an empty share per group). */
static void client_hello_bytes(struct hello *h, const struct offer *o) {
  h->n = 9;
  put16(h, o->legacy);
  h->n += 32; /* random */
  put8(h, 0); /* session_id */
  put_list(h, o->suites, count(o->suites), 2);
  for (int i = 0; i <= o->compression[0]; i++)
    put8(h, o->compression[i]);
  size_t ext_len_at = h->n;
  h->n += 2;
  if (o->versions) {
    put16(h, 43);
    put16(h, (unsigned)(1 + 2 * count(o->versions)));
    put_list(h, o->versions, count(o->versions), 1);
  }
  if (o->groups) {
    put16(h, 10);
    put16(h, (unsigned)(2 + 2 * count(o->groups)));
    put_list(h, o->groups, count(o->groups), 2);
  }
  if (o->shares) {
    put16(h, 51);
    put16(h, (unsigned)(2 + 4 * count(o->shares)));
    put16(h, (unsigned)(4 * count(o->shares)));
    for (size_t i = 0; i < count(o->shares); i++)
      put16(h, o->shares[i]), put16(h, 0);
  }
  size_t ext_len = h->n - ext_len_at - 2;
  h->b[ext_len_at] = (uint8_t)(ext_len >> 8), h->b[ext_len_at + 1] = (uint8_t)ext_len;
  frame_hello(h, 1);
}

/* An answer: selected 0 means no supported_versions; hrr: the
 * HelloRetryRequest random (RFC 8446 4.1.3) and key_share's selected_group. */
struct answer {
  uint16_t legacy, suite, selected, share;
  uint8_t compression;
  bool hrr;
};

static void server_hello_bytes(struct hello *h, const struct answer *a) {
  static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
                                         0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                         0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
                                         0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
  h->n = 9;
  put16(h, a->legacy);
  for (int i = 0; i < 32; i++)
    put8(h, a->hrr ? hrr_random[i] : (unsigned)i + 1);
  put8(h, 0);
  put16(h, a->suite);
  put8(h, a->compression);
  size_t ext_len_at = h->n;
  h->n += 2;
  if (a->selected)
    put16(h, 43), put16(h, 2), put16(h, a->selected);
  if (a->share && a->hrr)
    put16(h, 51), put16(h, 2), put16(h, a->share);
  else if (a->share)
    put16(h, 51), put16(h, 4), put16(h, a->share), put16(h, 0);
  size_t ext_len = h->n - ext_len_at - 2;
  h->b[ext_len_at] = (uint8_t)(ext_len >> 8), h->b[ext_len_at + 1] = (uint8_t)ext_len;
  frame_hello(h, 2);
}

/* The violation a ClientHello (frame 1) and ServerHello (frame 2) make;
 * with ch2, a HelloRetryRequest first, then the second hello (frame 3) and
 * the ServerHello (frame 4). */
static const char *judged(const struct offer *o, const struct answer *hrr, const struct offer *ch2,
                          const struct answer *a) {
  struct tls_conn *c = new_conn();
  struct hello h;
  client_hello_bytes(&h, o);
  feed(c, FLOW_C2S, h.b, h.n, 0, 1);
  if (hrr) {
    server_hello_bytes(&h, hrr);
    feed(c, FLOW_S2C, h.b, h.n, 0, 2);
    client_hello_bytes(&h, ch2);
    feed(c, FLOW_C2S, h.b, h.n, 0, 3);
  }
  server_hello_bytes(&h, a);
  feed(c, FLOW_S2C, h.b, h.n, 0, 4);
  const struct tls_session *s = tls_conn_session(c);
  CHECK(s->has_server_hello && !s->malformed);
  const char *why = s->violation;
  tls_conn_free(c);
  return why;
}

static void answers_judged(void) {
  static const uint8_t null_only[] = {1, 0}, null_deflate[] = {2, 1, 0};
  static const uint16_t gcm[] = {0xc02f, 0}, gcm_scsv[] = {0xc02f, 0x00ff, 0x5600, 0x0a0a, 0};
  static const uint16_t tls13_suites[] = {0x1301, 0xc02f, 0}, v13_12[] = {0x0304, 0x0303, 0};
  static const uint16_t draft23[] = {0x7f17, 0x0303, 0}, x25519[] = {0x001d, 0};
  static const uint16_t x25519_p256[] = {0x001d, 0x0017, 0}, p256[] = {0x0017, 0};
  const struct offer tls12 = {0x0303, gcm_scsv, NULL, NULL, NULL, null_only};
  const struct offer deflate = {0x0303, gcm, NULL, NULL, NULL, null_deflate};
  const struct offer tls13 = {0x0303, tls13_suites, v13_12, x25519, x25519_p256, null_only};
  const struct offer draft = {0x0303, tls13_suites, draft23, x25519, x25519, null_only};
  /* RFC 5246 7.4.1.3 and E.1: any version up to the client's, one of its
   * suites and compression methods. */
  CHECK(!judged(&tls12, NULL, NULL, &(struct answer){0x0303, 0xc02f, 0, 0, 0, false}));
  CHECK(!judged(&tls12, NULL, NULL, &(struct answer){0x0301, 0xc02f, 0, 0, 0, false}));
  CHECK(!judged(&deflate, NULL, NULL, &(struct answer){0x0303, 0xc02f, 0, 0, 1, false}));
  CHECK_STR(judged(&tls12, NULL, NULL, &(struct answer){0x0304, 0xc02f, 0, 0, 0, false}),
            "version not offered by the client");
  CHECK_STR(judged(&tls12, NULL, NULL, &(struct answer){0x0303, 0x1301, 0x0304, 0x1d, 0, false}),
            "version not offered by the client");
  CHECK_STR(judged(&tls12, NULL, NULL, &(struct answer){0x0303, 0x0005, 0, 0, 0, false}),
            "cipher suite not offered by the client");
  /* RFC 5746 3.3, RFC 7507 1, RFC 8701 2: never a suite to choose. */
  CHECK_STR(judged(&tls12, NULL, NULL, &(struct answer){0x0303, 0x00ff, 0, 0, 0, false}),
            "cipher suite not offered by the client");
  CHECK_STR(judged(&tls12, NULL, NULL, &(struct answer){0x0303, 0x5600, 0, 0, 0, false}),
            "cipher suite not offered by the client");
  CHECK_STR(judged(&tls12, NULL, NULL, &(struct answer){0x0303, 0x0a0a, 0, 0, 0, false}),
            "cipher suite not offered by the client");
  CHECK_STR(judged(&tls12, NULL, NULL, &(struct answer){0x0303, 0xc02f, 0, 0, 1, false}),
            "compression method not offered by the client");
  /* RFC 8446 4.2.1, 4.2.8: a listed version, a group the client shared;
   * draft versions as listed. */
  CHECK(!judged(&tls13, NULL, NULL, &(struct answer){0x0303, 0x1301, 0x0304, 0x1d, 0, false}));
  CHECK(!judged(&tls13, NULL, NULL, &(struct answer){0x0303, 0xc02f, 0, 0, 0, false}));
  CHECK(!judged(&draft, NULL, NULL, &(struct answer){0x0303, 0x1301, 0x7f17, 0x1d, 0, false}));
  CHECK_STR(judged(&draft, NULL, NULL, &(struct answer){0x0303, 0x1301, 0x0304, 0x1d, 0, false}),
            "version not offered by the client");
  CHECK_STR(judged(&tls13, NULL, NULL, &(struct answer){0x0303, 0x1301, 0x0304, 0x17, 0, false}),
            "key share group not offered by the client");
  /* RFC 8446 4.1.4: a HelloRetryRequest names a group of supported_groups;
   * the ServerHello then shares in it. */
  const struct offer retried = {0x0303, tls13_suites, v13_12, p256, x25519_p256, null_only};
  const struct answer hrr = {0x0303, 0x1301, 0x0304, 0x17, 0, true};
  CHECK(!judged(&tls13, &hrr, &retried, &(struct answer){0x0303, 0x1301, 0x0304, 0x17, 0, false}));
  const struct answer hrr_other = {0x0303, 0x1301, 0x0304, 0x18, 0, true};
  CHECK_STR(judged(&tls13, &hrr_other, &retried,
                   &(struct answer){0x0303, 0x1301, 0x0304, 0x17, 0, false}),
            "retry group not offered by the client");
}

/* A server's hello with no ClientHello before it is no answer; with none
 * at all on the connection, the flight is unverified. */
static void server_flight_alone(void) {
  static const uint16_t gcm[] = {0xc02f, 0};
  static const uint8_t null_only[] = {1, 0};
  struct tls_conn *c = new_conn();
  struct hello h;
  server_hello_bytes(&h, &(struct answer){0x0303, 0xc02f, 0, 0, 0, false});
  feed(c, FLOW_S2C, h.b, h.n, 0, 1);
  const struct tls_session *s = tls_conn_session(c);
  CHECK(tls_session_unverified(s));
  client_hello_bytes(&h, &(struct offer){0x0303, gcm, NULL, NULL, NULL, null_only});
  feed(c, FLOW_C2S, h.b, h.n, 0, 2);
  CHECK(!tls_session_unverified(s));
  CHECK_STR(s->violation, "server hello before any client hello");
  tls_conn_free(c);
}

/* RFC 5246 7.2: a fatal alert (level 2) from the client after the
 * ServerHello ends the handshake; a warning does not. */
static void client_abort_seen(void) {
  static const uint16_t gcm[] = {0xc02f, 0};
  static const uint8_t null_only[] = {1, 0};
  for (int level = 1; level <= 2; level++) {
    struct tls_conn *c = new_conn();
    struct hello h;
    client_hello_bytes(&h, &(struct offer){0x0303, gcm, NULL, NULL, NULL, null_only});
    feed(c, FLOW_C2S, h.b, h.n, 0, 1);
    server_hello_bytes(&h, &(struct answer){0x0303, 0xc02f, 0, 0, 0, false});
    feed(c, FLOW_S2C, h.b, h.n, 0, 2);
    const uint8_t alert[] = {0x15, 3, 3, 0, 2, (uint8_t)level, 46}; /* certificate_unknown */
    feed(c, FLOW_C2S, alert, sizeof alert, 0, 3);
    const struct tls_alert *a = tls_session_client_abort(tls_conn_session(c));
    CHECK(level == 2 ? a && a->at.frame == 3 && a->desc == 46 : a == NULL);
    tls_conn_free(c);
  }
}

int main(void) {
  RUN(buffer_budget);
  RUN(dtls_budget);
  RUN(dtls_piece_cap);
  RUN(rfc8448_whole_records);
  RUN(rfc8448_byte_by_byte);
  RUN(rfc8448_odd_pieces);
  RUN(message_across_records);
  RUN(huge_handshake_claim);
  RUN(garbage_after_record);
  RUN(not_tls_on_443);
  RUN(certificate_list_lies);
  RUN(certificate_chain_parsed);
  RUN(alerts_plain_and_encrypted);
  RUN(heartbeat_overlong_claim);
  RUN(gap_mid_record_stops_parsing);
  RUN(sslv2_compatible_hello);
  RUN(answers_judged);
  RUN(server_flight_alone);
  RUN(client_abort_seen);
  return harness_done();
}
