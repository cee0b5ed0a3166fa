/*
 * pipeline/report.c - from evidence to a report: the servers graded (on
 * -j threads), sorted worst first, written in the asked format to the
 * output (replaced atomically for --interval); and merge, which grades
 * saved evidence files together.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* The results grade_endpoints allocated (NULL: none), and their array. */
static void free_results(struct grade_result **r, size_t n) {
  for (size_t i = 0; r && i < n; i++)
    free(r[i]);
  free(r);
}

static int compare_results(const void *a, const void *b) {
  const struct grade_result *x = *(const struct grade_result *const *)a;
  const struct grade_result *y = *(const struct grade_result *const *)b;
  int c = grade_letter_cmp(y->letter, x->letter); /* worst first */
  if (!c) /* then the store's order (ev_endpoint_at): qsort need not be stable */
    c = strcmp(x->ep->host, y->ep->host);
  if (!c)
    c = strcmp(x->ep->ip, y->ep->ip);
  return c ? c : (int)x->ep->port - (int)y->ep->port;
}

/* The text summary's width on standard output: COLUMNS when set, else
 * the terminal's; a file, or a pipe without COLUMNS, gets REPORT_COLUMNS,
 * the same wherever it is made. */
static unsigned text_columns(FILE *out) {
  if (out != stdout)
    return REPORT_COLUMNS;
  const char *env = getenv("COLUMNS");
  char *end;
  unsigned long n = env ? strtoul(env, &end, 10) : 0;
  if (env && *env && !*end && n > 0 && n < 10000)
    return (unsigned)n;
  struct winsize ws;
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
    return ws.ws_col;
  return REPORT_COLUMNS;
}

/* The report's time: SOURCE_DATE_EPOCH when set (reproducible reports),
 * else now. */
static cap_time_us report_time(void) {
  const char *env = getenv("SOURCE_DATE_EPOCH");
  char *end;
  long long t = env ? strtoll(env, &end, 10) : 0;
  if (!env || !*env || *end || t <= 0)
    t = (long long)time(NULL);
  return (cap_time_us)t * 1000000;
}

static void render(const struct pl_settings *s, FILE *out, const struct grade_result **order,
                   size_t n, struct report_meta *meta) {
  if (s->format == PL_FORMAT_JSON) {
    report_json(out, order, n, meta);
  } else if (s->format == PL_FORMAT_HTML) {
    report_html(out, order, n, meta);
  } else if (s->format == PL_FORMAT_ECS) {
    report_ecs(out, order, n);
  } else if (s->format == PL_FORMAT_CBOM) {
    report_cbom(out, order, n);
  } else {
    bool color = s->color < 0 ? (out == stdout && isatty(STDOUT_FILENO)) : s->color > 0;
    meta->columns = text_columns(out);
    report_text(out, order, n, meta, color, !s->summary_only);
  }
}

void pl_report_begin(const struct pl_settings *s) {
  if (s->stop) { /* a signal between these two lines only stops the capture */
    s->stop->abandon = 0;
    s->stop->reporting = 1;
  }
}

void pl_report_end(const struct pl_settings *s) {
  if (s->stop)
    s->stop->reporting = 0;
}

bool pl_report_abandoned(const struct pl_settings *s) {
  return s->stop && s->stop->abandon;
}

void pl_say_abandoned(const struct pl_settings *s, const char *during, bool evidence_saved) {
  if (evidence_saved && s->save_evidence)
    cap_message("stopped by a signal while %s: no report written; the evidence is in %s "
                "(tlsgrade merge writes its report)",
                during, s->save_evidence);
  else
    cap_message("stopped by a signal while %s: no report written", during);
}

/* --fail-below: status 3 when a server grades below it, each named on
 * stderr (worst first, as the report); 4 when no server was graded at
 * all, which a pipeline must not read as "all servers are fine". */
static int fail_below_status(const struct pl_settings *s, const struct grade_result *const *order,
                             size_t n) {
  if (!s->fail_below)
    return PL_EXIT_OK;
  int status = PL_EXIT_NO_SERVER;
  for (size_t i = 0; i < n; i++) {
    const struct grade_result *r = order[i];
    if (!r->graded || report_no_sni_folded(r)) /* no letter of its own */
      continue;
    if (status == PL_EXIT_NO_SERVER)
      status = PL_EXIT_OK;
    if (grade_letter_cmp(r->letter, s->fail_below) > 0) {
      cap_message(strchr(r->ep->ip, ':') ? "--fail-below %s: %s [%s]:%u grades %s"
                                         : "--fail-below %s: %s %s:%u grades %s",
                  s->fail_below, r->ep->host, r->ep->ip, r->ep->port, r->letter);
      status = PL_EXIT_BELOW;
    }
  }
  if (status == PL_EXIT_NO_SERVER)
    cap_message("--fail-below %s: no TLS server was graded (exit status %d)", s->fail_below,
                PL_EXIT_NO_SERVER);
  return status;
}

/* --profile: status 3 when a graded server fails the profile, each named
 * on stderr with the first failed item's evidence (worst grade first, as
 * the report); 4 when no server was graded, as --fail-below. */
static int profile_status(const struct pl_settings *s, const struct grade_result *const *order,
                          size_t n) {
  int index = s->profile ? grade_profile_find(s->profile) : -1;
  if (index < 0)
    return PL_EXIT_OK;
  int status = PL_EXIT_NO_SERVER;
  for (size_t i = 0; i < n; i++) {
    const struct grade_result *r = order[i];
    struct grade_profile_result p;
    if (!r->graded || report_no_sni_folded(r) || !grade_profile(r, (size_t)index, &p))
      continue;
    if (status == PL_EXIT_NO_SERVER)
      status = PL_EXIT_OK;
    const struct grade_profile_item *failed = grade_profile_failed_item(&p);
    if (!failed)
      continue;
    const struct ev_fact *f = failed->n_evidence ? failed->evidence[0] : NULL;
    cap_message(strchr(r->ep->ip, ':') ? "--profile %s: %s [%s]:%u fails %s (%s: %s:%llu)"
                                       : "--profile %s: %s %s:%u fails %s (%s: %s:%llu)",
                s->profile, r->ep->host, r->ep->ip, r->ep->port, failed->id, f ? f->key : "-",
                f && f->sample.file ? f->sample.file : "-",
                f ? (unsigned long long)f->sample.frame : 0ULL);
    status = PL_EXIT_BELOW;
  }
  if (status == PL_EXIT_NO_SERVER)
    cap_message("--profile %s: no TLS server was graded (exit status %d)", s->profile,
                PL_EXIT_NO_SERVER);
  return status;
}

/* A report a signal cut short: a file keeps nothing of it (from where it
 * began); on a pipe or terminal, what was written stays. */
static void unwrite(FILE *out, long start) {
  if (start >= 0 && fflush(out) == 0 && ftruncate(fileno(out), start) == 0)
    fseek(out, start, SEEK_SET);
}

/* Grade every endpoint and write the report; returns the exit status, or
 * PL_STOPPED (nothing written) when a signal abandons the report. */
int pl_write_report(const struct pl_settings *s, FILE *out, const struct ev_store *ev,
                    const char *const *inputs, size_t n_inputs, cJSON *limits, cJSON *stats,
                    const struct pl_warnings *warned, bool trust_loaded) {
  const volatile sig_atomic_t *stop = s->stop ? &s->stop->abandon : NULL;
  /* Derived facts are never saved. */
  if (pl_report_abandoned(s) || !ev_derive_facts((struct ev_store *)ev, stop))
    return PL_STOPPED;
  size_t most = ev_count(ev) ? ev_count(ev) : 1;
  const struct ev_endpoint **eps = calloc(most, sizeof(*eps));
  const struct ev_endpoint **unverified = calloc(most, sizeof(*unverified));
  struct report_hello_only hello = {0};
  size_t n = 0, n_unverified = 0;
  for (size_t i = 0; eps && unverified && i < ev_count(ev); i++) {
    const struct ev_endpoint *ep = ev_endpoint_at(ev, i);
    /* Else a plain-http endpoint (its facts went to its TLS ones), or an
     * address known only from unverified flights.  One seen only in
     * ClientHellos decides no check: folded, not graded. */
    if (ev_hello_only(ep))
      report_hello_only_add(&hello, ep);
    else if (ev_find_id(ep, EV_HANDSHAKES, NULL))
      eps[n++] = ep;
    if (ev_find_id(ep, EV_UNVERIFIED, NULL))
      unverified[n_unverified++] = ep;
  }
  /* The report's order: pointers sorted, so no 3 kB result moves.  Each
   * result is allocated by the thread that grades it (grade_endpoints),
   * and a run stopped before every one is graded reports none. */
  struct grade_result **r = calloc(n ? n : 1, sizeof(*r));
  if (!r || !eps || !unverified) {
    free(r);
    free(eps);
    free(unverified);
    return PL_EXIT_RUNTIME;
  }
  int graded = pl_report_abandoned(s) ? GRADE_STOPPED : grade_endpoints(eps, n, r, s->jobs, stop);
  free(eps);
  if (graded != GRADE_ALL) {
    free_results(r, n);
    free(unverified);
    if (graded == GRADE_NO_MEMORY)
      cap_message("out of memory grading %zu servers", n);
    return graded == GRADE_NO_MEMORY ? PL_EXIT_RUNTIME : PL_STOPPED;
  }
  const struct grade_result **order = (const struct grade_result **)r;
  qsort(order, n, sizeof(*order), compare_results);
  const char *said[PL_MAX_WARNINGS + 1];
  char more[96];
  size_t n_said = 0;
  for (size_t i = 0; warned && i < warned->n; i++)
    said[n_said++] = warned->text[i];
  if (warned && warned->more) {
    snprintf(more, sizeof(more), "%llu more warning(s) on standard error",
             (unsigned long long)warned->more);
    said[n_said++] = more;
  }
  struct report_meta meta = {.inputs = inputs,
                             .n_inputs = n_inputs,
                             .limits = limits,
                             .stats = stats,
                             .jobs = s->jobs,
                             .unverified = unverified,
                             .n_unverified = n_unverified,
                             .warnings = said,
                             .n_warnings = n_said,
                             .hello_only = hello.servers ? &hello : NULL,
                             .stop = stop,
                             .generated = report_time(),
                             .ca_file = s->ca_file,
                             .ca_path = s->ca_path,
                             .trust_loaded = trust_loaded,
                             .from_evidence = !stats,
                             .keylogs = s->keylog_files,
                             .n_keylogs = s->n_keylog_files,
                             .verbose = s->verbose,
                             .evidence = ev};
  if (s->history && s->format == PL_FORMAT_HTML) {
    meta.past_html = pl_history_past_html;
    meta.past_ctx = s->history;
  }
  long start = ftell(out);
  render(s, out, order, n, &meta);
  if (pl_report_abandoned(s)) {
    unwrite(out, start);
    free_results(r, n);
    free(unverified);
    return PL_STOPPED;
  }
  int status = fail_below_status(s, order, n);
  int profile = profile_status(s, order, n);
  if (status == PL_EXIT_OK || (status == PL_EXIT_NO_SERVER && profile == PL_EXIT_BELOW))
    status = profile;
  /* After the report: a database that refuses the rows loses no report. */
  char err[1024];
  if (s->history && pl_history_append(s->history, s->history_kind ? s->history_kind : "capture",
                                      order, n, inputs, n_inputs, err, sizeof err) < 0) {
    cap_message("%s", err);
    status = PL_EXIT_RUNTIME;
  }
  free_results(r, n);
  free(unverified);
  return status;
}

void pl_say_cannot_write(const struct pl_settings *s, const char *prefix, const char *err,
                         int errnum) {
  /* the effective uid: checked as the -Z user before the drop (live.c) */
  if ((errnum == EACCES || errnum == EPERM) && s->iface && geteuid() != 0)
    cap_message("%s%s (the capture runs as uid %u after -Z; write the "
                "report, evidence and -w packets where that user may, or use -Z root)",
                prefix, err, (unsigned)geteuid());
  else
    cap_message("%s%s", prefix, err);
}

FILE *pl_open_output(const struct pl_settings *s) {
  if (!s->output)
    return stdout;
  FILE *out = fopen(s->output, "w");
  if (!out) {
    int errnum = errno;
    char err[4200];
    snprintf(err, sizeof(err), "%s: %s", s->output, strerror(errnum));
    pl_say_cannot_write(s, "", err, errnum);
  }
  return out;
}

int pl_close_output(const struct pl_settings *s, FILE *out, int status) {
  if (out != stdout && fclose(out) != 0) {
    cap_message("%s: %s", s->output, strerror(errno));
    return PL_EXIT_RUNTIME;
  }
  if (out == stdout && fflush(stdout) != 0)
    return PL_EXIT_RUNTIME;
  return status;
}

/* --interval replaces the report whole (atomic.c): make sure that will
 * work, without creating FILE (a reader must never see it empty). */
FILE *pl_probe_atomic_output(const struct pl_settings *s) {
  char err[4200];
  if (pl_atomic_probe(s->output, err, sizeof(err)) < 0) {
    pl_say_cannot_write(s, "", err, errno);
    return NULL;
  }
  return stdout; /* nothing else goes to stdout in this mode */
}

/* --save-evidence is written at the end (and each --interval): check at
 * the start, as the capture's user, that it can be, rather than lose a
 * whole capture's evidence to "Permission denied". */
int pl_probe_evidence(const struct pl_settings *s) {
  char err[4200], name[4096];
  const char *path = s->save_evidence;
  if (path && pl_evidence_is_dir(path)) {
    if (pl_evidence_snapshot_name(s, name, sizeof name) < 0) {
      cap_message("--save-evidence: %s: name too long", path);
      return -1;
    }
    path = name; /* the snapshots' directory must take a new file */
  }
  if (path && pl_atomic_probe(path, err, sizeof(err)) < 0) {
    pl_say_cannot_write(s, "--save-evidence: ", err, errno);
    return -1;
  }
  return 0;
}

int pl_save_evidence(const struct pl_settings *s, const struct ev_store *ev) {
  char err[4200], name[4096];
  struct pl_atomic a;
  const char *path = s->save_evidence;
  if (!path)
    return 0;
  if (pl_evidence_is_dir(path) && pl_evidence_snapshot_name(s, name, sizeof name) == 0)
    path = name; /* a snapshot of its own (evidence_dir.c) */
  if (!pl_atomic_open(&a, path, err, sizeof(err)))
    goto fail;
  if (ev_write(ev, a.f) < 0) {
    snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
    pl_atomic_abort(&a);
    goto fail;
  }
  if (pl_atomic_commit(&a, err, sizeof(err)) == 0)
    return 0;
fail:
  cap_message("--save-evidence: %s", err);
  return -1;
}

/* --interval: the evidence so far replaces the file, or into a directory
 * a snapshot of what ended since the last one (none when nothing did). */
static int save_interval_evidence(struct run *run) {
  if (!run->delta)
    return pl_save_evidence(run->set, run->ev);
  if (!ev_count(run->delta))
    return 0;
  struct ev_store *next = ev_store_new();
  if (!next) {
    cap_message("out of memory");
    return -1;
  }
  int rc = pl_save_evidence(run->set, run->delta);
  if (rc == 0) { /* else it stays, and the next snapshot holds it too */
    ev_store_free(run->delta);
    run->delta = next;
  } else {
    ev_store_free(next);
  }
  return rc;
}

/* --interval: grade what has ended so far and replace the report file in
 * one rename, so a reader never sees half a report.  A signal meanwhile
 * leaves the last report in place (PL_STOPPED); the evidence is saved. */
int pl_atomic_report(struct run *run, unsigned warnings) {
  const struct pl_settings *s = run->set;
  char err[4200];
  struct pl_atomic a;
  FILE *f = pl_atomic_open(&a, s->output, err, sizeof(err));
  if (!f) {
    cap_message("%s", err);
    return PL_EXIT_RUNTIME;
  }
  pl_report_begin(s);
  pl_sync_names(run);
  /* The capture goes on: chains waiting now may be completed by a later
   * intermediate, so this report completes them on a copy of the store. */
  struct ev_store *view = run->ev;
  if (ev_chains_waiting(run->ev) &&
      (!(view = ev_store_new()) ||
       (ev_store_set_limit(view, SIZE_MAX), ev_store_set_client_limit(view, SIZE_MAX),
        ev_store_set_chain_limits(view, s->max_chain_cas, s->max_chain_pending),
        ev_merge(view, run->ev)) < 0)) {
    ev_store_free(view);
    view = run->ev; /* out of memory: the facts so far, chains unknown */
  }
  if (view != run->ev)
    ev_complete_chains(view, run->trust, run->intermediates);
  cJSON *stats = pl_stats_json(run, warnings);
  cJSON *limits = pl_limits_json(run);
  int status = pl_write_report(s, f, view, run->file_names, run->n_files, limits, stats,
                               run->warned, run->trust != NULL);
  cJSON_Delete(stats);
  cJSON_Delete(limits);
  if (view != run->ev)
    ev_store_free(view);
  if (status == PL_STOPPED) {
    pl_atomic_abort(&a); /* the last report stays */
  } else if (pl_atomic_commit(&a, err, sizeof(err)) != 0) {
    cap_message("%s", err);
    status = PL_EXIT_RUNTIME;
  }
  run->evidence_saved = save_interval_evidence(run) == 0;
  if (!run->evidence_saved && status != PL_STOPPED)
    status = PL_EXIT_RUNTIME;
  pl_report_end(s);
  return status;
}

static int merge_files(const struct pl_settings *s, char *const *files, size_t n_files);

int pl_run_merge(const struct pl_settings *s, char *const *args, size_t n_args) {
  char err[1024], **files;
  size_t n_files;
  if (pl_expand_evidence(args, n_args, &files, &n_files, err, sizeof err) < 0) {
    cap_message("merge: %s", err);
    return PL_EXIT_RUNTIME;
  }
  int status = merge_files(s, files, n_files);
  pl_free_names(files, n_files);
  return status;
}

static int merge_files(const struct pl_settings *s, char *const *files, size_t n_files) {
  char err[1024];
  if (pl_check_trust_paths(s) < 0)
    return PL_EXIT_RUNTIME;
  pl_report_begin(s); /* loading is part of making this report */
  struct ev_store *all = ev_store_new();
  if (all) {
    ev_store_set_limit(all, s->max_endpoints);
    ev_store_set_client_limit(all, s->max_clients);
    ev_store_set_sent_chain_limits(all, s->max_sent_chains, s->max_sent_certs);
    ev_store_set_chain_limits(all, s->max_chain_cas, s->max_chain_pending);
  }
  for (size_t i = 0; all && i < n_files; i++) {
    if (pl_report_abandoned(s)) {
      pl_say_abandoned(s, "loading evidence", false);
      ev_store_free(all);
      return PL_EXIT_RUNTIME;
    }
    struct ev_store *one = ev_load(files[i], err, sizeof(err));
    if (!one) {
      cap_message("%s", err);
      ev_store_free(all);
      return PL_EXIT_RUNTIME;
    }
    int rc = ev_merge(all, one);
    ev_store_free(one);
    if (rc < 0) {
      cap_message("out of memory merging %s", files[i]);
      ev_store_free(all);
      return PL_EXIT_RUNTIME;
    }
  }
  /* Chains that waited in one file may be completed by another's
   * intermediates: decided now, with this run's trust store and bundle. */
  struct x509_store *trust = all && ev_chains_waiting(all) ? pl_open_trust(s) : NULL;
  struct x509_pool *bundle = NULL;
  bool ready = all && (trust || !ev_chains_waiting(all) || !(s->ca_file || s->ca_path)) &&
               pl_load_intermediates(s, &bundle);
  FILE *out = ready ? pl_open_output(s) : NULL;
  int status = PL_EXIT_RUNTIME;
  if (out && pl_save_evidence(s, all) == 0) {
    ev_complete_chains(all, trust, bundle);
    /* Merge has no capture's caps to report, but the endpoint cap it
     * applies (and the files' own hits): present when hit. */
    uint64_t client_hits[2], chain_hits = ev_sent_chain_hits(all);
    ev_client_cap_hits(all, client_hits);
    cJSON *limits = ev_endpoint_cap_hits(all) || client_hits[0] || client_hits[1] || chain_hits
                        ? cJSON_CreateObject()
                        : NULL;
    if (limits) {
      cJSON_AddItemToObject(limits, "endpoints",
                            pl_limit_row((double)s->max_endpoints, ev_endpoint_cap_hits(all)));
      cJSON_AddItemToObject(limits, "clients",
                            pl_limit_row((double)s->max_clients, client_hits[0]));
      cJSON_AddItemToObject(limits, "clients_per_server",
                            pl_limit_row((double)s->max_clients, client_hits[1]));
      cJSON_AddItemToObject(limits, "certificate_chains_per_endpoint",
                            pl_limit_row((double)s->max_sent_chains, chain_hits));
    }
    status = pl_write_report(s, out, all, (const char *const *)files, n_files, limits, NULL, NULL,
                             trust || !(s->ca_file || s->ca_path));
    cJSON_Delete(limits);
    if (status == PL_STOPPED) {
      pl_say_abandoned(s, "grading", true);
      status = PL_EXIT_RUNTIME;
    }
  }
  if (out)
    status = pl_close_output(s, out, status);
  x509_store_close(trust);
  x509_pool_free(bundle);
  ev_store_free(all);
  pl_report_end(s);
  return status;
}
