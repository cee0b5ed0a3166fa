/*
 * capture/shard.h - which of n threads a flow belongs to under -j, for the
 * hand-off rings (dispatch.c) and the file-reading team (team.c) alike;
 * private to capture/.  Both directions of a flow go to the same thread.
 */
#ifndef TLSGRADE_CAPTURE_SHARD_H
#define TLSGRADE_CAPTURE_SHARD_H

#include "capture/capture.h"

#include <string.h>

/* One side of a flow as 64 bits: every reader hashes every packet, so this
 * is a few multiplications rather than a byte loop. */
static inline uint64_t shard_side_key(const struct cap_addr *a, uint16_t port) {
  uint64_t w0, w1;
  memcpy(&w0, a->bytes, 8);
  memcpy(&w1, a->bytes + 8, 8);
  uint64_t h = w0 * 0x9e3779b97f4a7c15ull ^ w1 * 0xc2b2ae3d27d4eb4full;
  return (h ^ ((uint64_t)port << 8 | a->family)) * 0x165667b19e3779f9ull;
}

/* Both directions of a flow hash alike: the two sides are combined by a
 * sum and an exclusive or, neither of which depends on their order. */
static inline size_t shard_of_tuple(const struct cap_addr *src, uint16_t sport,
                                    const struct cap_addr *dst, uint16_t dport, uint8_t proto,
                                    size_t n) {
  uint64_t a = shard_side_key(src, sport), b = shard_side_key(dst, dport);
  uint64_t h = ((a + b) ^ ((a ^ b) >> 23) ^ proto) * 0x9e3779b97f4a7c15ull;
  return (size_t)(((h >> 32) * (uint64_t)n) >> 32); /* [0, n) by a multiplication, not a division */
}

static inline size_t shard_of_packet(const struct cap_packet *pkt, size_t n) {
  return shard_of_tuple(&pkt->src, pkt->src_port, &pkt->dst, pkt->dst_port, pkt->l4_proto, n);
}

#endif
