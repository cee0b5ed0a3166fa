/*
 * grade/hs_zeek.c - --format zeek: a connection as the records Zeek's
 * ssl.log and x509.log would hold, in Zeek's JSON log format (one object
 * per line, the #fields names as flat keys, ts a float of epoch seconds,
 * vectors as arrays, unset fields left out).  Both logs share one stream,
 * each record naming its log in "_path" as Zeek's JSON streaming writers
 * do.  Field meanings are those of Zeek's base/protocols/ssl/main.zeek and
 * base/files/x509/main.zeek.
 */
#include "grade/grade.h"
#include "grade/report.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Epoch seconds with microseconds, as Zeek's JSON writer prints a time. */
static void add_epoch(cJSON *o, const char *key, cap_time_us ts) {
  char buf[48];
  const char *sign = ts < 0 ? "-" : "";
  uint64_t us = ts < 0 ? 0 - (uint64_t)ts : (uint64_t)ts;
  snprintf(buf, sizeof(buf), "%s%llu.%06llu", sign, (unsigned long long)(us / 1000000),
           (unsigned long long)(us % 1000000));
  cJSON_AddItemToObject(o, key, cJSON_CreateRaw(buf));
}

/* Zeek's names (base/protocols/ssl/consts.zeek version_strings):
 * "TLSv12", "DTLSv10", "TLSv13-draft18"; unknown-N otherwise. */
static void add_version(cJSON *o, uint16_t v) {
  char buf[32];
  const char *name = tls_version_name(v);
  if (name) {
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < sizeof(buf); p++)
      if (*p != '.')
        buf[n++] = *p;
    buf[n] = '\0';
  } else if ((v >> 8) == 0x7f) {
    snprintf(buf, sizeof(buf), "TLSv13-draft%u", v & 0xffu);
  } else {
    snprintf(buf, sizeof(buf), "unknown-%u", v);
  }
  cJSON_AddStringToObject(o, "version", buf);
}

static void add_named(cJSON *o, const char *key, const char *name, unsigned id) {
  char buf[24];
  if (!name) {
    snprintf(buf, sizeof(buf), "unknown-%u", id);
    name = buf;
  }
  cJSON_AddStringToObject(o, key, name);
}

void report_split_endpoint(const char *ep, char host[CAP_ENDPOINT_STRLEN], long *port) {
  const char *colon = strrchr(ep, ':');
  size_t host_len = colon ? (size_t)(colon - ep) : strlen(ep);
  const char *start = ep;
  if (host_len >= 2 && start[0] == '[' && start[host_len - 1] == ']') {
    start++;
    host_len -= 2;
  }
  snprintf(host, CAP_ENDPOINT_STRLEN, "%.*s", (int)host_len, start);
  *port = colon ? atol(colon + 1) : 0;
}

static void add_endpoint(cJSON *o, const char *host_key, const char *port_key, const char *ep) {
  char host[CAP_ENDPOINT_STRLEN];
  long port;
  report_split_endpoint(ep, host, &port);
  cJSON_AddStringToObject(o, host_key, host);
  cJSON_AddItemToObject(o, port_key, report_int_item(port));
}

/* Zeek's uids are random; this one is made from what names the connection
 * (its endpoints, transport, and the time of its first message), so two
 * runs over a capture agree: "C" and 17 base-62 digits of the first 96
 * bits of their SHA-256. */
static void add_uid(cJSON *o, const struct tls_session *s, const struct report_conn *conn) {
  char text[2 * CAP_ENDPOINT_STRLEN + 64];
  int n = snprintf(text, sizeof(text), "%s %s %s %lld", conn->client, conn->server,
                   s->transport ? s->transport : "tcp", (long long)report_first_fact(s)->ts);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  char uid[20] = "C";
  if (n > 0 && EVP_Digest(text, strlen(text), digest, &len, tls_sha256(), NULL) && len >= 12) {
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t hi = 0, lo = 0; /* 96 bits: hi holds the top 32 */
    for (int i = 0; i < 4; i++)
      hi = hi << 8 | digest[i];
    for (int i = 4; i < 12; i++)
      lo = lo << 8 | digest[i];
    for (int i = 17; i >= 1; i--) { /* long division of (hi, lo) by 62 */
      uint64_t rem_hi = hi % 62;
      hi /= 62;
      unsigned __int128 cur = ((unsigned __int128)rem_hi << 64) | lo;
      lo = (uint64_t)(cur / 62);
      uid[i] = digits[(unsigned)(cur % 62)];
    }
    uid[18] = '\0';
  }
  cJSON_AddStringToObject(o, "uid", uid);
}

/* Zeek's letters (main.zeek "ssl_history"), lower case from the server,
 * upper case from the client (the dissector's directions are the TLS
 * roles': a ClientHello is always C). */
static char history_letter(const struct tls_msg *m, bool *hrr_left) {
  static const char by_type[] = {
      [0] = 'h',  [1] = 'c',  [2] = 's',  [3] = 'v',  [4] = 't',  [5] = 'e',  [6] = 'j',
      [8] = 'o',  [11] = 'x', [12] = 'k', [13] = 'r', [14] = 'n', [15] = 'y', [16] = 'g',
      [20] = 'f', [21] = 'w', [22] = 'u', [23] = 'a', [24] = 'p'};
  char c = 'z';
  if (m->content_type == 20)
    c = 'i';
  else if (m->content_type == 21)
    c = 'l';
  else if (m->content_type == 24)
    c = 'b';
  else if (m->content_type == 0) /* SSLv2: CLIENT-HELLO and SERVER-HELLO only */
    c = m->hs_type == 1 ? 'c' : m->hs_type == 4 ? 's' : 0;
  else if (m->hs_type == 254)
    c = 'm';
  else if (m->hs_type < sizeof(by_type) && by_type[m->hs_type])
    c = by_type[m->hs_type];
  if (c == 's' && m->content_type == 22 && *hrr_left) { /* the HelloRetryRequest */
    c = 'j';
    *hrr_left = false;
  }
  return c && m->dir == FLOW_C2S ? (char)(c - 'a' + 'A') : c; /* dir is the TLS role's */
}

static void add_history(cJSON *o, const struct tls_session *s) {
  char buf[TLS_MAX_HISTORY_LIMIT + 1];
  size_t n = 0;
  bool hrr_left = s->has_hrr;
  for (size_t i = 0; i < s->n_history; i++) {
    char c = history_letter(&s->history[i], &hrr_left);
    if (c)
      buf[n++] = c;
  }
  buf[n] = '\0';
  cJSON_AddStringToObject(o, "ssl_history", buf);
}

static const struct tls_alert *last_plain_alert(const struct tls_session *s) {
  for (size_t i = s->n_alerts; i > 0; i--)
    if (!s->alerts[i - 1].encrypted)
      return &s->alerts[i - 1];
  return NULL;
}

static void add_server_facts(cJSON *o, const struct tls_session *s) {
  add_version(o, s->version);
  if (s->version == TLS_VERSION_SSL2) { /* Zeek's consts.zeek names them SSLv20_CK_... */
    const struct tls_suite_info *info = tls_sslv2_suite_lookup(s->sh.cipher);
    char name[64] = "";
    if (info && strncmp(info->name, "SSL_CK_", 7) == 0)
      snprintf(name, sizeof(name), "SSLv20_CK_%s", info->name + 7);
    add_named(o, "cipher", name[0] ? name : info ? info->name : NULL, s->sh.cipher);
  } else {
    const struct tls_suite_info *info = tls_suite_lookup(s->sh.cipher);
    add_named(o, "cipher", info ? info->name : NULL, s->sh.cipher);
  }
  uint16_t group = s->sh.key_share_group ? s->sh.key_share_group : s->kex.curve;
  if (group)
    add_named(o, "curve", tls_group_name(group), group);
}

/* Zeek's sni_matches_cert: the leaf against the SNI (RFC 6125), known
 * only where a trust verdict was reached with the SNI as hostname. */
static void add_sni_match(cJSON *o, const struct tls_session *s, const struct report_conn *conn) {
  if (!s->ch.sni.n || !s->chain_len || !conn->trust)
    return;
  struct x509_trust t;
  if (conn->memo)
    ev_trust_verdict(conn->memo, s, conn->trust, s->chain_at.ts, &t);
  else
    x509_trust_check_store(conn->trust, s->chain, s->chain_len, NULL, s->chain_at.ts, &t);
  if (t.hostname_checked)
    cJSON_AddBoolToObject(o, "sni_matches_cert", t.hostname_match);
}

static cJSON *ssl_record(const struct tls_session *s, const struct report_conn *conn) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "_path", "ssl");
  add_epoch(o, "ts", report_first_fact(s)->ts);
  add_uid(o, s, conn);
  add_endpoint(o, "id.orig_h", "id.orig_p", conn->client);
  add_endpoint(o, "id.resp_h", "id.resp_p", conn->server);
  if (s->has_server_hello)
    add_server_facts(o, s);
  if (s->ch.sni.n)
    report_add_wire_string(o, "server_name", s->ch.sni.p, s->ch.sni.n);
  cJSON_AddBoolToObject(o, "resumed", s->resumed);
  const struct tls_alert *alert = last_plain_alert(s);
  if (alert)
    add_named(o, "last_alert", tls_alert_name(alert->desc), alert->desc);
  if (s->sh.alpn.n)
    report_add_wire_string(o, "next_protocol", s->sh.alpn.p, s->sh.alpn.n);
  cJSON_AddBoolToObject(o, "established", s->established);
  add_history(o, s);
  /* Zeek makes both vectors at the first certificate of either side. */
  if (s->chain_len || s->client_chain_len) {
    cJSON *fps = cJSON_AddArrayToObject(o, "cert_chain_fps");
    for (size_t i = 0; i < s->chain_len; i++)
      if (s->chain[i]->sha256[0])
        cJSON_AddItemToArray(fps, cJSON_CreateString(s->chain[i]->sha256));
    if (!s->client_chain_len) /* client certificates are counted, not kept */
      cJSON_AddArrayToObject(o, "client_cert_chain_fps");
  }
  add_sni_match(o, s, conn);
  return o;
}

/* What x509.log holds and struct tls_cert does not (read again from the
 * DER through libcrypto, as Zeek's X509 analyzer reads it): version and
 * serial as i2a_ASN1_INTEGER prints it. */
static void add_version_serial(cJSON *o, X509 *x) {
  cJSON_AddItemToObject(o, "certificate.version", report_int_item(X509_get_version(x) + 1));
  BIO *bio = BIO_new(BIO_s_mem());
  char *text = NULL;
  long len;
  if (bio && i2a_ASN1_INTEGER(bio, X509_get0_serialNumber(x)) > 0 &&
      (len = BIO_get_mem_data(bio, &text)) > 0)
    report_add_wire_string(o, "certificate.serial", (const uint8_t *)text, (size_t)len);
  BIO_free(bio);
}

static void add_key_alg(cJSON *o, X509 *x) {
  ASN1_OBJECT *alg = NULL;
  char name[128];
  X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, X509_get_X509_PUBKEY(x));
  if (alg && i2t_ASN1_OBJECT(name, sizeof(name), alg) > 0)
    cJSON_AddStringToObject(o, "certificate.key_alg", name);
}

static void add_exponent(cJSON *o, X509 *x) {
  EVP_PKEY *key = X509_get0_pubkey(x);
  BIGNUM *e = NULL;
  if (key && EVP_PKEY_get_bn_param(key, "e", &e)) { /* RSA keys only */
    char *dec = BN_bn2dec(e);
    if (dec)
      cJSON_AddStringToObject(o, "certificate.exponent", dec);
    OPENSSL_free(dec);
  }
  BN_free(e);
}

/* Set only when the certificate has the extension (RFC 5280 4.2.1.9). */
static void add_basic_constraints(cJSON *o, X509 *x) {
  int crit;
  BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
  if (!bc)
    return;
  cJSON_AddBoolToObject(o, "basic_constraints.ca", bc->ca != 0);
  if (bc->pathlen)
    cJSON_AddItemToObject(o, "basic_constraints.path_len",
                          report_int_item(ASN1_INTEGER_get(bc->pathlen)));
  BASIC_CONSTRAINTS_free(bc);
}

static void add_key(cJSON *o, const struct tls_cert *c) {
  static const char *const key_types[] = {NULL,      "rsa",   "dsa", "ecdsa",
                                          "ed25519", "ed448", "dh",  NULL};
  const char *key_type = c->key_type < 8 ? key_types[c->key_type] : NULL;
  if (key_type)
    cJSON_AddStringToObject(o, "certificate.key_type", key_type);
  if (c->key_bits > 0)
    cJSON_AddItemToObject(o, "certificate.key_length", report_int_item(c->key_bits));
}

/* A certificate libcrypto parsed (the dissector did: c->parsed). */
static cJSON *x509_record(const struct tls_cert *c, const struct tls_at *at, bool host) {
  const unsigned char *der = c->der;
  X509 *x = d2i_X509(NULL, &der, (long)c->der_len);
  if (!x)
    return NULL;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "_path", "x509");
  add_epoch(o, "ts", at->ts);
  cJSON_AddStringToObject(o, "fingerprint", c->sha256);
  add_version_serial(o, x);
  const char *subject = c->subject ? c->subject : "", *issuer = c->issuer ? c->issuer : "";
  report_add_wire_string(o, "certificate.subject", (const uint8_t *)subject, strlen(subject));
  report_add_wire_string(o, "certificate.issuer", (const uint8_t *)issuer, strlen(issuer));
  add_epoch(o, "certificate.not_valid_before", c->not_before_us);
  add_epoch(o, "certificate.not_valid_after", c->not_after_us);
  add_key_alg(o, x);
  if (c->sig_alg[0])
    cJSON_AddStringToObject(o, "certificate.sig_alg", c->sig_alg);
  add_key(o, c);
  add_exponent(o, x);
  if (c->key_curve[0])
    cJSON_AddStringToObject(o, "certificate.curve", c->key_curve);
  if (c->n_san) {
    cJSON *san = cJSON_AddArrayToObject(o, "san.dns");
    for (size_t k = 0; k < c->n_san; k++)
      report_add_wire_item(san, (const uint8_t *)c->san[k], strlen(c->san[k]));
  }
  add_basic_constraints(o, x);
  cJSON_AddBoolToObject(o, "host_cert", host);
  cJSON_AddBoolToObject(o, "client_cert", false);
  X509_free(x);
  return o;
}

/* A connection of which only protected records were seen (its handshake
 * was before the capture) has no record: Zeek's analyzer logs none. */
cJSON *report_handshake_zeek(const struct tls_session *s, const struct report_conn *conn) {
  if (!s->is_tls || (!s->n_history && !s->history_dropped))
    return NULL;
  cJSON *records = cJSON_CreateArray();
  cJSON_AddItemToArray(records, ssl_record(s, conn));
  for (size_t i = 0; i < s->chain_len; i++) {
    cJSON *cert = s->chain[i]->parsed ? x509_record(s->chain[i], &s->chain_at, i == 0) : NULL;
    if (cert)
      cJSON_AddItemToArray(records, cert);
  }
  return records;
}
