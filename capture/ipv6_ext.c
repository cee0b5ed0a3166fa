/*
 * capture/ipv6_ext.c - the IPv6 extension header walk (RFC 8200 4), shared
 * by packet decoding (decode.c) and by the rebuilding of a fragmented
 * datagram (frag.c), which drops the fragmentable part's headers.
 */
#include "capture/ipv6_ext.h"

/* RFC 8200 4.4: with segments left, the pseudo-header uses the final
 * destination: the last address for types 0 and 2, Segment List[0] for
 * the segment routing header (RFC 8754 4.3.1). */
static void routing_final_dst(struct rd body, struct cap_addr *final_dst) {
  uint8_t type = rd_u8(&body);
  uint8_t segments_left = rd_u8(&body);
  rd_skip(&body, 4);
  if (body.err || segments_left == 0 || body.n < 16)
    return;
  if (type == 0 || type == 2)
    rd_skip(&body, (body.n / 16 - 1) * 16);
  if (type == 0 || type == 2 || type == 4)
    rd_copy(&body, final_dst->bytes, 16);
}

int ipv6_ext_walk(struct rd *r, uint8_t *nh, struct ipv6_frag_fields *frag,
                  struct cap_addr *final_dst) {
  for (;;) {
    uint8_t next = 0;
    switch (*nh) {
    case 0:  /* hop-by-hop options */
    case 43: /* routing */
    case 60: /* destination options */ {
      next = rd_u8(r);
      size_t len = ((size_t)rd_u8(r) + 1) * 8;
      struct rd body = rd_sub(r, len - 2);
      if (*nh == 43)
        routing_final_dst(body, final_dst);
      break;
    }
    case 51: /* authentication header (RFC 4302 2.2) */
      next = rd_u8(r);
      rd_skip(r, ((size_t)rd_u8(r) + 2) * 4 - 2);
      break;
    case 44: { /* fragment */
      next = rd_u8(r);
      rd_skip(r, 1);
      uint16_t offset_flags = rd_u16(r);
      frag->id = rd_u32(r);
      frag->offset = offset_flags & 0xfff8;
      frag->more = offset_flags & 1;
      if (!r->err && (frag->offset || frag->more)) {
        *nh = next;
        return 0;
      }
      break; /* an atomic fragment is a whole packet (RFC 6946) */
    }
    default:
      return 0;
    }
    if (r->err)
      return -1;
    *nh = next;
  }
}
