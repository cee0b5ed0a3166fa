/*
 * dissect/app_data.c - application data a key log opened: HTTP/1.x,
 * HTTP/2 or HTTP/3 (QUIC streams) responses and their security headers.  The record dispatcher
 * (record.c) hands the plaintext here; what is read lands in the session
 * (tls_session.https).  Nothing here knows about keys or records.
 */
#include "dissect/conn.h"

#include <stdlib.h>
#include <string.h>

enum app_proto { APP_UNKNOWN, APP_HTTP1, APP_HTTP2, APP_HTTP3, APP_OTHER };

/* Owns the HTTP parsers of one connection. */
struct tls_app_data {
  enum app_proto proto;
  struct http_conn *http1;
  struct h2_conn *http2;
  struct h3_conn *http3;
};

void tls_app_data_free(struct tls_app_data *app) {
  if (!app)
    return;
  http_conn_free(app->http1);
  h2_conn_free(app->http2);
  h3_conn_free(app->http3);
  free(app);
}

static void keep_raw(struct tls_str *dst, const uint8_t *p, size_t n) {
  if (n > TLS_HTTP_VALUE_MAX)
    n = TLS_HTTP_VALUE_MAX;
  dst->p = malloc(n + 1);
  if (!dst->p)
    return;
  memcpy(dst->p, p, n);
  dst->p[n] = '\0';
  dst->n = n;
}

static void on_response(void *ctx, const struct http_response_view *v, const struct tls_at *at) {
  struct tls_conn *c = ctx;
  struct tls_https *h = c->s.https;
  if (!h && !(h = c->s.https = calloc(1, sizeof(*h))))
    return;
  h->responses++;
  if (h->n >= TLS_MAX_HTTP_RESPONSES)
    return;
  struct tls_http_response *r = &h->r[h->n++];
  r->at = *at;
  r->http_version = v->http_version;
  r->status = v->status;
  r->has_sts = v->has_sts;
  r->has_pkp = v->has_pkp;
  if (v->has_sts) {
    keep_raw(&r->sts, v->sts, v->sts_len);
    http_sts_parse(v->sts, v->sts_len, &r->sts_parsed);
  }
  if (v->has_pkp) {
    keep_raw(&r->pkp, v->pkp, v->pkp_len);
    http_pkp_parse(v->pkp, v->pkp_len, &r->pkp_parsed);
  }
}

static bool alpn_is(const struct tls_session *s, const char *proto) {
  return s->sh.alpn.n == strlen(proto) && memcmp(s->sh.alpn.p, proto, s->sh.alpn.n) == 0;
}

/* HTTP/1.x or HTTP/2, from ALPN or the client's first bytes (RFC 9113 3.4
 * preface); anything else is not read. */
static enum app_proto choose_app(const struct tls_session *s, int dir, const uint8_t *p, size_t n) {
  static const char preface[] = "PRI * HTTP/2.0\r\n";
  if (alpn_is(s, "h2"))
    return APP_HTTP2;
  if (dir != FLOW_C2S)
    return alpn_is(s, "http/1.1") ? APP_HTTP1 : APP_OTHER; /* HTTP/1 clients speak first */
  if (n >= sizeof(preface) - 1 && memcmp(p, preface, sizeof(preface) - 1) == 0)
    return APP_HTTP2;
  return http_looks_like_request(p, n) || alpn_is(s, "http/1.1") ? APP_HTTP1 : APP_OTHER;
}

bool tls_app_data_plaintext(struct tls_conn *c, int dir, const uint8_t *p, size_t n,
                            const struct tls_at *at) {
  if (!n)
    return true;
  struct tls_app_data *app = c->app_data;
  if (!app && !(app = c->app_data = calloc(1, sizeof(*app))))
    return false;
  if (app->proto == APP_UNKNOWN) {
    app->proto = choose_app(&c->s, dir, p, n);
    if (app->proto == APP_HTTP1 && !(app->http1 = http_conn_new_responses(on_response, c)))
      app->proto = APP_OTHER;
    if (app->proto == APP_HTTP2 && !(app->http2 = h2_conn_new(on_response, c)))
      app->proto = APP_OTHER;
  }
  const char *failed = NULL;
  if (app->proto == APP_HTTP1) {
    http_conn_data(app->http1, dir, p, n, at);
    failed = http_conn_failed(app->http1);
  } else if (app->proto == APP_HTTP2) {
    h2_conn_data(app->http2, dir, p, n, at);
    failed = h2_conn_failed(app->http2);
  }
  /* Enough responses read (or HTTP lost): nothing more to read. */
  bool enough = c->s.https && c->s.https->n >= TLS_MAX_HTTP_RESPONSES;
  if (failed || enough) {
    if (c->s.https || (c->s.https = calloc(1, sizeof(*c->s.https))))
      c->s.https->stopped = failed ? failed : "enough responses read";
    app->proto = APP_OTHER;
  }
  return app->proto != APP_OTHER;
}

/* Enough responses read (or HTTP lost): nothing more to read. */
static bool stop_if_done(struct tls_conn *c, const char *failed) {
  bool enough = c->s.https && c->s.https->n >= TLS_MAX_HTTP_RESPONSES;
  if (!failed && !enough)
    return false;
  if (c->s.https || (c->s.https = calloc(1, sizeof(*c->s.https))))
    c->s.https->stopped = failed ? failed : "enough responses read";
  return true;
}

bool tls_app_data_quic_stream(struct tls_conn *c, uint64_t id, uint64_t off, const uint8_t *p,
                              size_t n, const struct tls_at *at) {
  struct tls_app_data *app = c->app_data;
  if (!app && !(app = c->app_data = calloc(1, sizeof(*app))))
    return false;
  if (app->proto == APP_UNKNOWN) /* RFC 9114 3.1: ALPN "h3" */
    app->proto =
        alpn_is(&c->s, "h3") && (app->http3 = h3_conn_new(on_response, c, c->lim.max_h3_streams,
                                                          c->lim.max_h3_section))
            ? APP_HTTP3
            : APP_OTHER;
  if (app->proto != APP_HTTP3)
    return false;
  h3_conn_stream(app->http3, id, off, p, n, at);
  bool streams_capped, section_capped;
  h3_conn_capped(app->http3, &streams_capped, &section_capped);
  c->s.cap_h3_streams = streams_capped;
  c->s.cap_h3_section = section_capped;
  if (c->s.https || h3_conn_bytes_dropped(app->http3))
    if (c->s.https || (c->s.https = calloc(1, sizeof(*c->s.https))))
      c->s.https->stream_bytes_dropped = h3_conn_bytes_dropped(app->http3);
  if (stop_if_done(c, h3_conn_failed(app->http3)))
    app->proto = APP_OTHER;
  return app->proto != APP_OTHER;
}
