/*
 * pipeline/lines.c - the JSON a run writes of itself: a --flows line per
 * flow, and the stats and limits objects (the last --flows line, and the
 * reports' "stats" and "limits" sections), and the warnings a report
 * repeats from stderr.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void pl_print_json_line(FILE *out, cJSON *o) {
  char *s = cJSON_PrintUnformatted(o);
  if (s) {
    fprintf(out, "%s\n", s); /* one call: lines of -j workers never interleave */
    free(s);
  }
  cJSON_Delete(o);
}

static cJSON *pair(uint64_t c2s, uint64_t s2c) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "c2s", (double)c2s);
  cJSON_AddNumberToObject(o, "s2c", (double)s2c);
  return o;
}

static void add_time(cJSON *o, const char *key, cap_time_us ts) {
  char buf[CAP_TIME_STRLEN];
  cap_time_str(ts, buf, sizeof(buf));
  cJSON_AddStringToObject(o, key, buf);
}

static const char *end_reason_name(enum flow_end_reason why) {
  static const char *const names[] = {"closed", "idle", "evicted", "port_reused", "end_of_input"};
  return names[why];
}

cJSON *pl_flow_json(const struct flow *f, enum flow_end_reason why) {
  char buf[CAP_ENDPOINT_STRLEN];
  cJSON *o = cJSON_CreateObject();
  cap_endpoint_str(&f->client_addr, f->client_port, buf, sizeof(buf));
  cJSON_AddStringToObject(o, "client", buf);
  cap_endpoint_str(&f->server_addr, f->server_port, buf, sizeof(buf));
  cJSON_AddStringToObject(o, "server", buf);
  cJSON_AddStringToObject(o, "l4", f->l4_proto == 6 ? "tcp" : "udp");
  cJSON_AddStringToObject(o, "app", f->app ? f->app : "Unknown");
  const struct tcp_counters *c = &f->tcp[FLOW_C2S].count, *s = &f->tcp[FLOW_S2C].count;
  cJSON_AddItemToObject(o, "packets", pair(f->dir[0].packets, f->dir[1].packets));
  cJSON_AddItemToObject(o, "bytes", pair(f->dir[0].bytes, f->dir[1].bytes));
  if (f->l4_proto == 6)
    cJSON_AddItemToObject(o, "stream_bytes", pair(c->stream_bytes, s->stream_bytes));
  else
    cJSON_AddItemToObject(o, "stream_bytes", pair(f->udp_bytes[0], f->udp_bytes[1]));
  cJSON_AddItemToObject(o, "gaps", pair(c->gaps, s->gaps));
  cJSON_AddItemToObject(o, "gap_bytes", pair(c->gap_bytes, s->gap_bytes));
  cJSON_AddItemToObject(o, "out_of_order", pair(c->out_of_order, s->out_of_order));
  cJSON_AddItemToObject(o, "retransmits", pair(c->retransmits, s->retransmits));
  cJSON_AddItemToObject(o, "overlaps", pair(c->overlaps, s->overlaps));
  cJSON_AddItemToObject(o, "overlap_conflicts", pair(c->overlap_conflicts, s->overlap_conflicts));
  cJSON_AddItemToObject(o, "uncompared", pair(c->uncompared, s->uncompared));
  add_time(o, "first_ts", f->first_ts);
  add_time(o, "last_ts", f->last_ts);
  cJSON_AddStringToObject(o, "end", end_reason_name(why));
  cJSON_AddBoolToObject(o, "roles_from_syn", f->roles_from_syn);
  if (f->encap.depth) {
    char layers[CAP_ENCAP_STRLEN];
    cap_encap_str(&f->encap, layers, sizeof(layers));
    cJSON_AddStringToObject(o, "encap", layers);
  }
  return o;
}

/* With --keylog: how many connections each decryption outcome had. */
static void add_decrypt_stats(cJSON *stats, const struct run *run) {
  if (!run->keylog)
    return;
  const uint64_t *d = run->count->decrypt;
  cJSON *o = cJSON_AddObjectToObject(stats, "decryption");
  cJSON_AddNumberToObject(o, "keylog_connections", (double)tls_keylog_count(run->keylog));
  cJSON_AddNumberToObject(o, "decrypted", (double)d[TLS_DECRYPT_OK]);
  cJSON_AddNumberToObject(o, "failed", (double)d[TLS_DECRYPT_FAILED]);
  cJSON_AddNumberToObject(o, "no_keys", (double)d[TLS_DECRYPT_NO_KEYS]);
  cJSON_AddNumberToObject(o, "unsupported", (double)d[TLS_DECRYPT_UNSUPPORTED]);
}

cJSON *pl_stats_json(const struct run *run, unsigned warnings) {
  const struct cap_stats *st = &run->count->cap;
  cJSON *s = cJSON_CreateObject();
  cJSON_AddNumberToObject(s, "inputs", (double)run->n_files);
  cJSON_AddNumberToObject(s, "packets", (double)st->packets);
  cJSON_AddNumberToObject(s, "bytes", (double)st->bytes);
  cJSON_AddNumberToObject(s, "ip_packets", (double)st->ip_packets);
  cJSON_AddNumberToObject(s, "non_ip", (double)st->non_ip);
  cJSON_AddNumberToObject(s, "other_l4", (double)st->other_l4);
  cJSON_AddNumberToObject(s, "malformed", (double)st->malformed);
  cJSON_AddNumberToObject(s, "truncated_by_snaplen", (double)st->truncated);
  cJSON_AddNumberToObject(s, "bad_ip_checksums", (double)st->bad_checksum_ip);
  cJSON_AddNumberToObject(s, "bad_l4_checksums", (double)st->bad_checksum_l4);
  cJSON_AddNumberToObject(s, "tcp_bad_checksum_dropped", (double)st->tcp_bad_checksum_dropped);
  cJSON_AddNumberToObject(s, "tcp_rst_ignored", (double)st->tcp_rst_ignored);
  cJSON_AddNumberToObject(s, "fragments", (double)st->fragments);
  cJSON_AddNumberToObject(s, "reassembled_datagrams", (double)st->reassembled);
  cJSON_AddNumberToObject(s, "flows", (double)st->flows);
  cJSON_AddNumberToObject(s, "flows_timed_out", (double)st->flows_timed_out);
  cJSON_AddNumberToObject(s, "evictions", (double)st->evictions);
  cJSON *caps = cJSON_AddObjectToObject(s, "cap_hits");
  cJSON_AddNumberToObject(caps, "tcp_out_of_order", (double)st->cap_tcp_ooo);
  cJSON_AddNumberToObject(caps, "ip_fragments", (double)st->cap_frag);
  cJSON_AddNumberToObject(caps, "fragment_timeouts", (double)st->frag_timeouts);
  cJSON_AddNumberToObject(caps, "tcp_compare_bytes_all_streams", (double)st->cap_recent_total);
  cJSON_AddNumberToObject(caps, "flow_evictions", (double)st->evictions);
  cJSON_AddNumberToObject(caps, "encapsulation_depth", (double)st->decap_too_deep);
  cJSON *tunnels = cJSON_AddObjectToObject(s, "tunnels");
  for (unsigned i = 0; i < CAP_ENCAP_KINDS; i++)
    cJSON_AddNumberToObject(tunnels, cap_encap_name(i), (double)st->decap[i]);
  cJSON_AddNumberToObject(tunnels, "malformed", (double)st->decap_malformed);
  cJSON_AddNumberToObject(s, "pcap_drops", (double)st->pcap_drops);
  cJSON_AddNumberToObject(s, "pcap_ifdrops", (double)st->pcap_ifdrops);
  if (st->packets) { /* the capture period: the report's header */
    char when[CAP_TIME_STRLEN];
    cap_time_str(st->first_ts, when, sizeof when);
    cJSON_AddStringToObject(s, "first_packet", when);
    cap_time_str(st->last_ts, when, sizeof when);
    cJSON_AddStringToObject(s, "last_packet", when);
  }
  if (st->ndpi_unavailable)
    cJSON_AddNumberToObject(s, "ndpi_unavailable", (double)st->ndpi_unavailable);
  /* Only when the flow table evicted: a run without evictions reads as before. */
  if (st->evictions) {
    cJSON_AddNumberToObject(s, "handshakes_evicted", (double)run->count->handshakes_evicted);
    cJSON_AddNumberToObject(s, "evicted_continuations", (double)st->evicted_continuations);
  }
  cJSON_AddNumberToObject(s, "warnings", warnings);
  cJSON_AddNumberToObject(s, "tls_connections", (double)run->count->tls_connections);
  /* Connections that are no evidence, or only against their server (README
   * "What counts as evidence"), and QUIC flows of a version not read:
   * present when there were some. */
  const struct {
    const char *name;
    uint64_t n;
  } unsound[] = {{"unverified_server_flights", run->count->unverified_flights},
                 {"protocol_violations", run->count->protocol_violations},
                 {"aborted_by_client", run->count->client_aborts},
                 {"quic_unsupported_version", run->count->quic_unsupported_version}};
  for (size_t i = 0; i < sizeof(unsound) / sizeof(unsound[0]); i++)
    if (unsound[i].n)
      cJSON_AddNumberToObject(s, unsound[i].name, (double)unsound[i].n);
  add_decrypt_stats(s, run);
  return s;
}

cJSON *pl_limit_row(double limit, uint64_t hits) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "limit", limit);
  cJSON_AddNumberToObject(o, "hits", (double)hits);
  return o;
}

/* Every cap, its setting and how often it was hit (README "Limits"). */
cJSON *pl_limits_json(const struct run *run) {
  const struct pl_settings *set = run->set;
  const struct cap_stats *st = &run->count->cap;
  cJSON *l = cJSON_CreateObject();
  struct {
    const char *name;
    double limit, hits;
  } rows[] = {
      {"flows", (double)set->limits.max_flows, (double)st->evictions},
      {"tcp_out_of_order_bytes_per_stream", (double)set->limits.tcp_ooo_bytes,
       (double)st->cap_tcp_ooo},
      {"tcp_out_of_order_bytes_all_streams", (double)set->limits.reasm_total_bytes,
       (double)st->cap_reasm_total},
      {"tcp_compare_bytes_per_stream", (double)set->limits.tcp_recent_bytes, 0},
      {"tcp_compare_bytes_all_streams", (double)set->limits.recent_total_bytes,
       (double)st->cap_recent_total},
      {"ip_fragment_datagrams_and_bytes", (double)set->limits.frag_datagrams,
       (double)(st->cap_frag - st->cap_frag_pieces)},
      {"ip_fragment_pieces_per_datagram", (double)set->limits.frag_pieces,
       (double)st->cap_frag_pieces},
      {"ip_fragment_timeout_s", (double)(set->limits.frag_timeout / 1000000),
       (double)st->frag_timeouts},
      {"handshake_bytes_per_direction", (double)set->tls_limits.max_handshake_bytes,
       (double)run->count->cap_handshake},
      {"handshake_buffers_all_connections", (double)set->tls_limits.max_buffer_total,
       (double)run->count->cap_buffer_total},
      {"certificates_per_chain", (double)set->tls_limits.max_chain_len,
       (double)run->count->cap_chain},
      {"quic_crypto_pieces_per_direction", (double)set->tls_limits.max_quic_pieces,
       (double)run->count->cap_quic_crypto},
      {"dtls_pieces_per_direction", (double)set->tls_limits.max_dtls_pieces,
       (double)run->count->cap_dtls_pieces},
      {"keylog_connections", (double)set->max_keylog_entries,
       (double)tls_keylog_refused(run->keylog)},
      {"starttls_plaintext_bytes_per_direction", (double)set->tls_limits.max_starttls_bytes,
       (double)run->count->cap_starttls},
      {"http3_streams_per_connection", (double)set->tls_limits.max_h3_streams,
       (double)run->count->cap_h3_streams},
      {"http3_field_section_bytes", (double)set->tls_limits.max_h3_section,
       (double)run->count->cap_h3_section},
      {"certificates_remembered", (double)set->cert_cache_entries,
       (double)x509_cache_refused(run->certs)},
      {"trust_verdicts_remembered", (double)set->trust_memo_entries,
       (double)x509_trust_memo_refused(run->memo)},
      {"encapsulation_depth", (double)set->limits.encap_depth, (double)st->decap_too_deep},
      {"endpoints", (double)set->max_endpoints,
       run->ev ? (double)ev_endpoint_cap_hits(run->ev) : 0},
  };
  uint64_t cas = 0, pending = 0;
  if (run->ev)
    ev_chains_cap_hits(run->ev, &cas, &pending);
  cJSON_AddItemToObject(l, "intermediates_remembered",
                        pl_limit_row((double)set->max_chain_cas, cas));
  cJSON_AddItemToObject(l, "incomplete_chains_pending",
                        pl_limit_row((double)set->max_chain_pending, pending));
  if (st->evictions) /* evicted flows remembered for their rest: forgotten too early */
    cJSON_AddItemToObject(l, "evicted_flows_remembered",
                          pl_limit_row((double)set->limits.evicted_keys, st->cap_evicted_keys));
  if (run->count->cap_history) /* shortens Zeek's ssl_history only: shown when hit */
    cJSON_AddItemToObject(
        l, "plaintext_messages_per_connection",
        pl_limit_row((double)set->tls_limits.max_history, run->count->cap_history));
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    cJSON_AddItemToObject(l, rows[i].name, pl_limit_row(rows[i].limit, (uint64_t)rows[i].hits));
  uint64_t client_hits[2] = {0, 0};
  if (run->ev)
    ev_client_cap_hits(run->ev, client_hits);
  cJSON_AddItemToObject(l, "clients", pl_limit_row((double)set->max_clients, client_hits[0]));
  cJSON_AddItemToObject(l, "clients_per_server",
                        pl_limit_row((double)set->max_clients, client_hits[1]));
  cJSON_AddItemToObject(
      l, "certificate_chains_per_endpoint",
      pl_limit_row((double)set->max_sent_chains, run->ev ? ev_sent_chain_hits(run->ev) : 0));
  return l;
}

void pl_warnings_keep(struct pl_warnings *w, const char *text) {
  char *copy = w->n < PL_MAX_WARNINGS ? strdup(text) : NULL;
  if (copy)
    w->text[w->n++] = copy;
  else
    w->more++;
}

void pl_warn(struct pl_warnings *w, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  cap_message("warning: %s", text);
  pl_warnings_keep(w, text);
}

void pl_warnings_free(struct pl_warnings *w) {
  for (size_t i = 0; i < w->n; i++)
    free(w->text[i]);
  w->n = 0;
}
