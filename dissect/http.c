/*
 * dissect/http.c - HTTP/1.x through libhtp (a parser made for passive
 * traffic), in two uses: clear-text HTTP on a flow (what a server tells a
 * visitor who typed http://, a redirect to https:// or the content
 * itself), and the responses inside a decrypted TLS connection, whose
 * security headers (HSTS, HPKP) are reported as each header section ends.
 */
#include "dissect/internal.h"

#include <htp/htp.h>
#include <stdlib.h>
#include <string.h>

/* Owns the libhtp configuration and parser of one flow. */
struct http_conn {
  htp_cfg_t *cfg;
  htp_connp_t *connp;
  struct http_facts facts;
  struct tls_at at;    /* of the data being parsed */
  bool broken;         /* libhtp gave up on the stream */
  bool request_done;   /* clear text: the first request is complete */
  http_response_fn fn; /* every response (decrypted HTTP), NULL: the first only */
  void *fn_ctx;
};

bool http_looks_like_request(const uint8_t *p, size_t n) {
  static const char *const methods[] = {"GET ", "HEAD ", "POST ", "PUT ", "OPTIONS "};
  for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
    size_t k = strlen(methods[i]);
    if (n >= k && memcmp(p, methods[i], k) == 0)
      return true;
  }
  return false;
}

static void copy_bstr(char *dst, size_t cap, const bstr *b) {
  size_t n = b ? bstr_len(b) : 0;
  if (n >= cap)
    n = cap - 1;
  if (n)
    memcpy(dst, bstr_ptr(b), n);
  dst[n] = '\0';
}

/* Clear text: the first request is whole.  Later requests are not read:
 * only the first answer is kept, and libhtp would hold a transaction for
 * every request a client pipelines (a flood of tiny GETs never answered
 * cost 111 MB per MB). */
static int on_request(htp_tx_t *tx) {
  struct http_conn *h = htp_connp_get_user_data(tx->connp);
  if (h)
    h->request_done = true;
  return HTP_OK;
}

/* A response is complete: keep the first one's verdict (what a visitor
 * typing the bare name gets). */
static int on_response(htp_tx_t *tx) {
  struct http_conn *h = htp_connp_get_user_data(tx->connp);
  if (!h)
    return HTP_OK;
  struct http_facts *f = &h->facts;
  f->responses++;
  if (f->responses > 1)
    return HTP_OK;
  f->at = h->at;
  f->status = tx->response_status_number;
  copy_bstr(f->host, sizeof(f->host), tx->request_hostname);
  htp_header_t *loc = htp_table_get_c(tx->response_headers, "location");
  if (loc) {
    copy_bstr(f->location, sizeof(f->location), loc->value);
    f->redirect_https =
        f->status >= 300 && f->status < 400 && strncasecmp(f->location, "https://", 8) == 0;
  }
  return HTP_OK;
}

/* The first value of a response header.  libhtp joins repeated headers
 * with ", "; RFC 6797 8.1 (and 7469 2.3.1) say only the first counts, and
 * neither grammar has a comma outside a quoted string. */
static void first_value(htp_tx_t *tx, const char *name, bool *has, const uint8_t **p, size_t *n) {
  htp_header_t *h = htp_table_get_c(tx->response_headers, name);
  *has = h && h->value;
  if (!*has)
    return;
  *p = bstr_ptr(h->value);
  *n = bstr_len(h->value);
  if (!(h->flags & HTP_FIELD_REPEATED))
    return;
  bool quoted = false;
  for (size_t i = 0; i < *n; i++) {
    if ((*p)[i] == '\\' && quoted)
      i++;
    else if ((*p)[i] == '"')
      quoted = !quoted;
    else if ((*p)[i] == ',' && !quoted) {
      *n = i;
      return;
    }
  }
}

/* Decrypted HTTP: a response's header section is complete. */
static int on_response_headers(htp_tx_t *tx) {
  struct http_conn *h = htp_connp_get_user_data(tx->connp);
  if (!h || !h->fn)
    return HTP_OK;
  struct http_response_view v = {1, tx->response_status_number, false, false, NULL, NULL, 0, 0};
  first_value(tx, "strict-transport-security", &v.has_sts, &v.sts, &v.sts_len);
  first_value(tx, "public-key-pins", &v.has_pkp, &v.pkp, &v.pkp_len);
  h->fn(h->fn_ctx, &v, &h->at);
  return HTP_OK;
}

static struct http_conn *conn_new(http_response_fn fn, void *ctx) {
  struct http_conn *h = calloc(1, sizeof(*h));
  if (!h)
    return NULL;
  h->fn = fn;
  h->fn_ctx = ctx;
  h->cfg = htp_config_create();
  if (!h->cfg || !(h->connp = htp_connp_create(h->cfg))) {
    http_conn_free(h);
    return NULL;
  }
  if (fn) {
    /* Only headers matter: no body decompression, and transactions are
     * freed as they complete so a long keep-alive connection stays small. */
    htp_config_register_response_headers(h->cfg, on_response_headers);
    htp_config_set_response_decompression(h->cfg, 0);
    htp_config_set_tx_auto_destroy(h->cfg, 1);
  } else {
    htp_config_register_request_complete(h->cfg, on_request);
    htp_config_register_response_complete(h->cfg, on_response);
    htp_config_set_response_decompression(h->cfg, 0); /* the status and headers suffice */
  }
  htp_connp_set_user_data(h->connp, h);
  htp_connp_open(h->connp, NULL, 0, NULL, 0, NULL);
  return h;
}

struct http_conn *http_conn_new(void) {
  return conn_new(NULL, NULL);
}

struct http_conn *http_conn_new_responses(http_response_fn fn, void *ctx) {
  return conn_new(fn, ctx);
}

const char *http_conn_failed(const struct http_conn *h) {
  return h->broken ? "http: libhtp could not parse the stream" : NULL;
}

void http_conn_data(struct http_conn *h, int dir, const uint8_t *p, size_t n,
                    const struct tls_at *at) {
  if (!h || h->broken || !p || !n || (!h->fn && h->facts.responses > 0))
    return; /* clear text: the first response is all we keep */
  if (!h->fn && dir == FLOW_C2S && h->request_done)
    return; /* clear text: nothing after the first request is read */
  h->at = *at;
  int rc = dir == FLOW_C2S ? htp_connp_req_data(h->connp, NULL, p, n)
                           : htp_connp_res_data(h->connp, NULL, p, n);
  if (rc == HTP_STREAM_ERROR)
    h->broken = true;
}

/* ---- response fields, for h2.c and h3.c ---- */

#define HTTP_MAX_VALUE (8u << 10) /* a kept header value */

static bool field_is(const uint8_t *name, size_t len, const char *want) {
  return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* Keep the first value of a field (RFC 6797 8.1: only the first STS
 * header field counts). */
static void keep_first(bool *has, uint8_t **dst, size_t *dst_len, const uint8_t *value,
                       size_t value_len) {
  if (*has)
    return;
  *has = true;
  size_t n = value_len < HTTP_MAX_VALUE ? value_len : HTTP_MAX_VALUE;
  if ((*dst = malloc(n ? n : 1))) {
    if (n)
      memcpy(*dst, value, n);
    *dst_len = n;
  }
}

void http_fields_add(struct http_fields *f, const uint8_t *name, size_t name_len,
                     const uint8_t *value, size_t value_len) {
  if (field_is(name, name_len, ":status")) {
    int v = value_len == 3 ? 0 : -1; /* three digits (RFC 9110 15) */
    for (size_t i = 0; v >= 0 && i < value_len; i++)
      v = value[i] >= '0' && value[i] <= '9' ? v * 10 + (value[i] - '0') : -1;
    f->status = v > 0 ? v : 0;
  } else if (field_is(name, name_len, "strict-transport-security")) {
    keep_first(&f->has_sts, &f->sts, &f->sts_len, value, value_len);
  } else if (field_is(name, name_len, "public-key-pins")) {
    keep_first(&f->has_pkp, &f->pkp, &f->pkp_len, value, value_len);
  }
}

struct http_response_view http_fields_view(const struct http_fields *f, uint8_t http_version) {
  return (struct http_response_view){http_version, f->status, f->has_sts, f->has_pkp,
                                     f->sts,       f->pkp,    f->sts_len, f->pkp_len};
}

void http_fields_clear(struct http_fields *f) {
  free(f->sts);
  free(f->pkp);
  memset(f, 0, sizeof(*f));
}

const struct http_facts *http_conn_facts(const struct http_conn *h) {
  return &h->facts;
}

void http_conn_free(struct http_conn *h) {
  if (!h)
    return;
  if (h->connp)
    htp_connp_destroy_all(h->connp);
  if (h->cfg)
    htp_config_destroy(h->cfg);
  free(h);
}
