/*
 * tests/unit/test_tunnel.c - tunnels through cap_decode (decode.c, tunnel.c):
 * VXLAN, GENEVE, GRE, ERSPAN II and III, MPLS, PPPoE, GTP-U, nested, the
 * depth cap, malformed and cut headers, the flow key's tenant, the text of
 * the layers, and the -j peek.
 *
 * Frames are built inside out: the inner packet, then each header put in
 * front of it.  Every tunnel header is written field by field from its
 * specification (cited at each), never from decode.c.  The inner packets
 * are test_decode.c's P4 and P6, whose checksums tshark verified.
 */
#include "capture/capture.h"
#include "harness.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

// clang-format off
/* IPv4/TCP 192.0.2.1:49152 -> 198.51.100.7:443, PSH|ACK, "hello". */
static const uint8_t P4[] = {
    0x45, 0x00, 0x00, 0x2d, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x3c, 0x5b,
    0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x07,
    0xc0, 0x00, 0x01, 0xbb, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
    0x50, 0x18, 0xff, 0xff, 0xa3, 0xdf, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o',
};
/* IPv6/TCP [2001:db8::1]:49153 -> [2001:db8::2]:443, SYN, "hi". */
static const uint8_t P6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x16, 0x06, 0x40,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
    0xc0, 0x01, 0x01, 0xbb, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0xff, 0xff, 0x26, 0x5e, 0x00, 0x00, 'h', 'i',
};
// clang-format on

struct frame {
  uint8_t b[2048];
  size_t n;
};

static void prepend(struct frame *f, const uint8_t *p, size_t n) {
  memmove(f->b + n, f->b, f->n);
  memcpy(f->b, p, n);
  f->n += n;
}

#define PREPEND(f, ...)                                                                            \
  do {                                                                                             \
    const uint8_t prepend_[] = {__VA_ARGS__};                                                      \
    prepend(f, prepend_, sizeof prepend_);                                                         \
  } while (0)

static struct frame inner(const uint8_t *p, size_t n) {
  struct frame f = {{0}, 0};
  prepend(&f, p, n);
  return f;
}

/* The Internet checksum (RFC 1071), written here, not taken from decode. */
static uint16_t ref_csum(const uint8_t *p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2)
    sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n % 2)
    sum += (uint32_t)p[n - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* Ethernet II (02:..:02 <- 02:..:01), the given type. */
static void eth_over(struct frame *f, uint16_t type) {
  PREPEND(f, 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, (uint8_t)(type >> 8), (uint8_t)type);
}

/* IPv4 (RFC 791) 10.0.0.1 -> 10.0.0.2, DF, TTL 64, its checksum. */
static void ip4_over(struct frame *f, uint8_t proto) {
  size_t total = 20 + f->n;
  uint8_t h[20] = {0x45,
                   0,
                   (uint8_t)(total >> 8),
                   (uint8_t)total,
                   0,
                   0,
                   0x40,
                   0,
                   64,
                   proto,
                   0,
                   0,
                   10,
                   0,
                   0,
                   1,
                   10,
                   0,
                   0,
                   2};
  uint16_t sum = ref_csum(h, 20);
  h[10] = (uint8_t)(sum >> 8);
  h[11] = (uint8_t)sum;
  prepend(f, h, 20);
}

/* UDP (RFC 768) with checksum 0: none, allowed over IPv4. */
static void udp_over(struct frame *f, uint16_t sport, uint16_t dport) {
  size_t len = 8 + f->n;
  PREPEND(f, (uint8_t)(sport >> 8), (uint8_t)sport, (uint8_t)(dport >> 8), (uint8_t)dport,
          (uint8_t)(len >> 8), (uint8_t)len, 0, 0);
}

/* Ethernet, IPv4, UDP to dport: a UDP tunnel's outside. */
static void udp_tunnel_over(struct frame *f, uint16_t dport) {
  udp_over(f, 51000, dport);
  ip4_over(f, 17);
  eth_over(f, 0x0800);
}

/* Ethernet, IPv4, GRE's protocol 47: a GRE tunnel's outside. */
static void gre_tunnel_over(struct frame *f) {
  ip4_over(f, 47);
  eth_over(f, 0x0800);
}

/* RFC 7348 5: flags (I), 3 reserved, VNI (3), 1 reserved. */
static void vxlan_over(struct frame *f, uint32_t vni) {
  PREPEND(f, 0x08, 0, 0, 0, (uint8_t)(vni >> 16), (uint8_t)(vni >> 8), (uint8_t)vni, 0);
}

struct fx {
  struct cap_limits lim;
  struct cap_stats stats;
  struct cap_decoder *dec;
  struct cap_packet pkt;
  int ret;
  uint8_t *copy; /* the frame decoded last, exactly caplen bytes: ASan sees overreads */
};

static void fx_open(struct fx *x) {
  memset(x, 0, sizeof *x);
  x->lim.frag_datagrams = 8;
  x->lim.frag_bytes = 1 << 20;
  x->lim.frag_pieces = 64;
  x->lim.frag_timeout = 30 * 1000000LL;
  x->lim.encap_depth = CAP_ENCAP_MAX;
  x->dec = cap_decoder_new(&x->lim, &x->stats);
}

/* Decode the first caplen bytes of f (all of them: caplen = f->n). */
static int fx_decode_cut(struct fx *x, const struct frame *f, size_t caplen) {
  memset(&x->pkt, 0xa5, sizeof x->pkt); /* decode must not keep stale fields */
  x->pkt.file_index = 0;
  x->pkt.frame = 1;
  x->pkt.ts = 0;
  x->pkt.wire_len = (uint32_t)f->n;
  x->pkt.cap_len = (uint32_t)caplen;
  free(x->copy); /* the packet's pointers point into it until the next decode */
  x->copy = malloc(caplen ? caplen : 1);
  memcpy(x->copy, f->b, caplen);
  x->ret = cap_decode(x->dec, CAP_DLT_EN10MB, x->copy, caplen, &x->pkt);
  return x->ret;
}

static int fx_decode(struct fx *x, const struct frame *f) {
  return fx_decode_cut(x, f, f->n);
}

/* One frame into a fresh decoder; x stays open for the checks. */
static int decode_one(struct fx *x, const struct frame *f) {
  fx_open(x);
  return fx_decode(x, f);
}

static void fx_close(struct fx *x) {
  cap_decoder_free(x->dec);
  free(x->copy);
}

static bool addr_is(const struct cap_addr *addr, const char *text) {
  struct cap_addr want = {0};
  want.family = strchr(text, ':') ? 6 : 4;
  if (inet_pton(want.family == 4 ? AF_INET : AF_INET6, text, want.bytes) != 1)
    return false;
  return addr->family == want.family && memcmp(addr->bytes, want.bytes, 16) == 0;
}

static uint64_t tenant(unsigned type, uint32_t id) {
  return (uint64_t)type << 32 | id;
}

static const char *layers(const struct cap_packet *p) {
  static char buf[CAP_ENCAP_STRLEN];
  cap_encap_str(&p->encap, buf, sizeof buf);
  return buf;
}

/* The inner P4 came out whole (its checksum good), one layer of kind. */
static void check_p4(const struct fx *x) {
  const struct cap_packet *p = &x->pkt;
  CHECK_EQ_U(x->ret, 1);
  CHECK(addr_is(&p->src, "192.0.2.1"));
  CHECK(addr_is(&p->dst, "198.51.100.7"));
  CHECK_EQ_U(p->l4_proto, 6);
  CHECK_EQ_U(p->src_port, 49152);
  CHECK_EQ_U(p->dst_port, 443);
  CHECK_EQ_U(p->payload_len, 5);
  CHECK(p->payload && memcmp(p->payload, "hello", 5) == 0);
  CHECK_EQ_U(p->l3_len, sizeof P4);
  CHECK(p->l3 && memcmp(p->l3, P4, sizeof P4) == 0);
  CHECK(!p->truncated);
  CHECK_EQ_U(x->stats.bad_checksum_l4 + x->stats.bad_checksum_ip, 0);
  CHECK_EQ_U(x->stats.malformed + x->stats.decap_malformed + x->stats.truncated, 0);
}

static void check_p6(const struct fx *x) {
  const struct cap_packet *p = &x->pkt;
  CHECK_EQ_U(x->ret, 1);
  CHECK(addr_is(&p->src, "2001:db8::1"));
  CHECK(addr_is(&p->dst, "2001:db8::2"));
  CHECK_EQ_U(p->src_port, 49153);
  CHECK_EQ_U(p->dst_port, 443);
  CHECK(p->payload_len == 2 && memcmp(p->payload, "hi", 2) == 0);
  CHECK_EQ_U(x->stats.bad_checksum_l4, 0);
  CHECK_EQ_U(x->stats.malformed + x->stats.decap_malformed + x->stats.truncated, 0);
}

/* Dropped as a malformed tunnel header, nothing else counted against it. */
static void check_decap_malformed(const struct fx *x) {
  CHECK_EQ_U(x->ret, 0);
  CHECK_EQ_U(x->stats.decap_malformed, 1);
  CHECK_EQ_U(x->stats.truncated, 0);
}

/* ---- VXLAN ---- */

static void test_vxlan(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  vxlan_over(&f, 0xabcd);
  udp_tunnel_over(&f, 4789);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_EQ_U(x.pkt.encap.depth, 1);
  CHECK_EQ_U(x.pkt.encap.kind[0], CAP_ENCAP_VXLAN);
  CHECK_EQ_U(x.pkt.encap.tenant, tenant(CAP_TENANT_VXLAN_VNI, 0xabcd));
  CHECK_STR(layers(&x.pkt), "vxlan:vni=43981");
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_VXLAN], 1);
  CHECK_EQ_U(x.stats.ip_packets, 2); /* the outer and the inner one */
  struct cap_tuple t;
  CHECK(!cap_peek_tuple(CAP_DLT_EN10MB, f.b, f.n, &t)); /* placed by its inner packet */
  fx_close(&x);

  /* No I flag: the VNI is not valid (RFC 7348 5). */
  f.b[14 + 20 + 8] = 0x00;
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);
}

static void test_vxlan_other_ports(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  vxlan_over(&f, 7);
  udp_over(&f, 4789, 4790); /* from the port, to another: not a tunnel */
  ip4_over(&f, 17);
  eth_over(&f, 0x0800);
  decode_one(&x, &f);
  CHECK_EQ_U(x.ret, 1);
  CHECK_EQ_U(x.pkt.l4_proto, 17);
  CHECK_EQ_U(x.pkt.dst_port, 4790);
  CHECK_EQ_U(x.pkt.encap.depth, 0);
  CHECK_EQ_U(x.pkt.encap.tenant, 0);
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_VXLAN], 0);
  struct cap_tuple t;
  CHECK(cap_peek_tuple(CAP_DLT_EN10MB, f.b, f.n, &t));
  CHECK_EQ_U(t.dst_port, 4790);
  fx_close(&x);
}

static void test_vxlan_short(void) {
  struct fx x;
  struct frame f = {{0}, 0};
  PREPEND(&f, 0x08, 0, 0, 0, 0, 0); /* 6 of the 8 bytes, the UDP length says so */
  udp_tunnel_over(&f, 4789);
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);

  /* The same header cut by the snaplen: truncated, not malformed. */
  f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  vxlan_over(&f, 1);
  udp_tunnel_over(&f, 4789);
  fx_open(&x);
  fx_decode_cut(&x, &f, 14 + 20 + 8 + 5);
  CHECK_EQ_U(x.ret, 0);
  CHECK_EQ_U(x.stats.decap_malformed, 0);
  CHECK(x.stats.truncated >= 1);
  fx_close(&x);

  /* Cut in the inner TCP payload: the packet is kept, marked truncated. */
  fx_open(&x);
  fx_decode_cut(&x, &f, f.n - 2);
  CHECK_EQ_U(x.ret, 1);
  CHECK(x.pkt.truncated);
  CHECK_EQ_U(x.pkt.payload_len, 3);
  CHECK_EQ_U(x.pkt.payload_wire_len, 5);
  CHECK_EQ_U(x.pkt.encap.depth, 1);
  fx_close(&x);
}

/* ---- GENEVE (RFC 8926 3.4) ---- */

static void geneve_over(struct frame *f, uint8_t flags, uint16_t protocol, uint8_t version) {
  /* one option: class 0x0103, type 0x01, length 1 word, 4 bytes of data */
  PREPEND(f, 0x01, 0x03, 0x01, 0x01, 0xde, 0xad, 0xbe, 0xef);
  PREPEND(f, (uint8_t)(version << 6 | 2), flags, (uint8_t)(protocol >> 8), (uint8_t)protocol, 0x12,
          0x34, 0x56, 0x00);
}

static void test_geneve(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  geneve_over(&f, 0, 0x0800, 0);
  udp_tunnel_over(&f, 6081);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_EQ_U(x.pkt.encap.tenant, tenant(CAP_TENANT_GENEVE_VNI, 0x123456));
  CHECK_STR(layers(&x.pkt), "geneve:vni=1193046");
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_GENEVE], 1);
  fx_close(&x);

  f = inner(P6, sizeof P6);
  eth_over(&f, 0x86dd);
  geneve_over(&f, 0x40, 0x6558, 0); /* C: critical options present; read all the same */
  udp_tunnel_over(&f, 6081);
  decode_one(&x, &f);
  check_p6(&x);
  fx_close(&x);

  /* A control packet (O): no tenant traffic. */
  f = inner(P4, sizeof P4);
  geneve_over(&f, 0x80, 0x0800, 0);
  udp_tunnel_over(&f, 6081);
  decode_one(&x, &f);
  CHECK_EQ_U(x.ret, 0);
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_GENEVE], 1);
  CHECK_EQ_U(x.stats.non_ip, 1);
  CHECK_EQ_U(x.stats.decap_malformed, 0);
  fx_close(&x);

  /* Version 1: "MUST be dropped". */
  f = inner(P4, sizeof P4);
  geneve_over(&f, 0, 0x0800, 1);
  udp_tunnel_over(&f, 6081);
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);

  /* Options longer than the datagram. */
  f = (struct frame){{0}, 0};
  PREPEND(&f, 0x3f, 0, 0x08, 0x00, 0, 0, 1, 0, 0, 0, 0, 0);
  udp_tunnel_over(&f, 6081);
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);
}

/* ---- GRE (RFC 2784 2, RFC 2890 2) ---- */

static void test_gre(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  /* C, K, S; transparent Ethernet bridging; checksum (not verified:
   * nobody drops on it), reserved1; key; sequence number */
  PREPEND(&f, 0xb0, 0x00, 0x65, 0x58, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00,
          0x00, 0x09);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_EQ_U(x.pkt.encap.kind[0], CAP_ENCAP_GRE);
  CHECK_EQ_U(x.pkt.encap.tenant, tenant(CAP_TENANT_GRE_KEY, 0x01020304));
  CHECK_STR(layers(&x.pkt), "gre:key=16909060");
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_GRE], 1);
  CHECK_EQ_U(x.stats.other_l4, 0);
  fx_close(&x);

  /* No flags, IPv6 inside. */
  f = inner(P6, sizeof P6);
  PREPEND(&f, 0x00, 0x00, 0x86, 0xdd);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_p6(&x);
  CHECK_EQ_U(x.pkt.encap.tenant, 0);
  CHECK_STR(layers(&x.pkt), "gre");
  fx_close(&x);

  /* The routing bit (RFC 2784 2.5.1: bits 1-5 non-zero: discard). */
  f = inner(P4, sizeof P4);
  PREPEND(&f, 0x40, 0x00, 0x08, 0x00);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);

  /* A key flag with no room for the key. */
  f = (struct frame){{0}, 0};
  PREPEND(&f, 0x20, 0x00, 0x08, 0x00, 0x00, 0x01);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);
}

static void test_gre_not_ours(void) {
  struct fx x;
  /* Version 1 (PPTP's enhanced GRE, RFC 2637 4.1): K, S, protocol PPP
   * 0x880b, payload length, call id, sequence number, then PPP. */
  struct frame f = {{0}, 0};
  PREPEND(&f, 0x30, 0x01, 0x88, 0x0b, 0x00, 0x04, 0x00, 0x07, 0, 0, 0, 1, 0xff, 0x03, 0x00, 0x21);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  CHECK_EQ_U(x.ret, 1); /* an IP packet of protocol 47, as before */
  CHECK_EQ_U(x.pkt.l4_proto, 47);
  CHECK_EQ_U(x.pkt.encap.depth, 0);
  CHECK_EQ_U(x.stats.other_l4, 1);
  CHECK_EQ_U(x.stats.decap_malformed + x.stats.decap[CAP_ENCAP_GRE], 0);
  fx_close(&x);

  /* Version 0 with a protocol type not read (WCCP's 0x883e). */
  f = inner(P4, sizeof P4);
  PREPEND(&f, 0x00, 0x00, 0x88, 0x3e);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  CHECK_EQ_U(x.ret, 1);
  CHECK_EQ_U(x.pkt.l4_proto, 47);
  CHECK_EQ_U(x.stats.other_l4, 1);
  fx_close(&x);
}

/* ---- ERSPAN (draft-foschiano-erspan-03, types II and III) ---- */

/* GRE with S, protocol, sequence number. */
static void gre_seq_over(struct frame *f, uint16_t protocol) {
  PREPEND(f, 0x10, 0x00, (uint8_t)(protocol >> 8), (uint8_t)protocol, 0, 0, 0, 42);
}

static void erspan2_over(struct frame *f, uint8_t version) {
  /* Ver, VLAN 0; COS 0, En 0, T 0, session id 0x155; reserved, index 0 */
  PREPEND(f, (uint8_t)(version << 4), 0x00, 0x01, 0x55, 0x00, 0x00, 0x00, 0x00);
  gre_seq_over(f, 0x88be);
}

static void test_erspan2(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  erspan2_over(&f, 1);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_EQ_U(x.pkt.encap.kind[0], CAP_ENCAP_ERSPAN2);
  CHECK_STR(layers(&x.pkt), "erspan2");
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_ERSPAN2], 1);
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_GRE], 0);
  fx_close(&x);

  /* Version 2 is type III's: not under 0x88BE. */
  f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  erspan2_over(&f, 2);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);

  /* Type I: 0x88BE without a sequence number, the frame at once. */
  f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  PREPEND(&f, 0x00, 0x00, 0x88, 0xbe);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_STR(layers(&x.pkt), "erspan1");
  fx_close(&x);
}

/* Ver 2, VLAN, COS/BSO/T/session id; timestamp; SGT; P, FT, HW id, D,
 * Gra, O; with O the 8-byte platform specific subheader. */
static void erspan3_over(struct frame *f, unsigned frame_type, bool subheader) {
  if (subheader)
    PREPEND(f, 0x0c, 0, 0, 0, 0x05, 0x06, 0x07, 0x08); /* platform id 3 */
  uint16_t bits = (uint16_t)(frame_type << 10 | (subheader ? 1 : 0));
  PREPEND(f, 0x20, 0x00, 0x01, 0x55, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, (uint8_t)(bits >> 8),
          (uint8_t)bits);
  gre_seq_over(f, 0x22eb);
}

static void test_erspan3(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  erspan3_over(&f, 0, true);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_STR(layers(&x.pkt), "erspan3");
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_ERSPAN3], 1);
  fx_close(&x);

  f = inner(P6, sizeof P6); /* FT 2: an IP packet, no Ethernet header */
  erspan3_over(&f, 2, false);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_p6(&x);
  fx_close(&x);

  f = inner(P4, sizeof P4); /* FT 1: not a frame read here */
  erspan3_over(&f, 1, false);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  CHECK_EQ_U(x.ret, 0);
  CHECK_EQ_U(x.stats.non_ip, 1);
  CHECK_EQ_U(x.stats.decap_malformed, 0);
  fx_close(&x);

  /* O set, the subheader missing. */
  f = (struct frame){{0}, 0};
  PREPEND(&f, 0x20, 0x00, 0x01, 0x55, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x01, 0x0c, 0);
  gre_seq_over(&f, 0x22eb);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);
}

/* ---- MPLS (RFC 3032 2.1, RFC 4385 3, RFC 4448) ---- */

/* A label stack entry: label, TC 0, S, TTL 64. */
static void label_over(struct frame *f, uint32_t label, bool bottom) {
  PREPEND(f, (uint8_t)(label >> 12), (uint8_t)(label >> 4), (uint8_t)(label << 4 | bottom), 64);
}

static void test_mpls(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  label_over(&f, 17, true);
  label_over(&f, 16004, false);
  eth_over(&f, 0x8847);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_STR(layers(&x.pkt), "mpls");
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_MPLS], 1); /* one layer, however many labels */
  CHECK_EQ_U(x.stats.non_ip, 0);
  fx_close(&x);

  f = inner(P6, sizeof P6); /* multicast type, IPv6 */
  label_over(&f, 2, true);
  eth_over(&f, 0x8848);
  decode_one(&x, &f);
  check_p6(&x);
  fx_close(&x);

  /* An Ethernet pseudowire with the control word (first nibble 0). */
  f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  PREPEND(&f, 0x00, 0x00, 0x00, 0x05);
  label_over(&f, 1000, true);
  eth_over(&f, 0x8847);
  decode_one(&x, &f);
  check_p4(&x);
  fx_close(&x);

  /* Without it: the MAC address (02:..) is the first nibble. */
  f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  label_over(&f, 1000, true);
  eth_over(&f, 0x8847);
  decode_one(&x, &f);
  check_p4(&x);
  fx_close(&x);

  /* An associated channel (first nibble 1): OAM, no packet. */
  f = (struct frame){{0}, 0};
  PREPEND(&f, 0x10, 0x00, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  label_over(&f, 13, true);
  eth_over(&f, 0x8847);
  decode_one(&x, &f);
  CHECK_EQ_U(x.ret, 0);
  CHECK_EQ_U(x.stats.non_ip, 1);
  fx_close(&x);

  /* No entry with S: the stack runs off the frame. */
  f = (struct frame){{0}, 0};
  label_over(&f, 16, false);
  label_over(&f, 17, false);
  eth_over(&f, 0x8847);
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);
}

/* ---- PPPoE (RFC 2516 4) ---- */

static void pppoe_over(struct frame *f, uint8_t version_type, uint8_t code) {
  size_t len = f->n;
  PREPEND(f, version_type, code, 0x12, 0x34, (uint8_t)(len >> 8), (uint8_t)len);
  eth_over(f, 0x8864);
}

static void test_pppoe(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  PREPEND(&f, 0x00, 0x21); /* PPP IPv4 (RFC 1332) */
  pppoe_over(&f, 0x11, 0);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_STR(layers(&x.pkt), "pppoe");
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_PPPOE], 1);
  fx_close(&x);

  f = inner(P6, sizeof P6);
  PREPEND(&f, 0x57); /* PPP IPv6 (RFC 5072), the field compressed (RFC 1661 6.5) */
  pppoe_over(&f, 0x11, 0);
  decode_one(&x, &f);
  check_p6(&x);
  fx_close(&x);

  f = (struct frame){{0}, 0};
  PREPEND(&f, 0xc0, 0x21, 0x09, 0x01, 0x00, 0x08, 0, 0, 0, 0); /* LCP echo request */
  pppoe_over(&f, 0x11, 0);
  decode_one(&x, &f);
  CHECK_EQ_U(x.ret, 0);
  CHECK_EQ_U(x.stats.non_ip, 1);
  CHECK_EQ_U(x.stats.decap_malformed, 0);
  fx_close(&x);

  f = inner(P4, sizeof P4);
  PREPEND(&f, 0x00, 0x21);
  pppoe_over(&f, 0x21, 0); /* version 2 */
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);

  f = inner(P4, sizeof P4);
  PREPEND(&f, 0x00, 0x21);
  pppoe_over(&f, 0x11, 0x09); /* PADI's code on a session frame */
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);
}

/* ---- GTP-U (3GPP TS 29.281 5.1, 5.2) ---- */

/* Version 1, PT 1, the E/S/PN flags; type; length of what follows the
 * first 8 bytes; TEID. */
static void gtpu_over(struct frame *f, uint8_t flags, uint8_t type) {
  size_t len = f->n;
  PREPEND(f, (uint8_t)(0x30 | flags), type, (uint8_t)(len >> 8), (uint8_t)len, 0x11, 0x22, 0x33,
          0x44);
  udp_tunnel_over(f, 2152);
}

static void test_gtpu(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  gtpu_over(&f, 0, 255);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_STR(layers(&x.pkt), "gtpu");
  CHECK_EQ_U(x.pkt.encap.tenant, 0); /* the TEID is no tenant: it differs by direction */
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_GTPU], 1);
  fx_close(&x);

  /* E, S and PN: sequence number, N-PDU number, next type 0x85; a PDU
   * session container of 1 word, next type 0x40 (UDP port); one of 1 word
   * that ends the chain. */
  f = inner(P6, sizeof P6);
  PREPEND(&f, 0x01, 0x08, 0x68, 0x00);
  PREPEND(&f, 0x01, 0x00, 0x09, 0x40);
  PREPEND(&f, 0x00, 0x07, 0x00, 0x85);
  gtpu_over(&f, 0x07, 255);
  decode_one(&x, &f);
  check_p6(&x);
  fx_close(&x);

  /* S only: the next-type byte is there but means nothing (E clear). */
  f = inner(P4, sizeof P4);
  PREPEND(&f, 0x00, 0x07, 0x00, 0x85);
  gtpu_over(&f, 0x02, 255);
  decode_one(&x, &f);
  check_p4(&x);
  fx_close(&x);

  /* An extension header of length 0. */
  f = inner(P4, sizeof P4);
  PREPEND(&f, 0x00, 0x00, 0x00, 0x00);
  PREPEND(&f, 0x00, 0x07, 0x00, 0x85);
  gtpu_over(&f, 0x04, 255);
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);

  /* An echo request (type 1): no user packet. */
  f = (struct frame){{0}, 0};
  PREPEND(&f, 0x00, 0x01, 0x00, 0x00);
  gtpu_over(&f, 0x02, 1);
  decode_one(&x, &f);
  CHECK_EQ_U(x.ret, 0);
  CHECK_EQ_U(x.stats.non_ip, 1);
  CHECK_EQ_U(x.stats.decap_malformed, 0);
  fx_close(&x);

  /* GTP' (PT 0) and version 2 (GTPv2-C) are not GTP-U. */
  f = inner(P4, sizeof P4);
  gtpu_over(&f, 0, 255);
  f.b[14 + 20 + 8] = 0x20;
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);
  f.b[14 + 20 + 8] = 0x50;
  decode_one(&x, &f);
  check_decap_malformed(&x);
  fx_close(&x);
}

/* ---- Nesting, tenants, the depth cap ---- */

static void test_nested(void) {
  struct fx x;
  struct frame f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  vxlan_over(&f, 7);
  udp_over(&f, 51000, 4789);
  ip4_over(&f, 17);
  eth_over(&f, 0x0800);
  erspan2_over(&f, 1);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_EQ_U(x.pkt.encap.depth, 2);
  CHECK_EQ_U(x.pkt.encap.kind[0], CAP_ENCAP_ERSPAN2);
  CHECK_EQ_U(x.pkt.encap.kind[1], CAP_ENCAP_VXLAN);
  CHECK_EQ_U(x.pkt.encap.tenant, tenant(CAP_TENANT_VXLAN_VNI, 7));
  CHECK_STR(layers(&x.pkt), "erspan2>vxlan:vni=7");
  CHECK_EQ_U(x.stats.ip_packets, 3);
  fx_close(&x);

  /* A GRE key outside, a VNI inside: the innermost id names the inner
   * addresses' network. */
  f = inner(P4, sizeof P4);
  eth_over(&f, 0x0800);
  vxlan_over(&f, 7);
  udp_over(&f, 51000, 4789);
  ip4_over(&f, 17);
  PREPEND(&f, 0x20, 0x00, 0x08, 0x00, 0, 0, 0, 5);
  gre_tunnel_over(&f);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_EQ_U(x.pkt.encap.tenant, tenant(CAP_TENANT_VXLAN_VNI, 7));
  CHECK_STR(layers(&x.pkt), "gre>vxlan:vni=7");
  fx_close(&x);
}

/* n GRE layers (no flags, IPv4 inside) around P4. */
static struct frame gre_layers(unsigned n) {
  struct frame f = inner(P4, sizeof P4);
  for (unsigned i = 0; i < n; i++) {
    PREPEND(&f, 0x00, 0x00, 0x08, 0x00);
    ip4_over(&f, 47);
  }
  eth_over(&f, 0x0800);
  return f;
}

static void test_depth_cap(void) {
  struct fx x;
  struct frame f = gre_layers(CAP_ENCAP_MAX);
  decode_one(&x, &f);
  check_p4(&x);
  CHECK_EQ_U(x.pkt.encap.depth, CAP_ENCAP_MAX);
  CHECK_STR(layers(&x.pkt), "gre>gre>gre>gre>gre>gre>gre>gre");
  CHECK_EQ_U(x.stats.decap_too_deep, 0);
  fx_close(&x);

  f = gre_layers(CAP_ENCAP_MAX + 1);
  decode_one(&x, &f);
  CHECK_EQ_U(x.ret, 0);
  CHECK_EQ_U(x.stats.decap_too_deep, 1);
  CHECK_EQ_U(x.stats.decap[CAP_ENCAP_GRE], CAP_ENCAP_MAX);
  CHECK_EQ_U(x.stats.decap_malformed + x.stats.malformed, 0);
  fx_close(&x);
  CHECK_EQ_U(CAP_ENCAP_MAX, 8);
}

/* A decoder reused: a plain packet after a tunnelled one has no layers. */
static void test_no_stale_layers(void) {
  struct fx x;
  struct frame f = gre_layers(3);
  decode_one(&x, &f);
  CHECK_EQ_U(x.pkt.encap.depth, 3);
  struct frame plain = inner(P4, sizeof P4);
  eth_over(&plain, 0x0800);
  fx_decode(&x, &plain);
  check_p4(&x);
  CHECK_EQ_U(x.pkt.encap.depth, 0);
  CHECK_EQ_U(x.pkt.encap.tenant, 0);
  fx_close(&x);
}

/* ---- The flow key ---- */

struct flows_seen {
  unsigned started;
  struct flow *last;
};

static void on_start(void *ctx, struct flow *flow) {
  struct flows_seen *seen = ctx;
  seen->started++;
  seen->last = flow;
}

/* P4, or P4 the other way (addresses and ports swapped: the same sums),
 * in VXLAN with this VNI (0: bare), from this outer source port. */
static struct frame p4_in_vxlan(uint32_t vni, bool reply, uint16_t outer_sport) {
  uint8_t p[sizeof P4];
  memcpy(p, P4, sizeof P4);
  if (reply) {
    memcpy(p + 12, P4 + 16, 4);
    memcpy(p + 16, P4 + 12, 4);
    memcpy(p + 20, P4 + 22, 2);
    memcpy(p + 22, P4 + 20, 2);
  }
  struct frame f = inner(p, sizeof p);
  eth_over(&f, 0x0800);
  if (vni) {
    vxlan_over(&f, vni);
    udp_over(&f, outer_sport, 4789);
    ip4_over(&f, 17);
    eth_over(&f, 0x0800);
  }
  return f;
}

/* Two tenants with the same inner addresses are two flows; the outer
 * addresses are no part of the key (a mirror's two directions may come
 * from two sources). */
static void test_tenants_apart(void) {
  struct fx x;
  struct flows_seen seen = {0, NULL};
  struct cap_callbacks cb = {.ctx = &seen, .flow_start = on_start};
  fx_open(&x);
  cap_limits_default(&x.lim);
  struct flow_table *ft = flow_table_new(&x.lim, &x.stats, &cb, false);
  struct {
    uint32_t vni;
    bool reply;
    uint16_t sport;
    unsigned flows_after;
  } steps[] = {
      {1, false, 50001, 1}, {2, false, 50001, 2}, {0, false, 0, 3},
      {1, true, 50999, 3},  {2, true, 50002, 3},  {0, true, 0, 3},
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    struct frame f = p4_in_vxlan(steps[i].vni, steps[i].reply, steps[i].sport);
    CHECK_EQ_U(fx_decode(&x, &f), 1);
    flow_table_packet(ft, &x.pkt);
    CHECK_EQ_U(seen.started, steps[i].flows_after);
  }
  CHECK_EQ_U(flow_table_count(ft), 3);
  flow_table_free(ft);
  fx_close(&x);
}

static void test_encap_str(void) {
  struct cap_encap e = {0};
  char buf[CAP_ENCAP_STRLEN];
  cap_encap_str(&e, buf, sizeof buf);
  CHECK_STR(buf, "");
  e.depth = 3;
  e.kind[0] = CAP_ENCAP_MPLS;
  e.kind[1] = CAP_ENCAP_GRE;
  e.kind[2] = CAP_ENCAP_GENEVE;
  e.tenant = tenant(CAP_TENANT_GRE_KEY, 4294967295u);
  e.tenant_layer = 1;
  cap_encap_str(&e, buf, sizeof buf);
  CHECK_STR(buf, "mpls>gre:key=4294967295>geneve");
  char small[8];
  cap_encap_str(&e, small, sizeof small);
  CHECK_STR(small, "mpls>gr"); /* cut, terminated */
  CHECK_STR(cap_encap_name(CAP_ENCAP_GTPU), "gtpu");
  CHECK_STR(cap_encap_name(CAP_ENCAP_KINDS), "?");
}

int main(void) {
  RUN(test_vxlan);
  RUN(test_vxlan_other_ports);
  RUN(test_vxlan_short);
  RUN(test_geneve);
  RUN(test_gre);
  RUN(test_gre_not_ours);
  RUN(test_erspan2);
  RUN(test_erspan3);
  RUN(test_mpls);
  RUN(test_pppoe);
  RUN(test_gtpu);
  RUN(test_nested);
  RUN(test_depth_cap);
  RUN(test_no_stale_layers);
  RUN(test_tenants_apart);
  RUN(test_encap_str);
  return harness_done();
}
