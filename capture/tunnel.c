/*
 * capture/tunnel.c - tunnel headers, one reader per specification: each
 * takes its header off the front of the reader and says what follows
 * (tunnel.h).  They read only through the bounded reader; what follows is
 * decode.c's to read.
 */
#include "capture/tunnel.h"

enum { IPV6_FIXED = 40 }; /* the IPv6 fixed header (RFC 8200 3) */

/* ---- over UDP ---------------------------------------------------------- */

/* RFC 7348 5: flags (I = 0x08), 24 reserved bits, the 24-bit VNI, 8
 * reserved bits; an Ethernet frame follows.  Without the I flag the VNI is
 * not valid ("MUST be set to 1 for a valid VNI"), and the VNI is what keeps
 * tenants apart: such a packet is refused. */
enum tun_read tun_vxlan(struct rd *r, struct tun_header *h) {
  uint8_t flags = rd_u8(r);
  rd_skip(r, 3);
  uint32_t vni = rd_u24(r);
  rd_skip(r, 1);
  if (r->err)
    return TUN_SHORT;
  if (!(flags & 0x08))
    return TUN_BAD;
  *h = (struct tun_header){TUN_NEXT_ETHERNET, CAP_ENCAP_VXLAN, CAP_TENANT_VXLAN_VNI, vni};
  return TUN_OK;
}

/* RFC 8926 3.4: version (2 bits, 0) and options length (6 bits, in 4-byte
 * words); O (control packet) and C flags; the protocol type; the 24-bit
 * VNI; 8 reserved bits; the options.  A packet of an unknown version "MUST
 * be dropped"; a control packet's payload is no tenant's traffic ("MUST
 * NOT be forwarded"). */
enum tun_read tun_geneve(struct rd *r, struct tun_header *h) {
  uint8_t version_optlen = rd_u8(r);
  uint8_t flags = rd_u8(r);
  uint16_t protocol = rd_u16(r);
  uint32_t vni = rd_u24(r);
  rd_skip(r, 1);
  rd_skip(r, (size_t)(version_optlen & 0x3f) * 4);
  if (r->err)
    return TUN_SHORT;
  if (version_optlen >> 6 != 0)
    return TUN_BAD;
  *h = (struct tun_header){protocol, CAP_ENCAP_GENEVE, CAP_TENANT_GENEVE_VNI, vni};
  if (flags & 0x80)
    return TUN_NO_PACKET;
  if (protocol != TUN_NEXT_ETHERNET && protocol != TUN_NEXT_IPV4 && protocol != TUN_NEXT_IPV6)
    return TUN_NO_PACKET;
  return TUN_OK;
}

/* 3GPP TS 29.281 5.1: version 1 and PT 1 (GTP, not GTP') in the top bits
 * of the flags, which end E (extension header), S (sequence number) and PN
 * (N-PDU number); the message type; the length of what follows the first 8
 * bytes; the TEID.  Any of E, S, PN brings 4 more bytes (sequence number,
 * N-PDU number, next extension header type), whose last byte counts only
 * with E.  Extension headers (5.2) give their length in 4-byte words
 * (never 0) and end with the next type; type 0 ends the chain.  A G-PDU
 * (type 255) carries a user packet, IPv4 or IPv6, told apart by its
 * version; the other messages (echo, error indication, end marker) carry
 * none.  The TEID differs by direction, so it is no tenant id. */
enum tun_read tun_gtpu(struct rd *r, struct tun_header *h) {
  uint8_t flags = rd_u8(r);
  uint8_t type = rd_u8(r);
  uint16_t length = rd_u16(r);
  rd_skip(r, 4); /* TEID */
  if (r->err)
    return TUN_SHORT;
  if (flags >> 5 != 1 || !(flags & 0x10))
    return TUN_BAD;
  /* Beyond the captured bytes, the rest is read as cut by the snaplen. */
  struct rd body = length <= r->n ? rd_sub(r, length) : *r;
  uint8_t next_ext = 0;
  if (flags & 0x07) {
    rd_skip(&body, 3); /* sequence number, N-PDU number */
    next_ext = rd_u8(&body);
    if (!(flags & 0x04))
      next_ext = 0;
  }
  while (next_ext && !body.err) {
    size_t words = rd_u8(&body);
    if (words == 0)
      return body.err ? TUN_SHORT : TUN_BAD;
    rd_skip(&body, words * 4 - 2);
    next_ext = rd_u8(&body);
  }
  if (body.err)
    return length <= r->n ? TUN_BAD : TUN_SHORT;
  *r = body;
  *h = (struct tun_header){TUN_NEXT_IP, CAP_ENCAP_GTPU, CAP_TENANT_NONE, 0};
  return type == 255 ? TUN_OK : TUN_NO_PACKET;
}

/* ---- GRE and ERSPAN ---------------------------------------------------- */

enum { GRE_C = 0x8000, GRE_R = 0x4000, GRE_K = 0x2000, GRE_S = 0x1000 };
enum { GRE_ERSPAN2 = 0x88be, GRE_ERSPAN3 = 0x22eb };

/* ERSPAN type II (draft-foschiano-erspan-03): version 1 in the top
 * nibble, VLAN, COS, En, T, session id; 12 reserved bits and the index.
 * An Ethernet frame follows. */
static enum tun_read erspan2(struct rd *r, struct tun_header *h) {
  uint8_t version = rd_peek_u8(r, 0) >> 4;
  rd_skip(r, 8);
  if (r->err)
    return TUN_SHORT;
  if (version != 1)
    return TUN_BAD;
  h->kind = CAP_ENCAP_ERSPAN2;
  h->next = TUN_NEXT_ETHERNET;
  return TUN_OK;
}

/* ERSPAN type III (draft-foschiano-erspan-03): version 2, VLAN, COS,
 * BSO, T, session id; a timestamp; SGT, then P, FT (frame type, 5 bits),
 * hardware id, D, Gra and O, the last bit: O says an 8-byte platform
 * specific subheader follows.  FT 0 is an Ethernet frame, FT 2 an IP
 * packet (tshark 4.0 names it so, and shows its bytes as data); the
 * others carry nothing read here. */
static enum tun_read erspan3(struct rd *r, struct tun_header *h) {
  uint8_t version = rd_peek_u8(r, 0) >> 4;
  rd_skip(r, 10); /* version ... session id, timestamp, SGT */
  uint16_t bits = rd_u16(r);
  if (bits & 0x0001)
    rd_skip(r, 8);
  if (r->err)
    return TUN_SHORT;
  if (version != 2)
    return TUN_BAD;
  unsigned frame_type = (bits >> 10) & 0x1f;
  h->kind = CAP_ENCAP_ERSPAN3;
  h->next = frame_type == 0 ? TUN_NEXT_ETHERNET : TUN_NEXT_IP;
  return frame_type == 0 || frame_type == 2 ? TUN_OK : TUN_NO_PACKET;
}

/* RFC 2784 2 with RFC 2890's key and sequence number: C, R (RFC 1701's
 * routing), K, S, s (strict source route), recursion (3 bits), flags,
 * version (3 bits); the protocol type (an Ethernet type); then the
 * checksum and reserved word (C), the key (K), the sequence number (S).
 * RFC 2784 2.5.1: a receiver that does not implement RFC 1701 "MUST
 * discard a packet where any of bits 1-5 are non-zero"; RFC 2890 uses
 * bits 2 and 3.  Version 1 is PPTP's enhanced GRE (RFC 2637): not read. */
enum tun_read tun_gre(struct rd *r, struct tun_header *h) {
  uint16_t flags = rd_u16(r);
  uint16_t protocol = rd_u16(r);
  if (r->err)
    return TUN_SHORT;
  if ((flags & 0x0007) != 0)
    return TUN_FOREIGN;
  bool erspan = protocol == GRE_ERSPAN2 || protocol == GRE_ERSPAN3;
  bool ours = erspan || protocol == TUN_NEXT_ETHERNET || protocol == TUN_NEXT_IPV4 ||
              protocol == TUN_NEXT_IPV6 || protocol == TUN_NEXT_MPLS ||
              protocol == TUN_NEXT_MPLS_MULTICAST;
  if (!ours)
    return TUN_FOREIGN;
  if (flags & (GRE_R | 0x0800 | 0x0400)) /* bits 1, 4 and 5 */
    return TUN_BAD;
  if (flags & GRE_C)
    rd_skip(r, 4);
  *h = (struct tun_header){protocol, CAP_ENCAP_GRE, CAP_TENANT_NONE, 0};
  if (flags & GRE_K) {
    h->id_type = CAP_TENANT_GRE_KEY;
    h->id = rd_u32(r);
  }
  if (flags & GRE_S)
    rd_skip(r, 4);
  if (r->err)
    return TUN_SHORT;
  if (protocol == GRE_ERSPAN3)
    return erspan3(r, h);
  if (protocol == GRE_ERSPAN2 && (flags & GRE_S))
    return erspan2(r, h);
  if (protocol == GRE_ERSPAN2) { /* type I: no sequence number, no header */
    h->kind = CAP_ENCAP_ERSPAN1;
    h->next = TUN_NEXT_ETHERNET;
  }
  return TUN_OK;
}

/* ---- below IP: MPLS and PPPoE ------------------------------------------ */

/* An Ethernet type read after a MAC header: IP, VLAN tags, MPLS, PPPoE. */
static bool known_ethertype(uint16_t type) {
  return type == TUN_NEXT_IPV4 || type == TUN_NEXT_IPV6 || type == 0x8100 || type == 0x88a8 ||
         type == 0x9100 || type == TUN_NEXT_MPLS || type == TUN_NEXT_MPLS_MULTICAST ||
         type == TUN_NEXT_PPPOE;
}

/* An IP header whose length accounts for what follows, give or take 4
 * bytes of link padding (tshark's test), or runs past it (a cut frame). */
static bool ip_length_fits(struct rd r, uint8_t version) {
  size_t len = version == 4 ? rd_peek_u16(&r, 2) : IPV6_FIXED + (size_t)rd_peek_u16(&r, 4);
  return !r.err && len + 4 >= r.n;
}

/* An Ethernet frame at offset `at`: its type is one read here. */
static bool ethernet_at(struct rd r, size_t at) {
  uint16_t type = rd_peek_u16(&r, at + 12);
  return !r.err && known_ethertype(type);
}

/* RFC 3032 2.1: label entries of label (20 bits), traffic class, S (bottom
 * of stack) and TTL, up to the one with S.  Nothing in the stack says what
 * follows it.  Its first nibble tells (RFC 4928 2, RFC 4385 3), as tshark
 * reads it: 4 and 6 are IP versions, 0 a pseudowire control word (4
 * bytes) before an Ethernet frame (RFC 4448 3), 1 an associated channel
 * (OAM: no packet).  The control word is optional (RFC 4448 4.6), so an
 * Ethernet frame may also follow at once, its first nibble a MAC
 * address's: tshark decides by the vendors of the MAC addresses; here by
 * the Ethernet type (IP, a VLAN tag, MPLS or PPPoE) 12 bytes on, when the
 * IP reading's length does not fit or the control word reading's type is
 * not one of these. */
enum tun_read tun_mpls(struct rd *r, struct tun_header *h) {
  uint32_t entry = 0;
  while (!r->err && !(entry & 0x100))
    entry = rd_u32(r);
  uint8_t nibble = rd_peek_u8(r, 0) >> 4;
  if (r->err)
    return TUN_SHORT;
  *h = (struct tun_header){TUN_NEXT_IP, CAP_ENCAP_MPLS, CAP_TENANT_NONE, 0};
  if ((nibble == 4 || nibble == 6) && (ip_length_fits(*r, nibble) || !ethernet_at(*r, 0)))
    return TUN_OK;
  if (nibble == 1)
    return TUN_NO_PACKET;
  h->next = TUN_NEXT_ETHERNET;
  if (nibble == 0 && ethernet_at(*r, 4)) {
    rd_skip(r, 4); /* the control word */
    return TUN_OK;
  }
  return ethernet_at(*r, 0) ? TUN_OK : TUN_NO_PACKET;
}

/* RFC 2516 4: version 1 and type 1 (one byte 0x11), code 0 (session data),
 * the session id, the length of the payload: a PPP frame, its protocol
 * field first (RFC 1661 2; one byte when compressed, 6.5: the first byte
 * odd).  PPP's IPv4 is 0x0021, its IPv6 0x0057 (RFC 5072 3); its own
 * control protocols carry no packet. */
enum tun_read tun_pppoe(struct rd *r, struct tun_header *h) {
  uint8_t version_type = rd_u8(r);
  uint8_t code = rd_u8(r);
  rd_skip(r, 2); /* session id */
  uint16_t length = rd_u16(r);
  if (r->err)
    return TUN_SHORT;
  if (version_type != 0x11 || code != 0)
    return TUN_BAD;
  struct rd payload = length <= r->n ? rd_sub(r, length) : *r;
  uint16_t protocol = rd_u8(&payload);
  if (!(protocol & 1))
    protocol = (uint16_t)(protocol << 8 | rd_u8(&payload));
  if (payload.err)
    return length <= r->n ? TUN_BAD : TUN_SHORT;
  *r = payload;
  *h = (struct tun_header){TUN_NEXT_IP, CAP_ENCAP_PPPOE, CAP_TENANT_NONE, 0};
  h->next = protocol == 0x0021 ? TUN_NEXT_IPV4 : TUN_NEXT_IPV6;
  return protocol == 0x0021 || protocol == 0x0057 ? TUN_OK : TUN_NO_PACKET;
}
