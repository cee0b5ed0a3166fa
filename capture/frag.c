/*
 * capture/frag.c - IPv4 and IPv6 fragment reassembly (RFC 791 3.2,
 * RFC 8200 4.5), under caps: datagrams held at once, bytes held, and a
 * timeout in packet time.  The first copy of overlapping bytes wins; a
 * fragment that contradicts what is held is malformed.  A completed
 * datagram is rebuilt as one packet (an IPv6 one without the extension
 * headers of its fragmentable part) for the decoder to decode.
 */
#include "capture/frag.h"
#include "capture/csum.h"
#include "capture/ipv6_ext.h"
#include "base/hash.h"

#include <stdlib.h>
#include <string.h>

#define IP_MAX_DATAGRAM 65535u
#define IPV4_MAX_HDR 60u

/* A run of datagram bytes [offset, offset + len), in cap bytes of room.
 * Owned by its datagram.  A fragment that continues a piece extends it
 * (its room doubles), so fragments in order cost linear time however
 * small they are. */
struct frag_piece {
  struct frag_piece *next;
  size_t offset, len, cap;
  uint8_t data[];
};

/* One datagram under reassembly.  Owned by the fragment table. */
struct frag_dgram {
  struct list_node age;     /* on the table's list, oldest first */
  struct frag_dgram *hnext; /* hash chain */
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
  size_t npieces;
};

static void frag_dgram_free(struct frag_table *ft, struct frag_dgram *dg) {
  list_remove(&ft->by_age, &dg->age);
  struct frag_dgram **link = &ft->buckets[dg->bucket];
  while (*link && *link != dg)
    link = &(*link)->hnext;
  if (*link)
    *link = dg->hnext;
  for (struct frag_piece *p = dg->pieces, *next; p; p = next) {
    next = p->next;
    free(p);
  }
  ft->held_bytes -= dg->held;
  ft->ndgrams--;
  free(dg);
}

/* In unsigned arithmetic: timestamps come from the file and may be absurd. */
static bool older_than(cap_time_us now, cap_time_us then, cap_time_us timeout) {
  if (now <= then)
    return false;
  return timeout < 0 || (uint64_t)now - (uint64_t)then > (uint64_t)timeout;
}

static struct frag_dgram *frag_oldest(const struct frag_table *ft) {
  return ft->by_age.first ? list_entry(ft->by_age.first, struct frag_dgram, age) : NULL;
}

/* Datagrams are kept in arrival order: expire from the oldest end until
 * one is young enough, so a fragment costs O(1) however many are held. */
static void frag_expire(struct frag_table *ft, cap_time_us now) {
  struct frag_dgram *dg;
  while ((dg = frag_oldest(ft)) && older_than(now, dg->first_ts, ft->lim->frag_timeout)) {
    ft->stats->frag_timeouts++;
    frag_dgram_free(ft, dg);
  }
}

/* A datagram is (family, id, protocol, source, destination), in order
 * (RFC 791 2.3, RFC 8200 4.5). */
static size_t frag_bucket(const struct frag_table *ft, const struct frag_in *in) {
  uint64_t src = hash_16(in->src->bytes, (uint64_t)in->proto << 8 | in->family);
  uint64_t dst = hash_16(in->dst->bytes, in->id);
  return hash_range(hash_ordered(src, dst), ft->nbuckets);
}

static struct frag_dgram *frag_find(struct frag_table *ft, const struct frag_in *in) {
  if (!ft->buckets)
    return NULL;
  for (struct frag_dgram *dg = ft->buckets[frag_bucket(ft, in)]; dg; dg = dg->hnext) {
    if (dg->family == in->family && dg->id == in->id && dg->proto == in->proto &&
        cap_addr_eq(&dg->src, in->src) && cap_addr_eq(&dg->dst, in->dst))
      return dg;
  }
  return NULL;
}

static struct frag_dgram *frag_create(struct frag_table *ft, const struct frag_in *in,
                                      cap_time_us now) {
  if (ft->ndgrams >= ft->lim->frag_datagrams)
    return NULL;
  if (!ft->buckets) {
    size_t n = 64;
    while (n < ft->lim->frag_datagrams && n < (1u << 20))
      n *= 2;
    if (!(ft->buckets = calloc(n, sizeof *ft->buckets)))
      return NULL;
    ft->nbuckets = n;
  }
  struct frag_dgram *dg = malloc(sizeof *dg);
  if (!dg)
    return NULL;
  *dg = (struct frag_dgram){.bucket = frag_bucket(ft, in),
                            .family = in->family,
                            .proto = in->proto,
                            .id = in->id,
                            .src = *in->src,
                            .dst = *in->dst,
                            .first_ts = now};
  list_push_back(&ft->by_age, &dg->age);
  dg->hnext = ft->buckets[dg->bucket];
  ft->buckets[dg->bucket] = dg;
  ft->ndgrams++;
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

/* Append bytes to the piece *link points to, which they continue. */
static bool frag_extend(struct frag_piece **link, const uint8_t *bytes, size_t n) {
  struct frag_piece *p = *link;
  if (p->len + n > p->cap) {
    size_t cap = p->cap * 2 > p->len + n ? p->cap * 2 : p->len + n;
    if (cap > IP_MAX_DATAGRAM)
      cap = IP_MAX_DATAGRAM;
    struct frag_piece *grown = realloc(p, sizeof *p + cap);
    if (!grown)
      return false;
    grown->cap = cap;
    *link = p = grown;
  }
  memcpy(p->data + p->len, bytes, n);
  p->len += n;
  return true;
}

/* Bytes [cur, cur + n) no piece covers, placed before *link (whose piece,
 * if any, starts at or after their end); prev_link points to the piece
 * before, NULL at the head. */
static bool frag_place(struct frag_table *ft, struct frag_dgram *dg, struct frag_piece **prev_link,
                       struct frag_piece **link, size_t cur, const uint8_t *bytes, size_t n) {
  if (prev_link && (*prev_link)->offset + (*prev_link)->len == cur)
    return frag_extend(prev_link, bytes, n);
  /* A real datagram arrives in order, or in reverse, in at most 45 pieces
   * of a 1500-byte MTU; tiny fragments out of order (each insertion walks
   * the pieces) are refused past frag_pieces (64 by default). */
  if (dg->npieces >= ft->lim->frag_pieces) {
    ft->stats->cap_frag_pieces++;
    return false;
  }
  struct frag_piece *piece = malloc(sizeof *piece + n);
  if (!piece)
    return false;
  piece->offset = cur, piece->len = n, piece->cap = n, piece->next = *link;
  memcpy(piece->data, bytes, n);
  *link = piece;
  dg->npieces++;
  return true;
}

/* Store the parts of the fragment no piece covers: the first copy wins. */
static bool frag_insert(struct frag_table *ft, struct frag_dgram *dg, const struct frag_in *in) {
  size_t end = in->offset + in->data.n, cur = in->offset;
  struct frag_piece **link = &dg->pieces, **prev_link = NULL;
  while (cur < end) {
    struct frag_piece *p = *link;
    if (p && p->offset + p->len <= cur) {
      prev_link = link;
      link = &p->next;
      continue;
    }
    size_t gap_end = (p && p->offset < end) ? p->offset : end;
    if (gap_end <= cur) { /* p covers cur */
      cur = p->offset + p->len;
      prev_link = link;
      link = &p->next;
      continue;
    }
    struct rd src = in->data;
    rd_skip(&src, cur - in->offset);
    const uint8_t *bytes = rd_bytes(&src, gap_end - cur);
    bool extended = prev_link && (*prev_link)->offset + (*prev_link)->len == cur;
    if (!bytes || !frag_place(ft, dg, prev_link, link, cur, bytes, gap_end - cur))
      return false;
    if (!extended) { /* a new piece, now *link */
      prev_link = link;
      link = &(*link)->next;
    } else {
      link = &(*prev_link)->next; /* the extended piece may have moved */
    }
    dg->held += gap_end - cur;
    ft->held_bytes += gap_end - cur;
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

/* Rebuild the datagram in ft->reasm; returns its length, 0 if it is bad. */
static size_t frag_rebuild(struct frag_table *ft, const struct frag_dgram *dg) {
  uint8_t *buf = ft->reasm;
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
  struct ipv6_frag_fields nested = {0};
  struct cap_addr final_dst = dg->dst;
  if (ipv6_ext_walk(&payload, &nh, &nested, &final_dst) < 0 || nested.more || nested.offset)
    return 0;
  size_t ext_len = dg->total - payload.n;
  memmove(buf + IPV6_HDR, buf + IPV6_HDR + ext_len, payload.n);
  put_u16(buf, 4, (uint16_t)payload.n);
  buf[6] = nh;
  return IPV6_HDR + payload.n;
}

/* A fragment that cannot be stored; forget a datagram it would have begun. */
static bool frag_refuse(struct frag_table *ft, struct frag_dgram *dg, uint64_t *counter) {
  (*counter)++;
  if (dg && !dg->pieces && !dg->last_seen && !dg->hdr_len)
    frag_dgram_free(ft, dg);
  return false;
}

static bool count_malformed(struct frag_table *ft) {
  ft->stats->malformed++;
  return false;
}

/* The datagram is whole: rebuild it in ft->reasm. */
static bool frag_complete(struct frag_table *ft, struct frag_dgram *dg, struct rd *datagram) {
  if (!ft->reasm)
    ft->reasm = malloc(IPV4_MAX_HDR + IP_MAX_DATAGRAM);
  if (!ft->reasm) {
    ft->stats->cap_frag++;
    frag_dgram_free(ft, dg);
    return false;
  }
  size_t len = frag_rebuild(ft, dg);
  frag_dgram_free(ft, dg);
  if (!len)
    return count_malformed(ft);
  ft->stats->reassembled++;
  *datagram = rd_make(ft->reasm, len);
  return true;
}

bool frag_add(struct frag_table *ft, const struct frag_in *in, cap_time_us now,
              struct rd *datagram) {
  struct cap_stats *st = ft->stats;
  frag_expire(ft, now);
  size_t end = in->offset + in->data.n;
  size_t limit = IP_MAX_DATAGRAM - (in->family == 4 ? in->hdr.n : 0);
  if (end > limit || (in->more && in->data.n % 8))
    return count_malformed(ft);
  struct frag_dgram *dg = frag_find(ft, in);
  if (!dg && !(dg = frag_create(ft, in, now)))
    return frag_refuse(ft, NULL, &st->cap_frag);
  if (!frag_consistent(dg, in))
    return frag_refuse(ft, dg, &st->malformed);
  if (ft->held_bytes + frag_uncovered(dg, in->offset, end) > ft->lim->frag_bytes)
    return frag_refuse(ft, dg, &st->cap_frag);
  if (!frag_insert(ft, dg, in))
    return frag_refuse(ft, dg, &st->cap_frag);
  if (!in->more) {
    dg->last_seen = true;
    dg->total = end;
  }
  if (in->offset == 0 && !dg->hdr_len && in->hdr.n <= sizeof dg->hdr) {
    memcpy(dg->hdr, in->hdr.p, in->hdr.n);
    dg->hdr_len = in->hdr.n;
  }
  if (dg->last_seen && dg->hdr_len && dg->held == dg->total)
    return frag_complete(ft, dg, datagram);
  return false;
}

void frag_table_init(struct frag_table *ft, const struct cap_limits *lim, struct cap_stats *stats) {
  memset(ft, 0, sizeof(*ft));
  ft->lim = lim;
  ft->stats = stats;
}

void frag_table_free(struct frag_table *ft) {
  struct frag_dgram *dg;
  while ((dg = frag_oldest(ft))) {
    ft->stats->frag_timeouts++;
    frag_dgram_free(ft, dg);
  }
  free(ft->reasm);
  free(ft->buckets);
}
