/*
 * dissect/decrypt.c - one connection's decryption with a key log: which
 * keys protect which records, and where the plaintext goes.
 *
 *   TLS 1.3: after the ServerHello each side's records are protected by its
 *     handshake traffic secret, after its Finished by its traffic secret 0,
 *     after a KeyUpdate by the next one (RFC 8446 7.1-7.2).  Decrypted
 *     handshake messages go to the handshake parser (the Certificate is
 *     what makes the certificate checks decidable), alerts to the alert
 *     list, application data to HTTP.
 *   TLS 1.0-1.2: each side's ChangeCipherSpec switches it to the key block
 *     of the master secret.  Application data goes to HTTP; the encrypted
 *     Finished is checked (it must authenticate) but not parsed.  A second
 *     ChangeCipherSpec (renegotiation) would need the new hellos, which are
 *     encrypted: decryption stops there.
 *
 * A record that does not authenticate means the key log's secret is not
 * this connection's: the connection is marked failed and nothing more is
 * decrypted.  Without a key log none of this runs (c->dec stays NULL).
 */
#include "dissect/conn.h"
#include "dissect/decrypt.h"

#include <stdlib.h>
#include <string.h>

enum app_proto { APP_UNKNOWN, APP_HTTP1, APP_HTTP2, APP_OTHER };

/* Owns the keys and the HTTP parsers of one connection. */
struct tls_decrypt {
  struct tls_crypt *keys[2];    /* protecting each direction now, NULL none */
  struct tls_crypt *pending[2]; /* TLS <= 1.2: waiting for that side's CCS */
  bool tls13;
  bool app_keys[2];  /* TLS 1.3: traffic secret 0 in use */
  bool in_record[2]; /* a decrypted record is being parsed */
  unsigned ccs[2];
  bool stopped;
  enum app_proto app;
  struct http_conn *http1;
  struct h2_conn *http2;
};

void tls_conn_set_keylog(struct tls_conn *c, const struct tls_keylog *kl) {
  c->keylog = kl;
}

static void drop_keys(struct tls_decrypt *dec) {
  for (int i = 0; i < 2; i++) {
    tls_crypt_free(dec->keys[i]);
    tls_crypt_free(dec->pending[i]);
    dec->keys[i] = dec->pending[i] = NULL;
  }
}

void tls_decrypt_free(struct tls_decrypt *dec) {
  if (!dec)
    return;
  drop_keys(dec);
  http_conn_free(dec->http1);
  h2_conn_free(dec->http2);
  free(dec);
}

static struct tls_decrypt *dec_for(struct tls_conn *c) {
  if (!c->dec)
    c->dec = calloc(1, sizeof(*c->dec));
  return c->dec;
}

/* Nothing more will be decrypted on this connection. */
static void stop(struct tls_conn *c, uint8_t status, const char *why) {
  struct tls_decrypt *dec = c->dec;
  dec->stopped = true;
  drop_keys(dec);
  if (status != TLS_DECRYPT_OK || !c->s.decryption.why)
    c->s.decryption.why = why;
  c->s.decryption.status = status;
}

static bool has(const struct tls_secrets *s, enum tls_secret_kind kind) {
  return s && (s->have & (1u << kind));
}

void tls_decrypt_server_hello(struct tls_conn *c) {
  struct tls_session *s = &c->s;
  if (!c->keylog || c->udp || !s->has_client_hello || !dec_for(c))
    return;
  struct tls_decrypt *dec = c->dec;
  if (s->version != TLS_VERSION_TLS13) {
    s->decryption.status = TLS_DECRYPT_NO_KEYS; /* until a CCS finds them */
    return;
  }
  dec->tls13 = true;
  const struct tls_secrets *sec = tls_keylog_find(c->keylog, s->ch.random);
  if (!has(sec, TLS_SECRET_CLIENT_HS) || !has(sec, TLS_SECRET_SERVER_HS)) {
    stop(c, TLS_DECRYPT_NO_KEYS, "no handshake traffic secrets for this ClientHello.random");
    return;
  }
  const char *why = NULL;
  uint16_t suite = (uint16_t)s->sh.cipher;
  dec->keys[FLOW_S2C] =
      tls_crypt_tls13(suite, sec->v[TLS_SECRET_SERVER_HS], sec->len[TLS_SECRET_SERVER_HS], &why);
  if (dec->keys[FLOW_S2C])
    dec->keys[FLOW_C2S] =
        tls_crypt_tls13(suite, sec->v[TLS_SECRET_CLIENT_HS], sec->len[TLS_SECRET_CLIENT_HS], &why);
  if (!dec->keys[FLOW_C2S]) {
    stop(c, TLS_DECRYPT_UNSUPPORTED, why);
    return;
  }
  s->decryption.status = TLS_DECRYPT_OK;
}

void tls_decrypt_change_cipher_spec(struct tls_conn *c, int dir) {
  struct tls_session *s = &c->s;
  struct tls_decrypt *dec = c->dec;
  if (!dec || dec->stopped || dec->tls13)
    return;
  if (++dec->ccs[dir] > 1) {
    stop(c, TLS_DECRYPT_OK, "renegotiated: the new keys' hellos are encrypted");
    return;
  }
  if (!dec->keys[!dir] && !dec->pending[dir]) {
    const struct tls_secrets *sec = tls_keylog_find(c->keylog, s->ch.random);
    if (!has(sec, TLS_SECRET_MASTER)) {
      stop(c, TLS_DECRYPT_NO_KEYS, "no CLIENT_RANDOM line for this ClientHello.random");
      return;
    }
    const char *why = NULL;
    if (!tls_crypt_tls12(s->version, (uint16_t)s->sh.cipher, s->sh.etm, sec->v[TLS_SECRET_MASTER],
                         s->ch.random, s->sh.random, &dec->pending[FLOW_C2S],
                         &dec->pending[FLOW_S2C], &why)) {
      stop(c, TLS_DECRYPT_UNSUPPORTED, why);
      return;
    }
    s->decryption.status = TLS_DECRYPT_OK;
  }
  dec->keys[dir] = dec->pending[dir];
  dec->pending[dir] = NULL;
}

bool tls_decrypt_wants(const struct tls_conn *c, int dir, uint8_t type) {
  const struct tls_decrypt *dec = c->dec;
  if (!dec || dec->stopped || !dec->keys[dir])
    return false;
  if (dec->tls13)
    return type == 23; /* every protected TLS 1.3 record says application_data */
  return type == 21 || type == 22 || type == 23;
}

/* ---- where plaintext goes ---- */

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

static void app_data(struct tls_conn *c, int dir, const uint8_t *p, size_t n,
                     const struct tls_at *at) {
  struct tls_decrypt *dec = c->dec;
  if (!n)
    return;
  if (dec->app == APP_UNKNOWN) {
    dec->app = choose_app(&c->s, dir, p, n);
    if (dec->app == APP_HTTP1 && !(dec->http1 = http_conn_new_responses(on_response, c)))
      dec->app = APP_OTHER;
    if (dec->app == APP_HTTP2 && !(dec->http2 = h2_conn_new(on_response, c)))
      dec->app = APP_OTHER;
  }
  const char *failed = NULL;
  if (dec->app == APP_OTHER) {
    /* not HTTP: fall through to stopping */
  } else if (dec->app == APP_HTTP1) {
    http_conn_data(dec->http1, dir, p, n, at);
    failed = http_conn_failed(dec->http1);
  } else if (dec->app == APP_HTTP2) {
    h2_conn_data(dec->http2, dir, p, n, at);
    failed = h2_conn_failed(dec->http2);
  }
  /* Enough responses read (or HTTP lost): stop decrypting bulk data. */
  bool enough = c->s.https && c->s.https->n >= TLS_MAX_HTTP_RESPONSES;
  if (failed || enough) {
    if (c->s.https || (c->s.https = calloc(1, sizeof(*c->s.https))))
      c->s.https->stopped = failed ? failed : "enough responses read";
    dec->app = APP_OTHER;
  }
  if (dec->app == APP_OTHER && (!dec->tls13 || (dec->app_keys[0] && dec->app_keys[1])))
    stop(c, c->s.decryption.status, "nothing more to read in the application data");
}

void tls_decrypt_record(struct tls_conn *c, int dir, uint8_t type, uint16_t version, uint8_t *body,
                        size_t n, const struct tls_at *at) {
  struct tls_decrypt *dec = c->dec;
  struct tls_session *s = &c->s;
  uint8_t *plain = NULL;
  size_t plain_len = 0;
  uint8_t inner = type;
  if (!tls_crypt_open(dec->keys[dir], &inner, version, body, n, &plain, &plain_len)) {
    /* RFC 8446 4.2.10: 0-RTT data the client sent under early keys comes
     * before its handshake records; pass over it. */
    if (dec->tls13 && dir == FLOW_C2S && s->ch.early_data && !s->decryption.records[dir]) {
      s->decryption.early_skipped++;
      return;
    }
    s->decryption.failed_at = *at;
    stop(c, TLS_DECRYPT_FAILED, "a record did not authenticate: wrong keys in the key log");
    if (type == TLS_CT_ALERT) /* still an alert, contents unknown */
      tls_alert(c, dir, rd_make(body, n), n, true, at);
    return;
  }
  s->decryption.records[dir]++;
  dec->in_record[dir] = true;
  switch (inner) {
  case TLS_CT_HANDSHAKE:
    if (dec->tls13)
      tls_handshake_stream(c, dir, plain, plain_len, at);
    break;
  case TLS_CT_ALERT:
    tls_alert_decrypted(c, dir, rd_make(plain, plain_len), at);
    break;
  case TLS_CT_APPLICATION_DATA:
    app_data(c, dir, plain, plain_len, at);
    break;
  default:
    break;
  }
  if (c->dec)
    c->dec->in_record[dir] = false;
}

void tls_decrypt_key_change(struct tls_conn *c, int dir, uint8_t hs_type, const uint8_t *body,
                            size_t n) {
  struct tls_decrypt *dec = c->dec;
  (void)body;
  (void)n;
  if (!dec || dec->stopped || !dec->tls13 || !dec->in_record[dir])
    return; /* only a decrypted message changes keys */
  if (hs_type == 20 && !dec->app_keys[dir]) {
    enum tls_secret_kind kind = dir == FLOW_S2C ? TLS_SECRET_SERVER_APP : TLS_SECRET_CLIENT_APP;
    const struct tls_secrets *sec = tls_keylog_find(c->keylog, c->s.ch.random);
    const char *why = "no application traffic secret in the key log";
    struct tls_crypt *next = has(sec, kind) ? tls_crypt_tls13((uint16_t)c->s.sh.cipher,
                                                              sec->v[kind], sec->len[kind], &why)
                                            : NULL;
    if (!next) {
      stop(c, TLS_DECRYPT_OK, why);
      return;
    }
    tls_crypt_free(dec->keys[dir]);
    dec->keys[dir] = next;
    dec->app_keys[dir] = true;
  } else if (hs_type == 24 && dec->app_keys[dir] && !tls_crypt_key_update(dec->keys[dir])) {
    stop(c, TLS_DECRYPT_OK, "key update refused by libcrypto");
  }
}
