/*
 * tests/unit/test_h3.c - dissect/h3.c: HTTP/3 responses from the server's
 * QUIC stream bytes.
 *
 * The field sections are encoded here by libnghttp3's QPACK encoder (an
 * implementation independent of the decoder path under test), with and
 * without its dynamic table; frames and stream types are laid out by RFC
 * 9114 7.1 and 6.2 (HEADERS 0x01, DATA 0x00; unidirectional stream type
 * 0x02: QPACK encoder).  The expected values are the fields given to the
 * encoder.  (ngtcp2's example server sends no Strict-Transport-Security,
 * so the recorded capture of tests/e2e/test_quic_keylog.py checks the
 * status only.)
 */
#include "dissect/dissect.h"
#include "dissect/internal.h"
#include "tests/unit/harness.h"

#include <nghttp3/nghttp3.h>

#include <string.h>

static const char STS[] = "max-age=31536000; includeSubDomains";

struct got {
  int n;
  int status;
  uint8_t version;
  char sts[128];
  uint64_t frame;
};

static void on_response(void *ctx, const struct http_response_view *v, const struct tls_at *at) {
  struct got *g = ctx;
  g->n++;
  g->status = v->status;
  g->version = v->http_version;
  g->frame = at->frame;
  g->sts[0] = '\0';
  if (v->has_sts && v->sts_len < sizeof g->sts) {
    memcpy(g->sts, v->sts, v->sts_len);
    g->sts[v->sts_len] = '\0';
  }
}

/* An encoded response: the HEADERS frame and the encoder stream bytes. */
struct encoded {
  uint8_t frame[512];
  size_t frame_len;
  uint8_t encoder[512];
  size_t encoder_len;
};

static size_t put_varint(uint8_t *p, uint64_t v) {
  if (v < 64) {
    p[0] = (uint8_t)v;
    return 1;
  }
  p[0] = (uint8_t)(0x40 | (v >> 8));
  p[1] = (uint8_t)v;
  return 2;
}

static nghttp3_nv nv(const char *name, const char *value) {
  return (nghttp3_nv){(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value), 0};
}

static bool encode(const char *status, size_t dtable, int64_t stream, struct encoded *out) {
  nghttp3_qpack_encoder *enc = NULL;
  nghttp3_buf pbuf, rbuf, ebuf;
  nghttp3_nv fields[] = {nv(":status", status), nv("strict-transport-security", STS),
                         nv("content-type", "text/html")};
  const nghttp3_mem *mem = nghttp3_mem_default();
  nghttp3_buf_init(&pbuf);
  nghttp3_buf_init(&rbuf);
  nghttp3_buf_init(&ebuf);
  bool ok = nghttp3_qpack_encoder_new(&enc, dtable, mem) == 0;
  if (ok && dtable) {
    nghttp3_qpack_encoder_set_max_dtable_capacity(enc, dtable);
    nghttp3_qpack_encoder_set_max_blocked_streams(enc, 16);
  }
  ok = ok && nghttp3_qpack_encoder_encode(enc, &pbuf, &rbuf, &ebuf, stream, fields, 3) == 0;
  size_t plen = nghttp3_buf_len(&pbuf), rlen = nghttp3_buf_len(&rbuf);
  size_t elen = nghttp3_buf_len(&ebuf);
  ok = ok && plen + rlen < 400 && elen < sizeof out->encoder - 1;
  if (ok) {
    size_t at = 0;
    out->frame[at++] = 0x01; /* HEADERS */
    at += put_varint(out->frame + at, plen + rlen);
    if (plen)
      memcpy(out->frame + at, pbuf.pos, plen);
    if (rlen)
      memcpy(out->frame + at + plen, rbuf.pos, rlen);
    out->frame_len = at + plen + rlen;
    out->encoder[0] = 0x02; /* stream type: QPACK encoder */
    if (elen)
      memcpy(out->encoder + 1, ebuf.pos, elen);
    out->encoder_len = 1 + elen;
  }
  nghttp3_buf_free(&pbuf, mem);
  nghttp3_buf_free(&rbuf, mem);
  nghttp3_buf_free(&ebuf, mem);
  nghttp3_qpack_encoder_del(enc);
  return ok;
}

static const struct tls_at AT = {0, 7, 0};

static void test_static_table(void) {
  struct encoded e;
  struct got g = {0};
  CHECK(encode("200", 0, 0, &e));
  CHECK_EQ_U(e.encoder_len, 1); /* no inserts */
  struct h3_conn *h = h3_conn_new(on_response, &g, 16, 16u << 10);
  /* One byte at a time: frame headers and sections cut anywhere. */
  for (size_t i = 0; i < e.frame_len; i++)
    h3_conn_stream(h, 0, i, e.frame + i, 1, &AT);
  CHECK_EQ_U(g.n, 1);
  CHECK_EQ_U(g.status, 200);
  CHECK_EQ_U(g.version, 3);
  CHECK_STR(g.sts, STS);
  CHECK(h3_conn_failed(h) == NULL);
  h3_conn_free(h);
}

/* Hand-encoded from RFC 9204: section prefix 00 00 (no dynamic table),
 * then indexed field lines of the static table (4.5.2: 11xxxxxx, T=1),
 * Appendix A index 25 ":status: 200" and 56 "strict-transport-security:
 * max-age=31536000". */
static void test_rfc9204_static_indices(void) {
  const uint8_t frame[] = {0x01, 0x04, 0x00, 0x00, 0xc0 | 25, 0xc0 | 56};
  struct got g = {0};
  struct h3_conn *h = h3_conn_new(on_response, &g, 16, 16u << 10);
  h3_conn_stream(h, 0, 0, frame, sizeof frame, &AT);
  CHECK_EQ_U(g.n, 1);
  CHECK_EQ_U(g.status, 200);
  CHECK_STR(g.sts, "max-age=31536000");
  CHECK_EQ_U(g.frame, 7);
  h3_conn_free(h);
}

/* RFC 9204 2.1.2: a section that refers to inserts not yet received waits
 * for the encoder stream. */
static void test_dynamic_table_blocked(void) {
  struct encoded e;
  struct got g = {0};
  CHECK(encode("200", 4096, 0, &e));
  CHECK(e.encoder_len > 1);
  struct h3_conn *h = h3_conn_new(on_response, &g, 16, 16u << 10);
  h3_conn_stream(h, 0, 0, e.frame, e.frame_len, &AT);
  CHECK_EQ_U(g.n, 0);
  h3_conn_stream(h, 7, 0, e.encoder, e.encoder_len, &AT);
  CHECK_EQ_U(g.n, 1);
  CHECK_EQ_U(g.status, 200);
  CHECK_STR(g.sts, STS);
  h3_conn_free(h);
}

static void test_informational_then_final(void) {
  struct encoded first, final;
  struct got g = {0};
  uint8_t both[1024];
  CHECK(encode("103", 0, 0, &first));
  CHECK(encode("200", 0, 0, &final));
  memcpy(both, first.frame, first.frame_len);
  memcpy(both + first.frame_len, final.frame, final.frame_len);
  struct h3_conn *h = h3_conn_new(on_response, &g, 16, 16u << 10);
  h3_conn_stream(h, 0, 0, both, first.frame_len + final.frame_len, &AT);
  CHECK_EQ_U(g.n, 1);
  CHECK_EQ_U(g.status, 200);
  h3_conn_free(h);
}

static void test_holes_copies_and_caps(void) {
  struct encoded e;
  struct got g = {0};
  CHECK(encode("200", 0, 0, &e));
  struct h3_conn *h = h3_conn_new(on_response, &g, 16, 16u << 10);
  /* A DATA frame first (skipped by length), then bytes past a hole. */
  const uint8_t data[] = {0x00, 0x02, 'o', 'k'};
  h3_conn_stream(h, 4, 0, data, sizeof data, &AT);
  h3_conn_stream(h, 4, 10, e.frame, e.frame_len, &AT);
  CHECK_EQ_U(h3_conn_bytes_dropped(h), e.frame_len);
  CHECK_EQ_U(g.n, 0);
  /* A copy of bytes read, then the rest. */
  h3_conn_stream(h, 4, 0, data, sizeof data, &AT);
  h3_conn_stream(h, 4, sizeof data, e.frame, e.frame_len, &AT);
  CHECK_EQ_U(g.n, 1);
  /* Client streams of other kinds carry no response: ignored. */
  h3_conn_stream(h, 2, 0, e.frame, e.frame_len, &AT);
  CHECK_EQ_U(h3_conn_bytes_dropped(h), e.frame_len);
  /* More streams than the cap: counted. */
  for (uint64_t id = 8; id < 8 + 4 * 20; id += 4)
    h3_conn_stream(h, id, 0, data, sizeof data, &AT);
  CHECK(h3_conn_bytes_dropped(h) > e.frame_len);
  h3_conn_free(h);
}

static void test_malformed(void) {
  struct got g = {0};
  /* A HEADERS frame longer than the cap. */
  const uint8_t big[] = {0x01, 0x80, 0x01, 0x00, 0x00};
  struct h3_conn *h = h3_conn_new(on_response, &g, 16, 16u << 10);
  h3_conn_stream(h, 0, 0, big, sizeof big, &AT);
  CHECK(h3_conn_failed(h) != NULL);
  h3_conn_free(h);
  /* A field section QPACK cannot read: a static index past the table. */
  const uint8_t bad[] = {0x01, 0x03, 0x00, 0x00, 0xff};
  h = h3_conn_new(on_response, &g, 16, 16u << 10);
  h3_conn_stream(h, 0, 0, bad, sizeof bad, &AT);
  CHECK(h3_conn_failed(h) != NULL);
  CHECK_EQ_U(g.n, 0);
  h3_conn_free(h);
}

int main(void) {
  RUN(test_static_table);
  RUN(test_rfc9204_static_indices);
  RUN(test_dynamic_table_blocked);
  RUN(test_informational_then_final);
  RUN(test_holes_copies_and_caps);
  RUN(test_malformed);
  return harness_done();
}
