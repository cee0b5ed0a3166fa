/*
 * dissect/dtls.c - DTLS 1.0/1.2/1.3 over UDP: records (RFC 6347 4.1, RFC
 * 9147 4) and handshake messages reassembled from fragments by message_seq
 * and fragment_offset (RFC 6347 4.2.3).  Retransmitted fragments of a message
 * already delivered are ignored.  Memory follows the bytes that arrive, not
 * the length a fragment claims: the received prefix grows, and fragments
 * ahead of a hole are held as pieces (at most max_dtls_pieces per
 * direction), all within the budget of all connections' buffers.
 */
#include "dissect/conn.h"

#include <stdlib.h>
#include <string.h>

/* A fragment that arrived ahead of the bytes before it. */
struct dtls_piece {
  struct dtls_piece *next;
  uint32_t off, len;
  uint8_t data[];
};

/* Fragments held ahead of a hole, per direction (tls_limits.max_dtls_pieces):
 * a real message comes in order or in a few pieces; more are refused (the
 * message then stays incomplete) and counted (cap_dtls_pieces). */

/* The message's buffers, freed; the direction's state (last_done) stays. */
static void drop_message(struct tls_dtls_dir *m) {
  free(m->buf);
  while (m->pieces) {
    struct dtls_piece *next = m->pieces->next;
    free(m->pieces);
    m->pieces = next;
  }
  m->buf = NULL;
  m->active = false;
  m->len = m->have = m->cap = 0;
  m->npieces = 0;
  m->charged = 0;
}

void tls_dtls_clear(struct tls_dir *d) {
  if (d->dtls)
    drop_message(d->dtls);
  free(d->dtls);
  d->dtls = NULL;
}

/* Forget the message of d and give back what it took from the budget. */
static void release(struct tls_conn *c, struct tls_dir *d) {
  tls_budget_give(c->budget, d->dtls->charged);
  drop_message(d->dtls);
}

/* May d's DTLS buffers grow by add bytes?  Counted when the budget of all
 * connections' buffers refuses. */
static bool charge(struct tls_conn *c, struct tls_dir *d, size_t add) {
  if (!tls_budget_take(c->budget, c->lim.max_buffer_total, d->dtls->charged + add, add)) {
    c->s.cap_buffer_total++;
    return false;
  }
  d->dtls->charged += add;
  return true;
}

static void uncharge(struct tls_conn *c, struct tls_dir *d, size_t n) {
  tls_budget_give(c->budget, n);
  d->dtls->charged -= n;
}

/* A message begins: nothing is allocated for what it claims, only for
 * what arrives (a claim of 4 MiB and one byte costs one byte). */
static bool start_message(struct tls_conn *c, struct tls_dir *d, uint8_t type, uint16_t seq,
                          uint32_t len, const struct tls_at *at) {
  release(c, d);
  if (len > c->lim.max_handshake_bytes) {
    c->s.cap_handshake++;
    tls_set_malformed(c, "dtls: handshake message longer than the handshake cap", at);
    return false;
  }
  d->dtls->active = true;
  d->dtls->type = type;
  d->dtls->seq = seq;
  d->dtls->len = len;
  return true;
}

/* Bytes [off, off + n) with off <= dtls_have: the part beyond dtls_have
 * extends the received prefix (first copy wins). */
static bool extend_prefix(struct tls_conn *c, struct tls_dir *d, uint32_t off, const uint8_t *p,
                          uint32_t n) {
  if (off + n <= d->dtls->have)
    return true;
  uint32_t skip = d->dtls->have - off, add = n - skip;
  if (d->dtls->have + add > d->dtls->cap) {
    uint32_t cap = d->dtls->cap ? d->dtls->cap : 256;
    while (cap < d->dtls->have + add)
      cap = cap > d->dtls->len / 2 ? d->dtls->len : cap * 2;
    if (!charge(c, d, cap - d->dtls->cap))
      return false;
    uint8_t *grown = realloc(d->dtls->buf, cap ? cap : 1);
    if (!grown) {
      uncharge(c, d, cap - d->dtls->cap);
      return false;
    }
    d->dtls->buf = grown, d->dtls->cap = cap;
  }
  memcpy(d->dtls->buf + d->dtls->have, p + skip, add);
  d->dtls->have += add;
  return true;
}

/* Keep the parts of [off, off + n) that no held piece covers. */
static void hold_piece(struct tls_conn *c, struct tls_dir *d, uint32_t off, const uint8_t *p,
                       uint32_t n) {
  struct dtls_piece **link = &d->dtls->pieces;
  uint32_t cur = off, end = off + n;
  while (cur < end) {
    struct dtls_piece *h = *link;
    if (h && h->off + h->len <= cur) {
      link = &h->next;
      continue;
    }
    uint32_t stop = h && h->off < end ? h->off : end;
    if (stop > cur) {
      size_t cost = sizeof(struct dtls_piece) + (stop - cur);
      if (d->dtls->npieces >= c->lim.max_dtls_pieces) {
        c->s.cap_dtls_pieces++;
        return;
      }
      if (!charge(c, d, cost))
        return;
      struct dtls_piece *piece = malloc(cost);
      if (!piece) {
        uncharge(c, d, cost);
        return;
      }
      piece->off = cur, piece->len = stop - cur, piece->next = h;
      memcpy(piece->data, p + (cur - off), stop - cur);
      *link = piece;
      link = &piece->next;
      d->dtls->npieces++;
    }
    if (!h || h->off >= end)
      break;
    cur = h->off + h->len;
    link = &h->next;
  }
}

/* Held pieces that the prefix has reached join it. */
static bool absorb_pieces(struct tls_conn *c, struct tls_dir *d) {
  while (d->dtls->pieces && d->dtls->pieces->off <= d->dtls->have) {
    struct dtls_piece *h = d->dtls->pieces;
    if (!extend_prefix(c, d, h->off, h->data, h->len))
      return false;
    d->dtls->pieces = h->next;
    d->dtls->npieces--;
    uncharge(c, d, sizeof(*h) + h->len);
    free(h);
  }
  return true;
}

/* One handshake fragment (RFC 6347 4.2.2 header already read). */
static void fragment(struct tls_conn *c, int dir, uint8_t type, uint32_t len, uint16_t seq,
                     uint32_t off, struct rd frag, const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  if (!d->dtls) {
    if (!(d->dtls = calloc(1, sizeof(*d->dtls)))) {
      tls_set_malformed(c, "dtls: out of memory", at);
      return;
    }
    d->dtls->last_done = -1;
  }
  if ((int32_t)seq <= d->dtls->last_done)
    return; /* retransmission of a delivered message */
  if (!d->dtls->active || d->dtls->seq != seq || d->dtls->len != len)
    if (!start_message(c, d, type, seq, len, at))
      return;
  if (off > len || frag.n > len - off) {
    tls_set_malformed(c, "dtls: fragment beyond its message", at);
    return;
  }
  bool ok = true;
  if (off <= d->dtls->have)
    ok = extend_prefix(c, d, off, frag.p, (uint32_t)frag.n) && absorb_pieces(c, d);
  else
    hold_piece(c, d, off, frag.p, (uint32_t)frag.n);
  if (!ok) {
    release(c, d); /* out of memory or budget: this message is lost */
    return;
  }
  if (d->dtls->have == d->dtls->len) {
    d->dtls->last_done = seq;
    uint8_t *buf = d->dtls->buf;
    d->dtls->buf = NULL;
    release(c, d);
    static const uint8_t empty[1];
    tls_deliver_handshake_message(c, dir, type, rd_make(buf ? buf : empty, len), at);
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
