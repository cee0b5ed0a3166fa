/*
 * capture/csum.h - the Internet checksum (RFC 1071), private to capture/:
 * IP decoding verifies with it (decode.c), fragment reassembly writes the
 * rebuilt IPv4 header's (frag.c).
 */
#ifndef TLSGRADE_CAPTURE_CSUM_H
#define TLSGRADE_CAPTURE_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Adds native-order words; the one's complement sum is byte-order
 * independent (RFC 1071 2(B)), so the folded result is the checksum in
 * native order.  Every chunk but the last must have an even length. */
/* The ones' complement sum is the same over 16-, 32- or 64-bit words once
 * the carries are folded back (RFC 1071 2(B)): add 64-bit words, count
 * the carries out of bit 63 (add/adc), fold at the end.  Every payload byte passes here
 * once: it is the hottest loop of a bulk capture. */
static inline uint64_t csum_add(uint64_t acc, const uint8_t *data, size_t len) {
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

static inline uint16_t csum_fold(uint64_t acc) {
  while (acc >> 16)
    acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)acc;
}

/* A span including its checksum field verifies when the sum is all ones. */
static inline bool csum_ok(uint64_t acc) {
  return csum_fold(acc) == 0xffff;
}

/* A big-endian 16-bit field written into our own buffers (a pseudo-header,
 * a rebuilt datagram), never into a frame. */
static inline void put_u16(uint8_t *buf, size_t at, uint16_t v) {
  buf[at] = (uint8_t)(v >> 8);
  buf[at + 1] = (uint8_t)v;
}

#endif
