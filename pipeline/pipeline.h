/*
 * pipeline/pipeline.h - one run of tlsgrade: captures in, a report (or
 * --flows/--handshakes lines) out.  The public face of pipeline/, the layer
 * above grade/ and below the command line.
 *
 * The command line fills a struct pl_settings and calls pl_run_capture()
 * or pl_run_merge(); tests and fuzz targets do the same, so every caller
 * runs the one glue:
 *
 *   glue.c       per flow: the dissector made at a flow's first payload,
 *                clear-text HTTP sniffed, skip/headers-only fed back to the
 *                flow table, a session handed to the evidence (or printed)
 *                when its flow closes or ends
 *   workers.c    -j N: a flow table and evidence store per thread, folded
 *                back into the run at the end
 *   lines.c      the --flows lines and the stats/limits objects of reports
 *   report.c     grading on N threads, the report in its format, the output
 *                file, merge of saved evidence
 *   atomic.c     files replaced whole (--interval report, saved evidence):
 *                a fresh temporary name, fsync, rename
 *   evidence_dir.c  --save-evidence DIR/ snapshots; merge of directories
 *                and patterns
 *   history.c    --history: each report appended to SQLite or PostgreSQL
 *   history_show.c  tlsgrade history: each server's timeline
 *   run.c        a capture run: trust store, key logs, weak keys, the source,
 *                reading, the end of the run
 *   live.c       a live run's checks before the interface opens, progress
 *                line, --interval ticks, -w file names, "written to" lines
 */
#ifndef TLSGRADE_PIPELINE_H
#define TLSGRADE_PIPELINE_H

#include "grade/grade.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses (README "Exit status"). */
enum {
  PL_EXIT_OK = 0,
  PL_EXIT_RUNTIME = 1,
  PL_EXIT_USAGE = 2,
  PL_EXIT_BELOW = 3,     /* --fail-below: a server graded below the grade (--profile: fails it) */
  PL_EXIT_NO_SERVER = 4, /* --fail-below, --profile: no server was graded at all */
};

enum pl_mode { PL_MODE_GRADE, PL_MODE_FLOWS, PL_MODE_HANDSHAKES };
/* ZEEK: per connection (it makes --handshakes of a grading run).  ECS: a
 * document per connection as it ends, and when grading, one per failed
 * check per server in the report. */
enum pl_format {
  PL_FORMAT_TEXT,
  PL_FORMAT_JSON,
  PL_FORMAT_HTML,
  PL_FORMAT_ZEEK,
  PL_FORMAT_ECS,
  PL_FORMAT_CBOM
};

/* A stop asked for by a signal.  The command line owns one (static) and
 * calls pl_stop_request() from its handler; the run watches it through the
 * settings.  Read and written only by pl_stop_* and the run.
 *
 * A signal while packets are read ends the reading, and the report is
 * written (tcpdump's and Zeek's Ctrl-C).  A signal while a report is made
 * (evidence loaded for merge, servers graded) abandons it: whoever stops
 * a run that is already reporting does not want to wait for it, and half
 * a report would omit servers without a word. */
struct pl_stop {
  volatile sig_atomic_t requested;    /* a signal came, maybe before the run */
  volatile sig_atomic_t reporting;    /* a report is being made (report.c) */
  volatile sig_atomic_t abandon;      /* a signal came while it was */
  struct cap_source *volatile source; /* the source being read, or NULL */
};

/* Async-signal-safe: ends the running source's reading loop, or the run's
 * reading before it starts, or the report being made. */
void pl_stop_request(struct pl_stop *stop);

/* Everything a run is told.  Strings and arrays are borrowed from the
 * caller (argv) and must outlive the run. */
struct pl_settings {
  enum pl_mode mode;
  enum pl_format format;
  const char *iface;         /* -i: live capture; NULL: the inputs are files */
  const char *bpf;           /* -f */
  const char *output;        /* -o; NULL: standard output */
  const char *save_evidence; /* --save-evidence */
  const char *fail_below;    /* --fail-below: a valid grade, or NULL */
  const char *profile;       /* --profile: a profile id (grade_profile_find), or NULL */
  const char *ca_file, *ca_path;
  const char *intermediates;    /* --intermediates: PEM file or directory, NULL: none */
  const char *const *weak_keys; /* --weak-keys paths */
  size_t n_weak_keys;
  size_t max_weak_keys;            /* --limit weak-keys */
  size_t max_keylog_entries;       /* --limit keylog-entries: connections' secrets */
  size_t max_endpoints;            /* --limit endpoints: of each class (grade.h) */
  size_t max_clients;              /* --limit clients: clients, and per-server rows (grade.h) */
  size_t max_sent_chains;          /* --limit sent-chains: chains as sent kept per endpoint */
  size_t max_sent_certs;           /* --limit sent-chain-certs: certificates kept per chain */
  const char *const *keylog_files; /* --keylog, in order */
  size_t n_keylog_files;
  long long interval; /* --interval: rewrite the report every N seconds */
  unsigned jobs;      /* -j: threads (1: everything in the calling thread) */
  int color;          /* text report: -1 auto (a terminal), 0 off, 1 on */
  bool summary_only;
  bool verbose; /* text report: every undecided check on its own line */
  bool no_ndpi;
  struct cap_live_options live; /* iface and bpf are taken from above */
  struct cap_limits limits;
  struct tls_limits tls_limits;
  size_t cert_cache_entries; /* certificates remembered per run */
  size_t trust_memo_entries; /* trust verdicts remembered per run */
  size_t max_chain_cas;      /* CA certificates remembered to complete chains */
  size_t max_chain_pending;  /* incomplete chains waiting for them */
  struct pl_stop *stop;      /* NULL: no signal can stop the run */
  /* Live capture: called once the interface is open and before the first
   * packet is read (the command line drops privileges there); non-zero
   * ends the run with PL_EXIT_RUNTIME. */
  int (*source_opened)(void *ctx);
  void *source_opened_ctx;
  /* --history: every report appended (history.c); NULL: none.  Opened by
   * the caller before the run, so a live capture opens it before -Z. */
  struct pl_history *history;
  const char *history_kind; /* "capture", "live", "interval" or "merge" */
  const char *sensor;       /* --sensor; NULL: the host name */
};

/* The defaults the README documents. */
void pl_settings_default(struct pl_settings *s);

/* What a run counted: the capture layer's statistics and the dissector's.
 * Each -j worker counts its own; pl_counters_add() folds them. */
struct pl_counters {
  struct cap_stats cap;
  uint64_t flows_printed;      /* --flows lines */
  uint64_t handshakes_printed; /* --handshakes lines */
  uint64_t flows_ended;        /* flows the table ended: at the end, every flow it made */
  uint64_t sessions;           /* dissector states handed over at their flow's end */
  uint64_t tls_connections;    /* of those, TLS/SSL/DTLS/QUIC ones */
  /* Of those, no evidence or only against the server (README "What
   * counts as evidence"): server flights without a ClientHello, server
   * hellos that did not answer the client's, handshakes the client
   * aborted. */
  uint64_t unverified_flights;
  uint64_t protocol_violations;
  uint64_t client_aborts;
  uint64_t quic_unsupported_version; /* QUIC flows of a Google version not read (Q050) */
  uint64_t cap_handshake;            /* handshake-bytes cap hits */
  uint64_t cap_buffer_total;         /* handshake-buffers cap hits */
  uint64_t cap_quic_crypto;          /* QUIC CRYPTO pieces not held (bytes or pieces cap) */
  uint64_t cap_dtls_pieces;          /* DTLS fragments not held: pieces cap */
  uint64_t cap_chain;                /* certificates-per-chain cap hits */
  uint64_t cap_history;              /* plaintext messages past max_history (ssl_history) */
  uint64_t cap_starttls;             /* connections whose clear text passed max_starttls_bytes */
  uint64_t cap_h3_streams;           /* connections with an HTTP/3 stream past max_h3_streams */
  uint64_t cap_h3_section;           /* connections with a field section past max_h3_section */
  uint64_t handshakes_evicted;       /* ClientHellos whose flow was evicted before any answer */
  uint64_t decrypt[TLS_DECRYPT_FAILED + 1]; /* connections by decryption outcome */
};

void pl_counters_add(struct pl_counters *into, const struct pl_counters *from);

/* Read the captures (or s->iface) and write what s->mode asks for.
 * Returns the exit status; *counted (may be NULL) gets the run's counters. */
int pl_run_capture(const struct pl_settings *s, char *const *inputs, size_t n_inputs,
                   struct pl_counters *counted);

/* A live capture: can the files the run writes (-o, --save-evidence, -w)
 * be written by this process's effective user?  0, or -1 said on stderr.
 * The command line calls it before the interface is opened, as the -Z
 * user. */
int pl_probe_outputs(const struct pl_settings *s);

/* --history DB (history.c): DB is an SQLite file, or a postgresql:// or
 * postgres:// URL (PostgreSQL through libpq); one schema for both.
 * create: make the file and the tables when missing (appending); without,
 * only an existing history is read.  NULL with err set on failure. */
struct pl_history;
bool pl_history_is_url(const char *where);
struct pl_history *pl_history_open(const char *where, const char *sensor, bool create, char *err,
                                   size_t errlen);
void pl_history_close(struct pl_history *h);
/* One report: a run row and a row per graded server (two for a server that
 * changed its configuration: a row per period).  0, or -1 with err set. */
int pl_history_append(struct pl_history *h, const char *kind, const struct grade_result *const *r,
                      size_t n, const char *const *inputs, size_t n_inputs, char *err,
                      size_t errlen);
/* tlsgrade history DB [HOST]: each server's timeline in s->format. */
int pl_run_history(const struct pl_settings *s, const char *where, const char *host);

/* Grade saved evidence files together (tlsgrade merge). */
int pl_run_merge(const struct pl_settings *s, char *const *files, size_t n_files);

#endif
