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

/* Owns its held pieces (quic_crypto_stream_free). */
struct quic_crypto_stream {
  uint64_t next_offset;   /* every byte below was handed on */
  struct quic_held *held; /* sorted by offset */
  size_t held_bytes;
  size_t held_pieces;
};

/* In-order bytes data[0..len) at stream offset `offset`. */
typedef void (*quic_bytes_fn)(void *ctx, const uint8_t *data, size_t len, uint64_t offset);

/* A CRYPTO frame's data at stream offset off: what is now in order goes to
 * fn, each byte once; a piece beyond a hole is held while at most
 * max_bytes and QUIC_HELD_PIECES are, else it is refused and counted. */
void quic_crypto_stream_data(struct quic_crypto_stream *s, size_t max_bytes, uint64_t off,
                             struct rd data, quic_bytes_fn fn, void *ctx, uint64_t *bytes_refused,
                             uint64_t *pieces_refused);
void quic_crypto_stream_free(struct quic_crypto_stream *s);

#endif
