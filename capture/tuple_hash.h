/*
 * capture/tuple_hash.h - the symmetric hash of a flow's addresses, ports
 * and protocol, private to capture/: the flow table's buckets (flow.c) and,
 * under -j, the thread a flow belongs to, for the hand-off rings
 * (dispatch.c) and the file-reading team (team.c) alike.  Both directions
 * of a flow hash alike.
 */
#ifndef TLSGRADE_CAPTURE_TUPLE_HASH_H
#define TLSGRADE_CAPTURE_TUPLE_HASH_H

#include "capture/capture.h"
#include "base/hash.h"

/* One side of a flow as 64 bits: every reader hashes every packet, so this
 * is a few multiplications rather than a byte loop. */
static inline uint64_t tuple_side_hash(const struct cap_addr *a, uint16_t port) {
  return hash_16(a->bytes, (uint64_t)port << 8 | a->family);
}

static inline uint64_t tuple_hash(const struct cap_addr *src, uint16_t sport,
                                  const struct cap_addr *dst, uint16_t dport, uint8_t proto) {
  return hash_unordered(tuple_side_hash(src, sport), tuple_side_hash(dst, dport), proto);
}

/* A tunnelled flow's tenant (struct cap_encap) mixed in; a packet outside
 * any tunnel keeps the hash of its tuple, unchanged.  The thread under -j
 * is chosen by the tuple alone: both directions have the same tenant. */
static inline uint64_t tuple_hash_tenant(uint64_t tuple, uint64_t tenant) {
  return tenant ? hash_ordered(tuple, tenant) : tuple;
}

/* The thread (of n) a flow belongs to under -j: from the hash's highest
 * bits. */
static inline size_t shard_of_tuple(const struct cap_addr *src, uint16_t sport,
                                    const struct cap_addr *dst, uint16_t dport, uint8_t proto,
                                    size_t n) {
  return hash_range(tuple_hash(src, sport, dst, dport, proto), n);
}

static inline size_t shard_of_packet(const struct cap_packet *pkt, size_t n) {
  return shard_of_tuple(&pkt->src, pkt->src_port, &pkt->dst, pkt->dst_port, pkt->l4_proto, n);
}

#endif
