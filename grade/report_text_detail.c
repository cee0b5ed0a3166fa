/*
 * grade/report_text_detail.c - one server in detail in the terminal
 * report: its grade and score, the certificate chain as sent with the
 * trust verdict and OCSP staple, the protocols and suites seen (counts and
 * a frame each), then the failed checks (most severe first), the passed
 * ones, and the undecided ones folded into a line per reason unless
 * --verbose.  Lines keep to REPORT_TEXT_WIDTH columns where they can:
 * text wraps at spaces, indented under its column.
 */
#include "grade/report_text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A line being written, for wrapping: where it stands. */
struct line {
  FILE *out;
  int col;
};

/* Columns of s[0..n) as report_term_puts shows it: one per character,
 * four for a byte it escapes ("\xNN"). */
static int text_width(const char *s, size_t n) {
  int w = 0;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    size_t k = cap_utf8_seq((const uint8_t *)s + i, n - i, &cp);
    w += !k || cp < 0x20 || cp == 0x7f ? 4 : 1;
    i += k ? k : 1;
  }
  return w;
}

static void line_start(struct line *l, FILE *out, int indent) {
  l->out = out;
  l->col = indent;
  fprintf(out, "%*s", indent, "");
}

static void line_end(struct line *l) {
  fputc('\n', l->out);
  l->col = 0;
}

/* One word, shown safely (it may come from the wire or a loaded file). */
static void put_word(FILE *out, const char *w, size_t n) {
  bool plain = true;
  for (size_t i = 0; i < n && plain; i++)
    plain = w[i] > 0x20 && w[i] < 0x7f;
  if (plain) {
    fwrite(w, 1, n, out);
    return;
  }
  char *copy = strndup(w, n);
  if (copy)
    report_term_puts(out, copy);
  free(copy);
}

/* text's words after what the line holds; a word that would pass the
 * width starts a new line indented by `indent`. */
static void put_words(struct line *l, const char *text, int indent) {
  const char *p = text;
  while (*p) {
    const char *word = p;
    while (*word == ' ')
      word++;
    const char *end = word;
    while (*end && *end != ' ')
      end++;
    if (end == word)
      break;
    int gap = (int)(word - p), w = text_width(word, (size_t)(end - word));
    if (l->col > indent && l->col + gap + w > REPORT_TEXT_WIDTH) {
      fputc('\n', l->out);
      fprintf(l->out, "%*s", indent, "");
      l->col = indent;
      gap = 0;
    }
    fprintf(l->out, "%*s", gap, "");
    put_word(l->out, word, (size_t)(end - word));
    l->col += gap + w;
    p = end;
  }
}

/* A line of words: indent, text wrapped under `hang`, the end. */
static void put_para(FILE *out, int indent, int hang, const char *text) {
  struct line l;
  line_start(&l, out, indent);
  put_words(&l, text, hang);
  line_end(&l);
}

/* "FILE:FRAME" of f's sample into buf ("?" when it has none). */
static void sample_words(const struct ev_fact *f, char *buf, size_t len) {
  char *where = report_sample(&f->sample);
  snprintf(buf, len, "%s", where ? where : "?");
  free(where);
}

/* "N time(s), FILE:FRAME" (the earliest) into buf. */
static void seen_words(const struct ev_fact *f, char *buf, size_t len) {
  char where[1024];
  sample_words(f, where, sizeof where);
  snprintf(buf, len, "%llu time%s, %s", (unsigned long long)f->count, f->count == 1 ? "" : "s",
           where);
}

/* ---- the certificate ---- */

static void put_field(FILE *out, const char *label, const char *value) {
  struct line l;
  line_start(&l, out, 8);
  fprintf(out, "%-8s", label);
  l.col += 8;
  put_words(&l, value, 16);
  line_end(&l);
}

/* "A .. B UTC" from a valid field "A..B". */
static void validity_words(const char *valid, char *buf, size_t len) {
  const char *dots = strstr(valid, "..");
  if (dots)
    snprintf(buf, len, "%.*s UTC .. %s UTC", (int)(dots - valid), valid, dots + 2);
  else
    snprintf(buf, len, "%s", valid);
}

static void put_cert(FILE *out, size_t index, const struct report_cert *c) {
  char head[32], text[2 * EV_KEY_MAX];
  snprintf(head, sizeof head, "[%zu]", index);
  fprintf(out, "    %-4s", head);
  struct line l = {out, 8};
  if (c->unreadable) {
    snprintf(text, sizeof text, "unreadable: %s", c->unreadable);
    put_words(&l, text, 12);
    line_end(&l);
  } else {
    fprintf(out, "%-8s", "subject");
    l.col += 8;
    put_words(&l, c->subject ? c->subject : "?", 16);
    line_end(&l);
    if (c->san)
      put_field(out, "SAN", c->san);
    put_field(out, "issuer", c->issuer ? c->issuer : "?");
    if (c->valid) {
      validity_words(c->valid, text, sizeof text);
      put_field(out, "valid", text);
    }
    snprintf(text, sizeof text, "%s, signature %s", c->key ? c->key : "?", c->sig ? c->sig : "?");
    put_field(out, "key", text);
  }
  if (c->sha256)
    put_field(out, "sha256", c->sha256);
}

static void put_chain(FILE *out, const struct report_chain *ch, size_t i, size_t n) {
  char seen[1100], text[1300];
  seen_words(ch->seen, seen, sizeof seen);
  char which[48] = "";
  if (n > 1)
    snprintf(which, sizeof which, " %zu of %zu", i + 1, n);
  snprintf(text, sizeof text, "certificate chain%s as sent: %llu certificate%s, seen %s", which,
           (unsigned long long)ch->length, ch->length == 1 ? "" : "s", seen);
  put_para(out, 3, 5, text);
  for (size_t k = 0; k < ch->n_certs; k++)
    put_cert(out, k, &ch->certs[k]);
  if (ch->length > ch->n_certs) {
    snprintf(text, sizeof text,
             "... %llu more certificate%s sent, not kept in the evidence (at most %d)",
             (unsigned long long)(ch->length - ch->n_certs),
             ch->length - ch->n_certs == 1 ? "" : "s", EV_SENT_CERTS);
    put_para(out, 5, 9, text);
  }
}

static void certificate_block(FILE *out, const struct ev_endpoint *ep) {
  struct report_chain chains[EV_SENT_CHAINS];
  size_t n = report_chains(ep, chains);
  for (size_t i = 0; i < n; i++)
    put_chain(out, &chains[i], i, n);
  const struct ev_fact *over = ev_find_id(ep, EV_SENT_CHAINS_OVER_CAP, NULL);
  char text[2048];
  if (over) {
    snprintf(text, sizeof text,
             "other chains were sent %llu time%s, not kept in the evidence (at most %d "
             "chains per server)",
             (unsigned long long)over->count, over->count == 1 ? "" : "s", EV_SENT_CHAINS);
    put_para(out, 3, 5, text);
  }
  const struct ev_fact *leaf = ev_first_of(ep, EV_CERT_LEAF);
  if (!n && leaf && leaf->typed.id == EV_CERT_LEAF) {
    snprintf(text, sizeof text, "certificate: leaf SHA-256 %s (the chain is not in this evidence)",
             ev_fact_name(leaf));
    put_para(out, 3, 5, text);
  } else if (!n) {
    put_para(out, 3, 5,
             ev_find_id(ep, EV_TLS13_CERT_HIDDEN, NULL)
                 ? "certificate: not seen (TLS 1.3 encrypts it: give a key log, --keylog)"
                 : "certificate: not seen");
    return;
  }
  char words[1024], store[600];
  report_trust_words(ep, words, sizeof words);
  report_trust_store(ep, store, sizeof store);
  snprintf(text, sizeof text, "trust: %s%s%s%s", words, store[0] ? " (decided with " : "", store,
           store[0] ? ")" : "");
  put_para(out, 3, 5, text);
  report_ocsp_words(ep, words, sizeof words);
  snprintf(text, sizeof text, "OCSP staple: %s", words);
  put_para(out, 3, 5, text);
}

/* ---- protocols and suites ---- */

/* The values of family id seen, each with its count and earliest frame
 * (the file named once above them when they share it). */
static void seen_table(FILE *out, const struct ev_endpoint *ep, enum ev_fact_id id,
                       const char *title) {
  size_t n, shown = 0;
  int width = 0;
  const struct ev_fact *const *facts = ev_facts_of(ep, id, &n);
  for (size_t i = 0; i < n; i++) {
    int w = (int)strlen(ev_fact_name(facts[i]));
    if (facts[i]->typed.id == id && w > width)
      width = w;
  }
  const char *file = report_seen_file(ep, id);
  for (size_t i = 0; i < n; i++) {
    const struct ev_fact *f = facts[i];
    if (f->typed.id != id)
      continue;
    if (!shown++) {
      char head[1200];
      snprintf(head, sizeof head, "%s seen (handshakes, first frame%s%s):", title,
               file ? " in " : "", file ? file : "");
      put_para(out, 3, 5, head);
    }
    struct line l;
    line_start(&l, out, 5);
    report_term_puts(out, ev_fact_name(f));
    char text[1200], where[1024];
    if (file)
      snprintf(where, sizeof where, "frame %llu", (unsigned long long)f->sample.frame);
    else
      sample_words(f, where, sizeof where);
    snprintf(text, sizeof text, "%*s%6llu  %s", width - (int)strlen(ev_fact_name(f)), "",
             (unsigned long long)f->count, where);
    l.col += (int)strlen(ev_fact_name(f));
    put_words(&l, text, 7);
    if (f->aborted) {
      snprintf(text, sizeof text, " (%llu in aborted handshakes)", (unsigned long long)f->aborted);
      put_words(&l, text, 7);
    }
    line_end(&l);
  }
}

/* ---- checks ---- */

static const char *status_mark(enum check_status s) {
  return s == CHECK_PASS ? "pass" : s == CHECK_FAIL ? "FAIL" : " ?  ";
}

static const char *effect_words(const struct check_result *c, char buf[16]) {
  buf[0] = '\0';
  if (c->status != CHECK_FAIL)
    return buf;
  if (c->effect == EFFECT_CAP)
    snprintf(buf, 16, " [caps at %c]", c->cap);
  else if (c->effect == EFFECT_TRUST)
    snprintf(buf, 16, " [T]");
  else if (c->effect == EFFECT_NAME)
    snprintf(buf, 16, " [M]");
  else if (c->effect == EFFECT_WARN)
    snprintf(buf, 16, " [warning]");
  return buf;
}

/* "YYYY-MM-DD HH:MM:SS" of a packet time, as certificates' dates read. */
static void utc_words(cap_time_us ts, char out[32]) {
  time_t t = (time_t)(ts / 1000000);
  struct tm tm;
  if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm))
    snprintf(out, 32, "?");
}

/* The check `expired` failed: the certificates whose validity the
 * capture's time was outside of, with their dates, and that time. */
static void expired_dates(struct line *l, const struct ev_endpoint *ep, int hang) {
  const struct ev_fact *f = ev_find_id(ep, EV_TRUST_EXPIRED, NULL);
  if (!f)
    f = ev_find_id(ep, EV_TRUST_NOT_YET_VALID, NULL);
  if (!f)
    return;
  char at[32], text[2 * EV_KEY_MAX + 96], dates[2 * EV_KEY_MAX];
  utc_words(f->first_ts, at);
  snprintf(text, sizeof text, " (seen %s UTC)", at);
  put_words(l, text, hang);
  struct report_chain chains[EV_SENT_CHAINS];
  size_t n = report_chains(ep, chains);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < chains[i].n_certs; k++) {
      const char *valid = chains[i].certs[k].valid, *dots = valid ? strstr(valid, "..") : NULL;
      /* the dates compare as text: both "YYYY-MM-DD HH:MM:SS" */
      if (!dots || (strncmp(at, valid, (size_t)(dots - valid)) >= 0 && strcmp(at, dots + 2) <= 0))
        continue;
      validity_words(valid, dates, sizeof dates);
      snprintf(text, sizeof text, "; certificate [%zu] valid %s", k, dates);
      put_words(l, text, hang);
    }
  const struct ev_fact *life = ev_first_of(ep, EV_CERT_LIFETIME);
  if (!n && life && life->typed.id == EV_CERT_LIFETIME) { /* evidence without the chain */
    snprintf(text, sizeof text, "; leaf valid %.*s", (int)life->typed.name_len, ev_fact_name(life));
    put_words(l, text, hang);
  }
}

static void put_evidence(FILE *out, const struct check_result *c) {
  for (size_t i = 0; i < c->n_evidence; i++) {
    const struct ev_fact *f = c->evidence[i];
    char seen[1100], text[1500];
    seen_words(f, seen, sizeof seen);
    snprintf(text, sizeof text, "evidence: %s%s (%s)", f->key,
             report_fact_via(f) ? " [via a connection without SNI]" : "", seen);
    put_para(out, 11, 13, text);
  }
}

/* A passed check in one line, its title (--verbose: as a failed one,
 * with its reason and evidence). */
static void put_pass(FILE *out, const struct check_result *c, int id_width) {
  struct line l;
  line_start(&l, out, 5);
  fprintf(out, "pass  %-*s ", id_width, c->id);
  l.col += 4 + 2 + id_width + 1;
  put_words(&l, check_title(c), l.col);
  line_end(&l);
}

static void put_check(FILE *out, const struct ev_endpoint *ep, const struct check_result *c,
                      int id_width, const struct report_text_style *st) {
  struct line l;
  line_start(&l, out, 5);
  bool red = c->status == CHECK_FAIL && st->color; /* FAIL in red; the columns stay */
  fprintf(out, "%s%s%s  %-*s ", red ? "\033[1;31m" : "", status_mark(c->status),
          red ? "\033[0m" : "", id_width, c->id);
  l.col += 4 + 2 + id_width + 1;
  int hang = l.col;
  char effect[16], text[2048];
  snprintf(text, sizeof text, "%s%s%s%s", check_title(c), effect_words(c, effect),
           c->reason ? ": " : "", c->reason ? c->reason : "");
  put_words(&l, text, hang);
  if (c->status == CHECK_FAIL && strcmp(c->id, "expired") == 0)
    expired_dates(&l, ep, hang);
  line_end(&l);
  if (c->status != CHECK_UNKNOWN)
    put_evidence(out, c);
}

/* The failed checks in the summary's order (report_findings: the one that
 * gives the letter first, then by the weight of their effect), then those
 * said beside the letter (pq_kex, ech). */
static size_t failed_order(const struct grade_result *r, const struct check_result **out) {
  size_t affecting, n = report_findings(r, out, &affecting);
  for (size_t i = 0; i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    if (c->status == CHECK_FAIL && (strcmp(c->id, "pq_kex") == 0 || strcmp(c->id, "ech") == 0))
      out[n++] = c;
  }
  return n;
}

/* The undecided checks, a line per reason group (report_unknown_group), the
 * groups in the order of their first check. */
static void unknown_folded(FILE *out, const struct grade_result *r) {
  bool done[GRADE_MAX_CHECKS] = {false};
  for (size_t i = 0; i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    if (c->status != CHECK_UNKNOWN || done[i])
      continue;
    const char *reason = report_unknown_group(c);
    size_t count = 0;
    char ids[GRADE_MAX_CHECKS * 24] = "";
    for (size_t k = i; k < r->n_checks; k++) {
      const struct check_result *d = &r->checks[k];
      if (d->status != CHECK_UNKNOWN || done[k] || strcmp(report_unknown_group(d), reason) != 0)
        continue;
      done[k] = true;
      size_t used = strlen(ids);
      snprintf(ids + used, sizeof ids - used, "%s%s", count++ ? ", " : "", d->id);
    }
    char text[sizeof ids + 1024];
    snprintf(text, sizeof text, "? %zu check%s, %s: %s", count, count == 1 ? "" : "s", reason, ids);
    put_para(out, 5, 7, text);
  }
}

static void checks_block(FILE *out, const struct grade_result *r,
                         const struct report_text_style *st) {
  const struct check_result *failed[GRADE_MAX_CHECKS];
  size_t n_failed = failed_order(r, failed), n_passed = 0, n_unknown = 0;
  int width = 0;
  for (size_t i = 0; i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    n_passed += c->status == CHECK_PASS;
    n_unknown += c->status == CHECK_UNKNOWN;
    if ((c->status != CHECK_UNKNOWN || st->verbose) && (int)strlen(c->id) > width)
      width = (int)strlen(c->id);
  }
  fprintf(out, "   graded on %zu of %zu checks (the rest need traffic the capture lacks)\n",
          r->n_decided, r->n_checks);
  if (n_failed)
    fprintf(out, "   failed (%zu), most severe first:\n", n_failed);
  for (size_t i = 0; i < n_failed; i++)
    put_check(out, r->ep, failed[i], width, st);
  if (n_passed)
    fprintf(out, "   passed (%zu):\n", n_passed);
  for (size_t i = 0; i < r->n_checks; i++) {
    if (r->checks[i].status != CHECK_PASS)
      continue;
    if (st->verbose)
      put_check(out, r->ep, &r->checks[i], width, st);
    else
      put_pass(out, &r->checks[i], width);
  }
  if (!n_unknown)
    return;
  if (st->verbose) {
    fprintf(out, "   not decided (%zu):\n", n_unknown);
    for (size_t i = 0; i < r->n_checks; i++)
      if (r->checks[i].status == CHECK_UNKNOWN)
        put_check(out, r->ep, &r->checks[i], width, st);
  } else {
    fprintf(out, "   not decided (%zu), by reason (--verbose: one line each):\n", n_unknown);
    unknown_folded(out, r);
  }
}

/* One line per compliance profile: its verdict, and the first failed
 * item with the fact and frame that failed it. */
static void profiles_block(FILE *out, const struct grade_result *r) {
  if (!r->graded)
    return;
  fputs("   compliance profiles:\n", out);
  for (size_t i = 0; i < grade_profile_count(); i++) {
    struct grade_profile_result p;
    if (!grade_profile(r, i, &p))
      break;
    char where[1024] = "", text[sizeof where + 3 * EV_KEY_MAX];
    const struct grade_profile_item *failed = grade_profile_failed_item(&p);
    const struct ev_fact *f = failed && failed->n_evidence ? failed->evidence[0] : NULL;
    if (f)
      sample_words(f, where, sizeof where);
    int n = snprintf(text, sizeof text, "%-20s %s", p.id, grade_profile_verdict_name(p.verdict));
    if (failed && n > 0 && (size_t)n < sizeof text)
      snprintf(text + n, sizeof text - (size_t)n, " (%s%s%s%s%s)", failed->id, f ? " " : "",
               f ? f->key : "", f ? ": " : "", where);
    put_para(out, 5, 26, text);
  }
}

/* ---- the server ---- */

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
    report_text_seen(out, notes[i]);
  }
}

static void title(FILE *out, const struct grade_result *r, const struct report_text_style *st) {
  fputs("\n== ", out);
  report_term_puts(out, r->ep->host);
  bool v6 = strchr(r->ep->ip, ':') != NULL;
  fputs(v6 ? "  [" : "  ", out);
  report_term_puts(out, r->ep->ip); /* every field from evidence, even one checked on load */
  fprintf(out, "%s:%u  grade ", v6 ? "]" : "", r->ep->port);
  struct report_confidence c;
  report_confidence(r, &c);
  report_text_grade(out, st, c.display, 0);
  fprintf(out, "  (trust ignored %s)\n", r->letter_trust_ignored);
  if (c.note) {
    char text[256];
    snprintf(text, sizeof text, "%c %s", c.mark, c.note);
    put_para(out, 3, 5, text);
  }
  if (r->changed) {
    char when[CAP_TIME_STRLEN];
    cap_time_str(r->changed_at, when, sizeof(when));
    char text[512];
    snprintf(text, sizeof text, "configuration changed at %s (%s): grade %s before, %s after", when,
             r->change_reason, r->before, r->after);
    put_para(out, 3, 5, text);
    char *was = report_sample(&r->change_before), *is = report_sample(&r->change_after);
    char *line = NULL;
    if (asprintf(&line, "evidence: %s before, %s after", was ? was : "?", is ? is : "?") >= 0)
      put_para(out, 5, 15, line);
    free(line);
    free(was);
    free(is);
  }
}

void report_text_server(FILE *out, const struct grade_result *r,
                        const struct report_text_style *st) {
  title(out, r, st);
  if (!r->graded) {
    char text[512];
    snprintf(text, sizeof text, "not graded: %s", r->no_grade_reason);
    put_para(out, 3, 5, text);
  } else {
    score_line(out, r);
    if (r->best_version[0]) { /* the names end evidence keys */
      char text[2 * EV_KEY_MAX + 128];
      snprintf(text, sizeof text,
               "versions seen: best %s, worst %s (lower bounds: a server may support more than "
               "clients asked for)",
               r->best_version, r->worst_version);
      put_para(out, 3, 5, text);
    }
  }
  notices(out, r->ep);
  certificate_block(out, r->ep);
  seen_table(out, r->ep, EV_VERSION, "protocols");
  seen_table(out, r->ep, EV_SUITE, "cipher suites");
  report_clients_server_text(out, st->clients, r->ep);
  checks_block(out, r, st);
  profiles_block(out, r);
  const struct check_result *order[GRADE_MAX_CHECKS];
  size_t n = report_recommendations(r, order);
  if (n)
    fputs("   recommendations (most severe first):\n", out);
  for (size_t i = 0; i < n; i++) {
    char text[1024];
    snprintf(text, sizeof text, "%zu. %s", i + 1, check_recommendation(order[i]));
    put_para(out, 5, 8, text);
  }
}
