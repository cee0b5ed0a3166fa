/*
 * dissect/record.c - the TLS record layer of one direction: record headers,
 * handshake messages reassembled across records and segments, SSLv2 records,
 * and the cheap walk over protected records after ChangeCipherSpec.
 *
 * It is the dispatcher below the connection: each record's content goes
 * from here to the handshake parser (then the key schedule), the alert
 * list, or the decryptor, whose plaintext comes back here to be routed the
 * same way (application data to app_data.c).  Nothing below calls back up.
 *
 * Bytes arrive in arbitrary pieces (TCP segments).  A record header is
 * collected into 5 bytes; a plaintext handshake, alert or heartbeat body is
 * buffered; every other body (application data, protected records) is
 * skipped by length without a copy, so bulk data costs a subtraction.
 */
#include "dissect/conn.h"
#include "dissect/decrypt.h"

#include <stdlib.h>
#include <string.h>

static void dir_reset_record(struct tls_dir *d) {
  d->hdr_have = 0;
  d->body_have = 0;
  d->body_len = 0;
}

bool tls_budget_take(struct tls_budget *budget, size_t max_total, size_t after, size_t add) {
  if (!budget)
    return true;
  if (after > TLS_BUDGET_FREE_BYTES && budget->held + add > max_total)
    return false;
  budget->held += add;
  return true;
}

void tls_budget_give(struct tls_budget *budget, size_t n) {
  if (budget)
    budget->held -= n;
}

/* Grow buf to hold need bytes (exact-ish doubling), within the budget of
 * all connections' buffers. */
static bool reserve(struct tls_conn *c, uint8_t **buf, size_t *cap, size_t need) {
  if (need <= *cap)
    return true;
  size_t n = *cap ? *cap : 512;
  while (n < need)
    n *= 2;
  if (!tls_budget_take(c->budget, c->lim.max_buffer_total, n, n - *cap)) {
    c->s.cap_buffer_total++;
    return false;
  }
  uint8_t *p = realloc(*buf, n);
  if (!p) {
    tls_budget_give(c->budget, n - *cap);
    return false;
  }
  *buf = p;
  *cap = n;
  return true;
}

/* A connection lives as long as its flow, most of it waiting: give back
 * a buffer that holds nothing, so that a connection between records
 * costs no buffer at all.  A flood of ClientHellos nobody answers leaves
 * one such connection per flow: keeping 1 kB each for the next record
 * was most of what 200,000 open flows cost. */
static void release_idle(const struct tls_conn *c, uint8_t **buf, size_t *cap, size_t used) {
  if (used == 0 && *cap) {
    tls_budget_give(c->budget, *cap);
    free(*buf);
    *buf = NULL;
    *cap = 0;
  }
}

void tls_deliver_handshake_message(struct tls_conn *c, int dir, uint8_t type, struct rd body,
                                   const struct tls_at *at) {
  bool had_server_hello = c->s.has_server_hello;
  tls_handshake_message(c, dir, type, body, at);
  /* The first ServerHello (not a HelloRetryRequest, not a renegotiation's)
   * fixes version and suite: TLS 1.3 handshake keys follow it. */
  if (!had_server_hello && c->s.has_server_hello && c->keylog)
    tls_decrypt_server_hello(c);
  /* RFC 8446 7.2: a decrypted Finished or KeyUpdate changes the keys of its
   * direction for the records after it. */
  if ((type == TLS_HS_FINISHED || type == TLS_HS_KEY_UPDATE) && c->dec && c->dir[dir].opened)
    tls_decrypt_key_change(c, dir, type);
}

void tls_deliver_change_cipher_spec(struct tls_conn *c, int dir) {
  if (tls_change_cipher_spec(c, dir) && c->dec)
    tls_decrypt_change_cipher_spec(c, dir);
}

/* Handshake bytes of plaintext records: split into messages, each handed
 * to tls_deliver_handshake_message with the frame that completed it. */
void tls_handshake_stream(struct tls_conn *c, int dir, const uint8_t *p, size_t n,
                          const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  /* An empty record adds nothing (and d->hs may be NULL: no arithmetic on it). */
  if (d->hs_overflow || n == 0)
    return;
  if (!reserve(c, &d->hs, &d->hs_cap, d->hs_len + n)) {
    if (!c->s.cap_buffer_total)
      tls_set_malformed(c, "handshake: out of memory", at);
    d->hs_overflow = true;
    return;
  }
  memcpy(d->hs + d->hs_len, p, n);
  d->hs_len += n;
  size_t off = 0;
  while (d->hs_len - off >= 4) {
    struct rd r = rd_make(d->hs + off, d->hs_len - off);
    uint8_t type = rd_u8(&r);
    uint32_t len = rd_u24(&r);
    if (len > c->lim.max_handshake_bytes) {
      c->s.cap_handshake++;
      tls_set_malformed(c, "handshake: message longer than the handshake cap", at);
      d->hs_overflow = true; /* bounded: stop buffering this direction */
      d->hs_len = 0;
      return;
    }
    if (r.n < len)
      break;
    struct rd body = rd_sub(&r, len);
    tls_deliver_handshake_message(c, dir, type, body, at);
    off += 4 + (size_t)len;
  }
  if (off) {
    memmove(d->hs, d->hs + off, d->hs_len - off);
    d->hs_len -= off;
  }
  release_idle(c, &d->hs, &d->hs_cap, d->hs_len);
}

/* The next alert's slot, filled with where and which way; NULL (counted)
 * when the session holds TLS_MAX_ALERTS already. */
static struct tls_alert *new_alert(struct tls_conn *c, int dir, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  if (s->n_alerts >= TLS_MAX_ALERTS ||
      (!s->alerts && !(s->alerts = calloc(TLS_MAX_ALERTS, sizeof(*s->alerts))))) {
    s->alerts_dropped++;
    return NULL;
  }
  struct tls_alert *a = &s->alerts[s->n_alerts++];
  a->at = *at;
  a->dir = dir;
  return a;
}

void tls_alert(struct tls_conn *c, int dir, struct rd body, size_t len, bool encrypted,
               const struct tls_at *at) {
  struct tls_alert *a = new_alert(c, dir, at);
  if (!a)
    return;
  a->encrypted = encrypted || len != 2;
  if (!a->encrypted) {
    tls_history_add(c, dir, TLS_CT_ALERT, 0);
    a->level = rd_u8(&body);
    a->desc = rd_u8(&body);
  }
}

void tls_alert_decrypted(struct tls_conn *c, int dir, struct rd body, const struct tls_at *at) {
  struct tls_alert *a = new_alert(c, dir, at);
  if (!a)
    return;
  a->encrypted = true; /* on the wire it was; the key log opened it */
  a->decrypted = body.n == 2;
  if (a->decrypted) {
    a->level = rd_u8(&body);
    a->desc = rd_u8(&body);
  }
}

void tls_heartbeat(struct tls_conn *c, int dir, struct rd body, size_t len, bool encrypted,
                   const struct tls_at *at) {
  struct tls_session *s = &c->s;
  if (s->n_heartbeats >= TLS_MAX_HEARTBEATS ||
      (!s->heartbeats && !(s->heartbeats = calloc(TLS_MAX_HEARTBEATS, sizeof(*s->heartbeats)))))
    return;
  struct tls_heartbeat *h = &s->heartbeats[s->n_heartbeats++];
  h->at = *at;
  h->dir = dir;
  h->encrypted = encrypted;
  h->record_length = len;
  if (!encrypted) {
    tls_history_add(c, dir, TLS_CT_HEARTBEAT, 0);
    h->type = rd_u8(&body);
    h->payload_length = rd_u16(&body);
  }
}

/* A protected record a key log can open: the decryptor returns its
 * plaintext and inner type, and it is routed from here. */
static void protected_record(struct tls_conn *c, int dir, uint8_t type, uint8_t *p, size_t n,
                             const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  uint8_t inner = type;
  uint8_t *plain = NULL;
  size_t plain_len = 0;
  enum tls_open opened =
      tls_decrypt_open(c, dir, &inner, d->rec_version, p, n, at, &plain, &plain_len);
  if (opened == TLS_OPEN_FAILED && type == TLS_CT_ALERT) /* still an alert, contents unknown */
    tls_alert(c, dir, rd_make(p, n), n, true, at);
  if (opened != TLS_OPEN_PLAINTEXT)
    return;
  d->opened = true;
  switch (inner) {
  case TLS_CT_HANDSHAKE:
    if (tls_decrypt_tls13(c)) /* TLS <= 1.2: only the Finished, checked by opening it */
      tls_handshake_stream(c, dir, plain, plain_len, at);
    break;
  case TLS_CT_ALERT:
    tls_alert_decrypted(c, dir, rd_make(plain, plain_len), at);
    break;
  case TLS_CT_APPLICATION_DATA:
    if (!tls_app_data_plaintext(c, dir, plain, plain_len, at))
      tls_decrypt_app_done(c);
    break;
  default:
    break;
  }
  d->opened = false;
}

/* A complete record body (buffered types only). */
static void record_body(struct tls_conn *c, int dir, uint8_t type, uint8_t *p, size_t n,
                        const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  if (d->encrypted && c->dec && tls_decrypt_wants(c, dir, type)) {
    protected_record(c, dir, type, p, n, at);
    return;
  }
  struct rd body = rd_make(p, n);
  switch (type) {
  case TLS_CT_HANDSHAKE:
    if (!d->encrypted) /* buffered for a decryption that has since stopped */
      tls_handshake_stream(c, dir, p, n, at);
    break;
  case TLS_CT_ALERT:
    tls_alert(c, dir, body, n, d->encrypted, at);
    break;
  case TLS_CT_HEARTBEAT:
    tls_heartbeat(c, dir, body, n, d->encrypted, at);
    break;
  default:
    break;
  }
}

/* Does the body of this record need to be buffered?  Protected records
 * only when a key log can open them. */
static bool wants_body(const struct tls_conn *c, int dir, uint8_t type) {
  const struct tls_dir *d = &c->dir[dir];
  if (d->encrypted && c->dec && tls_decrypt_wants(c, dir, type))
    return true;
  if (type == TLS_CT_HANDSHAKE)
    return !d->encrypted && !d->hs_overflow;
  return type == TLS_CT_ALERT || type == TLS_CT_HEARTBEAT;
}

/* Record header complete: check it and decide how to read the body. */
static bool record_header(struct tls_conn *c, int dir, const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  struct rd r = rd_make(d->hdr, 5);
  uint8_t type = rd_u8(&r);
  uint16_t version = rd_u16(&r);
  uint16_t len = rd_u16(&r);
  bool type_ok = type >= TLS_CT_CHANGE_CIPHER_SPEC && type <= TLS_CT_HEARTBEAT;
  if (!type_ok || (version >> 8) != 3 || len > TLS_MAX_RECORD) {
    tls_set_malformed(c, "record: header is not TLS", at);
    d->lost = true;
    return false;
  }
  c->s.records[dir]++;
  c->s.is_tls = true;
  d->rec_type = type;
  d->rec_version = version;
  d->body_len = len;
  d->body_have = 0;
  if (type == TLS_CT_CHANGE_CIPHER_SPEC) {
    tls_deliver_change_cipher_spec(c, dir);
  } else if (type == TLS_CT_APPLICATION_DATA) {
    c->s.app_data_bytes[dir] += len;
    tls_app_data(c, dir, at);
  } else if (type == TLS_CT_HANDSHAKE && d->encrypted) {
    tls_encrypted_handshake(c, dir, at);
  }
  /* After the calls above: a TLS 1.3 client's first protected record is
   * what marks its direction encrypted. */
  d->buffering = wants_body(c, dir, type);
  if (d->buffering && !reserve(c, &d->body, &d->body_cap, len)) {
    d->buffering = false;
    tls_set_malformed(c, "record: out of memory", at);
  }
  return true;
}

/* Up to the rest of the current record's body from *p: copied when the
 * body is buffered, only counted when it is skipped. */
static void take_body(struct tls_dir *d, const uint8_t **p, size_t *n) {
  size_t k = d->body_len - d->body_have < *n ? d->body_len - d->body_have : *n;
  if (d->buffering)
    memcpy(d->body + d->body_have, *p, k);
  d->body_have += k;
  *p += k;
  *n -= k;
}

void tls_records(struct tls_conn *c, int dir, const uint8_t *p, size_t n, const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  while (n && !d->lost) {
    if (d->hdr_have < 5) {
      size_t k = 5 - d->hdr_have < n ? 5 - d->hdr_have : n;
      memcpy(d->hdr + d->hdr_have, p, k);
      d->hdr_have += k;
      p += k;
      n -= k;
      if (d->hdr_have == 5 && !record_header(c, dir, at))
        return;
      if (d->hdr_have < 5 || d->body_len > 0)
        continue;
    } else {
      take_body(d, &p, &n);
    }
    if (d->hdr_have == 5 && d->body_have == d->body_len) {
      if (d->buffering)
        record_body(c, dir, d->rec_type, d->body, d->body_len, at);
      dir_reset_record(d);
      release_idle(c, &d->body, &d->body_cap, 0);
      release_idle(c, &d->hs, &d->hs_cap, d->hs_len); /* unused once protected */
    }
  }
}

/* ---- SSLv2 record format (draft-hickman-netscape-ssl-00 / RFC 6101 E) ---- */

/* SSLv2 records: 2-byte header (high bit set) or 3-byte header with
 * padding.  Only the unencrypted hellos and CLIENT-MASTER-KEY matter; after
 * them everything is encrypted and skipped by length. */
void tls_sslv2_records(struct tls_conn *c, int dir, const uint8_t *p, size_t n,
                       const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  while (n && !d->lost) {
    size_t hdr_need = d->hdr_have >= 1 && !(d->hdr[0] & 0x80) ? 3 : 2;
    if (d->hdr_have < hdr_need) {
      d->hdr[d->hdr_have++] = *p++;
      n--;
      if (d->hdr_have < hdr_need || (d->hdr_have == 1))
        continue;
      size_t len = (size_t)(d->hdr[0] & (d->hdr[0] & 0x80 ? 0x7f : 0x3f)) << 8 | d->hdr[1];
      d->body_len = len;
      d->body_have = 0;
      d->buffering = !d->encrypted && len > 0;
      c->s.records[dir]++;
      if (d->buffering && !reserve(c, &d->body, &d->body_cap, len))
        d->buffering = false;
      if (len)
        continue;
    } else {
      take_body(d, &p, &n);
    }
    if (d->body_have == d->body_len) {
      if (d->buffering)
        tls_sslv2_message(c, dir, rd_make(d->body, d->body_len), at);
      dir_reset_record(d);
    }
  }
}
