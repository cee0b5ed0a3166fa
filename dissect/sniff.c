/*
 * dissect/sniff.c - does a stream or datagram start with TLS, SSLv2, DTLS
 * or QUIC?  The connection (conn.c) decides a direction's mode and who
 * spoke first with these; STARTTLS (starttls.c) finds the switch point.
 *
 * Each sniffer takes its reader by value: reading the copy is a peek, the
 * caller's bytes stay unread.  Too few bytes is "no", never a guess.
 */
#include "dissect/conn.h"

/* A TLS record header (RFC 5246 6.2.1): type, 3.x (SSL 3.0 to the TLS 1.3
 * legacy 3.4 at most), length.  False when r is shorter than 5 bytes. */
static bool record_header(struct rd *r, uint8_t *type, size_t *len) {
  *type = rd_u8(r);
  uint8_t major = rd_u8(r);
  uint8_t minor = rd_u8(r);
  *len = rd_u16(r);
  return !r->err && major == 3 && minor <= 4;
}

bool tls_sniff_hello(struct rd r, uint8_t hs_type) {
  uint8_t type;
  size_t len;
  bool header_ok = record_header(&r, &type, &len);
  uint8_t msg_type = rd_u8(&r);
  /* A handshake header is 4 bytes (RFC 5246 7.4): a shorter record holds none. */
  return header_ok && !r.err && type == TLS_CT_HANDSHAKE && len >= 4 && len <= TLS_MAX_RECORD &&
         msg_type == hs_type;
}

bool tls_sniff_record(struct rd r) {
  uint8_t type;
  size_t len;
  return record_header(&r, &type, &len) && type >= TLS_CT_CHANGE_CIPHER_SPEC &&
         type <= TLS_CT_HEARTBEAT && len > 0 && len <= TLS_MAX_RECORD;
}

/* draft-hickman-netscape-ssl-00 / RFC 6101 E.2: a 2-byte header with the
 * high bit set and a 15-bit length, then msg_type.  A CLIENT-HELLO's fixed
 * part alone is 9 bytes, a SERVER-HELLO's 11: shorter is not a hello. */
bool tls_sniff_sslv2(struct rd r, uint8_t msg_type) {
  uint16_t header = rd_u16(&r);
  uint8_t type = rd_u8(&r);
  return !r.err && (header & 0x8000) && (header & 0x7fff) >= 9 && type == msg_type;
}

/* RFC 6347 4.1 / RFC 9147 4: a 13-byte DTLS handshake record header,
 * version DTLS 1.0 (fe ff), 1.2 (fe fd) or 1.3 (fe fc). */
bool tls_sniff_dtls(struct rd r) {
  uint8_t type = rd_u8(&r);
  uint16_t version = rd_u16(&r);
  rd_bytes(&r, 10); /* epoch, sequence_number, length */
  return !r.err && type == TLS_CT_HANDSHAKE &&
         (version == TLS_VERSION_DTLS10 || version == TLS_VERSION_DTLS12 ||
          version == TLS_VERSION_DTLS13);
}

bool tls_sniff_dtls_hello(struct rd r, uint8_t hs_type) {
  if (!tls_sniff_dtls(r))
    return false;
  rd_bytes(&r, 13); /* the record header tls_sniff_dtls checked */
  uint8_t msg_type = rd_u8(&r);
  return !r.err && msg_type == hs_type;
}

bool tls_sniff_stun(struct rd r) {
  uint16_t type = rd_u16(&r), length = rd_u16(&r);
  uint32_t cookie = rd_u32(&r);
  rd_bytes(&r, 12); /* transaction id */
  return !r.err && (type & 0xc000) == 0 && cookie == 0x2112a442u && length % 4 == 0 &&
         length == r.n;
}

/* RFC 9000 17.2: a long header has the two high bits set (header form and
 * fixed bit); the client's Initial is one.  7 bytes: first byte, version,
 * and the destination connection id length at least. */
bool tls_sniff_quic_long_header(struct rd r) {
  uint8_t first = rd_u8(&r);
  rd_bytes(&r, 6);
  return !r.err && (first & 0xc0) == 0xc0;
}
