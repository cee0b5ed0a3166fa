/*
 * dissect/rd.h - the bounded reader (private to dissect/).
 *
 * Every byte from the wire is read through a struct rd that knows how much
 * is left.  A read past the end sets the sticky err flag and returns zero;
 * parsing code checks err once at the end of a structure instead of after
 * every field.  Vectors narrow the reader to their body, as the RFCs'
 * struct definitions do.
 */
#ifndef TLSGRADE_DISSECT_RD_H
#define TLSGRADE_DISSECT_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
  const uint8_t *p;
  size_t n;
  bool err; /* sticky */
};

static inline struct rd rd_make(const uint8_t *p, size_t n) {
  struct rd r = {p, n, false};
  return r;
}

static inline bool rd_need(struct rd *r, size_t k) {
  if (r->err || r->n < k) {
    r->err = true;
    r->n = 0;
    return false;
  }
  return true;
}

static inline uint8_t rd_u8(struct rd *r) {
  if (!rd_need(r, 1))
    return 0;
  uint8_t v = r->p[0];
  r->p += 1;
  r->n -= 1;
  return v;
}

static inline uint16_t rd_u16(struct rd *r) {
  if (!rd_need(r, 2))
    return 0;
  uint16_t v = (uint16_t)(r->p[0] << 8 | r->p[1]);
  r->p += 2;
  r->n -= 2;
  return v;
}

static inline uint32_t rd_u24(struct rd *r) {
  if (!rd_need(r, 3))
    return 0;
  uint32_t v = (uint32_t)r->p[0] << 16 | (uint32_t)r->p[1] << 8 | r->p[2];
  r->p += 3;
  r->n -= 3;
  return v;
}

static inline uint32_t rd_u32(struct rd *r) {
  if (!rd_need(r, 4))
    return 0;
  uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
  r->p += 4;
  r->n -= 4;
  return v;
}

/* The next k bytes as a sub-reader; on error an empty reader with err set. */
static inline struct rd rd_sub(struct rd *r, size_t k) {
  struct rd s = {NULL, 0, true};
  if (!rd_need(r, k))
    return s;
  s.p = r->p;
  s.n = k;
  s.err = false;
  r->p += k;
  r->n -= k;
  return s;
}

/* Skip k bytes; returns their start (NULL on error). */
static inline const uint8_t *rd_bytes(struct rd *r, size_t k) {
  if (!rd_need(r, k))
    return NULL;
  const uint8_t *p = r->p;
  r->p += k;
  r->n -= k;
  return p;
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

#endif
