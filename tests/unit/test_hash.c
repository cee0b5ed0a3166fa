/*
 * tests/unit/test_hash.c - base/hash.h and the flow hash built on it
 * (capture/tuple_hash.h).
 *
 * The -j thread of a flow decides the order of the --flows and
 * --handshakes lines, so it must not change when the hash code moves: the
 * reference below is the formula of capture/dispatch.c before base/hash.h
 * existed, written out by hand, and the shard must equal it for every
 * tuple tried.  The other checks are properties: symmetry, range,
 * sensitivity to every field.
 */
#include "base/hash.h"
#include "capture/tuple_hash.h"
#include "harness.h"

/* dispatch.c's side_key and tuple_shard as they were. */
static uint64_t ref_side_key(const struct cap_addr *a, uint16_t port) {
  uint64_t w0, w1;
  memcpy(&w0, a->bytes, 8);
  memcpy(&w1, a->bytes + 8, 8);
  uint64_t h = w0 * 0x9e3779b97f4a7c15ull ^ w1 * 0xc2b2ae3d27d4eb4full;
  return (h ^ ((uint64_t)port << 8 | a->family)) * 0x165667b19e3779f9ull;
}

static size_t ref_tuple_shard(const struct cap_addr *src, uint16_t sport,
                              const struct cap_addr *dst, uint16_t dport, uint8_t proto, size_t n) {
  uint64_t a = ref_side_key(src, sport), b = ref_side_key(dst, dport);
  uint64_t h = ((a + b) ^ ((a ^ b) >> 23) ^ proto) * 0x9e3779b97f4a7c15ull;
  return (size_t)(((h >> 32) * (uint64_t)n) >> 32);
}

/* xorshift64: reproducible pseudo-random tuples */
static uint64_t next_random(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

static void random_addr(uint64_t *state, struct cap_addr *a) {
  memset(a, 0, sizeof(*a));
  a->family = next_random(state) & 1 ? 6 : 4;
  uint64_t w0 = next_random(state), w1 = next_random(state);
  memcpy(a->bytes, &w0, a->family == 6 ? 8 : 4);
  if (a->family == 6)
    memcpy(a->bytes + 8, &w1, 8);
}

static void test_shard_unchanged(void) {
  uint64_t state = 0x243f6a8885a308d3ull;
  unsigned differ = 0;
  for (int i = 0; i < 20000; i++) {
    struct cap_addr src, dst;
    random_addr(&state, &src);
    random_addr(&state, &dst);
    uint16_t sport = (uint16_t)next_random(&state), dport = (uint16_t)next_random(&state);
    uint8_t proto = next_random(&state) & 1 ? 6 : 17;
    for (size_t n = 1; n <= 64; n += (n < 8 ? 1 : 7))
      differ += shard_of_tuple(&src, sport, &dst, dport, proto, n) !=
                ref_tuple_shard(&src, sport, &dst, dport, proto, n);
  }
  CHECK_EQ_U(differ, 0);
}

static void test_symmetric_and_sensitive(void) {
  uint64_t state = 0x13198a2e03707344ull;
  unsigned asym = 0, same_port = 0, same_proto = 0, same_addr = 0;
  for (int i = 0; i < 5000; i++) {
    struct cap_addr src, dst, other;
    random_addr(&state, &src);
    random_addr(&state, &dst);
    other = dst;
    other.bytes[3] ^= 0x01;
    uint16_t sport = (uint16_t)next_random(&state), dport = (uint16_t)next_random(&state);
    uint64_t h = tuple_hash(&src, sport, &dst, dport, 6);
    asym += h != tuple_hash(&dst, dport, &src, sport, 6);
    same_port += h == tuple_hash(&src, (uint16_t)(sport + 1), &dst, dport, 6);
    same_proto += h == tuple_hash(&src, sport, &dst, dport, 17);
    same_addr += h == tuple_hash(&src, sport, &other, dport, 6);
  }
  CHECK_EQ_U(asym, 0);
  CHECK_EQ_U(same_port, 0);
  CHECK_EQ_U(same_proto, 0);
  CHECK_EQ_U(same_addr, 0);
}

static void test_ordered_depends_on_order(void) {
  uint64_t state = 0xa4093822299f31d0ull;
  unsigned equal = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t a = next_random(&state), b = next_random(&state);
    equal += hash_ordered(a, b) == hash_ordered(b, a);
  }
  CHECK_EQ_U(equal, 0);
  CHECK(hash_unordered(1, 2, 3) == hash_unordered(2, 1, 3));
}

/* hash_range stays in [0, n) and spreads evenly: with 64000 hashes over
 * n = 64 slots, each slot holds 1000 on average; a slot under 800 or over
 * 1200 would be more than six standard deviations off. */
static void test_range(void) {
  CHECK_EQ_U(hash_range(UINT64_MAX, 1), 0);
  CHECK_EQ_U(hash_range(UINT64_MAX, 64), 63);
  CHECK_EQ_U(hash_range(0, 64), 0);
  unsigned count[64] = {0}, out = 0;
  for (int i = 0; i < 64000; i++) {
    uint8_t bytes[16] = {0};
    uint64_t w = (uint64_t)i; /* consecutive addresses: the usual worst case */
    memcpy(bytes, &w, 8);
    size_t k = hash_range(hash_16(bytes, 443), 64);
    if (k < 64)
      count[k]++;
    else
      out++;
  }
  CHECK_EQ_U(out, 0);
  unsigned lo = UINT32_MAX, hi = 0;
  for (int k = 0; k < 64; k++) {
    lo = count[k] < lo ? count[k] : lo;
    hi = count[k] > hi ? count[k] : hi;
  }
  CHECK(lo >= 800 && hi <= 1200);
}

int main(void) {
  RUN(test_shard_unchanged);
  RUN(test_symmetric_and_sensitive);
  RUN(test_ordered_depends_on_order);
  RUN(test_range);
  return harness_done();
}
