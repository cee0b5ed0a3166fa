/*
 * dissect/quic_crypto.h - a QUIC CRYPTO stream's reassembly (private to
 * dissect/; quic.c keeps one per packet number space and direction).
 */
#ifndef TLSGRADE_DISSECT_QUIC_CRYPTO_H
#define TLSGRADE_DISSECT_QUIC_CRYPTO_H

#include "base/rd.h"

#include <stddef.h>
#include <stdint.h>

struct quic_held;
struct tls_budget;

/* Owns its held pieces (quic_crypto_stream_free). */
struct quic_crypto_stream {
  uint64_t next_offset;   /* every byte below was handed on */
  struct quic_held *held; /* sorted by offset */
  size_t held_bytes;
  size_t held_pieces;
};

/* What a stream may hold beyond the hole before its next byte: per stream
 * max_bytes and max_pieces; all connections' pieces (each costing its
 * bytes and its header) draw on budget (NULL: no shared bound) up to
 * budget_max, the first TLS_BUDGET_FREE_BYTES of a stream always granted. */
struct quic_hold_caps {
  size_t max_bytes, max_pieces;
  struct tls_budget *budget;
  size_t budget_max;
};

/* Pieces and bytes not held, by the cap that refused them. */
struct quic_refused {
  uint64_t *bytes;         /* over max_bytes */
  uint64_t *pieces;        /* over max_bytes or max_pieces */
  uint64_t *budget_pieces; /* over the budget */
};

/* In-order bytes data[0..len) at stream offset `offset`. */
typedef void (*quic_bytes_fn)(void *ctx, const uint8_t *data, size_t len, uint64_t offset);

/* A CRYPTO frame's data at stream offset off: what is now in order goes to
 * fn, each byte once; a piece beyond a hole is held while caps allow,
 * else it is refused and counted. */
void quic_crypto_stream_data(struct quic_crypto_stream *s, const struct quic_hold_caps *caps,
                             uint64_t off, struct rd data, quic_bytes_fn fn, void *ctx,
                             const struct quic_refused *refused);
/* What the stream's held pieces take from the budget. */
size_t quic_crypto_stream_cost(const struct quic_crypto_stream *s);
/* Frees the held pieces and gives their cost back to budget (may be NULL). */
void quic_crypto_stream_free(struct quic_crypto_stream *s, struct tls_budget *budget);

#endif
