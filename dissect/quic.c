/*
 * dissect/quic.c - QUIC Initial packets, passively: keys (RFC 9001 5.2,
 * RFC 9369 3.3), header protection (RFC 9001 5.4), AEAD (RFC 9001 5.3),
 * long headers and frames (RFC 9000 17.2, 19), CRYPTO reassembly.
 *
 * Which Destination Connection ID the keys come from: the client's first
 * Initial of an attempt.  The client keeps using those keys when it later
 * switches to the server's connection ID, but after a Retry it derives new
 * ones from the Retry's Source Connection ID (RFC 9001 5.2).  So a client
 * Initial is opened with the current keys first and, failing that, with
 * keys from its own DCID, which then become current.  Server Initials only
 * use the current keys.
 */
#include "dissect/decrypt.h"
#include "dissect/dissect.h"
#include "dissect/quic.h"
#include "dissect/quic_crypto.h"
#include "dissect/quic_frames.h"
#include "dissect/quic_protect.h"
#include "base/rd.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CID_MAX 20 /* RFC 9000 17.2: v1 connection IDs */
#define KEY_LEN 16 /* Initial packets: AES-128-GCM */
#define IV_LEN 12
#define HP_LEN 16
#define SECRET_LEN 32 /* SHA-256 */
#define SALT_LEN 20
#define VARINT_MAX ((UINT64_C(1) << 62) - 1)

enum pkt_type { PKT_INITIAL, PKT_0RTT, PKT_HANDSHAKE, PKT_RETRY };

/* Packet number spaces (RFC 9000 12.3); each has its own CRYPTO stream. */
enum space { SPACE_INITIAL, SPACE_HANDSHAKE, SPACE_APP, SPACES };

struct version_info {
  uint32_t first, last; /* version range */
  uint8_t salt[SALT_LEN];
  struct quic_labels labels;
  uint8_t type_of_bits[4]; /* long packet type bits -> enum pkt_type */
  bool google_frames;      /* Google QUIC's frames inside the IETF long header */
};

// clang-format off
#define SALT_V1                                                                              \
  {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,                               \
   0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
#define TYPES_V1 {PKT_INITIAL, PKT_0RTT, PKT_HANDSHAKE, PKT_RETRY}
#define LABELS_V1 {"quic key", "quic iv", "quic hp", "quic ku"}

static const struct version_info versions[] = {
    {QUIC_VERSION_1, QUIC_VERSION_1, SALT_V1, LABELS_V1, TYPES_V1, false},
    /* RFC 9369 3.2: the packet types are rotated by one. */
    {QUIC_VERSION_2, QUIC_VERSION_2,
     {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
     {"quicv2 key", "quicv2 iv", "quicv2 hp", "quicv2 ku"},
     {PKT_RETRY, PKT_INITIAL, PKT_0RTT, PKT_HANDSHAKE}, false},
    /* draft-ietf-quic-tls-29 5.2, kept until draft 32. */
    {0xff00001du, 0xff000020u,
     {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99},
     LABELS_V1, TYPES_V1, false},
    /* Drafts 33 and 34 already used the final salt. */
    {0xff000021u, 0xff000022u, SALT_V1, LABELS_V1, TYPES_V1, false},
    /* Google QUIC with TLS, in Chromium 2020-2022: the IETF long header and
     * Initial protection with salts of their own (QUICHE quic_crypto_utils.cc
     * InitialSaltForVersion), Google QUIC frames (QUICHE uses IETF frames
     * only from draft 29 on). */
    {QUIC_VERSION_T050, QUIC_VERSION_T050,
     {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
      0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10},
     LABELS_V1, TYPES_V1, true},
    {QUIC_VERSION_T051, QUIC_VERSION_T051,
     {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
      0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d},
     LABELS_V1, TYPES_V1, true},
};
// clang-format on

static const struct version_info *version_lookup(uint32_t version) {
  for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
    if (version >= versions[i].first && version <= versions[i].last)
      return &versions[i];
  return NULL;
}

/* RFC 9000 15: versions reserved to exercise version negotiation. */
static bool version_is_grease(uint32_t version) {
  return (version & 0x0f0f0f0fu) == 0x0a0a0a0au;
}

bool quic_version_is_google(uint32_t version) {
  uint8_t tag = (uint8_t)(version >> 24);
  for (int i = 2; i >= 0; i--) {
    uint8_t digit = (uint8_t)(version >> (8 * i));
    if (digit < '0' || digit > '9')
      return false;
  }
  return tag == 'Q' || tag == 'T';
}

/* ------------------------------------------------------------------ */
/* Wire helpers on the bounded reader                                  */

static bool rd_same(const struct rd *a, const struct rd *b) {
  return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

/* ------------------------------------------------------------------ */
/* Keys: HKDF through libcrypto                                        */

/* HKDF-Extract (RFC 5869 2.2) with SHA-256. */
static bool hkdf_extract(const uint8_t *key, size_t key_len, const uint8_t *salt, size_t salt_len,
                         uint8_t *out, size_t out_len) {
  int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
  uint8_t empty = 0;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      /* An empty DCID is a zero-length key, which needs a valid pointer. */
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key_len ? (void *)key : &empty,
                                        key_len),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
      OSSL_PARAM_construct_end(),
  };
  return tls_kdf_derive("HKDF", params, out, out_len);
}

/* RFC 8446 7.1 HKDF-Expand-Label with an empty context (RFC 9001 5.1). */
static bool expand_label(const uint8_t secret[SECRET_LEN], const char *label, uint8_t *out,
                         size_t out_len) {
  return tls13_expand_label("SHA256", secret, SECRET_LEN, label, out, out_len);
}

/* RFC 9001 5.2: Initial secrets from the client's DCID, then packet keys
 * as for any secret (5.1) with the Initial suite, TLS_AES_128_GCM_SHA256. */
static int derive_keys(const struct version_info *vi, const uint8_t *dcid, size_t dcid_len, int dir,
                       struct quic_keys *k) {
  uint8_t initial[SECRET_LEN];
  struct quic_secret side = {0x1301, SECRET_LEN, {0}};
  bool ok;

  if (dcid_len > CID_MAX)
    return QUIC_ERR_HEADER;
  ok = hkdf_extract(dcid, dcid_len, vi->salt, SALT_LEN, initial, sizeof initial) &&
       expand_label(initial, dir ? "server in" : "client in", side.v, SECRET_LEN) &&
       quic_keys_from_secret(k, &side, &vi->labels);
  return ok ? QUIC_OK : QUIC_ERR_LIBCRYPTO;
}

int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, int dir,
                      uint8_t key[16], uint8_t iv[12], uint8_t hp[16]) {
  const struct version_info *vi = version_lookup(version);
  struct quic_keys k;
  int rc;

  if (!vi)
    return QUIC_ERR_VERSION;
  rc = derive_keys(vi, dcid, dcid_len, dir, &k);
  if (rc == QUIC_OK) {
    memcpy(key, k.key, KEY_LEN);
    memcpy(iv, k.iv, IV_LEN);
    memcpy(hp, k.hp, HP_LEN);
  }
  return rc;
}

/* ------------------------------------------------------------------ */
/* Long header                                                         */

struct long_hdr {
  const struct version_info *vi; /* NULL: VN or a version without Initial keys */
  uint32_t version;
  uint8_t first; /* first byte, still protected */
  int type;      /* enum pkt_type, when vi */
  struct rd dcid, scid;
  struct rd header; /* from the first byte to the packet number */
  struct rd body;   /* packet number and protected payload: Length bytes */
  size_t pkt_len;   /* the whole packet */
};

/* Parse the long header at the start of dg and step dg past the packet
 * (RFC 9000 17.2).  Packets whose length is unknown (Version Negotiation,
 * Retry, unknown versions) take the rest of the datagram.  Returns a reason
 * when malformed. */
static const char *parse_long_header(struct rd *dg, struct long_hdr *h) {
  struct rd r = *dg, rest;
  uint64_t length;

  memset(h, 0, sizeof *h);
  h->first = rd_u8(&r);
  h->version = rd_u32(&r);
  h->dcid = rd_vec8(&r);
  h->scid = rd_vec8(&r);
  if (r.err)
    return "truncated long header";
  h->vi = version_lookup(h->version);
  if (h->vi && (h->dcid.n > CID_MAX || h->scid.n > CID_MAX))
    return "connection ID longer than 20 bytes";
  if (h->vi)
    h->type = h->vi->type_of_bits[(h->first >> 4) & 3];
  if (!h->vi || h->type == PKT_RETRY) {
    h->pkt_len = dg->n;
    rd_bytes(dg, dg->n);
    return NULL;
  }
  if (h->type == PKT_INITIAL)
    quic_rd_varvec(&r); /* token */
  length = quic_rd_varint(&r);
  if (r.err)
    return "truncated long header";
  if (length > r.n)
    return "packet Length beyond the datagram";
  rest = *dg;
  h->header = rd_sub(&rest, dg->n - r.n);
  h->body = rd_sub(&r, (size_t)length);
  h->pkt_len = dg->n - r.n;
  *dg = r;
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Packet protection                                                   */

struct opened {
  size_t len;    /* plaintext bytes */
  uint64_t pn;   /* full packet number */
  uint8_t first; /* unprotected first byte */
};

/* Remove header protection (RFC 9001 5.4) and open the payload (5.3) of a
 * long header packet into out[0..cap). */
static int open_packet(const struct quic_keys *k, const struct long_hdr *h, uint64_t expected_pn,
                       uint8_t *out, size_t cap, struct opened *o) {
  struct quic_unprotected u = {0};
  int rc = quic_header_open(k, h->header, h->body, true, expected_pn, &u);
  if (rc == QUIC_OK)
    rc = quic_payload_open(k, h->header, h->body, &u, out, cap, &o->len);
  o->pn = u.pn;
  o->first = u.first;
  return rc;
}

int quic_decrypt_initial(uint32_t version, const uint8_t *dcid, size_t dcid_len, int dir,
                         const uint8_t *pkt, size_t n, uint8_t *out_plain, size_t *out_len,
                         size_t *pkt_len) {
  struct rd dg = rd_make(pkt, n);
  struct long_hdr h;
  struct quic_keys k;
  struct opened o;
  int rc;

  if (!version_lookup(version))
    return QUIC_ERR_VERSION;
  if (parse_long_header(&dg, &h))
    return QUIC_ERR_HEADER;
  if (h.version != version)
    return QUIC_ERR_VERSION;
  if (h.type != PKT_INITIAL)
    return QUIC_ERR_NOT_INITIAL;
  rc = derive_keys(h.vi, dcid, dcid_len, dir, &k);
  if (rc == QUIC_OK)
    rc = open_packet(&k, &h, 0, out_plain, *out_len, &o);
  if (rc == QUIC_OK) {
    *out_len = o.len;
    if (pkt_len)
      *pkt_len = h.pkt_len;
  }
  return rc;
}

/* ------------------------------------------------------------------ */
/* The flow                                                            */

struct key_cache {
  bool valid;
  uint32_t version;
  struct quic_keys k;
};

/* Owns the held CRYPTO pieces and the key-log keys; the rest is inline. */
struct quic_conn {
  struct quic_hold_caps caps; /* of the CRYPTO streams' held pieces */
  bool is_quic;
  uint32_t first_version, client_version, server_version;
  uint32_t unsupported_version; /* the first Google QUIC version not read */
  const char *malformed;
  bool have_key_cid;
  uint8_t key_cid[CID_MAX]; /* the client DCID the Initial keys derive from */
  size_t key_cid_len;
  struct key_cache cache[2];
  struct quic_crypto_stream stream[SPACES][2];
  uint64_t expected_pn[SPACES][2]; /* largest packet number + 1 */
  /* With a key log (quic_conn_set_secrets): */
  struct quic_tls_keys *tls_keys; /* owned; NULL: none */
  bool have_cid_len[2];
  uint8_t cid_len[2]; /* the SCID length side dir chose: the DCID of 1-RTT packets to it */
  bool opened_any[SPACES][2];
  struct quic_decrypt_failure failure;
  quic_stream_fn stream_fn; /* the server's STREAM data, NULL: not read */
  void *stream_ctx;
  struct quic_stats stats;
};

/* Where deliveries of the current datagram go. */
struct delivery {
  quic_crypto_fn fn;
  void *ctx;
  int dir;
  int space; /* enum space: whose CRYPTO stream */
  uint32_t file_index;
  uint64_t frame;
  int64_t ts;
};

struct quic_conn *quic_conn_new(size_t max_crypto_bytes) {
  struct quic_conn *q = calloc(1, sizeof *q);
  if (q)
    q->caps = (struct quic_hold_caps){max_crypto_bytes, QUIC_HELD_PIECES, NULL, 0};
  return q;
}

void quic_conn_set_caps(struct quic_conn *q, size_t max_pieces, struct tls_budget *budget,
                        size_t budget_max) {
  q->caps.max_pieces = max_pieces;
  q->caps.budget = budget;
  q->caps.budget_max = budget_max;
}

size_t quic_conn_held_cost(const struct quic_conn *q) {
  size_t cost = 0;
  for (int space = 0; space < SPACES; space++)
    for (int dir = 0; dir < 2; dir++)
      cost += quic_crypto_stream_cost(&q->stream[space][dir]);
  return cost;
}

void quic_conn_free(struct quic_conn *q) {
  if (!q)
    return;
  for (int space = 0; space < SPACES; space++) {
    for (int dir = 0; dir < 2; dir++)
      quic_crypto_stream_free(&q->stream[space][dir], q->caps.budget);
  }
  quic_tls_keys_free(q->tls_keys);
  free(q);
}

uint32_t quic_conn_version(const struct quic_conn *q) {
  if (q->server_version)
    return q->server_version;
  return q->client_version ? q->client_version : q->first_version;
}

const char *quic_conn_malformed(const struct quic_conn *q) {
  return q->malformed;
}

uint32_t quic_conn_unsupported(const struct quic_conn *q) {
  return q->unsupported_version;
}

const char *quic_version_name(uint32_t version, char buf[QUIC_VERSION_NAME_LEN]) {
  if (version == QUIC_VERSION_1 || version == QUIC_VERSION_2)
    snprintf(buf, QUIC_VERSION_NAME_LEN, "%u", version == QUIC_VERSION_1 ? 1u : 2u);
  else if ((version >> 8) == 0xff0000u)
    snprintf(buf, QUIC_VERSION_NAME_LEN, "draft-%u", version & 0xffu);
  else if (quic_version_is_google(version))
    snprintf(buf, QUIC_VERSION_NAME_LEN, "%c%c%c%c", (char)(version >> 24), (char)(version >> 16),
             (char)(version >> 8), (char)version);
  else
    snprintf(buf, QUIC_VERSION_NAME_LEN, "0x%08x", version);
  return buf;
}

const struct quic_stats *quic_conn_stats(const struct quic_conn *q) {
  return &q->stats;
}

static void note_malformed(struct quic_conn *q, const char *reason) {
  q->stats.malformed_packets++;
  if (!q->malformed)
    q->malformed = reason;
}

/* ------------------------------------------------------------------ */
/* CRYPTO data, reassembled per space and direction (quic_crypto.c)    */

static void deliver(struct quic_conn *q, const struct delivery *dl, const uint8_t *data, size_t len,
                    uint64_t offset) {
  q->stats.crypto_bytes[dl->dir] += len;
  if (dl->fn && len)
    dl->fn(dl->ctx, dl->dir, data, len, offset, dl->file_index, dl->frame, dl->ts);
}

struct delivery_ctx {
  struct quic_conn *q;
  const struct delivery *dl;
};

static void deliver_bytes(void *ctx, const uint8_t *data, size_t len, uint64_t offset) {
  struct delivery_ctx *d = ctx;
  deliver(d->q, d->dl, data, len, offset);
}

static void crypto_data(struct quic_conn *q, const struct delivery *dl, uint64_t off,
                        struct rd data) {
  struct delivery_ctx ctx = {q, dl};
  const struct quic_refused refused = {&q->stats.crypto_bytes_refused,
                                       &q->stats.crypto_pieces_refused,
                                       &q->stats.crypto_budget_refused};
  quic_crypto_stream_data(&q->stream[dl->space][dl->dir], &q->caps, off, data, deliver_bytes, &ctx,
                          &refused);
}

/* ------------------------------------------------------------------ */
/* Frames of an Initial packet (RFC 9000 12.4, 19)                     */

/* STREAM: bits OFF 0x04, LEN 0x02 (without it the data runs to the end of
 * the packet), FIN 0x01.  The server's go to the stream callback. */
static void stream_frame(struct quic_conn *q, const struct delivery *dl, struct rd *p,
                         uint64_t type) {
  uint64_t id = quic_rd_varint(p);
  uint64_t off = (type & 0x04) ? quic_rd_varint(p) : 0;
  struct rd data = (type & 0x02) ? quic_rd_varvec(p) : rd_sub(p, p->n);
  if (p->err || off + data.n > VARINT_MAX)
    return;
  q->stats.stream_bytes[dl->dir] += data.n;
  if (dl->dir == 1 && q->stream_fn && data.n)
    q->stream_fn(q->stream_ctx, id, off, data.p, data.n, dl->file_index, dl->frame, dl->ts);
}

static const char *parse_frames(struct quic_conn *q, const struct delivery *dl, struct rd p) {
  if (p.n == 0)
    return dl->space == SPACE_INITIAL ? "Initial packet without frames" : "packet without frames";
  while (p.n && !p.err) {
    uint64_t type = quic_rd_varint(&p), off;
    struct rd data;
    switch (type) {
    case 0x00: /* PADDING */
    case 0x01: /* PING */
      break;
    case 0x02:
    case 0x03:
      quic_skip_ack(&p, type == 0x03);
      break;
    case 0x06:
      off = quic_rd_varint(&p);
      data = quic_rd_varvec(&p);
      if (p.err)
        break;
      if (off + data.n > VARINT_MAX) /* RFC 9000 19.6 */
        return "CRYPTO frame beyond 2^62-1";
      crypto_data(q, dl, off, data);
      break;
    case 0x1c:            /* CONNECTION_CLOSE (transport) */
      quic_rd_varint(&p); /* Error Code */
      quic_rd_varint(&p); /* Frame Type */
      quic_rd_varvec(&p); /* Reason Phrase */
      break;
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x0b: /* STREAM (RFC 9000 19.8) */
    case 0x0c:
    case 0x0d:
    case 0x0e:
    case 0x0f:
      if (dl->space == SPACE_APP) {
        stream_frame(q, dl, &p, type);
        break;
      }
      /* fall through */
    default: /* 0x1d, the application close, included: 12.4 Table 3 */
      if (dl->space != SPACE_APP)
        return dl->space == SPACE_INITIAL ? "frame type not allowed in an Initial packet"
                                          : "frame type not allowed in a Handshake packet";
      if (!quic_skip_app_frame(&p, type))
        return "unknown frame type in a 1-RTT packet";
    }
  }
  return p.err ? "truncated frame" : NULL;
}

/* The frames of a Google QUIC Initial: PADDING runs to the end of the
 * packet, PING, ACK, and CRYPTO (0x08: a varint offset and length); the
 * rest is not expected before keys are agreed. */
static const char *parse_google_frames(struct quic_conn *q, const struct delivery *dl,
                                       struct rd p) {
  if (p.n == 0)
    return "Initial packet without frames";
  while (p.n && !p.err) {
    uint8_t type = rd_u8(&p);
    uint64_t off;
    struct rd data;
    if (type == 0x00) /* PADDING */
      break;
    if ((type & 0xc0) == 0x40) {
      quic_skip_google_ack(&p, type);
    } else if (type == 0x08) {
      off = quic_rd_varint(&p);
      data = quic_rd_varvec(&p);
      if (p.err)
        break;
      if (off + data.n > VARINT_MAX)
        return "CRYPTO frame beyond 2^62-1";
      crypto_data(q, dl, off, data);
    } else if (type != 0x07) { /* PING */
      return "frame type not expected in a Google QUIC Initial packet";
    }
  }
  return p.err ? "truncated frame" : NULL;
}

/* ------------------------------------------------------------------ */
/* Initial packets                                                     */

static const struct quic_keys *current_keys(struct quic_conn *q, int dir,
                                            const struct long_hdr *h) {
  struct key_cache *c = &q->cache[dir];

  if (!q->have_key_cid)
    return NULL;
  if (!c->valid || c->version != h->version) {
    c->valid = derive_keys(h->vi, q->key_cid, q->key_cid_len, dir, &c->k) == QUIC_OK;
    c->version = h->version;
  }
  return c->valid ? &c->k : NULL;
}

/* Open with the current keys; a client Initial that they do not open may
 * start a new attempt (after a Retry): try keys from its own DCID. */
static int open_initial(struct quic_conn *q, int dir, const struct long_hdr *h, uint8_t *out,
                        struct opened *o) {
  const struct quic_keys *k = current_keys(q, dir, h);
  int rc =
      k ? open_packet(k, h, q->expected_pn[SPACE_INITIAL][dir], out, h->body.n, o) : QUIC_ERR_AUTH;
  bool own_cid = q->have_key_cid && q->key_cid_len == h->dcid.n &&
                 memcmp(q->key_cid, h->dcid.p, h->dcid.n) == 0;
  struct quic_keys fresh;

  if (rc != QUIC_ERR_AUTH || dir != 0 || own_cid)
    return rc;
  rc = derive_keys(h->vi, h->dcid.p, h->dcid.n, 0, &fresh);
  if (rc == QUIC_OK)
    rc = open_packet(&fresh, h, q->expected_pn[SPACE_INITIAL][dir], out, h->body.n, o);
  if (rc != QUIC_OK)
    return rc;
  memcpy(q->key_cid, h->dcid.p, h->dcid.n);
  q->key_cid_len = h->dcid.n;
  q->have_key_cid = true;
  q->cache[0] = (struct key_cache){true, h->version, fresh};
  q->cache[1].valid = false;
  return rc;
}

static void process_initial(struct quic_conn *q, const struct delivery *dl,
                            const struct long_hdr *h) {
  uint8_t *plain = malloc(h->body.n ? h->body.n : 1);
  struct opened o;
  const char *reason;
  int rc;

  q->stats.initial_packets++;
  if (!plain) {
    q->stats.initial_undecryptable++;
    return;
  }
  rc = open_initial(q, dl->dir, h, plain, &o);
  if (rc != QUIC_OK) {
    q->stats.initial_undecryptable++;
    if (rc == QUIC_ERR_HEADER)
      note_malformed(q, "Initial packet too short for header protection");
    else if (rc == QUIC_ERR_AUTH && (dl->dir == 0 || q->have_key_cid))
      note_malformed(q, "Initial packet failed authentication");
    free(plain);
    return;
  }
  q->stats.initial_decrypted++;
  if (o.pn >= q->expected_pn[SPACE_INITIAL][dl->dir])
    q->expected_pn[SPACE_INITIAL][dl->dir] = o.pn + 1;
  if (dl->dir)
    q->server_version = h->version;
  else if (!q->client_version)
    q->client_version = h->version;
  if (o.first & 0x0c) /* RFC 9000 17.2: reserved bits */
    note_malformed(q, "reserved header bits set");
  reason = h->vi->google_frames ? parse_google_frames(q, dl, rd_make(plain, o.len))
                                : parse_frames(q, dl, rd_make(plain, o.len));
  if (reason)
    note_malformed(q, reason);
  free(plain);
}

/* ------------------------------------------------------------------ */
/* Handshake and 1-RTT packets, with a key log's secrets               */

bool quic_conn_set_secrets(struct quic_conn *q, const struct quic_secret hs[2],
                           const struct quic_secret app[2]) {
  const struct version_info *vi = version_lookup(quic_conn_version(q));
  if (q->tls_keys)
    return true;
  if (!vi || vi->google_frames)
    return false;
  q->tls_keys = quic_tls_keys_new(hs, app, &vi->labels);
  return q->tls_keys != NULL;
}

void quic_conn_set_stream_fn(struct quic_conn *q, quic_stream_fn fn, void *ctx) {
  q->stream_fn = fn;
  q->stream_ctx = ctx;
}

const struct quic_decrypt_failure *quic_conn_decrypt_failure(const struct quic_conn *q) {
  return q->failure.failed ? &q->failure : NULL;
}

unsigned quic_conn_key_updates(const struct quic_conn *q, int dir) {
  return q->tls_keys ? quic_tls_key_updates(q->tls_keys, dir) : 0;
}

/* The first packet of a space and direction that does not authenticate
 * means the key log's secrets are not this connection's: decryption stops.
 * Once packets opened, a failure (a stateless reset, RFC 9000 10.3, looks
 * like a 1-RTT packet) is only counted. */
static void protected_failed(struct quic_conn *q, const struct delivery *dl, int space) {
  q->stats.protected_failed++;
  if (q->opened_any[space][dl->dir] || q->failure.failed)
    return;
  q->failure = (struct quic_decrypt_failure){true, dl->file_index, dl->frame, dl->ts};
  quic_tls_keys_free(q->tls_keys);
  q->tls_keys = NULL;
}

/* A Handshake packet (header: its long header, body: packet number and
 * payload) or a 1-RTT packet (header: first byte and DCID). */
static void process_protected(struct quic_conn *q, struct delivery *dl, int space, struct rd header,
                              struct rd body) {
  bool long_header = space == SPACE_HANDSHAKE;
  uint8_t *plain = malloc(body.n ? body.n : 1);
  struct quic_unprotected u;
  size_t len = 0;
  const char *reason;

  if (!plain) {
    q->stats.skipped_packets++;
    return;
  }
  int rc = quic_tls_open(q->tls_keys, dl->dir, long_header, header, body,
                         q->expected_pn[space][dl->dir], plain, body.n, &u, &len);
  if (rc == QUIC_ERR_AUTH) {
    protected_failed(q, dl, space);
  } else if (rc == QUIC_ERR_HEADER) {
    note_malformed(q, "packet too short for header protection");
  } else if (rc != QUIC_OK) {
    q->stats.skipped_packets++;
  } else {
    q->stats.protected_opened[dl->dir]++;
    q->opened_any[space][dl->dir] = true;
    if (u.pn >= q->expected_pn[space][dl->dir])
      q->expected_pn[space][dl->dir] = u.pn + 1;
    if (u.first & (long_header ? 0x0c : 0x18)) /* RFC 9000 17.2, 17.3.1: reserved bits */
      note_malformed(q, "reserved header bits set");
    dl->space = space;
    reason = parse_frames(q, dl, rd_make(plain, len));
    if (reason)
      note_malformed(q, reason);
  }
  free(plain);
}

/* A short header packet runs to the end of the datagram; its DCID has the
 * length the receiving side chose in its long headers' SCID (RFC 9000
 * 17.3.1, 5.1: an observer learns it there). */
static void process_short(struct quic_conn *q, struct delivery *dl, struct rd dg) {
  int to = !dl->dir;
  if (!q->tls_keys || !q->have_cid_len[to]) {
    q->stats.skipped_packets++;
    return;
  }
  struct rd body = dg;
  struct rd header = rd_sub(&body, 1 + (size_t)q->cid_len[to]);
  if (body.err) {
    note_malformed(q, "short header packet shorter than its connection ID");
    return;
  }
  process_protected(q, dl, SPACE_APP, header, body);
}

/* Only for a flow not yet known to be QUIC: a long header with the fixed
 * bit (RTP, the likeliest confusion, has it clear) of a version we know or
 * a reserved one.  Version Negotiation answers such a packet, so it counts
 * only in a flow already known. */
static bool looks_like_quic(const uint8_t *d, size_t n) {
  struct rd r = rd_make(d, n);
  uint8_t first = rd_u8(&r);
  uint32_t version = rd_u32(&r);

  if (r.err || (first & 0xc0) != 0xc0)
    return false;
  return version_lookup(version) || version_is_grease(version) || quic_version_is_google(version);
}

bool quic_conn_datagram(struct quic_conn *q, int dir, const uint8_t *d, size_t n,
                        uint32_t file_index, uint64_t frame, int64_t ts, quic_crypto_fn fn,
                        void *ctx) {
  struct delivery dl = {fn, ctx, dir ? 1 : 0, SPACE_INITIAL, file_index, frame, ts};
  struct rd dg = rd_make(d, n), first_dcid = {NULL, 0, false};
  bool first = true;

  if (!q->is_quic && !looks_like_quic(d, n))
    return false;
  q->is_quic = true;
  q->stats.datagrams++;
  while (dg.n) {
    struct rd peek = dg;
    struct long_hdr h;
    const char *reason;
    uint8_t b0 = rd_u8(&peek);
    uint32_t version = rd_u32(&peek);
    if (!(b0 & 0x80)) { /* a short header runs to the end; zeros are padding */
      if (first || b0)
        process_short(q, &dl, dg);
      break;
    }
    if (!peek.err && quic_version_is_google(version) && !version_lookup(version)) {
      /* Google's own crypto (Q0xx: a CHLO, not TLS), or a header of its
       * own: nothing a TLS reader can open. */
      q->stats.unsupported_packets++;
      if (!q->unsupported_version)
        q->unsupported_version = version;
      break;
    }
    reason = parse_long_header(&dg, &h);
    if (reason) {
      note_malformed(q, reason);
      break;
    }
    if (!first && !rd_same(&h.dcid, &first_dcid)) { /* RFC 9000 12.2 */
      q->stats.skipped_packets++;
      break;
    }
    if (first && h.version && !q->first_version)
      q->first_version = h.version;
    first_dcid = h.dcid;
    first = false;
    if (h.vi && h.type != PKT_RETRY) {
      q->have_cid_len[dl.dir] = true;
      q->cid_len[dl.dir] = (uint8_t)h.scid.n;
    }
    if (h.vi && h.type == PKT_INITIAL) {
      dl.space = SPACE_INITIAL;
      process_initial(q, &dl, &h);
    } else if (h.vi && h.type == PKT_HANDSHAKE && q->tls_keys) {
      process_protected(q, &dl, SPACE_HANDSHAKE, h.header, h.body);
    } else if (h.vi && h.type == PKT_RETRY) {
      q->stats.retries++;
    } else {
      q->stats.skipped_packets++;
    }
  }
  return true;
}
