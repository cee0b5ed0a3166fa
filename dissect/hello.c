/*
 * dissect/hello.c - ClientHello, ServerHello, HelloRetryRequest and the
 * SSLv2 hellos (their fingerprints are in fingerprint.c).
 *
 * Every wire byte is read through struct rd (base/rd.h).  A fault in the fixed
 * part of a hello ends the parse; a fault inside one extension is recorded
 * (first reason wins) and the next extension is still read, as the
 * extension framing tells where it starts.  Owned arrays are allocated at
 * their exact size, counted from the reader first, so their size is
 * bounded by the message.
 */
#include "dissect/internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* key_share of draft-ietf-tls-tls13 before -23: IANA lists 40 as reserved,
 * so the generated registry has no name for it. */
#define EXT_KEY_SHARE_DRAFT 40

#define SUITE_EMPTY_RENEGOTIATION_INFO_SCSV 0x00ff
#define SUITE_FALLBACK_SCSV 0x5600

static const char nomem_client[] = "client_hello: out of memory";
static const char nomem_server[] = "server_hello: out of memory";

/* RFC 8446 4.1.3: the ServerHello random of a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
/* RFC 8446 4.1.3: last 8 bytes of the random of a server that could do
 * TLS 1.3 but answers TLS 1.2 (…01) or TLS 1.1 and below (…00). */
static const uint8_t downgrade_tls12[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
static const uint8_t downgrade_tls11[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00};

enum dec { DEC_OK, DEC_BAD, DEC_NOMEM };

static void keep(const char **reason, const char *r) {
  if (!*reason)
    *reason = r;
}

/* ------------------------------------------------------------------ */
/* Copies out of the reader, at exact size                             */

/* The rest of `r` as an owned string (NUL added); p stays NULL when empty. */
static enum dec str_take(struct tls_str *out, struct rd *r) {
  if (r->err)
    return DEC_BAD;
  size_t n = r->n;
  const uint8_t *src = rd_bytes(r, n);
  if (n == 0)
    return DEC_OK;
  uint8_t *p = malloc(n + 1);
  if (!p)
    return DEC_NOMEM;
  memcpy(p, src, n);
  p[n] = 0;
  free(out->p);
  out->p = p;
  out->n = n;
  return DEC_OK;
}

/* The rest of `r` as big-endian u16 values; an odd length is malformed. */
static enum dec u16s_take(struct tls_u16s *out, struct rd *r) {
  if (r->err || r->n % 2)
    return DEC_BAD;
  size_t n = r->n / 2;
  if (n == 0)
    return DEC_OK;
  uint16_t *v = malloc(n * sizeof *v);
  if (!v)
    return DEC_NOMEM;
  for (size_t i = 0; i < n; i++)
    v[i] = rd_u16(r);
  free(out->v);
  out->v = v;
  out->n = n;
  return DEC_OK;
}

/* A vector body read completely and nothing after it. */
static enum dec done(enum dec d, const struct rd *outer, const struct rd *inner) {
  if (d != DEC_OK)
    return d;
  return rd_done(outer) && rd_done(inner) ? DEC_OK : DEC_BAD;
}

/* ------------------------------------------------------------------ */
/* ClientHello extensions                                              */

/* RFC 6066 3: keep the first host_name. */
static enum dec ch_server_name(struct tls_client_hello *ch, struct rd *data) {
  struct rd list = rd_vec16(data);
  if (list.n == 0)
    return DEC_BAD;
  bool empty_name = false;
  while (list.n && !list.err) {
    uint8_t name_type = rd_u8(&list);
    struct rd name = rd_vec16(&list);
    empty_name |= !list.err && name.n == 0;
    if (!list.err && name_type == 0 && !ch->sni.p && str_take(&ch->sni, &name) == DEC_NOMEM)
      return DEC_NOMEM;
  }
  return done(empty_name ? DEC_BAD : DEC_OK, data, &list);
}

static enum dec ch_groups(struct tls_client_hello *ch, struct rd *data) {
  struct rd list = rd_vec16(data);
  return done(u16s_take(&ch->groups, &list), data, &list);
}

static enum dec ch_point_formats(struct tls_client_hello *ch, struct rd *data) {
  struct rd list = rd_vec8(data);
  return done(str_take(&ch->ec_point_formats, &list), data, &list);
}

static enum dec ch_sig_algs(struct tls_client_hello *ch, struct rd *data) {
  struct rd list = rd_vec16(data);
  return done(u16s_take(&ch->sig_algs, &list), data, &list);
}

static enum dec ch_versions(struct tls_client_hello *ch, struct rd *data) {
  struct rd list = rd_vec8(data);
  return done(u16s_take(&ch->versions, &list), data, &list);
}

/* RFC 7301 3.1: ProtocolName protocol_name_list<2..2^16-1>, names <1..2^8-1>. */
static enum dec ch_alpn(struct tls_client_hello *ch, struct rd *data) {
  struct rd list = rd_vec16(data);
  size_t n = 0;
  for (struct rd count = list; count.n && !count.err;) {
    rd_vec8(&count);
    n += !count.err;
  }
  if (list.err || n == 0)
    return DEC_BAD;
  struct tls_str *names = calloc(n, sizeof *names);
  if (!names)
    return DEC_NOMEM;
  ch->alpn = names;
  bool empty_name = false;
  for (size_t i = 0; i < n; i++) {
    struct rd name = rd_vec8(&list);
    if (list.err)
      break;
    empty_name |= name.n == 0;
    if (str_take(&names[i], &name) == DEC_NOMEM)
      return DEC_NOMEM;
    ch->n_alpn = i + 1;
  }
  return empty_name ? DEC_BAD : done(DEC_OK, data, &list);
}

/* RFC 8446 4.2.8: KeyShareEntry client_shares<0..2^16-1>; keep the groups
 * (of the first key_share when a draft one comes too). */
static enum dec ch_key_share(struct tls_client_hello *ch, struct rd *data) {
  if (ch->key_share_groups.v)
    return DEC_OK;
  struct rd list = rd_vec16(data);
  size_t n = 0;
  for (struct rd count = list; count.n && !count.err;) {
    rd_u16(&count);
    rd_vec16(&count);
    n += !count.err;
  }
  if (list.err)
    return DEC_BAD;
  if (n == 0)
    return done(DEC_OK, data, &list);
  uint16_t *groups = malloc(n * sizeof *groups);
  if (!groups)
    return DEC_NOMEM;
  ch->key_share_groups.v = groups;
  for (size_t i = 0; i < n; i++) {
    uint16_t group = rd_u16(&list);
    rd_vec16(&list);
    if (list.err)
      break;
    groups[i] = group;
    ch->key_share_groups.n = i + 1;
  }
  return done(DEC_OK, data, &list);
}

static enum dec ch_psk_modes(struct tls_client_hello *ch, struct rd *data) {
  (void)ch;
  /* RFC 8446 4.2.9: PskKeyExchangeMode ke_modes<1..255>. */
  struct rd modes = rd_vec8(data);
  bool empty = modes.n == 0;
  rd_bytes(&modes, modes.n);
  return done(empty ? DEC_BAD : DEC_OK, data, &modes);
}

/* RFC 6520 2: HeartbeatMode mode (1 peer_allowed_to_send, 2 not). */
static enum dec heartbeat_mode(struct rd *data, uint8_t *mode) {
  *mode = rd_u8(data);
  return rd_done(data) ? DEC_OK : DEC_BAD;
}

/* RFC 5746 3.2: opaque renegotiated_connection<0..255>. */
static enum dec reneg_connection(struct rd *data) {
  struct rd verify = rd_vec8(data);
  rd_bytes(&verify, verify.n);
  return done(DEC_OK, data, &verify);
}

static enum dec ch_heartbeat(struct tls_client_hello *ch, struct rd *data) {
  ch->heartbeat = true;
  return heartbeat_mode(data, &ch->heartbeat_mode);
}

static enum dec ch_reneg(struct tls_client_hello *ch, struct rd *data) {
  ch->reneg_info = true;
  return reneg_connection(data);
}

static enum dec ch_session_ticket(struct tls_client_hello *ch, struct rd *data) {
  ch->session_ticket = true;
  ch->session_ticket_nonempty = data->n > 0;
  rd_bytes(data, data->n);
  return DEC_OK;
}

/* RFC 9849 5: enum { outer(0), inner(1) } ECHClientHelloType; an outer
 * hello has HpkeSymmetricCipherSuite cipher_suite, uint8 config_id,
 * opaque enc<0..2^16-1>, opaque payload<1..2^16-1>; an inner one nothing.
 * A type of neither kind is kept, unread (a later draft's). */
static enum dec ch_ech(struct tls_client_hello *ch, struct rd *data) {
  struct tls_ech_offer *e = &ch->ech_offer;
  ch->ech = true;
  e->type = rd_u8(data);
  if (e->type == 1) {
    e->inner = true;
    return rd_done(data) ? DEC_OK : DEC_BAD;
  }
  if (e->type != 0) {
    rd_bytes(data, data->n);
    return data->err ? DEC_BAD : DEC_OK;
  }
  e->kdf_id = rd_u16(data);
  e->aead_id = rd_u16(data);
  e->config_id = rd_u8(data);
  struct rd enc = rd_vec16(data);
  struct rd payload = rd_vec16(data);
  if (data->err || payload.n == 0 || !rd_done(data))
    return DEC_BAD;
  e->outer = true;
  e->enc_length = (uint16_t)enc.n; /* a 16-bit length: it fits */
  e->payload_length = (uint16_t)payload.n;
  return DEC_OK;
}

/* Extensions whose presence is the fact; their content is not checked. */
struct flag_ext {
  uint16_t type;
  size_t offset; /* of the bool in the hello struct */
};

static const struct flag_ext ch_flags[] = {
    {TLS_EXT_STATUS_REQUEST, offsetof(struct tls_client_hello, status_request)},
    {TLS_EXT_SIGNED_CERTIFICATE_TIMESTAMP, offsetof(struct tls_client_hello, sct)},
    {TLS_EXT_PADDING, offsetof(struct tls_client_hello, padding)},
    {TLS_EXT_ENCRYPT_THEN_MAC, offsetof(struct tls_client_hello, etm)},
    {TLS_EXT_EXTENDED_MASTER_SECRET, offsetof(struct tls_client_hello, ems)},
    {TLS_EXT_PRE_SHARED_KEY, offsetof(struct tls_client_hello, psk)},
    {TLS_EXT_EARLY_DATA, offsetof(struct tls_client_hello, early_data)},
    {TLS_EXT_POST_HANDSHAKE_AUTH, offsetof(struct tls_client_hello, post_handshake_auth)},
    {TLS_EXT_ENCRYPTED_SERVER_NAME, offsetof(struct tls_client_hello, esni)},
};

/* Set the flag of `type` in `hello` if it is one; false otherwise. */
static bool set_flag(void *hello, const struct flag_ext *flags, size_t n, uint16_t type) {
  for (size_t i = 0; i < n; i++) {
    if (flags[i].type == type) {
      *(bool *)((char *)hello + flags[i].offset) = true;
      return true;
    }
  }
  return false;
}

struct ch_decoder {
  uint16_t type;
  const char *reason;
  enum dec (*decode)(struct tls_client_hello *ch, struct rd *data);
};

static const struct ch_decoder ch_decoders[] = {
    {TLS_EXT_SERVER_NAME, "client_hello: server_name", ch_server_name},
    {TLS_EXT_SUPPORTED_GROUPS, "client_hello: supported_groups", ch_groups},
    {TLS_EXT_EC_POINT_FORMATS, "client_hello: ec_point_formats", ch_point_formats},
    {TLS_EXT_SIGNATURE_ALGORITHMS, "client_hello: signature_algorithms", ch_sig_algs},
    {TLS_EXT_HEARTBEAT, "client_hello: heartbeat", ch_heartbeat},
    {TLS_EXT_APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
     "client_hello: application_layer_protocol_negotiation", ch_alpn},
    {TLS_EXT_SESSION_TICKET, "client_hello: session_ticket", ch_session_ticket},
    {TLS_EXT_SUPPORTED_VERSIONS, "client_hello: supported_versions", ch_versions},
    {TLS_EXT_PSK_KEY_EXCHANGE_MODES, "client_hello: psk_key_exchange_modes", ch_psk_modes},
    {TLS_EXT_KEY_SHARE, "client_hello: key_share", ch_key_share},
    {EXT_KEY_SHARE_DRAFT, "client_hello: key_share", ch_key_share},
    {TLS_EXT_RENEGOTIATION_INFO, "client_hello: renegotiation_info", ch_reneg},
    {TLS_EXT_ENCRYPTED_CLIENT_HELLO, "client_hello: encrypted_client_hello", ch_ech},
};

static const char *ch_extension(struct tls_client_hello *ch, uint16_t type, struct rd data) {
  if (set_flag(ch, ch_flags, sizeof ch_flags / sizeof ch_flags[0], type))
    return NULL;
  for (size_t i = 0; i < sizeof ch_decoders / sizeof ch_decoders[0]; i++) {
    if (ch_decoders[i].type != type)
      continue;
    enum dec d = ch_decoders[i].decode(ch, &data);
    return d == DEC_OK ? NULL : d == DEC_NOMEM ? nomem_client : ch_decoders[i].reason;
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* The extension block, shared by both hellos                          */

struct ext_block {
  struct rd exts;         /* the extensions still to walk */
  struct tls_u16s *types; /* the hello's type list, filled in wire order */
  size_t n;               /* extensions that fit completely */
  bool complete;          /* well-formed and inside the message */
  /* The types seen so far, for duplicates: type + 1 (0 empty), open
   * addressing, at most half full.  (A bit per possible type was 8 kB to
   * clear for every hello.) */
  size_t mask;
  uint32_t seen[];
};

/* Open the optional extension block at the end of a hello and allocate the
 * type list at its exact size; NULL when out of memory.  A block longer
 * than the message is walked as far as it goes (complete = false). */
static struct ext_block *ext_open(struct rd *body, struct tls_u16s *types) {
  size_t declared = rd_u16(body);
  bool complete = !body->err && declared <= body->n;
  struct rd exts = rd_sub(body, declared <= body->n ? declared : body->n);
  size_t n = 0;
  for (struct rd count = exts; count.n && !count.err;) {
    rd_u16(&count);
    rd_vec16(&count);
    complete &= !count.err;
    n += !count.err;
  }
  size_t slots = 16;
  while (slots < 2 * n)
    slots *= 2;
  struct ext_block *blk = calloc(1, sizeof *blk + slots * sizeof blk->seen[0]);
  if (!blk)
    return NULL;
  blk->exts = exts;
  blk->complete = complete;
  blk->n = n;
  blk->mask = slots - 1;
  blk->types = types;
  if (blk->n && !(types->v = malloc(blk->n * sizeof *types->v))) {
    free(blk);
    return NULL;
  }
  return blk;
}

/* The next complete extension, or false at the end.  *dup: its type came
 * before (RFC 8446 4.2: "There MUST NOT be more than one extension of the
 * same type in a given extension block"). */
static bool ext_next(struct ext_block *blk, uint16_t *type, struct rd *data, bool *dup) {
  if (blk->types->n == blk->n)
    return false;
  *type = rd_u16(&blk->exts);
  *data = rd_vec16(&blk->exts);
  blk->types->v[blk->types->n++] = *type;
  size_t j = ((uint32_t)*type * 0x9e3779b1u >> 16) & blk->mask;
  while (blk->seen[j] && blk->seen[j] != *type + 1u)
    j = (j + 1) & blk->mask;
  *dup = blk->seen[j] != 0;
  blk->seen[j] = *type + 1u;
  return true;
}

/* Returns the first fault; *complete tells whether the framing was whole. */
static const char *ch_extensions(struct tls_client_hello *ch, struct rd *body, bool *complete) {
  struct ext_block *blk = ext_open(body, &ch->extensions);
  if (!blk)
    return nomem_client;
  *complete = blk->complete;
  const char *reason = blk->complete ? NULL : "client_hello: extensions length";
  uint16_t type;
  struct rd data;
  bool dup;
  while (ext_next(blk, &type, &data, &dup)) {
    if (dup) {
      keep(&reason, "client_hello: duplicate extension");
      continue;
    }
    /* RFC 8446 4.2.11: pre_shared_key MUST be the last extension. */
    if (type == TLS_EXT_PRE_SHARED_KEY && ch->extensions.n != blk->n)
      keep(&reason, "client_hello: pre_shared_key not last");
    keep(&reason, ch_extension(ch, type, data));
  }
  free(blk);
  return reason;
}

/* ------------------------------------------------------------------ */
/* ClientHello                                                         */

static void scsv_flags(struct tls_client_hello *ch) {
  for (size_t i = 0; i < ch->ciphers.n; i++) {
    ch->fallback_scsv |= ch->ciphers.v[i] == SUITE_FALLBACK_SCSV;
    ch->empty_reneg_scsv |= ch->ciphers.v[i] == SUITE_EMPTY_RENEGOTIATION_INFO_SCSV;
  }
}

static void client_reset(struct tls_client_hello *ch) {
  struct tls_at at = ch->at;
  uint16_t record_version = ch->record_version;
  hello_client_clear(ch);
  ch->at = at;
  ch->record_version = record_version;
}

/* RFC 8446 4.1.2 / RFC 5246 7.4.1.2 / RFC 6347 4.2.1, up to the extensions.
 * Returns false when the message cannot be read further; *reason gets the
 * first fault either way. */
static bool ch_fixed(struct tls_client_hello *ch, struct rd *body, bool dtls, const char **reason) {
  ch->legacy_version = rd_u16(body);
  const uint8_t *random = rd_bytes(body, 32);
  if (!random)
    return keep(reason, "client_hello: random"), false;
  memcpy(ch->random, random, sizeof ch->random);
  struct rd session_id = rd_vec8(body);
  if (body->err)
    return keep(reason, "client_hello: session_id length"), false;
  if (session_id.n > 32)
    keep(reason, "client_hello: session_id length");
  if (str_take(&ch->session_id, &session_id) == DEC_NOMEM)
    return keep(reason, nomem_client), false;
  if (dtls) {
    rd_vec8(body); /* RFC 6347 4.2.1 cookie, not kept */
    if (body->err)
      return keep(reason, "client_hello: cookie length"), false;
  }
  /* cipher_suites<2..2^16-2>: empty or odd is malformed */
  struct rd suites = rd_vec16(body);
  if (body->err)
    return keep(reason, "client_hello: cipher_suites length"), false;
  enum dec d = suites.n ? u16s_take(&ch->ciphers, &suites) : DEC_BAD;
  if (d == DEC_NOMEM)
    return keep(reason, nomem_client), false;
  if (d == DEC_BAD)
    keep(reason, "client_hello: cipher_suites length");
  scsv_flags(ch);
  /* compression_methods<1..2^8-1> */
  struct rd methods = rd_vec8(body);
  if (body->err)
    return keep(reason, "client_hello: compression length"), false;
  if (methods.n == 0)
    keep(reason, "client_hello: compression length");
  if (str_take(&ch->compression, &methods) == DEC_NOMEM)
    return keep(reason, nomem_client), false;
  return true;
}

const char *hello_parse_client(struct tls_client_hello *ch, struct rd body, bool dtls) {
  client_reset(ch);
  const char *reason = NULL;
  if (!ch_fixed(ch, &body, dtls, &reason))
    return reason;
  bool fixed_ok = reason == NULL, complete = true;
  /* Extensions may be absent altogether (SSL 3.0, early TLS clients). */
  if (body.n)
    keep(&reason, ch_extensions(ch, &body, &complete));
  if (complete && body.n)
    keep(&reason, "client_hello: trailing bytes");
  if (fixed_ok && complete)
    hello_ja3(ch);
  return reason;
}

/* ------------------------------------------------------------------ */
/* ServerHello / HelloRetryRequest                                     */

static enum dec sh_version(struct tls_server_hello *sh, struct rd *data) {
  sh->selected_version = rd_u16(data);
  return rd_done(data) ? DEC_OK : DEC_BAD;
}

/* RFC 8446 4.2.8: ServerHello KeyShareEntry, or the HRR's selected_group. */
static enum dec sh_key_share(struct tls_server_hello *sh, struct rd *data) {
  sh->key_share_group = rd_u16(data);
  if (!sh->hello_retry) {
    struct rd key = rd_vec16(data);
    rd_bytes(&key, key.n);
    if (key.n || key.err)
      return DEC_BAD;
  }
  return rd_done(data) ? DEC_OK : DEC_BAD;
}

/* RFC 7301 3.1: the server answers with exactly one name. */
static enum dec sh_alpn(struct tls_server_hello *sh, struct rd *data) {
  struct rd list = rd_vec16(data);
  struct rd name = rd_vec8(&list);
  if (list.err || name.n == 0)
    return DEC_BAD;
  return done(str_take(&sh->alpn, &name), data, &list);
}

static enum dec sh_heartbeat(struct tls_server_hello *sh, struct rd *data) {
  sh->heartbeat = true;
  return heartbeat_mode(data, &sh->heartbeat_mode);
}

static enum dec sh_reneg(struct tls_server_hello *sh, struct rd *data) {
  sh->reneg_info = true;
  return reneg_connection(data);
}

/* RFC 9849 7.2.1: in a HelloRetryRequest, opaque confirmation[8].  A
 * ServerHello never carries the extension (its confirmation is in the
 * random): there it is left unread, like any extension it should not have. */
static enum dec sh_ech(struct tls_server_hello *sh, struct rd *data) {
  if (!sh->hello_retry) {
    rd_bytes(data, data->n);
    return DEC_OK;
  }
  rd_bytes(data, 8);
  sh->ech_confirmation = rd_done(data);
  return sh->ech_confirmation ? DEC_OK : DEC_BAD;
}

static const struct flag_ext sh_flags[] = {
    {TLS_EXT_STATUS_REQUEST, offsetof(struct tls_server_hello, status_request)},
    {TLS_EXT_SIGNED_CERTIFICATE_TIMESTAMP, offsetof(struct tls_server_hello, sct)},
    {TLS_EXT_ENCRYPT_THEN_MAC, offsetof(struct tls_server_hello, etm)},
    {TLS_EXT_EXTENDED_MASTER_SECRET, offsetof(struct tls_server_hello, ems)},
    {TLS_EXT_SESSION_TICKET, offsetof(struct tls_server_hello, session_ticket)},
};

struct sh_decoder {
  uint16_t type;
  const char *reason;
  enum dec (*decode)(struct tls_server_hello *sh, struct rd *data);
};

static const struct sh_decoder sh_decoders[] = {
    {TLS_EXT_SUPPORTED_VERSIONS, "server_hello: supported_versions", sh_version},
    {TLS_EXT_KEY_SHARE, "server_hello: key_share", sh_key_share},
    {TLS_EXT_APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
     "server_hello: application_layer_protocol_negotiation", sh_alpn},
    {TLS_EXT_HEARTBEAT, "server_hello: heartbeat", sh_heartbeat},
    {TLS_EXT_RENEGOTIATION_INFO, "server_hello: renegotiation_info", sh_reneg},
    {TLS_EXT_ENCRYPTED_CLIENT_HELLO, "server_hello: encrypted_client_hello", sh_ech},
};

static const char *sh_extension(struct tls_server_hello *sh, uint16_t type, struct rd data) {
  if (set_flag(sh, sh_flags, sizeof sh_flags / sizeof sh_flags[0], type))
    return NULL;
  for (size_t i = 0; i < sizeof sh_decoders / sizeof sh_decoders[0]; i++) {
    if (sh_decoders[i].type != type)
      continue;
    enum dec d = sh_decoders[i].decode(sh, &data);
    return d == DEC_OK ? NULL : d == DEC_NOMEM ? nomem_server : sh_decoders[i].reason;
  }
  return NULL;
}

static const char *sh_extensions(struct tls_server_hello *sh, struct rd *body, bool *complete) {
  struct ext_block *blk = ext_open(body, &sh->extensions);
  if (!blk)
    return nomem_server;
  *complete = blk->complete;
  const char *reason = blk->complete ? NULL : "server_hello: extensions length";
  uint16_t type;
  struct rd data;
  bool dup;
  while (ext_next(blk, &type, &data, &dup))
    keep(&reason, dup ? "server_hello: duplicate extension" : sh_extension(sh, type, data));
  free(blk);
  return reason;
}

static void server_reset(struct tls_server_hello *sh) {
  struct tls_at at = sh->at;
  uint16_t record_version = sh->record_version;
  hello_server_clear(sh);
  sh->at = at;
  sh->record_version = record_version;
}

/* `random`: the 32-byte ServerHello.random. */
static void sh_random(struct tls_server_hello *sh, struct rd random) {
  struct rd whole = random;
  if (memcmp(rd_bytes(&whole, 32), hrr_random, sizeof hrr_random) == 0) {
    sh->hello_retry = true;
    return;
  }
  rd_bytes(&random, 24);
  const uint8_t *tail = rd_bytes(&random, 8);
  if (memcmp(tail, downgrade_tls12, 8) == 0)
    memcpy(sh->downgrade, "DOWNGRD01", 10);
  else if (memcmp(tail, downgrade_tls11, 8) == 0)
    memcpy(sh->downgrade, "DOWNGRD00", 10);
}

/* A TLS 1.3 draft before -22 (0x7f01..0x7f15): its ServerHello names the
 * draft in its version field and has neither session id nor compression
 * (draft-ietf-tls-tls13-21 4.1.3); from -22 on it has the final layout,
 * the draft in supported_versions. */
static bool draft_before_22(uint16_t version) {
  return (version >> 8) == 0x7f && (version & 0xff) >= 1 && (version & 0xff) < 22;
}

/* RFC 8446 4.1.3 / RFC 5246 7.4.1.3.  A DTLS ServerHello has the same
 * layout (the cookie travels in HelloVerifyRequest). */
const char *hello_parse_server(struct tls_server_hello *sh, struct rd body, bool dtls) {
  (void)dtls;
  server_reset(sh);
  sh->legacy_version = rd_u16(&body);
  sh->version = sh->legacy_version;
  bool early_draft = !dtls && draft_before_22(sh->legacy_version);
  struct rd random = rd_sub(&body, 32);
  if (body.err)
    return "server_hello: random";
  memcpy(sh->random, random.p, sizeof sh->random);
  sh_random(sh, random);
  const char *reason = NULL;
  if (!early_draft) {
    struct rd session_id = rd_vec8(&body);
    if (body.err)
      return "server_hello: session_id length";
    reason = session_id.n > 32 ? "server_hello: session_id length" : NULL;
    if (str_take(&sh->session_id, &session_id) == DEC_NOMEM)
      return nomem_server;
  }
  bool reason_fixed = reason != NULL;
  sh->cipher = rd_u16(&body);
  if (body.err)
    return "server_hello: cipher_suite";
  sh->compression = early_draft ? 0 : rd_u8(&body);
  if (body.err)
    return "server_hello: compression_method";
  bool complete = true;
  if (body.n)
    keep(&reason, sh_extensions(sh, &body, &complete));
  if (complete && body.n)
    keep(&reason, "server_hello: trailing bytes");
  if (sh->selected_version)
    sh->version = sh->selected_version;
  if (complete && !reason_fixed)
    hello_ja3s(sh);
  return reason;
}

/* ------------------------------------------------------------------ */
/* SSLv2 (draft-hickman-netscape-ssl-00, RFC 6101 E.2)                 */

/* TLS suites in an SSLv2 CLIENT-HELLO are the specs {0x00, hi, lo}. */
static enum dec v2_tls_suites(struct tls_client_hello *ch) {
  size_t n = 0;
  for (size_t i = 0; i < ch->n_sslv2_ciphers; i++)
    n += ch->sslv2_ciphers[i] >> 16 == 0;
  if (n == 0)
    return DEC_OK;
  uint16_t *v = malloc(n * sizeof *v);
  if (!v)
    return DEC_NOMEM;
  ch->ciphers.v = v;
  for (size_t i = 0; i < ch->n_sslv2_ciphers; i++) {
    uint32_t spec = ch->sslv2_ciphers[i];
    if (spec >> 16 == 0)
      v[ch->ciphers.n++] = (uint16_t)spec;
  }
  scsv_flags(ch);
  return DEC_OK;
}

/* Cipher specs (3 bytes each) into an exact-size array. */
static enum dec v2_specs(struct rd *specs, uint32_t **out, size_t *n_out) {
  if (specs->err || specs->n % 3)
    return DEC_BAD;
  size_t n = specs->n / 3;
  if (n == 0)
    return DEC_OK;
  uint32_t *v = malloc(n * sizeof *v);
  if (!v)
    return DEC_NOMEM;
  for (size_t i = 0; i < n; i++)
    v[i] = rd_u24(specs);
  *out = v;
  *n_out = n;
  return DEC_OK;
}

const char *hello_parse_sslv2_client(struct tls_client_hello *ch, struct rd body) {
  client_reset(ch);
  ch->sslv2_format = true;
  if (rd_u8(&body) != 1)
    return "sslv2 client_hello: msg_type";
  ch->legacy_version = rd_u16(&body);
  size_t specs_len = rd_u16(&body);
  size_t session_id_len = rd_u16(&body);
  size_t challenge_len = rd_u16(&body);
  if (body.err)
    return "sslv2 client_hello: header";
  struct rd specs = rd_sub(&body, specs_len);
  if (body.err)
    return "sslv2 client_hello: cipher_specs length";
  enum dec d = v2_specs(&specs, &ch->sslv2_ciphers, &ch->n_sslv2_ciphers);
  if (d == DEC_OK)
    d = v2_tls_suites(ch);
  if (d != DEC_OK)
    return d == DEC_NOMEM ? nomem_client : "sslv2 client_hello: cipher_specs length";
  struct rd session_id = rd_sub(&body, session_id_len);
  if (body.err)
    return "sslv2 client_hello: session_id length";
  if (str_take(&ch->session_id, &session_id) == DEC_NOMEM)
    return nomem_client;
  rd_bytes(&body, challenge_len);
  if (body.err)
    return "sslv2 client_hello: challenge length";
  return body.n ? "sslv2 client_hello: trailing bytes" : NULL;
}

const char *hello_parse_sslv2_server(struct tls_server_hello *sh, struct rd body,
                                     const uint8_t **cert, size_t *cert_len) {
  server_reset(sh);
  sh->sslv2_format = true;
  *cert = NULL;
  *cert_len = 0;
  if (rd_u8(&body) != 4)
    return "sslv2 server_hello: msg_type";
  rd_u8(&body); /* session_id_hit */
  rd_u8(&body); /* certificate_type */
  sh->legacy_version = rd_u16(&body);
  sh->version = sh->legacy_version;
  size_t cert_size = rd_u16(&body);
  size_t specs_len = rd_u16(&body);
  size_t connection_id_len = rd_u16(&body);
  if (body.err)
    return "sslv2 server_hello: header";
  const uint8_t *der = rd_bytes(&body, cert_size);
  if (body.err)
    return "sslv2 server_hello: certificate length";
  if (cert_size) {
    *cert = der;
    *cert_len = cert_size;
  }
  struct rd specs = rd_sub(&body, specs_len);
  if (body.err || specs_len % 3)
    return "sslv2 server_hello: cipher_specs length";
  if (specs.n)
    sh->cipher = rd_u24(&specs);
  rd_bytes(&body, connection_id_len);
  if (body.err)
    return "sslv2 server_hello: connection_id length";
  return body.n ? "sslv2 server_hello: trailing bytes" : NULL;
}

/* ------------------------------------------------------------------ */
/* Ownership                                                           */

void hello_client_clear(struct tls_client_hello *ch) {
  free(ch->versions.v);
  free(ch->ciphers.v);
  free(ch->sslv2_ciphers);
  free(ch->compression.p);
  free(ch->extensions.v);
  free(ch->session_id.p);
  free(ch->sni.p);
  for (size_t i = 0; i < ch->n_alpn; i++)
    free(ch->alpn[i].p);
  free(ch->alpn);
  free(ch->groups.v);
  free(ch->ec_point_formats.p);
  free(ch->sig_algs.v);
  free(ch->key_share_groups.v);
  memset(ch, 0, sizeof *ch);
}

void hello_server_clear(struct tls_server_hello *sh) {
  free(sh->session_id.p);
  free(sh->extensions.v);
  free(sh->alpn.p);
  memset(sh, 0, sizeof *sh);
}
