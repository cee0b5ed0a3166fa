/*
 * dissect/conn.c - one connection's dissector: decides what each direction
 * carries (TLS records, SSLv2, a STARTTLS protocol's plaintext first, DTLS
 * or QUIC datagrams) and routes the bytes.
 */
#include "dissect/conn.h"
#include "dissect/decrypt.h"
#include "dissect/quic.h"

#include <stdlib.h>
#include <string.h>

void tls_limits_default(struct tls_limits *lim) {
  lim->max_handshake_bytes = 4u << 20; /* a 350 kB certificate is real */
  lim->max_chain_len = 16;
  lim->max_cert_bytes = 1u << 20;
  lim->max_buffer_total = 256u << 20;
  lim->max_quic_pieces = QUIC_HELD_PIECES;
  lim->max_dtls_pieces = 32; /* a real message comes in order or in a few pieces */
  lim->max_history = TLS_MAX_HISTORY;
  lim->max_starttls_bytes = 256u << 10; /* a mail server's greeting and EHLO reply fit */
  lim->max_h3_streams = 16;             /* a response, the control and two QPACK streams */
  lim->max_h3_section = 16u << 10;
}

struct tls_conn *tls_conn_new(const struct tls_limits *lim, bool transport_udp,
                              uint16_t server_port) {
  struct tls_conn *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->lim = *lim;
  c->udp = transport_udp;
  c->server_port = server_port;
  c->s.transport = transport_udp ? "udp" : "tcp";
  c->s.ocsp_cert_status = -1;
  c->first_dir = -1;
  return c;
}

void tls_conn_skip_ja4(struct tls_conn *c) {
  c->no_ja4 = true;
}

void tls_dir_clear(struct tls_dir *d) {
  tls_dtls_clear(d);
  free(d->body);
  free(d->hs);
  memset(d, 0, sizeof(*d));
}

void tls_conn_free(struct tls_conn *c) {
  if (!c)
    return;
  tls_session_clear(&c->s);
  /* What this connection's buffers held goes back (the QUIC pieces' as
   * quic_conn_free frees them). */
  tls_budget_give(c->budget,
                  tls_conn_buffer_bytes(c) - (c->quic ? quic_conn_held_cost(c->quic) : 0));
  tls_dir_clear(&c->dir[0]);
  tls_dir_clear(&c->dir[1]);
  quic_conn_free(c->quic);
  tls_decrypt_free(c->dec);
  tls_app_data_free(c->app_data);
  tls_starttls_free(c->clear);
  free(c);
}

void tls_conn_roles_guessed(struct tls_conn *c) {
  c->roles_guessed = true;
}

void tls_conn_set_budget(struct tls_conn *c, struct tls_budget *budget) {
  c->budget = budget;
}

void tls_conn_set_cert_cache(struct tls_conn *c, struct x509_cache *cache) {
  c->cert_cache = cache;
}

/* A hello only a client sends: TLS or SSLv2 ClientHello, DTLS ClientHello,
 * or a QUIC long-header packet (the client speaks first). */
static bool client_speaks(const struct tls_conn *c, const uint8_t *p, size_t n) {
  struct rd first = rd_make(p, n);
  if (c->udp)
    return tls_sniff_dtls_hello(first, 1) || tls_sniff_quic_long_header(first);
  return tls_sniff_hello(first, 1) || tls_sniff_sslv2(first, 1);
}

const struct tls_session *tls_conn_session(const struct tls_conn *c) {
  return &c->s;
}

void tls_conn_evicted(struct tls_conn *c) {
  c->s.evicted = true;
}

/* First bytes of a direction decide its mode.  A connection that began
 * in clear text stays in it until a STARTTLS exchange (starttls.c); one
 * that began in TLS has no clear text to switch from. */
static void choose_mode(struct tls_conn *c, int dir, const uint8_t *p, size_t n) {
  struct tls_dir *d = &c->dir[dir];
  uint8_t hello = dir == FLOW_C2S ? 1 : 2;
  const struct tls_dir *other = &c->dir[!dir];
  if (c->began_clear) {
    d->mode = TLS_MODE_PLAINTEXT;
    return;
  }
  struct rd first = rd_make(p, n);
  if (tls_sniff_hello(first, hello) || tls_sniff_record(first))
    d->mode = TLS_MODE_TLS;
  else if (tls_sniff_sslv2(first, dir == FLOW_C2S ? 1 : 4))
    d->mode = TLS_MODE_SSLV2;
  else if (dir == FLOW_S2C && other->mode == TLS_MODE_SSLV2 && tls_sniff_hello(first, 2))
    d->mode = TLS_MODE_TLS;
  else if (other->mode == TLS_MODE_TLS || other->mode == TLS_MODE_SSLV2)
    d->mode = TLS_MODE_NOT_TLS; /* clear text in answer to TLS (an HTTP error page) */
  else
    d->mode = TLS_MODE_PLAINTEXT;
}

/* A hole in the stream: a record in progress cannot be finished, and the
 * next bytes may start anywhere.  Resynchronise only in plaintext mode. */
static void stream_gap(struct tls_conn *c, int dir) {
  struct tls_dir *d = &c->dir[dir];
  c->s.gap[dir] = true;
  if (d->mode == TLS_MODE_TLS || d->mode == TLS_MODE_SSLV2)
    d->lost = true;
  else if (d->mode == TLS_MODE_PLAINTEXT)
    tls_starttls_gap(c, dir);
}

/* Bytes of a direction whose mode is decided. */
static void tcp_bytes(struct tls_conn *c, int dir, const uint8_t *data, size_t len,
                      const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  if (d->mode == TLS_MODE_PLAINTEXT) {
    size_t off;
    if (!tls_starttls_scan(c, dir, data, len, &off))
      return;
    d->mode = TLS_MODE_TLS;
    data += off;
    len -= off;
    if (!len)
      return;
  }
  if (d->mode == TLS_MODE_TLS) {
    tls_records(c, dir, data, len, at);
  } else if (d->mode == TLS_MODE_SSLV2) {
    /* An SSLv2-format CLIENT-HELLO may be answered in TLS records; the
     * client then continues in TLS records too. */
    if (dir == FLOW_C2S && c->dir[FLOW_S2C].mode == TLS_MODE_TLS && d->hdr_have == 0 &&
        d->body_have == d->body_len && tls_sniff_record(rd_make(data, len))) {
      d->mode = TLS_MODE_TLS;
      tls_records(c, dir, data, len, at);
    } else {
      tls_sslv2_records(c, dir, data, len, at);
    }
  }
}

/* The first bytes a direction held while its mode was undecided. */
static void flush_lead(struct tls_conn *c, int dir, const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  size_t n = d->lead_have;
  d->lead_have = 0;
  if (n)
    tcp_bytes(c, dir, d->lead, n, at);
}

/* dir began in clear text, so did the connection: the other direction is
 * clear text too, and the STARTTLS scan reads both in the order they
 * were sent (a 1-byte PostgreSQL 'S' or a 5-byte "+OK\r\n" waits in
 * lead otherwise). */
static void begin_clear(struct tls_conn *c, int dir, const struct tls_at *at) {
  c->began_clear = true;
  struct tls_dir *other = &c->dir[!dir];
  if (other->mode != TLS_MODE_UNKNOWN)
    return;
  other->mode = TLS_MODE_PLAINTEXT;
  if (c->first_dir == !dir)
    flush_lead(c, !dir, at);
  flush_lead(c, dir, at);
  flush_lead(c, !dir, at);
}

/* The mode is decided on the first 6 bytes of a direction, however thinly
 * the stream delivers them. */
static bool tcp_data(struct tls_conn *c, int dir, const uint8_t *data, size_t len,
                     const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  if (d->mode == TLS_MODE_UNKNOWN) {
    size_t need = sizeof(d->lead) - d->lead_have;
    if (len < need) {
      memcpy(d->lead + d->lead_have, data, len);
      d->lead_have += len;
      return false;
    }
    uint8_t first[sizeof(d->lead)];
    memcpy(first, d->lead, d->lead_have);
    memcpy(first + d->lead_have, data, need);
    choose_mode(c, dir, d->lead_have ? first : data, d->lead_have ? sizeof(first) : len);
    if (d->mode == TLS_MODE_PLAINTEXT && !c->began_clear)
      begin_clear(c, dir, at);
    flush_lead(c, dir, at);
  }
  tcp_bytes(c, dir, data, len, at);
  return d->lost || d->mode == TLS_MODE_NOT_TLS;
}

static void quic_crypto(void *ctx, int dir, const uint8_t *data, size_t len, uint64_t offset,
                        uint32_t file_index, uint64_t frame, int64_t ts) {
  struct tls_conn *c = ctx;
  struct tls_at at = {file_index, frame, ts};
  (void)offset;
  tls_handshake_stream(c, dir, data, len, &at);
}

/* The server's QUIC stream data (a key log opened it): HTTP/3 responses.
 * Once nothing more is worth reading the streams are no longer handed on. */
static void quic_stream(void *ctx, uint64_t id, uint64_t off, const uint8_t *data, size_t len,
                        uint32_t file_index, uint64_t frame, int64_t ts) {
  struct tls_conn *c = ctx;
  struct tls_at at = {file_index, frame, ts};
  if (!tls_app_data_quic_stream(c, id, off, data, len, &at))
    quic_conn_set_stream_fn(c->quic, NULL, NULL);
}

/* The session learns what the QUIC flow's last datagram changed; the
 * pieces the budget refused (budget_before: refused until then) count
 * with the connection's other buffers refused. */
static void quic_counts(struct tls_conn *c, uint64_t budget_before) {
  const struct quic_stats *st = quic_conn_stats(c->quic);
  c->s.quic_version = quic_conn_version(c->quic);
  c->s.quic_unsupported = quic_conn_unsupported(c->quic);
  c->s.quic_crypto_refused = st->crypto_pieces_refused;
  c->s.cap_buffer_total += (unsigned)(st->crypto_budget_refused - budget_before);
}

static bool udp_data(struct tls_conn *c, int dir, const uint8_t *data, size_t len,
                     const struct tls_at *at) {
  struct tls_dir *d = &c->dir[dir];
  if (!c->quic && !c->dtls && d->mode != TLS_MODE_NOT_TLS) {
    if (tls_sniff_dtls(rd_make(data, len))) {
      c->dtls = true;
    } else {
      c->quic = quic_conn_new(c->lim.max_handshake_bytes);
      if (c->quic)
        quic_conn_set_caps(c->quic, c->lim.max_quic_pieces, c->budget, c->lim.max_buffer_total);
      if (c->quic && c->keylog)
        quic_conn_set_stream_fn(c->quic, quic_stream, c);
      if (c->quic && !quic_conn_datagram(c->quic, dir, data, len, at->file_index, at->frame, at->ts,
                                         quic_crypto, c)) {
        quic_conn_free(c->quic);
        c->quic = NULL;
        d->mode = TLS_MODE_NOT_TLS;
        return c->dir[!dir].mode == TLS_MODE_NOT_TLS || !c->s.is_tls;
      }
      c->s.quic = c->quic != NULL;
      if (c->quic)
        quic_counts(c, 0);
      return false;
    }
  }
  if (c->quic) {
    uint64_t over_budget = quic_conn_stats(c->quic)->crypto_budget_refused;
    quic_conn_datagram(c->quic, dir, data, len, at->file_index, at->frame, at->ts, quic_crypto, c);
    if (!c->s.malformed && quic_conn_malformed(c->quic))
      tls_set_malformed(c, quic_conn_malformed(c->quic), at);
    quic_counts(c, over_budget);
    if (c->keylog)
      tls_decrypt_quic_update(c);
  } else if (c->dtls) {
    tls_dtls_datagram(c, dir, data, len, at);
  }
  return false;
}

/* WebRTC puts STUN, DTLS, RTP/RTCP (and ZRTP, TURN ChannelData) on one
 * 5-tuple; RFC 7983 7 tells them apart by the first byte: 0-3 STUN, 16-19
 * ZRTP, 20-63 DTLS, 64-79 TURN ChannelData (RFC 8656 12.4: a 4-byte
 * header, then the datagram it relays), 128-191 RTP/RTCP.  Once a flow has
 * shown a STUN message, only the DTLS datagrams reach the dissector (those
 * inside ChannelData unwrapped); the rest are skipped, up to a bound after
 * which a flow that never showed DTLS is left alone.  False: skip this
 * datagram. */
#define WEBRTC_SCAN_MAX 4096 /* datagrams of a STUN flow looked at before DTLS */

static bool webrtc_demux(struct tls_conn *c, const uint8_t **data, size_t *len) {
  uint8_t first = (*data)[0];
  if (first <= 3 && tls_sniff_stun(rd_make(*data, *len))) {
    c->webrtc = true;
    c->s.webrtc = true;
    return false;
  }
  if (!c->webrtc)
    return true;
  if (first >= 64 && first <= 79 && *len >= 4) { /* ChannelData */
    size_t inner = (size_t)(*data)[2] << 8 | (*data)[3];
    if (inner <= *len - 4 && inner) {
      *data += 4;
      *len = inner;
      first = (*data)[0];
    }
  }
  if (first >= 20 && first <= 63)
    return true;
  if (!c->dtls && ++c->webrtc_skipped > WEBRTC_SCAN_MAX)
    c->dir[0].mode = c->dir[1].mode = TLS_MODE_NOT_TLS;
  return false;
}

/* A guessed flow whose "server" speaks first with a client's hello swaps
 * roles.  Over TCP the first 6 bytes decide, however thinly they arrive (a
 * record header may come alone); until then both directions only hold lead
 * bytes (tcp_data), so their states swap whole. */
static void decide_roles(struct tls_conn *c, int dir, const uint8_t *data, size_t len) {
  const struct tls_dir *d = &c->dir[dir];
  uint8_t first[sizeof(d->lead)];
  const uint8_t *p = data;
  size_t n = len;
  if (!c->udp && d->lead_have + len < sizeof(first))
    return;
  c->first_seen = true;
  if (!c->udp && d->lead_have) {
    memcpy(first, d->lead, d->lead_have);
    memcpy(first + d->lead_have, data, sizeof(first) - d->lead_have);
    p = first;
    n = sizeof(first);
  }
  if (!c->roles_guessed || dir != FLOW_S2C || !client_speaks(c, p, n))
    return;
  c->s.roles_swapped = true;
  if (c->first_dir >= 0)
    c->first_dir = (int8_t)!c->first_dir;
  struct tls_dir held = c->dir[FLOW_C2S];
  c->dir[FLOW_C2S] = c->dir[FLOW_S2C];
  c->dir[FLOW_S2C] = held;
  bool gap = c->s.gap[FLOW_C2S];
  c->s.gap[FLOW_C2S] = c->s.gap[FLOW_S2C];
  c->s.gap[FLOW_S2C] = gap;
}

bool tls_conn_headers_only(const struct tls_conn *c, int dir) {
  if ((dir != FLOW_C2S && dir != FLOW_S2C) || c->udp || c->keylog)
    return false;
  const struct tls_dir *d = &c->dir[c->s.roles_swapped ? !dir : dir];
  return d->mode == TLS_MODE_TLS && !d->lost &&
         (d->encrypted || d->rec_type == TLS_CT_APPLICATION_DATA);
}

size_t tls_conn_buffer_bytes(const struct tls_conn *c) {
  size_t n = c->quic ? quic_conn_held_cost(c->quic) : 0;
  for (int i = 0; i < 2; i++)
    n += c->dir[i].body_cap + c->dir[i].hs_cap + (c->dir[i].dtls ? c->dir[i].dtls->charged : 0);
  return n;
}

bool tls_conn_data(struct tls_conn *c, int dir, const uint8_t *data, size_t len, uint64_t gap_len,
                   unsigned flags, uint32_t file_index, uint64_t frame, cap_time_us ts) {
  if (dir != FLOW_C2S && dir != FLOW_S2C)
    return true;
  struct tls_at at = {file_index, frame, ts};
  if (c->udp && data && len && !webrtc_demux(c, &data, &len))
    return c->dir[0].mode == TLS_MODE_NOT_TLS && c->dir[1].mode == TLS_MODE_NOT_TLS;
  if (!c->first_seen && data && len)
    decide_roles(c, dir, data, len);
  if (c->s.roles_swapped)
    dir = !dir;
  if ((flags & TCP_DATA_GAP) || gap_len)
    stream_gap(c, dir);
  if (c->first_dir < 0 && data && len && !(flags & TCP_DATA_SKIP))
    c->first_dir = (int8_t)dir;
  if (!data || !len || (flags & TCP_DATA_SKIP))
    return c->dir[dir].lost;
  if (c->udp)
    return udp_data(c, dir, data, len, &at);
  return tcp_data(c, dir, data, len, &at);
}
