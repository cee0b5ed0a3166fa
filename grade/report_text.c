/*
 * grade/report_text.c - the terminal report: a summary table (host,
 * server, grade, key findings), then each server in detail with the caps
 * that applied, every check and the frames that prove it, and what to do.
 * Colour only when asked (a TTY); wire strings through report_term_puts.
 */
#include "grade/report.h"

#include <stdlib.h>
#include <string.h>

struct style {
  bool color;
};

static const char *grade_color(const char *letter) {
  if (letter[0] == 'A')
    return "\033[1;32m";
  if (letter[0] == 'B')
    return "\033[1;33m";
  if (letter[0] == '-')
    return "\033[2m";
  return "\033[1;31m";
}

static void put_grade(FILE *out, const struct style *st, const char *letter, int width) {
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

static void key_findings(FILE *out, const struct grade_result *r) {
  if (!r->graded) {
    fputs(r->no_grade_reason, out);
    return;
  }
  int shown = 0;
  for (size_t i = 0; i < r->n_checks && shown < 4; i++) {
    const struct check_result *c = &r->checks[i];
    if (c->status == CHECK_FAIL && c->effect != EFFECT_NONE)
      fprintf(out, "%s%s", shown++ ? ", " : "", c->id);
  }
  if (!shown)
    fputs("no failed check", out);
  if (r->changed)
    fprintf(out, "; changed during capture: %s, then %s", r->before, r->after);
  fprintf(out, " (%zu/%zu checks decided)", r->n_decided, r->n_checks);
  char beyond[REPORT_BEYOND_LEN];
  report_beyond_letter(r, beyond, sizeof beyond);
  if (beyond[0])
    fprintf(out, "; %s", beyond);
}

static void summary(FILE *out, const struct grade_result *const *r, size_t n,
                    const struct style *st) {
  fprintf(out, "%-32s %-24s %-6s %-6s %s\n", "HOST (SNI)", "SERVER", "GRADE", "FLOOR",
          "KEY FINDINGS");
  for (size_t i = 0; i < n; i++) {
    char server[80];
    snprintf(server, sizeof(server), strchr(r[i]->ep->ip, ':') ? "[%s]:%u" : "%s:%u", r[i]->ep->ip,
             r[i]->ep->port);
    put_padded(out, r[i]->ep->host, 32);
    put_padded(out, server, 24);
    put_grade(out, st, r[i]->letter, 6);
    fputc(' ', out);
    put_grade(out, st, r[i]->floor, 6);
    fputc(' ', out);
    key_findings(out, r[i]);
    fputc('\n', out);
  }
}

/* s, then spaces to width (printf's %-*s). */
static void put_left(FILE *out, const char *s, int width) {
  fputs(s, out);
  for (int i = (int)strlen(s); i < width; i++)
    fputc(' ', out);
}

/* " (seen N time(s), e.g. FILE:FRAME)" and the line's end. */
static void put_seen(FILE *out, const struct ev_fact *f) {
  char *where = report_sample(&f->sample);
  fputs(" (seen ", out);
  report_put_uint(out, f->count);
  fputs(f->count == 1 ? " time, e.g. " : " times, e.g. ", out);
  report_term_puts(out, where ? where : "?");
  fputs(")\n", out);
  free(where);
}

static void put_evidence(FILE *out, const struct check_result *c) {
  for (size_t i = 0; i < c->n_evidence; i++) {
    const struct ev_fact *f = c->evidence[i];
    fputs("          evidence: ", out);
    report_term_puts(out, f->key);
    put_seen(out, f);
  }
}

static const char *status_mark(enum check_status s) {
  return s == CHECK_PASS ? "pass" : s == CHECK_FAIL ? "FAIL" : "  ? ";
}

static void score_line(FILE *out, const struct grade_result *r) {
  const char *names[] = {"protocol", "key exchange", "cipher"};
  int values[] = {r->protocol, r->key_exchange, r->cipher};
  fputs("   score:", out);
  for (int i = 0; i < 3; i++) {
    if (values[i] >= 0)
      fprintf(out, " %s %d,", names[i], values[i]);
    else
      fprintf(out, " %s unknown,", names[i]);
  }
  if (r->total >= 0)
    fprintf(out, " total %d\n", r->total);
  else
    fputs(" total unknown\n", out);
}

/* Handshakes that are no evidence (violations) or only evidence against
 * the server (aborted by their client). */
static void notices(FILE *out, const struct ev_endpoint *ep) {
  const struct ev_fact *notes[REPORT_MAX_NOTICES];
  size_t n = report_notices(ep, notes, REPORT_MAX_NOTICES);
  for (size_t i = 0; i < n; i++) {
    fputs("   notice: ", out);
    fputs(report_notice_kind(notes[i]), out);
    fputs(": ", out);
    report_term_puts(out, ev_fact_name(notes[i]));
    put_seen(out, notes[i]);
  }
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
    put_seen(out, f);
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
      put_seen(out, f);
    else
      fputc('\n', out);
  }
}

static void server_detail(FILE *out, const struct grade_result *r, const struct style *st) {
  fputs("\n== ", out);
  report_term_puts(out, r->ep->host);
  bool v6 = strchr(r->ep->ip, ':') != NULL;
  fputs(v6 ? "  [" : "  ", out);
  report_term_puts(out, r->ep->ip); /* every field from evidence, even one checked on load */
  fprintf(out, "%s:%u  grade ", v6 ? "]" : "", r->ep->port);
  put_grade(out, st, r->letter, 0);
  fprintf(out, "  (trust ignored %s, floor %s)\n", r->letter_trust_ignored, r->floor);
  if (r->changed) {
    char when[CAP_TIME_STRLEN];
    cap_time_str(r->changed_at, when, sizeof(when));
    fprintf(out, "   configuration changed at %s (%s): grade %s before, %s after\n", when,
            r->change_reason, r->before, r->after);
    char *was = report_sample(&r->change_before), *is = report_sample(&r->change_after);
    fputs("          evidence: ", out);
    report_term_puts(out, was ? was : "?");
    fputs(" before, ", out);
    report_term_puts(out, is ? is : "?");
    fputs(" after\n", out);
    free(was);
    free(is);
  }
  if (!r->graded) {
    fprintf(out, "   not graded: %s\n", r->no_grade_reason);
  } else {
    score_line(out, r);
    if (r->best_version[0]) { /* the names end evidence keys */
      fputs("   versions seen: best ", out);
      report_term_puts(out, r->best_version);
      fputs(", worst ", out);
      report_term_puts(out, r->worst_version);
      fputs(" (lower bounds: a server may support more than clients asked for)\n", out);
    }
  }
  notices(out, r->ep);
  fprintf(out, "   graded on %zu of %zu checks (the rest need traffic the capture lacks)\n",
          r->n_decided, r->n_checks);
  for (size_t i = 0; i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    /* fputs, not fprintf: 48 lines per server */
    fputs("     ", out);
    fputs(status_mark(c->status), out);
    fputs("  ", out);
    put_left(out, c->id, 10);
    fputc(' ', out);
    fputs(c->title, out);
    if (c->status == CHECK_FAIL && c->effect == EFFECT_CAP)
      fprintf(out, "  [caps at %c]", c->cap);
    else if (c->status == CHECK_FAIL && c->effect == EFFECT_TRUST)
      fputs("  [T]", out);
    else if (c->status == CHECK_FAIL && c->effect == EFFECT_NAME)
      fputs("  [M]", out);
    else if (c->status == CHECK_FAIL && c->effect == EFFECT_WARN)
      fputs("  [warning]", out);
    if (c->reason) {
      fputs(": ", out);
      fputs(c->reason, out);
    }
    fputc('\n', out);
    if (c->status != CHECK_UNKNOWN)
      put_evidence(out, c);
  }
  const struct check_result *order[GRADE_MAX_CHECKS];
  size_t n = report_recommendations(r, order);
  if (n)
    fputs("   recommendations (most severe first):\n", out);
  for (size_t i = 0; i < n; i++)
    fprintf(out, "     %zu. %s\n", i + 1, order[i]->recommendation);
}

void report_text(FILE *out, const struct grade_result *const *r, size_t n,
                 const struct report_meta *m, bool color, bool detail) {
  struct style st = {color};
  fprintf(out,
          "tlsgrade %s: passive grades (SSL Labs rating guide 2009r) for %zu server%s "
          "from %zu input%s\n\n",
          TLSGRADE_VERSION, n, n == 1 ? "" : "s", m->n_inputs, m->n_inputs == 1 ? "" : "s");
  for (size_t i = 0; i < m->n_warnings; i++) {
    fputs("warning: ", out);
    report_term_puts(out, m->warnings[i]);
    fputs(i + 1 == m->n_warnings ? "\n\n" : "\n", out);
  }
  if (!n) {
    fputs(m->hello_only ? "no TLS server answered in the input: nothing to grade\n"
                        : "no TLS server seen in the input: nothing to grade\n",
          out);
    unverified(out, m);
    hello_only(out, m);
    return;
  }
  summary(out, r, n, &st);
  fputs("\nFLOOR is the grade if every check the capture cannot decide had failed.\n", out);
  unverified(out, m);
  hello_only(out, m);
  report_clients_text(out, r, n, m, detail);
  for (size_t i = 0; detail && i < n && !report_stopped(m); i++)
    server_detail(out, r[i], &st);
}
