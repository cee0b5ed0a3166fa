/*
 * Unit tests of the "does this start like TLS / SSLv2 / DTLS / QUIC"
 * sniffers (dissect/sniff.c) on hand-written bytes.
 *
 * The TLS starts are the first bytes of RFC 8448 section 3's ClientHello
 * (16 03 01 00 c4 01) and ServerHello (16 03 03 00 5a 02) records; the
 * limits are RFC 5246 6.2.1-6.2.3 (type 20..24, 2^14 + 2048 bytes at
 * most), RFC 6101 E.2 (SSLv2 header), RFC 6347 4.1 / RFC 9147 4 (DTLS
 * versions fe ff, fe fd, fe fc) and RFC 9000 17.2 (QUIC long header).
 */
#include "dissect/conn.h"
#include "tests/unit/harness.h"

/* A reader over the bytes of hex string s (at most 64 bytes). */
static struct rd hex_rd(const char *s, uint8_t buf[64]) {
  return rd_make(buf, harness_unhex_into(s, buf));
}

static void tls_hello_starts(void) {
  uint8_t b[64];
  CHECK(tls_sniff_hello(hex_rd("16 03 01 00 c4 01", b), 1));
  CHECK(!tls_sniff_hello(hex_rd("16 03 01 00 c4 01", b), 2));
  CHECK(tls_sniff_hello(hex_rd("16 03 03 00 5a 02 00 00 56", b), 2));
  CHECK(tls_sniff_hello(hex_rd("16 03 00 00 04 01", b), 1));  /* SSL 3.0, 4-byte body */
  CHECK(!tls_sniff_hello(hex_rd("16 03 01 00 03 01", b), 1)); /* no room for a header */
  CHECK(!tls_sniff_hello(hex_rd("16 03 05 00 c4 01", b), 1)); /* 3.5 is no version */
  CHECK(!tls_sniff_hello(hex_rd("16 02 00 00 c4 01", b), 1));
  CHECK(!tls_sniff_hello(hex_rd("17 03 03 00 c4 01", b), 1)); /* application data */
  CHECK(tls_sniff_hello(hex_rd("16 03 03 48 00 01", b), 1));  /* 18432: the limit */
  CHECK(!tls_sniff_hello(hex_rd("16 03 03 48 01 01", b), 1)); /* one past it */
  CHECK(!tls_sniff_hello(hex_rd("16 03 01 00 c4", b), 1));    /* message type not there */
  CHECK(!tls_sniff_hello(hex_rd("", b), 1));
}

static void tls_record_starts(void) {
  uint8_t b[64];
  CHECK(tls_sniff_record(hex_rd("16 03 01 00 c4", b)));
  CHECK(tls_sniff_record(hex_rd("14 03 03 00 01 01", b)));    /* ChangeCipherSpec */
  CHECK(tls_sniff_record(hex_rd("15 03 03 00 02 02 28", b))); /* fatal handshake_failure */
  CHECK(tls_sniff_record(hex_rd("18 03 03 00 03", b)));       /* heartbeat */
  CHECK(!tls_sniff_record(hex_rd("13 03 03 00 02", b)));
  CHECK(!tls_sniff_record(hex_rd("19 03 03 00 02", b)));
  CHECK(!tls_sniff_record(hex_rd("17 03 03 00 00", b))); /* empty */
  CHECK(tls_sniff_record(hex_rd("17 03 03 48 00", b)));
  CHECK(!tls_sniff_record(hex_rd("17 03 03 48 01", b)));
  CHECK(tls_sniff_record(hex_rd("17 03 04 00 20", b))); /* 3.4 is allowed */
  CHECK(!tls_sniff_record(hex_rd("17 03 05 00 20", b)));
  CHECK(!tls_sniff_record(hex_rd("17 03 03 00", b)));
  /* "GET /" is no record. */
  CHECK(!tls_sniff_record(hex_rd("47 45 54 20 2f", b)));
}

static void sslv2_hello_starts(void) {
  uint8_t b[64];
  /* 2-byte header 80 2e: 46 bytes follow, CLIENT-HELLO (1), version 3.1. */
  CHECK(tls_sniff_sslv2(hex_rd("80 2e 01 03 01 00 15", b), 1));
  CHECK(!tls_sniff_sslv2(hex_rd("80 2e 01 03 01 00 15", b), 4));
  CHECK(tls_sniff_sslv2(hex_rd("83 f0 04 00 01", b), 4)); /* SERVER-HELLO, 1008 bytes */
  CHECK(tls_sniff_sslv2(hex_rd("80 09 01", b), 1));       /* 9: the fixed part */
  CHECK(!tls_sniff_sslv2(hex_rd("80 08 01", b), 1));
  CHECK(!tls_sniff_sslv2(hex_rd("00 2e 01", b), 1)); /* 3-byte header form */
  CHECK(!tls_sniff_sslv2(hex_rd("80 2e", b), 1));
}

static void dtls_starts(void) {
  uint8_t b[64];
  /* DTLS 1.2 handshake record, epoch 0, seq 0, length 0x8c, ClientHello. */
  static const char ch12[] = "16 fe fd 00 00 00 00 00 00 00 00 00 8c 01";
  CHECK(tls_sniff_dtls(hex_rd(ch12, b)));
  CHECK(tls_sniff_dtls_hello(hex_rd(ch12, b), 1));
  CHECK(!tls_sniff_dtls_hello(hex_rd(ch12, b), 2));
  CHECK(tls_sniff_dtls(hex_rd("16 fe ff 00 00 00 00 00 00 00 00 00 8c", b))); /* 1.0 */
  CHECK(tls_sniff_dtls(hex_rd("16 fe fc 00 00 00 00 00 00 00 00 00 8c", b))); /* 1.3 */
  CHECK(!tls_sniff_dtls(hex_rd("16 fe fe 00 00 00 00 00 00 00 00 00 8c", b)));
  CHECK(!tls_sniff_dtls(hex_rd("16 03 03 00 00 00 00 00 00 00 00 00 8c", b)));
  CHECK(!tls_sniff_dtls(hex_rd("15 fe fd 00 00 00 00 00 00 00 00 00 02", b)));
  CHECK(!tls_sniff_dtls(hex_rd("16 fe fd 00 00 00 00 00 00 00 00 00", b))); /* 12 bytes */
  /* A header alone: DTLS, but no message type to match. */
  CHECK(!tls_sniff_dtls_hello(hex_rd("16 fe fd 00 00 00 00 00 00 00 00 00 8c", b), 1));
}

static void quic_long_headers(void) {
  uint8_t b[64];
  CHECK(tls_sniff_quic_long_header(hex_rd("c3 00 00 00 01 08 83", b))); /* v1 Initial */
  CHECK(tls_sniff_quic_long_header(hex_rd("ff 6b 33 43 cf 08 00", b)));
  CHECK(!tls_sniff_quic_long_header(hex_rd("c3 00 00 00 01 08", b)));    /* 6 bytes */
  CHECK(!tls_sniff_quic_long_header(hex_rd("83 00 00 00 01 08 83", b))); /* fixed bit clear */
  CHECK(!tls_sniff_quic_long_header(hex_rd("43 00 00 00 01 08 83", b))); /* short header */
}

/* RFC 5769 2.1: the sample Binding request (108 bytes, length 0x58). */
static const char STUN_REQUEST[] =
    "00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
    "00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36"
    "00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
    "00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2"
    "80 28 00 04 e5 7a 3b cf";

static void stun_messages(void) {
  uint8_t b[128];
  struct rd r = hex_rd(STUN_REQUEST, b);
  CHECK_EQ_U(r.n, 108);
  CHECK(tls_sniff_stun(r));
  /* A Binding success response with no attributes. */
  CHECK(tls_sniff_stun(hex_rd("01 01 00 00 21 12 a4 42 00 01 02 03 04 05 06 07 08 09 0a 0b", b)));
  r = hex_rd(STUN_REQUEST, b);
  b[4] = 0x22; /* another magic cookie */
  CHECK(!tls_sniff_stun(r));
  r = hex_rd(STUN_REQUEST, b);
  b[0] = 0x40; /* the two high bits must be zero (RFC 8489 6) */
  CHECK(!tls_sniff_stun(r));
  r = hex_rd(STUN_REQUEST, b);
  r.n -= 4; /* the length field no longer fills the datagram */
  CHECK(!tls_sniff_stun(r));
  /* RTP (version 2) and a DTLS record are not STUN. */
  CHECK(!tls_sniff_stun(hex_rd("80 6f 00 01 00 00 03 c0 11 22 33 44 00 00 00 00 00 00 00 00", b)));
  CHECK(!tls_sniff_stun(hex_rd("16 fe fd 00 00 00 00 00 00 00 00 00 8c 01 00 00 00 00 00 00", b)));
}

int main(void) {
  RUN(tls_hello_starts);
  RUN(tls_record_starts);
  RUN(sslv2_hello_starts);
  RUN(dtls_starts);
  RUN(quic_long_headers);
  RUN(stun_messages);
  return harness_done();
}
