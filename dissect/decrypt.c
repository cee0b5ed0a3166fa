/*
 * dissect/decrypt.c - one connection's decryption with a key log: which
 * keys protect which records.  The record dispatcher (record.c) feeds it
 * protected records and gets their plaintext back; where that goes is the
 * dispatcher's business.  The dispatcher also calls the key-schedule hooks
 * below once the handshake parser has read the message that moves them.
 *
 *   TLS 1.3: after the ServerHello each side's records are protected by its
 *     handshake traffic secret, after its Finished by its traffic secret 0,
 *     after a KeyUpdate by the next one (RFC 8446 7.1-7.2).
 *   TLS 1.0-1.2: each side's ChangeCipherSpec switches it to the key block
 *     of the master secret.  The encrypted Finished is checked (it must
 *     authenticate) but not parsed.  A second ChangeCipherSpec
 *     (renegotiation) would need the new hellos, which are encrypted:
 *     decryption stops there.
 *
 * A record that does not authenticate means the key log's secret is not
 * this connection's: the connection is marked failed and nothing more is
 * decrypted.  Without a key log none of this runs (c->dec stays NULL).
 */
#include "dissect/conn.h"
#include "dissect/decrypt.h"
#include "dissect/quic.h"

#include <stdlib.h>
#include <string.h>

/* Owns the keys of one connection. */
struct tls_decrypt {
  struct tls_crypt *keys[2];    /* protecting each direction now, NULL none */
  struct tls_crypt *pending[2]; /* TLS <= 1.2: waiting for that side's CCS */
  bool tls13;
  bool app_keys[2]; /* TLS 1.3: traffic secret 0 in use */
  unsigned ccs[2];
  bool stopped;
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

/* A secret of the key log as QUIC takes it; len 0 when absent. */
static struct quic_secret quic_secret_of(const struct tls_secrets *sec, enum tls_secret_kind kind,
                                         uint16_t suite) {
  struct quic_secret q = {suite, 0, {0}};
  if (has(sec, kind) && sec->len[kind] <= QUIC_SECRET_MAX) {
    q.len = sec->len[kind];
    memcpy(q.v, sec->v[kind], q.len);
  }
  return q;
}

/* QUIC (RFC 9001 5.1): the same TLS 1.3 secrets give the Handshake and
 * 1-RTT packet keys; quic.c opens the packets, the CRYPTO frames come back
 * through the handshake stream as plaintext handshake messages. */
static void quic_server_hello(struct tls_conn *c) {
  struct tls_session *s = &c->s;
  const struct tls_secrets *sec = tls_keylog_find(c->keylog, s->ch.random);
  uint16_t suite = (uint16_t)s->sh.cipher;
  if (!has(sec, TLS_SECRET_CLIENT_HS) || !has(sec, TLS_SECRET_SERVER_HS)) {
    s->decryption.status = TLS_DECRYPT_NO_KEYS;
    s->decryption.why = "no handshake traffic secrets for this ClientHello.random";
    return;
  }
  struct quic_secret hs[2] = {quic_secret_of(sec, TLS_SECRET_CLIENT_HS, suite),
                              quic_secret_of(sec, TLS_SECRET_SERVER_HS, suite)};
  struct quic_secret app[2] = {quic_secret_of(sec, TLS_SECRET_CLIENT_APP, suite),
                               quic_secret_of(sec, TLS_SECRET_SERVER_APP, suite)};
  if (!quic_suite_supported(suite) || !quic_conn_set_secrets(c->quic, hs, app)) {
    s->decryption.status = TLS_DECRYPT_UNSUPPORTED;
    s->decryption.why = "QUIC packet protection of this suite or version is not supported";
    return;
  }
  s->decryption.status = TLS_DECRYPT_OK;
  if (!app[0].len || !app[1].len)
    s->decryption.why = "no application traffic secret in the key log";
}

/* After each QUIC datagram: what decryption did. */
void tls_decrypt_quic_update(struct tls_conn *c) {
  struct tls_session *s = &c->s;
  const struct quic_decrypt_failure *f = quic_conn_decrypt_failure(c->quic);
  const struct quic_stats *st = quic_conn_stats(c->quic);
  if (s->decryption.status == TLS_DECRYPT_OK && f) {
    s->decryption.status = TLS_DECRYPT_FAILED;
    s->decryption.why = "a packet did not authenticate: wrong keys in the key log";
    s->decryption.failed_at = (struct tls_at){f->file_index, f->frame, f->ts};
  }
  s->decryption.records[0] = st->protected_opened[0];
  s->decryption.records[1] = st->protected_opened[1];
}

void tls_decrypt_server_hello(struct tls_conn *c) {
  struct tls_session *s = &c->s;
  if (c->keylog && c->quic && s->has_client_hello && s->version == TLS_VERSION_TLS13) {
    quic_server_hello(c);
    return;
  }
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
  if (dec->tls13) /* every protected TLS 1.3 record says application_data */
    return type == TLS_CT_APPLICATION_DATA;
  return type == TLS_CT_ALERT || type == TLS_CT_HANDSHAKE || type == TLS_CT_APPLICATION_DATA;
}

bool tls_decrypt_tls13(const struct tls_conn *c) {
  return c->dec && c->dec->tls13;
}

void tls_decrypt_app_done(struct tls_conn *c) {
  struct tls_decrypt *dec = c->dec;
  /* TLS 1.3 keeps going until both sides' application keys are in use:
   * the handshake records before them may still hold a Certificate. */
  if (!dec->tls13 || (dec->app_keys[0] && dec->app_keys[1]))
    stop(c, c->s.decryption.status, "nothing more to read in the application data");
}

enum tls_open tls_decrypt_open(struct tls_conn *c, int dir, uint8_t *type, uint16_t version,
                               uint8_t *body, size_t n, const struct tls_at *at, uint8_t **plain,
                               size_t *plain_len) {
  struct tls_decrypt *dec = c->dec;
  struct tls_session *s = &c->s;
  if (!tls_crypt_open(dec->keys[dir], type, version, body, n, plain, plain_len)) {
    /* RFC 8446 4.2.10: 0-RTT data the client sent under early keys comes
     * before its handshake records; pass over it. */
    if (dec->tls13 && dir == FLOW_C2S && s->ch.early_data && !s->decryption.records[dir]) {
      s->decryption.early_skipped++;
      return TLS_OPEN_SKIPPED;
    }
    s->decryption.failed_at = *at;
    stop(c, TLS_DECRYPT_FAILED, "a record did not authenticate: wrong keys in the key log");
    return TLS_OPEN_FAILED;
  }
  s->decryption.records[dir]++;
  return TLS_OPEN_PLAINTEXT;
}

void tls_decrypt_key_change(struct tls_conn *c, int dir, uint8_t hs_type) {
  struct tls_decrypt *dec = c->dec;
  if (!dec || dec->stopped || !dec->tls13)
    return;
  if (hs_type == TLS_HS_FINISHED && !dec->app_keys[dir]) {
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
  } else if (hs_type == TLS_HS_KEY_UPDATE && dec->app_keys[dir] &&
             !tls_crypt_key_update(dec->keys[dir])) {
    stop(c, TLS_DECRYPT_OK, "key update refused by libcrypto");
  }
}
