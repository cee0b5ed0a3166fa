/*
 * base/rd.h - the bounded reader: every byte from the wire is read through
 * it, in capture/ (frames) and in dissect/ (TLS, QUIC, HTTP).
 *
 * A struct rd knows how much is left.  A read past the end sets the sticky
 * err flag, empties the reader and returns zero (or NULL, or an empty
 * sub-reader); parsing code checks err once at the end of a structure
 * instead of after every field.  Vectors narrow the reader to their body,
 * as the RFCs' struct definitions do.  Peeks read at an offset without
 * consuming, under the same rules.  Depends on nothing.
 */
#ifndef TLSGRADE_BASE_RD_H
#define TLSGRADE_BASE_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
  const uint8_t *p;
  size_t n;
  bool err; /* sticky */
};

static inline struct rd rd_make(const uint8_t *p, size_t n) {
  struct rd r = {p, n, false};
  return r;
}

/* k more bytes are there; otherwise err is set and the reader emptied. */
static inline bool rd_need(struct rd *r, size_t k) {
  if (r->err || r->n < k) {
    r->err = true;
    r->n = 0;
    return false;
  }
  return true;
}

/* Big-endian (network order) loads of bytes known to be there. */
static inline uint16_t rd_load16(const uint8_t *p) {
  return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd_load24(const uint8_t *p) {
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t rd_load32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Consume k bytes; returns their start (NULL on error). */
static inline const uint8_t *rd_bytes(struct rd *r, size_t k) {
  if (!rd_need(r, k))
    return NULL;
  const uint8_t *p = r->p;
  r->p += k;
  r->n -= k;
  return p;
}

static inline uint8_t rd_u8(struct rd *r) {
  const uint8_t *b = rd_bytes(r, 1);
  return b ? b[0] : 0;
}

static inline uint16_t rd_u16(struct rd *r) {
  const uint8_t *b = rd_bytes(r, 2);
  return b ? rd_load16(b) : 0;
}

static inline uint32_t rd_u24(struct rd *r) {
  const uint8_t *b = rd_bytes(r, 3);
  return b ? rd_load24(b) : 0;
}

static inline uint32_t rd_u32(struct rd *r) {
  const uint8_t *b = rd_bytes(r, 4);
  return b ? rd_load32(b) : 0;
}

/* Skip k bytes. */
static inline void rd_skip(struct rd *r, size_t k) {
  (void)rd_bytes(r, k);
}

/* Consume k bytes into dst; on error dst is left as it was. */
static inline bool rd_copy(struct rd *r, void *dst, size_t k) {
  const uint8_t *b = rd_bytes(r, k);
  if (b && k)
    memcpy(dst, b, k);
  return b != NULL;
}

/* The next k bytes as a sub-reader; on error an empty reader with err set. */
static inline struct rd rd_sub(struct rd *r, size_t k) {
  struct rd s = {NULL, 0, true};
  const uint8_t *b = rd_bytes(r, k);
  if (!b)
    return s;
  s.p = b;
  s.n = k;
  s.err = false;
  return s;
}

/* Length-prefixed vectors: u8 / u16 / u24 length, then the body. */
static inline struct rd rd_vec8(struct rd *r) {
  size_t k = rd_u8(r);
  return r->err ? rd_sub(r, 1) : rd_sub(r, k);
}

static inline struct rd rd_vec16(struct rd *r) {
  size_t k = rd_u16(r);
  return r->err ? rd_sub(r, 1) : rd_sub(r, k);
}

static inline struct rd rd_vec24(struct rd *r) {
  size_t k = rd_u24(r);
  return r->err ? rd_sub(r, 1) : rd_sub(r, k);
}

/* Consumed exactly, without error. */
static inline bool rd_done(const struct rd *r) {
  return !r->err && r->n == 0;
}

/* ---- Peeks: the k bytes at offset `at`, nothing consumed.  Short: err
 * set and the reader emptied, as for a read. */

static inline const uint8_t *rd_peek_bytes(struct rd *r, size_t at, size_t k) {
  if (r->err || r->n < k || r->n - k < at) {
    r->err = true;
    r->n = 0;
    return NULL;
  }
  return r->p + at;
}

static inline uint8_t rd_peek_u8(struct rd *r, size_t at) {
  const uint8_t *b = rd_peek_bytes(r, at, 1);
  return b ? b[0] : 0;
}

static inline uint16_t rd_peek_u16(struct rd *r, size_t at) {
  const uint8_t *b = rd_peek_bytes(r, at, 2);
  return b ? rd_load16(b) : 0;
}

static inline uint32_t rd_peek_u32(struct rd *r, size_t at) {
  const uint8_t *b = rd_peek_bytes(r, at, 4);
  return b ? rd_load32(b) : 0;
}

#endif
