/*
 * grade/hs_ecs.c - --format ecs: a connection as an Elastic Common Schema
 * (ECS 8.x) document, the field names and types of the ECS reference
 * (base, ecs, event, network, source, destination, observer, tls, x509).
 * Values ECS asks in a form of its own are written that way: hashes and
 * serial numbers in upper-case hex, dates in ISO 8601, tls.version "1.2"
 * with tls.version_protocol "tls".
 */
#include "grade/grade.h"
#include "grade/report.h"

#include <stdio.h>
#include <string.h>

static void add_time(cJSON *o, const char *key, cap_time_us ts) {
  char buf[CAP_TIME_STRLEN];
  cap_time_str(ts, buf, sizeof(buf));
  cJSON_AddStringToObject(o, key, buf);
}

static void add_upper(cJSON *o, const char *key, const char *hex) {
  char buf[160];
  size_t n = 0;
  for (; hex[n] && n + 1 < sizeof(buf); n++)
    buf[n] = (char)(hex[n] >= 'a' && hex[n] <= 'f' ? hex[n] - 'a' + 'A' : hex[n]);
  buf[n] = '\0';
  cJSON_AddStringToObject(o, key, buf);
}

static cJSON *one_string(const char *s) {
  cJSON *a = cJSON_CreateArray();
  report_add_wire_item(a, (const uint8_t *)s, strlen(s));
  return a;
}

/* ECS: the event fields of every document tlsgrade writes. */
void report_ecs_base(cJSON *o, cap_time_us ts, const char *kind, const char *category,
                     const char *type) {
  add_time(o, "@timestamp", ts);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "ecs"), "version", REPORT_ECS_VERSION);
  cJSON *event = cJSON_AddObjectToObject(o, "event");
  cJSON_AddStringToObject(event, "kind", kind);
  cJSON_AddItemToObject(event, "category", one_string(category));
  cJSON_AddItemToObject(event, "type", one_string(type));
  cJSON_AddStringToObject(event, "module", "tlsgrade");
  cJSON *observer = cJSON_AddObjectToObject(o, "observer");
  cJSON_AddStringToObject(observer, "product", "tlsgrade");
  cJSON_AddStringToObject(observer, "version", TLSGRADE_VERSION);
}

/* ECS "source"/"destination": ip and port (a long). */
static void add_endpoint(cJSON *o, const char *key, const char *ep) {
  char host[CAP_ENDPOINT_STRLEN];
  long port;
  report_split_endpoint(ep, host, &port);
  cJSON *e = cJSON_AddObjectToObject(o, key);
  cJSON_AddStringToObject(e, "ip", host);
  cJSON_AddItemToObject(e, "port", report_int_item(port));
}

static void add_network(cJSON *o, const struct tls_session *s, const char *client) {
  cJSON *net = cJSON_AddObjectToObject(o, "network");
  cJSON_AddStringToObject(net, "transport", s->transport ? s->transport : "tcp");
  cJSON_AddStringToObject(net, "protocol",
                          s->quic                                        ? "quic"
                          : s->transport && !strcmp(s->transport, "udp") ? "dtls"
                                                                         : "tls");
  cJSON_AddStringToObject(net, "type", client[0] == '[' ? "ipv6" : "ipv4");
}

/* tls.version "1.2" and tls.version_protocol "tls" (ECS: the protocol's
 * lower-case name, and the version apart). */
static void add_version(cJSON *tls, uint16_t v) {
  const char *name = tls_version_name(v);
  if (!name)
    return;
  const char *digits = strchr(name, 'v');
  char protocol[8];
  snprintf(protocol, sizeof(protocol), "%.*s", digits ? (int)(digits - name) : 0, name);
  for (char *p = protocol; *p; p++)
    *p = (char)(*p - 'A' + 'a');
  char version[16]; /* SSLv3 is "3.0", as Elastic's own modules write it */
  snprintf(version, sizeof(version), "%s%s", digits ? digits + 1 : name,
           digits && !strchr(digits, '.') ? ".0" : "");
  cJSON_AddStringToObject(tls, "version", version);
  cJSON_AddStringToObject(tls, "version_protocol", protocol);
}

static void add_suite_name(cJSON *to, const struct tls_session *s, uint32_t id, bool array) {
  char buf[16];
  const struct tls_suite_info *info =
      s->version == TLS_VERSION_SSL2 ? tls_sslv2_suite_lookup(id) : tls_suite_lookup(id);
  const char *name = info ? info->name : buf;
  if (!info)
    snprintf(buf, sizeof(buf), "0x%04x", id);
  if (array)
    cJSON_AddItemToArray(to, cJSON_CreateString(name));
  else
    cJSON_AddStringToObject(to, "cipher", name);
}

static void add_client(cJSON *tls, const struct tls_session *s) {
  cJSON *client = cJSON_AddObjectToObject(tls, "client");
  if (s->ch.ja3[0])
    cJSON_AddStringToObject(client, "ja3", s->ch.ja3);
  if (s->ch.sni.n)
    report_add_wire_string(client, "server_name", s->ch.sni.p, s->ch.sni.n);
  cJSON *ciphers = cJSON_AddArrayToObject(client, "supported_ciphers");
  for (size_t i = 0; i < s->ch.ciphers.n; i++)
    if (!tls_is_grease(s->ch.ciphers.v[i]))
      add_suite_name(ciphers, s, s->ch.ciphers.v[i], true);
}

/* The ECS x509 field set of a certificate. */
static cJSON *x509_fields(const struct tls_cert *c) {
  static const char *const algs[] = {NULL, "RSA", "DSA", "EC", "Ed25519", "Ed448", "DH", NULL};
  cJSON *x = cJSON_CreateObject();
  cJSON *subject = cJSON_AddObjectToObject(x, "subject");
  cJSON *issuer = cJSON_AddObjectToObject(x, "issuer");
  const char *names[][2] = {{c->subject, c->subject_cn}, {c->issuer, c->issuer_cn}};
  cJSON *sides[] = {subject, issuer};
  for (int i = 0; i < 2; i++) {
    if (names[i][0])
      report_add_wire_string(sides[i], "distinguished_name", (const uint8_t *)names[i][0],
                             strlen(names[i][0]));
    if (names[i][1] && names[i][1][0])
      cJSON_AddItemToObject(sides[i], "common_name", one_string(names[i][1]));
  }
  if (c->serial_hex)
    add_upper(x, "serial_number", c->serial_hex);
  add_time(x, "not_before", c->not_before_us);
  add_time(x, "not_after", c->not_after_us);
  const char *alg = c->key_type < 8 ? algs[c->key_type] : NULL;
  if (alg)
    cJSON_AddStringToObject(x, "public_key_algorithm", alg);
  if (c->key_bits > 0)
    cJSON_AddItemToObject(x, "public_key_size", report_int_item(c->key_bits));
  if (c->key_curve[0])
    cJSON_AddStringToObject(x, "public_key_curve", c->key_curve);
  if (c->sig_alg[0])
    cJSON_AddStringToObject(x, "signature_algorithm", c->sig_alg);
  if (c->n_san) {
    cJSON *san = cJSON_AddArrayToObject(x, "alternative_names");
    for (size_t k = 0; k < c->n_san; k++)
      report_add_wire_item(san, (const uint8_t *)c->san[k], strlen(c->san[k]));
  }
  return x;
}

static void add_server(cJSON *tls, const struct tls_session *s) {
  cJSON *server = cJSON_AddObjectToObject(tls, "server");
  if (s->sh.ja3s[0])
    cJSON_AddStringToObject(server, "ja3s", s->sh.ja3s);
  if (!s->chain_len || !s->chain[0]->sha256[0])
    return;
  const struct tls_cert *leaf = s->chain[0];
  add_upper(cJSON_AddObjectToObject(server, "hash"), "sha256", leaf->sha256);
  if (!leaf->parsed)
    return;
  if (leaf->subject)
    report_add_wire_string(server, "subject", (const uint8_t *)leaf->subject,
                           strlen(leaf->subject));
  if (leaf->issuer)
    report_add_wire_string(server, "issuer", (const uint8_t *)leaf->issuer, strlen(leaf->issuer));
  add_time(server, "not_before", leaf->not_before_us);
  add_time(server, "not_after", leaf->not_after_us);
  cJSON_AddItemToObject(server, "x509", x509_fields(leaf));
}

static void add_tls(cJSON *o, const struct tls_session *s) {
  cJSON *tls = cJSON_AddObjectToObject(o, "tls");
  if (s->has_server_hello) {
    add_version(tls, s->version);
    add_suite_name(tls, s, s->sh.cipher, false);
    uint16_t group = s->sh.key_share_group ? s->sh.key_share_group : s->kex.curve;
    const char *curve = group ? tls_group_name(group) : NULL;
    if (curve)
      cJSON_AddStringToObject(tls, "curve", curve);
    if (s->sh.alpn.n)
      report_add_wire_string(tls, "next_protocol", s->sh.alpn.p, s->sh.alpn.n);
  }
  cJSON_AddBoolToObject(tls, "established", s->established);
  cJSON_AddBoolToObject(tls, "resumed", s->resumed);
  if (s->has_client_hello)
    add_client(tls, s);
  add_server(tls, s);
}

/* ECS event.outcome: success once established, failure after a fatal
 * plaintext alert, unknown otherwise (the capture may have ended). */
static const char *outcome(const struct tls_session *s) {
  if (s->established)
    return "success";
  for (size_t i = 0; i < s->n_alerts; i++)
    if (!s->alerts[i].encrypted && s->alerts[i].level == 2)
      return "failure";
  return "unknown";
}

cJSON *report_handshake_ecs(const struct tls_session *s, const struct report_conn *conn) {
  if (!s->is_tls || (!s->has_client_hello && !s->has_server_hello))
    return NULL;
  cJSON *o = cJSON_CreateObject();
  report_ecs_base(o, report_first_fact(s)->ts, "event", "network", "protocol");
  cJSON *event = cJSON_GetObjectItem(o, "event");
  cJSON_AddItemToArray(cJSON_GetObjectItem(event, "type"), cJSON_CreateString("connection"));
  cJSON_AddStringToObject(event, "dataset", "tlsgrade.connection");
  cJSON_AddStringToObject(event, "action", "tls-handshake");
  cJSON_AddStringToObject(event, "outcome", outcome(s));
  add_network(o, s, conn->client);
  add_endpoint(o, "source", conn->client);
  add_endpoint(o, "destination", conn->server);
  add_tls(o, s);
  return o;
}
