/*
 * dissect/quic_crypto.c - one QUIC CRYPTO stream (RFC 9000 19.6) put back
 * in order: in-order bytes are handed on at once, out-of-order pieces are
 * held (at most max_pieces and max_bytes per stream, within the budget of
 * all connections' buffers; refusals counted) until the hole before them
 * fills.  The first copy of a byte wins.
 */
#include "dissect/internal.h"
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

/* A piece costs its bytes and its header. */
static size_t piece_cost(size_t len) {
  return sizeof(struct quic_held) + len;
}

size_t quic_crypto_stream_cost(const struct quic_crypto_stream *s) {
  return s->held_pieces * sizeof(struct quic_held) + s->held_bytes;
}

void quic_crypto_stream_free(struct quic_crypto_stream *s, struct tls_budget *budget) {
  tls_budget_give(budget, quic_crypto_stream_cost(s));
  s->held_bytes = s->held_pieces = 0;
  struct quic_held *h = s->held;
  while (h) {
    struct quic_held *next = h->next;
    free(h);
    h = next;
  }
  s->held = NULL;
}

/* A new piece of len bytes, or NULL (counted) when a cap (or memory)
 * refuses it. */
static struct quic_held *new_piece(struct quic_crypto_stream *s, const struct quic_hold_caps *caps,
                                   size_t len, const struct quic_refused *refused) {
  size_t cost = piece_cost(len);
  struct quic_held *piece = NULL;
  if (s->held_pieces < caps->max_pieces && len <= caps->max_bytes - s->held_bytes) {
    if (!tls_budget_take(caps->budget, caps->budget_max, quic_crypto_stream_cost(s) + cost, cost)) {
      (*refused->budget_pieces)++;
      return NULL;
    }
    piece = malloc(cost);
    if (!piece)
      tls_budget_give(caps->budget, cost);
  }
  if (!piece) {
    *refused->bytes += len;
    (*refused->pieces)++;
  }
  return piece;
}

/* Keep data[0..len) (stream offset off) where no held piece covers it. */
static void hold(struct quic_crypto_stream *s, const struct quic_hold_caps *caps, uint64_t off,
                 struct rd data, const struct quic_refused *refused) {
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
      struct quic_held *piece = new_piece(s, caps, len, refused);
      if (piece) {
        memcpy(piece->data, rd_bytes(&src, len), len);
        piece->offset = cur;
        piece->len = len;
        piece->next = h;
        *link = piece;
        link = &piece->next;
        s->held_bytes += len;
        s->held_pieces++;
      }
    }
    if (!h || h->offset >= end)
      break;
    cur = h->offset + h->len;
    link = &h->next;
  }
}

/* Deliver held pieces that became contiguous. */
static void drain(struct quic_crypto_stream *s, struct tls_budget *budget, quic_bytes_fn fn,
                  void *ctx) {
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
    tls_budget_give(budget, piece_cost(h->len));
    free(h);
  }
}

/* In-order data is delivered around held pieces: those came first. */
void quic_crypto_stream_data(struct quic_crypto_stream *s, const struct quic_hold_caps *caps,
                             uint64_t off, struct rd data, quic_bytes_fn fn, void *ctx,
                             const struct quic_refused *refused) {
  uint64_t end = off + data.n;

  if (off > s->next_offset) {
    hold(s, caps, off, data, refused);
    return;
  }
  while (s->next_offset < end) {
    drain(s, caps->budget, fn, ctx);
    if (s->next_offset >= end)
      break;
    /* After drain() the first held piece, if any, starts beyond next_offset. */
    uint64_t limit = s->held && s->held->offset < end ? s->held->offset : end;
    struct rd part = data;
    rd_bytes(&part, (size_t)(s->next_offset - off));
    fn(ctx, part.p, (size_t)(limit - s->next_offset), s->next_offset);
    s->next_offset = limit;
  }
  drain(s, caps->budget, fn, ctx);
}
