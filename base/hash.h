/*
 * base/hash.h - hashing for in-memory tables: the flow table, the fragment
 * table, the choice of a thread under -j, the certificate cache, the
 * evidence store.  Depends on nothing.
 *
 * Multiplicative hashing (Knuth, TAOCP vol. 3, 6.4): a word times a large
 * odd constant carries every input bit into the high bits of the product,
 * so tables take their index from the high bits (hash_range, or the upper
 * half), never from the low bits alone.  Whole 64-bit words are mixed, not
 * bytes: every packet is hashed at least once.  FNV-1a (Fowler, Noll, Vo;
 * draft-eastlake-fnv) for byte strings of any length: names, keys, the
 * ends of a certificate, where a byte at a time is cheap enough.
 */
#ifndef TLSGRADE_BASE_HASH_H
#define TLSGRADE_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HASH_K1 0x9e3779b97f4a7c15ull /* 2^64 divided by the golden ratio, odd */
#define HASH_K2 0xc2b2ae3d27d4eb4full /* two more odd constants with well-spread bits */
#define HASH_K3 0x165667b19e3779f9ull

/* 16 bytes (an IPv6 address, or an IPv4 one padded with zeros) and a tag of
 * up to 64 bits (a port, a family, an id) as one 64-bit hash. */
static inline uint64_t hash_16(const uint8_t bytes[16], uint64_t tag) {
  uint64_t w0, w1;
  memcpy(&w0, bytes, 8);
  memcpy(&w1, bytes + 8, 8);
  uint64_t h = w0 * HASH_K1 ^ w1 * HASH_K2;
  return (h ^ tag) * HASH_K3;
}

/* Two hashes combined so that their order does not matter (a sum and an
 * exclusive or, both commutative): the two directions of a flow. */
static inline uint64_t hash_unordered(uint64_t a, uint64_t b, uint64_t tag) {
  return ((a + b) ^ ((a ^ b) >> 23) ^ tag) * HASH_K1;
}

/* Two hashes combined in order (a is multiplied twice, b once). */
static inline uint64_t hash_ordered(uint64_t a, uint64_t b) {
  return (a * HASH_K2 ^ b) * HASH_K1;
}

#define HASH_FNV_OFFSET 0xcbf29ce484222325ull /* FNV-1a 64-bit offset basis */
#define HASH_FNV_PRIME 0x100000001b3ull       /* FNV-1a 64-bit prime */

/* FNV-1a over n bytes, continuing from h (HASH_FNV_OFFSET to start). */
static inline uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * HASH_FNV_PRIME;
  return h;
}

/* FNV-1a over a NUL-terminated string, continuing from h. */
static inline uint64_t hash_str(uint64_t h, const char *s) {
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * HASH_FNV_PRIME;
  return h;
}

/* [0, n) from the hash's high bits, by a multiplication rather than a
 * division (n < 2^32). */
static inline size_t hash_range(uint64_t h, size_t n) {
  return (size_t)(((h >> 32) * (uint64_t)n) >> 32);
}

#endif
