/*
 * pipeline/glue.c - between the flow table and the dissector: what happens
 * to a flow's bytes, and to its session when the flow closes or ends.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* What a run keeps per flow (flow->user). */
struct conn_state {
  struct tls_conn *tls;
  struct http_conn *http; /* clear-text HTTP, when the client spoke it */
  bool http_checked;
  bool accounted; /* its session is already in the evidence */
};

/* nDPI's label is printed by --flows only: the dissector finds TLS on any
 * port by its records, clear-text HTTP by its request line and STARTTLS by
 * the protocol's own commands.  Grading and --handshakes skip nDPI, which
 * cost a tenth of a grading run (about 90 thousand instructions per
 * ClientHello it classified). */
bool pl_use_ndpi(const struct pl_settings *s) {
  return !s->no_ndpi && s->mode == PL_MODE_FLOWS;
}

static void on_flow_end_json(struct run *run, struct flow *f, enum flow_end_reason why) {
  pl_print_json_line(run->out, pl_flow_json(f, why));
  run->count->flows_printed++;
}

/* The dissector's state is made at a flow's first payload: a flood of
 * SYNs costs flow entries only. */
static struct conn_state *conn_state_for(struct run *run, struct flow *f) {
  if (f->user)
    return f->user;
  struct conn_state *cs = calloc(1, sizeof(*cs));
  if (!cs)
    return NULL;
  cs->tls = tls_conn_new(&run->set->tls_limits, f->l4_proto == 17, f->server_port);
  if (!cs->tls) {
    free(cs);
    return NULL;
  }
  if (!f->roles_from_syn)
    tls_conn_roles_guessed(cs->tls);
  tls_conn_set_cert_cache(cs->tls, run->certs);
  tls_conn_set_budget(cs->tls, &run->budget);
  if (run->set->mode == PL_MODE_FLOWS)
    tls_conn_skip_ja4(cs->tls); /* --handshakes prints it, the client inventory lists by it */
  if (run->keylog)
    tls_conn_set_keylog(cs->tls, run->keylog);
  f->user = cs;
  return cs;
}

static void on_flow_data(void *ctx, struct flow *f, int dir, const uint8_t *data, size_t len,
                         uint64_t gap_len, unsigned flags, uint32_t file_index, uint64_t frame,
                         cap_time_us ts) {
  struct run *run = ctx;
  if (f->continues_evicted) {
    /* The rest of a flow evicted from a full table: its beginning (the
     * ClientHello and SNI) went with that flow, so a ServerHello here
     * would make a server out of half a connection.  Not read. */
    flow_set_skip(f, dir, true);
    return;
  }
  struct conn_state *cs = conn_state_for(run, f);
  if (!cs || !cs->tls) /* released when the flow closed: late packets add nothing */
    return;
  if (run->set->mode == PL_MODE_GRADE && !cs->http_checked && dir == FLOW_C2S && data && len) {
    cs->http_checked = true;
    if (f->l4_proto == 6 && http_looks_like_request(data, len))
      cs->http = http_conn_new();
  }
  if (cs->http && data) {
    struct tls_at at = {file_index, frame, ts};
    http_conn_data(cs->http, dir, data, len, &at);
  }
  if (tls_conn_data(cs->tls, dir, data, len, gap_len, flags, file_index, frame, ts) && !cs->http)
    flow_set_skip(f, dir, true);
  else if (!cs->http)
    flow_set_headers_only(f, dir, tls_conn_headers_only(cs->tls, dir));
}

/* One line per record of an array (a connection's records), counted as
 * one connection printed. */
static void print_records(struct run *run, cJSON *records) {
  if (!records)
    return;
  cJSON *item;
  while ((item = cJSON_DetachItemFromArray(records, 0)) != NULL)
    pl_print_json_line(run->out, item);
  cJSON_Delete(records);
  run->count->handshakes_printed++;
}

static void print_handshake(struct run *run, const struct flow *f, const struct tls_session *s) {
  char client[CAP_ENDPOINT_STRLEN], server[CAP_ENDPOINT_STRLEN];
  cap_endpoint_str(&f->client_addr, f->client_port, client, sizeof(client));
  cap_endpoint_str(&f->server_addr, f->server_port, server, sizeof(server));
  struct report_conn conn = {NULL,
                             s->roles_swapped ? server : client,
                             s->roles_swapped ? client : server,
                             run->file_names,
                             run->n_files,
                             run->trust,
                             run->memo};
  if (run->set->format == PL_FORMAT_ZEEK) {
    print_records(run, report_handshake_zeek(s, &conn));
    return;
  }
  cJSON *o = run->set->format == PL_FORMAT_ECS ? report_handshake_ecs(s, &conn)
                                               : report_handshake_json(s, &conn);
  if (o && f->encap.depth &&
      run->set->format != PL_FORMAT_ECS) { /* the tunnels, as --flows names them */
    char layers[CAP_ENCAP_STRLEN];
    cap_encap_str(&f->encap, layers, sizeof(layers));
    cJSON_AddStringToObject(o, "encap", layers);
  }
  if (o) {
    pl_print_json_line(run->out, o);
    run->count->handshakes_printed++;
  }
}

/* The server's address as the evidence keys it: no port, no brackets. */
static const char *address_ip(const struct cap_addr *addr, char *buf, size_t len) {
  cap_endpoint_str(addr, 0, buf, len);
  char *colon = strrchr(buf, ':'); /* drop ":0", and the brackets of IPv6 */
  if (colon)
    *colon = '\0';
  if (buf[0] != '[')
    return buf;
  buf[strlen(buf) - 1] = '\0';
  return buf + 1;
}

static const char *server_ip(const struct flow *f, const struct tls_session *s, char *buf,
                             size_t len) {
  return address_ip(s->roles_swapped ? &f->client_addr : &f->server_addr, buf, len);
}

static void session_done(struct run *run, struct flow *f, const struct tls_session *s) {
  struct pl_counters *count = run->count;
  pl_sync_names(run); /* -w: the session's frames may be in a file begun since */
  count->sessions++;
  count->cap_handshake += s->cap_handshake;
  count->cap_buffer_total += s->cap_buffer_total;
  count->cap_chain += s->cap_chain;
  count->cap_history += s->history_dropped;
  count->cap_starttls += s->cap_starttls;
  count->cap_h3_streams += s->cap_h3_streams;
  count->cap_h3_section += s->cap_h3_section;
  if (s->is_tls)
    count->tls_connections++;
  if (s->quic_unsupported)
    count->quic_unsupported_version++;
  count->cap_quic_crypto += s->quic_crypto_refused;
  count->cap_dtls_pieces += s->cap_dtls_pieces;
  if (tls_session_unverified(s))
    count->unverified_flights++;
  else if (s->is_tls && s->violation)
    count->protocol_violations++;
  else if (tls_session_client_abort(s))
    count->client_aborts++;
  if (s->decryption.status <= TLS_DECRYPT_FAILED)
    count->decrypt[s->decryption.status]++;
  bool evicted_unanswered = ev_session_evicted_unanswered(s);
  if (evicted_unanswered)
    count->handshakes_evicted++;
  if (run->set->mode == PL_MODE_HANDSHAKES) {
    print_handshake(run, f, s);
    return;
  }
  if (run->set->format == PL_FORMAT_ECS) /* connections as they end, findings after grading */
    print_handshake(run, f, s);
  char ip[CAP_ENDPOINT_STRLEN], client[CAP_ENDPOINT_STRLEN];
  uint16_t port = s->roles_swapped ? f->client_port : f->server_port;
  struct ev_conn conn = {
      server_ip(f, s, ip, sizeof(ip)),
      port,
      run->file_names,
      run->n_files,
      run->trust,
      run->memo,
      run->set->ca_file,
      run->set->ca_path,
      address_ip(s->roles_swapped ? &f->server_addr : &f->client_addr, client, sizeof(client))};
  struct conn_state *cs = f->user;
  /* With --interval into a directory, into this interval's snapshot too. */
  struct ev_store *into[2] = {run->ev, run->delta};
  for (size_t i = 0; i < 2 && into[i]; i++) {
    if (evicted_unanswered)
      ev_add_evicted(into[i], s, &conn);
    else
      ev_add_session(into[i], s, &conn);
    if (cs && cs->http)
      ev_add_http(into[i], http_conn_facts(cs->http), &conn);
  }
}

static void release(struct conn_state *cs) {
  tls_conn_free(cs->tls);
  http_conn_free(cs->http);
  cs->tls = NULL;
  cs->http = NULL;
}

static void on_flow_end(void *ctx, struct flow *f, enum flow_end_reason why) {
  struct run *run = ctx;
  run->count->flows_ended++;
  run->count->cap.cap_tcp_ooo += f->tcp[0].count.cap_hits + f->tcp[1].count.cap_hits;
  if (run->set->mode == PL_MODE_FLOWS) {
    on_flow_end_json(run, f, why);
    return;
  }
  struct conn_state *cs = f->user;
  if (!cs)
    return;
  if (why == FLOW_END_EVICTED && cs->tls)
    tls_conn_evicted(cs->tls);
  if (!cs->accounted)
    session_done(run, f, tls_conn_session(cs->tls));
  release(cs);
  free(cs);
  f->user = NULL;
}

/* A closed connection is graded (or printed) at once, so periodic reports
 * see it, and its dissector state is released: the flow lingers for late
 * packets (close timeout) that add nothing, and a capture spanning less
 * than that timeout would otherwise keep every connection's state to the
 * end.  Data still held behind a hole may yet be delivered by a
 * retransmission: such a connection keeps its state until the flow ends. */
static void on_flow_closing(void *ctx, struct flow *f) {
  struct run *run = ctx;
  struct conn_state *cs = f->user;
  if (!cs || cs->accounted || run->set->mode == PL_MODE_FLOWS || f->tcp[0].held_bytes ||
      f->tcp[1].held_bytes)
    return;
  session_done(run, f, tls_conn_session(cs->tls));
  cs->accounted = true;
  release(cs);
  flow_set_skip(f, FLOW_C2S, true);
  flow_set_skip(f, FLOW_S2C, true);
}

struct cap_callbacks pl_glue_callbacks(struct run *run) {
  struct cap_callbacks cb = {.ctx = run, .flow_end = on_flow_end};
  if (run->set->mode != PL_MODE_FLOWS) {
    cb.flow_data = on_flow_data;
    cb.flow_closing = on_flow_closing;
  }
  return cb;
}
