/*
 * pipeline/history.c - --history DB: every report (a capture run, a live
 * interval, a merge) appended to a database, and `tlsgrade history DB
 * [HOST]`, each server's grades oldest first with what changed
 * (history_show.c).
 *
 * Two engines, one schema: SQLite (a file; WAL, so several local sensors
 * may append to one file) and PostgreSQL (a postgresql:// or postgres://
 * URL, through libpq, for many sensors writing to one store).  Statements
 * are written once, with $1..$N parameters, which both engines read (in
 * SQLite "$1" is a named parameter; numbered in order of appearance, so
 * each statement uses each parameter once, in order).
 *
 * One row per server per report, and two when the server changed its
 * configuration during the capture (grade/score.c change_point): each
 * period is graded alone, so a capture spanning a fix shows both grades.
 * A row keeps what a timeline needs: the period (packet times), the grade
 * with and without trust, the score, how many checks were decided, the
 * failed checks, and a digest of the evidence (SHA-256 of its fact keys,
 * sorted) that says whether two reports rest on the same facts.
 */
#include "internal.h"
#include "base/dl.h"

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HISTORY_SCHEMA 1

struct pl_history {
  sqlite3 *lite; /* one of the two */
  PGconn *pg;
  char *sensor;
  char where[256]; /* for messages: the file, or the URL without its password */
};

/* ---- libpq, loaded when a PostgreSQL history is opened ----
 * Linked, libpq brought two dozen libraries (Kerberos, LDAP, GnuTLS...)
 * that every run loaded and started, some 7 ms of each start, for the
 * few that write to PostgreSQL.  Its functions are looked up once, the
 * first time a postgresql:// history is opened. */
static struct {
  bool loaded;
  __typeof__(PQconnectdb) *connectdb;
  __typeof__(PQstatus) *status;
  __typeof__(PQerrorMessage) *error_message;
  __typeof__(PQexec) *exec;
  __typeof__(PQsendQueryParams) *send_query_params;
  __typeof__(PQsetSingleRowMode) *set_single_row_mode;
  __typeof__(PQgetResult) *get_result;
  __typeof__(PQresultStatus) *result_status;
  __typeof__(PQnfields) *nfields;
  __typeof__(PQgetisnull) *getisnull;
  __typeof__(PQgetvalue) *getvalue;
  __typeof__(PQclear) *clear;
  __typeof__(PQfinish) *finish;
} pq;

/* A history engine's library, loaded: false with err naming the package
 * (`needs`) when it cannot be. */
static bool engine_load(const char *library, const char *needs, const struct dl_function fns[],
                        size_t n, char *err, size_t errlen) {
  char why[256];
  int rc = dl_functions(library, fns, n, why, sizeof why);
  if (rc == DL_NO_LIBRARY)
    snprintf(err, errlen, "%s: %s", needs, why);
  else if (rc == DL_NO_SYMBOL)
    snprintf(err, errlen, "%s", why);
  return rc == DL_LOADED;
}

static bool pq_load(char *err, size_t errlen) {
  const struct dl_function fns[] = {
      {"PQconnectdb", (void **)&pq.connectdb},
      {"PQstatus", (void **)&pq.status},
      {"PQerrorMessage", (void **)&pq.error_message},
      {"PQexec", (void **)&pq.exec},
      {"PQsendQueryParams", (void **)&pq.send_query_params},
      {"PQsetSingleRowMode", (void **)&pq.set_single_row_mode},
      {"PQgetResult", (void **)&pq.get_result},
      {"PQresultStatus", (void **)&pq.result_status},
      {"PQnfields", (void **)&pq.nfields},
      {"PQgetisnull", (void **)&pq.getisnull},
      {"PQgetvalue", (void **)&pq.getvalue},
      {"PQclear", (void **)&pq.clear},
      {"PQfinish", (void **)&pq.finish},
  };
  if (!pq.loaded)
    pq.loaded = engine_load("libpq.so.5", "a PostgreSQL history needs libpq (Debian: libpq5)", fns,
                            sizeof(fns) / sizeof(fns[0]), err, errlen);
  return pq.loaded;
}

/* ---- SQLite, loaded when an SQLite history is opened ----
 * Linked, its library cost every start some 0.6 ms, for the runs that
 * keep a history. */
static struct {
  bool loaded;
  __typeof__(sqlite3_open_v2) *open_v2;
  __typeof__(sqlite3_busy_timeout) *busy_timeout;
  __typeof__(sqlite3_errmsg) *errmsg;
  __typeof__(sqlite3_prepare_v2) *prepare_v2;
  __typeof__(sqlite3_bind_text) *bind_text;
  __typeof__(sqlite3_bind_null) *bind_null;
  __typeof__(sqlite3_step) *step;
  __typeof__(sqlite3_column_count) *column_count;
  __typeof__(sqlite3_column_text) *column_text;
  __typeof__(sqlite3_finalize) *finalize;
  __typeof__(sqlite3_close) *close;
} lite;

static bool lite_load(char *err, size_t errlen) {
  const struct dl_function fns[] = {
      {"sqlite3_open_v2", (void **)&lite.open_v2},
      {"sqlite3_busy_timeout", (void **)&lite.busy_timeout},
      {"sqlite3_errmsg", (void **)&lite.errmsg},
      {"sqlite3_prepare_v2", (void **)&lite.prepare_v2},
      {"sqlite3_bind_text", (void **)&lite.bind_text},
      {"sqlite3_bind_null", (void **)&lite.bind_null},
      {"sqlite3_step", (void **)&lite.step},
      {"sqlite3_column_count", (void **)&lite.column_count},
      {"sqlite3_column_text", (void **)&lite.column_text},
      {"sqlite3_finalize", (void **)&lite.finalize},
      {"sqlite3_close", (void **)&lite.close},
  };
  if (!lite.loaded)
    lite.loaded =
        engine_load("libsqlite3.so.0", "an SQLite history needs libsqlite3 (Debian: libsqlite3-0)",
                    fns, sizeof(fns) / sizeof(fns[0]), err, errlen);
  return lite.loaded;
}

/* ---- the two engines behind one call ---- */

static void say(char *err, size_t errlen, const struct pl_history *h, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* libpq's messages end with a newline */
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    msg[--n] = '\0';
  snprintf(err, errlen, "history %s: %s", h->where, msg);
}

static int lite_exec(struct pl_history *h, const char *sql, const char *const *p, int np,
                     history_row_fn row, void *ctx, char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  if (lite.prepare_v2(h->lite, sql, -1, &st, NULL) != SQLITE_OK) {
    say(err, errlen, h, "%s", lite.errmsg(h->lite));
    return -1;
  }
  for (int i = 0; i < np; i++) {
    int rc =
        p[i] ? lite.bind_text(st, i + 1, p[i], -1, SQLITE_TRANSIENT) : lite.bind_null(st, i + 1);
    if (rc != SQLITE_OK) {
      say(err, errlen, h, "%s", lite.errmsg(h->lite));
      lite.finalize(st);
      return -1;
    }
  }
  int rc, status = 0;
  while ((rc = lite.step(st)) == SQLITE_ROW) {
    const char *col[16] = {0};
    int n = lite.column_count(st);
    n = n > 16 ? 16 : n;
    for (int i = 0; i < n; i++)
      col[i] = (const char *)lite.column_text(st, i);
    if (row && row(ctx, col, n) < 0) {
      snprintf(err, errlen, "out of memory reading history %s", h->where);
      status = -1;
      break;
    }
  }
  if (!status && rc != SQLITE_DONE) {
    say(err, errlen, h, "%s", lite.errmsg(h->lite));
    status = -1;
  }
  lite.finalize(st);
  return status;
}

/* Rows one at a time (libpq's single-row mode): a timeline of a long
 * history is read in the memory of one row, never held whole. */
static int pg_exec(struct pl_history *h, const char *sql, const char *const *p, int np,
                   history_row_fn row, void *ctx, char *err, size_t errlen) {
  if (!pq.send_query_params(h->pg, sql, np, NULL, p, NULL, NULL, 0)) {
    say(err, errlen, h, "%s", pq.error_message(h->pg));
    return -1;
  }
  pq.set_single_row_mode(h->pg);
  int status = 0;
  PGresult *res;
  while ((res = pq.get_result(h->pg))) { /* to the end, so the connection is ready again */
    ExecStatusType st = pq.result_status(res);
    if (status < 0) {
      ; /* drained */
    } else if (st == PGRES_SINGLE_TUPLE && row) {
      const char *col[16] = {0};
      int n = pq.nfields(res);
      n = n > 16 ? 16 : n;
      for (int i = 0; i < n; i++)
        col[i] = pq.getisnull(res, 0, i) ? NULL : pq.getvalue(res, 0, i);
      if (row(ctx, col, n) < 0) {
        snprintf(err, errlen, "out of memory reading history %s", h->where);
        status = -1;
      }
    } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      say(err, errlen, h, "%s", pq.error_message(h->pg));
      status = -1;
    }
    pq.clear(res);
  }
  return status;
}

int pl_history_exec(struct pl_history *h, const char *sql, const char *const *p, int np,
                    history_row_fn row, void *ctx, char *err, size_t errlen) {
  return h->lite ? lite_exec(h, sql, p, np, row, ctx, err, errlen)
                 : pg_exec(h, sql, p, np, row, ctx, err, errlen);
}

/* ---- the schema ---- */

static int keep_first(void *ctx, const char *const *col, int ncol) {
  char *out = ctx;
  if (ncol > 0 && col[0] && !out[0])
    snprintf(out, 32, "%s", col[0]);
  return 0;
}

static int create_schema(struct pl_history *h, char *err, size_t errlen) {
  const char *id = h->lite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
  char runs[512];
  snprintf(runs, sizeof runs,
           "CREATE TABLE IF NOT EXISTS tlsgrade_runs ("
           " id %s,"
           " sensor TEXT NOT NULL,"                /* --sensor, or the host name */
           " kind TEXT NOT NULL,"                  /* capture | interval | merge */
           " written TEXT NOT NULL,"               /* wall clock, ISO 8601 UTC */
           " first_packet TEXT, last_packet TEXT," /* the evidence's packet times */
           " inputs TEXT NOT NULL)",               /* one per line */
           id);
  static const char grades[] =
      "CREATE TABLE IF NOT EXISTS tlsgrade_grades ("
      " run_id BIGINT NOT NULL REFERENCES tlsgrade_runs(id),"
      " host TEXT NOT NULL, ip TEXT NOT NULL, port INTEGER NOT NULL,"
      " period_start TEXT NOT NULL, period_end TEXT NOT NULL,"
      " grade TEXT NOT NULL, grade_trust_ignored TEXT NOT NULL,"
      " score INTEGER," /* NULL: not decided */
      " checks_decided INTEGER NOT NULL, checks INTEGER NOT NULL,"
      " failed TEXT NOT NULL," /* failed check ids, space-separated, table order */
      " evidence_digest TEXT NOT NULL)";
  static const char index[] = "CREATE INDEX IF NOT EXISTS tlsgrade_grades_server"
                              " ON tlsgrade_grades (host, ip, port, period_end)";
  static const char schema[] = "CREATE TABLE IF NOT EXISTS tlsgrade_schema (version INTEGER)";
  if (pl_history_exec(h, schema, NULL, 0, NULL, NULL, err, errlen) < 0 ||
      pl_history_exec(h, runs, NULL, 0, NULL, NULL, err, errlen) < 0 ||
      pl_history_exec(h, grades, NULL, 0, NULL, NULL, err, errlen) < 0 ||
      pl_history_exec(h, index, NULL, 0, NULL, NULL, err, errlen) < 0)
    return -1;
  char version[32] = "";
  if (pl_history_exec(h, "SELECT max(version) FROM tlsgrade_schema", NULL, 0, keep_first, version,
                      err, errlen) < 0)
    return -1;
  if (!version[0])
    return pl_history_exec(h, "INSERT INTO tlsgrade_schema (version) VALUES (1)", NULL, 0, NULL,
                           NULL, err, errlen);
  if (atoi(version) > HISTORY_SCHEMA) {
    say(err, errlen, h, "written by a newer tlsgrade (schema %s; this one reads %d)", version,
        HISTORY_SCHEMA);
    return -1;
  }
  return 0;
}

bool pl_history_is_url(const char *where) {
  return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
}

/* The URL as messages show it: a password never reaches a terminal or log. */
static void where_shown(char *out, size_t len, const char *where) {
  const char *at = strchr(where, '@'), *scheme = strstr(where, "://");
  const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
  if (pl_history_is_url(where) && at && colon && colon < at)
    snprintf(out, len, "%.*s:***%s", (int)(colon - where), where, at);
  else
    snprintf(out, len, "%s", where);
}

struct pl_history *pl_history_open(const char *where, const char *sensor, bool create, char *err,
                                   size_t errlen) {
  struct pl_history *h = calloc(1, sizeof *h);
  char host[256] = "";
  if (!sensor && gethostname(host, sizeof host - 1) == 0)
    sensor = host;
  if (!h || !(h->sensor = strdup(sensor && sensor[0] ? sensor : "unknown"))) {
    snprintf(err, errlen, "out of memory");
    free(h);
    return NULL;
  }
  where_shown(h->where, sizeof h->where, where);
  if (pl_history_is_url(where)) {
    if (!pq_load(err, errlen)) {
      pl_history_close(h);
      return NULL;
    }
    h->pg = pq.connectdb(where);
    if (pq.status(h->pg) != CONNECTION_OK) {
      say(err, errlen, h, "%s", pq.error_message(h->pg));
      pl_history_close(h);
      return NULL;
    }
    /* Our own messages say what failed; the server's notices ("relation
     * already exists, skipping") are noise on standard error. */
    pq.clear(pq.exec(h->pg, "SET client_min_messages TO warning"));
  } else {
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (!lite_load(err, errlen)) {
      pl_history_close(h);
      return NULL;
    }
    if (lite.open_v2(where, &h->lite, flags, NULL) != SQLITE_OK) {
      say(err, errlen, h, "%s", h->lite ? lite.errmsg(h->lite) : "cannot open");
      pl_history_close(h);
      return NULL;
    }
    /* Several sensors on one machine may append at once: WAL lets readers
     * go on while one writes, and a writer waits for another (10 s)
     * instead of failing. */
    lite.busy_timeout(h->lite, 10000);
    if (create && lite_exec(h, "PRAGMA journal_mode=WAL", NULL, 0, NULL, NULL, err, errlen) < 0) {
      pl_history_close(h);
      return NULL;
    }
  }
  if ((create || h->pg) && create_schema(h, err, errlen) < 0) {
    pl_history_close(h);
    return NULL;
  }
  return h;
}

void pl_history_close(struct pl_history *h) {
  if (!h)
    return;
  if (h->lite)
    lite.close(h->lite);
  if (h->pg)
    pq.finish(h->pg);
  free(h->sensor);
  free(h);
}

/* ---- appending a report ---- */

/* SHA-256 of the endpoint's fact keys in key order, as hex: equal digests,
 * equal facts (counts and frames aside). */
static void evidence_digest(const struct ev_endpoint *ep, char out[65]) {
  unsigned char md[32];
  unsigned mdlen = 0;
  size_t n = 0;
  const struct ev_fact **f = ev_sorted_facts(ep, &n); /* ours to free */
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  for (size_t i = 0; ok && f && i < n; i++)
    ok = EVP_DigestUpdate(c, f[i]->key, strlen(f[i]->key) + 1);
  ok = ok && EVP_DigestFinal_ex(c, md, &mdlen) && mdlen == sizeof md;
  EVP_MD_CTX_free(c);
  free(f);
  for (unsigned i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", ok ? md[i] : 0);
}

/* The packet times the endpoint's facts span. */
static void fact_span(const struct ev_endpoint *ep, cap_time_us *from, cap_time_us *to) {
  size_t n = 0;
  const struct ev_fact **f = ev_sorted_facts(ep, &n);
  *from = *to = 0;
  for (size_t i = 0; f && i < n; i++) {
    if (!i || f[i]->first_ts < *from)
      *from = f[i]->first_ts;
    if (!i || f[i]->last_ts > *to)
      *to = f[i]->last_ts;
  }
  free(f);
}

/* One server's row: r graded from ep's facts, over the packet times
 * [a, b]. */
static int insert_grade(struct pl_history *h, const char *run_id, const struct grade_result *r,
                        const struct ev_endpoint *ep, cap_time_us a, cap_time_us b, char *err,
                        size_t errlen) {
  char port[8], from[40], to[40], score[16], decided[16], total[16], digest[65];
  char failed[GRADE_MAX_CHECKS * 24] = "";
  cap_time_str(a, from, sizeof from);
  cap_time_str(b, to, sizeof to);
  snprintf(port, sizeof port, "%u", (unsigned)ep->port);
  snprintf(score, sizeof score, "%d", r->total);
  snprintf(decided, sizeof decided, "%zu", r->n_decided);
  snprintf(total, sizeof total, "%zu", r->n_checks);
  size_t used = 0;
  for (size_t i = 0; i < r->n_checks; i++)
    if (r->checks[i].status == CHECK_FAIL && used < sizeof failed)
      used += (size_t)snprintf(failed + used, sizeof failed - used, "%s%s", used ? " " : "",
                               r->checks[i].id);
  evidence_digest(ep, digest);
  const char *p[] = {run_id,
                     ep->host,
                     ep->ip,
                     port,
                     from,
                     to,
                     r->letter,
                     r->letter_trust_ignored,
                     r->total < 0 ? NULL : score,
                     decided,
                     total,
                     failed,
                     digest};
  static const char sql[] =
      "INSERT INTO tlsgrade_grades (run_id, host, ip, port, period_start, period_end, grade,"
      " grade_trust_ignored, score, checks_decided, checks, failed, evidence_digest)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
  return pl_history_exec(h, sql, p, 13, NULL, NULL, err, errlen);
}

/* A server that changed its configuration: each period graded alone, as
 * the report's configuration_change does, a row each.  A fact seen in
 * both periods is in both stores, its times spanning the change: the
 * change's frames bound the periods, within the server's span [a, b]. */
static int insert_periods(struct pl_history *h, const char *run_id, const struct grade_result *r,
                          cap_time_us a, cap_time_us b, char *err, size_t errlen) {
  cap_time_us before_end =
      r->change_before.ts < r->changed_at ? r->change_before.ts : r->changed_at;
  for (int after = 0; after < 2; after++) {
    struct ev_store *part = ev_period(r->ep, r->changed_at, after);
    struct grade_result *g = part ? calloc(1, sizeof *g) : NULL;
    if (!g) {
      ev_store_free(part);
      snprintf(err, errlen, "out of memory writing history %s", h->where);
      return -1;
    }
    const struct ev_endpoint *ep = ev_endpoint_at(part, 0);
    grade_endpoint(ep, g);
    int rc = after ? insert_grade(h, run_id, g, ep, r->changed_at, b, err, errlen)
                   : insert_grade(h, run_id, g, ep, a, before_end, err, errlen);
    free(g);
    ev_store_free(part);
    if (rc < 0)
      return -1;
  }
  return 0;
}

/* The packet times a server's facts span. */
struct span {
  cap_time_us from, to;
};

static int insert_run(struct pl_history *h, const char *kind, const struct span *spans, size_t n,
                      const char *const *inputs, size_t n_inputs, char run_id[32], char *err,
                      size_t errlen) {
  char written[40], first[40] = "", last[40] = "";
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  cap_time_str((cap_time_us)now.tv_sec * 1000000 + now.tv_nsec / 1000, written, sizeof written);
  cap_time_us lo = 0, hi = 0;
  for (size_t i = 0; i < n; i++) {
    if (!i || spans[i].from < lo)
      lo = spans[i].from;
    if (!i || spans[i].to > hi)
      hi = spans[i].to;
  }
  if (n) {
    cap_time_str(lo, first, sizeof first);
    cap_time_str(hi, last, sizeof last);
  }
  size_t len = 1;
  for (size_t i = 0; i < n_inputs; i++)
    len += strlen(inputs[i]) + 1;
  char *names = calloc(1, len);
  if (!names) {
    snprintf(err, errlen, "out of memory writing history %s", h->where);
    return -1;
  }
  for (size_t i = 0; i < n_inputs; i++) {
    strcat(names, inputs[i]);
    if (i + 1 < n_inputs)
      strcat(names, "\n");
  }
  const char *p[] = {h->sensor, kind, written, n ? first : NULL, n ? last : NULL, names};
  run_id[0] = '\0';
  int rc =
      pl_history_exec(h,
                      "INSERT INTO tlsgrade_runs (sensor, kind, written, first_packet, last_packet,"
                      " inputs) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                      p, 6, keep_first, run_id, err, errlen);
  free(names);
  if (!rc && !run_id[0]) {
    say(err, errlen, h, "no run id returned");
    rc = -1;
  }
  return rc;
}

int pl_history_append(struct pl_history *h, const char *kind, const struct grade_result *const *r,
                      size_t n, const char *const *inputs, size_t n_inputs, char *err,
                      size_t errlen) {
  struct span *spans = calloc(n ? n : 1, sizeof(*spans));
  if (!spans) {
    snprintf(err, errlen, "out of memory writing history %s", h->where);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    fact_span(r[i]->ep, &spans[i].from, &spans[i].to);
  const char *begin = h->lite ? "BEGIN IMMEDIATE" : "BEGIN";
  int rc = pl_history_exec(h, begin, NULL, 0, NULL, NULL, err, errlen);
  char run_id[32];
  if (rc == 0)
    rc = insert_run(h, kind, spans, n, inputs, n_inputs, run_id, err, errlen);
  for (size_t i = 0; !rc && i < n; i++)
    if (r[i]->graded && !report_no_sni_folded(r[i])) /* no letter of its own */
      rc = r[i]->changed
               ? insert_periods(h, run_id, r[i], spans[i].from, spans[i].to, err, errlen)
               : insert_grade(h, run_id, r[i], r[i]->ep, spans[i].from, spans[i].to, err, errlen);
  free(spans);
  char ignored[8];
  if (rc < 0) {
    pl_history_exec(h, "ROLLBACK", NULL, 0, NULL, NULL, ignored, sizeof ignored);
    return -1;
  }
  return pl_history_exec(h, "COMMIT", NULL, 0, NULL, NULL, err, errlen);
}
