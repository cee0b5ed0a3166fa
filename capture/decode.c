/*
 * capture/decode.c - link layer -> IPv4/IPv6 -> TCP/UDP.  Fragments go to
 * frag.c, and the datagram they complete is decoded here like a packet.
 * Tunnels (tunnel.c reads their headers) are opened here: what a tunnel
 * carries is decoded like a frame, layer by layer, under CAP_ENCAP_MAX.
 *
 * The one file that reads packet bytes by hand.  It does so only through the
 * bounded reader (base/rd.h), so no read can cross the captured length: a
 * read past the end sets a sticky error and yields zeros.
 */
#include "capture/capture.h"
#include "capture/csum.h"
#include "capture/frag.h"
#include "capture/ipv6_ext.h"
#include "capture/tunnel.h"
#include "base/rd.h"

#include <stdlib.h>
#include <string.h>

/* Owned by the caller of cap_decoder_new; stats stays the caller's. */
struct cap_decoder {
  struct cap_limits lim;
  struct cap_stats *stats;
  struct frag_table frags;
  bool frame_cut; /* this frame is shorter than on the wire */
  bool defer_checksums;
};

static int count_malformed(struct cap_decoder *dec) {
  dec->stats->malformed++;
  return 0;
}

/* A header that does not fit the captured bytes: snaplen or a lie. */
static int short_header(struct cap_decoder *dec, struct cap_packet *out) {
  if (!dec->frame_cut)
    return count_malformed(dec);
  dec->stats->truncated++;
  out->truncated = true;
  return 0;
}

/* ---- TCP, UDP, others -------------------------------------------------- */

/* The pseudo-header (RFC 9293 3.1, RFC 8200 8.1) plus the segment. */
static bool l4_csum_ok(const struct cap_packet *pkt, const struct cap_addr *final_dst,
                       const uint8_t *seg, size_t len) {
  uint8_t pseudo[40] = {0};
  size_t pseudo_len;
  if (pkt->src.family == 4) {
    memcpy(pseudo, pkt->src.bytes, 4);
    memcpy(pseudo + 4, final_dst->bytes, 4);
    pseudo[9] = pkt->l4_proto;
    put_u16(pseudo, 10, (uint16_t)len);
    pseudo_len = 12;
  } else {
    memcpy(pseudo, pkt->src.bytes, 16);
    memcpy(pseudo + 16, final_dst->bytes, 16);
    put_u16(pseudo, 34, (uint16_t)len); /* len < 65536: upper half stays 0 */
    pseudo[39] = pkt->l4_proto;
    pseudo_len = 40;
  }
  return csum_ok(csum_add(csum_add(0, pseudo, pseudo_len), seg, len));
}

/* Verify now, or leave it to the packet's consumer: true when it verifies
 * or was deferred. */
static bool l4_check(const struct cap_decoder *dec, struct cap_packet *pkt,
                     const struct cap_addr *final_dst, const uint8_t *seg, size_t len) {
  if (!dec->defer_checksums)
    return l4_csum_ok(pkt, final_dst, seg, len);
  pkt->csum_deferred = true;
  pkt->csum_seg = seg;
  pkt->csum_len = len;
  pkt->csum_dst = *final_dst;
  return true;
}

/* The window scale (RFC 7323 2.2) and maximum segment size (RFC 9293
 * 3.7.1) options of a SYN; other options are not read.  A malformed option
 * list ends the walk: what follows is no option. */
static void tcp_syn_options(struct rd opts, struct cap_packet *out) {
  while (opts.n && !opts.err) {
    uint8_t kind = rd_u8(&opts);
    if (kind == 0) /* end of option list */
      return;
    if (kind == 1) /* no-operation */
      continue;
    uint8_t option_len = rd_u8(&opts); /* counts the kind and length bytes */
    if (option_len < 2)
      return;
    struct rd body = rd_sub(&opts, option_len - 2u);
    if (kind == 3 && body.n == 1 && !opts.err) {
      uint8_t shift = rd_u8(&body);
      out->tcp_wscale_sent = true;
      out->tcp_wscale = shift > 14 ? 14 : shift; /* RFC 7323 2.3: use 14 */
    }
    if (kind == 2 && body.n == 2 && !opts.err)
      out->tcp_mss = rd_u16(&body);
  }
}

bool cap_packet_checksum_ok(const struct cap_packet *pkt) {
  return !pkt->csum_deferred || l4_csum_ok(pkt, &pkt->csum_dst, pkt->csum_seg, pkt->csum_len);
}

void cap_decoder_defer_checksums(struct cap_decoder *dec, bool defer) {
  dec->defer_checksums = defer;
}

/* seg: the captured L4 bytes; wire_len: their length by the IP header. */
struct l4_in {
  struct rd seg;
  size_t wire_len;
  struct cap_addr final_dst; /* for the pseudo-header */
};

static int decode_tcp(struct cap_decoder *dec, const struct l4_in *in, struct cap_packet *out) {
  struct rd r = in->seg;
  if (in->wire_len < 20)
    return count_malformed(dec);
  out->src_port = rd_u16(&r);
  out->dst_port = rd_u16(&r);
  out->tcp_seq = rd_u32(&r);
  out->tcp_ack = rd_u32(&r);
  size_t data_offset = (size_t)(rd_u8(&r) >> 4) * 4;
  out->tcp_flags = rd_u8(&r);
  out->tcp_window = rd_u16(&r);
  rd_skip(&r, 4); /* checksum, urgent pointer */
  if (r.err)
    return 0; /* cut by the snaplen, already counted */
  if (data_offset < 20 || data_offset > in->wire_len)
    return count_malformed(dec);
  struct rd options = rd_sub(&r, data_offset - 20);
  if (r.err)
    return 0;
  if (out->tcp_flags & CAP_TCP_SYN)
    tcp_syn_options(options, out);
  out->payload = r.p;
  out->payload_len = r.n;
  out->payload_wire_len = in->wire_len - data_offset;
  out->truncated = out->payload_len < out->payload_wire_len;
  if (in->seg.n == in->wire_len && !l4_check(dec, out, &in->final_dst, in->seg.p, in->seg.n)) {
    dec->stats->bad_checksum_l4++;
    out->csum_verdict = CAP_CSUM_BAD;
  } else if (in->seg.n == in->wire_len && !out->csum_deferred) {
    out->csum_verdict = CAP_CSUM_GOOD;
  }
  return 1;
}

static int decode_udp(struct cap_decoder *dec, const struct l4_in *in, struct cap_packet *out) {
  struct rd r = in->seg;
  if (in->wire_len < 8)
    return count_malformed(dec);
  out->src_port = rd_u16(&r);
  out->dst_port = rd_u16(&r);
  size_t udp_len = rd_u16(&r);
  uint16_t checksum = rd_u16(&r);
  if (r.err)
    return 0;
  if (udp_len < 8 || udp_len > in->wire_len)
    return count_malformed(dec);
  size_t payload_wire = udp_len - 8; /* bytes beyond udp_len are link padding */
  out->payload = r.p;
  out->payload_len = r.n < payload_wire ? r.n : payload_wire;
  out->payload_wire_len = payload_wire;
  out->truncated = out->payload_len < payload_wire;
  bool no_checksum = out->src.family == 4 && checksum == 0; /* RFC 768 */
  if (!out->truncated && !no_checksum && !l4_check(dec, out, &in->final_dst, in->seg.p, udp_len))
    dec->stats->bad_checksum_l4++;
  return 1;
}

/* Tunnels over IP (defined with the link layers below). */
static int decode_udp_tunnel(struct cap_decoder *dec, struct cap_packet *out);
static int decode_gre(struct cap_decoder *dec, const struct l4_in *in, struct cap_packet *out);

/* A UDP tunnel is opened only on its well-known destination port. */
static bool udp_tunnel_port(uint16_t port) {
  return port == TUN_PORT_VXLAN || port == TUN_PORT_GENEVE || port == TUN_PORT_GTPU;
}

static int decode_l4(struct cap_decoder *dec, const struct l4_in *in, struct cap_packet *out) {
  if (out->l4_proto == 6)
    return decode_tcp(dec, in, out);
  if (out->l4_proto == 17) {
    int taken = decode_udp(dec, in, out);
    return taken && udp_tunnel_port(out->dst_port) ? decode_udp_tunnel(dec, out) : taken;
  }
  if (out->l4_proto == 47) {
    int taken = decode_gre(dec, in, out);
    if (taken >= 0)
      return taken;
  }
  out->payload = in->seg.p;
  out->payload_len = in->seg.n;
  out->payload_wire_len = in->wire_len;
  dec->stats->other_l4++;
  return 1;
}

/* ---- IPv4 and IPv6 ----------------------------------------------------- */

static void read_addr(struct rd *r, struct cap_addr *addr, uint8_t family) {
  memset(addr, 0, sizeof *addr);
  addr->family = family;
  rd_copy(r, addr->bytes, family == 4 ? 4 : 16);
}

/* An IP header's fields, read by the decoder and by cap_peek_tuple alike. */
struct ip_header {
  struct rd hdr;      /* the whole header: IPv4 with its options, IPv6's fixed 40 bytes */
  size_t total;       /* IPv4: total length; IPv6: payload length */
  uint16_t id;        /* IPv4 only: identification, */
  size_t frag_offset; /* fragment offset in bytes, */
  bool more;          /* and more fragments */
  uint8_t proto;      /* IPv4 protocol, IPv6 next header */
  struct cap_addr src, dst;
};

enum ip_read { IP_OK, IP_SHORT, IP_BAD };

/* The IPv4 header (RFC 791 3.1), consumed from ip. */
static enum ip_read ipv4_header(struct rd *ip, struct ip_header *h) {
  uint8_t version_ihl = rd_peek_u8(ip, 0);
  if (ip->err)
    return IP_SHORT;
  size_t ihl = (size_t)(version_ihl & 0x0f) * 4;
  if (version_ihl >> 4 != 4 || ihl < 20)
    return IP_BAD;
  h->hdr = rd_sub(ip, ihl);
  if (h->hdr.err)
    return IP_SHORT;
  struct rd fields = h->hdr;
  rd_skip(&fields, 2); /* version, IHL, TOS */
  h->total = rd_u16(&fields);
  h->id = rd_u16(&fields);
  uint16_t flags_offset = rd_u16(&fields);
  h->frag_offset = (size_t)(flags_offset & 0x1fff) * 8;
  h->more = flags_offset & 0x2000;
  rd_skip(&fields, 1); /* TTL */
  h->proto = rd_u8(&fields);
  rd_skip(&fields, 2); /* checksum */
  read_addr(&fields, &h->src, 4);
  read_addr(&fields, &h->dst, 4);
  return IP_OK;
}

/* The fixed IPv6 header (RFC 8200 3), consumed from ip. */
static enum ip_read ipv6_header(struct rd *ip, struct ip_header *h) {
  uint8_t version = rd_peek_u8(ip, 0) >> 4;
  if (ip->err)
    return IP_SHORT;
  if (version != 6)
    return IP_BAD;
  h->hdr = rd_sub(ip, IPV6_HDR);
  if (h->hdr.err)
    return IP_SHORT;
  struct rd fields = h->hdr;
  rd_skip(&fields, 4); /* version, traffic class, flow label */
  h->total = rd_u16(&fields);
  h->proto = rd_u8(&fields);
  rd_skip(&fields, 1); /* hop limit */
  read_addr(&fields, &h->src, 6);
  read_addr(&fields, &h->dst, 6);
  h->id = 0;
  h->frag_offset = 0;
  h->more = false;
  return IP_OK;
}

/* Captured bytes the IP header announces; marks a cut by the snaplen. */
static size_t ip_available(struct cap_decoder *dec, size_t total, size_t captured,
                           struct cap_packet *out) {
  if (total <= captured)
    return total; /* anything beyond is link-layer padding */
  dec->stats->truncated++;
  out->truncated = true;
  return captured;
}

/* Mutual recursion: a completed datagram is decoded like a packet. */
static int decode_ipv4(struct cap_decoder *dec, struct rd ip, struct cap_packet *out, bool rebuilt);
static int decode_ipv6(struct cap_decoder *dec, struct rd ip, struct cap_packet *out, bool rebuilt);

static int decode_fragment(struct cap_decoder *dec, const struct frag_in *in,
                           struct cap_packet *out) {
  dec->stats->fragments++;
  if (out->truncated)
    return 0; /* a cut fragment can never complete; counted as truncated */
  struct rd datagram;
  if (!frag_add(&dec->frags, in, out->ts, &datagram))
    return 0;
  out->reassembled = true;
  return in->family == 4 ? decode_ipv4(dec, datagram, out, true)
                         : decode_ipv6(dec, datagram, out, true);
}

static int decode_ipv4(struct cap_decoder *dec, struct rd ip, struct cap_packet *out,
                       bool reassembled) {
  const uint8_t *l3 = ip.p;
  size_t captured = ip.n;
  struct ip_header h;
  enum ip_read read = ipv4_header(&ip, &h);
  if (read != IP_OK)
    return read == IP_SHORT ? short_header(dec, out) : count_malformed(dec);
  size_t ihl = h.hdr.n;
  out->l4_proto = h.proto;
  out->src = h.src;
  out->dst = h.dst;
  if (h.total < ihl)
    return count_malformed(dec);
  if (!csum_ok(csum_add(0, h.hdr.p, h.hdr.n)))
    dec->stats->bad_checksum_ip++;
  size_t avail = ip_available(dec, h.total, captured, out);
  struct l4_in l4 = {rd_sub(&ip, avail - ihl), h.total - ihl, out->dst};
  if (!reassembled && (h.more || h.frag_offset)) {
    struct frag_in frag = {4,     out->l4_proto, h.id,   &out->src, &out->dst,
                           h.hdr, h.frag_offset, h.more, l4.seg};
    return decode_fragment(dec, &frag, out);
  }
  dec->stats->ip_packets++;
  out->l3 = l3;
  out->l3_len = avail;
  return decode_l4(dec, &l4, out);
}

static int decode_ipv6(struct cap_decoder *dec, struct rd ip, struct cap_packet *out,
                       bool reassembled) {
  const uint8_t *l3 = ip.p;
  size_t captured = ip.n;
  struct ip_header h;
  enum ip_read read = ipv6_header(&ip, &h);
  if (read != IP_OK)
    return read == IP_SHORT ? short_header(dec, out) : count_malformed(dec);
  size_t payload_len = h.total;
  uint8_t nh = h.proto;
  out->src = h.src;
  out->dst = h.dst;
  if (payload_len == 0)
    return count_malformed(dec); /* jumbogram (RFC 2675): no reason to see one */
  size_t avail = ip_available(dec, IPV6_HDR + payload_len, captured, out);
  struct rd payload = rd_sub(&ip, avail - IPV6_HDR);
  struct ipv6_frag_fields fh = {0};
  struct cap_addr final_dst = out->dst;
  if (ipv6_ext_walk(&payload, &nh, &fh, &final_dst) < 0)
    return out->truncated ? 0 : count_malformed(dec);
  size_t ext_len = (avail - IPV6_HDR) - payload.n;
  out->l4_proto = nh;
  if (fh.offset || fh.more) {
    if (reassembled)
      return count_malformed(dec);
    struct frag_in frag = {6, nh, fh.id, &out->src, &out->dst, h.hdr, fh.offset, fh.more, payload};
    return decode_fragment(dec, &frag, out);
  }
  dec->stats->ip_packets++;
  out->l3 = l3;
  out->l3_len = avail;
  struct l4_in l4 = {payload, payload_len - ext_len, final_dst};
  return decode_l4(dec, &l4, out);
}

/* ---- Link layer -------------------------------------------------------- */

enum l3_kind { L3_NONE, L3_V4, L3_V6, L3_SHORT, L3_BAD };

static enum l3_kind ethertype_kind(uint16_t type) {
  return type == 0x0800 ? L3_V4 : type == 0x86dd ? L3_V6 : L3_NONE;
}

/* *type: the Ethernet type, for what is not IP (a tunnel, perhaps). */
static enum l3_kind link_ethernet(struct rd *r, uint16_t *type) {
  rd_skip(r, 12); /* destination, source */
  *type = rd_u16(r);
  /* 802.1Q, 802.1ad and the older QinQ value; tags may be stacked. */
  while (!r->err && (*type == 0x8100 || *type == 0x88a8 || *type == 0x9100)) {
    rd_skip(r, 2); /* tag control information */
    *type = rd_u16(r);
  }
  return r->err ? L3_SHORT : ethertype_kind(*type);
}

/* BSD address families: AF_INET is 2 everywhere, AF_INET6 is 24, 28 or 30. */
static enum l3_kind address_family_kind(uint32_t family) {
  return family == 2 ? L3_V4 : (family == 24 || family == 28 || family == 30) ? L3_V6 : L3_NONE;
}

static enum l3_kind link_null(struct rd *r, bool any_byte_order) {
  uint32_t family = rd_u32(r);
  if (r->err)
    return L3_SHORT;
  if (any_byte_order && family > 0xffff) /* written little-endian */
    family =
        (family >> 24) | ((family >> 8) & 0xff00) | ((family << 8) & 0xff0000) | (family << 24);
  return address_family_kind(family);
}

static enum l3_kind link_raw(struct rd *r) {
  uint8_t version = rd_peek_u8(r, 0) >> 4;
  if (r->err)
    return L3_SHORT;
  return version == 4 ? L3_V4 : version == 6 ? L3_V6 : L3_BAD;
}

/* *type: the Ethernet type of links that have one, else 0. */
static enum l3_kind link_decode(int dlt, struct rd *r, uint16_t *type) {
  *type = 0;
  switch (dlt) {
  case CAP_DLT_EN10MB:
    return link_ethernet(r, type);
  case CAP_DLT_LINUX_SLL: /* 16 bytes, protocol last */
    rd_skip(r, 14);
    *type = rd_u16(r);
    return r->err ? L3_SHORT : ethertype_kind(*type);
  case CAP_DLT_LINUX_SLL2: /* 20 bytes, protocol first */
    *type = rd_u16(r);
    rd_skip(r, 18);
    return r->err ? L3_SHORT : ethertype_kind(*type);
  case CAP_DLT_NULL: /* host byte order of the capturing machine */
    return link_null(r, true);
  case CAP_DLT_LOOP:
    return link_null(r, false);
  case CAP_DLT_RAW:
    return link_raw(r);
  case CAP_DLT_IPV4:
    return L3_V4;
  case CAP_DLT_IPV6:
    return L3_V6;
  default:
    return L3_NONE;
  }
}

/* ---- Tunnels ----------------------------------------------------------- */

static int decode_tunnel(struct cap_decoder *dec,
                         enum tun_read (*read_header)(struct rd *, struct tun_header *),
                         struct rd r, struct cap_packet *out);

/* What follows a link header, or a tunnel's: IP, or a tunnel below IP. */
static int decode_link_payload(struct cap_decoder *dec, enum l3_kind kind, uint16_t type,
                               struct rd r, struct cap_packet *out) {
  switch (kind) {
  case L3_V4:
    return decode_ipv4(dec, r, out, false);
  case L3_V6:
    return decode_ipv6(dec, r, out, false);
  case L3_SHORT:
    return short_header(dec, out);
  case L3_BAD:
    return count_malformed(dec);
  case L3_NONE:
    break;
  }
  if (type == TUN_NEXT_MPLS || type == TUN_NEXT_MPLS_MULTICAST)
    return decode_tunnel(dec, tun_mpls, r, out);
  if (type == TUN_NEXT_PPPOE)
    return decode_tunnel(dec, tun_pppoe, r, out);
  dec->stats->non_ip++;
  return 0;
}

/* What a tunnel carries, by the Ethernet type its header gave. */
static int decode_inner(struct cap_decoder *dec, uint16_t next, struct rd r,
                        struct cap_packet *out) {
  uint16_t type = next;
  enum l3_kind kind;
  if (next == TUN_NEXT_ETHERNET)
    kind = link_ethernet(&r, &type);
  else if (next == TUN_NEXT_IP)
    kind = link_raw(&r);
  else
    kind = ethertype_kind(next);
  return decode_link_payload(dec, kind, type, r, out);
}

/* A tunnel header cut short: by the snaplen, or it lies. */
static int tunnel_short(struct cap_decoder *dec, struct cap_packet *out) {
  if (!dec->frame_cut) {
    dec->stats->decap_malformed++;
    return 0;
  }
  dec->stats->truncated++;
  out->truncated = true;
  return 0;
}

/* One layer: its header off r, noted in out->encap, then what it carries.
 * -1 for GRE that is no tunnel read here (TUN_FOREIGN). */
static int decode_tunnel(struct cap_decoder *dec,
                         enum tun_read (*read_header)(struct rd *, struct tun_header *),
                         struct rd r, struct cap_packet *out) {
  struct tun_header h = {0};
  switch (read_header(&r, &h)) {
  case TUN_SHORT:
    return tunnel_short(dec, out);
  case TUN_BAD:
    dec->stats->decap_malformed++;
    return 0;
  case TUN_FOREIGN:
    return -1;
  case TUN_NO_PACKET:
    dec->stats->decap[h.kind]++;
    dec->stats->non_ip++;
    return 0;
  case TUN_OK:
    break;
  }
  struct cap_encap *e = &out->encap;
  if (e->depth >= dec->lim.encap_depth || e->depth == CAP_ENCAP_MAX) {
    dec->stats->decap_too_deep++;
    return 0;
  }
  dec->stats->decap[h.kind]++;
  e->kind[e->depth] = h.kind;
  if (h.id_type !=
      CAP_TENANT_NONE) { /* the innermost id wins: it names the inner addresses' network */
    e->tenant = (uint64_t)h.id_type << 32 | h.id;
    e->tenant_layer = e->depth;
  }
  e->depth++;
  return decode_inner(dec, h.next, r, out);
}

/* The datagram of a tunnel port.  The outer checksum is summed now, when
 * it was deferred: the inner packet's takes its place in out. */
static int decode_udp_tunnel(struct cap_decoder *dec, struct cap_packet *out) {
  if (out->csum_deferred) {
    if (!cap_packet_checksum_ok(out))
      dec->stats->bad_checksum_l4++;
    out->csum_deferred = false;
  }
  struct rd r = rd_make(out->payload, out->payload_len);
  if (out->dst_port == TUN_PORT_VXLAN)
    return decode_tunnel(dec, tun_vxlan, r, out);
  if (out->dst_port == TUN_PORT_GENEVE)
    return decode_tunnel(dec, tun_geneve, r, out);
  return decode_tunnel(dec, tun_gtpu, r, out);
}

static int decode_gre(struct cap_decoder *dec, const struct l4_in *in, struct cap_packet *out) {
  return decode_tunnel(dec, tun_gre, in->seg, out);
}

/* ---- Public functions -------------------------------------------------- */

bool cap_peek_tuple(int dlt, const uint8_t *frame, size_t caplen, struct cap_tuple *t) {
  struct rd r = rd_make(frame, frame ? caplen : 0);
  struct ip_header ip;
  uint16_t type;
  memset(t, 0, sizeof(*t));
  switch (link_decode(dlt, &r, &type)) {
  case L3_V4:
    if (ipv4_header(&r, &ip) != IP_OK || ip.more || ip.frag_offset)
      return false; /* a fragment: reassembly decides */
    break;
  case L3_V6:
    if (ipv6_header(&r, &ip) != IP_OK)
      return false; /* an extension header (perhaps a fragment's) is not walked */
    break;
  default:
    return false;
  }
  if (ip.proto != 6 && ip.proto != 17)
    return false;
  /* TCP and UDP both begin with the source and destination ports
   * (RFC 9293 3.1, RFC 768). */
  uint16_t src_port = rd_peek_u16(&r, 0);
  uint16_t dst_port = rd_peek_u16(&r, 2);
  if (r.err || (ip.proto == 17 && udp_tunnel_port(dst_port)))
    return false; /* a tunnel: its flow is the inner packet's */
  t->src = ip.src;
  t->dst = ip.dst;
  t->src_port = src_port;
  t->dst_port = dst_port;
  t->proto = ip.proto;
  return true;
}

bool cap_linktype_supported(int dlt) {
  return dlt == CAP_DLT_NULL || dlt == CAP_DLT_EN10MB || dlt == CAP_DLT_RAW ||
         dlt == CAP_DLT_LOOP || dlt == CAP_DLT_LINUX_SLL || dlt == CAP_DLT_IPV4 ||
         dlt == CAP_DLT_IPV6 || dlt == CAP_DLT_LINUX_SLL2;
}

struct cap_decoder *cap_decoder_new(const struct cap_limits *lim, struct cap_stats *stats) {
  struct cap_decoder *dec = lim && stats ? calloc(1, sizeof *dec) : NULL;
  if (!dec)
    return NULL;
  dec->lim = *lim;
  dec->stats = stats;
  frag_table_init(&dec->frags, &dec->lim, stats);
  return dec;
}

/* Datagrams still held were never completed: counted as timed out. */
void cap_decoder_free(struct cap_decoder *dec) {
  if (!dec)
    return;
  frag_table_free(&dec->frags);
  free(dec);
}

int cap_decode(struct cap_decoder *dec, int dlt, const uint8_t *frame, size_t caplen,
               struct cap_packet *out) {
  /* Keep what the caller filled in; clear the rest. */
  *out = (struct cap_packet){.file_index = out->file_index,
                             .frame = out->frame,
                             .ts = out->ts,
                             .wire_len = out->wire_len,
                             .cap_len = out->cap_len};
  dec->frame_cut = out->wire_len > caplen;

  struct rd r = rd_make(frame, frame ? caplen : 0);
  uint16_t type;
  enum l3_kind kind = link_decode(dlt, &r, &type);
  return decode_link_payload(dec, kind, type, r, out);
}
