/*
 * dissect/http.c - clear-text HTTP on a flow, through libhtp (a parser made
 * for passive traffic): what a server tells a visitor who typed http://, a
 * redirect to https:// or the content itself.
 */
#include "dissect/dissect.h"

#include <htp/htp.h>
#include <stdlib.h>
#include <string.h>

/* Owns the libhtp configuration and parser of one flow. */
struct http_conn {
  htp_cfg_t *cfg;
  htp_connp_t *connp;
  struct http_facts facts;
  struct tls_at at; /* of the data being parsed */
  bool broken;      /* libhtp gave up on the stream */
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
    f->redirect_https = f->status >= 300 && f->status < 400 &&
                        strncasecmp(f->location, "https://", 8) == 0;
  }
  return HTP_OK;
}

struct http_conn *http_conn_new(void) {
  struct http_conn *h = calloc(1, sizeof(*h));
  if (!h)
    return NULL;
  h->cfg = htp_config_create();
  if (!h->cfg || !(h->connp = htp_connp_create(h->cfg))) {
    http_conn_free(h);
    return NULL;
  }
  htp_config_register_response_complete(h->cfg, on_response);
  htp_connp_set_user_data(h->connp, h);
  htp_connp_open(h->connp, NULL, 0, NULL, 0, NULL);
  return h;
}

void http_conn_data(struct http_conn *h, int dir, const uint8_t *p, size_t n,
                    const struct tls_at *at) {
  if (!h || h->broken || !p || !n || h->facts.responses > 0)
    return; /* the first response is all we keep */
  h->at = *at;
  int rc = dir == FLOW_C2S ? htp_connp_req_data(h->connp, NULL, p, n)
                           : htp_connp_res_data(h->connp, NULL, p, n);
  if (rc == HTP_STREAM_ERROR)
    h->broken = true;
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
