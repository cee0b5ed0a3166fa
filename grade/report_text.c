/*
 * grade/report_text.c - the terminal report: a summary table (host,
 * server, grade, key findings), then each server in detail
 * (report_text_detail.c).
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
                    const struct report_text_style *st) {
  fprintf(out, "%-32s %-24s %-6s %-6s %s\n", "HOST (SNI)", "SERVER", "GRADE", "FLOOR",
          "KEY FINDINGS");
  for (size_t i = 0; i < n; i++) {
    char server[80];
    snprintf(server, sizeof(server), strchr(r[i]->ep->ip, ':') ? "[%s]:%u" : "%s:%u", r[i]->ep->ip,
             r[i]->ep->port);
    put_padded(out, r[i]->ep->host, 32);
    put_padded(out, server, 24);
    report_text_grade(out, st, r[i]->letter, 6);
    fputc(' ', out);
    report_text_grade(out, st, r[i]->floor, 6);
    fputc(' ', out);
    key_findings(out, r[i]);
    fputc('\n', out);
  }
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

void report_text(FILE *out, const struct grade_result *const *r, size_t n,
                 const struct report_meta *m, bool color, bool detail) {
  struct report_text_style st = {color, m->verbose};
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
  for (size_t i = 0; detail && i < n && !report_stopped(m); i++)
    report_text_server(out, r[i], &st);
}
