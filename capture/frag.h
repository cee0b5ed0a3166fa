/*
 * capture/frag.h - IP fragment reassembly (frag.c); private to capture/.
 * The decoder (decode.c) hands each fragment over and decodes the datagram
 * it completes.
 */
#ifndef TLSGRADE_CAPTURE_FRAG_H
#define TLSGRADE_CAPTURE_FRAG_H

#include "capture/capture.h"
#include "base/list.h"
#include "base/rd.h"

struct frag_dgram;

/* The datagrams under reassembly, under the caps of lim; counts in stats
 * (both borrowed).  Owns its datagrams and the rebuild buffer. */
struct frag_table {
  const struct cap_limits *lim;
  struct cap_stats *stats;
  struct list by_age;          /* datagrams, oldest first: expiry takes the first */
  struct frag_dgram **buckets; /* lookup by (family, id, proto, addresses) */
  size_t nbuckets;             /* power of two, allocated on first use */
  size_t ndgrams;
  size_t held_bytes;
  uint8_t *reasm; /* the last rebuilt datagram; allocated on first use */
};

/* What one fragment brings. */
struct frag_in {
  uint8_t family, proto;
  uint32_t id;
  const struct cap_addr *src, *dst;
  struct rd hdr; /* IPv4 header with options, or the IPv6 fixed header */
  size_t offset;
  bool more;
  struct rd data;
};

void frag_table_init(struct frag_table *ft, const struct cap_limits *lim, struct cap_stats *stats);
/* Datagrams still held were never completed: counted as timed out. */
void frag_table_free(struct frag_table *ft);
/* Store one fragment that arrived at packet time now (expiring the
 * datagrams older than the timeout first).  True when it completes its
 * datagram: *datagram then reads the rebuilt IP datagram (header
 * included, of in->family), valid until the next call; it is counted in
 * stats->reassembled.  A fragment refused is counted (malformed, cap_frag). */
bool frag_add(struct frag_table *ft, const struct frag_in *in, cap_time_us now,
              struct rd *datagram);

#endif
