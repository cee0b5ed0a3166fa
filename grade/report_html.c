/*
 * grade/report_html.c - the HTML report: one self-contained page (no
 * external assets, no script; a CSP meta forbids both) with the same content
 * as the text report: a summary table linking to one section per server
 * with its score, the caps that applied, the certificate chain as sent,
 * the protocols and suites seen, the clients that connected, every check
 * with the frames that prove it (failed ones most severe first, then the
 * passed ones, the undecided ones a row per reason), and what to do.
 * Every string that is not a literal of this file goes through
 * report_html_puts.
 *
 * Layout: the summary comes first (the list of inputs, which may be long,
 * follows it folded in a <details>); findings are in the order of the
 * letter they impose (report_findings).  Narrower than 40rem the summary's
 * cells stack, one server a block, and the wide tables scroll inside their
 * own box: the page itself never scrolls sideways.  Addresses and check
 * ids never break inside (white-space:nowrap); evidence keys and file
 * names may break anywhere.
 */
#include "grade/report.h"

#include <stdlib.h>
#include <string.h>

static const char page_css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:#1f2328;background:#fff;max-width:72rem;margin:0 auto;padding:1.5rem;"
    "overflow-wrap:break-word}"
    "h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.25rem;margin:0 0 .6rem}"
    "h3{font-size:1.05rem;margin:1.2rem 0 .4rem}"
    "header dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem;"
    "margin:0}header dt{font-weight:600}header dd{margin:0}"
    "details.inputs{margin:0 0 1rem}details.inputs summary{cursor:pointer;font-weight:600}"
    "details.inputs ul{margin:.3rem 0 0;padding-left:1.2rem}"
    "table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}"
    "th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;"
    "vertical-align:top}"
    "th{background:#f6f8fa;font-weight:600}"
    "table.score{width:auto}table.chain th[scope=row]{width:1%;white-space:nowrap}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
    "overflow-wrap:anywhere}"
    "code.addr,code.id{white-space:nowrap;overflow-wrap:normal}h2 code.addr{font-size:.75em}"
    ".scroll{overflow-x:auto;margin:.4rem 0 1rem}.scroll table{margin:0}"
    "section{border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.2rem;margin:1.5rem 0}"
    ".badge{display:inline-block;min-width:2.2em;padding:.15em .35em;border-radius:.4em;"
    "font-weight:700;text-align:center;color:#fff;"
    "-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    ".big{font-size:1.6rem;min-width:2.6em}"
    ".g-a{background:#1a7f37}.g-b{background:#d4a017;color:#1f2328}.g-c{background:#cf222e}"
    ".g-t{background:#7a0f14}.g-n{background:#8c959f}"
    ".st{font-weight:600;-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    ".st-pass{color:#1a7f37}.st-fail{color:#cf222e}.st-unknown{color:#6e7781}"
    ".tag{font-size:.8em;color:#6e7781;white-space:nowrap}"
    "ul.ev{margin:0;padding-left:1rem}.muted{color:#6e7781}"
    "@media (max-width:40rem){body{padding:.6rem}section{padding:.6rem}"
    "table.sum,table.sum tbody,table.sum tr,table.sum td{display:block}"
    "table.sum thead{display:none}table.sum tr{border-bottom:1px solid #d0d7de;padding:.4rem 0}"
    "table.sum td{border:0;padding:.1rem 0}table.sum td.g{display:inline-block;margin-right:1rem}"
    "table.sum td::before{content:attr(data-label) \": \";font-weight:600}}"
    "footer{border-top:1px solid #d0d7de;margin-top:2rem;padding-top:.6rem;"
    "color:#57606a;font-size:.9em}"
    "@media print{body{max-width:none;padding:0;font-size:11pt}"
    "section{break-inside:avoid-page;border:0;padding:0}"
    "a{color:inherit;text-decoration:none}tr{break-inside:avoid}}";

/* Badge colour class: A+/A/A- green, B amber, C..F red, T/M dark red, "-" grey. */
static const char *badge_class(const char *letter) {
  switch (letter[0]) {
  case 'A':
    return "g-a";
  case 'B':
    return "g-b";
  case 'T':
  case 'M':
    return "g-t";
  case '-':
  case '\0':
    return "g-n";
  default:
    return "g-c";
  }
}

static void put_badge(FILE *out, const char *letter, bool big) {
  fprintf(out, "<span class=\"badge %s%s\">", badge_class(letter), big ? " big" : "");
  report_html_puts(out, letter[0] ? letter : "-");
  fputs("</span>", out);
}

/* "ip:port", IPv6 in brackets (RFC 3986 section 3.2.2), as code that
 * never breaks inside. */
static void put_server(FILE *out, const struct ev_endpoint *ep) {
  bool v6 = strchr(ep->ip, ':') != NULL;
  fputs(v6 ? "<code class=\"addr\">[" : "<code class=\"addr\">", out);
  report_html_puts(out, ep->ip);
  fprintf(out, "%s:%u</code>", v6 ? "]" : "", ep->port);
}

/* A check id as code that never breaks inside. */
static void put_check_id(FILE *out, const struct check_result *c) {
  fputs("<code class=\"id\">", out);
  report_html_puts(out, c->id);
  fputs("</code>", out);
}

/* Caps, warnings, T and M: the failed checks that changed the letter. */
static bool lowers_grade(const struct check_result *c) {
  return c->status == CHECK_FAIL && (c->effect == EFFECT_CAP || c->effect == EFFECT_TRUST ||
                                     c->effect == EFFECT_NAME || c->effect == EFFECT_WARN);
}

/* What a failed check does to the letter, as a short tag. */
static void put_effect(FILE *out, const struct check_result *c) {
  if (c->status != CHECK_FAIL)
    return;
  switch (c->effect) {
  case EFFECT_CAP:
    fprintf(out, " <span class=\"tag\">caps at %c</span>", c->cap);
    break;
  case EFFECT_TRUST:
    fputs(" <span class=\"tag\">T: not trusted</span>", out);
    break;
  case EFFECT_NAME:
    fputs(" <span class=\"tag\">M: name mismatch</span>", out);
    break;
  case EFFECT_WARN:
    fputs(" <span class=\"tag\">warning: A becomes A-</span>", out);
    break;
  case EFFECT_NO_APLUS:
    fputs(" <span class=\"tag\">blocks A+</span>", out);
    break;
  default:
    break;
  }
}

static void put_evidence(FILE *out, const struct check_result *c) {
  if (c->status == CHECK_UNKNOWN || !c->n_evidence)
    return;
  fputs("<ul class=\"ev\">", out);
  for (size_t i = 0; i < c->n_evidence; i++) {
    const struct ev_fact *f = c->evidence[i];
    fputs("<li><code>", out);
    report_html_puts(out, f->key);
    fputs(report_fact_via(f) ? "</code> (via a connection without SNI) seen " : "</code> seen ",
          out);
    report_put_uint(out, f->count);
    fputs(f->count == 1 ? " time" : " times", out);
    char *where = f->sample.file ? report_sample(&f->sample) : NULL;
    if (where) {
      fputs(", first at <code>", out);
      report_html_puts(out, where);
      fputs("</code>", out);
    }
    free(where);
    fputs("</li>", out);
  }
  fputs("</ul>", out);
}

static void page_head(FILE *out) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">\n"
        "<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        "<title>tlsgrade report</title>\n<style>",
        out);
  fputs(page_css, out);
  fputs("</style>\n</head>\n<body>\n", out);
}

/* Short, so that the summary starts on the first screen: the inputs are
 * listed after it (inputs_list). */
static void page_header(FILE *out, size_t n, const struct report_meta *m) {
  fprintf(out,
          "<header>\n<h1>tlsgrade report</h1>\n<dl>\n"
          "<dt>Tool</dt><dd>tlsgrade %s</dd>\n"
          "<dt>Rules</dt><dd>SSL Labs rating guide 2009r, passive</dd>\n"
          "<dt>Servers</dt><dd>%zu</dd>\n<dt>Inputs</dt><dd>%zu (<a href=\"#inputs\">listed "
          "below the summary</a>)</dd>\n",
          TLSGRADE_VERSION, n, m->inputs ? m->n_inputs : 0);
  for (size_t i = 0; i < m->n_warnings; i++) {
    fputs("<dt>Warning</dt><dd>", out);
    report_html_puts(out, m->warnings[i]);
    fputs("</dd>\n", out);
  }
  fputs("</dl>\n</header>\n", out);
}

/* The inputs, folded: a directory may hold hundreds of captures. */
static void inputs_list(FILE *out, const struct report_meta *m) {
  size_t n = m->inputs ? m->n_inputs : 0;
  fprintf(out, "<details class=\"inputs\" id=\"inputs\"><summary>Inputs (%zu)</summary>", n);
  if (!n)
    fputs("<p class=\"muted\">none</p>", out);
  else
    fputs("<ul>", out);
  for (size_t i = 0; i < n; i++) {
    fputs("<li><code>", out);
    report_html_puts(out, m->inputs[i] ? m->inputs[i] : "");
    fputs("</code></li>", out);
  }
  fputs(n ? "</ul></details>\n" : "</details>\n", out);
}

/* The failed checks in the text summary's order (report_findings): the
 * deciding one first, informational ones after "info:". */
static void key_findings(FILE *out, const struct grade_result *r, size_t index) {
  if (!r->graded) {
    fputs("<span class=\"muted\">", out);
    report_html_puts(out, r->no_grade_reason ? r->no_grade_reason : "not graded");
    fputs("</span>", out);
  } else {
    const struct check_result *f[GRADE_MAX_CHECKS];
    size_t affecting, n = report_findings(r, f, &affecting);
    for (size_t i = 0; i < n; i++) {
      fputs(i == 0 ? (affecting ? "" : "info only: ") : i == affecting ? "; info: " : ", ", out);
      fprintf(out, "<a href=\"#srv-%zu-chk-%zu\">", index, (size_t)(f[i] - r->checks));
      put_check_id(out, f[i]);
      fputs("</a>", out);
    }
    if (!n)
      fputs("no failed check", out);
  }
  fprintf(out, "<br><span class=\"muted\">%zu of %zu checks decided</span>", r->n_decided,
          r->n_checks);
  char beyond[REPORT_BEYOND_LEN];
  report_beyond_letter(r, beyond, sizeof beyond);
  if (beyond[0]) {
    fputs("<br>", out);
    report_html_puts(out, beyond);
  }
}

static void summary(FILE *out, const struct grade_result *const *r, size_t n) {
  fputs("<h2 id=\"summary\">Summary</h2>\n<table class=\"sum\">\n<thead><tr><th scope=\"col\">Host "
        "(SNI)</th>"
        "<th scope=\"col\">Server</th><th scope=\"col\">Grade</th>"
        "<th scope=\"col\">Trust</th><th scope=\"col\">Key findings</th></tr></thead>\n"
        "<tbody>\n",
        out);
  for (size_t i = 0; i < n; i++) {
    if (report_no_sni_folded(r[i]))
      continue; /* no letter of its own: no_sni_folded */
    struct report_confidence c;
    report_confidence(r[i], &c);
    fprintf(out, "<tr><td data-label=\"Host\"><a href=\"#srv-%zu\">", i);
    report_html_puts(out, r[i]->ep->host);
    fputs("</a></td><td data-label=\"Server\">", out);
    put_server(out, r[i]->ep);
    fputs("</td><td class=\"g\" data-label=\"Grade\">", out);
    put_badge(out, c.display, false);
    fputs("</td><td data-label=\"Trust\">", out);
    fputs(c.note ? c.note : r[i]->graded ? "decided" : "", out);
    fputs("</td><td data-label=\"Key findings\">", out);
    key_findings(out, r[i], i);
    fputs("</td></tr>\n", out);
  }
  fputs("</tbody>\n</table>\n", out);
}

static void put_score_cell(FILE *out, const char *name, int value) {
  fprintf(out, "<tr><th scope=\"row\">%s</th>", name);
  if (value >= 0)
    fprintf(out, "<td class=\"num\">%d</td></tr>\n", value);
  else
    fputs("<td class=\"num muted\">unknown</td></tr>\n", out);
}

static void score_table(FILE *out, const struct grade_result *r) {
  fputs("<h3>Score</h3>\n<table class=\"score\">\n<tbody>\n", out);
  put_score_cell(out, "Protocol", r->protocol);
  put_score_cell(out, "Key exchange", r->key_exchange);
  put_score_cell(out, "Cipher", r->cipher);
  put_score_cell(out, "Total", r->total);
  fputs("</tbody>\n</table>\n", out);
  if (r->best_version && r->best_version[0]) {
    fputs("<p>Versions seen: best <code>", out);
    report_html_puts(out, r->best_version);
    fputs("</code>, worst <code>", out);
    report_html_puts(out, r->worst_version ? r->worst_version : "");
    fputs("</code> <span class=\"muted\">(lower bounds: a server may support more than "
          "clients asked for)</span></p>\n",
          out);
  }
}

static void caps_list(FILE *out, const struct grade_result *r) {
  fputs("<h3>Caps and warnings <span class=\"muted\">(most severe first)</span></h3>\n", out);
  const struct check_result *found[GRADE_MAX_CHECKS];
  size_t affecting, shown = 0;
  report_findings(r, found, &affecting);
  for (size_t i = 0; i < affecting; i++) {
    const struct check_result *c = found[i];
    if (!lowers_grade(c))
      continue;
    fputs(shown++ ? "" : "<ul>\n", out);
    fputs("<li>", out);
    put_check_id(out, c);
    fputc(' ', out);
    report_html_puts(out, check_title(c));
    put_effect(out, c);
    if (c->reason) {
      fputs(": ", out);
      report_html_puts(out, c->reason);
    }
    put_evidence(out, c);
    fputs("</li>\n", out);
  }
  fputs(shown ? "</ul>\n" : "<p class=\"muted\">None applied.</p>\n", out);
}

/* One check's row, id srv-INDEX-chk-I (the summary links to it). */
static void check_row(FILE *out, const struct grade_result *r, const struct check_result *c,
                      size_t index) {
  const char *status = report_status_name(c->status);
  /* fputs, not fprintf: 48 rows per server */
  fputs("<tr id=\"srv-", out);
  report_put_uint(out, index);
  fputs("-chk-", out);
  report_put_uint(out, (size_t)(c - r->checks));
  fputs("\"><td class=\"st st-", out);
  fputs(status, out);
  fputs("\">", out);
  fputs(status, out);
  fputs("</td><td>", out);
  put_check_id(out, c);
  fputs("</td><td>", out);
  report_html_puts(out, check_title(c));
  put_effect(out, c);
  fputs("</td><td>", out);
  report_html_puts(out, c->reason ? c->reason : "");
  fputs("</td><td>", out);
  put_evidence(out, c);
  fputs("</td></tr>\n", out);
}

/* The undecided checks, a row per reason group (report_unknown_group) in
 * the order of their first check, naming them all; the row carries the
 * first one's id, each other id its own, so every check keeps its anchor. */
static void unknown_rows(FILE *out, const struct grade_result *r, size_t index) {
  bool done[GRADE_MAX_CHECKS] = {false};
  for (size_t i = 0; i < r->n_checks; i++) {
    if (r->checks[i].status != CHECK_UNKNOWN || done[i])
      continue;
    const char *group = report_unknown_group(&r->checks[i]);
    size_t count = 0;
    fprintf(out, "<tr id=\"srv-%zu-chk-%zu\"><td class=\"st st-unknown\">unknown</td><td>", index,
            i);
    for (size_t k = i; k < r->n_checks; k++) {
      const struct check_result *c = &r->checks[k];
      if (c->status != CHECK_UNKNOWN || done[k] || strcmp(report_unknown_group(c), group) != 0)
        continue;
      done[k] = true;
      if (count++)
        fprintf(out, ", <code class=\"id\" id=\"srv-%zu-chk-%zu\">", index, k);
      else
        fputs("<code class=\"id\">", out);
      report_html_puts(out, c->id);
      fputs("</code>", out);
    }
    fprintf(out, "</td><td>%zu check%s not decided</td><td>", count, count == 1 ? "" : "s");
    report_html_puts(out, group);
    fputs("</td><td></td></tr>\n", out);
  }
}

/* As the text report: the failed checks in the summary's order
 * (report_findings, then pq_kex and ech), the passed ones, then the
 * undecided ones folded by reason. */
static void checks_table(FILE *out, const struct grade_result *r, size_t index) {
  fprintf(out,
          "<h3>Checks</h3>\n<p>Graded on %zu of %zu checks (the rest need traffic the "
          "capture lacks).</p>\n",
          r->n_decided, r->n_checks);
  fputs("<div class=\"scroll\"><table>\n<thead><tr><th scope=\"col\">Status</th><th "
        "scope=\"col\">Check</th>"
        "<th scope=\"col\">Title</th><th scope=\"col\">Reason</th>"
        "<th scope=\"col\">Evidence</th></tr></thead>\n<tbody>\n",
        out);
  const struct check_result *failed[GRADE_MAX_CHECKS];
  size_t affecting, n = report_findings(r, failed, &affecting);
  for (size_t i = 0; i < n; i++)
    check_row(out, r, failed[i], index);
  for (size_t i = 0; i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    if (c->status == CHECK_FAIL && (strcmp(c->id, "pq_kex") == 0 || strcmp(c->id, "ech") == 0))
      check_row(out, r, c, index); /* said beside the letter: not in report_findings */
  }
  for (size_t i = 0; i < r->n_checks; i++)
    if (r->checks[i].status == CHECK_PASS)
      check_row(out, r, &r->checks[i], index);
  unknown_rows(out, r, index);
  fputs("</tbody>\n</table></div>\n", out);
}

static void recommendations(FILE *out, const struct grade_result *r) {
  const struct check_result *order[GRADE_MAX_CHECKS];
  size_t n = report_recommendations(r, order);
  if (!n)
    return;
  fputs("<h3>Recommendations <span class=\"muted\">(most severe first)</span></h3>\n<ol>\n", out);
  for (size_t i = 0; i < n; i++) {
    fputs("<li>", out);
    report_html_puts(out, check_recommendation(order[i]));
    fputs("</li>\n", out);
  }
  fputs("</ol>\n", out);
}

/* Handshakes that are no evidence (violations) or only evidence against
 * the server (aborted by their client). */
static void notices(FILE *out, const struct ev_endpoint *ep) {
  const struct ev_fact *notes[REPORT_MAX_NOTICES];
  size_t n = report_notices(ep, notes, REPORT_MAX_NOTICES);
  for (size_t i = 0; i < n; i++) {
    char *where = report_sample(&notes[i]->sample);
    fputs("<p class=\"notice\"><strong>Notice:</strong> ", out);
    report_html_puts(out, report_notice_kind(notes[i]));
    fputs(": ", out);
    report_html_puts(out, ev_fact_name(notes[i]));
    fprintf(out, " (%llu handshake%s, e.g. <code>", (unsigned long long)notes[i]->count,
            notes[i]->count == 1 ? "" : "s");
    report_html_puts(out, where ? where : "?");
    fputs("</code>)</p>\n", out);
    free(where);
  }
}

/* "<code>IP:PORT</code>: N connections, e.g. <code>file:frame</code>", the
 * count and sample of fact f, closing the list item. */
static void put_connections(FILE *out, const struct ev_endpoint *ep, const struct ev_fact *f) {
  char *where = f ? report_sample(&f->sample) : NULL;
  put_server(out, ep);
  fprintf(out, ": %llu connection%s, e.g. <code>", f ? (unsigned long long)f->count : 0,
          f && f->count == 1 ? "" : "s");
  report_html_puts(out, where ? where : "?");
  fputs("</code></li>\n", out);
  free(where);
}

/* Addresses that sent handshake messages without a ClientHello on their
 * connection: listed, not graded. */
static void unverified(FILE *out, const struct report_meta *m) {
  if (!m->n_unverified)
    return;
  fputs("<h2 id=\"unverified\">Unverified</h2>\n<p>Handshake messages on connections without a "
        "ClientHello (a capture begun mid-connection, one direction only, or forged packets): "
        "not graded.</p>\n<ul>\n",
        out);
  for (size_t i = 0; i < m->n_unverified; i++) {
    const struct ev_endpoint *ep = m->unverified[i];
    fputs("<li>", out);
    put_connections(out, ep, ev_find_id(ep, EV_UNVERIFIED, NULL));
  }
  fputs("</ul>\n", out);
}

/* Endpoints without SNI folded under the named servers of their address
 * (report_no_sni_folded): what their connections showed, no letter. */
static void no_sni_folded(FILE *out, const struct grade_result *const *r, size_t n) {
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    if (!report_no_sni_folded(r[i]))
      continue;
    if (first)
      fputs("<h2 id=\"no-sni\">Connections without SNI</h2>\n<p>Folded under the named servers "
            "of their address (they inherit what these connections showed of SSL 2.0 and "
            "3.0).</p>\n<ul>\n",
            out);
    first = false;
    char line[REPORT_NO_SNI_LEN];
    report_no_sni_line(r[i]->ep, line, sizeof line);
    fputs("<li>", out);
    put_server(out, r[i]->ep);
    fputs(": ", out);
    report_html_puts(out, line);
    fputs("</li>\n", out);
  }
  if (!first)
    fputs("</ul>\n", out);
}

/* Servers seen only in ClientHellos: one count and those with the most
 * connections, not a section of unknown checks each. */
static void hello_only(FILE *out, const struct report_meta *m) {
  const struct report_hello_only *h = m->hello_only;
  if (!h)
    return;
  fprintf(out,
          "<h2 id=\"hello-only\">Seen only in ClientHellos</h2>\n<p>%zu server%s seen only in "
          "ClientHellos (%llu connection%s, no answer from the server read): not "
          "graded.",
          h->servers, h->servers == 1 ? "" : "s", (unsigned long long)h->connections,
          h->connections == 1 ? "" : "s");
  if (h->evicted)
    fprintf(out,
            " %llu of those connections were evicted before any answer (flow table full, see "
            "<code>--limit flows</code>).",
            (unsigned long long)h->evicted);
  if (h->n_top < h->servers)
    fprintf(out, " The %zu with the most connections:", h->n_top);
  fputs("</p>\n<ul>\n", out);
  for (size_t i = 0; i < h->n_top; i++) {
    const struct ev_endpoint *ep = h->top[i];
    fputs("<li>", out);
    report_html_puts(out, ep->host);
    fputc(' ', out);
    put_connections(out, ep, ev_find_id(ep, EV_HANDSHAKES, NULL));
  }
  fputs("</ul>\n", out);
}

static void server_section(FILE *out, const struct grade_result *r, size_t index,
                           const struct report_meta *m, const struct report_clients_view *clients) {
  fprintf(out, "<section id=\"srv-%zu\">\n<h2>", index);
  put_badge(out, r->letter, true);
  fputc(' ', out);
  report_html_puts(out, r->ep->host);
  fputc(' ', out);
  put_server(out, r->ep);
  fputs("</h2>\n<p>Grade ", out);
  put_badge(out, r->letter, false);
  fputs(" &middot; trust ignored ", out);
  put_badge(out, r->letter_trust_ignored, false);
  fputs(" &middot; floor ", out);
  put_badge(out, r->floor, false);
  fputs("</p>\n", out);
  if (r->changed) {
    char when[CAP_TIME_STRLEN];
    cap_time_str(r->changed_at, when, sizeof when);
    fputs("<p class=\"change\"><strong>Configuration changed</strong> at <time>", out);
    report_html_puts(out, when);
    fputs("</time> (", out);
    report_html_puts(out, r->change_reason);
    fputs("): grade ", out);
    put_badge(out, r->before, false);
    fputs(" before, ", out);
    put_badge(out, r->after, false);
    char *was = report_sample(&r->change_before), *is = report_sample(&r->change_after);
    fputs(" after: <code>", out);
    report_html_puts(out, was ? was : "?");
    fputs("</code> before, <code>", out);
    report_html_puts(out, is ? is : "?");
    fputs("</code> after.</p>\n", out);
    free(was);
    free(is);
  }
  if (!r->graded) {
    fputs("<p><strong>Not graded:</strong> ", out);
    report_html_puts(out, r->no_grade_reason ? r->no_grade_reason : "unknown reason");
    fputs("</p>\n", out);
  } else {
    score_table(out, r);
  }
  notices(out, r->ep);
  caps_list(out, r);
  report_html_certificate(out, r->ep);
  report_html_seen(out, r->ep, EV_VERSION, "Protocols", "Protocol");
  report_html_seen(out, r->ep, EV_SUITE, "Cipher suites", "Cipher suite");
  report_clients_server_html(out, clients, r->ep);
  checks_table(out, r, index);
  report_profiles_html(out, r);
  recommendations(out, r);
  if (m->past_html)
    m->past_html(m->past_ctx, out, r->ep);
  fputs("<p><a href=\"#summary\">Back to summary</a></p>\n</section>\n", out);
}

void report_html(FILE *out, const struct grade_result *const *r, size_t n,
                 const struct report_meta *m) {
  page_head(out);
  page_header(out, n, m);
  fputs("<main>\n", out);
  if (!n)
    fputs(m->hello_only ? "<p>No TLS server answered in the input: nothing to grade.</p>\n"
                        : "<p>No TLS server seen in the input: nothing to grade.</p>\n",
          out);
  else
    summary(out, r, n);
  no_sni_folded(out, r, n);
  inputs_list(out, m);
  unverified(out, m);
  hello_only(out, m);
  struct report_clients_view *clients = report_clients_view_open(m);
  report_clients_html(out, clients);
  for (size_t i = 0; i < n && !report_stopped(m); i++)
    if (!report_no_sni_folded(r[i]))
      server_section(out, r[i], i, m, clients);
  report_clients_view_close(clients);
  if (report_stopped(m))
    return;
  fputs("</main>\n<footer>\n<p>A grade marked * or ? is not final: the chain's trust was "
        "not decided (* the certificate was not seen, ? it was not verified).</p>\n<p>Checks the "
        "capture cannot decide (unknown) never lower the "
        "grade: a passive capture only shows what clients asked for, so the grade is what "
        "the traffic proves.</p>\n",
        out);
  fprintf(out,
          "<p>tlsgrade %s &middot; SSL Labs rating guide 2009r, passive</p>\n</footer>\n"
          "</body>\n</html>\n",
          TLSGRADE_VERSION);
}
