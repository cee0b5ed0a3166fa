/*
 * tests/fuzz/fuzz_flows.c - a generated multi-flow capture through the run
 * tlsgrade makes of it (pl_run_capture, as fuzz_pcap).  The fuzzer mutates
 * the parameters of a generator, not the capture: a few bytes say how many
 * flows, of which protocols, cut how, in which order, so that one input of
 * 16 bytes costs what a capture of megabytes costs, and a cost that grows
 * faster than the flows (a scan of every flow per packet, a comparison of
 * every pair of offers) shows as a timeout (run.sh: -timeout, -rss_limit_mb).
 *
 * Input (short inputs are padded with zeros):
 *   0      kinds: bit 0 TLS over TCP (443), 1 clear-text HTTP (80), 2 DTLS
 *          (UDP 4433), 3 QUIC Initials (UDP 443), none set: TLS; bit 4 some
 *          flows in IPv4 fragments, bit 5 some in tunnels (GRE, VXLAN),
 *          bit 6 every client offers its own suite list, bit 7 every flow
 *          names its own server (SNI, Host), else all name one
 *   1..2   flows: v (big-endian) gives 1 + (v & 8191) >> (v >> 13), so that
 *          most mutations make a few hundred flows (fast runs) and one in
 *          eight up to 8192
 *   3      flows open at once (window): 1 + 4 * byte; flows are started
 *          as earlier ones send their last packet, their packets interleaved
 *   4      segment / CRYPTO frame / DTLS fragment size: 1 + byte * 1400 / 255
 *   5      IPv4 fragment size: 8 * (1 + byte % 64)
 *   6, 7   out of 256: chance a flow's pieces are shuffled, a piece is sent twice
 *   8      out of 256: chance the server answers (TLS, HTTP, DTLS, QUIC)
 *   9      limits: 0 the defaults, else a flow table of 2 + 8 * (byte & 63)
 *          (eviction), bit 6 also a 2-entry certificate cache and tight
 *          handshake caps
 *   10     output: --handshakes, the JSON report, the JSON report with -j 2
 *   11     servers: 1 + byte addresses the flows are spread over
 *   12..15 the generator's random seed
 *   16     n: bytes of cipher suites (n & 62) that follow, then up to
 *          FLOWS_BLOB bytes appended to every ClientHello's extensions (the
 *          fuzzer's say over the parsers, the generator keeping the framing)
 *
 * Every packet has right IP and L4 checksums and advancing timestamps (1 ms
 * apart); no flow closes, so all stay in the table until eviction or the end.
 * The capture is cut at FLOWS_MAX_BYTES.  Checked: the pipeline's promises
 * (as fuzz_pcap), and the generated flows all reached the flow table.
 *
 * FUZZ_FLOWS_DUMP=FILE in the environment writes each generated capture to
 * FILE, to look at a finding with tlsgrade or tshark.
 */
#include "dissect/quic.h"
#include "pipeline/pipeline.h"
#include "tests/fuzz/fuzz.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FLOWS_MAX 8192 /* a power of 2: flows_params masks with FLOWS_MAX - 1 */
#define FLOWS_MAX_BYTES (4u << 20)
#define FLOWS_BLOB 512
#define FLOWS_PIECES 64 /* pieces per direction and flow at most */

enum { FLOWS_TLS, FLOWS_HTTP, FLOWS_DTLS, FLOWS_QUIC };

struct flows_params {
  uint8_t kinds;
  size_t flows, window, seg, frag;
  unsigned shuffle, dup, answer, knob, output, servers;
  uint64_t seed;
  const uint8_t *suites, *blob;
  size_t n_suites, n_blob;
};

/* The capture being written, in memory. */
struct flows_out {
  uint8_t *p;
  size_t n, cap;
  bool full;
  uint64_t time_us;
  uint16_t ip_id;
  uint8_t frame[70000];
};

/* One packet of a flow: a TCP handshake packet (dir FLOWS_SYN...) or a
 * piece of what side dir sends. */
struct flows_piece {
  uint8_t dir;
  uint16_t off, len; /* in payload[dir] */
};

/* One flow being generated. */
struct flows_flow {
  size_t index;
  int kind;
  bool fragmented, answered, shuffled;
  int tunnel; /* 0 none, 1 GRE, 2 VXLAN */
  uint8_t client[4], server[4];
  uint16_t cport, sport;
  uint32_t cseq, sseq;
  uint8_t dcid[8];
  /* the packets still to send */
  size_t step, n_steps;
  struct flows_piece steps[4 * FLOWS_PIECES + 4]; /* each direction's pieces, each sent twice */
  uint8_t payload[2][1800];
  size_t payload_len[2];
};

static uint64_t flows_rand(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void flows_write(struct flows_out *o, const void *data, size_t len) {
  if (o->full || o->n + len > FLOWS_MAX_BYTES) {
    o->full = true;
    return;
  }
  if (o->n + len > o->cap) {
    size_t cap = o->cap ? o->cap : 1u << 16;
    while (cap < o->n + len)
      cap *= 2;
    uint8_t *p = realloc(o->p, cap);
    if (!p) {
      o->full = true;
      return;
    }
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->n, data, len);
  o->n += len;
}

static void flows_put16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void flows_put24(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 16);
  flows_put16(p + 1, v);
}

static void flows_put32(uint8_t *p, uint32_t v) {
  flows_put16(p, v >> 16);
  flows_put16(p + 2, v & 0xffff);
}

/* RFC 1071: the one's complement sum, folded; sum carries a pseudo-header. */
static uint16_t flows_csum(const uint8_t *p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2)
    sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1)
    sum += (uint32_t)p[n - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* An IPv4 header (RFC 791) at p for len bytes after it. */
static void flows_ipv4(uint8_t *p, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
                       size_t len, uint16_t id, unsigned frag_field) {
  memset(p, 0, 20);
  p[0] = 0x45;
  flows_put16(p + 2, (unsigned)(20 + len));
  flows_put16(p + 4, id);
  flows_put16(p + 6, frag_field);
  p[8] = 64;
  p[9] = proto;
  memcpy(p + 12, src, 4);
  memcpy(p + 16, dst, 4);
  flows_put16(p + 10, flows_csum(p, 20, 0));
}

/* One link-layer record: Ethernet, then bytes[0..len) (an IPv4 packet). */
static void flows_record(struct flows_out *o, const uint8_t *ip, size_t len) {
  static const uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0};
  uint8_t hdr[16];
  if (o->n + sizeof hdr + sizeof eth + len > FLOWS_MAX_BYTES) {
    o->full = true; /* whole records only: the capture ends cleanly */
    return;
  }
  o->time_us += 1000;
  uint32_t sec = 1700000000u + (uint32_t)(o->time_us / 1000000), usec = o->time_us % 1000000;
  memcpy(hdr, &sec, 4); /* the file is written in host order (magic below) */
  memcpy(hdr + 4, &usec, 4);
  uint32_t n = (uint32_t)(len + 14);
  memcpy(hdr + 8, &n, 4);
  memcpy(hdr + 12, &n, 4);
  flows_write(o, hdr, 16);
  flows_write(o, eth, 14);
  flows_write(o, ip, len);
}

/* An IPv4 packet carrying l4 (a TCP or UDP header and payload, checksums
 * done), whole or in fragments of frag bytes (RFC 791 2.3), in a tunnel or
 * not. */
static void flows_ip(struct flows_out *o, const struct flows_flow *f, bool from_client,
                     uint8_t proto, const uint8_t *l4, size_t len, size_t frag) {
  const uint8_t *src = from_client ? f->client : f->server;
  const uint8_t *dst = from_client ? f->server : f->client;
  uint16_t id = o->ip_id++;
  /* inner packets are built at an offset leaving room for the tunnel */
  enum { ROOM = 20 + 8 + 8 + 14 };
  uint8_t *pkt = o->frame + ROOM;
  size_t piece = f->fragmented && frag < len ? frag : len;
  for (size_t off = 0; off < len; off += piece) {
    size_t n = len - off < piece ? len - off : piece;
    unsigned more = off + n < len ? 0x2000 : 0;
    flows_ipv4(pkt, src, dst, proto, n, id, more | (unsigned)(off / 8));
    memcpy(pkt + 20, l4 + off, n);
    size_t inner = 20 + n;
    static const uint8_t outer_a[4] = {198, 51, 100, 1}, outer_b[4] = {198, 51, 100, 2};
    if (f->tunnel == 1) { /* GRE (RFC 2784), no options */
      uint8_t *p = pkt - 24;
      flows_ipv4(p, outer_a, outer_b, 47, 4 + inner, id, 0);
      flows_put16(p + 20, 0);
      flows_put16(p + 22, 0x0800);
      flows_record(o, p, 24 + inner);
    } else if (f->tunnel == 2) { /* VXLAN (RFC 7348) on UDP 4789, inner Ethernet */
      uint8_t *p = pkt - ROOM;
      size_t udp_len = 8 + 8 + 14 + inner;
      flows_ipv4(p, outer_a, outer_b, 17, udp_len, id, 0);
      flows_put16(p + 20, 49152);
      flows_put16(p + 22, 4789);
      flows_put16(p + 24, (unsigned)udp_len);
      flows_put16(p + 26, 0); /* no UDP checksum: allowed over IPv4 */
      memset(p + 28, 0, 8);
      p[28] = 0x08;
      p[34] = 7; /* VNI 7 */
      static const uint8_t eth[14] = {2, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 3, 8, 0};
      memcpy(p + 36, eth, 14);
      flows_record(o, p, 20 + udp_len);
    } else {
      flows_record(o, pkt, inner);
    }
  }
}

/* The L4 checksum over the IPv4 pseudo-header (RFC 793 3.1, RFC 768). */
static uint16_t flows_l4_csum(const struct flows_flow *f, bool from_client, uint8_t proto,
                              const uint8_t *l4, size_t len) {
  const uint8_t *src = from_client ? f->client : f->server;
  const uint8_t *dst = from_client ? f->server : f->client;
  uint32_t sum = proto + (uint32_t)len;
  sum += (uint32_t)(src[0] << 8 | src[1]) + (uint32_t)(src[2] << 8 | src[3]);
  sum += (uint32_t)(dst[0] << 8 | dst[1]) + (uint32_t)(dst[2] << 8 | dst[3]);
  return flows_csum(l4, len, sum);
}

static void flows_tcp(struct flows_out *o, const struct flows_flow *f, bool from_client,
                      uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *data, size_t n,
                      size_t frag) {
  uint8_t seg[20 + 1800];
  memset(seg, 0, 20);
  flows_put16(seg, from_client ? f->cport : f->sport);
  flows_put16(seg + 2, from_client ? f->sport : f->cport);
  flows_put32(seg + 4, seq);
  flows_put32(seg + 8, ack);
  seg[12] = 5 << 4;
  seg[13] = flags;
  flows_put16(seg + 14, 65535);
  if (n)
    memcpy(seg + 20, data, n);
  flows_put16(seg + 16, flows_l4_csum(f, from_client, 6, seg, 20 + n));
  flows_ip(o, f, from_client, 6, seg, 20 + n, frag);
}

static void flows_udp(struct flows_out *o, const struct flows_flow *f, bool from_client,
                      const uint8_t *data, size_t n, size_t frag) {
  uint8_t *dg = malloc(8 + n);
  if (!dg)
    return;
  flows_put16(dg, from_client ? f->cport : f->sport);
  flows_put16(dg + 2, from_client ? f->sport : f->cport);
  flows_put16(dg + 4, (unsigned)(8 + n));
  flows_put16(dg + 6, 0);
  memcpy(dg + 8, data, n);
  uint16_t sum = flows_l4_csum(f, from_client, 17, dg, 8 + n);
  flows_put16(dg + 6, sum ? sum : 0xffff);
  flows_ip(o, f, from_client, 17, dg, 8 + n, frag);
  free(dg);
}

static bool flows_gcm_seal(const uint8_t key[16], const uint8_t nonce[12], const uint8_t *aad,
                           size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[16]) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int out_len = 0;
  bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, nonce) == 1 &&
            EVP_EncryptUpdate(c, NULL, &out_len, aad, (int)aad_len) == 1 &&
            EVP_EncryptUpdate(c, buf, &out_len, buf, (int)len) == 1 &&
            EVP_EncryptFinal_ex(c, buf + len, &out_len) == 1 &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

static bool flows_hp_mask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[16]) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int out_len = 0;
  bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
            EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
            EVP_EncryptUpdate(c, mask, &out_len, sample, 16) == 1 && out_len == 16;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

/* A QUIC v1 Initial (RFC 9000 17.2.2) holding one CRYPTO frame (19.6) of
 * data at offset off, protected with the keys of the client's DCID (RFC
 * 9001 5.2); a client's is padded to 1200 bytes (RFC 9000 14.1). */
static void flows_quic(struct flows_out *o, const struct flows_flow *f, int dir, uint32_t pn,
                       uint32_t off, const uint8_t *data, size_t n) {
  uint8_t key[16], iv[12], hp[16];
  if (quic_initial_keys(QUIC_VERSION_1, f->dcid, sizeof f->dcid, dir, key, iv, hp) != QUIC_OK)
    return;
  uint8_t pkt[1400] = {0};
  uint8_t *p = pkt;
  *p++ = 0xc0 | 1; /* Initial, 2-byte packet number */
  flows_put32(p, QUIC_VERSION_1);
  p += 4;
  *p++ = dir ? 0 : sizeof f->dcid; /* the server answers to the client's empty SCID */
  if (!dir) {
    memcpy(p, f->dcid, sizeof f->dcid);
    p += sizeof f->dcid;
  }
  *p++ = dir ? 4 : 0;
  if (dir) {
    memcpy(p, f->dcid, 4);
    p += 4;
  }
  *p++ = 0; /* no token */
  size_t frames = 1 + 4 + 2 + n;
  size_t padded = dir ? frames : 1200 - 40 - (size_t)(p - pkt);
  if (padded < frames)
    padded = frames;
  size_t length = 2 + padded + 16;
  flows_put16(p, (unsigned)(0x4000 | length));
  p += 2;
  uint8_t *pn_at = p;
  flows_put16(p, pn & 0xffff);
  p += 2;
  p[0] = 0x06;                           /* CRYPTO */
  flows_put32(p + 1, 0x80000000u | off); /* 4-byte varints */
  flows_put16(p + 5, 0x4000 | (unsigned)n);
  memcpy(p + 7, data, n);
  uint8_t nonce[12];
  memcpy(nonce, iv, 12);
  nonce[10] ^= (uint8_t)(pn >> 8);
  nonce[11] ^= (uint8_t)pn;
  uint8_t mask[16];
  if (!flows_gcm_seal(key, nonce, pkt, (size_t)(p - pkt), p, padded, p + padded) ||
      !flows_hp_mask(hp, pn_at + 4, mask))
    return;
  pkt[0] ^= mask[0] & 0x0f;
  pn_at[0] ^= mask[1];
  pn_at[1] ^= mask[2];
  flows_udp(o, f, dir == 0, pkt, (size_t)(p - pkt) + padded + 16, SIZE_MAX);
}

/* A DTLS 1.2 record (RFC 6347 4.1) holding one handshake fragment (4.2.2)
 * of the message payload[dir]: bytes [off, off + n). */
static void flows_dtls(struct flows_out *o, const struct flows_flow *f, int dir, unsigned seq,
                       size_t off, size_t n, size_t frag) {
  uint8_t rec[13 + 12 + 1800];
  size_t total = f->payload_len[dir];
  rec[0] = 22;
  flows_put16(rec + 1, 0xfefd);
  memset(rec + 3, 0, 6);
  flows_put32(rec + 7, seq);
  flows_put16(rec + 11, (unsigned)(12 + n));
  rec[13] = dir ? 2 : 1;
  flows_put24(rec + 14, (unsigned)total);
  flows_put16(rec + 17, 0);
  flows_put24(rec + 19, (unsigned)off);
  flows_put24(rec + 22, (unsigned)n);
  memcpy(rec + 25, f->payload[dir] + off, n);
  flows_udp(o, f, dir == 0, rec, 25 + n, frag);
}

/* A hello body: ClientHello (RFC 8446 4.1.2; DTLS: with an empty cookie,
 * RFC 6347 4.2.1) or ServerHello (4.1.3). */
static size_t flows_hello(const struct flows_params *pp, const struct flows_flow *f, int dir,
                          const char *host, uint8_t *b) {
  uint64_t r = pp->seed ^ f->index;
  size_t n = 0;
  flows_put16(b, f->kind == FLOWS_DTLS ? 0xfefd : 0x0303);
  for (n = 2; n < 34; n += 8) {
    uint64_t v = flows_rand(&r);
    memcpy(b + n, &v, 8);
  }
  b[n++] = 0; /* session id */
  if (dir == 0) {
    if (f->kind == FLOWS_DTLS)
      b[n++] = 0; /* cookie */
    size_t at = n;
    n += 2;
    memcpy(b + n, pp->suites, pp->n_suites);
    n += pp->n_suites;
    static const uint8_t suites[6] = {0xc0, 0x2f, 0xc0, 0x30, 0x13, 0x01};
    memcpy(b + n, suites, sizeof suites);
    n += sizeof suites;
    if (pp->kinds & 0x40) { /* an offer no other client makes */
      flows_put16(b + n, 0x0a0a + (unsigned)f->index);
      n += 2;
    }
    flows_put16(b + at, (unsigned)(n - at - 2));
    b[n++] = 1;
    b[n++] = 0; /* null compression */
  } else {
    flows_put16(b + n, f->kind == FLOWS_QUIC ? 0x1301 : 0xc02f);
    n += 2;
    b[n++] = 0;
  }
  size_t ext = n;
  n += 2;
  if (dir == 0) { /* server_name (RFC 6066 3) */
    size_t hl = strlen(host);
    flows_put16(b + n, 0);
    flows_put16(b + n + 2, (unsigned)(hl + 5));
    flows_put16(b + n + 4, (unsigned)(hl + 3));
    b[n + 6] = 0;
    flows_put16(b + n + 7, (unsigned)hl);
    memcpy(b + n + 9, host, hl);
    n += 9 + hl;
  }
  if (f->kind == FLOWS_QUIC) { /* supported_versions: TLS 1.3 only (RFC 9001 4.2) */
    static const uint8_t ch[7] = {0, 0x2b, 0, 3, 2, 3, 4}, sh[6] = {0, 0x2b, 0, 2, 3, 4};
    memcpy(b + n, dir ? sh : ch, dir ? sizeof sh : sizeof ch);
    n += dir ? sizeof sh : sizeof ch;
  } else if (dir) { /* renegotiation_info (RFC 5746) */
    static const uint8_t ri[5] = {0xff, 0x01, 0, 1, 0};
    memcpy(b + n, ri, sizeof ri);
    n += sizeof ri;
  }
  if (dir == 0) {
    memcpy(b + n, pp->blob, pp->n_blob);
    n += pp->n_blob;
  }
  flows_put16(b + ext, (unsigned)(n - ext - 2));
  return n;
}

/* payload[dir] of flow f: what each side sends, as the stream (TLS, HTTP)
 * or the handshake message (DTLS: its body; QUIC: type and length too). */
static void flows_payloads(const struct flows_params *pp, struct flows_flow *f) {
  char host[32];
  if (pp->kinds & 0x80)
    snprintf(host, sizeof host, "f%zu.example", f->index);
  else
    snprintf(host, sizeof host, "one.example");
  for (int dir = 0; dir < 2; dir++) {
    uint8_t *b = f->payload[dir];
    size_t n = 0;
    if (f->kind == FLOWS_HTTP && dir == 0) {
      n = (size_t)snprintf((char *)b, sizeof f->payload[0],
                           "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: %.*s\r\n\r\n", host,
                           (int)(pp->n_blob < 200 ? pp->n_blob : 200), (const char *)pp->blob);
    } else if (f->kind == FLOWS_HTTP) {
      n = (size_t)snprintf((char *)b, sizeof f->payload[1],
                           "HTTP/1.1 301 Moved Permanently\r\nLocation: https://%s/\r\n"
                           "Strict-Transport-Security: max-age=31536000\r\n"
                           "Content-Length: 0\r\n\r\n",
                           host);
    } else if (f->kind == FLOWS_TLS) { /* a record (RFC 8446 5.1) of the message */
      size_t body = flows_hello(pp, f, dir, host, b + 9);
      b[0] = 22;
      flows_put16(b + 1, 0x0301);
      flows_put16(b + 3, (unsigned)(body + 4));
      b[5] = dir ? 2 : 1;
      flows_put24(b + 6, (unsigned)body);
      n = 9 + body;
      if (dir) { /* ServerHelloDone */
        static const uint8_t done[9] = {22, 3, 3, 0, 4, 14, 0, 0, 0};
        memcpy(b + n, done, sizeof done);
        n += sizeof done;
      }
    } else if (f->kind == FLOWS_DTLS) {
      n = flows_hello(pp, f, dir, host, b);
    } else {
      size_t body = flows_hello(pp, f, dir, host, b + 4);
      b[0] = dir ? 2 : 1;
      flows_put24(b + 1, (unsigned)body);
      n = 4 + body;
    }
    f->payload_len[dir] = n;
  }
}

enum { FLOWS_SYN = 2, FLOWS_SYNACK, FLOWS_ACK };

/* Cut payload[dir] into steps of seg bytes (at most FLOWS_PIECES: a short
 * segment size widens on long payloads), maybe shuffled, maybe sent twice. */
static void flows_pieces(const struct flows_params *pp, struct flows_flow *f, int dir,
                         uint64_t *rng) {
  size_t len = f->payload_len[dir], seg = pp->seg;
  if (f->kind == FLOWS_QUIC && seg > 1000)
    seg = 1000; /* a CRYPTO frame in one 1200-byte Initial */
  if ((len + seg - 1) / seg > FLOWS_PIECES)
    seg = (len + FLOWS_PIECES - 1) / FLOWS_PIECES;
  size_t first = f->n_steps;
  for (size_t off = 0; off < len; off += seg) {
    size_t k = f->n_steps++;
    f->steps[k].dir = (uint8_t)dir;
    f->steps[k].off = (uint16_t)off;
    f->steps[k].len = (uint16_t)(len - off < seg ? len - off : seg);
  }
  size_t n = f->n_steps - first;
  if (f->shuffled)
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
      size_t j = flows_rand(rng) % i;
      struct flows_piece t = f->steps[first + i - 1];
      f->steps[first + i - 1] = f->steps[first + j];
      f->steps[first + j] = t;
    }
  for (size_t i = 0; i < n; i++)
    if ((flows_rand(rng) & 0xff) < pp->dup && f->n_steps < sizeof f->steps / sizeof f->steps[0])
      f->steps[f->n_steps++] = f->steps[first + i];
}

static void flows_start(const struct flows_params *pp, struct flows_flow *f, size_t index) {
  uint64_t rng = pp->seed + index * 0x100000001b3ull;
  memset(f, 0, offsetof(struct flows_flow, payload));
  f->index = index;
  int kinds[4], n_kinds = 0;
  for (int k = 0; k < 4; k++)
    if (pp->kinds & (1 << k))
      kinds[n_kinds++] = k;
  f->kind = n_kinds ? kinds[flows_rand(&rng) % (uint64_t)n_kinds] : FLOWS_TLS;
  uint64_t r = flows_rand(&rng);
  f->fragmented = (pp->kinds & 0x10) && (r & 3) == 0;
  f->tunnel = (pp->kinds & 0x20) ? (int)((r >> 2) % 3) : 0;
  f->shuffled = ((r >> 8) & 0xff) < pp->shuffle;
  f->answered = ((r >> 16) & 0xff) < pp->answer;
  f->client[0] = 10;
  f->client[1] = (uint8_t)(index >> 16);
  f->client[2] = (uint8_t)(index >> 8);
  f->client[3] = (uint8_t)index;
  uint8_t server[4] = {192, 0, 2, (uint8_t)(index % pp->servers)};
  memcpy(f->server, server, 4);
  f->cport = (uint16_t)(1024 + index % 60000);
  static const uint16_t ports[4] = {443, 80, 4433, 443};
  f->sport = ports[f->kind];
  f->cseq = (uint32_t)(r >> 32);
  f->sseq = (uint32_t)flows_rand(&rng);
  uint64_t d = flows_rand(&rng);
  memcpy(f->dcid, &d, 8);
  flows_payloads(pp, f);
  if (f->kind == FLOWS_TLS || f->kind == FLOWS_HTTP) {
    f->steps[0].dir = FLOWS_SYN;
    f->steps[1].dir = FLOWS_SYNACK;
    f->steps[2].dir = FLOWS_ACK;
    f->n_steps = 3;
  }
  flows_pieces(pp, f, 0, &rng);
  if (f->answered)
    flows_pieces(pp, f, 1, &rng);
}

/* Send f's next packet; false when it has sent them all. */
static bool flows_step(const struct flows_params *pp, struct flows_out *o, struct flows_flow *f) {
  if (f->step >= f->n_steps)
    return false;
  size_t k = f->step++;
  int dir = f->steps[k].dir;
  size_t off = f->steps[k].off, n = f->steps[k].len;
  const uint8_t *data = f->payload[dir < 2 ? dir : 0] + off;
  uint32_t cnext = f->cseq + 1, snext = f->sseq + 1;
  switch (dir) {
  case FLOWS_SYN:
    flows_tcp(o, f, true, 0x02, f->cseq, 0, NULL, 0, pp->frag);
    break;
  case FLOWS_SYNACK:
    flows_tcp(o, f, false, 0x12, f->sseq, cnext, NULL, 0, pp->frag);
    break;
  case FLOWS_ACK:
    flows_tcp(o, f, true, 0x10, cnext, snext, NULL, 0, pp->frag);
    break;
  default:
    if (f->kind == FLOWS_TLS || f->kind == FLOWS_HTTP)
      flows_tcp(o, f, dir == 0, 0x18, (dir ? snext : cnext) + (uint32_t)off, dir ? cnext : snext,
                data, n, pp->frag);
    else if (f->kind == FLOWS_DTLS)
      flows_dtls(o, f, dir, (unsigned)k, off, n, pp->frag);
    else
      flows_quic(o, f, dir, (uint32_t)k, (uint32_t)off, data, n);
  }
  return f->step < f->n_steps;
}

/* The parameters from the input's bytes (see the top). */
static void flows_params(const uint8_t *data, size_t size, struct flows_params *pp) {
  uint8_t h[17] = {0};
  memcpy(h, data, size < sizeof h ? size : sizeof h);
  pp->kinds = h[0];
  size_t v = (size_t)h[1] << 8 | h[2];
  pp->flows = 1 + ((v & (FLOWS_MAX - 1)) >> (v >> 13));
  pp->window = 1 + 4 * (size_t)h[3];
  pp->seg = 1 + (size_t)h[4] * 1400 / 255;
  pp->frag = 8 * (1 + (size_t)(h[5] % 64));
  pp->shuffle = h[6];
  pp->dup = h[7];
  pp->answer = h[8];
  pp->knob = h[9];
  pp->output = h[10] % 3;
  pp->servers = 1 + (unsigned)h[11];
  pp->seed = (uint64_t)h[12] << 24 | (uint64_t)h[13] << 16 | (uint64_t)h[14] << 8 | h[15];
  const uint8_t *rest = size > sizeof h ? data + sizeof h : data + size;
  size_t left = size > sizeof h ? size - sizeof h : 0;
  pp->n_suites = (h[16] & 62) < left ? (h[16] & 62) : left & ~(size_t)1;
  pp->suites = rest;
  pp->blob = rest + pp->n_suites;
  pp->n_blob = left - pp->n_suites < FLOWS_BLOB ? left - pp->n_suites : FLOWS_BLOB;
}

/* The whole capture: flows started as window slots free up, one packet of
 * each open flow in turn. */
static void flows_generate(const struct flows_params *pp, struct flows_out *o) {
  /* libpcap's file header in host order, as the records (pcap-savefile(5)) */
  struct {
    uint32_t magic;
    uint16_t major, minor;
    uint32_t zone, sigfigs, snaplen, link;
  } hdr = {0xa1b2c3d4, 2, 4, 0, 0, 262144, 1};
  flows_write(o, &hdr, sizeof hdr);
  size_t window = pp->window < pp->flows ? pp->window : pp->flows;
  struct flows_flow *live = malloc(window * sizeof *live);
  bool *open = calloc(window, sizeof *open);
  if (!live || !open) {
    free(live);
    free(open);
    return;
  }
  size_t next = 0, n_open = 0;
  do {
    for (size_t s = 0; s < window && !o->full; s++) {
      if (!open[s] && next < pp->flows) {
        flows_start(pp, &live[s], next++);
        open[s] = true;
        n_open++;
      }
      if (open[s] && !flows_step(pp, o, &live[s])) {
        open[s] = false;
        n_open--;
      }
    }
  } while ((n_open || next < pp->flows) && !o->full);
  free(live);
  free(open);
}

static int flows_fd = -1; /* one memfd for the process, rewritten per input */

static bool flows_to_file(const struct flows_out *o) {
  if (flows_fd < 0 && (flows_fd = memfd_create("fuzz_flows", 0)) < 0)
    return false;
  if (ftruncate(flows_fd, 0) != 0)
    return false;
  for (size_t done = 0; done < o->n;) {
    ssize_t k = pwrite(flows_fd, o->p + done, o->n - done, (off_t)done);
    if (k <= 0)
      return false;
    done += (size_t)k;
  }
  return true;
}

/* tlsgrade's settings, tightened by the knob (see the top). */
static void flows_settings(const struct flows_params *pp, struct pl_settings *set) {
  pl_settings_default(set);
  set->output = "/dev/null";
  set->ca_file = "samples/certs/root.pem";
  set->mode = pp->output ? PL_MODE_GRADE : PL_MODE_HANDSHAKES;
  set->format = PL_FORMAT_JSON;
  set->jobs = pp->output == 2 ? 2 : 1;
  if (!pp->knob)
    return;
  set->limits.max_flows = 2 + 8 * (pp->knob & 63);
  if (pp->knob & 64) {
    set->cert_cache_entries = 2;
    set->tls_limits.max_handshake_bytes = 256;
    set->limits.frag_datagrams = 2;
    set->limits.tcp_ooo_segments = 2;
  }
}

int fuzz_flows_one(const uint8_t *data, size_t size) {
  struct flows_params pp;
  flows_params(data, size, &pp);
  struct flows_out *o = calloc(1, sizeof *o);
  if (!o)
    return 0;
  flows_generate(&pp, o);
  const char *dump = getenv("FUZZ_FLOWS_DUMP");
  FILE *df = dump && *dump ? fopen(dump, "wb") : NULL;
  if (df) {
    fwrite(o->p, 1, o->n, df);
    fclose(df);
  }
  if (flows_to_file(o)) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", flows_fd);
    char *paths[1] = {path};
    struct pl_settings set;
    flows_settings(&pp, &set);
    struct pl_counters count;
    pl_run_capture(&set, paths, 1, &count);
    FUZZ_INVARIANT(count.flows_ended == count.cap.flows);
    FUZZ_INVARIANT(count.sessions <= count.cap.flows);
    FUZZ_INVARIANT(count.tls_connections <= count.sessions);
    FUZZ_INVARIANT(count.handshakes_printed <= count.sessions);
    /* every flow generated made an entry (a tunnel's outer flows too) */
    FUZZ_INVARIANT(o->full || count.cap.flows >= pp.flows);
  }
  free(o->p);
  free(o);
  return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_flows_one(data, size);
}
#endif
