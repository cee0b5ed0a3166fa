/*
 * dissect/quic_frames.c - QUIC wire pieces read with the bounded reader:
 * variable-length integers (RFC 9000 16) and the frames quic.c passes
 * over by their layout (RFC 9000 19; Google QUIC's ACK).
 */
#include "dissect/quic_frames.h"

#include <stdint.h>

/* RFC 9000 16: variable-length integer. */
uint64_t quic_rd_varint(struct rd *r) {
  uint8_t first = rd_u8(r);
  size_t extra = ((size_t)1 << (first >> 6)) - 1;
  uint64_t v = first & 0x3f;
  for (size_t i = 0; i < extra; i++)
    v = v << 8 | rd_u8(r);
  return r->err ? 0 : v;
}

/* A varint length, then that many bytes. */
struct rd quic_rd_varvec(struct rd *r) {
  uint64_t len = quic_rd_varint(r);
  if (!r->err && len > r->n)
    rd_need(r, SIZE_MAX); /* sets err */
  return r->err ? rd_sub(r, 1) : rd_sub(r, (size_t)len);
}

void quic_skip_ack(struct rd *p, bool ecn) {
  quic_rd_varint(p); /* Largest Acknowledged */
  quic_rd_varint(p); /* ACK Delay */
  uint64_t ranges = quic_rd_varint(p);
  quic_rd_varint(p); /* First ACK Range */
  /* Each range takes at least two bytes, so the reader ends the loop. */
  for (uint64_t i = 0; i < ranges && !p->err; i++) {
    quic_rd_varint(p); /* Gap */
    quic_rd_varint(p); /* ACK Range Length */
  }
  for (int i = 0; ecn && i < 3; i++)
    quic_rd_varint(p); /* ECT0, ECT1, ECN-CE counts */
}

/* A frame only a 1-RTT packet may carry (RFC 9000 19, 12.4 Table 3):
 * skipped by its layout.  STREAM frames (0x08-0x0f) run to the end of the
 * packet without a Length.  False for a type unknown here. */
bool quic_skip_app_frame(struct rd *p, uint64_t type) {
  static const uint8_t varints[0x20] = {
      [0x04] = 3, [0x05] = 2, [0x10] = 1, [0x11] = 2, [0x12] = 1, [0x13] = 1,
      [0x14] = 1, [0x15] = 2, [0x16] = 1, [0x17] = 1, [0x19] = 1,
  };
  if (type < 0x20 && varints[type]) {
    for (unsigned i = 0; i < varints[type]; i++)
      quic_rd_varint(p);
  } else if (type == 0x07) { /* NEW_TOKEN */
    quic_rd_varvec(p);
  } else if (type >= 0x08 && type <= 0x0f) { /* STREAM: OFF 0x04, LEN 0x02 */
    quic_rd_varint(p);
    if (type & 0x04)
      quic_rd_varint(p);
    if (type & 0x02)
      quic_rd_varvec(p);
    else
      rd_bytes(p, p->n);
  } else if (type == 0x18) { /* NEW_CONNECTION_ID */
    quic_rd_varint(p);
    quic_rd_varint(p);
    rd_vec8(p);
    rd_bytes(p, 16);                         /* Stateless Reset Token */
  } else if (type == 0x1a || type == 0x1b) { /* PATH_CHALLENGE, PATH_RESPONSE */
    rd_bytes(p, 8);
  } else if (type == 0x1d) { /* CONNECTION_CLOSE (application) */
    quic_rd_varint(p);
    quic_rd_varvec(p);
  } else if (type == 0x30) { /* DATAGRAM without Length (RFC 9221 4) */
    rd_bytes(p, p->n);
  } else if (type == 0x31) {
    quic_rd_varvec(p);
  } else if (type != 0x1e) { /* HANDSHAKE_DONE has no fields */
    return false;
  }
  return true;
}

/* Google QUIC's ACK (type 01NTLLMM; QUICHE quic_framer.cc, as Wireshark
 * reads it): largest acked of LL, a 2-byte delay, with N a block count,
 * first block of MM, each further block a gap byte and MM, then the
 * timestamps: a count, and if any a 1+4-byte first and 1+2 for each
 * other.  Widths 1, 2, 4 and 6 bytes. */
void quic_skip_google_ack(struct rd *p, uint8_t type) {
  static const size_t width[4] = {1, 2, 4, 6};
  size_t ll = width[(type >> 2) & 3], mm = width[type & 3];
  rd_bytes(p, ll + 2);
  size_t blocks = (type & 0x20) ? rd_u8(p) : 0;
  rd_bytes(p, mm + blocks * (1 + mm));
  size_t stamps = rd_u8(p);
  if (stamps)
    rd_bytes(p, 5 + (stamps - 1) * 3);
}
