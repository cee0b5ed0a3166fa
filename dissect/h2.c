/*
 * dissect/h2.c - HTTP/2 responses in a decrypted server stream.
 *
 * The frame layer is simple enough to read here (RFC 9113 4.1: 9-byte
 * header, then the payload); header blocks are HPACK (RFC 7541), decoded
 * by libnghttp2's inflater.  Every header block the server sends goes
 * through the one inflater, in order, even those we do not need (trailers,
 * PUSH_PROMISE): its dynamic table must follow the server's encoder.
 * Only frames that carry header blocks are buffered (one frame at a time,
 * under a cap); DATA and everything else is skipped by its length.
 */
#include "dissect/internal.h"

#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

enum {
  H2_HEADERS = 0x1,
  H2_PUSH_PROMISE = 0x5,
  H2_CONTINUATION = 0x9,
  H2_FLAG_END_HEADERS = 0x4,
  H2_FLAG_PADDED = 0x8,
  H2_FLAG_PRIORITY = 0x20,
};

#define H2_MAX_HEADER_FRAME (256u << 10) /* bytes of one buffered frame */
#define H2_HPACK_TABLE 65536             /* largest dynamic table followed */

/* Owns the inflater, the frame buffer and the values kept of the header
 * block in progress. */
struct h2_conn {
  http_response_fn fn;
  void *ctx;
  nghttp2_hd_inflater *inflater;
  const char *failed;
  uint8_t hdr[9];
  size_t hdr_have;
  uint32_t len; /* payload length of the current frame */
  uint8_t type, flags;
  uint32_t stream;
  size_t have; /* payload bytes of the current frame consumed */
  bool keep;   /* the payload is buffered */
  uint8_t *buf;
  size_t cap;
  /* The header block in progress (HEADERS or PUSH_PROMISE, then
   * CONTINUATION frames until END_HEADERS). */
  bool in_block, block_is_response;
  uint32_t block_stream;
  struct http_fields fields;
};

struct h2_conn *h2_conn_new(http_response_fn fn, void *ctx) {
  struct h2_conn *h = calloc(1, sizeof(*h));
  if (!h)
    return NULL;
  h->fn = fn;
  h->ctx = ctx;
  if (nghttp2_hd_inflate_new(&h->inflater) != 0) {
    free(h);
    return NULL;
  }
  /* A client may allow the server a larger table than 4096 bytes
   * (SETTINGS_HEADER_TABLE_SIZE); accept updates up to a bound. */
  nghttp2_hd_inflate_change_table_size(h->inflater, H2_HPACK_TABLE);
  return h;
}

void h2_conn_free(struct h2_conn *h) {
  if (!h)
    return;
  http_fields_clear(&h->fields);
  if (h->inflater)
    nghttp2_hd_inflate_del(h->inflater);
  free(h->buf);
  free(h);
}

const char *h2_conn_failed(const struct h2_conn *h) {
  return h->failed;
}

static void header(struct h2_conn *h, const nghttp2_nv *nv) {
  if (h->block_is_response)
    http_fields_add(&h->fields, nv->name, nv->namelen, nv->value, nv->valuelen);
}

/* A header block is complete: a response's final header section (not an
 * interim 1xx, not trailers, which carry no :status) is reported. */
static void block_done(struct h2_conn *h, const struct tls_at *at) {
  if (h->block_is_response && h->fields.status >= 200) {
    struct http_response_view v = http_fields_view(&h->fields, 2);
    h->fn(h->ctx, &v, at);
  }
  h->in_block = false;
  http_fields_clear(&h->fields);
}

static void inflate(struct h2_conn *h, const uint8_t *in, size_t n, bool final,
                    const struct tls_at *at) {
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    ssize_t used = nghttp2_hd_inflate_hd2(h->inflater, &nv, &flags, in, n, final);
    if (used < 0) {
      h->failed = "http2: a header block did not decode (HPACK)";
      return;
    }
    in += used;
    n -= (size_t)used;
    if (flags & NGHTTP2_HD_INFLATE_EMIT)
      header(h, &nv);
    if (flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(h->inflater);
      block_done(h, at);
      return;
    }
    if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && n == 0)
      return;
  }
}

/* A complete buffered frame (HEADERS, PUSH_PROMISE or CONTINUATION). */
static void header_frame(struct h2_conn *h, const struct tls_at *at) {
  struct rd r = rd_make(h->buf, h->len);
  size_t pad = 0;
  if (h->type == H2_CONTINUATION) {
    if (!h->in_block || h->stream != h->block_stream) {
      h->failed = "http2: CONTINUATION outside a header block";
      return;
    }
  } else {
    if (h->flags & H2_FLAG_PADDED)
      pad = rd_u8(&r);
    if (h->type == H2_HEADERS && (h->flags & H2_FLAG_PRIORITY))
      rd_bytes(&r, 5); /* stream dependency and weight */
    if (h->type == H2_PUSH_PROMISE)
      rd_u32(&r); /* promised stream id */
    if (r.err || pad > r.n) {
      h->failed = "http2: frame padding longer than the frame";
      return;
    }
    h->in_block = true;
    h->block_is_response = h->type == H2_HEADERS;
    h->block_stream = h->stream;
    http_fields_clear(&h->fields);
  }
  inflate(h, r.p, r.n - pad, (h->flags & H2_FLAG_END_HEADERS) != 0, at);
}

/* Frame header complete: decide whether to buffer the payload. */
static void frame_start(struct h2_conn *h) {
  struct rd r = rd_make(h->hdr, sizeof(h->hdr));
  h->len = rd_u24(&r);
  h->type = rd_u8(&r);
  h->flags = rd_u8(&r);
  h->stream = rd_u32(&r) & 0x7fffffffu;
  h->have = 0;
  bool carries_block =
      h->type == H2_HEADERS || h->type == H2_PUSH_PROMISE || h->type == H2_CONTINUATION;
  /* RFC 9113 6.10: nothing may come between a header block's frames. */
  if (h->in_block && h->type != H2_CONTINUATION) {
    h->failed = "http2: a header block was interrupted";
    return;
  }
  h->keep = carries_block;
  if (!h->keep)
    return;
  if (h->len > H2_MAX_HEADER_FRAME) {
    h->failed = "http2: a header frame is larger than the cap";
    return;
  }
  if (h->len > h->cap) {
    uint8_t *p = realloc(h->buf, h->len);
    if (!p) {
      h->failed = "http2: out of memory";
      return;
    }
    h->buf = p;
    h->cap = h->len;
  }
}

void h2_conn_data(struct h2_conn *h, int dir, const uint8_t *p, size_t n, const struct tls_at *at) {
  if (!h || dir != FLOW_S2C)
    return;
  while (n && !h->failed) {
    if (h->hdr_have < sizeof(h->hdr)) {
      size_t k = sizeof(h->hdr) - h->hdr_have < n ? sizeof(h->hdr) - h->hdr_have : n;
      memcpy(h->hdr + h->hdr_have, p, k);
      h->hdr_have += k;
      p += k;
      n -= k;
      if (h->hdr_have < sizeof(h->hdr))
        return;
      frame_start(h);
      if (h->failed)
        return;
    }
    size_t k = h->len - h->have < n ? h->len - h->have : n;
    if (h->keep && k)
      memcpy(h->buf + h->have, p, k);
    h->have += k;
    p += k;
    n -= k;
    if (h->have == h->len) {
      if (h->keep)
        header_frame(h, at);
      h->hdr_have = 0;
    }
  }
}
