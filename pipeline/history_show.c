/*
 * pipeline/history_show.c - tlsgrade history DB [HOST]: each server's
 * records oldest first, in text, JSON or HTML, a record shown when the
 * grade or the failed checks changed, and the records between folded into
 * a count (a live capture appends a record per interval).  Every string
 * read from the database is printed through the format's filter: a
 * database is input like any other.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* ---- tlsgrade history DB [HOST]: each server's timeline ---- */

enum {
  C_HOST,
  C_IP,
  C_PORT,
  C_FROM,
  C_TO,
  C_GRADE,
  C_GRADE_TI,
  C_SCORE,
  C_DECIDED,
  C_CHECKS,
  C_FAILED,
  C_DIGEST,
  C_SENSOR,
  C_KIND,
  C_WRITTEN,
  C_RUN,
  C_COLS
};

/* One history row, copied (the engine's strings last until the next row). */
struct entry {
  char *col[C_COLS];
};

/* The timeline being printed: rows come ordered by server, then time. */
struct timeline {
  enum pl_format format;
  FILE *out;
  struct entry last;      /* the last record shown of the current server */
  struct entry prev;      /* the last record read (unchanged ones too) */
  bool have;              /* last/prev hold the current server's rows */
  uint64_t unchanged;     /* records since `last` that changed nothing */
  uint64_t servers, rows; /* printed so far */
  cJSON *server;          /* JSON: the current server's object */
  cJSON *records;         /* and its records */
  bool first_json;        /* no server printed yet */
  bool inside;            /* HTML: inside a report's server section */
};

static void entry_free(struct entry *e) {
  for (int i = 0; i < C_COLS; i++) {
    free(e->col[i]);
    e->col[i] = NULL;
  }
}

static int entry_copy(struct entry *e, const char *const *col, int ncol) {
  entry_free(e);
  for (int i = 0; i < C_COLS; i++)
    if (i < ncol && col[i] && !(e->col[i] = strdup(col[i])))
      return -1;
  return 0;
}

static const char *col_or(const struct entry *e, int i, const char *dflt) {
  return e->col[i] ? e->col[i] : dflt;
}

static bool same_server(const struct entry *a, const char *const *col) {
  for (int i = C_HOST; i <= C_PORT; i++)
    if (!a->col[i] || !col[i] || strcmp(a->col[i], col[i]) != 0)
      return false;
  return true;
}

/* Is check id in the space-separated list? */
static bool listed(const char *list, const char *id, size_t idlen) {
  for (const char *p = list; p && *p;) {
    size_t n = strcspn(p, " ");
    if (n == idlen && memcmp(p, id, n) == 0)
      return true;
    p += n + (p[n] == ' ');
  }
  return false;
}

/* The ids of `a` that `b` lacks, space-separated, into out. */
static void missing_from(const char *a, const char *b, char *out, size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (const char *p = a; p && *p;) {
    size_t n = strcspn(p, " ");
    if (n && !listed(b, p, n) && used + n + 2 < len)
      used += (size_t)snprintf(out + used, len - used, "%s%.*s", used ? " " : "", (int)n, p);
    p += n + (p[n] == ' ');
  }
}

/* What changed between two records of a server: the failed checks that
 * are gone (fixed) and those that came (added). */
struct change {
  char fixed[GRADE_MAX_CHECKS * 24], added[GRADE_MAX_CHECKS * 24];
};

static void change_of(const struct entry *was, const struct entry *is, struct change *c) {
  c->fixed[0] = c->added[0] = '\0';
  if (!was)
    return;
  missing_from(col_or(was, C_FAILED, ""), col_or(is, C_FAILED, ""), c->fixed, sizeof c->fixed);
  missing_from(col_or(is, C_FAILED, ""), col_or(was, C_FAILED, ""), c->added, sizeof c->added);
}

static bool changed_from(const struct entry *was, const struct entry *is) {
  static const int compared[] = {C_GRADE, C_GRADE_TI, C_FAILED};
  for (size_t i = 0; i < sizeof compared / sizeof compared[0]; i++)
    if (strcmp(col_or(was, compared[i], ""), col_or(is, compared[i], "")) != 0)
      return true;
  return false;
}

/* "YYYY-MM-DD HH:MM:SS" from the stored ISO time (which may be anything a
 * database holds: printed through the terminal filter in any case). */
static void short_time(const char *iso, char out[20]) {
  snprintf(out, 20, "%.10s %.8s", iso ? iso : "?", iso && strlen(iso) > 11 ? iso + 11 : "");
}

static void html_puts(FILE *out, const char *s) {
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '&')
      fputs("&amp;", out);
    else if (*p == '<')
      fputs("&lt;", out);
    else if (*p == '>')
      fputs("&gt;", out);
    else if (*p == '"')
      fputs("&quot;", out);
    else if (*p == '\'')
      fputs("&#39;", out);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(out, "\\x%02x", *p);
    /* bidirectional controls (U+202A-202E, U+2066-2069) shown, not obeyed */
    else if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
      fprintf(out, "\\u%04x", 0x2000 + (p[2] - 0x80)), p += 2;
    else if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
      fprintf(out, "\\u%04x", 0x2040 + (p[2] - 0x80)), p += 2;
    else
      fputc(*p, out);
  }
}

static void text_record(struct timeline *t, const struct entry *e, const struct entry *was) {
  char from[20], to[20];
  struct change c;
  change_of(was, e, &c);
  short_time(e->col[C_FROM], from);
  short_time(e->col[C_TO], to);
  fputs("  ", t->out);
  cap_term_puts(t->out, from);
  fputs(" .. ", t->out);
  cap_term_puts(t->out, to);
  fprintf(t->out, "  ");
  cap_term_puts(t->out, col_or(e, C_GRADE, "?"));
  fprintf(t->out, "%*s", (int)(3 - strlen(col_or(e, C_GRADE, "?")) % 4), "");
  if (!was) {
    fputs("first record", t->out);
  } else {
    if (strcmp(col_or(was, C_GRADE, ""), col_or(e, C_GRADE, "")) != 0) {
      cap_term_puts(t->out, col_or(was, C_GRADE, "?"));
      fputs(" -> ", t->out);
      cap_term_puts(t->out, col_or(e, C_GRADE, "?"));
      fputs("; ", t->out);
    }
    fputs("fixed: ", t->out);
    cap_term_puts(t->out, c.fixed[0] ? c.fixed : "-");
    fputs("; new: ", t->out);
    cap_term_puts(t->out, c.added[0] ? c.added : "-");
  }
  fputs("  [", t->out);
  cap_term_puts(t->out, col_or(e, C_SENSOR, "?"));
  fputs(" ", t->out);
  cap_term_puts(t->out, col_or(e, C_KIND, "?"));
  fprintf(t->out, ", %s/%s checks decided", col_or(e, C_DECIDED, "?"), col_or(e, C_CHECKS, "?"));
  fputs("]\n", t->out);
  if (e->col[C_FAILED] && e->col[C_FAILED][0]) {
    fputs("      failed: ", t->out);
    cap_term_puts(t->out, e->col[C_FAILED]);
    fputc('\n', t->out);
  }
}

static cJSON *id_array(const char *list) {
  cJSON *a = cJSON_CreateArray();
  for (const char *p = list; a && p && *p;) {
    size_t n = strcspn(p, " ");
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)(n < 63 ? n : 63), p);
    if (n)
      cJSON_AddItemToArray(a, cJSON_CreateString(id));
    p += n + (p[n] == ' ');
  }
  return a;
}

static void json_record(struct timeline *t, const struct entry *e, const struct entry *was) {
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return;
  cJSON_AddNumberToObject(o, "run", atof(col_or(e, C_RUN, "0")));
  cJSON_AddStringToObject(o, "sensor", col_or(e, C_SENSOR, ""));
  cJSON_AddStringToObject(o, "kind", col_or(e, C_KIND, ""));
  cJSON_AddStringToObject(o, "written", col_or(e, C_WRITTEN, ""));
  cJSON_AddStringToObject(o, "from", col_or(e, C_FROM, ""));
  cJSON_AddStringToObject(o, "to", col_or(e, C_TO, ""));
  cJSON_AddStringToObject(o, "grade", col_or(e, C_GRADE, ""));
  cJSON_AddStringToObject(o, "grade_trust_ignored", col_or(e, C_GRADE_TI, ""));
  if (e->col[C_SCORE])
    cJSON_AddNumberToObject(o, "score", atof(e->col[C_SCORE]));
  else
    cJSON_AddNullToObject(o, "score");
  cJSON_AddNumberToObject(o, "checks_decided", atof(col_or(e, C_DECIDED, "0")));
  cJSON_AddNumberToObject(o, "checks", atof(col_or(e, C_CHECKS, "0")));
  cJSON_AddItemToObject(o, "failed", id_array(col_or(e, C_FAILED, "")));
  cJSON_AddStringToObject(o, "evidence_digest", col_or(e, C_DIGEST, ""));
  if (was) {
    struct change c;
    change_of(was, e, &c);
    cJSON *ch = cJSON_AddObjectToObject(o, "changed");
    cJSON_AddStringToObject(ch, "grade_before", col_or(was, C_GRADE, ""));
    cJSON_AddItemToObject(ch, "fixed", id_array(c.fixed));
    cJSON_AddItemToObject(ch, "new", id_array(c.added));
  }
  cJSON_AddItemToArray(t->records, o);
}

static void html_record(struct timeline *t, const struct entry *e, const struct entry *was) {
  struct change c;
  change_of(was, e, &c);
  fputs("<tr><td>", t->out);
  html_puts(t->out, col_or(e, C_FROM, ""));
  fputs("</td><td>", t->out);
  html_puts(t->out, col_or(e, C_TO, ""));
  fputs("</td><td class=g>", t->out);
  html_puts(t->out, col_or(e, C_GRADE, ""));
  fputs("</td><td>", t->out);
  html_puts(t->out, was ? c.fixed : "first record");
  fputs("</td><td>", t->out);
  html_puts(t->out, c.added);
  fputs("</td><td>", t->out);
  html_puts(t->out, col_or(e, C_FAILED, ""));
  fputs("</td><td>", t->out);
  html_puts(t->out, col_or(e, C_SENSOR, ""));
  fputs("</td></tr>\n", t->out);
}

static void show_unchanged(struct timeline *t) {
  if (!t->unchanged)
    return;
  char to[20];
  short_time(t->prev.col[C_TO], to);
  if (t->format == PL_FORMAT_JSON) {
    cJSON *last = cJSON_GetArrayItem(t->records, cJSON_GetArraySize(t->records) - 1);
    cJSON_AddNumberToObject(last, "unchanged_records", (double)t->unchanged);
    cJSON_AddStringToObject(last, "unchanged_until", col_or(&t->prev, C_TO, ""));
  } else if (t->format == PL_FORMAT_HTML) {
    fprintf(t->out, "<tr><td colspan=7>unchanged in %llu more records until ",
            (unsigned long long)t->unchanged);
    html_puts(t->out, to);
    fputs("</td></tr>\n", t->out);
  } else {
    fprintf(t->out, "  ... unchanged in %llu more records until ",
            (unsigned long long)t->unchanged);
    cap_term_puts(t->out, to);
    fputc('\n', t->out);
  }
  t->unchanged = 0;
}

static void end_server(struct timeline *t) {
  if (!t->have)
    return;
  show_unchanged(t);
  if (t->format == PL_FORMAT_JSON) {
    char *s = cJSON_PrintUnformatted(t->server);
    fprintf(t->out, "%s%s", t->first_json ? "" : ",\n", s ? s : "null");
    t->first_json = false;
    free(s);
    cJSON_Delete(t->server);
    t->server = t->records = NULL;
  } else if (t->format == PL_FORMAT_HTML) {
    fputs("</table>\n", t->out);
  }
  t->have = false;
}

static void begin_server(struct timeline *t, const struct entry *e) {
  t->servers++;
  if (t->format == PL_FORMAT_JSON) {
    t->server = cJSON_CreateObject();
    cJSON_AddStringToObject(t->server, "host", col_or(e, C_HOST, ""));
    cJSON_AddStringToObject(t->server, "ip", col_or(e, C_IP, ""));
    cJSON_AddNumberToObject(t->server, "port", atof(col_or(e, C_PORT, "0")));
    t->records = cJSON_AddArrayToObject(t->server, "records");
  } else if (t->format == PL_FORMAT_HTML && t->inside) {
    fputs("<h3>Past grades (--history)</h3>\n<table class=\"history\"><tr><th>from</th>"
          "<th>to</th><th>grade</th><th>fixed</th><th>new failures</th><th>failed</th>"
          "<th>sensor</th></tr>\n",
          t->out);
  } else if (t->format == PL_FORMAT_HTML) {
    fputs("<h2>", t->out);
    html_puts(t->out, col_or(e, C_HOST, ""));
    fputs(" <small>", t->out);
    html_puts(t->out, col_or(e, C_IP, ""));
    fputs(":", t->out);
    html_puts(t->out, col_or(e, C_PORT, ""));
    fputs("</small></h2>\n<table><tr><th>from</th><th>to</th><th>grade</th><th>fixed</th>"
          "<th>new failures</th><th>failed</th><th>sensor</th></tr>\n",
          t->out);
  } else {
    fputc('\n', t->out);
    cap_term_puts(t->out, col_or(e, C_HOST, ""));
    fputs("  ", t->out);
    cap_term_puts(t->out, col_or(e, C_IP, ""));
    fputc(':', t->out);
    cap_term_puts(t->out, col_or(e, C_PORT, ""));
    fputc('\n', t->out);
  }
}

static int timeline_row(void *ctx, const char *const *col, int ncol) {
  struct timeline *t = ctx;
  if (ncol < C_COLS)
    return 0;
  t->rows++;
  if (t->have && !same_server(&t->prev, col))
    end_server(t);
  struct entry e = {0};
  if (entry_copy(&e, col, ncol) < 0) {
    entry_free(&e);
    return -1;
  }
  bool first = !t->have;
  if (first) {
    begin_server(t, &e);
    t->have = true;
  }
  if (first || changed_from(&t->last, &e)) {
    show_unchanged(t);
    const struct entry *was = first ? NULL : &t->last;
    if (t->format == PL_FORMAT_JSON)
      json_record(t, &e, was);
    else if (t->format == PL_FORMAT_HTML)
      html_record(t, &e, was);
    else
      text_record(t, &e, was);
    if (entry_copy(&t->last, (const char *const *)e.col, C_COLS) < 0) {
      entry_free(&e);
      return -1;
    }
  } else {
    t->unchanged++;
  }
  entry_free(&t->prev);
  t->prev = e; /* moved */
  return 0;
}

int pl_run_history(const struct pl_settings *s, const char *where, const char *host) {
  char err[1024];
  struct pl_history *h = pl_history_open(where, s->sensor, false, err, sizeof err);
  if (!h) {
    cap_message("%s", err);
    return PL_EXIT_RUNTIME;
  }
  FILE *out = pl_open_output(s);
  if (!out) {
    pl_history_close(h);
    return PL_EXIT_RUNTIME;
  }
  struct timeline t = {.format = s->format, .out = out, .first_json = true};
  if (s->format == PL_FORMAT_JSON)
    fputs("{\"servers\":[\n", out);
  else if (s->format == PL_FORMAT_HTML)
    fputs("<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>tlsgrade history</title>"
          "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}"
          ".g{font-weight:bold}</style></head><body>\n<h1>tlsgrade history</h1>\n",
          out);
  else
    fputs("tlsgrade history (oldest first; a record is shown when the grade or the failed "
          "checks changed)\n",
          out);
  static const char sql[] = "SELECT g.host, g.ip, g.port, g.period_start, g.period_end, g.grade,"
                            " g.grade_trust_ignored, g.score, g.checks_decided, g.checks, g.failed,"
                            " g.evidence_digest, r.sensor, r.kind, r.written, r.id"
                            " FROM tlsgrade_grades g JOIN tlsgrade_runs r ON r.id = g.run_id"
                            " %s ORDER BY g.host, g.ip, g.port, g.period_start, g.period_end, r.id";
  char query[sizeof sql + 64];
  snprintf(query, sizeof query, sql, host ? "WHERE g.host = $1 OR g.ip = $1" : "");
  const char *p[] = {host};
  int rc = pl_history_exec(h, query, p, host ? 1 : 0, timeline_row, &t, err, sizeof err);
  if (rc == 0)
    end_server(&t);
  entry_free(&t.last);
  entry_free(&t.prev);
  cJSON_Delete(t.server);
  int status = PL_EXIT_OK;
  if (rc < 0) {
    cap_message("%s", err);
    status = PL_EXIT_RUNTIME;
  } else if (s->format == PL_FORMAT_JSON) {
    fputs("\n]}\n", out);
  } else if (s->format == PL_FORMAT_HTML) {
    fputs("</body></html>\n", out);
  } else if (!t.servers) {
    fprintf(out, "no record%s\n", host ? " of this server" : "");
  }
  if (status == PL_EXIT_OK && !t.servers && host) {
    cap_message("history: no record of '%s'", host); /* said; the exit status says it too */
    status = PL_EXIT_RUNTIME;
  }
  pl_history_close(h);
  return pl_close_output(s, out, status);
}

/* --history with an HTML report: each server's records before this run,
 * as a table inside its section (the report's own row is appended after
 * the report is written, so it is never its own past). */
void pl_history_past_html(void *ctx, FILE *out, const struct ev_endpoint *ep) {
  struct pl_history *h = ctx;
  char port[8], err[512];
  snprintf(port, sizeof port, "%u", (unsigned)ep->port);
  const char *p[] = {ep->host, ep->ip, port};
  struct timeline t = {.format = PL_FORMAT_HTML, .out = out, .first_json = true, .inside = true};
  static const char sql[] = "SELECT g.host, g.ip, g.port, g.period_start, g.period_end, g.grade,"
                            " g.grade_trust_ignored, g.score, g.checks_decided, g.checks, g.failed,"
                            " g.evidence_digest, r.sensor, r.kind, r.written, r.id"
                            " FROM tlsgrade_grades g JOIN tlsgrade_runs r ON r.id = g.run_id"
                            " WHERE g.host = $1 AND g.ip = $2 AND g.port = $3"
                            " ORDER BY g.period_start, g.period_end, r.id";
  if (pl_history_exec(h, sql, p, 3, timeline_row, &t, err, sizeof err) == 0)
    end_server(&t);
  else
    cap_message("%s", err);
  if (!t.servers)
    fputs("<p>No earlier grade of this server in the history.</p>\n", out);
  entry_free(&t.last);
  entry_free(&t.prev);
}
