/*
 * pipeline/internal.h - what the files of pipeline/ share (private).
 */
#ifndef TLSGRADE_PIPELINE_INTERNAL_H
#define TLSGRADE_PIPELINE_INTERNAL_H

#include "pipeline.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* What the report says besides stderr (lines.c): an input cut short, a
 * key log that opened nothing.  Capped: beyond PL_MAX_WARNINGS only
 * counted (stderr has them all). */
#define PL_MAX_WARNINGS 32
struct pl_warnings {
  char *text[PL_MAX_WARNINGS];
  size_t n;
  uint64_t more;
};
void pl_warnings_keep(struct pl_warnings *w, const char *text);
void pl_warn(struct pl_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pl_warnings_free(struct pl_warnings *w);

/* One reader of packets: the run itself, or one -j worker.  Borrowed
 * pointers (settings, out, file names, cache, trust store and memo, key
 * log) belong to the run; a worker owns only its counters and evidence
 * store. */
struct run {
  const struct pl_settings *set;
  FILE *out;
  struct pl_counters *count;
  const char **file_names; /* by file_index */
  size_t n_files;
  struct ev_store *ev; /* grading: the evidence; else NULL */
  /* --interval with --save-evidence DIR/: the evidence of the connections
   * ended since the last snapshot (evidence_dir.c); else NULL. */
  struct ev_store *delta;
  struct x509_cache *certs;               /* certificates already read (shared) */
  struct x509_store *trust;               /* NULL when not loaded */
  struct x509_trust_memo *memo;           /* chains already verified (shared) */
  const struct x509_pool *intermediates;  /* --intermediates, NULL without */
  const struct x509_weak_keys *weak_keys; /* NULL: none given */
  const struct tls_keylog *keylog;        /* --keylog, NULL without */
  struct tls_budget budget;               /* this thread's connections' record buffers */
  struct pl_warnings *warned;             /* the run's (the reading thread adds) */
  bool input_failed;                      /* an input could not be opened: no report */
  /* The run's own (not a worker's): */
  struct cap_source *src;                     /* being read */
  bool progress;                              /* live.c: a progress line on stderr */
  unsigned long long ticks, ticks_per_report; /* live.c: --interval reports */
  bool reported, evidence_saved;              /* the end: what was written */
};

/* live.c */
void pl_live_begin(struct run *run, struct cap_source *src); /* progress line, --interval */
void pl_live_end(struct run *run);                           /* the reading is over */
void pl_sync_names(struct run *run);                         /* the -w files so far */
void pl_say_written(const struct run *run, bool evidence_saved);

/* glue.c: the flow table's callbacks for this run's mode. */
struct cap_callbacks pl_glue_callbacks(struct run *run);

/* nDPI runs for --flows only (glue.c says why). */
bool pl_use_ndpi(const struct pl_settings *s);

/* workers.c: read src with s->jobs threads; 0, or -1 with err set. */
int pl_read_threaded(struct run *run, struct cap_source *src, struct cap_decoder *dec,
                     unsigned *warnings, char *err, size_t errlen);

/* lines.c */
void pl_print_json_line(FILE *out, cJSON *o); /* takes o */
cJSON *pl_flow_json(const struct flow *f, enum flow_end_reason why);
cJSON *pl_stats_json(const struct run *run, unsigned warnings);
cJSON *pl_limits_json(const struct run *run);
/* One row of it: {"limit": limit, "hits": hits}. */
cJSON *pl_limit_row(double limit, uint64_t hits);

/* atomic.c: a file replaced whole (temp file in its directory, fsync,
 * rename).  open, then exactly one of commit or abort; err names path. */
struct pl_atomic {
  const char *path; /* borrowed */
  char *tmp;        /* the fresh name, owned */
  FILE *f;
};
FILE *pl_atomic_open(struct pl_atomic *a, const char *path, char *err, size_t errlen);
int pl_atomic_commit(struct pl_atomic *a, char *err, size_t errlen);
void pl_atomic_abort(struct pl_atomic *a);
/* Can path be replaced (by this process's user)?  0, or -1 with err (and
 * errno).  Leaves nothing behind. */
int pl_atomic_probe(const char *path, char *err, size_t errlen);

/* report.c */
/* A report is being made from here to pl_report_end: a signal meanwhile
 * abandons it (pipeline.h, struct pl_stop). */
void pl_report_begin(const struct pl_settings *s);
void pl_report_end(const struct pl_settings *s);
bool pl_report_abandoned(const struct pl_settings *s);
/* "stopped by a signal while DURING: no report written", and where the
 * evidence is when it was saved. */
void pl_say_abandoned(const struct pl_settings *s, const char *during, bool evidence_saved);
enum { PL_STOPPED = -1 }; /* pl_write_report, pl_atomic_report: abandoned */
int pl_write_report(const struct pl_settings *s, FILE *out, const struct ev_store *ev,
                    const char *const *inputs, size_t n_inputs, cJSON *limits, cJSON *stats,
                    const struct pl_warnings *warned, bool trust_loaded);
FILE *pl_open_output(const struct pl_settings *s);
int pl_close_output(const struct pl_settings *s, FILE *out, int status);
FILE *pl_probe_atomic_output(const struct pl_settings *s);
/* "tlsgrade: PREFIXerr", with what to do when -Z's user was refused. */
void pl_say_cannot_write(const struct pl_settings *s, const char *prefix, const char *err,
                         int errnum);
int pl_probe_evidence(const struct pl_settings *s); /* 0, or -1 said on stderr */
int pl_save_evidence(const struct pl_settings *s, const struct ev_store *ev);
/* run.c: the trust store and the --intermediates bundle as settings name
 * them (false: a bundle named did not load, said on stderr). */
struct x509_store *pl_open_trust(const struct pl_settings *s);
int pl_check_trust_paths(const struct pl_settings *s); /* 0, or -1 said on stderr */
bool pl_load_intermediates(const struct pl_settings *s, struct x509_pool **pool);
int pl_atomic_report(struct run *run, unsigned warnings);

/* evidence_dir.c: --save-evidence DIR/ (a path ending in '/' or a
 * directory) writes snapshots under names of their own; merge reads
 * directories and patterns.  Names from pl_expand_evidence are freed with
 * pl_free_names. */
bool pl_evidence_is_dir(const char *path);
int pl_evidence_snapshot_name(const struct pl_settings *s, char *out, size_t len);
int pl_expand_evidence(char *const *args, size_t n, char ***out, size_t *n_out, char *err,
                       size_t errlen);
void pl_free_names(char **v, size_t n);

/* history.c: one statement with parameters $1..$np (NULL: SQL NULL) on
 * either engine; row (may be NULL) gets each row of the answer (col[i]
 * NULL for SQL NULL, at most 16 columns) and stops it by returning < 0.
 * 0, or -1 with err set. */
typedef int (*history_row_fn)(void *ctx, const char *const *col, int ncol);
int pl_history_exec(struct pl_history *h, const char *sql, const char *const *p, int np,
                    history_row_fn row, void *ctx, char *err, size_t errlen);
/* history_show.c: report_meta.past_html for an HTML report with --history. */
void pl_history_past_html(void *ctx, FILE *out, const struct ev_endpoint *ep);

#endif
