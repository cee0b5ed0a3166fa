/*
 * dissect/handshake.c - handshake messages of one connection: hellos (via
 * hello.c), Certificate, ServerKeyExchange, CertificateStatus,
 * CertificateRequest, NewSessionTicket, and what protected records tell.
 */
#include "dissect/conn.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tls_set_malformed(struct tls_conn *c, const char *why, const struct tls_at *at) {
  if (c->s.malformed)
    return; /* the first fault is the one worth reporting */
  c->s.malformed = why;
  c->s.malformed_at = *at;
}

static void client_hello(struct tls_conn *c, struct rd body, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  struct tls_client_hello *ch;
  if (!s->has_client_hello) {
    ch = &s->ch;
    s->has_client_hello = true;
  } else if (s->has_hrr && !s->has_ch2) {
    if (!(s->ch2 = calloc(1, sizeof(*s->ch2)))) {
      tls_set_malformed(c, "client hello: out of memory", at);
      return;
    }
    ch = s->ch2;
    s->has_ch2 = true;
  } else if (!s->has_server_hello) {
    return; /* DTLS: the same hello again, with the HelloVerifyRequest cookie */
  } else {
    s->renegotiations++;
    return;
  }
  const char *bad = hello_parse_client(ch, body, c->dtls);
  ch->at = *at;
  if (ch == &s->ch && !c->no_ja4)
    hello_ja4(ch, c->quic ? 'q' : c->dtls ? 'd' : 't', s->ja4);
  if (bad)
    tls_set_malformed(c, bad, at);
}

/* TLS 1.3 after ServerHello: everything else the server sends is protected
 * (RFC 8446 2); a ChangeCipherSpec may still appear for compatibility. */
static bool is_tls13(uint16_t version) {
  return version == TLS_VERSION_TLS13 || version == TLS_VERSION_DTLS13;
}

/* ---- Does the server's hello answer the client's? ---- */

static bool has_u16(const struct tls_u16s *list, uint16_t v) {
  for (size_t i = 0; i < list->n; i++)
    if (list->v[i] == v)
      return true;
  return false;
}

/* RFC 8446 4.2.1: a version chosen through supported_versions must be one
 * the client listed there (drafts included); RFC 5246 E.1: a server
 * negotiating through the legacy field answers at most the client's
 * legacy_version.  DTLS numbers its versions downwards (RFC 6347 4.1). */
static bool version_offered(const struct tls_client_hello *ch, const struct tls_server_hello *sh) {
  uint16_t v = sh->version;
  if (!tls_is_grease(v) && has_u16(&ch->versions, v))
    return true;
  if (sh->selected_version)
    return false;
  uint16_t top = ch->legacy_version;
  if (top >> 8 == 0xfe)
    return v >> 8 == 0xfe && v >= top;
  return v >= TLS_VERSION_SSL3 && v <= top;
}

/* RFC 5246 7.4.1.3: the suite and compression method are single choices
 * from the client's lists; a signalling value (RFC 5746 3.3, RFC 7507) or
 * GREASE (RFC 8701) is never one.  RFC 8446 4.2.8: the server's key share
 * is in a group the client sent a share for, and a HelloRetryRequest asks
 * for a group of its supported_groups. */
static const char *answer_violation(const struct tls_client_hello *ch,
                                    const struct tls_server_hello *sh, uint16_t retry_group) {
  if (!version_offered(ch, sh))
    return "version not offered by the client";
  const struct tls_suite_info *suite = tls_suite_lookup(sh->cipher);
  if (sh->cipher > UINT16_MAX || !has_u16(&ch->ciphers, (uint16_t)sh->cipher) ||
      tls_is_grease((uint16_t)sh->cipher) || (suite && suite->scsv))
    return "cipher suite not offered by the client";
  bool null_only = ch->sslv2_format && !ch->compression.n; /* SSLv2 hellos: null only */
  if (!(null_only && sh->compression == 0) &&
      !memchr(ch->compression.p ? ch->compression.p : (const uint8_t *)"", sh->compression,
              ch->compression.n))
    return "compression method not offered by the client";
  if (sh->hello_retry && sh->key_share_group && !has_u16(&ch->groups, sh->key_share_group))
    return "retry group not offered by the client";
  if (!sh->hello_retry && sh->key_share_group && sh->key_share_group != retry_group &&
      !has_u16(&ch->key_share_groups, sh->key_share_group))
    return "key share group not offered by the client";
  return NULL;
}

/* The first fault of the connection's hellos is kept.  After a
 * HelloRetryRequest the ServerHello answers the second ClientHello, whose
 * share is in the group the request named (RFC 8446 4.1.4): that group
 * stands for it when the second hello was not seen. */
static void judge_answer(struct tls_session *s, const struct tls_server_hello *sh) {
  if (s->violation)
    return;
  const struct tls_client_hello *ch = !sh->hello_retry && s->has_ch2 ? s->ch2 : &s->ch;
  uint16_t retry_group = !sh->hello_retry && s->has_hrr ? s->hrr->key_share_group : 0;
  s->violation = s->has_client_hello ? answer_violation(ch, sh, retry_group)
                                     : "server hello before any client hello";
  if (s->violation)
    s->violation_at = sh->at;
}

static void server_hello(struct tls_conn *c, struct rd body, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  struct tls_server_hello tmp = {0};
  const char *bad = hello_parse_server(&tmp, body, c->dtls);
  tmp.at = *at;
  if (tmp.hello_retry ? !s->has_hrr : !s->has_server_hello)
    judge_answer(s, &tmp);
  if (tmp.hello_retry && !s->has_hrr) {
    if (!(s->hrr = malloc(sizeof(*s->hrr)))) {
      hello_server_clear(&tmp);
      tls_set_malformed(c, "server hello: out of memory", at);
      return;
    }
    *s->hrr = tmp;
    s->has_hrr = true;
  } else if (!s->has_server_hello) {
    s->sh = tmp;
    s->has_server_hello = true;
    s->version = tmp.version;
    s->secure_reneg = tmp.reneg_info;
    /* Resumption: TLS 1.3 accepted a PSK; before, the server echoed the
     * client's non-empty session id (RFC 5246 7.4.1.3). */
    for (size_t i = 0; i < tmp.extensions.n; i++)
      if (tmp.extensions.v[i] == TLS_EXT_PRE_SHARED_KEY)
        s->resumed = true;
    if (!is_tls13(tmp.version) && tmp.session_id.n > 0 && tmp.session_id.n == s->ch.session_id.n &&
        memcmp(tmp.session_id.p, s->ch.session_id.p, tmp.session_id.n) == 0)
      s->resumed = true;
    if (is_tls13(tmp.version))
      tls_direction_encrypted(c, FLOW_S2C);
  } else {
    hello_server_clear(&tmp);
    s->renegotiations++;
    return;
  }
  if (bad)
    tls_set_malformed(c, bad, at);
}

/* One certificate of the Certificate message at s->chain_at. */
static void add_cert(struct tls_conn *c, const uint8_t *der, size_t len) {
  struct tls_session *s = &c->s;
  if (s->chain_len >= c->lim.max_chain_len || len > c->lim.max_cert_bytes) {
    s->cap_chain++;
    return;
  }
  const struct tls_cert **chain = realloc(s->chain, (s->chain_len + 1) * sizeof(*chain));
  if (!chain)
    return;
  s->chain = chain;
  if ((chain[s->chain_len] = x509_cert_read_cached(c->cert_cache, der, len)))
    s->chain_len++;
}

/* RFC 5246 7.4.2 (opaque ASN.1Cert<1..2^24-1> list) and RFC 8446 4.4.2
 * (request context, then CertificateEntry with extensions). */
static void certificate(struct tls_conn *c, int dir, struct rd body, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  bool v13 = is_tls13(s->version);
  if (v13)
    rd_vec8(&body); /* certificate_request_context */
  struct rd list = rd_vec24(&body);
  if (dir == FLOW_C2S) {
    while (list.n && !list.err) {
      rd_vec24(&list);
      if (v13)
        rd_vec16(&list);
      s->client_chain_len++;
    }
  } else if (!s->chain_len) {
    s->chain_at = *at;
    while (list.n && !list.err) {
      struct rd cert = rd_vec24(&list);
      if (v13)
        rd_vec16(&list);
      if (!cert.err)
        add_cert(c, cert.p, cert.n);
    }
  }
  if (list.err || !rd_done(&body))
    tls_set_malformed(c, "certificate: lengths do not add up", at);
}

/* Bit length of a big-endian unsigned integer, leading zeros ignored. */
static int bit_length(const uint8_t *p, size_t n) {
  while (n && *p == 0)
    p++, n--;
  if (!n)
    return 0;
  int bits = (int)(n - 1) * 8;
  for (uint8_t top = *p; top; top >>= 1)
    bits++;
  return bits;
}

/* RFC 7919 ffdhe primes, from libcrypto's named DH groups. */
static BIGNUM *ffdhe_prime(const char *name) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
  EVP_PKEY *pkey = NULL;
  BIGNUM *p = NULL;
  if (ctx && EVP_PKEY_paramgen_init(ctx) > 0 && EVP_PKEY_CTX_set_group_name(ctx, name) > 0 &&
      EVP_PKEY_paramgen(ctx, &pkey) > 0)
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_FFC_P, &p);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(ctx);
  return p;
}

/* Well-known DH groups, by their prime: RFC 7919 ffdhe, RFC 3526 MODP,
 * RFC 2409 Oakley group 2 (the common 1024-bit one).  libcrypto has them. */
static const char *known_dh_group(const uint8_t *p, size_t n, int bits) {
  static const struct {
    const char *name;
    int bits;
    BIGNUM *(*get)(BIGNUM *);
  } modp[] = {
      {"rfc2409-oakley-1024", 1024, BN_get_rfc2409_prime_1024},
      {"rfc3526-modp-1536", 1536, BN_get_rfc3526_prime_1536},
      {"rfc3526-modp-2048", 2048, BN_get_rfc3526_prime_2048},
      {"rfc3526-modp-3072", 3072, BN_get_rfc3526_prime_3072},
      {"rfc3526-modp-4096", 4096, BN_get_rfc3526_prime_4096},
      {"rfc3526-modp-6144", 6144, BN_get_rfc3526_prime_6144},
      {"rfc3526-modp-8192", 8192, BN_get_rfc3526_prime_8192},
  };
  static const struct {
    const char *name;
    int bits;
  } ffdhe[] = {{"ffdhe2048", 2048},
               {"ffdhe3072", 3072},
               {"ffdhe4096", 4096},
               {"ffdhe6144", 6144},
               {"ffdhe8192", 8192}};
  BIGNUM *prime = BN_bin2bn(p, (int)n, NULL);
  const char *found = NULL;
  for (size_t i = 0; prime && !found && i < sizeof(modp) / sizeof(modp[0]); i++) {
    if (modp[i].bits != bits)
      continue;
    BIGNUM *g = modp[i].get(NULL);
    if (g && BN_cmp(g, prime) == 0)
      found = modp[i].name;
    BN_free(g);
  }
  for (size_t i = 0; prime && !found && i < sizeof(ffdhe) / sizeof(ffdhe[0]); i++) {
    if (ffdhe[i].bits != bits)
      continue;
    BIGNUM *g = ffdhe_prime(ffdhe[i].name);
    if (g && BN_cmp(g, prime) == 0)
      found = ffdhe[i].name;
    BN_free(g);
  }
  BN_free(prime);
  return found;
}

static void kex_signature(struct tls_kex *k, struct rd *body, uint16_t version) {
  if (version >= TLS_VERSION_TLS12 && version != TLS_VERSION_DTLS10 && body->n >= 2)
    k->sig_scheme = rd_u16(body);
  rd_vec16(body);
}

/* RFC 4492 5.4 / RFC 8422 (ECDHE), RFC 5246 7.4.3 (DHE, RSA export). */
static void server_key_exchange(struct tls_conn *c, struct rd body, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  struct tls_kex *k = &s->kex;
  const struct tls_suite_info *suite = tls_suite_lookup(s->sh.cipher);
  uint8_t kx = suite ? suite->kx : TLS_KX_OTHER;
  k->present = true;
  k->at = *at;
  if (kx == TLS_KX_ECDHE || kx == TLS_KX_ECDH || kx == TLS_KX_ECDHE_PSK) {
    if (kx == TLS_KX_ECDHE_PSK)
      rd_vec16(&body); /* psk_identity_hint */
    k->is_ecdh = true;
    uint8_t curve_type = rd_u8(&body);
    if (curve_type == 3) /* named_curve */
      k->curve = rd_u16(&body);
    else
      tls_set_malformed(c, "server_key_exchange: explicit curve parameters", at);
    rd_vec8(&body); /* public point */
  } else if (kx == TLS_KX_DHE || kx == TLS_KX_DH || kx == TLS_KX_DHE_PSK ||
             (suite && suite->anonymous && kx != TLS_KX_ECDH)) {
    if (kx == TLS_KX_DHE_PSK)
      rd_vec16(&body);
    k->is_dh = true;
    struct rd p = rd_vec16(&body);
    rd_vec16(&body); /* g */
    rd_vec16(&body); /* Ys */
    if (!p.err) {
      k->dh_bits = bit_length(p.p, p.n);
      k->dh_group = known_dh_group(p.p, p.n, k->dh_bits);
    }
  } else if (kx == TLS_KX_RSA) {
    k->is_rsa = true; /* RFC 2246 7.4.3: temporary RSA key of export suites */
    struct rd modulus = rd_vec16(&body);
    rd_vec16(&body);
    if (!modulus.err)
      k->rsa_bits = bit_length(modulus.p, modulus.n);
  } else {
    return; /* PSK, SRP, GOST...: not decoded */
  }
  if (suite && !suite->anonymous)
    kex_signature(k, &body, s->version);
  if (body.err)
    tls_set_malformed(c, "server_key_exchange: lengths do not add up", at);
}

/* "YYYY-MM-DD HH:MM:SS" (UTC) of an ASN.1 time, "" when absent. */
static void asn1_time_text(const ASN1_TIME *t, char *out, size_t n) {
  struct tm tm;
  out[0] = '\0';
  if (t && ASN1_TIME_to_tm(t, &tm) == 1)
    snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100);
}

/* Decoding an OCSP response through libcrypto 3 costs about half a million
 * instructions; certificate_status goes through the cache's memo. */
static void ocsp_read(const uint8_t *p, size_t n, struct tls_ocsp_facts *f) {
  memset(f, 0, sizeof *f);
  f->cert_status = -1;
  f->response_status = -1;
  const unsigned char *der = p;
  OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &der, (long)n);
  if (!r)
    return;
  OCSP_BASICRESP *basic = NULL;
  f->response_status = OCSP_response_status(r);
  if (f->response_status == OCSP_RESPONSE_STATUS_SUCCESSFUL &&
      (basic = OCSP_response_get1_basic(r)) != NULL && OCSP_resp_count(basic) > 0) {
    OCSP_SINGLERESP *single = OCSP_resp_get0(basic, 0);
    int reason;
    ASN1_GENERALIZEDTIME *this_update = NULL, *next_update = NULL;
    f->cert_status = OCSP_single_get0_status(single, &reason, NULL, &this_update, &next_update);
    asn1_time_text(this_update, f->this_update, sizeof f->this_update);
    asn1_time_text(next_update, f->next_update, sizeof f->next_update);
  }
  OCSP_BASICRESP_free(basic);
  OCSP_RESPONSE_free(r);
}

/* RFC 6066 8: status_type ocsp(1), OCSPResponse<1..2^24-1>. */
static void certificate_status(struct tls_conn *c, struct rd body, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  uint8_t type = rd_u8(&body);
  struct rd resp = rd_vec24(&body);
  if (body.err || type != 1) {
    tls_set_malformed(c, "certificate_status: malformed", at);
    return;
  }
  s->ocsp_stapled = true;
  s->ocsp_at = *at;
  struct tls_ocsp_facts f;
  if (!x509_cache_ocsp_get(c->cert_cache, resp.p, resp.n, &f)) {
    ocsp_read(resp.p, resp.n, &f);
    x509_cache_ocsp_put(c->cert_cache, resp.p, resp.n, &f);
  }
  s->ocsp_cert_status = f.cert_status;
  s->ocsp_response_status = f.response_status;
  if (s->ocsp_dates || (s->ocsp_dates = calloc(1, sizeof(*s->ocsp_dates)))) {
    snprintf(s->ocsp_dates->this_update, sizeof s->ocsp_dates->this_update, "%s", f.this_update);
    snprintf(s->ocsp_dates->next_update, sizeof s->ocsp_dates->next_update, "%s", f.next_update);
  }
}

/* RFC 5246 7.4.4: certificate_types<1..2^8-1>, (TLS 1.2)
 * supported_signature_algorithms<2..2^16-2>, certificate_authorities
 * <0..2^16-1> of DistinguishedName<1..2^16-1>.  TLS 1.3's is encrypted. */
static void certificate_request(struct tls_conn *c, struct rd body, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  struct tls_cert_request *cr = s->cert_request = calloc(1, sizeof(*cr));
  if (!cr)
    return;
  cr->at = *at;
  if (is_tls13(s->version))
    return;
  struct rd types = rd_vec8(&body);
  if (!types.err && types.n && (cr->types.p = malloc(types.n + 1))) {
    memcpy(cr->types.p, types.p, types.n);
    cr->types.p[types.n] = '\0'; /* struct tls_str's promise */
    cr->types.n = types.n;
  }
  if (s->version >= TLS_VERSION_TLS12 && s->version != TLS_VERSION_DTLS10) {
    struct rd algs = rd_vec16(&body);
    size_t n = algs.n / 2;
    if (!algs.err && n && (cr->sig_algs.v = malloc(n * sizeof(uint16_t)))) {
      for (size_t i = 0; i < n; i++)
        cr->sig_algs.v[i] = rd_u16(&algs);
      cr->sig_algs.n = n;
    }
  }
  struct rd cas = rd_vec16(&body);
  while (cas.n && !cas.err) {
    rd_vec16(&cas);
    if (!cas.err)
      cr->ca_names++;
  }
  if (body.err || cas.err || body.n)
    tls_set_malformed(c, "certificate_request: lengths do not add up", at);
}

/* RFC 5077 3.3: ticket_lifetime_hint u32, ticket<0..2^16-1>.  TLS 1.3
 * (RFC 8446 4.6.1, seen only decrypted): ticket_lifetime u32,
 * ticket_age_add u32, ticket_nonce<0..255>, ticket<1..2^16-1>,
 * extensions<0..2^16-2>. */
static void new_session_ticket(struct tls_conn *c, struct rd body, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  s->new_session_ticket = true;
  s->ticket_at = *at;
  bool v13 = is_tls13(s->version);
  s->ticket_lifetime_hint = rd_u32(&body);
  if (v13) {
    rd_u32(&body);
    rd_vec8(&body);
  }
  struct rd ticket = rd_vec16(&body);
  s->ticket_length = ticket.n;
  if (v13)
    rd_vec16(&body);
  if (body.err || body.n)
    tls_set_malformed(c, "new_session_ticket: lengths do not add up", at);
}

/* RFC 8446 4.3.1 (seen only decrypted): in TLS 1.3 the server's ALPN
 * choice travels here, not in the ServerHello. */
static void encrypted_extensions(struct tls_conn *c, struct rd body, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  struct rd exts = rd_vec16(&body);
  while (exts.n && !exts.err) {
    uint16_t type = rd_u16(&exts);
    struct rd data = rd_vec16(&exts);
    if (type != TLS_EXT_APPLICATION_LAYER_PROTOCOL_NEGOTIATION || s->sh.alpn.p)
      continue;
    struct rd list = rd_vec16(&data);
    struct rd proto = rd_vec8(&list);
    if (!proto.err && proto.n && (s->sh.alpn.p = malloc(proto.n + 1))) {
      memcpy(s->sh.alpn.p, proto.p, proto.n);
      s->sh.alpn.p[proto.n] = '\0';
      s->sh.alpn.n = proto.n;
    }
  }
  if (exts.err || !rd_done(&body))
    tls_set_malformed(c, "encrypted_extensions: lengths do not add up", at);
}

void tls_history_add(struct tls_conn *c, int dir, uint8_t content_type, uint8_t hs_type) {
  struct tls_session *s = &c->s;
  size_t most =
      c->lim.max_history < TLS_MAX_HISTORY_LIMIT ? c->lim.max_history : TLS_MAX_HISTORY_LIMIT;
  if (s->n_history >= most) {
    s->history_dropped++;
    return;
  }
  if (s->n_history == s->history_cap) { /* 4, 8, ... 48: most connections need a few */
    size_t cap = s->history_cap ? 2u * s->history_cap : 4;
    if (cap > most)
      cap = most;
    struct tls_msg *grown = realloc(s->history, cap * sizeof(*grown));
    if (!grown) {
      s->history_dropped++; /* counted as past the cap: not spelled */
      return;
    }
    s->history = grown;
    s->history_cap = (uint16_t)cap;
  }
  s->history[s->n_history++] = (struct tls_msg){(uint8_t)dir, content_type, hs_type};
}

void tls_handshake_message(struct tls_conn *c, int dir, uint8_t type, struct rd body,
                           const struct tls_at *at) {
  struct tls_session *s = &c->s;
  s->is_tls = true;
  tls_history_add(c, dir, TLS_CT_HANDSHAKE, type);
  switch (type) {
  case TLS_HS_CLIENT_HELLO:
    if (dir == FLOW_C2S)
      client_hello(c, body, at);
    break;
  case TLS_HS_SERVER_HELLO:
    if (dir == FLOW_S2C)
      server_hello(c, body, at);
    break;
  case TLS_HS_CERTIFICATE:
    certificate(c, dir, body, at);
    break;
  case TLS_HS_SERVER_KEY_EXCHANGE:
    if (dir == FLOW_S2C && !s->kex.present)
      server_key_exchange(c, body, at);
    break;
  case TLS_HS_CERTIFICATE_STATUS:
    if (dir == FLOW_S2C && !s->ocsp_stapled)
      certificate_status(c, body, at);
    break;
  case TLS_HS_CERTIFICATE_REQUEST:
    if (dir == FLOW_S2C && !s->cert_request)
      certificate_request(c, body, at);
    break;
  case TLS_HS_NEW_SESSION_TICKET:
    if (dir == FLOW_S2C && !s->new_session_ticket)
      new_session_ticket(c, body, at);
    break;
  case TLS_HS_ENCRYPTED_EXTENSIONS:
    if (dir == FLOW_S2C && is_tls13(s->version))
      encrypted_extensions(c, body, at);
    break;
  default:
    break;
  }
}

/* ChangeCipherSpec protects what follows in TLS <= 1.2.  In TLS 1.3 it is
 * a no-op kept for middleboxes (RFC 8446 D.4): it may even come before a
 * HelloRetryRequest's second ClientHello, which is still plaintext. */
bool tls_change_cipher_spec(struct tls_conn *c, int dir) {
  struct tls_session *s = &c->s;
  s->ccs_seen[dir] = true;
  tls_history_add(c, dir, TLS_CT_CHANGE_CIPHER_SPEC, 0);
  if (!s->has_server_hello || is_tls13(s->version))
    return false;
  tls_direction_encrypted(c, dir);
  return true;
}

void tls_direction_encrypted(struct tls_conn *c, int dir) {
  c->dir[dir].encrypted = true;
  c->s.encrypted[dir] = true;
}

/* Established: the client's Finished went out protected and the server
 * answered with protected data of its own (TLS <= 1.2: both sent CCS and a
 * protected Finished; TLS 1.3: the client's Finished is its first
 * protected record). */
static void check_established(struct tls_conn *c) {
  struct tls_session *s = &c->s;
  if (!s->has_server_hello || s->established)
    return;
  bool fatal = false;
  for (size_t i = 0; i < s->n_alerts; i++)
    fatal = fatal || (!s->alerts[i].encrypted && s->alerts[i].level == 2);
  if (fatal)
    return;
  if (is_tls13(s->version))
    s->established = c->dir[FLOW_C2S].encrypted_hs > 0 || s->app_data_bytes[FLOW_C2S] > 0;
  else
    s->established = s->ccs_seen[0] && s->ccs_seen[1] && c->dir[FLOW_S2C].encrypted_hs > 0;
}

void tls_app_data(struct tls_conn *c, int dir, const struct tls_at *at) {
  (void)at;
  if (is_tls13(c->s.version) && dir == FLOW_C2S && !c->dir[dir].encrypted)
    tls_direction_encrypted(c, dir);
  if (is_tls13(c->s.version))
    c->dir[dir].encrypted_hs++;
  check_established(c);
}

/* A protected handshake record: the Finished, or later a renegotiation
 * (RFC 5746) that a passive observer sees only as its record. */
void tls_encrypted_handshake(struct tls_conn *c, int dir, const struct tls_at *at) {
  (void)at;
  struct tls_dir *d = &c->dir[dir];
  d->encrypted_hs++;
  if (!is_tls13(c->s.version) && d->encrypted_hs > 1 && c->s.app_data_bytes[dir] > 0)
    c->s.renegotiations++;
  check_established(c);
}

/* SSLv2 messages: CLIENT-HELLO (1), SERVER-HELLO (4), CLIENT-MASTER-KEY (2). */
void tls_sslv2_message(struct tls_conn *c, int dir, struct rd body, const struct tls_at *at) {
  struct tls_session *s = &c->s;
  if (c->ssl2_done || body.n < 1)
    return;
  uint8_t type = body.p[0];
  s->is_tls = true;
  tls_history_add(c, dir, 0, type);
  if (type == 1 && dir == FLOW_C2S && !s->has_client_hello) {
    s->has_client_hello = true;
    const char *bad = hello_parse_sslv2_client(&s->ch, body);
    s->ch.at = *at;
    if (bad)
      tls_set_malformed(c, bad, at);
  } else if (type == 4 && dir == FLOW_S2C && !s->has_server_hello) {
    const uint8_t *cert = NULL;
    size_t cert_len = 0;
    s->has_server_hello = true;
    const char *bad = hello_parse_sslv2_server(&s->sh, body, &cert, &cert_len);
    s->sh.at = *at;
    s->version = TLS_VERSION_SSL2;
    /* The SSLv2 server lists its ciphers and the client picks one
     * (CLIENT-MASTER-KEY): only the order of the hellos is judged. */
    if (!s->has_client_hello && !s->violation) {
      s->violation = "server hello before any client hello";
      s->violation_at = *at;
    }
    if (bad)
      tls_set_malformed(c, bad, at);
    if (cert && cert_len) {
      s->chain_at = *at;
      add_cert(c, cert, cert_len);
    }
  } else if (type == 2 && dir == FLOW_C2S) {
    /* CLIENT-MASTER-KEY: the client's choice among the server's specs. */
    struct rd r = body;
    rd_u8(&r);
    uint32_t kind = rd_u24(&r);
    if (!r.err && s->has_server_hello)
      s->sh.cipher = kind;
    c->ssl2_done = true;
    s->established = s->has_server_hello;
    tls_direction_encrypted(c, FLOW_C2S);
    tls_direction_encrypted(c, FLOW_S2C);
  }
}

bool tls_session_unverified(const struct tls_session *s) {
  return s->is_tls && !s->has_client_hello &&
         (s->has_server_hello || s->chain_len || s->kex.present || s->ocsp_stapled ||
          s->cert_request || s->new_session_ticket);
}

const struct tls_alert *tls_session_client_abort(const struct tls_session *s) {
  if (!s->has_server_hello || s->established)
    return NULL;
  for (size_t i = 0; i < s->n_alerts; i++) {
    const struct tls_alert *a = &s->alerts[i];
    bool after = a->at.file_index != s->sh.at.file_index ? a->at.file_index > s->sh.at.file_index
                                                         : a->at.frame > s->sh.at.frame;
    if (a->dir == FLOW_C2S && a->level == 2 && (!a->encrypted || a->decrypted) && after)
      return a;
  }
  return NULL;
}

void tls_session_clear(struct tls_session *s) {
  for (size_t i = 0; s->https && i < s->https->n; i++) {
    free(s->https->r[i].sts.p);
    free(s->https->r[i].pkp.p);
  }
  free(s->https);
  if (s->cert_request) {
    free(s->cert_request->types.p);
    free(s->cert_request->sig_algs.v);
    free(s->cert_request);
  }
  hello_client_clear(&s->ch);
  if (s->ch2)
    hello_client_clear(s->ch2);
  free(s->ch2);
  hello_server_clear(&s->sh);
  if (s->hrr)
    hello_server_clear(s->hrr);
  free(s->hrr);
  for (size_t i = 0; i < s->chain_len; i++)
    x509_cert_release(s->chain[i]);
  free(s->chain);
  free(s->alerts);
  free(s->heartbeats);
  free(s->history);
  free(s->ocsp_dates);
  memset(s, 0, sizeof(*s));
}
