/*
 * dissect/quic_crypto.c - one QUIC CRYPTO stream (RFC 9000 19.6) put back
 * in order: in-order bytes are handed on at once, out-of-order pieces are
 * held (at most QUIC_HELD_PIECES and max_bytes; refusals counted) until
 * the hole before them fills.  The first copy of a byte wins.
 */
#include "dissect/dissect.h"
#include "dissect/quic_crypto.h"

#include <stdlib.h>
#include <string.h>

/* An out-of-order CRYPTO piece; pieces never overlap. */
struct quic_held {
  struct quic_held *next;
  uint64_t offset;
  size_t len;
  uint8_t data[];
};

void quic_crypto_stream_free(struct quic_crypto_stream *s) {
  struct quic_held *h = s->held;
  while (h) {
    struct quic_held *next = h->next;
    free(h);
    h = next;
  }
  s->held = NULL;
}

/* Keep data[0..len) (stream offset off) where no held piece covers it. */
static void hold(struct quic_crypto_stream *s, size_t max_bytes, uint64_t off, struct rd data,
                 uint64_t *bytes_refused, uint64_t *pieces_refused) {
  struct quic_held **link = &s->held;
  uint64_t cur = off, end = off + data.n;

  while (cur < end) {
    struct quic_held *h = *link;
    if (h && h->offset + h->len <= cur) {
      link = &h->next;
      continue;
    }
    uint64_t piece_end = h && h->offset < end ? h->offset : end;
    if (piece_end > cur) {
      size_t len = (size_t)(piece_end - cur);
      struct rd src = data;
      rd_bytes(&src, (size_t)(cur - off));
      struct quic_held *piece = NULL;
      if (s->held_pieces < QUIC_HELD_PIECES && len <= max_bytes - s->held_bytes)
        piece = malloc(sizeof *piece + len);
      if (piece) {
        memcpy(piece->data, rd_bytes(&src, len), len);
        piece->offset = cur;
        piece->len = len;
        piece->next = h;
        *link = piece;
        link = &piece->next;
        s->held_bytes += len;
        s->held_pieces++;
      } else {
        *bytes_refused += len;
        (*pieces_refused)++;
      }
    }
    if (!h || h->offset >= end)
      break;
    cur = h->offset + h->len;
    link = &h->next;
  }
}

/* Deliver held pieces that became contiguous. */
static void drain(struct quic_crypto_stream *s, quic_bytes_fn fn, void *ctx) {

  while (s->held && s->held->offset <= s->next_offset) {
    struct quic_held *h = s->held;
    uint64_t end = h->offset + h->len;
    if (end > s->next_offset) {
      struct rd tail = rd_make(h->data, h->len);
      rd_bytes(&tail, (size_t)(s->next_offset - h->offset));
      fn(ctx, tail.p, tail.n, s->next_offset);
      s->next_offset = end;
    }
    s->held = h->next;
    s->held_bytes -= h->len;
    s->held_pieces--;
    free(h);
  }
}

/* In-order data is delivered around held pieces: those came first. */
void quic_crypto_stream_data(struct quic_crypto_stream *s, size_t max_bytes, uint64_t off,
                             struct rd data, quic_bytes_fn fn, void *ctx, uint64_t *bytes_refused,
                             uint64_t *pieces_refused) {
  uint64_t end = off + data.n;

  if (off > s->next_offset) {
    hold(s, max_bytes, off, data, bytes_refused, pieces_refused);
    return;
  }
  while (s->next_offset < end) {
    drain(s, fn, ctx);
    if (s->next_offset >= end)
      break;
    /* After drain() the first held piece, if any, starts beyond next_offset. */
    uint64_t limit = s->held && s->held->offset < end ? s->held->offset : end;
    struct rd part = data;
    rd_bytes(&part, (size_t)(s->next_offset - off));
    fn(ctx, part.p, (size_t)(limit - s->next_offset), s->next_offset);
    s->next_offset = limit;
  }
  drain(s, fn, ctx);
}
