/*
 * dissect/dtls.c - DTLS 1.0/1.2/1.3 over UDP: records (RFC 6347 4.1, RFC
 * 9147 4) and handshake messages reassembled from fragments by message_seq
 * and fragment_offset (RFC 6347 4.2.3).  Retransmitted fragments of a message
 * already delivered are ignored.
 */
#include "dissect/conn.h"

#include <stdlib.h>
#include <string.h>

void tls_dtls_clear(struct tls_dir *d) {
  free(d->dtls_buf);
  free(d->dtls_mask);
  d->dtls_buf = d->dtls_mask = NULL;
  d->dtls_active = false;
  d->dtls_len = d->dtls_have = 0;
}

static bool start_message(struct tls_conn *c, struct tls_dir *d, uint8_t type, uint16_t seq,
                          uint32_t len, const struct tls_at *at) {
  tls_dtls_clear(d);
  if (len > c->lim.max_handshake_bytes) {
    c->s.cap_handshake++;
    tls_set_malformed(c, "dtls: handshake message longer than the handshake cap", at);
    return false;
  }
  d->dtls_buf = malloc(len ? len : 1);
  d->dtls_mask = calloc(len ? len : 1, 1);
  if (!d->dtls_buf || !d->dtls_mask) {
    tls_dtls_clear(d);
    return false;
  }
  d->dtls_active = true;
  d->dtls_type = type;
  d->dtls_seq = seq;
  d->dtls_len = len;
  return true;
}

/* One handshake fragment (RFC 6347 4.2.2 header already read). */
static void fragment(struct tls_conn *c, int dir, uint8_t type, uint32_t len, uint16_t seq,
                     uint32_t off, struct rd frag, const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  if ((int32_t)seq <= d->dtls_last_done)
    return; /* retransmission of a delivered message */
  if (!d->dtls_active || d->dtls_seq != seq || d->dtls_len != len)
    if (!start_message(c, d, type, seq, len, at))
      return;
  if (off > len || frag.n > len - off) {
    tls_set_malformed(c, "dtls: fragment beyond its message", at);
    return;
  }
  for (size_t i = 0; i < frag.n; i++) {
    if (!d->dtls_mask[off + i]) { /* first copy wins */
      d->dtls_mask[off + i] = 1;
      d->dtls_buf[off + i] = frag.p[i];
      d->dtls_have++;
    }
  }
  if (d->dtls_have == d->dtls_len) {
    d->dtls_last_done = seq;
    uint8_t *buf = d->dtls_buf;
    d->dtls_buf = NULL;
    tls_dtls_clear(d);
    tls_deliver_handshake_message(c, dir, type, rd_make(buf, len), at);
    free(buf);
  }
}

static void handshake_record(struct tls_conn *c, int dir, struct rd body, const struct tls_at *at) {
  while (body.n && !body.err) {
    uint8_t type = rd_u8(&body);
    uint32_t len = rd_u24(&body);
    uint16_t seq = rd_u16(&body);
    uint32_t off = rd_u24(&body);
    struct rd frag = rd_vec24(&body);
    if (body.err)
      break;
    fragment(c, dir, type, len, seq, off, frag, at);
  }
  if (body.err)
    tls_set_malformed(c, "dtls: handshake fragment header", at);
}

void tls_dtls_datagram(struct tls_conn *c, int dir, const uint8_t *p, size_t n,
                       const struct tls_at *at) {
  struct rd r = rd_make(p, n);
  while (r.n && !r.err) {
    if ((r.p[0] & 0xe0) == 0x20)
      break; /* DTLS 1.3 unified header (RFC 9147 4): protected */
    uint8_t type = rd_u8(&r);
    uint16_t version = rd_u16(&r);
    uint16_t epoch = rd_u16(&r);
    rd_bytes(&r, 6); /* sequence_number */
    struct rd body = rd_vec16(&r);
    if (r.err || (version >> 8) != (TLS_VERSION_DTLS12 >> 8)) {
      tls_set_malformed(c, "dtls: record header", at);
      return;
    }
    c->s.records[dir]++;
    bool protected_record = epoch != 0;
    switch (type) {
    case TLS_CT_CHANGE_CIPHER_SPEC:
      tls_deliver_change_cipher_spec(c, dir);
      break;
    case TLS_CT_ALERT:
      tls_alert(c, dir, body, body.n, protected_record, at);
      break;
    case TLS_CT_HANDSHAKE:
      if (protected_record)
        tls_encrypted_handshake(c, dir, at);
      else
        handshake_record(c, dir, body, at);
      break;
    case TLS_CT_APPLICATION_DATA:
      c->s.app_data_bytes[dir] += body.n;
      tls_app_data(c, dir, at);
      break;
    case TLS_CT_HEARTBEAT:
      tls_heartbeat(c, dir, body, body.n, protected_record, at);
      break;
    default:
      break; /* ACK (26) and others */
    }
  }
}
