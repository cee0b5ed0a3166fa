/*
 * dissect/h3.c - HTTP/3 responses (RFC 9114) in QUIC streams a key log
 * opened: the server's side of the client's request streams (HEADERS
 * frames, field sections decoded by libnghttp3's QPACK decoder, RFC 9204)
 * and the server's QPACK encoder stream, which fills the decoder's dynamic
 * table.  Every response's final field section is reported once through
 * the same callback as HTTP/1.x and HTTP/2.
 *
 * Bounded (tls_limits): at most max_h3_streams streams are followed (their
 * array grows as they come), one field section of at most max_h3_section
 * bytes is held per stream, stream data is read in order only (a STREAM
 * frame beyond the next offset is dropped, its bytes counted); DATA and
 * other frames are skipped by length.  A connection that reached either
 * cap says so (h3_conn_capped).
 */
#include "dissect/internal.h"

#include <nghttp3/nghttp3.h>

#include <stdlib.h>
#include <string.h>

#define H3_QPACK_TABLE 65536 /* any capacity a client would advertise fits */
#define H3_FRAME_HEADERS 0x01
#define H3_UNI_QPACK_ENCODER 0x02

struct h3_stream {
  bool used, done, blocked;
  uint64_t id, next_off;
  uint8_t head[16]; /* a frame's type and length (or a unidirectional stream's type) */
  size_t head_have;
  bool in_frame, typed;
  uint64_t type, left; /* frame being read; bytes of it still to come */
  uint8_t *section;    /* a HEADERS frame's payload, max_section at most */
  size_t section_len, section_have;
  nghttp3_qpack_stream_context *sctx;
  struct tls_at at; /* where the field section completed */
};

/* Owns the QPACK decoder, the streams' buffers and the kept values. */
struct h3_conn {
  http_response_fn fn;
  void *ctx;
  nghttp3_qpack_decoder *qpack;
  const char *failed;
  struct h3_stream *streams; /* n_streams in use of cap_streams, max_streams at most */
  size_t n_streams, cap_streams, max_streams, max_section;
  bool streams_capped, section_capped;
  uint64_t bytes_dropped;
  struct http_fields fields; /* of the section being decoded */
};

struct h3_conn *h3_conn_new(http_response_fn fn, void *ctx, size_t max_streams,
                            size_t max_section) {
  struct h3_conn *h = calloc(1, sizeof(*h));
  if (!h)
    return NULL;
  h->fn = fn;
  h->ctx = ctx;
  h->max_streams = max_streams;
  h->max_section = max_section;
  if (nghttp3_qpack_decoder_new(&h->qpack, H3_QPACK_TABLE, max_streams, nghttp3_mem_default()) !=
      0) {
    free(h);
    return NULL;
  }
  return h;
}

static void stream_clear(struct h3_stream *s) {
  free(s->section);
  nghttp3_qpack_stream_context_del(s->sctx);
  memset(s, 0, sizeof(*s));
}

void h3_conn_free(struct h3_conn *h) {
  if (!h)
    return;
  for (size_t i = 0; i < h->n_streams; i++)
    stream_clear(&h->streams[i]);
  free(h->streams);
  http_fields_clear(&h->fields);
  nghttp3_qpack_decoder_del(h->qpack);
  free(h);
}

const char *h3_conn_failed(const struct h3_conn *h) {
  return h->failed;
}

uint64_t h3_conn_bytes_dropped(const struct h3_conn *h) {
  return h->bytes_dropped;
}

void h3_conn_capped(const struct h3_conn *h, bool *streams, bool *section) {
  *streams = h->streams_capped;
  *section = h->section_capped;
}

/* Decode the held field section of s; it may block on encoder-stream
 * inserts not seen yet (RFC 9204 2.1.2), and is retried when they come. */
static void decode_section(struct h3_conn *h, struct h3_stream *s) {
  while (s->section_have < s->section_len) {
    nghttp3_qpack_nv nv;
    uint8_t flags = 0;
    nghttp3_ssize used = nghttp3_qpack_decoder_read_request(h->qpack, s->sctx, &nv, &flags,
                                                            s->section + s->section_have,
                                                            s->section_len - s->section_have, 1);
    if (used < 0) {
      h->failed = "http3: a field section did not decode (QPACK)";
      s->done = true;
      return;
    }
    s->section_have += (size_t)used;
    if (flags & NGHTTP3_QPACK_DECODE_FLAG_EMIT) {
      nghttp3_vec name = nghttp3_rcbuf_get_buf(nv.name), value = nghttp3_rcbuf_get_buf(nv.value);
      http_fields_add(&h->fields, name.base, name.len, value.base, value.len);
      nghttp3_rcbuf_decref(nv.name);
      nghttp3_rcbuf_decref(nv.value);
    }
    if (flags & NGHTTP3_QPACK_DECODE_FLAG_BLOCKED) {
      s->blocked = true;
      return;
    }
    if (flags & NGHTTP3_QPACK_DECODE_FLAG_FINAL)
      break;
  }
  s->blocked = false;
  /* RFC 9114 4.1: informational (1xx) sections precede the final one. */
  if (h->fields.status >= 200) {
    struct http_response_view v = http_fields_view(&h->fields, 3);
    h->fn(h->ctx, &v, &s->at);
    s->done = true; /* trailers and the body are not read */
  }
  http_fields_clear(&h->fields);
  free(s->section);
  s->section = NULL;
  s->section_len = s->section_have = 0;
  nghttp3_qpack_stream_context_reset(s->sctx);
}

/* RFC 9000 16: a varint at p[*at..n), false when incomplete. */
static bool varint_at(const uint8_t *p, size_t n, size_t *at, uint64_t *v) {
  if (*at >= n)
    return false;
  size_t len = (size_t)1 << (p[*at] >> 6);
  if (n - *at < len)
    return false;
  *v = p[*at] & 0x3f;
  for (size_t i = 1; i < len; i++)
    *v = *v << 8 | p[*at + i];
  *at += len;
  return true;
}

/* Collect header bytes until `count` varints are complete; returns how many
 * bytes of p it took, values in v. */
static size_t read_head(struct h3_stream *s, const uint8_t *p, size_t n, int count, uint64_t v[2],
                        bool *complete) {
  size_t took = 0;
  *complete = false;
  while (took < n && s->head_have < sizeof(s->head)) {
    s->head[s->head_have++] = p[took++];
    size_t at = 0;
    int got = 0;
    while (got < count && varint_at(s->head, s->head_have, &at, &v[got]))
      got++;
    if (got == count) {
      *complete = true;
      s->head_have = 0;
      return took;
    }
  }
  return took;
}

/* The bytes of a response stream, in order: HTTP/3 frames (RFC 9114 7.1). */
static void request_stream(struct h3_conn *h, struct h3_stream *s, const uint8_t *p, size_t n,
                           const struct tls_at *at) {
  while (n && !s->done && !s->blocked) {
    if (!s->in_frame) {
      uint64_t v[2];
      bool complete;
      size_t took = read_head(s, p, n, 2, v, &complete);
      p += took, n -= took;
      if (!complete)
        return;
      s->in_frame = true;
      s->type = v[0];
      s->left = v[1];
      if (s->type == H3_FRAME_HEADERS) {
        if (s->left > h->max_section) {
          h->section_capped = true;
          h->failed = "http3: a field section is larger than the cap";
          s->done = true;
          return;
        }
        if (!(s->section = malloc(s->left ? s->left : 1))) {
          h->failed = "http3: out of memory for a field section";
          s->done = true;
          return;
        }
        s->section_len = (size_t)s->left;
      }
    }
    size_t take = s->left < n ? (size_t)s->left : n;
    if (s->type == H3_FRAME_HEADERS)
      memcpy(s->section + (s->section_len - (size_t)s->left), p, take);
    p += take, n -= take;
    s->left -= take;
    if (s->left == 0) {
      s->in_frame = false;
      if (s->type == H3_FRAME_HEADERS) {
        s->at = *at;
        decode_section(h, s);
      }
    }
  }
}

static void retry_blocked(struct h3_conn *h) {
  for (size_t i = 0; i < h->n_streams; i++)
    if (h->streams[i].blocked && !h->streams[i].done) {
      h->streams[i].blocked = false;
      decode_section(h, &h->streams[i]);
    }
}

/* A server unidirectional stream: its type, then (for the QPACK encoder
 * stream, RFC 9204 4.2) instructions for the decoder; others are not read. */
static void uni_stream(struct h3_conn *h, struct h3_stream *s, const uint8_t *p, size_t n) {
  if (!s->typed) {
    uint64_t v[2];
    bool complete;
    size_t took = read_head(s, p, n, 1, v, &complete);
    p += took, n -= took;
    if (!complete)
      return;
    s->typed = true;
    s->type = v[0];
    if (s->type != H3_UNI_QPACK_ENCODER)
      s->done = true;
  }
  if (n && !s->done) {
    if (nghttp3_qpack_decoder_read_encoder(h->qpack, p, n) < 0) {
      h->failed = "http3: the QPACK encoder stream did not decode";
      s->done = true;
      return;
    }
    retry_blocked(h);
  }
}

/* The stream id's state, made when it first comes and the cap allows;
 * NULL past the cap (counted) or when memory ran out.  The pointer lasts
 * until the next call: the array grows. */
static struct h3_stream *stream_for(struct h3_conn *h, uint64_t id) {
  for (size_t i = 0; i < h->n_streams; i++)
    if (h->streams[i].id == id)
      return &h->streams[i];
  if (id > INT64_MAX)
    return NULL;
  if (h->n_streams >= h->max_streams) {
    h->streams_capped = true;
    return NULL;
  }
  if (h->n_streams == h->cap_streams) { /* 4, 8, ...: most connections use four */
    size_t cap = h->cap_streams ? 2 * h->cap_streams : 4;
    if (cap > h->max_streams)
      cap = h->max_streams;
    struct h3_stream *grown = realloc(h->streams, cap * sizeof(*grown));
    if (!grown)
      return NULL;
    h->streams = grown;
    h->cap_streams = cap;
  }
  struct h3_stream *free_slot = &h->streams[h->n_streams++];
  memset(free_slot, 0, sizeof(*free_slot));
  free_slot->used = true;
  free_slot->id = id;
  if (nghttp3_qpack_stream_context_new(&free_slot->sctx, (int64_t)id, nghttp3_mem_default()) != 0) {
    free_slot->done = true;
    free_slot->sctx = NULL;
  }
  return free_slot;
}

void h3_conn_stream(struct h3_conn *h, uint64_t id, uint64_t off, const uint8_t *p, size_t n,
                    const struct tls_at *at) {
  /* RFC 9000 2.1: 0x0 client bidirectional (requests), 0x3 server
   * unidirectional (control, QPACK); the rest carries no response. */
  if (h->failed || !n || ((id & 3) != 0 && (id & 3) != 3))
    return;
  struct h3_stream *s = stream_for(h, id);
  if (!s) {
    h->bytes_dropped += n;
    return;
  }
  if (s->done)
    return;
  if (off > s->next_off) { /* a hole: what follows it is not read */
    h->bytes_dropped += n;
    return;
  }
  if (off + n <= s->next_off)
    return; /* a copy of bytes already read */
  size_t skip = (size_t)(s->next_off - off);
  p += skip, n -= skip;
  s->next_off += n;
  if ((id & 3) == 3)
    uni_stream(h, s, p, n);
  else
    request_stream(h, s, p, n, at);
}
