/*
 * capture/decode.c - link layer -> IPv4/IPv6 (+ fragment reassembly) -> TCP/UDP.
 *
 * The one file that reads packet bytes by hand.  It does so only through the
 * bounded reader (base/rd.h), so no read can cross the captured length: a
 * read past the end sets a sticky error and yields zeros.
 */
#include "capture.h"
#include "base/rd.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Writes into the decoder's own reassembly buffer (never into a frame). */
static void put_u16(uint8_t *buf, size_t at, uint16_t v) {
  buf[at] = (uint8_t)(v >> 8);
  buf[at + 1] = (uint8_t)v;
}

/* ---- Internet checksum (RFC 1071) -------------------------------------- */

/* Adds native-order words; the one's complement sum is byte-order
 * independent (RFC 1071 2(B)), so the folded result is the checksum in
 * native order.  Every chunk but the last must have an even length. */
/* The ones' complement sum is the same over 16-, 32- or 64-bit words once
 * the carries are folded back (RFC 1071 2(B)): add 64-bit words, count
 * the carries out of bit 63 (add/adc), fold at the end.  Every payload byte passes here
 * once: it is the hottest loop of a bulk capture. */
static uint64_t csum_add(uint64_t acc, const uint8_t *data, size_t len) {
  uint64_t sum = 0, carries = 0, w0, w1, w2, w3;
  while (len >= 32) {
    memcpy(&w0, data, 8);
    memcpy(&w1, data + 8, 8);
    memcpy(&w2, data + 16, 8);
    memcpy(&w3, data + 24, 8);
    carries += __builtin_add_overflow(sum, w0, &sum);
    carries += __builtin_add_overflow(sum, w1, &sum);
    carries += __builtin_add_overflow(sum, w2, &sum);
    carries += __builtin_add_overflow(sum, w3, &sum);
    data += 32;
    len -= 32;
  }
  acc += (sum & 0xffffffffu) + (sum >> 32) + carries; /* 2^64 = 1 (mod 2^16 - 1) */
  while (len >= 8) {
    uint64_t w;
    memcpy(&w, data, 8);
    acc += (w & 0xffffffffu) + (w >> 32);
    data += 8;
    len -= 8;
  }
  while (len >= 2) {
    uint16_t w;
    memcpy(&w, data, 2);
    acc += w;
    data += 2;
    len -= 2;
  }
  if (len) {
    uint16_t w = 0; /* the odd byte is padded with a zero byte */
    memcpy(&w, data, 1);
    acc += w;
  }
  return acc;
}

static uint16_t csum_fold(uint64_t acc) {
  while (acc >> 16)
    acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)acc;
}

/* A span including its checksum field verifies when the sum is all ones. */
static bool csum_ok(uint64_t acc) {
  return csum_fold(acc) == 0xffff;
}

/* ---- IPv6 extension headers -------------------------------------------- */

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

/* What an IPv6 fragment header says (RFC 8200 4.5). */
struct frag_fields {
  uint32_t id;
  size_t offset;
  bool more;
};

/* Walk the extension headers (RFC 8200 4) up to the upper-layer header or
 * a fragment header.  Returns -1 if they run past the captured bytes. */
static int ipv6_walk(struct rd *r, uint8_t *nh, struct frag_fields *frag,
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

/* ---- Decoder state and fragment reassembly ----------------------------- */

#define IP_MAX_DATAGRAM 65535u
#define IPV4_MAX_HDR 60u
#define IPV6_HDR 40u

/* A run of datagram bytes [offset, offset + len).  Owned by its datagram. */
struct frag_piece {
  struct frag_piece *next;
  size_t offset, len;
  uint8_t data[];
};

/* One datagram under reassembly.  Owned by the decoder. */
struct frag_dgram {
  struct frag_dgram *next, *prev; /* newest first; the decoder's tail is the oldest */
  struct frag_dgram *hnext;       /* hash chain */
  size_t bucket;
  uint8_t family, proto;
  uint32_t id;
  struct cap_addr src, dst;
  cap_time_us first_ts;
  uint8_t hdr[IPV4_MAX_HDR]; /* first fragment's fixed header */
  size_t hdr_len;            /* 0 until the offset-0 fragment came */
  bool last_seen;
  size_t total;              /* payload length, once last_seen */
  size_t held;               /* bytes in pieces */
  struct frag_piece *pieces; /* sorted by offset, disjoint */
};

/* Owned by the caller of cap_decoder_new; stats stays the caller's. */
struct cap_decoder {
  struct cap_limits lim;
  struct cap_stats *stats;
  struct frag_dgram *dgrams, *oldest; /* by age: expiry takes the oldest first */
  struct frag_dgram **buckets;        /* lookup by (family, id, proto, addresses) */
  size_t nbuckets;                    /* power of two, allocated on first use */
  size_t ndgrams;
  size_t held_bytes;
  uint8_t *reasm; /* the last rebuilt datagram; allocated on first use */
  bool frame_cut; /* this frame is shorter than on the wire */
  bool defer_checksums;
};

/* What one fragment brings. */
struct frag_in {
  uint8_t family, proto;
  uint32_t id;
  const struct cap_packet *pkt; /* src and dst */
  struct rd hdr;                /* IPv4 header with options, or the IPv6 fixed header */
  size_t offset;
  bool more;
  struct rd data;
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

static void frag_dgram_free(struct cap_decoder *dec, struct frag_dgram *dg) {
  if (dg->prev)
    dg->prev->next = dg->next;
  else
    dec->dgrams = dg->next;
  if (dg->next)
    dg->next->prev = dg->prev;
  else
    dec->oldest = dg->prev;
  struct frag_dgram **link = &dec->buckets[dg->bucket];
  while (*link && *link != dg)
    link = &(*link)->hnext;
  if (*link)
    *link = dg->hnext;
  for (struct frag_piece *p = dg->pieces, *next; p; p = next) {
    next = p->next;
    free(p);
  }
  dec->held_bytes -= dg->held;
  dec->ndgrams--;
  free(dg);
}

/* In unsigned arithmetic: timestamps come from the file and may be absurd. */
static bool older_than(cap_time_us now, cap_time_us then, cap_time_us timeout) {
  if (now <= then)
    return false;
  return timeout < 0 || (uint64_t)now - (uint64_t)then > (uint64_t)timeout;
}

/* Datagrams are kept in arrival order: expire from the oldest end until
 * one is young enough, so a fragment costs O(1) however many are held. */
static void frag_expire(struct cap_decoder *dec, cap_time_us now) {
  while (dec->oldest && older_than(now, dec->oldest->first_ts, dec->lim.frag_timeout)) {
    dec->stats->frag_timeouts++;
    frag_dgram_free(dec, dec->oldest);
  }
}

static size_t frag_bucket(const struct cap_decoder *dec, const struct frag_in *in) {
  uint64_t h = 0xcbf29ce484222325ULL ^ in->id ^ ((uint64_t)in->proto << 32);
  for (size_t i = 0; i < 16; i++)
    h = (h ^ in->pkt->src.bytes[i] ^ ((uint64_t)in->pkt->dst.bytes[i] << 8)) * 0x100000001b3ULL;
  return (size_t)(h ^ (h >> 29)) & (dec->nbuckets - 1);
}

static bool addr_eq(const struct cap_addr *a, const struct cap_addr *b) {
  return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

static struct frag_dgram *frag_find(struct cap_decoder *dec, const struct frag_in *in) {
  if (!dec->buckets)
    return NULL;
  for (struct frag_dgram *dg = dec->buckets[frag_bucket(dec, in)]; dg; dg = dg->hnext) {
    if (dg->family == in->family && dg->id == in->id && dg->proto == in->proto &&
        addr_eq(&dg->src, &in->pkt->src) && addr_eq(&dg->dst, &in->pkt->dst))
      return dg;
  }
  return NULL;
}

static struct frag_dgram *frag_create(struct cap_decoder *dec, const struct frag_in *in,
                                      cap_time_us now) {
  if (dec->ndgrams >= dec->lim.frag_datagrams)
    return NULL;
  if (!dec->buckets) {
    size_t n = 64;
    while (n < dec->lim.frag_datagrams && n < (1u << 20))
      n *= 2;
    if (!(dec->buckets = calloc(n, sizeof *dec->buckets)))
      return NULL;
    dec->nbuckets = n;
  }
  struct frag_dgram *dg = malloc(sizeof *dg);
  if (!dg)
    return NULL;
  *dg = (struct frag_dgram){.next = dec->dgrams,
                            .bucket = frag_bucket(dec, in),
                            .family = in->family,
                            .proto = in->proto,
                            .id = in->id,
                            .src = in->pkt->src,
                            .dst = in->pkt->dst,
                            .first_ts = now};
  if (dec->dgrams)
    dec->dgrams->prev = dg;
  else
    dec->oldest = dg;
  dec->dgrams = dg;
  dg->hnext = dec->buckets[dg->bucket];
  dec->buckets[dg->bucket] = dg;
  dec->ndgrams++;
  return dg;
}

/* Bytes of [offset, end) that no held piece covers yet. */
static size_t frag_uncovered(const struct frag_dgram *dg, size_t offset, size_t end) {
  size_t cur = offset, added = 0;
  for (const struct frag_piece *p = dg->pieces; p && cur < end; p = p->next) {
    if (p->offset + p->len <= cur)
      continue;
    if (p->offset >= end)
      break;
    if (p->offset > cur)
      added += p->offset - cur;
    cur = p->offset + p->len;
  }
  return cur < end ? added + (end - cur) : added;
}

/* Store the parts of the fragment no piece covers: the first copy wins. */
static bool frag_insert(struct cap_decoder *dec, struct frag_dgram *dg, const struct frag_in *in) {
  size_t end = in->offset + in->data.n, cur = in->offset;
  struct frag_piece **link = &dg->pieces;
  while (cur < end) {
    struct frag_piece *p = *link;
    if (p && p->offset + p->len <= cur) {
      link = &p->next;
      continue;
    }
    size_t gap_end = (p && p->offset < end) ? p->offset : end;
    if (gap_end <= cur) { /* p covers cur */
      cur = p->offset + p->len;
      link = &p->next;
      continue;
    }
    struct rd src = in->data;
    rd_skip(&src, cur - in->offset);
    const uint8_t *bytes = rd_bytes(&src, gap_end - cur);
    struct frag_piece *piece = malloc(sizeof *piece + (gap_end - cur));
    if (!bytes || !piece) {
      free(piece);
      return false;
    }
    piece->offset = cur;
    piece->len = gap_end - cur;
    memcpy(piece->data, bytes, piece->len);
    piece->next = p;
    *link = piece;
    link = &piece->next;
    dg->held += piece->len;
    dec->held_bytes += piece->len;
    cur = gap_end;
  }
  return true;
}

/* A fragment that contradicts what is held (RFC 791, RFC 8200 4.5). */
static bool frag_consistent(const struct frag_dgram *dg, const struct frag_in *in) {
  size_t end = in->offset + in->data.n;
  if (dg->last_seen && (end > dg->total || (!in->more && end != dg->total)))
    return false;
  if (!in->more) {
    for (const struct frag_piece *p = dg->pieces; p; p = p->next)
      if (p->offset + p->len > end)
        return false;
  }
  return true;
}

/* Rebuild the datagram in dec->reasm; returns its length, 0 if it is bad. */
static size_t frag_rebuild(struct cap_decoder *dec, const struct frag_dgram *dg) {
  uint8_t *buf = dec->reasm;
  if (dg->hdr_len + dg->total > IP_MAX_DATAGRAM)
    return 0;
  memcpy(buf, dg->hdr, dg->hdr_len);
  for (const struct frag_piece *p = dg->pieces; p; p = p->next)
    memcpy(buf + dg->hdr_len + p->offset, p->data, p->len);
  if (dg->family == 4) {
    put_u16(buf, 2, (uint16_t)(dg->hdr_len + dg->total));
    put_u16(buf, 6, (uint16_t)((buf[6] << 8) & 0xc000)); /* keep DF and the reserved bit */
    put_u16(buf, 10, 0);
    uint16_t sum = (uint16_t)~csum_fold(csum_add(0, buf, dg->hdr_len));
    memcpy(buf + 10, &sum, 2); /* native order, like the sum */
    return dg->hdr_len + dg->total;
  }
  /* IPv6: drop the extension headers of the fragmentable part, so the
   * rebuilt datagram is a 40-byte header and the upper-layer data. */
  struct rd payload = rd_make(buf + IPV6_HDR, dg->total);
  uint8_t nh = dg->proto;
  struct frag_fields nested = {0};
  struct cap_addr final_dst = dg->dst;
  if (ipv6_walk(&payload, &nh, &nested, &final_dst) < 0 || nested.more || nested.offset)
    return 0;
  size_t ext_len = dg->total - payload.n;
  memmove(buf + IPV6_HDR, buf + IPV6_HDR + ext_len, payload.n);
  put_u16(buf, 4, (uint16_t)payload.n);
  buf[6] = nh;
  return IPV6_HDR + payload.n;
}

/* Mutual recursion: a completed datagram is decoded like a packet. */
static int decode_ipv4(struct cap_decoder *dec, struct rd ip, struct cap_packet *out, bool rebuilt);
static int decode_ipv6(struct cap_decoder *dec, struct rd ip, struct cap_packet *out, bool rebuilt);

/* The datagram is whole: rebuild it and decode it as one packet. */
static int frag_complete(struct cap_decoder *dec, struct frag_dgram *dg, struct cap_packet *out) {
  if (!dec->reasm)
    dec->reasm = malloc(IPV4_MAX_HDR + IP_MAX_DATAGRAM);
  if (!dec->reasm) {
    dec->stats->cap_frag++;
    frag_dgram_free(dec, dg);
    return 0;
  }
  uint8_t family = dg->family;
  size_t len = frag_rebuild(dec, dg);
  frag_dgram_free(dec, dg);
  if (!len)
    return count_malformed(dec);
  dec->stats->reassembled++;
  out->reassembled = true;
  struct rd datagram = rd_make(dec->reasm, len);
  return family == 4 ? decode_ipv4(dec, datagram, out, true)
                     : decode_ipv6(dec, datagram, out, true);
}

/* A fragment that cannot be stored; forget a datagram it would have begun. */
static int frag_refuse(struct cap_decoder *dec, struct frag_dgram *dg, uint64_t *counter) {
  (*counter)++;
  if (dg && !dg->pieces && !dg->last_seen && !dg->hdr_len)
    frag_dgram_free(dec, dg);
  return 0;
}

static int frag_handle(struct cap_decoder *dec, const struct frag_in *in, struct cap_packet *out) {
  struct cap_stats *st = dec->stats;
  st->fragments++;
  if (out->truncated)
    return 0; /* a cut fragment can never complete; counted as truncated */
  frag_expire(dec, out->ts);
  size_t end = in->offset + in->data.n;
  size_t limit = IP_MAX_DATAGRAM - (in->family == 4 ? in->hdr.n : 0);
  if (end > limit || (in->more && in->data.n % 8))
    return count_malformed(dec);
  struct frag_dgram *dg = frag_find(dec, in);
  if (!dg && !(dg = frag_create(dec, in, out->ts)))
    return frag_refuse(dec, NULL, &st->cap_frag);
  if (!frag_consistent(dg, in))
    return frag_refuse(dec, dg, &st->malformed);
  if (dec->held_bytes + frag_uncovered(dg, in->offset, end) > dec->lim.frag_bytes)
    return frag_refuse(dec, dg, &st->cap_frag);
  if (!frag_insert(dec, dg, in))
    return frag_refuse(dec, dg, &st->cap_frag);
  if (!in->more) {
    dg->last_seen = true;
    dg->total = end;
  }
  if (in->offset == 0 && !dg->hdr_len && in->hdr.n <= sizeof dg->hdr) {
    memcpy(dg->hdr, in->hdr.p, in->hdr.n);
    dg->hdr_len = in->hdr.n;
  }
  if (dg->last_seen && dg->hdr_len && dg->held == dg->total)
    return frag_complete(dec, dg, out);
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
  rd_skip(&r, 6); /* window, checksum, urgent pointer */
  if (r.err)
    return 0; /* cut by the snaplen, already counted */
  if (data_offset < 20 || data_offset > in->wire_len)
    return count_malformed(dec);
  rd_skip(&r, data_offset - 20); /* options */
  if (r.err)
    return 0;
  out->payload = r.p;
  out->payload_len = r.n;
  out->payload_wire_len = in->wire_len - data_offset;
  out->truncated = out->payload_len < out->payload_wire_len;
  if (in->seg.n == in->wire_len && !l4_check(dec, out, &in->final_dst, in->seg.p, in->seg.n))
    dec->stats->bad_checksum_l4++;
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

static int decode_l4(struct cap_decoder *dec, const struct l4_in *in, struct cap_packet *out) {
  if (out->l4_proto == 6)
    return decode_tcp(dec, in, out);
  if (out->l4_proto == 17)
    return decode_udp(dec, in, out);
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
    struct frag_in frag = {4, out->l4_proto, h.id, out, h.hdr, h.frag_offset, h.more, l4.seg};
    return frag_handle(dec, &frag, out);
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
  struct frag_fields fh = {0};
  struct cap_addr final_dst = out->dst;
  if (ipv6_walk(&payload, &nh, &fh, &final_dst) < 0)
    return out->truncated ? 0 : count_malformed(dec);
  size_t ext_len = (avail - IPV6_HDR) - payload.n;
  out->l4_proto = nh;
  if (fh.offset || fh.more) {
    if (reassembled)
      return count_malformed(dec);
    struct frag_in frag = {6, nh, fh.id, out, h.hdr, fh.offset, fh.more, payload};
    return frag_handle(dec, &frag, out);
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

static enum l3_kind link_ethernet(struct rd *r) {
  rd_skip(r, 12); /* destination, source */
  uint16_t type = rd_u16(r);
  /* 802.1Q, 802.1ad and the older QinQ value; tags may be stacked. */
  while (!r->err && (type == 0x8100 || type == 0x88a8 || type == 0x9100)) {
    rd_skip(r, 2); /* tag control information */
    type = rd_u16(r);
  }
  return r->err ? L3_SHORT : ethertype_kind(type);
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

static enum l3_kind link_decode(int dlt, struct rd *r) {
  uint16_t type;
  switch (dlt) {
  case CAP_DLT_EN10MB:
    return link_ethernet(r);
  case CAP_DLT_LINUX_SLL: /* 16 bytes, protocol last */
    rd_skip(r, 14);
    type = rd_u16(r);
    return r->err ? L3_SHORT : ethertype_kind(type);
  case CAP_DLT_LINUX_SLL2: /* 20 bytes, protocol first */
    type = rd_u16(r);
    rd_skip(r, 18);
    return r->err ? L3_SHORT : ethertype_kind(type);
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

/* ---- Public functions -------------------------------------------------- */

bool cap_peek_tuple(int dlt, const uint8_t *frame, size_t caplen, struct cap_tuple *t) {
  struct rd r = rd_make(frame, frame ? caplen : 0);
  struct ip_header ip;
  memset(t, 0, sizeof(*t));
  switch (link_decode(dlt, &r)) {
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
  if (r.err)
    return false;
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
  return dec;
}

/* Datagrams still held were never completed: counted as timed out. */
void cap_decoder_free(struct cap_decoder *dec) {
  if (!dec)
    return;
  while (dec->dgrams) {
    dec->stats->frag_timeouts++;
    frag_dgram_free(dec, dec->dgrams);
  }
  free(dec->reasm);
  free(dec->buckets);
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
  switch (link_decode(dlt, &r)) {
  case L3_V4:
    return decode_ipv4(dec, r, out, false);
  case L3_V6:
    return decode_ipv6(dec, r, out, false);
  case L3_SHORT:
    return short_header(dec, out);
  case L3_BAD:
    return count_malformed(dec);
  case L3_NONE:
  default:
    dec->stats->non_ip++;
    return 0;
  }
}

void cap_endpoint_str(const struct cap_addr *addr, uint16_t port, char *buf, size_t buflen) {
  char text[INET6_ADDRSTRLEN];
  if (!buflen)
    return;
  int af = addr->family == 4 ? AF_INET : AF_INET6;
  if ((addr->family != 4 && addr->family != 6) || !inet_ntop(af, addr->bytes, text, sizeof text))
    snprintf(text, sizeof text, "?");
  if (addr->family == 6)
    snprintf(buf, buflen, "[%s]:%u", text, (unsigned)port);
  else
    snprintf(buf, buflen, "%s:%u", text, (unsigned)port);
}

/* value as exactly `width` decimal digits (value < 10^width), then `after`. */
static char *put_digits(char *p, unsigned value, int width, char after) {
  for (int i = width - 1; i >= 0; i--) {
    p[i] = (char)('0' + value % 10);
    value /= 10;
  }
  p[width] = after;
  return p + width + 1;
}

void cap_time_str(cap_time_us ts, char *buf, size_t buflen) {
  if (!buflen)
    return;
  /* Floor division, so that times before 1970 keep 0 <= micros < 10^6. */
  int64_t secs = ts / 1000000, micros = ts % 1000000;
  if (micros < 0) {
    secs--;
    micros += 1000000;
  }
  time_t t = (time_t)secs;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    snprintf(buf, buflen, "invalid-time");
    return;
  }
  long long year = tm.tm_year + 1900LL;
  if (year < 0 || year > 9999 || buflen < sizeof("YYYY-MM-DDTHH:MM:SS.uuuuuuZ")) {
    snprintf(buf, buflen, "%04lld-%02d-%02dT%02d:%02d:%02d.%06dZ", year, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)micros);
    return;
  }
  /* The same text without snprintf: reports print two times per fact, and
   * snprintf cost ten times the rest of this function. */
  char *p = buf;
  p = put_digits(p, (unsigned)year, 4, '-');
  p = put_digits(p, (unsigned)tm.tm_mon + 1, 2, '-');
  p = put_digits(p, (unsigned)tm.tm_mday, 2, 'T');
  p = put_digits(p, (unsigned)tm.tm_hour, 2, ':');
  p = put_digits(p, (unsigned)tm.tm_min, 2, ':');
  p = put_digits(p, (unsigned)tm.tm_sec, 2, '.');
  p = put_digits(p, (unsigned)micros, 6, 'Z');
  *p = '\0';
}
