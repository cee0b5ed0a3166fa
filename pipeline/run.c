/*
 * pipeline/run.c - one capture run from start to end: what it loads before
 * the first packet (trust store, weak-key lists, key logs), the source,
 * the reading (one thread or -j), and what it writes at the end.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void pl_settings_default(struct pl_settings *s) {
  memset(s, 0, sizeof(*s));
  s->mode = PL_MODE_GRADE;
  s->format = PL_FORMAT_TEXT;
  s->jobs = 1;
  s->color = -1;
  s->live.snaplen = 262144;
  s->live.promisc = true;
  s->live.immediate = false; /* TPACKET_V3 blocks: no wake-up per packet (README) */
  cap_limits_default(&s->limits);
  tls_limits_default(&s->tls_limits);
  s->max_weak_keys = 4000000;      /* 10 bytes each: 40 MB */
  s->max_keylog_entries = 1000000; /* about 290 bytes each */
  s->max_endpoints = EV_ENDPOINTS_DEFAULT;
  s->max_clients = EV_CLIENTS_DEFAULT;
  s->max_sent_chains = EV_SENT_CHAINS;
  s->max_sent_certs = EV_SENT_CERTS;
  s->cert_cache_entries = 4096;
  s->trust_memo_entries = X509_TRUST_MEMO_DEFAULT;
  s->max_chain_cas = EV_CHAINS_MAX_CAS;
  s->max_chain_pending = EV_CHAINS_MAX_PENDING;
}

/* Field by field: a counter added to struct cap_stats must be added here,
 * and the assertion says so at build time. */
static void cap_stats_add(struct cap_stats *into, const struct cap_stats *from) {
  _Static_assert(sizeof(struct cap_stats) == (31 + CAP_ENCAP_KINDS) * sizeof(uint64_t),
                 "a counter was added to struct cap_stats: add it here too");
  if (from->packets && (!into->packets || from->first_ts < into->first_ts))
    into->first_ts = from->first_ts;
  if (from->packets && (!into->packets || from->last_ts > into->last_ts))
    into->last_ts = from->last_ts;
  into->packets += from->packets;
  into->bytes += from->bytes;
  into->ip_packets += from->ip_packets;
  into->non_ip += from->non_ip;
  into->other_l4 += from->other_l4;
  into->malformed += from->malformed;
  into->truncated += from->truncated;
  into->bad_checksum_ip += from->bad_checksum_ip;
  into->bad_checksum_l4 += from->bad_checksum_l4;
  into->fragments += from->fragments;
  into->reassembled += from->reassembled;
  into->flows += from->flows;
  into->flows_timed_out += from->flows_timed_out;
  into->evictions += from->evictions;
  into->evicted_continuations += from->evicted_continuations;
  into->cap_evicted_keys += from->cap_evicted_keys;
  into->pcap_drops += from->pcap_drops;
  into->pcap_ifdrops += from->pcap_ifdrops;
  into->ndpi_unavailable += from->ndpi_unavailable;
  into->cap_tcp_ooo += from->cap_tcp_ooo;
  into->cap_reasm_total += from->cap_reasm_total;
  into->cap_frag += from->cap_frag;
  into->cap_frag_pieces += from->cap_frag_pieces;
  into->frag_timeouts += from->frag_timeouts;
  into->cap_recent_total += from->cap_recent_total;
  into->tcp_bad_checksum_dropped += from->tcp_bad_checksum_dropped;
  into->tcp_rst_ignored += from->tcp_rst_ignored;
  for (size_t i = 0; i < CAP_ENCAP_KINDS; i++)
    into->decap[i] += from->decap[i];
  into->decap_too_deep += from->decap_too_deep;
  into->decap_malformed += from->decap_malformed;
}

void pl_counters_add(struct pl_counters *into, const struct pl_counters *from) {
  cap_stats_add(&into->cap, &from->cap);
  into->flows_printed += from->flows_printed;
  into->handshakes_printed += from->handshakes_printed;
  into->flows_ended += from->flows_ended;
  into->sessions += from->sessions;
  into->tls_connections += from->tls_connections;
  into->quic_unsupported_version += from->quic_unsupported_version;
  into->unverified_flights += from->unverified_flights;
  into->protocol_violations += from->protocol_violations;
  into->client_aborts += from->client_aborts;
  into->cap_handshake += from->cap_handshake;
  into->cap_buffer_total += from->cap_buffer_total;
  into->cap_quic_crypto += from->cap_quic_crypto;
  into->cap_dtls_pieces += from->cap_dtls_pieces;
  into->cap_chain += from->cap_chain;
  into->cap_history += from->cap_history;
  into->cap_starttls += from->cap_starttls;
  into->cap_h3_streams += from->cap_h3_streams;
  into->cap_h3_section += from->cap_h3_section;
  into->handshakes_evicted += from->handshakes_evicted;
  for (size_t i = 0; i <= TLS_DECRYPT_FAILED; i++)
    into->decrypt[i] += from->decrypt[i];
}

void pl_stop_request(struct pl_stop *stop) {
  stop->requested = 1;
  if (stop->reporting)
    stop->abandon = 1;
  struct cap_source *src = stop->source;
  if (src)
    cap_source_stop(src);
}

static struct cap_source *open_source(const struct pl_settings *s, char *const *inputs, size_t n) {
  char err[1024] = "";
  struct cap_source *src;
  if (s->iface) {
    struct cap_live_options live = s->live;
    live.iface = s->iface;
    live.bpf = s->bpf;
    src = cap_source_live_group(&live, s->jobs, err, sizeof(err)); /* -j: a handle each */
  } else {
    src = cap_source_files((char **)inputs, n, s->bpf, err, sizeof(err));
  }
  if (!src)
    cap_message("%s", err);
  else if (s->iface)
    cap_message("listening on %s%s%s (Ctrl-C to stop and report)", s->iface,
                s->bpf ? ", filter " : "", s->bpf ? s->bpf : "");
  return src;
}

/* Every --keylog file into one table; an unreadable file is an error, a
 * bad line only a warning (the rest of the file still counts). */
static struct tls_keylog *load_keylogs(const struct pl_settings *s) {
  struct tls_keylog *kl = tls_keylog_new();
  if (!kl) {
    cap_message("out of memory");
    return NULL;
  }
  tls_keylog_set_max(kl, s->max_keylog_entries);
  for (size_t i = 0; i < s->n_keylog_files; i++) {
    struct tls_keylog_stats st;
    char err[1024];
    if (tls_keylog_load(kl, s->keylog_files[i], &st, err, sizeof(err)) < 0) {
      cap_message("--keylog: %s", err);
      tls_keylog_free(kl);
      return NULL;
    }
    if (st.bad)
      cap_message("--keylog: %s: %zu line(s) not in key log format (first: line "
                  "%zu), ignored",
                  s->keylog_files[i], st.bad, st.first_bad_line);
    if (!st.secrets && !st.refused)
      cap_message("--keylog: %s: no usable secret (CLIENT_RANDOM or TLS 1.3 "
                  "traffic secrets)",
                  s->keylog_files[i]);
    if (st.refused)
      cap_message("--keylog: %s: %zu secret(s) of connections past the keylog-entries cap "
                  "(%zu) not loaded: see --limit keylog-entries",
                  s->keylog_files[i], st.refused, s->max_keylog_entries);
  }
  return kl;
}

/* --weak-keys: every list loaded before the first packet; NULL without
 * one, and *failed on a bad list (the message names file and line). */
static struct x509_weak_keys *load_weak_keys(const struct pl_settings *s, bool *failed) {
  *failed = false;
  if (!s->n_weak_keys)
    return NULL;
  struct x509_weak_keys *keys = x509_weak_keys_new(s->max_weak_keys);
  char err[1024] = "out of memory";
  for (size_t i = 0; keys && i < s->n_weak_keys; i++)
    if (x509_weak_keys_load(keys, s->weak_keys[i], err, sizeof(err)) < 0) {
      x509_weak_keys_free(keys);
      keys = NULL;
    }
  if (!keys) {
    cap_message("--weak-keys: %s", err);
    *failed = true;
  }
  return keys;
}

/* --ca-file and --ca-path name what must be there: checked before the
 * library (which says "system lib", or for a directory nothing at all,
 * leaving every server untrusted). */
int pl_check_trust_paths(const struct pl_settings *s) {
  struct stat st;
  if (s->ca_file && (stat(s->ca_file, &st) != 0 || access(s->ca_file, R_OK) != 0)) {
    cap_message("--ca-file %s: %s", s->ca_file, strerror(errno));
    return -1;
  }
  if (s->ca_file && S_ISDIR(st.st_mode)) {
    cap_message("--ca-file %s: a directory (give a PEM file, or the directory as --ca-path)",
                s->ca_file);
    return -1;
  }
  if (s->ca_path && stat(s->ca_path, &st) != 0) {
    cap_message("--ca-path %s: %s", s->ca_path, strerror(errno));
    return -1;
  }
  if (s->ca_path && !S_ISDIR(st.st_mode)) {
    cap_message("--ca-path %s: not a directory (give a PEM file as --ca-file)", s->ca_path);
    return -1;
  }
  if (s->ca_path && access(s->ca_path, R_OK | X_OK) != 0) {
    cap_message("--ca-path %s: %s", s->ca_path, strerror(errno));
    return -1;
  }
  return 0;
}

struct x509_store *pl_open_trust(const struct pl_settings *s) {
  char reason[256];
  struct x509_trust_opts t = {s->ca_file, s->ca_path};
  struct x509_store *store = x509_store_open(&t, reason, sizeof(reason));
  if (!store)
    cap_message("trust store: %s", reason);
  return store;
}

/* --intermediates: a bundle named must load (as --ca-file must). */
bool pl_load_intermediates(const struct pl_settings *s, struct x509_pool **pool) {
  *pool = NULL;
  if (!s->intermediates || s->mode == PL_MODE_FLOWS)
    return true;
  char err[1024] = "out of memory";
  if ((*pool = x509_pool_new()) && x509_pool_load(*pool, s->intermediates, err, sizeof(err)) == 0)
    return true;
  cap_message("--intermediates: %s", err);
  x509_pool_free(*pool);
  *pool = NULL;
  return false;
}

static void keep_warning(void *ctx, const char *text) {
  pl_warnings_keep(ctx, text);
}

/* Read every packet; flows end (and are reported or graded) as they go. */
static int read_all(struct run *run, struct cap_source *src, unsigned *warnings) {
  const struct pl_settings *s = run->set;
  struct cap_callbacks cb = pl_glue_callbacks(run);
  struct cap_decoder *dec = cap_decoder_new(&s->limits, &run->count->cap);
  if (dec) /* summed by the flow table, which knows the bulk it may skip */
    cap_decoder_defer_checksums(dec, true);
  struct flow_table *ft =
      s->jobs > 1 ? NULL : flow_table_new(&s->limits, &run->count->cap, &cb, pl_use_ndpi(s));
  int status = PL_EXIT_OK;
  char err[1024];
  if (s->iface)
    pl_live_begin(run, src);
  cap_source_set_warning_hook(src, keep_warning, run->warned);
  if (!dec || (!ft && s->jobs <= 1)) {
    cap_message("out of memory");
    status = PL_EXIT_RUNTIME;
  } else {
    if (s->stop)
      s->stop->source = src;
    if (s->stop && s->stop->requested) /* the signal came before the source was running */
      cap_source_stop(src);
    int rc = s->jobs > 1
                 ? pl_read_threaded(run, src, dec, warnings, err, sizeof(err))
                 : cap_source_run(src, dec, ft, &run->count->cap, warnings, err, sizeof(err));
    if (rc < 0) {
      cap_message("%s", err);
      status = PL_EXIT_RUNTIME;
      run->input_failed = true;
    }
    if (s->stop)
      s->stop->source = NULL;
    if (s->iface)
      pl_live_end(run);
    if (*warnings && status == PL_EXIT_OK)
      status = PL_EXIT_RUNTIME; /* the input was incomplete: say so in the status too */
  }
  flow_table_free(ft); /* ends the remaining flows */
  cap_decoder_free(dec);
  return status;
}

/* What the key logs did, on stderr and in the report: secrets that do
 * not match, or a key log that opened none of the connections (each had
 * a ClientHello whose random it holds no secret for). */
static void keylog_warnings(struct run *run) {
  const uint64_t *d = run->count->decrypt;
  if (d[TLS_DECRYPT_FAILED])
    pl_warn(run->warned,
            "--keylog: decryption failed on %llu connection(s): their key log secrets do not "
            "match",
            (unsigned long long)d[TLS_DECRYPT_FAILED]);
  else if (run->keylog && d[TLS_DECRYPT_NO_KEYS] && !d[TLS_DECRYPT_OK] &&
           !d[TLS_DECRYPT_UNSUPPORTED])
    pl_warn(run->warned,
            "--keylog: the key log given opened none of the %llu TLS connection(s): it holds no "
            "secret for their ClientHello randoms (a key log of other connections?)",
            (unsigned long long)d[TLS_DECRYPT_NO_KEYS]);
}

/* The end of the run: the --flows stats line, or the report. */
static int finish(struct run *run, int status, unsigned warnings) {
  const struct pl_settings *s = run->set;
  cJSON *stats = pl_stats_json(run, warnings);
  if (s->mode != PL_MODE_FLOWS && run->count->quic_unsupported_version)
    cap_message("%llu QUIC flow(s) of a Google version that carries no TLS "
                "(Q0xx: Google's own crypto) were not read",
                (unsigned long long)run->count->quic_unsupported_version);
  keylog_warnings(run);
  pl_sync_names(run);
  if (run->input_failed && s->mode == PL_MODE_GRADE) {
    cap_message("no report written: an input could not be read (above)");
  } else if (s->mode == PL_MODE_FLOWS) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "stats", stats);
    pl_print_json_line(run->out, o);
    stats = NULL;
  } else if (s->mode == PL_MODE_HANDSHAKES && run->count->handshakes_printed == 0) {
    cap_message("no TLS handshake in the input");
  } else if (s->mode == PL_MODE_GRADE && run->ev && s->interval) {
    int rs = pl_atomic_report(run, warnings);
    if (rs == PL_STOPPED) {
      pl_say_abandoned(s, "grading", true);
      rs = PL_EXIT_RUNTIME;
    }
    run->reported = rs != PL_EXIT_RUNTIME;
    if (rs != PL_EXIT_OK && status == PL_EXIT_OK)
      status = rs;
  } else if (s->mode == PL_MODE_GRADE && run->ev) {
    pl_report_begin(s);
    cJSON *limits = pl_limits_json(run);
    bool saved = pl_save_evidence(s, run->ev) == 0; /* with the chains still waiting: for merge */
    if (!saved)
      status = PL_EXIT_RUNTIME;
    ev_complete_chains(run->ev, run->trust, run->intermediates); /* all evidence is in */
    int rs = pl_write_report(s, run->out, run->ev, run->file_names, run->n_files, limits, stats,
                             run->warned, run->trust != NULL);
    if (rs == PL_STOPPED) {
      pl_say_abandoned(s, "grading", saved);
      rs = PL_EXIT_RUNTIME;
    }
    run->reported = rs != PL_EXIT_RUNTIME;
    run->evidence_saved = saved;
    if (rs != PL_EXIT_OK && status == PL_EXIT_OK)
      status = rs;
    cJSON_Delete(limits);
    pl_report_end(s);
  }
  cJSON_Delete(stats);
  return status;
}

/* The source is open: the rest of the run, up to the closed output. */
static int run_source(struct run *run, struct cap_source *src) {
  const struct pl_settings *s = run->set;
  run->certs = x509_cache_new(s->cert_cache_entries);
  x509_cache_set_weak_keys(run->certs, run->weak_keys);
  run->src = src;
  run->n_files = cap_source_count(src);
  run->file_names = calloc(run->n_files ? run->n_files : 1, sizeof(*run->file_names));
  for (size_t i = 0; run->file_names && i < run->n_files; i++)
    run->file_names[i] = cap_source_name(src, i);
  unsigned warnings = 0;
  int status = PL_EXIT_RUNTIME;
  struct pl_warnings warned = {0};
  run->warned = &warned;
  /* Each chain verified once per run, whichever thread sees it; evidence
   * for grading only (--handshakes prints each session as it ends). */
  if (s->mode != PL_MODE_FLOWS && !(run->memo = ev_trust_memo_new(s->trust_memo_entries)))
    cap_message("out of memory");
  else if (s->mode == PL_MODE_GRADE && !(run->ev = ev_store_new()))
    cap_message("out of memory");
  else if (s->mode == PL_MODE_GRADE && s->interval && s->save_evidence &&
           pl_evidence_is_dir(s->save_evidence) && !(run->delta = ev_store_new()))
    cap_message("out of memory");
  else {
    for (int i = 0; i < 2; i++) {
      struct ev_store *ev = i ? run->delta : run->ev;
      if (ev) {
        ev_store_set_limit(ev, s->max_endpoints);
        ev_store_set_client_limit(ev, s->max_clients);
        ev_store_set_sent_chain_limits(ev, s->max_sent_chains, s->max_sent_certs);
        ev_store_set_chain_limits(ev, s->max_chain_cas, s->max_chain_pending);
      }
    }
    status = read_all(run, src, &warnings);
  }
  status = finish(run, status, warnings);
  int closed = pl_close_output(s, run->out, PL_EXIT_OK);
  if (closed != PL_EXIT_OK)
    status = closed;
  else
    pl_say_written(run, run->evidence_saved);
  ev_store_free(run->ev);
  ev_store_free(run->delta);
  x509_trust_memo_free(run->memo);
  x509_cache_free(run->certs);
  free(run->file_names);
  pl_warnings_free(&warned);
  return status;
}

static int run_with_keylog(const struct pl_settings *s, char *const *inputs, size_t n_inputs,
                           const struct tls_keylog *keylog, struct pl_counters *count) {
  struct x509_store *trust = NULL;
  if (s->mode != PL_MODE_FLOWS && !(trust = pl_open_trust(s)) && (s->ca_file || s->ca_path))
    return PL_EXIT_RUNTIME; /* a trust store asked for by name must load */
  struct x509_pool *intermediates;
  if (!pl_load_intermediates(s, &intermediates)) {
    x509_store_close(trust);
    return PL_EXIT_RUNTIME;
  }
  bool bad_weak_keys;
  struct x509_weak_keys *weak_keys = load_weak_keys(s, &bad_weak_keys);
  struct cap_source *src = bad_weak_keys ? NULL : open_source(s, inputs, n_inputs);
  if (src && s->iface && s->source_opened && s->source_opened(s->source_opened_ctx) != 0) {
    cap_source_free(src);
    src = NULL;
  }
  /* The evidence, and with --interval the report, are only ever replaced
   * whole (atomic.c); check now, as the capture's user, that they can be. */
  FILE *out = !src || pl_probe_evidence(s) < 0 ? NULL
              : s->interval                    ? pl_probe_atomic_output(s)
                                               : pl_open_output(s);
  int status = PL_EXIT_RUNTIME;
  if (out) {
    struct run run = {.set = s,
                      .out = out,
                      .count = count,
                      .trust = trust,
                      .intermediates = intermediates,
                      .weak_keys = weak_keys,
                      .keylog = keylog};
    status = run_source(&run, src);
  }
  cap_source_free(src);
  x509_store_close(trust);
  x509_pool_free(intermediates);
  x509_weak_keys_free(weak_keys);
  return status;
}

int pl_run_capture(const struct pl_settings *s, char *const *inputs, size_t n_inputs,
                   struct pl_counters *counted) {
  struct pl_counters count = {0};
  struct tls_keylog *keylog = NULL;
  int status = PL_EXIT_RUNTIME;
  if (s->mode != PL_MODE_FLOWS && pl_check_trust_paths(s) < 0)
    return PL_EXIT_RUNTIME;
  if (!s->n_keylog_files || s->mode == PL_MODE_FLOWS || (keylog = load_keylogs(s)))
    status = run_with_keylog(s, inputs, n_inputs, keylog, &count);
  tls_keylog_free(keylog);
  if (counted)
    *counted = count;
  return status;
}
