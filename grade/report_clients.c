/*
 * grade/report_clients.c - the client inventory in the three reports
 * (clients.c holds it): clients by address and JA4, worst first, with
 * what they offered and got, each finding counted with its first frame;
 * then per server the JA4s that connected and what each got, the passive
 * counterpart of SSL Labs' handshake simulation (in text, inside each
 * server's block).  One function per format.
 */
#include "grade/clients.h"
#include "grade/evidence.h"
#include "grade/report.h"
#include "grade/report_json.h"

#include <stdlib.h>
#include <string.h>

#define TEXT_WIDTH 80
#define TEXT_ROWS_PER_SERVER 5 /* JA4s listed per server in text */
#define HTML_TOP (REPORT_CLIENTS_TOP * 5)

/* Short words for the one-line count (--summary). */
static const char *const short_label[CL_N] = {
    [CL_SSL] = "negotiate SSL 2/3",          [CL_EXPORT] = "negotiate export suites",
    [CL_NULL] = "negotiate NULL ciphers",    [CL_RC4] = "negotiate RC4",
    [CL_TLS10_11] = "negotiate TLS 1.0/1.1", [CL_BLOCK64] = "negotiate 3DES/64-bit blocks",
    [CL_NO_FS] = "offer no FS suite",        [CL_NO_AEAD] = "offer no AEAD suite",
    [CL_NO_PQ] = "offer no PQ group",        [CL_NO_SNI] = "send no SNI",
};

static const char *const rank_name[7] = {"",        "SSLv2",   "SSLv3",  "TLSv1.0",
                                         "TLSv1.1", "TLSv1.2", "TLSv1.3"};

/* What the reports read: the clients worst first, the rows by server. */
struct view {
  const struct ev_clients *cl;
  const struct cl_client **clients;
  size_t n_clients;
  const struct cl_row **rows;
  size_t n_rows;
  uint64_t connections, hits;
  size_t with[CL_N]; /* clients showing each kind */
};

static bool view_open(struct view *v, const struct report_meta *m) {
  memset(v, 0, sizeof(*v));
  v->cl = m->evidence ? m->evidence->clients : NULL;
  if (!v->cl)
    return false;
  v->clients = ev_clients_sorted(v->cl, &v->n_clients);
  v->rows = ev_clients_rows(v->cl, &v->n_rows);
  uint64_t hits[2];
  ev_client_cap_hits(m->evidence, hits);
  v->hits = hits[0]; /* clients not listed; a row not listed is in "limits" */
  for (size_t i = 0; i < v->n_clients; i++) {
    v->connections = ev_count_add(v->connections, v->clients[i]->count);
    for (int k = 0; k < CL_N; k++)
      v->with[k] += cl_mark_of(v->clients[i], k)->count > 0;
  }
  return v->n_clients > 0 || v->hits > 0;
}

static void view_close(struct view *v) {
  free(v->clients);
  free(v->rows);
}

/* The rows of server ep: [*first, return) of v->rows. */
static size_t rows_of(const struct view *v, const struct ev_endpoint *ep, size_t *first) {
  size_t lo = 0, hi = v->n_rows;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const struct cl_row *r = v->rows[mid];
    int c = strcmp(r->host, ep->host);
    if (!c)
      c = strcmp(r->ip, ep->ip);
    if (!c)
      c = (int)r->port - (int)ep->port;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *first = lo;
  while (hi < v->n_rows && v->rows[hi]->port == ep->port && !strcmp(v->rows[hi]->host, ep->host) &&
         !strcmp(v->rows[hi]->ip, ep->ip))
    hi++;
  return hi;
}

static const char *suite_name(const struct cl_row *r, char buf[16]) {
  const struct tls_suite_info *su = r->version == TLS_VERSION_SSL2
                                        ? tls_sslv2_suite_lookup(r->suite)
                                        : tls_suite_lookup(r->suite);
  if (su)
    return su->name;
  snprintf(buf, 16, "0x%04x", (unsigned)r->suite);
  return buf;
}

static const char *version_name(uint16_t v) {
  const char *name = tls_version_name(v);
  return name ? name : "unknown";
}

/* "TLSv1.0, TLSv1.2" from a client's got bits ("" none). */
static void got_text(uint8_t got, char *buf, size_t len) {
  buf[0] = '\0';
  for (unsigned rank = 1; rank < 7; rank++)
    if (got & (1u << rank)) {
      size_t at = strlen(buf);
      snprintf(buf + at, len - at, "%s%s", at ? ", " : "", rank_name[rank]);
    }
}

static struct ev_sample sample_of(const struct view *v, const struct cl_at *at) {
  return (struct ev_sample){(char *)ev_clients_file(v->cl, at->file), at->frame, at->ts, false};
}

static char *sample_text(const struct view *v, const struct cl_at *at) {
  struct ev_sample s = sample_of(v, at);
  return report_sample(&s);
}

/* ---- text ---- */

/* s (a sample) written in at most room columns: the start of a long file
 * name gives way to "..." (its end and the frame say most). */
static void put_fitted(FILE *out, const char *s, size_t room) {
  size_t n = strlen(s);
  if (room > 3 && n > room) {
    const char *tail = s + n - (room - 3);
    while ((*tail & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
      tail++;
    fputs("...", out);
    report_term_puts(out, tail);
  } else {
    report_term_puts(out, s);
  }
}

/* Words joined by sep (", ", or the one given before the next word) and
 * wrapped under TEXT_WIDTH, continuation lines indented. */
struct wrap {
  FILE *out;
  size_t col;
  const char *sep; /* NULL before the first word */
};

static void wrap_word(struct wrap *w, const char *word, const char *next_sep) {
  size_t n = strlen(word);
  if (w->sep) {
    size_t k = strlen(w->sep); /* the separator's last byte is a space */
    fwrite(w->sep, 1, k - 1, w->out);
    w->col += k - 1;
    if (w->col + 1 + n + 1 > TEXT_WIDTH) { /* room for the separator after it */
      fputs("\n   ", w->out);
      w->col = 3;
    } else {
      fputc(' ', w->out);
      w->col++;
    }
  }
  fputs(word, w->out);
  w->col += n;
  w->sep = next_sep;
}

static void counts_line(FILE *out, const struct view *v) {
  char word[96];
  snprintf(word, sizeof word, "clients: %zu seen (address and JA4; %llu connections)", v->n_clients,
           (unsigned long long)v->connections);
  struct wrap w = {out, 0, NULL};
  wrap_word(&w, word, "; ");
  for (int k = 0; k < CL_N; k++)
    if (v->with[k]) {
      snprintf(word, sizeof word, "%zu %s", v->with[k], short_label[k]);
      wrap_word(&w, word, ", ");
    }
  if (v->hits) {
    snprintf(word, sizeof word, "%llu not listed (--limit clients)", (unsigned long long)v->hits);
    wrap_word(&w, word, ", ");
  }
  fputc('\n', out);
}

static void client_text(FILE *out, const struct view *v, const struct cl_client *c) {
  char got[64];
  got_text(c->got, got, sizeof got);
  fprintf(out, "  %s %s\n    %llu connection%s, offers up to %s, got %s\n", c->ip, c->ja4,
          (unsigned long long)c->count, c->count == 1 ? "" : "s", version_name(c->best_offered),
          got[0] ? got : "no ServerHello");
  for (int k = 0; k < CL_N; k++) {
    const struct cl_mark *mk = cl_mark_of(c, k);
    if (!mk->count)
      continue;
    char head[96];
    int len = snprintf(head, sizeof head, "    %-32s %6llu  ", cl_kind_label(k),
                       (unsigned long long)mk->count);
    fputs(head, out);
    char *s = sample_text(v, &mk->at);
    if (s)
      put_fitted(out, s, TEXT_WIDTH - (size_t)len);
    free(s);
    fputc('\n', out);
  }
}

/* The view the text report builds once for its sections and every server
 * block (report.h). */
struct report_clients_view {
  struct view v;
};

struct report_clients_view *report_clients_view_open(const struct report_meta *m) {
  struct report_clients_view *cv = malloc(sizeof *cv);
  if (cv && !view_open(&cv->v, m)) {
    view_close(&cv->v);
    free(cv);
    cv = NULL;
  }
  return cv;
}

void report_clients_view_close(struct report_clients_view *cv) {
  if (cv)
    view_close(&cv->v);
  free(cv);
}

void report_clients_server_text(FILE *out, const struct report_clients_view *cv,
                                const struct ev_endpoint *ep) {
  if (!cv)
    return;
  const struct view *v = &cv->v;
  size_t first, end = rows_of(v, ep, &first);
  if (end == first)
    return;
  fputs("   clients that connected (JA4, connections, first frame; what it got):\n", out);
  for (size_t i = first; i < end && i < first + TEXT_ROWS_PER_SERVER; i++) {
    const struct cl_row *r = v->rows[i];
    char hex[16], head[96];
    int len = snprintf(head, sizeof head, "     %s %6llu  ", r->ja4, (unsigned long long)r->count);
    fputs(head, out);
    char *s = sample_text(v, &r->first);
    if (s)
      put_fitted(out, s, TEXT_WIDTH - (size_t)len);
    free(s);
    fprintf(out, "\n       got %s %s%s%s\n", version_name(r->version), suite_name(r, hex),
            r->kx[0] ? " " : "", r->kx);
  }
  if (end - first > TEXT_ROWS_PER_SERVER)
    fprintf(out, "     +%zu more (the JSON report lists all)\n",
            end - first - TEXT_ROWS_PER_SERVER);
}

void report_clients_text(FILE *out, const struct report_clients_view *cv, bool detail) {
  if (!cv)
    return;
  const struct view *v = &cv->v;
  fputc('\n', out);
  counts_line(out, v);
  if (detail) {
    fputs("\nCLIENTS, worst first (each finding: connections, first frame)\n", out);
    for (size_t i = 0; i < v->n_clients && i < REPORT_CLIENTS_TOP; i++)
      client_text(out, v, v->clients[i]);
    if (v->n_clients > REPORT_CLIENTS_TOP)
      fprintf(out, "  +%zu more clients (the JSON report lists all)\n",
              v->n_clients - REPORT_CLIENTS_TOP);
  }
}

/* ---- HTML ---- */

static void html_sample(FILE *out, const struct view *v, const struct cl_at *at) {
  char *s = sample_text(v, at);
  fputs("<code>", out);
  if (s)
    report_html_puts(out, s);
  fputs("</code>", out);
  free(s);
}

/* s as HTML code of class cls ("addr", "id": never broken inside, the
 * table scrolls in its box instead), escaped: addresses and JA4s come
 * from the evidence. */
static void html_code(FILE *out, const char *cls, const char *s) {
  fprintf(out, "<code class=\"%s\">", cls);
  report_html_puts(out, s);
  fputs("</code>", out);
}

static void client_html(FILE *out, const struct view *v, const struct cl_client *c) {
  char got[64];
  got_text(c->got, got, sizeof got);
  fputs("<tr><td>", out);
  html_code(out, "addr", c->ip);
  fputs("</td><td>", out);
  html_code(out, "id", c->ja4);
  fprintf(out, "</td><td>%llu</td><td>%s</td><td>%s</td><td>", (unsigned long long)c->count,
          version_name(c->best_offered), got[0] ? got : "no ServerHello");
  for (int k = 0; k < CL_N; k++) {
    const struct cl_mark *mk = cl_mark_of(c, k);
    if (!mk->count)
      continue;
    fprintf(out, "%s: %llu (", cl_kind_label(k), (unsigned long long)mk->count);
    html_sample(out, v, &mk->at);
    fputs(")<br>", out);
  }
  fputs("</td></tr>\n", out);
}

/* Inside the server's own section: the JA4s that connected to ep, each
 * with what it got (version, suite, group) and its first frame. */
void report_clients_server_html(FILE *out, const struct report_clients_view *c,
                                const struct ev_endpoint *ep) {
  size_t first, end = c ? rows_of(&c->v, ep, &first) : 0;
  if (!c || end == first)
    return;
  fputs("<h3>Clients that connected</h3>\n<div class=\"scroll\"><table class=\"connected\">"
        "<tr><th>JA4</th><th>connections</th><th>version</th><th>suite</th><th>group</th>"
        "<th>first</th></tr>\n",
        out);
  for (size_t i = first; i < end; i++) {
    const struct cl_row *r = c->v.rows[i];
    char hex[16];
    fputs("<tr><td>", out);
    html_code(out, "id", r->ja4);
    fprintf(out, "</td><td>%llu</td><td>%s</td><td>", (unsigned long long)r->count,
            version_name(r->version));
    report_html_puts(out, suite_name(r, hex));
    fputs("</td><td>", out);
    report_html_puts(out, r->kx[0] ? r->kx : "-");
    fputs("</td><td>", out);
    html_sample(out, &c->v, &r->first);
    fputs("</td></tr>\n", out);
  }
  fputs("</table></div>\n", out);
}

/* The clients, worst first; what each server's clients got is in the
 * server's section (report_clients_server_html). */
void report_clients_html(FILE *out, const struct report_clients_view *cv) {
  if (!cv)
    return;
  const struct view *v = &cv->v;
  fputs("<h2 id=\"clients\">Clients</h2>\n<p>", out);
  fprintf(out, "%zu client%s seen (address and JA4; %llu connections)", v->n_clients,
          v->n_clients == 1 ? "" : "s", (unsigned long long)v->connections);
  for (int k = 0; k < CL_N; k++)
    if (v->with[k])
      fprintf(out, ", %zu %s", v->with[k], short_label[k]);
  if (v->hits)
    fprintf(out, ", %llu not listed (<code>--limit clients</code>)", (unsigned long long)v->hits);
  fputs(". Worst first; each finding with its connections and first frame. What each server's "
        "clients got is in the server's section.</p>\n",
        out);
  fputs(
      "<div class=\"scroll\"><table><tr><th>address</th><th>JA4</th><th>connections</th><th>offers "
      "up to</th>"
      "<th>got</th><th>findings</th></tr>\n",
      out);
  for (size_t i = 0; i < v->n_clients && i < HTML_TOP; i++)
    client_html(out, v, v->clients[i]);
  fputs("</table></div>\n", out);
  if (v->n_clients > HTML_TOP)
    fprintf(out, "<p>+%zu more clients (the JSON report lists all).</p>\n",
            v->n_clients - HTML_TOP);
}

/* ---- JSON ---- */

/* "sample" (and "sample_invalid_utf8"), as report_add_sample adds it */
static void sample_member(struct json_out *j, struct json_members *m, const struct view *v,
                          const struct cl_at *at) {
  char *where = sample_text(v, at);
  if (where)
    report_json_member_wire(j, m, "sample", "sample_invalid_utf8", where);
  else
    j->failed = true;
  free(where);
}

/* The texts below are unformatted objects from templates printed once
 * (report_json_part.c), as cJSON prints the trees they stand for: a tree
 * per item, printed and freed, was most of the inventory's cost. */
static const char *client_json(struct json_out *j, const struct view *v,
                               const struct cl_client *c) {
  struct json_members m = {.n = 0};
  report_json_member_string(j, &m, "ip", c->ip);
  report_json_member_string(j, &m, "ja4", c->ja4);
  report_json_member_uint(j, &m, "connections", c->count);
  sample_member(j, &m, v, &c->first);
  report_json_member_string(j, &m, "offers_up_to", version_name(c->best_offered));
  const char *got[7], *findings[CL_N];
  size_t n_got = 0, n_findings = 0, len;
  for (unsigned rank = 1; rank < 7; rank++)
    if (c->got & (1u << rank) && !(got[n_got++] = report_json_string(j, rank_name[rank], &len)))
      return NULL;
  report_json_member_array(j, &m, "got", got, n_got, true);
  for (int k = 0; k < CL_N; k++) {
    const struct cl_mark *mk = cl_mark_of(c, k);
    if (!mk->count)
      continue;
    struct json_members e = {.n = 0};
    report_json_member_string(j, &e, "id", cl_kind_id(k));
    report_json_member_uint(j, &e, "connections", mk->count);
    sample_member(j, &e, v, &mk->at);
    if (!(findings[n_findings++] = report_json_members(j, &e, REPORT_JSON_FLAT, false)))
      return NULL;
  }
  report_json_member_array(j, &m, "findings", findings, n_findings, true);
  return report_json_members(j, &m, REPORT_JSON_FLAT, false);
}

static const char *server_json(struct json_out *j, const struct view *v,
                               const struct ev_endpoint *ep, size_t first, size_t end) {
  struct json_members m = {.n = 0};
  report_json_member_wire(j, &m, "host", "host_invalid_utf8", ep->host);
  report_json_member_string(j, &m, "ip", ep->ip);
  report_json_member_uint(j, &m, "port", ep->port);
  const char **clients = calloc(end - first + 1, sizeof(*clients));
  if (!clients)
    return NULL;
  size_t n = 0;
  for (size_t i = first; i < end; i++) {
    const struct cl_row *r = v->rows[i];
    char hex[16];
    struct json_members e = {.n = 0};
    report_json_member_string(j, &e, "ja4", r->ja4);
    report_json_member_uint(j, &e, "connections", r->count);
    report_json_member_string(j, &e, "version", version_name(r->version));
    report_json_member_string(j, &e, "suite", suite_name(r, hex));
    if (r->kx[0])
      report_json_member_string(j, &e, "group", r->kx);
    sample_member(j, &e, v, &r->first);
    if (!(clients[n++] = report_json_members(j, &e, REPORT_JSON_FLAT, false)))
      break;
  }
  const char *text = NULL;
  if (!j->failed) {
    report_json_member_array(j, &m, "clients", clients, n, true);
    text = report_json_members(j, &m, REPORT_JSON_FLAT, false);
  }
  free(clients);
  return text;
}

/* One item after sep (the first's, or the others'), its texts let go; an
 * item left out (out of memory) changes no separator. */
static void put_text(FILE *out, struct json_out *j, size_t *printed, const char *text) {
  if (text) {
    fputs(*printed ? ",\n      " : "\n      ", out);
    fputs(text, out);
    ++*printed;
  }
  report_json_server_done(j);
}

/* One item, unformatted, after sep; deleted. */
static void put_item(FILE *out, const char *sep, cJSON *item) {
  char *text = item ? cJSON_PrintUnformatted(item) : NULL;
  if (text)
    fprintf(out, "%s%s", sep, text);
  free(text);
  cJSON_Delete(item);
}

/* Streamed a client at a time: the inventory holds up to --limit clients
 * of them, and the whole of it as one tree would cost several times the
 * table. */
void report_clients_json(FILE *out, const struct grade_result *const *r, size_t n,
                         const struct report_meta *m) {
  struct view v;
  struct json_out *j = report_json_scratch_new();
  if (!j || !view_open(&v, m)) {
    if (j)
      view_close(&v);
    report_json_scratch_free(j);
    return;
  }
  cJSON *counts = cJSON_CreateObject();
  for (int k = 0; k < CL_N; k++)
    cJSON_AddItemToObject(counts, cl_kind_id(k), report_count_item(v.with[k]));
  fprintf(out, "  \"clients\": {\"seen\": %zu, \"connections\": %llu, \"not_listed\": %llu, ",
          v.n_clients, (unsigned long long)v.connections, (unsigned long long)v.hits);
  put_item(out, "\"with\": ", counts);
  fputs(",\n    \"list\": [", out);
  size_t printed = 0;
  for (size_t i = 0; i < v.n_clients; i++)
    put_text(out, j, &printed, client_json(j, &v, v.clients[i]));
  fputs("],\n    \"per_server\": [", out);
  printed = 0;
  for (size_t i = 0; i < n; i++) {
    size_t first, end = rows_of(&v, r[i]->ep, &first);
    if (end > first)
      put_text(out, j, &printed, server_json(j, &v, r[i]->ep, first, end));
  }
  fputs("]},\n", out);
  view_close(&v);
  report_json_scratch_free(j);
}
