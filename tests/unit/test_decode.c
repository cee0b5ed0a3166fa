/*
 * tests/unit/test_decode.c - capture/decode.c and what it calls (frag.c,
 * ipv6_ext.c), through cap_decode: link layers, IPv4/IPv6, extension
 * headers, fragments, TCP/UDP, checksums, malformed input; and text.c's
 * cap_endpoint_str and cap_time_str.
 *
 * The reference packets below were built with a small Python script and
 * checked with tshark
 * (-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE):
 * every checksum in them is "Good" there, and the expected field values
 * (ports, seq/ack, flags, lengths) are the ones tshark printed.  The link
 * headers were checked the same way (tshark decodes each one down to TCP).
 * Variants (fragments, corrupted fields) are derived from them in the test,
 * with a reference checksum written independently of decode.c.
 */
#include "capture/capture.h"
#include "harness.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Packet bytes are laid out one header field group per line. */
// clang-format off

/* 2001:db8::1, 2001:db8::2, 2001:db8::3 */
#define A6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
#define B6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02
#define C6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03
/* 40 bytes 0x40..0x67, the payload of the two big UDP datagrams */
#define BIG_PAYLOAD                                                                          \
  0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e,  \
      0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c,    \
      0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67

/* IPv4/TCP 192.0.2.1:49152 -> 198.51.100.7:443, PSH|ACK, "hello". */
static const uint8_t P4[] = {
    0x45, 0x00,             /* version 4, IHL 5; TOS */
    0x00, 0x2d,             /* total length 45 */
    0x12, 0x34, 0x40, 0x00, /* id 0x1234; DF, offset 0 */
    0x40, 0x06, 0x3c, 0x5b, /* TTL 64; TCP; header checksum */
    0xc0, 0x00, 0x02, 0x01, /* 192.0.2.1 */
    0xc6, 0x33, 0x64, 0x07, /* 198.51.100.7 */
    0xc0, 0x00, 0x01, 0xbb, /* ports 49152 -> 443 */
    0x01, 0x02, 0x03, 0x04, /* seq 16909060 */
    0x0a, 0x0b, 0x0c, 0x0d, /* ack 168496141 */
    0x50, 0x18, 0xff, 0xff, /* data offset 5; PSH|ACK; window */
    0xa3, 0xdf, 0x00, 0x00, /* checksum; urgent pointer */
    'h', 'e', 'l', 'l', 'o',
};

/* IPv4/TCP 198.51.100.7:443 -> 192.0.2.1:49152 SYN|ACK with options
 * (MSS 1460, SACK permitted, NOP, window scale 7, NOP, NOP): header 32. */
static const uint8_t P4OPT[] = {
    0x45, 0x00, 0x00, 0x34, /* version 4, IHL 5; total length 52 */
    0x00, 0x00, 0x40, 0x00, /* id 0; DF */
    0x40, 0x06, 0x4e, 0x88, /* TTL 64; TCP; header checksum */
    0xc6, 0x33, 0x64, 0x07, /* 198.51.100.7 */
    0xc0, 0x00, 0x02, 0x01, /* 192.0.2.1 */
    0x01, 0xbb, 0xc0, 0x00, /* ports 443 -> 49152 */
    0xff, 0xff, 0xff, 0xf0, /* seq 4294967280 */
    0x01, 0x02, 0x03, 0x05, /* ack 16909061 */
    0x80, 0x12, 0x72, 0x10, /* data offset 8; SYN|ACK; window */
    0x4b, 0x01, 0x00, 0x00, /* checksum; urgent pointer */
    0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
    0x04, 0x02, 0x01,       /* SACK permitted; NOP */
    0x03, 0x03, 0x07,       /* window scale 7 */
    0x01, 0x01,             /* NOP, NOP */
};

/* IPv6/TCP [2001:db8::1]:49153 -> [2001:db8::2]:443, SYN, "hi". */
static const uint8_t P6[] = {
    0x60, 0x00, 0x00, 0x00, /* version 6 */
    0x00, 0x16, 0x06, 0x40, /* payload length 22; TCP; hop limit 64 */
    A6, B6,
    0xc0, 0x01, 0x01, 0xbb, /* ports 49153 -> 443 */
    0x00, 0x00, 0x03, 0xe8, /* seq 1000 */
    0x00, 0x00, 0x00, 0x00, /* ack 0 */
    0x50, 0x02, 0xff, 0xff, /* data offset 5; SYN; window */
    0x26, 0x5e, 0x00, 0x00, /* checksum; urgent pointer */
    'h', 'i',
};

/* IPv6 with hop-by-hop, destination options and routing (type 0, segments
 * left 0) headers, then TCP 49154 -> 8443, FIN|ACK, "ext". */
static const uint8_t P6EXT[] = {
    0x60, 0x00, 0x00, 0x00, /* version 6 */
    0x00, 0x3f, 0x00, 0x40, /* payload length 63; hop-by-hop; hop limit 64 */
    A6, B6,
    0x3c, 0x00, 0x01, 0x04, /* HBH: next destination options, length 8; PadN(4) */
    0x00, 0x00, 0x00, 0x00,
    0x2b, 0x00, 0x01, 0x04, /* DO: next routing, length 8; PadN(4) */
    0x00, 0x00, 0x00, 0x00,
    0x06, 0x02, 0x00, 0x00, /* RH: next TCP, length 24, type 0, segments left 0 */
    0x00, 0x00, 0x00, 0x00, /* reserved */
    C6,                     /* address[1] */
    0xc0, 0x02, 0x20, 0xfb, /* ports 49154 -> 8443 */
    0x00, 0x00, 0x00, 0x07, /* seq 7 */
    0x00, 0x00, 0x00, 0x09, /* ack 9 */
    0x50, 0x11, 0xff, 0xff, /* data offset 5; FIN|ACK; window */
    0x99, 0xd5, 0x00, 0x00, /* checksum; urgent pointer */
    'e', 'x', 't',
};

/* IPv6 with a routing header, segments left 1: the TCP checksum uses the
 * final destination 2001:db8::3 (RFC 8200 8.1; tshark agrees). */
static const uint8_t P6RT[] = {
    0x60, 0x00, 0x00, 0x00, /* version 6 */
    0x00, 0x2e, 0x2b, 0x40, /* payload length 46; routing; hop limit 64 */
    A6, B6,
    0x06, 0x02, 0x00, 0x01, /* RH: next TCP, length 24, type 0, segments left 1 */
    0x00, 0x00, 0x00, 0x00, /* reserved */
    C6,                     /* address[1]: the final destination */
    0xc0, 0x03, 0x01, 0xbb, /* ports 49155 -> 443 */
    0x00, 0x00, 0x00, 0x01, /* seq 1 */
    0x00, 0x00, 0x00, 0x02, /* ack 2 */
    0x50, 0x10, 0xff, 0xff, /* data offset 5; ACK; window */
    0x20, 0x27, 0x00, 0x00, /* checksum; urgent pointer */
    'r', 't',
};

/* IPv6 with an authentication header (length field 4: (4+2)*4 = 24 bytes). */
static const uint8_t P6AH[] = {
    0x60, 0x00, 0x00, 0x00, /* version 6 */
    0x00, 0x2e, 0x33, 0x40, /* payload length 46; AH; hop limit 64 */
    A6, B6,
    0x06, 0x04, 0x00, 0x00, /* AH: next TCP, length 4; reserved */
    0x00, 0x00, 0x10, 0x01, /* SPI 0x1001 */
    0x00, 0x00, 0x00, 0x01, /* sequence 1 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* ICV */
    0xc0, 0x04, 0x01, 0xbb, /* ports 49156 -> 443 */
    0x00, 0x00, 0x00, 0x01, /* seq 1 */
    0x00, 0x00, 0x00, 0x02, /* ack 2 */
    0x50, 0x10, 0xff, 0xff, /* data offset 5; ACK; window */
    0x31, 0x33, 0x00, 0x00, /* checksum; urgent pointer */
    'a', 'h',
};

/* IPv4/UDP 192.0.2.1:5353 -> 198.51.100.7:53, "abcd". */
static const uint8_t U4[] = {
    0x45, 0x00, 0x00, 0x20, /* version 4, IHL 5; total length 32 */
    0x00, 0x42, 0x00, 0x00, /* id 0x42; no flags */
    0x40, 0x11, 0x8e, 0x4f, /* TTL 64; UDP; header checksum */
    0xc0, 0x00, 0x02, 0x01, /* 192.0.2.1 */
    0xc6, 0x33, 0x64, 0x07, /* 198.51.100.7 */
    0x14, 0xe9, 0x00, 0x35, /* ports 5353 -> 53 */
    0x00, 0x0c, 0x39, 0xb5, /* length 12; checksum */
    'a', 'b', 'c', 'd',
};

/* IPv4/UDP 192.0.2.1:1111 -> 198.51.100.7:2222, id 0x5151, 40 bytes. */
static const uint8_t U4BIG[] = {
    0x45, 0x00, 0x00, 0x44, /* version 4, IHL 5; total length 68 */
    0x51, 0x51, 0x00, 0x00, /* id 0x5151; no flags */
    0x40, 0x11, 0x3d, 0x1c, /* TTL 64; UDP; header checksum */
    0xc0, 0x00, 0x02, 0x01, /* 192.0.2.1 */
    0xc6, 0x33, 0x64, 0x07, /* 198.51.100.7 */
    0x04, 0x57, 0x08, 0xae, /* ports 1111 -> 2222 */
    0x00, 0x30, 0x83, 0xb6, /* length 48; checksum */
    BIG_PAYLOAD,
};

/* IPv6/UDP [2001:db8::1]:3333 -> [2001:db8::2]:4444, 40 bytes. */
static const uint8_t U6BIG[] = {
    0x60, 0x00, 0x00, 0x00, /* version 6 */
    0x00, 0x30, 0x11, 0x40, /* payload length 48; UDP; hop limit 64 */
    A6, B6,
    0x0d, 0x05, 0x11, 0x5c, /* ports 3333 -> 4444 */
    0x00, 0x30, 0x03, 0x22, /* length 48; checksum */
    BIG_PAYLOAD,
};

/* Ethernet ARP request "who has 198.51.100.7? tell 192.0.2.1", padded to 60. */
static const uint8_t ARP[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* broadcast */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* source MAC */
    0x08, 0x06,                         /* ARP */
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, /* Ethernet, IPv4, sizes 6 and 4 */
    0x00, 0x01,                         /* request */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01, /* sender */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x07, /* target */
};

/* Ethernet destination and source MACs */
#define ETH_MACS 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01

// clang-format on

/* ------------------------------------------------------------------ */
/* Reference checksum and fixture                                      */

/* RFC 1071 done the slow, obvious way: big-endian byte pairs. */
static uint32_t ref_sum(const uint8_t *data, size_t len, uint32_t sum) {
  for (size_t i = 0; i < len; i++)
    sum += (i % 2 == 0) ? (uint32_t)data[i] << 8 : data[i];
  return sum;
}

static uint16_t ref_fold(uint32_t sum) {
  while (sum > 0xffff)
    sum = (sum >> 16) + (sum & 0xffff);
  return (uint16_t)~sum;
}

/* Recompute the IPv4 header checksum of the 20-byte header at ip. */
static void ref_fix_ipv4(uint8_t *ip) {
  ip[10] = ip[11] = 0;
  uint16_t sum = ref_fold(ref_sum(ip, 20, 0));
  ip[10] = (uint8_t)(sum >> 8);
  ip[11] = (uint8_t)sum;
}

struct fx {
  struct cap_limits lim;
  struct cap_stats stats;
  struct cap_decoder *dec;
  struct cap_packet pkt;
  uint8_t *copy; /* the frame in an allocation of exactly caplen bytes */
};

static void fx_open(struct fx *f) {
  memset(f, 0, sizeof *f);
  f->lim.frag_datagrams = 8;
  f->lim.frag_bytes = 1 << 20;
  f->lim.frag_pieces = 64;
  f->lim.frag_timeout = 30 * 1000000LL;
  f->lim.encap_depth = CAP_ENCAP_MAX;
  f->dec = cap_decoder_new(&f->lim, &f->stats);
}

static void fx_close(struct fx *f) {
  cap_decoder_free(f->dec);
  free(f->copy);
}

/* Decode the first caplen bytes of a frame of wire_len bytes. */
static int fx_decode_cut(struct fx *f, int dlt, const uint8_t *frame, size_t caplen,
                         size_t wire_len, cap_time_us ts) {
  free(f->copy);
  f->copy = malloc(caplen ? caplen : 1);
  if (caplen)
    memcpy(f->copy, frame, caplen);
  memset(&f->pkt, 0xa5, sizeof f->pkt); /* decode must not keep stale fields */
  f->pkt.file_index = 3;
  f->pkt.frame = 7;
  f->pkt.ts = ts;
  f->pkt.wire_len = (uint32_t)wire_len;
  f->pkt.cap_len = (uint32_t)caplen;
  return cap_decode(f->dec, dlt, f->copy, caplen, &f->pkt);
}

static int fx_decode(struct fx *f, int dlt, const uint8_t *frame, size_t len) {
  return fx_decode_cut(f, dlt, frame, len, len, 0);
}

static size_t cat(uint8_t *out, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  if (alen)
    memcpy(out, a, alen);
  memcpy(out + alen, b, blen);
  return alen + blen;
}

/* Exactly want_len bytes at data (which may be NULL), equal to want. */
static bool bytes_are(const uint8_t *data, size_t len, const void *want, size_t want_len) {
  return data && len == want_len && memcmp(data, want, want_len) == 0;
}

static bool addr_is(const struct cap_addr *addr, const char *text) {
  struct cap_addr want = {0};
  want.family = strchr(text, ':') ? 6 : 4;
  if (inet_pton(want.family == 4 ? AF_INET : AF_INET6, text, want.bytes) != 1)
    return false;
  return addr->family == want.family && memcmp(addr->bytes, want.bytes, 16) == 0;
}

static void check_p4(const struct fx *f, int ret) {
  const struct cap_packet *p = &f->pkt;
  CHECK_EQ_U(ret, 1);
  CHECK(addr_is(&p->src, "192.0.2.1"));
  CHECK(addr_is(&p->dst, "198.51.100.7"));
  CHECK_EQ_U(p->l4_proto, 6);
  CHECK_EQ_U(p->src_port, 49152);
  CHECK_EQ_U(p->dst_port, 443);
  CHECK_EQ_U(p->tcp_seq, 16909060);
  CHECK_EQ_U(p->tcp_ack, 168496141);
  CHECK_EQ_U(p->tcp_flags, CAP_TCP_PSH | CAP_TCP_ACK);
  CHECK_EQ_U(p->payload_len, 5);
  CHECK_EQ_U(p->payload_wire_len, 5);
  CHECK(bytes_are(p->payload, p->payload_len, "hello", 5));
  CHECK_EQ_U(p->l3_len, 45);
  CHECK(bytes_are(p->l3, p->l3_len, P4, sizeof P4));
  CHECK(!p->truncated);
  CHECK(!p->reassembled);
  CHECK_EQ_U(p->file_index, 3);
  CHECK_EQ_U(p->frame, 7);
  CHECK_EQ_U(f->stats.ip_packets, 1);
  CHECK_EQ_U(f->stats.bad_checksum_ip + f->stats.bad_checksum_l4, 0);
  CHECK_EQ_U(f->stats.malformed + f->stats.truncated + f->stats.non_ip, 0);
}

static void check_p6(const struct fx *f, int ret) {
  const struct cap_packet *p = &f->pkt;
  CHECK_EQ_U(ret, 1);
  CHECK(addr_is(&p->src, "2001:db8::1"));
  CHECK(addr_is(&p->dst, "2001:db8::2"));
  CHECK_EQ_U(p->l4_proto, 6);
  CHECK_EQ_U(p->src_port, 49153);
  CHECK_EQ_U(p->dst_port, 443);
  CHECK_EQ_U(p->tcp_seq, 1000);
  CHECK_EQ_U(p->tcp_ack, 0);
  CHECK_EQ_U(p->tcp_flags, CAP_TCP_SYN);
  CHECK_EQ_U(p->payload_len, 2);
  CHECK(bytes_are(p->payload, p->payload_len, "hi", 2));
  CHECK_EQ_U(p->l3_len, 62);
  CHECK(bytes_are(p->l3, p->l3_len, P6, sizeof P6));
  CHECK_EQ_U(f->stats.ip_packets, 1);
  CHECK_EQ_U(f->stats.bad_checksum_l4, 0);
  CHECK_EQ_U(f->stats.malformed + f->stats.truncated + f->stats.non_ip, 0);
}

/* Decode link header + packet under dlt; check_fn checks the result. */
static void link_case(int dlt, const uint8_t *link, size_t link_len, const uint8_t *ip,
                      size_t ip_len, void (*check_fn)(const struct fx *, int)) {
  uint8_t frame[256];
  struct fx f;
  fx_open(&f);
  size_t len = cat(frame, link, link_len, ip, ip_len);
  check_fn(&f, fx_decode(&f, dlt, frame, len));
  fx_close(&f);
}

/* ------------------------------------------------------------------ */
/* Link layers                                                         */

static void test_ref_checksum_agrees_with_tshark(void) {
  CHECK_EQ_U(ref_fold(ref_sum(P4, 20, 0)), 0);
  CHECK_EQ_U(ref_fold(ref_sum(U4BIG, 20, 0)), 0);
  uint8_t copy[20];
  memcpy(copy, P4, 20);
  ref_fix_ipv4(copy);
  CHECK_EQ_U(copy[10], 0x3c);
  CHECK_EQ_U(copy[11], 0x5b);
}

static void test_linktype_supported(void) {
  const int yes[] = {0, 1, 12, 108, 113, 228, 229, 276};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    CHECK(cap_linktype_supported(yes[i]));
  CHECK(!cap_linktype_supported(105)); /* 802.11 */
  CHECK(!cap_linktype_supported(127)); /* radiotap */
  CHECK(!cap_linktype_supported(-1));
  CHECK(!cap_linktype_supported(101)); /* LINKTYPE_RAW is mapped by libpcap */
}

static void test_ethernet(void) {
  const uint8_t eth4[] = {ETH_MACS, 0x08, 0x00};
  const uint8_t eth6[] = {ETH_MACS, 0x86, 0xdd};
  link_case(CAP_DLT_EN10MB, eth4, sizeof eth4, P4, sizeof P4, check_p4);
  link_case(CAP_DLT_EN10MB, eth6, sizeof eth6, P6, sizeof P6, check_p6);
}

static void test_ethernet_padding_trimmed(void) {
  uint8_t frame[60] = {ETH_MACS, 0x08, 0x00};
  memcpy(frame + 14, P4, sizeof P4); /* 59 bytes, one byte of padding */
  frame[59] = 0xee;
  struct fx f;
  fx_open(&f);
  check_p4(&f, fx_decode(&f, CAP_DLT_EN10MB, frame, sizeof frame));
  fx_close(&f);

  memset(frame + 14, 0, sizeof frame - 14);
  memcpy(frame + 14, U4, sizeof U4); /* 46 bytes, 14 of padding */
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_EN10MB, frame, sizeof frame), 1);
  CHECK_EQ_U(f.pkt.l4_proto, 17);
  CHECK_EQ_U(f.pkt.src_port, 5353);
  CHECK_EQ_U(f.pkt.dst_port, 53);
  CHECK_EQ_U(f.pkt.l3_len, 32);
  CHECK_EQ_U(f.pkt.payload_len, 4);
  CHECK_EQ_U(f.pkt.payload_wire_len, 4);
  CHECK(bytes_are(f.pkt.payload, f.pkt.payload_len, "abcd", 4));
  CHECK_EQ_U(f.stats.bad_checksum_l4, 0);
  CHECK_EQ_U(f.stats.bad_checksum_ip, 0);
  fx_close(&f);
}

static void test_vlan_tags(void) {
  const uint8_t dot1q[] = {ETH_MACS, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00}; /* VLAN 100 */
  // clang-format off
  const uint8_t qinq[] = {ETH_MACS, 0x88, 0xa8, 0x00, 0xc8, /* S-tag 200 */
                          0x81, 0x00, 0x00, 0x64, 0x08, 0x00}; /* C-tag 100, IPv4 */
  const uint8_t q9100[] = {ETH_MACS, 0x91, 0x00, 0x00, 0xc8, /* old QinQ tag 200 */
                           0x81, 0x00, 0x00, 0x64, 0x86, 0xdd}; /* tag 100, IPv6 */
  // clang-format on
  link_case(CAP_DLT_EN10MB, dot1q, sizeof dot1q, P4, sizeof P4, check_p4);
  link_case(CAP_DLT_EN10MB, qinq, sizeof qinq, P4, sizeof P4, check_p4);
  link_case(CAP_DLT_EN10MB, q9100, sizeof q9100, P6, sizeof P6, check_p6);
}

static void test_linux_sll(void) {
  const uint8_t sll[16] = {
      0x00, 0x00, 0x00, 0x01,             /* packet type: to us; ARPHRD_ETHER */
      0x00, 0x06, 0x02, 0x00, 0x00, 0x00, /* address length 6; address */
      0x00, 0x01, 0x00, 0x00,             /* address and padding */
      0x08, 0x00,                         /* protocol IPv4 */
  };
  const uint8_t sll2[20] = {
      0x08, 0x00, 0x00, 0x00, /* protocol IPv4; reserved */
      0x00, 0x00, 0x00, 0x02, /* interface index 2 */
      0x00, 0x01, 0x00, 0x06, /* ARPHRD_ETHER; packet type; address length 6 */
      0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* address, padded */
  };
  link_case(CAP_DLT_LINUX_SLL, sll, sizeof sll, P4, sizeof P4, check_p4);
  link_case(CAP_DLT_LINUX_SLL2, sll2, sizeof sll2, P4, sizeof P4, check_p4);
}

static void test_null_and_loop(void) {
  const uint8_t af_inet_le[] = {0x02, 0x00, 0x00, 0x00};     /* captured on little-endian */
  const uint8_t af_inet_be[] = {0x00, 0x00, 0x00, 0x02};     /* captured on big-endian */
  const uint8_t af_inet6_30_le[] = {0x1e, 0x00, 0x00, 0x00}; /* macOS AF_INET6 */
  const uint8_t af_inet6_28_be[] = {0x00, 0x00, 0x00, 0x1c}; /* FreeBSD */
  const uint8_t af_inet6_24_le[] = {0x18, 0x00, 0x00, 0x00}; /* NetBSD, OpenBSD */
  link_case(CAP_DLT_NULL, af_inet_le, 4, P4, sizeof P4, check_p4);
  link_case(CAP_DLT_NULL, af_inet_be, 4, P4, sizeof P4, check_p4);
  link_case(CAP_DLT_NULL, af_inet6_30_le, 4, P6, sizeof P6, check_p6);
  link_case(CAP_DLT_NULL, af_inet6_28_be, 4, P6, sizeof P6, check_p6);
  link_case(CAP_DLT_NULL, af_inet6_24_le, 4, P6, sizeof P6, check_p6);
  /* DLT_LOOP is always network byte order */
  const uint8_t loop4[] = {0x00, 0x00, 0x00, 0x02};
  const uint8_t loop6[] = {0x00, 0x00, 0x00, 0x18};
  link_case(CAP_DLT_LOOP, loop4, 4, P4, sizeof P4, check_p4);
  link_case(CAP_DLT_LOOP, loop6, 4, P6, sizeof P6, check_p6);

  const uint8_t af_other[] = {0x07, 0x00, 0x00, 0x00, 0x45};
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_NULL, af_other, sizeof af_other), 0);
  CHECK_EQ_U(f.stats.non_ip, 1);
  fx_close(&f);
}

static void test_raw(void) {
  link_case(CAP_DLT_RAW, NULL, 0, P4, sizeof P4, check_p4);
  link_case(CAP_DLT_RAW, NULL, 0, P6, sizeof P6, check_p6);
  link_case(CAP_DLT_IPV4, NULL, 0, P4, sizeof P4, check_p4);
  link_case(CAP_DLT_IPV6, NULL, 0, P6, sizeof P6, check_p6);

  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_IPV4, P6, sizeof P6), 0); /* version 6 on an IPv4 link */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_IPV6, P4, sizeof P4), 0);
  uint8_t v5[sizeof P4];
  memcpy(v5, P4, sizeof P4);
  v5[0] = 0x55;
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, v5, sizeof v5), 0);
  CHECK_EQ_U(f.stats.malformed, 3);
  CHECK_EQ_U(f.stats.ip_packets, 0);
  fx_close(&f);
}

static void test_non_ip(void) {
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_EN10MB, ARP, sizeof ARP), 0);
  CHECK_EQ_U(f.stats.non_ip, 1);
  const uint8_t sll_arp[] = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x06, 0, 1};
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_LINUX_SLL, sll_arp, sizeof sll_arp), 0);
  CHECK_EQ_U(fx_decode(&f, 105, P4, sizeof P4), 0); /* unsupported link type */
  CHECK_EQ_U(f.stats.non_ip, 3);
  CHECK_EQ_U(f.stats.malformed + f.stats.ip_packets, 0);
  fx_close(&f);
}

static void test_short_link_headers(void) {
  const uint8_t eth_vlan[] = {ETH_MACS, 0x81, 0x00, 0x00}; /* tag cut */
  const uint8_t sll[12] = {0};
  const uint8_t sll2[19] = {0x08, 0x00};
  const uint8_t null2[] = {0x02, 0x00};
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_EN10MB, ARP, 10), 0);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_EN10MB, eth_vlan, sizeof eth_vlan), 0);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_LINUX_SLL, sll, sizeof sll), 0);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_LINUX_SLL2, sll2, sizeof sll2), 0);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_NULL, null2, sizeof null2), 0);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_LOOP, null2, sizeof null2), 0);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, P4, 0), 0);
  CHECK_EQ_U(cap_decode(f.dec, CAP_DLT_IPV4, NULL, 0, &f.pkt), 0);
  CHECK_EQ_U(f.stats.malformed, 8);
  CHECK_EQ_U(f.stats.truncated, 0);
  /* the same, cut by the snapshot length: truncated, not malformed */
  CHECK_EQ_U(fx_decode_cut(&f, CAP_DLT_EN10MB, ARP, 10, 60, 0), 0);
  CHECK_EQ_U(f.stats.truncated, 1);
  CHECK_EQ_U(f.stats.malformed, 8);
  CHECK_EQ_U(f.stats.ip_packets + f.stats.non_ip, 0);
  fx_close(&f);
}

/* ------------------------------------------------------------------ */
/* IPv4, IPv6, TCP, UDP                                                */

static void test_tcp_options(void) {
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, P4OPT, sizeof P4OPT), 1);
  CHECK(addr_is(&f.pkt.src, "198.51.100.7"));
  CHECK_EQ_U(f.pkt.src_port, 443);
  CHECK_EQ_U(f.pkt.dst_port, 49152);
  CHECK_EQ_U(f.pkt.tcp_seq, 4294967280u);
  CHECK_EQ_U(f.pkt.tcp_ack, 16909061);
  CHECK_EQ_U(f.pkt.tcp_flags, CAP_TCP_SYN | CAP_TCP_ACK);
  CHECK_EQ_U(f.pkt.payload_len, 0);
  CHECK_EQ_U(f.pkt.payload_wire_len, 0);
  CHECK(f.pkt.payload == f.copy + sizeof P4OPT);
  CHECK_EQ_U(f.stats.bad_checksum_l4 + f.stats.bad_checksum_ip, 0);
  CHECK_EQ_U(f.pkt.csum_verdict, CAP_CSUM_GOOD);
  /* the options as the comment on P4OPT decodes them by hand */
  CHECK_EQ_U(f.pkt.tcp_window, 0x7210);
  CHECK(f.pkt.tcp_wscale_sent);
  CHECK_EQ_U(f.pkt.tcp_wscale, 7);
  CHECK_EQ_U(f.pkt.tcp_mss, 1460);
  /* no SYN: options are not read; the window is */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, P4, sizeof P4), 1);
  CHECK_EQ_U(f.pkt.tcp_window, 0xffff);
  CHECK(!f.pkt.tcp_wscale_sent);
  CHECK_EQ_U(f.pkt.tcp_mss, 0);
  fx_close(&f);
}

static void test_ipv6_extension_headers(void) {
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, P6EXT, sizeof P6EXT), 1);
  CHECK(addr_is(&f.pkt.dst, "2001:db8::2"));
  CHECK_EQ_U(f.pkt.l4_proto, 6);
  CHECK_EQ_U(f.pkt.src_port, 49154);
  CHECK_EQ_U(f.pkt.dst_port, 8443);
  CHECK_EQ_U(f.pkt.tcp_seq, 7);
  CHECK_EQ_U(f.pkt.tcp_ack, 9);
  CHECK_EQ_U(f.pkt.tcp_flags, CAP_TCP_FIN | CAP_TCP_ACK);
  CHECK_EQ_U(f.pkt.payload_len, 3);
  CHECK_EQ_U(f.pkt.payload_wire_len, 3);
  CHECK(bytes_are(f.pkt.payload, f.pkt.payload_len, "ext", 3));
  CHECK_EQ_U(f.pkt.l3_len, sizeof P6EXT);
  CHECK(f.pkt.l3 == f.copy);

  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, P6RT, sizeof P6RT), 1);
  CHECK(addr_is(&f.pkt.dst, "2001:db8::2")); /* the header's, not the final one */
  CHECK_EQ_U(f.pkt.src_port, 49155);
  CHECK(bytes_are(f.pkt.payload, f.pkt.payload_len, "rt", 2));

  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, P6AH, sizeof P6AH), 1);
  CHECK_EQ_U(f.pkt.l4_proto, 6);
  CHECK_EQ_U(f.pkt.src_port, 49156);
  CHECK_EQ_U(f.pkt.payload_len, 2);
  CHECK(bytes_are(f.pkt.payload, f.pkt.payload_len, "ah", 2));

  CHECK_EQ_U(f.stats.ip_packets, 3);
  CHECK_EQ_U(f.stats.bad_checksum_l4, 0); /* P6RT verifies only with the final address */
  CHECK_EQ_U(f.stats.malformed, 0);
  fx_close(&f);
}

static void test_ipv6_other_and_bad(void) {
  uint8_t esp[40 + 16] = {0x60, 0, 0, 0, 0x00, 0x10, 50, 0x40, A6, B6}; /* ESP, 16 bytes */
  // clang-format off
  uint8_t none[40 + 8 + 4] = {0x60, 0, 0, 0, 0x00, 0x0c, 60, 0x40, A6, B6,
                              59, 0x00, 0x01, 0x04, 0, 0, 0, 0, /* DO, then no next header */
                              0xde, 0xad, 0xbe, 0xef};
  // clang-format on
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, esp, sizeof esp), 1);
  CHECK_EQ_U(f.pkt.l4_proto, 50);
  CHECK_EQ_U(f.pkt.src_port + f.pkt.dst_port, 0);
  CHECK_EQ_U(f.pkt.payload_len, 16);
  CHECK(f.pkt.payload == f.copy + 40);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, none, sizeof none), 1);
  CHECK_EQ_U(f.pkt.l4_proto, 59);
  CHECK_EQ_U(f.pkt.payload_len, 4);
  CHECK_EQ_U(f.stats.other_l4, 2);
  CHECK_EQ_U(f.stats.ip_packets, 2);

  uint8_t jumbo[sizeof P6];
  memcpy(jumbo, P6, sizeof P6);
  jumbo[4] = jumbo[5] = 0; /* payload length 0: jumbogram */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, jumbo, sizeof jumbo), 0);
  uint8_t long_ext[sizeof P6EXT];
  memcpy(long_ext, P6EXT, sizeof P6EXT);
  long_ext[41] = 0x20; /* hop-by-hop claims 264 bytes */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, long_ext, sizeof long_ext), 0);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, P6, 39), 0); /* shorter than the fixed header */
  CHECK_EQ_U(f.stats.malformed, 3);
  CHECK_EQ_U(f.stats.ip_packets, 2);
  fx_close(&f);
}

static void test_udp(void) {
  struct fx f;
  fx_open(&f);
  uint8_t udp[sizeof U4];
  memcpy(udp, U4, sizeof U4);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, udp, sizeof udp), 1);
  CHECK_EQ_U(f.pkt.l4_proto, 17);
  CHECK_EQ_U(f.pkt.src_port, 5353);
  CHECK_EQ_U(f.pkt.dst_port, 53);
  CHECK_EQ_U(f.pkt.payload_len, 4);
  CHECK(bytes_are(f.pkt.payload, f.pkt.payload_len, "abcd", 4));
  CHECK_EQ_U(f.stats.bad_checksum_l4, 0);
  udp[26] = udp[27] = 0; /* no checksum (RFC 768) */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, udp, sizeof udp), 1);
  CHECK_EQ_U(f.stats.bad_checksum_l4, 0);
  udp[26] = 0x39;
  udp[27] = 0xb6; /* off by one */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, udp, sizeof udp), 1);
  CHECK_EQ_U(f.pkt.dst_port, 53);
  CHECK_EQ_U(f.stats.bad_checksum_l4, 1);
  CHECK_EQ_U(f.stats.ip_packets, 3);
  fx_close(&f);
}

static void test_udp_length_lies(void) {
  struct fx f;
  fx_open(&f);
  uint8_t udp[sizeof U4];
  memcpy(udp, U4, sizeof U4);
  udp[25] = 13; /* longer than the IP payload */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, udp, sizeof udp), 0);
  udp[25] = 7; /* shorter than the UDP header */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, udp, sizeof udp), 0);
  CHECK_EQ_U(f.stats.malformed, 2);

  /* 11 < 12: the UDP length wins, "d" is trailing junk; checksum redone */
  udp[25] = 11;
  uint8_t pseudo[12] = {0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x07, 0, 17, 0, 11};
  udp[26] = udp[27] = 0;
  uint16_t sum = ref_fold(ref_sum(udp + 20, 11, ref_sum(pseudo, 12, 0)));
  udp[26] = (uint8_t)(sum >> 8);
  udp[27] = (uint8_t)sum;
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, udp, sizeof udp), 1);
  CHECK_EQ_U(f.pkt.payload_len, 3);
  CHECK_EQ_U(f.pkt.payload_wire_len, 3);
  CHECK(bytes_are(f.pkt.payload, f.pkt.payload_len, "abc", 3));
  CHECK_EQ_U(f.stats.bad_checksum_l4, 0);
  CHECK_EQ_U(f.stats.malformed, 2);
  fx_close(&f);
}

static void test_other_l4(void) {
  // clang-format off
  uint8_t icmp[28] = {0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0, 0,
                      0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x07, /* IPv4, ICMP */
                      0x08, 0x00, 0xf7, 0xfe, 0x00, 0x01, 0x00, 0x00}; /* echo request */
  // clang-format on
  ref_fix_ipv4(icmp);
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_IPV4, icmp, sizeof icmp), 1);
  CHECK_EQ_U(f.pkt.l4_proto, 1);
  CHECK_EQ_U(f.pkt.src_port + f.pkt.dst_port, 0);
  CHECK_EQ_U(f.pkt.payload_len, 8);
  CHECK_EQ_U(f.pkt.payload_wire_len, 8);
  CHECK(f.pkt.payload == f.copy + 20);
  CHECK_EQ_U(f.stats.other_l4, 1);
  CHECK_EQ_U(f.stats.ip_packets, 1);
  CHECK_EQ_U(f.stats.bad_checksum_ip, 0);
  fx_close(&f);
}

static void test_truncated_by_snaplen(void) {
  uint8_t frame[128] = {ETH_MACS, 0x08, 0x00};
  size_t len = 14 + sizeof P4;
  memcpy(frame + 14, P4, sizeof P4);
  struct fx f;
  fx_open(&f);
  /* 3 of the 5 payload bytes cut */
  CHECK_EQ_U(fx_decode_cut(&f, CAP_DLT_EN10MB, frame, len - 3, len, 0), 1);
  CHECK(f.pkt.truncated);
  CHECK_EQ_U(f.pkt.payload_len, 2);
  CHECK_EQ_U(f.pkt.payload_wire_len, 5);
  CHECK_EQ_U(f.pkt.l3_len, 42);
  CHECK_EQ_U(f.pkt.src_port, 49152);
  CHECK_EQ_U(f.stats.truncated, 1);
  CHECK_EQ_U(f.stats.bad_checksum_l4, 0); /* not verifiable, so not verified */
  CHECK_EQ_U(f.stats.ip_packets, 1);
  /* cut inside the TCP header, then inside the IP header */
  CHECK_EQ_U(fx_decode_cut(&f, CAP_DLT_EN10MB, frame, 14 + 30, len, 0), 0);
  CHECK_EQ_U(f.stats.truncated, 2);
  CHECK_EQ_U(fx_decode_cut(&f, CAP_DLT_EN10MB, frame, 14 + 10, len, 0), 0);
  CHECK_EQ_U(f.stats.truncated, 3);
  CHECK_EQ_U(f.stats.malformed, 0);

  /* IPv6 cut inside the extension headers */
  frame[12] = 0x86;
  frame[13] = 0xdd;
  memcpy(frame + 14, P6EXT, sizeof P6EXT);
  CHECK_EQ_U(fx_decode_cut(&f, CAP_DLT_EN10MB, frame, 14 + 60, 14 + sizeof P6EXT, 0), 0);
  CHECK_EQ_U(f.stats.truncated, 4);
  CHECK_EQ_U(f.stats.malformed, 0);
  fx_close(&f);
}

static void test_bad_checksums_still_decoded(void) {
  uint8_t bad_ip[sizeof P4], bad_tcp[sizeof P4];
  memcpy(bad_ip, P4, sizeof P4);
  bad_ip[11] ^= 0x01;
  memcpy(bad_tcp, P4, sizeof P4);
  bad_tcp[40] = 'j'; /* "jello": the TCP checksum no longer verifies */
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, bad_ip, sizeof bad_ip), 1);
  CHECK_EQ_U(f.pkt.src_port, 49152);
  CHECK_EQ_U(f.stats.bad_checksum_ip, 1);
  CHECK_EQ_U(f.stats.bad_checksum_l4, 0);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, bad_tcp, sizeof bad_tcp), 1);
  CHECK(bytes_are(f.pkt.payload, f.pkt.payload_len, "jello", 5));
  CHECK_EQ_U(f.pkt.csum_verdict, CAP_CSUM_BAD); /* the flow table decides */
  CHECK_EQ_U(f.stats.bad_checksum_ip, 1);
  CHECK_EQ_U(f.stats.bad_checksum_l4, 1);
  CHECK_EQ_U(f.stats.ip_packets, 2);
  CHECK_EQ_U(f.stats.malformed, 0);
  fx_close(&f);
}

static void test_malformed_headers(void) {
  struct fx f;
  fx_open(&f);
  uint8_t pkt[sizeof P4];
  memcpy(pkt, P4, sizeof P4);
  pkt[0] = 0x44; /* IHL 4 */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, sizeof pkt), 0);
  memcpy(pkt, P4, sizeof P4);
  pkt[3] = 19; /* total length below the header */
  ref_fix_ipv4(pkt);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, sizeof pkt), 0);
  memcpy(pkt, P4, sizeof P4);
  pkt[0] = 0x4f; /* IHL 15: 60 bytes, more than the 45 there are */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, sizeof pkt), 0);
  memcpy(pkt, P4, sizeof P4);
  pkt[32] = 0xf0; /* TCP data offset 15: 60 > 25 */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, sizeof pkt), 0);
  pkt[32] = 0x40; /* data offset 4 */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, sizeof pkt), 0);
  memcpy(pkt, P4, sizeof P4);
  pkt[3] = 39; /* IP says 19 bytes of TCP: less than a TCP header */
  ref_fix_ipv4(pkt);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, sizeof pkt), 0);
  CHECK_EQ_U(f.stats.malformed, 6);
  CHECK_EQ_U(f.stats.truncated, 0);
  fx_close(&f);
}

/* ------------------------------------------------------------------ */
/* Fragments                                                           */

/* An IPv4 fragment of U4BIG: payload bytes [off, off + len) (or `data`). */
static size_t v4_frag(uint8_t *out, size_t off, size_t len, bool more, const uint8_t *data) {
  memcpy(out, U4BIG, 20);
  out[2] = (uint8_t)((20 + len) >> 8);
  out[3] = (uint8_t)(20 + len);
  out[6] = (uint8_t)((more ? 0x20 : 0) | (off / 8) >> 8);
  out[7] = (uint8_t)(off / 8);
  ref_fix_ipv4(out);
  memcpy(out + 20, data ? data : U4BIG + 20 + off, len);
  return 20 + len;
}

static int feed_v4(struct fx *f, size_t off, size_t len, bool more, cap_time_us ts) {
  uint8_t pkt[128];
  size_t n = v4_frag(pkt, off, len, more, NULL);
  return fx_decode_cut(f, CAP_DLT_RAW, pkt, n, n, ts);
}

static void check_u4big(const struct fx *f, int ret) {
  CHECK_EQ_U(ret, 1);
  CHECK(f->pkt.reassembled);
  CHECK_EQ_U(f->pkt.l4_proto, 17);
  CHECK_EQ_U(f->pkt.src_port, 1111);
  CHECK_EQ_U(f->pkt.dst_port, 2222);
  CHECK_EQ_U(f->pkt.payload_len, 40);
  CHECK_EQ_U(f->pkt.payload_wire_len, 40);
  CHECK(bytes_are(f->pkt.payload, f->pkt.payload_len, U4BIG + 28, 40));
  /* the rebuilt header is the original one: length patched, MF/offset
   * cleared, checksum recomputed */
  CHECK_EQ_U(f->pkt.l3_len, sizeof U4BIG);
  CHECK(bytes_are(f->pkt.l3, f->pkt.l3_len, U4BIG, sizeof U4BIG));
  CHECK_EQ_U(f->stats.reassembled, 1);
  CHECK_EQ_U(f->stats.ip_packets, 1);
  CHECK_EQ_U(f->stats.bad_checksum_l4 + f->stats.bad_checksum_ip, 0);
  CHECK_EQ_U(f->stats.malformed, 0);
}

static void test_ipv4_fragments_in_order(void) {
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(feed_v4(&f, 0, 16, true, 0), 0);
  CHECK_EQ_U(f.stats.ip_packets, 0);
  CHECK_EQ_U(feed_v4(&f, 16, 16, true, 0), 0);
  check_u4big(&f, feed_v4(&f, 32, 16, false, 0));
  CHECK_EQ_U(f.stats.fragments, 3);
  CHECK_EQ_U(f.pkt.frame, 7);
  fx_close(&f);
  CHECK_EQ_U(f.stats.frag_timeouts, 0); /* nothing left behind */
}

/* A 1028-byte IPv4/UDP datagram (RFC 768: checksum 0, none) of 1000
 * payload bytes i & 0xff, fragmented by hand: [off, off + len). */
#define BIG_UDP 1008
static size_t big_frag(uint8_t *out, size_t off, size_t len, bool more) {
  uint8_t udp[BIG_UDP] = {0x04, 0x57, 0x08, 0xae, BIG_UDP >> 8, BIG_UDP & 0xff, 0, 0};
  for (size_t i = 8; i < BIG_UDP; i++)
    udp[i] = (uint8_t)(i - 8);
  static const uint8_t hdr[20] = {0x45, 0, 0,  0, 0x12, 0x34, 0,  0, 64, 17,
                                  0,    0, 10, 0, 0,    1,    10, 0, 0,  2};
  memcpy(out, hdr, 20);
  out[2] = (uint8_t)((20 + len) >> 8);
  out[3] = (uint8_t)(20 + len);
  out[6] = (uint8_t)((more ? 0x20 : 0) | (off / 8) >> 8);
  out[7] = (uint8_t)(off / 8);
  ref_fix_ipv4(out);
  memcpy(out + 20, udp + off, len);
  return 20 + len;
}

static int feed_big(struct fx *f, size_t off, size_t len) {
  uint8_t pkt[20 + BIG_UDP];
  size_t n = big_frag(pkt, off, len, off + len < BIG_UDP);
  return fx_decode_cut(f, CAP_DLT_RAW, pkt, n, n, 0);
}

static bool big_payload_ok(const struct fx *f) {
  if (f->pkt.payload_len != BIG_UDP - 8)
    return false;
  for (size_t i = 0; i < BIG_UDP - 8; i++)
    if (f->pkt.payload[i] != (uint8_t)i)
      return false;
  return true;
}

/* 8-byte fragments (the smallest, RFC 791) in order and in reverse: the
 * datagram comes out whole either way. */
static void test_ipv4_tiny_fragments(void) {
  struct fx f;
  fx_open(&f);
  int ret = 0;
  for (size_t off = 0; off < BIG_UDP; off += 8)
    ret = feed_big(&f, off, 8);
  CHECK_EQ_U(ret, 1);
  CHECK(big_payload_ok(&f));
  CHECK_EQ_U(f.stats.cap_frag, 0);
  fx_close(&f);

  fx_open(&f);
  for (size_t k = 0; k < 62; k++) /* the last 496 bytes, last first */
    ret = feed_big(&f, BIG_UDP - 8 - 8 * k, 8);
  CHECK_EQ_U(ret, 0);
  ret = feed_big(&f, 0, BIG_UDP - 496); /* then the front in one */
  CHECK_EQ_U(ret, 1);
  CHECK(big_payload_ok(&f));
  fx_close(&f);
}

/* Pieces are bounded: 8-byte fragments in reverse each start a piece of
 * their own; 64 are held, the 65th is refused and counted, and the
 * datagram never completes. */
static void test_ipv4_fragment_piece_cap(void) {
  struct fx f;
  fx_open(&f);
  for (size_t k = 0; k < 64; k++)
    CHECK_EQ_U(feed_big(&f, BIG_UDP - 8 - 8 * k, 8), 0);
  CHECK_EQ_U(f.stats.cap_frag, 0);
  CHECK_EQ_U(feed_big(&f, BIG_UDP - 8 - 8 * 64, 8), 0);
  CHECK_EQ_U(f.stats.cap_frag, 1);
  CHECK_EQ_U(feed_big(&f, 0, BIG_UDP - 8 - 8 * 64), 0);
  CHECK_EQ_U(f.stats.reassembled, 0);
  fx_close(&f);
}

static void test_ipv4_fragments_out_of_order(void) {
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(feed_v4(&f, 32, 16, false, 0), 0);
  CHECK_EQ_U(feed_v4(&f, 0, 16, true, 0), 0);
  check_u4big(&f, feed_v4(&f, 16, 16, true, 0));
  CHECK_EQ_U(f.stats.fragments, 3);
  fx_close(&f);
}

static void test_ipv4_fragments_overlap_first_wins(void) {
  uint8_t junk[24], pkt[128];
  memset(junk, 0xee, sizeof junk);
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(feed_v4(&f, 8, 16, true, 0), 0); /* [8, 24) */
  size_t n = v4_frag(pkt, 0, 24, true, junk); /* [0, 24): only [0, 8) is new */
  memcpy(pkt + 20, U4BIG + 20, 8);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, n), 0);
  n = v4_frag(pkt, 16, 24, true, junk); /* [16, 40): [24, 40) new, taken from here */
  memcpy(pkt + 20 + 8, U4BIG + 20 + 24, 16);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, n), 0);
  n = v4_frag(pkt, 8, 8, true, junk); /* a duplicate of held bytes */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, n), 0);
  check_u4big(&f, feed_v4(&f, 40, 8, false, 0));
  CHECK_EQ_U(f.stats.fragments, 5);
  fx_close(&f);
}

static void test_ipv4_fragment_errors(void) {
  uint8_t pkt[128], zeros[16] = {0};
  struct fx f;
  fx_open(&f);
  CHECK_EQ_U(feed_v4(&f, 0, 12, true, 0), 0); /* not a multiple of 8 */
  CHECK_EQ_U(f.stats.malformed, 1);
  size_t n = v4_frag(pkt, 65528, 16, false, zeros); /* ends past 65535 */
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, pkt, n), 0);
  CHECK_EQ_U(f.stats.malformed, 2);
  CHECK_EQ_U(feed_v4(&f, 0, 32, true, 0), 0);
  CHECK_EQ_U(feed_v4(&f, 16, 8, false, 0), 0); /* ends before held bytes */
  CHECK_EQ_U(f.stats.malformed, 3);
  CHECK_EQ_U(feed_v4(&f, 32, 16, false, 0), 1); /* the real end still completes */
  CHECK_EQ_U(f.pkt.payload_len, 40);
  CHECK_EQ_U(f.stats.reassembled, 1);
  /* a fragment cut by the snaplen is counted and dropped */
  n = v4_frag(pkt, 0, 16, true, NULL);
  CHECK_EQ_U(fx_decode_cut(&f, CAP_DLT_RAW, pkt, n - 4, n, 0), 0);
  CHECK_EQ_U(f.stats.truncated, 1);
  CHECK_EQ_U(f.stats.fragments, 6);
  fx_close(&f);
  CHECK_EQ_U(f.stats.frag_timeouts, 0); /* the cut one was not held */
}

/* IPv6 fragment of U6BIG's UDP datagram, preceded by a destination options
 * header in the fragmentable part; hop-by-hop in the unfragmentable part. */
static size_t v6_frag(uint8_t *out, size_t off, size_t len, bool more) {
  uint8_t fragmentable[8 + 48] = {17, 0x00, 0x01, 0x04, 0, 0, 0, 0}; /* DO -> UDP */
  memcpy(fragmentable + 8, U6BIG + 40, 48);
  memcpy(out, U6BIG, 40);
  out[4] = 0;
  out[5] = (uint8_t)(8 + 8 + len);
  out[6] = 0; /* hop-by-hop */
  // clang-format off
  const uint8_t hbh[8] = {44, 0x00, 0x01, 0x04, 0, 0, 0, 0};  /* -> fragment */
  const uint8_t fh[8] = {60, 0,                               /* -> DO; reserved */
                         (uint8_t)(off >> 8), (uint8_t)((off & 0xf8) | more),
                         0xde, 0xad, 0xbe, 0xef};             /* id */
  // clang-format on
  memcpy(out + 40, hbh, 8);
  memcpy(out + 48, fh, 8);
  memcpy(out + 56, fragmentable + off, len);
  return 56 + len;
}

static void test_ipv6_fragments(void) {
  uint8_t pkt[128];
  struct fx f;
  fx_open(&f);
  size_t n = v6_frag(pkt, 24, 24, true);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_IPV6, pkt, n), 0);
  n = v6_frag(pkt, 48, 8, false);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_IPV6, pkt, n), 0);
  n = v6_frag(pkt, 0, 24, true);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_IPV6, pkt, n), 1);
  CHECK(f.pkt.reassembled);
  CHECK_EQ_U(f.pkt.l4_proto, 17);
  CHECK_EQ_U(f.pkt.src_port, 3333);
  CHECK_EQ_U(f.pkt.dst_port, 4444);
  CHECK_EQ_U(f.pkt.payload_len, 40);
  CHECK(bytes_are(f.pkt.payload, f.pkt.payload_len, U6BIG + 48, 40));
  /* rebuilt: 40-byte header, next header UDP, extension headers dropped */
  CHECK_EQ_U(f.pkt.l3_len, sizeof U6BIG);
  CHECK(bytes_are(f.pkt.l3, f.pkt.l3_len, U6BIG, sizeof U6BIG));
  CHECK_EQ_U(f.stats.fragments, 3);
  CHECK_EQ_U(f.stats.reassembled, 1);
  CHECK_EQ_U(f.stats.ip_packets, 1);
  CHECK_EQ_U(f.stats.bad_checksum_l4, 0);
  CHECK_EQ_U(f.stats.malformed, 0);
  fx_close(&f);
}

static void test_fragment_caps(void) {
  struct fx f;
  fx_open(&f);
  f.lim.frag_datagrams = 1;
  cap_decoder_free(f.dec);
  f.dec = cap_decoder_new(&f.lim, &f.stats);
  uint8_t other[128];
  size_t n = v4_frag(other, 0, 16, true, NULL);
  other[5] = 0x52; /* id 0x5152: a second datagram */
  ref_fix_ipv4(other);
  CHECK_EQ_U(feed_v4(&f, 0, 16, true, 0), 0);
  CHECK_EQ_U(fx_decode(&f, CAP_DLT_RAW, other, n), 0);
  CHECK_EQ_U(f.stats.cap_frag, 1);
  CHECK_EQ_U(feed_v4(&f, 16, 16, true, 0), 0);
  check_u4big(&f, feed_v4(&f, 32, 16, false, 0));
  fx_close(&f);

  fx_open(&f);
  f.lim.frag_bytes = 40; /* the datagram needs 48 */
  cap_decoder_free(f.dec);
  f.dec = cap_decoder_new(&f.lim, &f.stats);
  CHECK_EQ_U(feed_v4(&f, 0, 16, true, 0), 0);
  CHECK_EQ_U(feed_v4(&f, 16, 16, true, 0), 0);
  CHECK_EQ_U(feed_v4(&f, 16, 8, true, 0), 0); /* held already: no new bytes, no cap */
  CHECK_EQ_U(f.stats.cap_frag, 0);
  CHECK_EQ_U(feed_v4(&f, 32, 16, false, 0), 0);
  CHECK_EQ_U(f.stats.cap_frag, 1);
  CHECK_EQ_U(f.stats.reassembled, 0);
  CHECK_EQ_U(f.stats.fragments, 4);
  fx_close(&f);
  CHECK_EQ_U(f.stats.frag_timeouts, 1); /* freed with a datagram never completed */
}

static void test_fragment_timeout(void) {
  const cap_time_us second = 1000000;
  struct fx f;
  fx_open(&f);
  f.lim.frag_timeout = 2 * second;
  cap_decoder_free(f.dec);
  f.dec = cap_decoder_new(&f.lim, &f.stats);
  CHECK_EQ_U(feed_v4(&f, 0, 16, true, 10 * second), 0);
  CHECK_EQ_U(feed_v4(&f, 16, 16, true, 12 * second), 0); /* exactly 2 s: still in time */
  CHECK_EQ_U(f.stats.frag_timeouts, 0);
  CHECK_EQ_U(feed_v4(&f, 32, 16, false, 12 * second + 1), 0); /* too late: dropped */
  CHECK_EQ_U(f.stats.frag_timeouts, 1);
  CHECK_EQ_U(f.stats.reassembled, 0);
  /* the late fragment began a new datagram, which completes in time */
  CHECK_EQ_U(feed_v4(&f, 0, 16, true, 13 * second), 0);
  check_u4big(&f, feed_v4(&f, 16, 16, true, 14 * second));
  CHECK_EQ_U(f.stats.fragments, 5);
  fx_close(&f);
  CHECK_EQ_U(f.stats.frag_timeouts, 1);
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */

static void test_endpoint_str(void) {
  char buf[CAP_ENDPOINT_STRLEN];
  struct cap_addr v4 = {4, {192, 0, 2, 1}};
  struct cap_addr v6 = {6, {A6}};
  struct cap_addr v6full = {6, {0xfe, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}};
  cap_endpoint_str(&v4, 443, buf, sizeof buf);
  CHECK_STR(buf, "192.0.2.1:443");
  cap_endpoint_str(&v6, 443, buf, sizeof buf);
  CHECK_STR(buf, "[2001:db8::1]:443");
  cap_endpoint_str(&v6full, 65535, buf, sizeof buf);
  CHECK_STR(buf, "[fe80:102:304:506:708:90a:b0c:d0e]:65535");
  cap_endpoint_str(&v4, 0, buf, 6); /* cut, still terminated */
  CHECK_STR(buf, "192.0");
}

static void test_time_str(void) {
  char buf[CAP_TIME_STRLEN];
  cap_time_str(0, buf, sizeof buf);
  CHECK_STR(buf, "1970-01-01T00:00:00.000000Z");
  cap_time_str(1396951323123456LL, buf, sizeof buf); /* date -u -d @1396951323 */
  CHECK_STR(buf, "2014-04-08T10:02:03.123456Z");
  cap_time_str(-1, buf, sizeof buf);
  CHECK_STR(buf, "1969-12-31T23:59:59.999999Z");
  cap_time_str(-1500000, buf, sizeof buf);
  CHECK_STR(buf, "1969-12-31T23:59:58.500000Z");
  cap_time_str(-86400LL * 1000000, buf, sizeof buf);
  CHECK_STR(buf, "1969-12-31T00:00:00.000000Z");
  cap_time_str(-2147483648LL * 1000000 + 1, buf, sizeof buf); /* date -u -d @-2147483648 */
  CHECK_STR(buf, "1901-12-13T20:45:52.000001Z");
  cap_time_str(253402300799999999LL, buf, sizeof buf); /* date -u -d @253402300799 */
  CHECK_STR(buf, "9999-12-31T23:59:59.999999Z");
  cap_time_str(253402300800000000LL, buf, sizeof buf); /* five-digit year */
  CHECK_STR(buf, "10000-01-01T00:00:00.000000Z");
  cap_time_str(-62167219200000000LL, buf, sizeof buf); /* date -u -d @-62167219200 */
  CHECK_STR(buf, "0000-01-01T00:00:00.000000Z");
  cap_time_str(-62167219200000001LL, buf, sizeof buf);
  CHECK_STR(buf, "-001-12-31T23:59:59.999999Z");
  cap_time_str(1396951323123456LL, buf, 11); /* cut, still terminated */
  CHECK_STR(buf, "2014-04-08");
}

/* The hand-written digits agree with libc's gmtime_r + snprintf. */
static void test_time_str_matches_libc(void) {
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    cap_time_us ts = (cap_time_us)(x % 400000000000000000ULL) - 100000000000000000LL;
    time_t secs = (time_t)(ts / 1000000 - (ts % 1000000 < 0));
    int micros = (int)((ts % 1000000 + 1000000) % 1000000);
    struct tm tm;
    char want[64], got[CAP_TIME_STRLEN];
    CHECK(gmtime_r(&secs, &tm) != NULL);
    snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
    cap_time_str(ts, got, sizeof got);
    CHECK_STR(got, want);
  }
}

int main(void) {
  RUN(test_ref_checksum_agrees_with_tshark);
  RUN(test_linktype_supported);
  RUN(test_ethernet);
  RUN(test_ethernet_padding_trimmed);
  RUN(test_vlan_tags);
  RUN(test_linux_sll);
  RUN(test_null_and_loop);
  RUN(test_raw);
  RUN(test_non_ip);
  RUN(test_short_link_headers);
  RUN(test_tcp_options);
  RUN(test_ipv6_extension_headers);
  RUN(test_ipv6_other_and_bad);
  RUN(test_udp);
  RUN(test_udp_length_lies);
  RUN(test_other_l4);
  RUN(test_truncated_by_snaplen);
  RUN(test_bad_checksums_still_decoded);
  RUN(test_malformed_headers);
  RUN(test_ipv4_fragments_in_order);
  RUN(test_ipv4_fragments_out_of_order);
  RUN(test_ipv4_tiny_fragments);
  RUN(test_ipv4_fragment_piece_cap);
  RUN(test_ipv4_fragments_overlap_first_wins);
  RUN(test_ipv4_fragment_errors);
  RUN(test_ipv6_fragments);
  RUN(test_fragment_caps);
  RUN(test_fragment_timeout);
  RUN(test_endpoint_str);
  RUN(test_time_str);
  RUN(test_time_str_matches_libc);
  return harness_done();
}
