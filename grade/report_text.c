/*
 * grade/report_text.c - the terminal report: a header (what it rests on),
 * a summary table (host, server, grade, key findings) as wide as the
 * terminal, then each server in detail (report_text_detail.c).
 * Colour only when asked (a TTY); wire strings through report_term_puts.
 */
#include "grade/report_text.h"

#include <stdlib.h>
#include <string.h>

static const char *grade_color(const char *letter) {
  if (letter[0] == 'A')
    return "\033[1;32m";
  if (letter[0] == 'B')
    return "\033[1;33m";
  if (letter[0] == '-')
    return "\033[2m";
  return "\033[1;31m";
}

void report_text_grade(FILE *out, const struct report_text_style *st, const char *letter,
                       int width) {
  if (st->color)
    fputs(grade_color(letter), out);
  fprintf(out, "%-*s", width, letter);
  if (st->color)
    fputs("\033[0m", out);
}

static void put_padded(FILE *out, const char *s, int width) {
  report_term_puts(out, s);
  int len = (int)strlen(s);
  for (int i = len; i < width; i++)
    fputc(' ', out);
  fputc(' ', out);
}

static void put_spaces(FILE *out, size_t n) {
  for (size_t i = 0; i < n; i++)
    fputc(' ', out);
}

/* ---- the summary: one line per server, at most `columns` wide ---- */

/* Columns of the summary besides host, server and findings. */
#define GRADE_COLUMN 5          /* "GRADE": "A+*" */
#define DECIDED_COLUMN 7        /* "DECIDED": "22/52" */
#define FINDINGS_MIN 28         /* the host name gives way first */
#define SERVER_MAX 21           /* "255.255.255.255:65535"; longer IPv6 gives way */
#define ELLIPSIS "\xe2\x80\xa6" /* U+2026: one column */

/* s as the terminal shows it (report_term_puts: escapes made visible),
 * malloc'd; NULL when out of memory. */
static char *term_text(const char *s) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return NULL;
  report_term_puts(f, s);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* Columns of valid UTF-8 text: one per code point (wide characters are
 * counted as one: host names are mostly ASCII). */
static size_t text_columns(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

/* The byte offset of code point k of s (its length when s is shorter). */
static size_t byte_at(const char *s, size_t k) {
  size_t i = 0;
  for (; s[i]; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80 && k-- == 0)
      break;
  return i;
}

/* Terminal text in a cell of `width` columns and a space: padded, or
 * shortened with an ellipsis near its end, so most of the start of a host
 * name (its own labels) and a little of its end stay. */
static void put_cell(FILE *out, const char *text, size_t width) {
  size_t n = text_columns(text);
  if (n <= width) {
    fputs(text, out);
    put_spaces(out, width - n + 1);
    return;
  }
  size_t tail = (width - 1) / 4, head = width - 1 - tail;
  fwrite(text, 1, byte_at(text, head), out);
  fputs(ELLIPSIS, out);
  fputs(text + byte_at(text, n - tail), out);
  fputc(' ', out);
}

/* The same for a string from the evidence (sanitised first). */
static void put_term_cell(FILE *out, const char *s, size_t width) {
  char *text = term_text(s);
  put_cell(out, text ? text : "?", width);
  free(text);
}

static size_t term_columns(const char *s) {
  char *text = term_text(s);
  size_t n = text ? text_columns(text) : 1;
  free(text);
  return n;
}

static void server_name(const struct ev_endpoint *ep, char *buf, size_t len) {
  snprintf(buf, len, strchr(ep->ip, ':') ? "[%s]:%u" : "%s:%u", ep->ip, ep->port);
}

/* text (ASCII) from the cursor, `first` columns on this line, the rest on
 * lines of `width` columns after `indent` spaces, broken at spaces; ends
 * the line. */
static void put_wrapped(FILE *out, const char *text, size_t first, size_t indent, size_t width) {
  size_t room = first;
  while (*text) {
    size_t len = strlen(text);
    size_t cut = len;
    if (len > room) {
      cut = room;
      while (cut > 0 && text[cut] != ' ')
        cut--;
      if (!cut)
        cut = room; /* one word longer than the line */
    }
    fwrite(text, 1, cut, out);
    text += cut;
    while (*text == ' ')
      text++;
    if (*text) {
      fputc('\n', out);
      put_spaces(out, indent);
      room = width;
    }
  }
  fputc('\n', out);
}

/* The summary's layout for this report: the host column as wide as the
 * longest name the width allows, the findings the rest. */
struct layout {
  size_t columns, host, server, findings, indent;
};

static struct layout summary_layout(const struct grade_result *const *r, size_t n,
                                    unsigned columns) {
  struct layout l = {columns ? columns : REPORT_COLUMNS, strlen("HOST (SNI)"), strlen("SERVER"), 0,
                     0};
  if (l.columns < REPORT_COLUMNS_MIN)
    l.columns = REPORT_COLUMNS_MIN;
  size_t longest_host = l.host;
  for (size_t i = 0; i < n; i++) {
    char server[CAP_ENDPOINT_STRLEN + 2];
    server_name(r[i]->ep, server, sizeof server);
    size_t h = term_columns(r[i]->ep->host), s = strlen(server);
    longest_host = h > longest_host ? h : longest_host;
    l.server = s > l.server ? s : l.server;
  }
  /* The cells and a space after each of the first four. */
  size_t rest = l.columns - GRADE_COLUMN - DECIDED_COLUMN - 4;
  size_t server_max = rest / 4 > SERVER_MAX ? rest / 4 : SERVER_MAX;
  l.server = l.server < server_max ? l.server : server_max;
  size_t host_room = rest - l.server > FINDINGS_MIN + 12 ? rest - l.server - FINDINGS_MIN : 12;
  l.host = longest_host < host_room ? longest_host : host_room;
  l.findings = rest - l.host - l.server;
  l.indent = l.columns - l.findings;
  return l;
}

/* The ids from `from` on, joined as the summary lists them: ", " within
 * a kind, "; info: " before the first informational one ("info only: "
 * when no failure changes the grade). */
static size_t join_findings(char *buf, size_t len, const struct check_result *const *f,
                            size_t shown, size_t affecting) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < shown && used < len; i++) {
    const char *sep = i == 0           ? (affecting ? "" : "info only: ")
                      : i == affecting ? "; info: "
                                       : ", ";
    int k = snprintf(buf + used, len - used, "%s%s", sep, f[i]->id);
    used += k > 0 ? (size_t)k : 0;
  }
  return used < len ? used : len - 1;
}

/* What else the letter needs said, on lines of its own under the row
 * (NOTE_INDENT): its parts ("; " between them) joined while they fit,
 * a part longer than a line broken at spaces. */
#define NOTE_INDENT 4
static void put_note(FILE *out, const char *note, const struct layout *l) {
  size_t room = l->columns - NOTE_INDENT, used = 0;
  char line[REPORT_BEYOND_LEN + 64];
  while (*note) {
    const char *end = strstr(note, "; ");
    int len = end ? (int)(end - note) : (int)strlen(note);
    if (used && used + 2 + (size_t)len > room) { /* this line is full */
      put_spaces(out, NOTE_INDENT);
      fputs(line, out);
      fputs(";\n", out);
      used = 0;
    }
    int k = snprintf(line + used, sizeof line - used, "%s%.*s", used ? "; " : "", len, note);
    used += k > 0 ? (size_t)k : 0;
    used = used < sizeof line ? used : sizeof line - 1;
    note += len + (end ? 2 : 0);
  }
  if (used) {
    put_spaces(out, NOTE_INDENT);
    put_wrapped(out, line, room, NOTE_INDENT, room); /* a part longer than a line */
  }
}

/* The failed checks, heaviest first, as many as fit `width` with
 * "+N more" for the rest. */
static void key_findings(FILE *out, const struct grade_result *r, const struct layout *l) {
  if (!r->graded) {
    put_wrapped(out, r->no_grade_reason, l->findings, l->indent, l->findings);
    return;
  }
  const struct check_result *f[GRADE_MAX_CHECKS];
  size_t affecting, n = report_findings(r, f, &affecting);
  char text[GRADE_MAX_CHECKS * 24], more[32];
  size_t shown = n;
  for (; shown > 0; shown--) {
    size_t len = join_findings(text, sizeof text, f, shown, affecting);
    int k = shown < n ? snprintf(more, sizeof more, " +%zu more", n - shown) : 0;
    if (len + (size_t)k <= l->findings)
      break;
  }
  if (!n)
    snprintf(text, sizeof text, "no failed check");
  else if (!shown)
    snprintf(text, sizeof text, "%zu failed checks", n);
  else if (shown < n)
    snprintf(text + strlen(text), sizeof text - strlen(text), " +%zu more", n - shown);
  fputs(text, out);
  fputc('\n', out);
  char note[REPORT_BEYOND_LEN + 64];
  if (r->changed) {
    snprintf(note, sizeof note, "changed during capture: %s, then %s", r->before, r->after);
    put_note(out, note, l);
  }
  report_beyond_letter(r, note, sizeof note);
  put_note(out, note, l);
}

/* What the marks and columns of the summary mean, for those that occur. */
static void summary_notes(FILE *out, const struct grade_result *const *r, size_t n,
                          const struct layout *l) {
  bool said['?' + 1] = {false}, info = false;
  fputc('\n', out);
  put_wrapped(out,
              "DECIDED: the checks the capture decided, of all; the rest need traffic it lacks "
              "and never lower the grade.",
              l->columns, 2, l->columns - 2);
  for (size_t i = 0; i < n; i++) {
    if (report_no_sni_folded(r[i]))
      continue;
    struct report_confidence c;
    report_confidence(r[i], &c);
    if (c.mark && !said[(unsigned char)c.mark]) {
      said[(unsigned char)c.mark] = true;
      char line[256];
      snprintf(line, sizeof line, "%c %s.", c.mark, c.note);
      put_wrapped(out, line, l->columns, 2, l->columns - 2);
    }
    const struct check_result *f[GRADE_MAX_CHECKS];
    size_t affecting;
    info = info || report_findings(r[i], f, &affecting) > affecting;
  }
  if (info)
    put_wrapped(out, "info: failed checks that do not change the grade (informational).",
                l->columns, 2, l->columns - 2);
}

static void summary(FILE *out, const struct grade_result *const *r, size_t n,
                    const struct report_text_style *st, unsigned columns) {
  struct layout l = summary_layout(r, n, columns);
  put_cell(out, "HOST (SNI)", l.host);
  put_cell(out, "SERVER", l.server);
  fprintf(out, "%-*s %-*s KEY FINDINGS\n", GRADE_COLUMN, "GRADE", DECIDED_COLUMN, "DECIDED");
  for (size_t i = 0; i < n; i++) {
    if (report_no_sni_folded(r[i]))
      continue; /* no letter of its own: no_sni_folded */
    char server[CAP_ENDPOINT_STRLEN + 2], decided[32];
    server_name(r[i]->ep, server, sizeof server);
    put_term_cell(out, r[i]->ep->host, l.host);
    put_cell(out, server, l.server);
    struct report_confidence c;
    report_confidence(r[i], &c);
    report_text_grade(out, st, c.display, GRADE_COLUMN);
    snprintf(decided, sizeof decided, "%zu/%zu", r[i]->n_decided, r[i]->n_checks);
    fprintf(out, " %-*s ", DECIDED_COLUMN, decided);
    key_findings(out, r[i], &l);
  }
  summary_notes(out, r, n, &l);
}

/* " (seen N time(s), e.g. FILE:FRAME)" and the line's end. */
void report_text_seen(FILE *out, const struct ev_fact *f) {
  char *where = report_sample(&f->sample);
  fputs(" (seen ", out);
  report_put_uint(out, f->count);
  fputs(f->count == 1 ? " time, e.g. " : " times, e.g. ", out);
  report_term_puts(out, where ? where : "?");
  fputs(")\n", out);
  free(where);
}

/* Addresses that sent handshake messages without a ClientHello on their
 * connection: listed, not graded. */
static void unverified(FILE *out, const struct report_meta *m) {
  if (!m->n_unverified)
    return;
  fputs("\nUNVERIFIED (handshake messages on connections without a ClientHello: not graded)\n",
        out);
  for (size_t i = 0; i < m->n_unverified; i++) {
    const struct ev_endpoint *ep = m->unverified[i];
    const struct ev_fact *f = ev_find_id(ep, EV_UNVERIFIED, NULL);
    char server[80];
    snprintf(server, sizeof(server), strchr(ep->ip, ':') ? "[%s]:%u" : "%s:%u", ep->ip, ep->port);
    fputs("   ", out);
    put_padded(out, server, 24);
    fputs("server flight without a client side", out);
    report_text_seen(out, f);
  }
}

/* Endpoints without SNI folded under the named servers of their address
 * (report_no_sni_folded): what their connections showed, no letter; with
 * clients, the clients that connected (they have no block of their own). */
static void no_sni_folded(FILE *out, const struct grade_result *const *r, size_t n,
                          const struct report_clients_view *clients) {
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    if (!report_no_sni_folded(r[i]))
      continue;
    if (first)
      fputs("\nCONNECTIONS WITHOUT SNI (folded under the named servers of their address)\n", out);
    first = false;
    char server[80], line[REPORT_NO_SNI_LEN];
    snprintf(server, sizeof(server), strchr(r[i]->ep->ip, ':') ? "[%s]:%u" : "%s:%u", r[i]->ep->ip,
             r[i]->ep->port);
    report_no_sni_line(r[i]->ep, line, sizeof line);
    fputs("   ", out);
    put_padded(out, server, 24);
    report_term_puts(out, line);
    fputc('\n', out);
    report_clients_server_text(out, clients, r[i]->ep); /* it has no block of its own */
  }
}

/* Servers seen only in ClientHellos: decided nothing, so one count and
 * those with the most connections rather than a block of unknown checks
 * each. */
static void hello_only(FILE *out, const struct report_meta *m) {
  const struct report_hello_only *h = m->hello_only;
  if (!h)
    return;
  fputs("\n", out);
  report_put_uint(out, h->servers);
  fputs(h->servers == 1 ? " server" : " servers", out);
  fputs(" seen only in ClientHellos (", out);
  report_put_uint(out, h->connections);
  fputs(h->connections == 1 ? " connection" : " connections", out);
  fputs(", no answer from the server read): not graded\n", out);
  if (h->evicted) {
    fputs("   ", out);
    report_put_uint(out, h->evicted);
    fputs(" of those connections were evicted before any answer (flow table full, see --limit "
          "flows)\n",
          out);
  }
  if (h->n_top < h->servers)
    fprintf(out, "   the %zu with the most connections:\n", h->n_top);
  for (size_t i = 0; i < h->n_top; i++) {
    const struct ev_endpoint *ep = h->top[i];
    char server[80];
    snprintf(server, sizeof(server), strchr(ep->ip, ':') ? "[%s]:%u" : "%s:%u", ep->ip, ep->port);
    fputs("   ", out);
    put_padded(out, ep->host, 32);
    put_padded(out, server, 24);
    const struct ev_fact *f = ev_find_id(ep, EV_HANDSHAKES, NULL);
    const struct ev_fact *evicted = ev_find_id(ep, EV_EVICTED_UNANSWERED, NULL);
    fputs("ClientHello", out);
    if (evicted) {
      fputs(" (", out);
      report_put_uint(out, evicted->count);
      fputs(" evicted before the answer)", out);
    }
    if (f)
      report_text_seen(out, f);
    else
      fputc('\n', out);
  }
}

/* A number of the run's statistics (JSON "stats"), -1 when absent. */
static double stat_of(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void put_list(FILE *out, const char *const *names, size_t n) {
  for (size_t i = 0; i < n; i++) {
    fputs(i ? ", " : "", out);
    report_term_puts(out, names[i] ? names[i] : "");
  }
}

/* "key logs": which, and what they opened (stats "decryption"). */
static void header_keylogs(FILE *out, const struct report_meta *m) {
  fputs("  key logs     ", out);
  if (!m->n_keylogs) {
    fputs("none (certificates of TLS 1.3 and HTTP headers stay hidden)\n", out);
    return;
  }
  put_list(out, m->keylogs, m->n_keylogs);
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(m->stats, "decryption");
  double ok = stat_of(d, "decrypted"), failed = stat_of(d, "failed"), none = stat_of(d, "no_keys"),
         other = stat_of(d, "unsupported");
  if (ok < 0 || failed < 0 || none < 0 || other < 0) {
    fputc('\n', out);
    return;
  }
  fprintf(out, ": decrypted %.0f of %.0f TLS connections", ok, ok + failed + none + other);
  if (failed)
    fprintf(out, ", %.0f failed (secrets do not match)", failed);
  if (other)
    fprintf(out, ", %.0f not decryptable (unsupported)", other);
  if (!ok && none)
    fputs(" (matched no connection)", out);
  fputc('\n', out);
}

/* What the report was made from: when, which capture period, inputs,
 * trust store, key logs, and the warnings of the run. */
static void header(FILE *out, const struct grade_result *const *r, size_t n_results,
                   const struct report_meta *m) {
  size_t n = 0; /* a `-` endpoint folded under its address is no server of its own */
  for (size_t i = 0; i < n_results; i++)
    n += !report_no_sni_folded(r[i]);
  /* Two lines: together they pass 80 columns. */
  fprintf(out, "tlsgrade %s: passive grades (SSL Labs rating guide 2009r)\n", TLSGRADE_VERSION);
  fprintf(out, "  servers      %zu, from %zu input%s\n", n, m->n_inputs,
          m->n_inputs == 1 ? "" : "s");
  char when[CAP_TIME_STRLEN];
  if (m->generated) {
    cap_time_str(m->generated, when, sizeof when);
    fprintf(out, "  report time  %s\n", when);
  }
  const cJSON *first = cJSON_GetObjectItemCaseSensitive(m->stats, "first_packet");
  const cJSON *last = cJSON_GetObjectItemCaseSensitive(m->stats, "last_packet");
  if (cJSON_IsString(first) && cJSON_IsString(last))
    fprintf(out, "  captured     %s to %s\n", first->valuestring, last->valuestring);
  else if (m->from_evidence)
    fputs("  captured     (saved evidence merged: no packet read for this report)\n", out);
  fputs("  inputs       ", out);
  if (m->n_inputs <= 3) {
    put_list(out, m->inputs, m->n_inputs);
  } else {
    fprintf(out, "%zu: ", m->n_inputs);
    report_term_puts(out, m->inputs[0] ? m->inputs[0] : "");
    fputs(" ... ", out);
    report_term_puts(out, m->inputs[m->n_inputs - 1] ? m->inputs[m->n_inputs - 1] : "");
  }
  fputs("\n  trust store  ", out);
  if (m->from_evidence)
    fputs("as recorded with the evidence; chains completed here against ", out);
  if (m->ca_file || m->ca_path) {
    const char *both[] = {m->ca_file, m->ca_path};
    const char *opt[] = {"--ca-file ", "--ca-path "};
    for (int i = 0, k = 0; i < 2; i++)
      if (both[i]) {
        fputs(k++ ? ", " : "", out);
        fputs(opt[i], out);
        report_term_puts(out, both[i]);
      }
    fputc('\n', out);
  } else {
    fputs(m->trust_loaded ? "the system's default store\n"
                          : "none loaded: no chain verified, trust not decided\n",
          out);
  }
  if (!m->from_evidence)
    header_keylogs(out, m);
  for (size_t i = 0; i < m->n_warnings; i++) {
    fputs("warning: ", out);
    report_term_puts(out, m->warnings[i]);
    fputc('\n', out);
  }
  fputc('\n', out);
}

void report_text(FILE *out, const struct grade_result *const *r, size_t n,
                 const struct report_meta *m, bool color, bool detail) {
  struct report_clients_view *clients = n ? report_clients_view_open(m) : NULL;
  struct report_text_style st = {color, m->verbose, clients};
  header(out, r, n, m);
  if (!n) {
    fputs(m->hello_only ? "no TLS server answered in the input: nothing to grade\n"
                        : "no TLS server seen in the input: nothing to grade\n",
          out);
    unverified(out, m);
    hello_only(out, m);
    report_clients_view_close(clients);
    return;
  }
  summary(out, r, n, &st, m->columns);
  no_sni_folded(out, r, n, detail ? clients : NULL);
  unverified(out, m);
  hello_only(out, m);
  report_clients_text(out, clients, detail);
  for (size_t i = 0; detail && i < n && !report_stopped(m); i++)
    if (!report_no_sni_folded(r[i]))
      report_text_server(out, r[i], &st);
  report_clients_view_close(clients);
}
