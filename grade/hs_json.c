/*
 * grade/hs_json.c - --handshakes: one JSON object per TLS connection, in the
 * spirit of Zeek's ssl.log, every fact with the frame it came from.  Field
 * names are the output contract of docs/architecture.md.
 */
#include "grade/grade.h"
#include "grade/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Integers as raw JSON text.  cJSON keeps every number as a double and
 * prints it with "%1.15g" followed by sscanf to check the round trip: that
 * was most of a --handshakes run's time (hellos carry dozens of numbers).
 * Every number written here is an integer well inside 2^53, so the text is
 * the one cJSON would print. */
static cJSON *int_item(long long v) {
  char buf[1 + REPORT_UINT_LEN] = "-";
  report_uint(buf + 1, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
  return cJSON_CreateRaw(v < 0 ? buf : buf + 1);
}

static void add_int(cJSON *o, const char *key, long long v) {
  cJSON_AddItemToObject(o, key, int_item(v));
}

static void add_hex(cJSON *o, const char *key, uint32_t v, int width) {
  char buf[16];
  snprintf(buf, sizeof(buf), "0x%0*x", width, v);
  cJSON_AddStringToObject(o, key, buf);
}

static void add_time(cJSON *o, const char *key, cap_time_us ts) {
  char buf[CAP_TIME_STRLEN];
  cap_time_str(ts, buf, sizeof(buf));
  cJSON_AddStringToObject(o, key, buf);
}

static void add_frame(cJSON *frames, const char *key, const struct tls_at *at) {
  if (at->frame)
    add_int(frames, key, at->frame);
}

/* A version's name; a TLS 1.3 draft (0x7fNN, draft-ietf-tls-tls13-NN)
 * named as such, anything else in hex. */
static const char *version_name(uint16_t v, char buf[24]) {
  const char *name = tls_version_name(v);
  if (name)
    return name;
  if ((v >> 8) == 0x7f)
    snprintf(buf, 24, "TLSv1.3-draft%u", v & 0xffu);
  else
    snprintf(buf, 24, "0x%04x", v);
  return buf;
}

static cJSON *u16_array(const struct tls_u16s *list) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < list->n; i++)
    cJSON_AddItemToArray(a, int_item(list->v[i]));
  return a;
}

/* Each group by its IANA name (dissect/iana), an unregistered one (GREASE
 * included) as 0x hex. */
static cJSON *group_names(const struct tls_u16s *list) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < list->n; i++) {
    char hex[8];
    const char *name = tls_group_name(list->v[i]);
    if (!name)
      snprintf(hex, sizeof hex, "0x%04x", list->v[i]);
    cJSON_AddItemToArray(a, cJSON_CreateString(name ? name : hex));
  }
  return a;
}

/* RFC 9849 5: what the encrypted_client_hello extension shows in clear.
 * GREASE ECH (6.2) looks the same: nothing here says which it was.  The
 * public name is the outer SNI ("sni"). */
static void add_ech(cJSON *o, const struct tls_session *s) {
  const struct tls_ech_offer *e = &s->ch.ech_offer;
  if (!s->ch.ech)
    return;
  cJSON *j = cJSON_AddObjectToObject(o, "ech");
  if (e->outer) {
    cJSON_AddStringToObject(j, "type", "outer");
    add_int(j, "kdf_id", e->kdf_id);
    add_int(j, "aead_id", e->aead_id);
    add_int(j, "config_id", e->config_id);
    add_int(j, "enc_length", e->enc_length);
    add_int(j, "payload_length", e->payload_length);
  } else if (e->inner) {
    cJSON_AddStringToObject(j, "type", "inner");
  } else {
    add_int(j, "type", e->type);
  }
  if (s->has_hrr && s->hrr->ech_confirmation)
    add_int(j, "hrr_confirmation_frame", s->hrr->at.frame);
}

static cJSON *client_versions(const struct tls_client_hello *ch) {
  cJSON *a = cJSON_CreateArray();
  char buf[24];
  if (ch->versions.n) {
    for (size_t i = 0; i < ch->versions.n; i++)
      if (!tls_is_grease(ch->versions.v[i]))
        cJSON_AddItemToArray(a, cJSON_CreateString(version_name(ch->versions.v[i], buf)));
  } else {
    cJSON_AddItemToArray(a, cJSON_CreateString(version_name(ch->legacy_version, buf)));
  }
  return a;
}

static void add_cipher(cJSON *o, const struct tls_session *s) {
  char buf[16];
  const struct tls_suite_info *info = s->version == TLS_VERSION_SSL2
                                          ? tls_sslv2_suite_lookup(s->sh.cipher)
                                          : tls_suite_lookup(s->sh.cipher);
  if (info) {
    cJSON_AddStringToObject(o, "cipher", info->name);
  } else {
    snprintf(buf, sizeof(buf), s->version == TLS_VERSION_SSL2 ? "0x%06x" : "0x%04x", s->sh.cipher);
    cJSON_AddStringToObject(o, "cipher", buf);
  }
  add_int(o, "cipher_id", s->sh.cipher);
}

static void add_group(cJSON *o, const struct tls_session *s) {
  uint16_t group = s->sh.key_share_group ? s->sh.key_share_group : s->kex.curve;
  if (!group)
    return;
  const char *name = tls_group_name(group);
  if (name)
    cJSON_AddStringToObject(o, "group", name);
  else
    add_hex(o, "group", group, 4);
  add_int(o, "group_id", group);
}

static cJSON *cert_json(const struct tls_cert *c, const struct tls_at *at) {
  cJSON *o = cJSON_CreateObject();
  add_int(o, "frame", at->frame);
  if (!c->parsed) {
    cJSON_AddStringToObject(o, "error", c->parse_error ? c->parse_error : "not decoded");
    add_int(o, "der_length", c->der_len);
    if (c->sha256[0])
      cJSON_AddStringToObject(o, "sha256", c->sha256);
    return o;
  }
  static const char *const key_types[] = {"unknown", "rsa",   "dsa", "ec",
                                          "ed25519", "ed448", "dh",  "other"};
  const char *s = c->subject ? c->subject : "";
  const char *i = c->issuer ? c->issuer : "";
  report_add_wire_string(o, "subject", (const uint8_t *)s, strlen(s));
  report_add_wire_string(o, "issuer", (const uint8_t *)i, strlen(i));
  const char *scn = c->subject_cn ? c->subject_cn : "", *icn = c->issuer_cn ? c->issuer_cn : "";
  report_add_wire_string(o, "subject_cn", (const uint8_t *)scn, strlen(scn));
  report_add_wire_string(o, "issuer_cn", (const uint8_t *)icn, strlen(icn));
  cJSON_AddStringToObject(o, "key_type", key_types[c->key_type < 8 ? c->key_type : 0]);
  add_int(o, "key_bits", c->key_bits);
  if (c->key_curve[0])
    cJSON_AddStringToObject(o, "key_curve", c->key_curve);
  cJSON_AddStringToObject(o, "sig_alg", c->sig_alg);
  cJSON_AddStringToObject(o, "sig_oid", c->sig_oid);
  cJSON_AddStringToObject(o, "not_before", c->not_before);
  cJSON_AddStringToObject(o, "not_after", c->not_after);
  cJSON_AddStringToObject(o, "serial", c->serial_hex ? c->serial_hex : "");
  cJSON_AddStringToObject(o, "sha256", c->sha256);
  cJSON *san = cJSON_AddArrayToObject(o, "san");
  for (size_t k = 0; k < c->n_san; k++) {
    report_add_wire_item(san, (const uint8_t *)c->san[k], strlen(c->san[k]));
  }
  cJSON_AddBoolToObject(o, "ca", c->is_ca);
  cJSON_AddBoolToObject(o, "self_signed", c->self_signed);
  cJSON_AddBoolToObject(o, "must_staple", c->must_staple);
  cJSON_AddBoolToObject(o, "sct_list", c->has_sct_list);
  if (c->spki_sha256[0])
    cJSON_AddStringToObject(o, "spki_sha256", c->spki_sha256);
  if (c->weak_key != TLS_WEAK_KEY_UNCHECKED) /* --weak-keys had a list for its size */
    cJSON_AddBoolToObject(o, "debian_weak_key", c->weak_key == TLS_WEAK_KEY_LISTED);
  cJSON *pol = cJSON_AddArrayToObject(o, "policies");
  for (size_t k = 0; k < c->n_policies; k++)
    cJSON_AddItemToArray(pol, cJSON_CreateString(c->policies[k]));
  return o;
}

static cJSON *alerts_json(const struct tls_session *s) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < s->n_alerts; i++) {
    const struct tls_alert *al = &s->alerts[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "from", al->dir == FLOW_C2S ? "client" : "server");
    add_int(o, "frame", al->at.frame);
    cJSON_AddBoolToObject(o, "encrypted", al->encrypted);
    if (al->decrypted)
      cJSON_AddTrueToObject(o, "decrypted");
    if (!al->encrypted || al->decrypted) {
      cJSON_AddStringToObject(o, "level",
                              al->level == 2   ? "fatal"
                              : al->level == 1 ? "warning"
                                               : "unknown");
      add_int(o, "desc", al->desc);
      const char *name = tls_alert_name(al->desc);
      if (name)
        cJSON_AddStringToObject(o, "desc_name", name);
    }
    cJSON_AddItemToArray(a, o);
  }
  return a;
}

/* With a key log: what decryption did, and the HTTP responses it read. */
static void add_decryption(cJSON *o, const struct tls_session *s) {
  static const char *const status[] = {"none", "no_keys", "unsupported", "ok", "failed"};
  const struct tls_decryption *d = &s->decryption;
  if (d->status == TLS_DECRYPT_NONE)
    return;
  cJSON *j = cJSON_AddObjectToObject(o, "decryption");
  cJSON_AddStringToObject(j, "status", d->status <= TLS_DECRYPT_FAILED ? status[d->status] : "?");
  if (d->why)
    cJSON_AddStringToObject(j, "why", d->why);
  cJSON *rec = cJSON_AddObjectToObject(j, "records");
  add_int(rec, "c2s", d->records[FLOW_C2S]);
  add_int(rec, "s2c", d->records[FLOW_S2C]);
  if (d->status == TLS_DECRYPT_FAILED)
    add_int(j, "failed_frame", d->failed_at.frame);
  if (d->early_skipped)
    add_int(j, "early_data_skipped", d->early_skipped);
  const struct tls_https *h = s->https;
  if (!h)
    return;
  add_int(j, "http_responses", h->responses);
  if (h->stopped)
    cJSON_AddStringToObject(j, "http_stopped", h->stopped);
  if (h->stream_bytes_dropped)
    add_int(j, "http3_bytes_dropped", h->stream_bytes_dropped);
  cJSON *list = cJSON_AddArrayToObject(o, "http");
  for (size_t i = 0; i < h->n; i++) {
    const struct tls_http_response *r = &h->r[i];
    cJSON *e = cJSON_CreateObject();
    add_int(e, "frame", r->at.frame);
    cJSON_AddStringToObject(e, "version",
                            r->http_version == 3   ? "HTTP/3"
                            : r->http_version == 2 ? "HTTP/2"
                                                   : "HTTP/1.x");
    add_int(e, "status", r->status);
    if (r->has_sts)
      report_add_wire_string(e, "strict_transport_security", r->sts.p, r->sts.n);
    if (r->has_pkp)
      report_add_wire_string(e, "public_key_pins", r->pkp.p, r->pkp.n);
    cJSON_AddItemToArray(list, e);
  }
}

static cJSON *heartbeats_json(const struct tls_session *s) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < s->n_heartbeats; i++) {
    const struct tls_heartbeat *h = &s->heartbeats[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "from", h->dir == FLOW_C2S ? "client" : "server");
    add_int(o, "frame", h->at.frame);
    cJSON_AddBoolToObject(o, "encrypted", h->encrypted);
    add_int(o, "record_length", h->record_length);
    if (!h->encrypted) {
      cJSON_AddStringToObject(o, "type", h->type == 1 ? "request" : "response");
      add_int(o, "payload_length", h->payload_length);
    }
    cJSON_AddItemToArray(a, o);
  }
  return a;
}

static void add_client_facts(cJSON *o, const struct tls_session *s) {
  const struct tls_client_hello *ch = &s->ch;
  report_add_wire_string(o, "sni", ch->sni.p, ch->sni.n);
  if (!ch->sni.n)
    cJSON_ReplaceItemInObject(o, "sni", cJSON_CreateNull());
  cJSON_AddItemToObject(o, "client_versions", client_versions(ch));
  cJSON_AddItemToObject(o, "client_ciphers", u16_array(&ch->ciphers));
  cJSON_AddItemToObject(o, "client_extensions", u16_array(&ch->extensions));
  cJSON_AddItemToObject(o, "client_groups", u16_array(&ch->groups));
  cJSON_AddItemToObject(o, "client_group_names", group_names(&ch->groups));
  cJSON_AddItemToObject(o, "client_key_shares", group_names(&ch->key_share_groups));
  cJSON *alpn = cJSON_AddArrayToObject(o, "client_alpn");
  for (size_t i = 0; i < ch->n_alpn; i++) {
    report_add_wire_item(alpn, ch->alpn[i].p, ch->alpn[i].n);
  }
  cJSON_AddBoolToObject(o, "fallback_scsv", ch->fallback_scsv);
  if (ch->ja3[0])
    cJSON_AddStringToObject(o, "ja3", ch->ja3);
  if (s->ja4[0])
    cJSON_AddStringToObject(o, "ja4", s->ja4);
}

static void add_server_facts(cJSON *o, const struct tls_session *s) {
  char buf[24];
  cJSON_AddStringToObject(o, "version", version_name(s->version, buf));
  add_cipher(o, s);
  if (s->sh.alpn.n)
    report_add_wire_string(o, "alpn", s->sh.alpn.p, s->sh.alpn.n);
  else
    cJSON_AddNullToObject(o, "alpn");
  add_group(o, s);
  if (s->kex.is_dh)
    add_int(o, "dh_bits", s->kex.dh_bits);
  if (s->kex.dh_group)
    cJSON_AddStringToObject(o, "dh_group", s->kex.dh_group);
  if (s->kex.is_rsa)
    add_int(o, "rsa_kex_bits", s->kex.rsa_bits);
  if (s->kex.sig_scheme)
    add_int(o, "kex_sig_scheme", s->kex.sig_scheme);
  add_int(o, "compression", s->sh.compression);
  cJSON_AddBoolToObject(o, "renegotiation_info", s->secure_reneg);
  cJSON_AddBoolToObject(o, "heartbeat", s->sh.heartbeat);
  if (s->sh.downgrade[0])
    cJSON_AddStringToObject(o, "downgrade_sentinel", s->sh.downgrade);
  if (s->sh.ja3s[0])
    cJSON_AddStringToObject(o, "ja3s", s->sh.ja3s);
  if (s->has_hrr) {
    const char *name = tls_group_name(s->hrr->key_share_group);
    cJSON_AddStringToObject(o, "hello_retry_group", name ? name : "unknown");
  }
  uint16_t group = s->sh.key_share_group ? s->sh.key_share_group : s->kex.curve;
  if (group && tls_group_pq(group) != TLS_GROUP_CLASSICAL)
    cJSON_AddStringToObject(o, "group_pq",
                            tls_group_pq(group) == TLS_GROUP_PQ ? "post-quantum" : "obsolete");
}

/* The chain's verdict as of the certificate's packet time, for the SNI. */
static void add_trust(cJSON *o, const struct tls_session *s, const struct report_conn *conn) {
  struct x509_trust t;
  if (conn->memo)
    ev_trust_verdict(conn->memo, s, conn->trust, s->chain_at.ts, &t);
  else
    x509_trust_check_store(conn->trust, s->chain, s->chain_len, NULL, s->chain_at.ts, &t);
  cJSON *j = cJSON_AddObjectToObject(o, "trust");
  cJSON_AddBoolToObject(j, "trusted", t.trusted);
  if (!t.trusted)
    cJSON_AddStringToObject(j, "reason", t.reason);
  cJSON_AddBoolToObject(j, "expired", t.expired);
  cJSON_AddBoolToObject(j, "not_yet_valid", t.not_yet_valid);
  cJSON_AddBoolToObject(j, "self_signed", t.self_signed);
  cJSON_AddBoolToObject(j, "chain_complete", t.chain_complete);
  cJSON_AddBoolToObject(j, "chain_in_order", t.chain_in_order);
  if (t.hostname_checked)
    cJSON_AddBoolToObject(j, "hostname_match", t.hostname_match);
}

/* Why the connection is no evidence, or only evidence against its server
 * (README "What counts as evidence"). */
static void add_soundness(cJSON *o, const struct tls_session *s) {
  if (tls_session_unverified(s)) {
    cJSON_AddStringToObject(o, "unverified", "no ClientHello on this connection");
    return;
  }
  if (s->violation) {
    cJSON_AddStringToObject(o, "violation", s->violation);
    add_int(o, "violation_frame", s->violation_at.frame);
  }
  const struct tls_alert *abort = tls_session_client_abort(s);
  if (abort) {
    cJSON *j = cJSON_AddObjectToObject(o, "aborted_by_client");
    add_int(j, "frame", abort->at.frame);
    const char *name = tls_alert_name(abort->desc);
    if (name)
      cJSON_AddStringToObject(j, "alert", name);
    else
      add_int(j, "alert", abort->desc);
  }
}

static const struct tls_at *first_fact(const struct tls_session *s) {
  if (s->has_client_hello)
    return &s->ch.at;
  if (s->has_server_hello)
    return &s->sh.at;
  if (s->n_alerts)
    return &s->alerts[0].at;
  return &s->chain_at;
}

cJSON *report_handshake_json(const struct tls_session *s, const struct report_conn *conn) {
  if (!s->is_tls)
    return NULL;
  const struct tls_at *first = first_fact(s);
  cJSON *o = cJSON_CreateObject();
  add_time(o, "ts", first->ts);
  const char *file = first->file_index < conn->n_files ? conn->files[first->file_index] : "";
  report_add_wire_string(o, "file", (const uint8_t *)file, strlen(file));
  add_int(o, "frame", first->frame);
  cJSON_AddStringToObject(o, "client", conn->client);
  cJSON_AddStringToObject(o, "server", conn->server);
  cJSON_AddStringToObject(o, "transport", s->transport ? s->transport : "tcp");
  if (s->quic) {
    char name[QUIC_VERSION_NAME_LEN];
    cJSON_AddTrueToObject(o, "quic");
    if (s->quic_version)
      cJSON_AddStringToObject(o, "quic_version", quic_version_name(s->quic_version, name));
    if (s->quic_unsupported) /* not TLS: what a reader of this line must know */
      cJSON_AddStringToObject(o, "quic_unsupported_version",
                              quic_version_name(s->quic_unsupported, name));
  }
  if (s->webrtc)
    cJSON_AddTrueToObject(o, "webrtc");
  if (s->starttls)
    cJSON_AddStringToObject(o, "starttls", s->starttls);
  if (s->evicted)
    cJSON_AddTrueToObject(o, "evicted");
  if (s->has_client_hello)
    add_client_facts(o, s);
  if (s->has_client_hello)
    add_ech(o, s);
  if (s->has_server_hello)
    add_server_facts(o, s);
  cJSON_AddBoolToObject(o, "resumed", s->resumed);
  cJSON_AddBoolToObject(o, "established", s->established);
  cJSON_AddItemToObject(o, "alerts", alerts_json(s));
  cJSON *chain = cJSON_AddArrayToObject(o, "cert_chain");
  for (size_t i = 0; i < s->chain_len; i++)
    cJSON_AddItemToArray(chain, cert_json(s->chain[i], &s->chain_at));
  if (s->chain_len && conn->trust)
    add_trust(o, s, conn);
  if (s->cert_request) {
    cJSON *cr = cJSON_AddObjectToObject(o, "certificate_request");
    add_int(cr, "frame", s->cert_request->at.frame);
    cJSON *types = cJSON_AddArrayToObject(cr, "cert_types");
    for (size_t i = 0; i < s->cert_request->types.n; i++)
      cJSON_AddItemToArray(types, int_item(s->cert_request->types.p[i]));
    cJSON_AddItemToObject(cr, "sig_algs", u16_array(&s->cert_request->sig_algs));
    add_int(cr, "ca_names", s->cert_request->ca_names);
  }
  if (s->new_session_ticket) {
    cJSON *nt = cJSON_AddObjectToObject(o, "session_ticket");
    add_int(nt, "frame", s->ticket_at.frame);
    if (!(s->version == TLS_VERSION_TLS13 || s->version == TLS_VERSION_DTLS13) ||
        s->ticket_length) {
      add_int(nt, "lifetime_hint", s->ticket_lifetime_hint);
      add_int(nt, "length", s->ticket_length);
    }
  }
  if (s->client_chain_len)
    add_int(o, "client_certificates", s->client_chain_len);
  cJSON_AddBoolToObject(o, "ocsp_stapled", s->ocsp_stapled);
  if (s->ocsp_stapled) {
    static const char *const status[] = {"good", "revoked", "unknown"};
    int st = s->ocsp_cert_status;
    cJSON_AddStringToObject(o, "ocsp_status", st >= 0 && st <= 2 ? status[st] : "unparsed");
    if (s->ocsp_response_status >= 0)
      add_int(o, "ocsp_response_status", s->ocsp_response_status);
    if (s->ocsp_dates && s->ocsp_dates->this_update[0])
      cJSON_AddStringToObject(o, "ocsp_this_update", s->ocsp_dates->this_update);
    if (s->ocsp_dates && s->ocsp_dates->next_update[0])
      cJSON_AddStringToObject(o, "ocsp_next_update", s->ocsp_dates->next_update);
  }
  if (s->n_heartbeats)
    cJSON_AddItemToObject(o, "heartbeats", heartbeats_json(s));
  if (s->renegotiations)
    add_int(o, "renegotiations", s->renegotiations);
  cJSON *frames = cJSON_AddObjectToObject(o, "frames");
  add_frame(frames, "client_hello", &s->ch.at);
  if (s->hrr)
    add_frame(frames, "hello_retry_request", &s->hrr->at);
  add_frame(frames, "server_hello", &s->sh.at);
  add_frame(frames, "certificate", &s->chain_at);
  add_frame(frames, "server_key_exchange", &s->kex.at);
  add_frame(frames, "certificate_status", &s->ocsp_at);
  add_decryption(o, s);
  if (s->gap[0] || s->gap[1])
    cJSON_AddTrueToObject(o, "gaps");
  add_soundness(o, s);
  if (s->malformed) {
    cJSON_AddStringToObject(o, "malformed", s->malformed);
    add_int(o, "malformed_frame", s->malformed_at.frame);
  }
  return o;
}

cJSON *report_int_item(long long v) {
  return int_item(v);
}

const struct tls_at *report_first_fact(const struct tls_session *s) {
  return first_fact(s);
}
