/*
 * tests/unit/test_peek.c - cap_peek_tuple (the -j routing peek) against the
 * full decoder, cap_decode.
 *
 * -j routes a frame by the peek's tuple without decoding it, so the peek
 * must give exactly the decoder's tuple.  The rules checked for every frame
 * (P: the peek says true, D: cap_decode returns 1):
 *  - P: no fragment was counted, and either D with the same addresses,
 *    ports and protocol (not reassembled), or not D and the decoder counted
 *    the frame malformed or truncated (the peek reads only the fixed
 *    headers and the ports: it cannot see a lying length further on).
 *  - D, TCP or UDP, not rebuilt from fragments, its TCP/UDP header right
 *    after the fixed IP header: P.  So the peek may answer false only for
 *    what it documents: fragments (first and later: reassembly decides),
 *    IPv6 extension headers (RFC 8200 4: not walked), protocols other than
 *    TCP and UDP, and frames the decoder does not take.
 *  - a counted fragment: not P.
 * "Right after the fixed header" is read here from the IPv6 header's Next
 * Header byte (offset 6, RFC 8200 3) of the decoded packet, independently
 * of both functions.
 *
 * Frames: hand-built (every link type, tags, options, extension headers,
 * fragments, non-IP, every truncation of each), then every packet of the
 * captures in samples/ and ../shared/corpus/pcaps/ read with libpcap.
 */
#include "capture/capture.h"
#include "harness.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct tally {
  unsigned frames, peeked, decoded, fragments, other;
};

static bool tuple_eq(const struct cap_tuple *t, const struct cap_packet *p) {
  return t->src.family == p->src.family && t->dst.family == p->dst.family &&
         memcmp(t->src.bytes, p->src.bytes, 16) == 0 &&
         memcmp(t->dst.bytes, p->dst.bytes, 16) == 0 && t->src_port == p->src_port &&
         t->dst_port == p->dst_port && t->proto == p->l4_proto;
}

/* The rules above for one frame; dec keeps its reassembly across frames. */
static bool check_frame(struct cap_decoder *dec, struct cap_stats *st, int dlt,
                        const uint8_t *frame, size_t caplen, size_t wire_len, struct tally *n) {
  struct cap_tuple t;
  bool peeked = cap_peek_tuple(dlt, frame, caplen, &t);
  struct cap_stats before = *st;
  struct cap_packet pkt = {.frame = 1, .wire_len = (uint32_t)wire_len, .cap_len = (uint32_t)caplen};
  bool decoded = cap_decode(dec, dlt, frame, caplen, &pkt) == 1;
  bool fragment = st->fragments != before.fragments;
  bool refused = st->malformed != before.malformed || st->truncated != before.truncated;
  bool tcp_udp = decoded && (pkt.l4_proto == 6 || pkt.l4_proto == 17);
  bool ext_headers = decoded && pkt.src.family == 6 && pkt.l3_len > 6 && pkt.l3[6] != pkt.l4_proto;
  bool ok = true;
  n->frames++;
  n->peeked += peeked;
  n->decoded += decoded;
  n->fragments += fragment;
  if (peeked) {
    ok = ok && !fragment;
    if (decoded)
      ok = ok && tuple_eq(&t, &pkt) && !pkt.reassembled;
    else
      ok = ok && refused;
  } else {
    n->other += decoded && !tcp_udp;
  }
  if (tcp_udp && !pkt.reassembled && !ext_headers)
    ok = ok && peeked;
  if (!ok)
    fprintf(stderr, "  dlt %d caplen %zu: peek %d decode %d fragment %d refused %d\n", dlt, caplen,
            peeked, decoded, fragment, refused);
  return ok;
}

struct fixture {
  struct cap_limits lim;
  struct cap_stats stats;
  struct cap_decoder *dec;
};

static void fixture_init(struct fixture *f) {
  memset(f, 0, sizeof(*f));
  cap_limits_default(&f->lim);
  f->dec = cap_decoder_new(&f->lim, &f->stats);
}

/* The frame whole, then cut to every shorter length (a snapshot length),
 * each with a decoder of its own. */
static bool check_all_cuts(int dlt, const uint8_t *frame, size_t len, struct tally *n) {
  bool ok = true;
  for (size_t cut = len + 1; cut-- > 0;) {
    struct fixture f;
    fixture_init(&f);
    ok = check_frame(f.dec, &f.stats, dlt, frame, cut, len, n) && ok;
    cap_decoder_free(f.dec);
  }
  return ok;
}

/* ---- hand-built frames ---- */

// clang-format off
/* IPv4/TCP 192.0.2.1:49152 -> 198.51.100.7:443 (RFC 791, RFC 9293). */
static const uint8_t IP4_TCP[] = {
    0x45, 0x00, 0x00, 0x2c, /* version 4, IHL 5; total length 44 */
    0x12, 0x34, 0x40, 0x00, /* id; DF, offset 0 */
    0x40, 0x06, 0x00, 0x00, /* TTL; TCP; checksum (not checked here) */
    0xc0, 0x00, 0x02, 0x01, /* 192.0.2.1 */
    0xc6, 0x33, 0x64, 0x07, /* 198.51.100.7 */
    0xc0, 0x00, 0x01, 0xbb, /* ports 49152 -> 443 */
    0, 0, 0, 1, 0, 0, 0, 0, /* seq, ack */
    0x50, 0x18, 0xff, 0xff, /* data offset 5; PSH|ACK; window */
    0x00, 0x00, 0x00, 0x00, /* checksum; urgent */
    'a', 'b', 'c', 'd',
};
/* IPv4 with 4 bytes of options (IHL 6)/UDP 10.0.0.1:5353 -> 10.0.0.2:53. */
static const uint8_t IP4_OPT_UDP[] = {
    0x46, 0x00, 0x00, 0x24, /* IHL 6; total length 36 */
    0x00, 0x01, 0x00, 0x00,
    0x40, 0x11, 0x00, 0x00, /* UDP */
    0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02,
    0x01, 0x01, 0x01, 0x00, /* options: NOP NOP NOP EOL */
    0x14, 0xe9, 0x00, 0x35, /* ports 5353 -> 53 */
    0x00, 0x0c, 0x00, 0x00, /* length 12; no checksum */
    'w', 'x', 'y', 'z',
};
/* IPv4/ICMP echo: neither TCP nor UDP. */
static const uint8_t IP4_ICMP[] = {
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* IPv6/UDP [2001:db8::1]:5000 -> [2001:db8::2]:443 (RFC 8200 3). */
#define A6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
#define B6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02
static const uint8_t IP6_UDP[] = {
    0x60, 0x00, 0x00, 0x00,
    0x00, 0x0c, 0x11, 0x40, /* payload length 12; UDP */
    A6, B6,
    0x13, 0x88, 0x01, 0xbb, /* ports 5000 -> 443 */
    0x00, 0x0c, 0x00, 0x00, /* length 12; checksum */
    'q', 'u', 'i', 'c',
};
/* IPv6, hop-by-hop options, then TCP 49154 -> 8443. */
static const uint8_t IP6_HBH_TCP[] = {
    0x60, 0x00, 0x00, 0x00,
    0x00, 0x1c, 0x00, 0x40, /* payload length 28; hop-by-hop */
    A6, B6,
    0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* HBH: next TCP; PadN(4) */
    0xc0, 0x02, 0x20, 0xfb, /* ports 49154 -> 8443 */
    0, 0, 0, 7, 0, 0, 0, 9,
    0x50, 0x10, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};
/* IPv6 atomic fragment (RFC 6946: offset 0, M 0), then TCP. */
static const uint8_t IP6_ATOMIC_TCP[] = {
    0x60, 0x00, 0x00, 0x00,
    0x00, 0x1c, 0x2c, 0x40, /* payload length 28; fragment */
    A6, B6,
    0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbe, 0xef, /* next TCP; offset 0, M 0; id */
    0xc0, 0x05, 0x01, 0xbb,
    0, 0, 0, 1, 0, 0, 0, 0,
    0x50, 0x10, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};
/* IPv6 datagram in two fragments (RFC 8200 4.5): UDP 5001 -> 443, 16 bytes. */
static const uint8_t IP6_FRAG1[] = {
    0x60, 0x00, 0x00, 0x00,
    0x00, 0x10, 0x2c, 0x40, /* payload length 16; fragment */
    A6, B6,
    0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, /* next UDP; offset 0, M 1; id 7 */
    0x13, 0x89, 0x01, 0xbb, 0x00, 0x10, 0x00, 0x00, /* UDP: length 16 */
};
static const uint8_t IP6_FRAG2[] = {
    0x60, 0x00, 0x00, 0x00,
    0x00, 0x10, 0x2c, 0x40,
    A6, B6,
    0x11, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x07, /* offset 8, M 0; id 7 */
    '1', '2', '3', '4', '5', '6', '7', '8',
};
// clang-format on

/* A link header, then an IP packet. */
static size_t framed(uint8_t *out, const uint8_t *link, size_t link_len, const uint8_t *ip,
                     size_t ip_len) {
  if (link_len) /* raw IP has no link header: link is NULL */
    memcpy(out, link, link_len);
  memcpy(out + link_len, ip, ip_len);
  return link_len + ip_len;
}

#define ETH_MACS 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11

static void test_link_types(void) {
  static const uint8_t eth4[] = {ETH_MACS, 0x08, 0x00};
  static const uint8_t eth6[] = {ETH_MACS, 0x86, 0xdd};
  static const uint8_t vlan4[] = {ETH_MACS, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00};
  static const uint8_t qinq6[] = {ETH_MACS, 0x88, 0xa8, 0x00, 0x0a, 0x81,
                                  0x00,     0x00, 0x14, 0x86, 0xdd};
  static const uint8_t old_qinq4[] = {ETH_MACS, 0x91, 0x00, 0x00, 0x0a, 0x08, 0x00};
  static const uint8_t arp[] = {ETH_MACS, 0x08, 0x06};
  /* SLL: packet type, ARPHRD, address length, 8 address bytes, protocol */
  static const uint8_t sll4[] = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
  /* SLL2: protocol, reserved, ifindex, ARPHRD, type, address length, address */
  static const uint8_t sll2_6[] = {0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1,
                                   0,    6,    1, 2, 3, 4, 5, 6, 0, 0};
  static const uint8_t null_le4[] = {2, 0, 0, 0};   /* AF_INET, little-endian host */
  static const uint8_t null_be6[] = {0, 0, 0, 30};  /* AF_INET6 (macOS), big-endian */
  static const uint8_t loop6[] = {0, 0, 0, 24};     /* LOOP: network order, AF_INET6 (BSD) */
  static const uint8_t loop_other[] = {0, 0, 0, 7}; /* neither */
  struct {
    int dlt;
    const uint8_t *link;
    size_t link_len;
    const uint8_t *ip;
    size_t ip_len;
  } cases[] = {
      {CAP_DLT_EN10MB, eth4, sizeof eth4, IP4_TCP, sizeof IP4_TCP},
      {CAP_DLT_EN10MB, eth4, sizeof eth4, IP4_OPT_UDP, sizeof IP4_OPT_UDP},
      {CAP_DLT_EN10MB, eth4, sizeof eth4, IP4_ICMP, sizeof IP4_ICMP},
      {CAP_DLT_EN10MB, eth6, sizeof eth6, IP6_UDP, sizeof IP6_UDP},
      {CAP_DLT_EN10MB, eth6, sizeof eth6, IP6_HBH_TCP, sizeof IP6_HBH_TCP},
      {CAP_DLT_EN10MB, eth6, sizeof eth6, IP6_ATOMIC_TCP, sizeof IP6_ATOMIC_TCP},
      {CAP_DLT_EN10MB, vlan4, sizeof vlan4, IP4_TCP, sizeof IP4_TCP},
      {CAP_DLT_EN10MB, qinq6, sizeof qinq6, IP6_UDP, sizeof IP6_UDP},
      {CAP_DLT_EN10MB, old_qinq4, sizeof old_qinq4, IP4_OPT_UDP, sizeof IP4_OPT_UDP},
      {CAP_DLT_EN10MB, arp, sizeof arp, IP4_TCP, sizeof IP4_TCP},
      {CAP_DLT_EN10MB, eth4, sizeof eth4, IP6_UDP, sizeof IP6_UDP}, /* ethertype lies */
      {CAP_DLT_LINUX_SLL, sll4, sizeof sll4, IP4_TCP, sizeof IP4_TCP},
      {CAP_DLT_LINUX_SLL2, sll2_6, sizeof sll2_6, IP6_UDP, sizeof IP6_UDP},
      {CAP_DLT_NULL, null_le4, sizeof null_le4, IP4_TCP, sizeof IP4_TCP},
      {CAP_DLT_NULL, null_be6, sizeof null_be6, IP6_UDP, sizeof IP6_UDP},
      {CAP_DLT_LOOP, loop6, sizeof loop6, IP6_HBH_TCP, sizeof IP6_HBH_TCP},
      {CAP_DLT_LOOP, loop_other, sizeof loop_other, IP4_TCP, sizeof IP4_TCP},
      {CAP_DLT_RAW, NULL, 0, IP4_TCP, sizeof IP4_TCP},
      {CAP_DLT_RAW, NULL, 0, IP6_UDP, sizeof IP6_UDP},
      {CAP_DLT_IPV4, NULL, 0, IP4_OPT_UDP, sizeof IP4_OPT_UDP},
      {CAP_DLT_IPV6, NULL, 0, IP6_ATOMIC_TCP, sizeof IP6_ATOMIC_TCP},
      {CAP_DLT_IPV4, NULL, 0, IP6_UDP, sizeof IP6_UDP}, /* wrong version */
      {147, NULL, 0, IP4_TCP, sizeof IP4_TCP},          /* a link type we do not decode */
  };
  struct tally n = {0};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t frame[128];
    size_t len = framed(frame, cases[i].link, cases[i].link_len, cases[i].ip, cases[i].ip_len);
    bool ok = check_all_cuts(cases[i].dlt, frame, len, &n);
    if (!ok)
      fprintf(stderr, "  case %zu\n", i);
    CHECK(ok);
  }
  /* every answer was exercised: peeked and decoded, left to the decoder
   * and decoded (extension headers, ICMP), cut short */
  CHECK(n.peeked >= 12 && n.decoded >= 12 && n.other >= 2 && n.frames > n.peeked + n.decoded);
}

/* A whole frame whose tuple is known from its bytes (above): the peek
 * gives it, field by field. */
static void test_known_tuples(void) {
  struct cap_tuple t;
  CHECK(cap_peek_tuple(CAP_DLT_RAW, IP4_TCP, sizeof IP4_TCP, &t));
  CHECK_EQ_U(t.src.family, 4);
  CHECK(memcmp(t.src.bytes, (uint8_t[4]){192, 0, 2, 1}, 4) == 0);
  CHECK(memcmp(t.dst.bytes, (uint8_t[4]){198, 51, 100, 7}, 4) == 0);
  CHECK_EQ_U(t.src_port, 49152);
  CHECK_EQ_U(t.dst_port, 443);
  CHECK_EQ_U(t.proto, 6);
  CHECK(cap_peek_tuple(CAP_DLT_IPV4, IP4_OPT_UDP, sizeof IP4_OPT_UDP, &t)); /* past the options */
  CHECK_EQ_U(t.src_port, 5353);
  CHECK_EQ_U(t.dst_port, 53);
  CHECK_EQ_U(t.proto, 17);
  CHECK(cap_peek_tuple(CAP_DLT_RAW, IP6_UDP, sizeof IP6_UDP, &t));
  CHECK_EQ_U(t.src.family, 6);
  CHECK_EQ_U(t.src.bytes[15], 1);
  CHECK_EQ_U(t.dst.bytes[15], 2);
  CHECK_EQ_U(t.src_port, 5000);
  CHECK_EQ_U(t.dst_port, 443);
  /* what it leaves to the decoder */
  CHECK(!cap_peek_tuple(CAP_DLT_RAW, IP6_HBH_TCP, sizeof IP6_HBH_TCP, &t));
  CHECK(!cap_peek_tuple(CAP_DLT_RAW, IP4_ICMP, sizeof IP4_ICMP, &t));
  CHECK(!cap_peek_tuple(CAP_DLT_RAW, IP4_TCP, 23, &t)); /* three bytes of TCP */
  CHECK(cap_peek_tuple(CAP_DLT_RAW, IP4_TCP, 24, &t));  /* the ports, no more */
  CHECK(!cap_peek_tuple(CAP_DLT_RAW, NULL, 0, &t));
}

/* IPv4 fragments (RFC 791): the first (MF) and a later one (offset) are
 * left to reassembly; the rebuilt datagram's tuple is the decoder's. */
static void test_ipv4_fragments(void) {
  uint8_t first[20 + 8], later[20 + 8];
  memcpy(first, IP4_TCP, 20);
  first[3] = sizeof first; /* total length */
  first[6] = 0x20;         /* MF, offset 0 */
  memcpy(first + 20, IP4_TCP + 20, 8);
  memcpy(later, IP4_TCP, 20);
  later[3] = sizeof later;
  later[6] = 0x00, later[7] = 0x01; /* offset 1 (8 bytes), last */
  memcpy(later + 20, IP4_TCP + 28, 8);
  struct fixture f;
  fixture_init(&f);
  struct tally n = {0};
  CHECK(check_frame(f.dec, &f.stats, CAP_DLT_RAW, first, sizeof first, sizeof first, &n));
  CHECK(check_frame(f.dec, &f.stats, CAP_DLT_RAW, later, sizeof later, sizeof later, &n));
  CHECK_EQ_U(n.fragments, 2);
  CHECK_EQ_U(n.peeked, 0);
  CHECK_EQ_U(f.stats.reassembled, 1); /* 28 bytes rebuilt: the TCP header and 8 more */
  cap_decoder_free(f.dec);
  CHECK(check_all_cuts(CAP_DLT_RAW, first, sizeof first, &n));
  CHECK(check_all_cuts(CAP_DLT_RAW, later, sizeof later, &n));
}

static void test_ipv6_fragments(void) {
  struct fixture f;
  fixture_init(&f);
  struct tally n = {0};
  CHECK(
      check_frame(f.dec, &f.stats, CAP_DLT_RAW, IP6_FRAG1, sizeof IP6_FRAG1, sizeof IP6_FRAG1, &n));
  CHECK(
      check_frame(f.dec, &f.stats, CAP_DLT_RAW, IP6_FRAG2, sizeof IP6_FRAG2, sizeof IP6_FRAG2, &n));
  CHECK_EQ_U(n.fragments, 2);
  CHECK_EQ_U(n.peeked, 0);
  CHECK_EQ_U(f.stats.reassembled, 1);
  cap_decoder_free(f.dec);
}

/* ---- every packet of the captures ---- */

static void check_capture(const char *path, struct tally *n, unsigned *bad) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t *p = pcap_open_offline(path, err);
  if (!p)
    return; /* not a capture (certificates, key logs, scripts) */
  struct fixture f;
  fixture_init(&f);
  int dlt = pcap_datalink(p);
  struct pcap_pkthdr *hdr;
  const u_char *data;
  while (pcap_next_ex(p, &hdr, &data) == 1) {
    if (!check_frame(f.dec, &f.stats, dlt, data, hdr->caplen, hdr->len, n)) {
      fprintf(stderr, "  %s frame %u\n", path, n->frames);
      (*bad)++;
    }
  }
  cap_decoder_free(f.dec);
  pcap_close(p);
}

static unsigned check_dir(const char *dir, struct tally *n, unsigned *bad) {
  DIR *d = opendir(dir);
  unsigned files = 0;
  if (!d)
    return 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unsigned before = n->frames;
    check_capture(path, n, bad);
    files += n->frames != before;
  }
  closedir(d);
  return files;
}

static void test_every_captured_packet(void) {
  struct tally n = {0};
  unsigned bad = 0;
  unsigned files = check_dir("samples", &n, &bad);
  files += check_dir("../shared/corpus/pcaps", &n, &bad);
  CHECK(files > 10);
  CHECK_EQ_U(bad, 0);
  CHECK(n.peeked > n.frames / 2); /* most frames are plain TCP/UDP */
  fprintf(stderr, "  %u captures, %u frames: %u peeked, %u decoded, %u fragments\n", files,
          n.frames, n.peeked, n.decoded, n.fragments);
}

int main(void) {
  RUN(test_known_tuples);
  RUN(test_link_types);
  RUN(test_ipv4_fragments);
  RUN(test_ipv6_fragments);
  RUN(test_every_captured_packet);
  return harness_done();
}
