/*
 * grade/report_common.c - what every report format shares: samples,
 * recommendation order, and the per-format output sanitisers.
 */
#include "grade/report.h"

#include <stdlib.h>
#include <string.h>

cJSON *report_count_item(uint64_t v) {
  char digits[REPORT_UINT_LEN];
  if (v >= 1000000000000000ULL)
    return cJSON_CreateNumber((double)v);
  report_uint(digits, v);
  return cJSON_CreateRaw(digits);
}

size_t report_uint(char *p, uint64_t v) {
  char digits[20];
  size_t n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++)
    p[i] = digits[n - 1 - i];
  p[n] = '\0';
  return n;
}

void report_put_uint(FILE *out, uint64_t v) {
  char digits[REPORT_UINT_LEN];
  fwrite(digits, 1, report_uint(digits, v), out);
}

/* Without asprintf, which cost four times as much: every evidence line of
 * the text and HTML reports has a sample. */
char *report_sample(const struct ev_sample *s) {
  const char *file = s->file ? s->file : "";
  size_t n = strlen(file);
  char *out = malloc(n + 1 + REPORT_UINT_LEN);
  if (!out)
    return NULL;
  memcpy(out, file, n);
  out[n] = ':';
  report_uint(out + n + 1, s->frame);
  return out;
}

void report_add_sample(cJSON *o, const char *key, const struct ev_sample *s) {
  char *where = report_sample(s);
  if (where)
    report_add_wire_string(o, key, (const uint8_t *)where, strlen(where));
  free(where);
}

uint64_t report_connections(const struct ev_endpoint *ep) {
  const struct ev_fact *f = ev_find_id(ep, EV_HANDSHAKES, NULL);
  return f ? f->count : 0;
}

/* The top list is kept by insertion: each endpoint costs at most
 * REPORT_HELLO_TOP moves, and an equal count never passes one added
 * before it, so the list follows the order of adding on ties. */
void report_hello_only_add(struct report_hello_only *h, const struct ev_endpoint *ep) {
  uint64_t n = report_connections(ep);
  const struct ev_fact *evicted = ev_find_id(ep, EV_EVICTED_UNANSWERED, NULL);
  h->servers++;
  h->connections = ev_count_add(h->connections, n);
  h->evicted = ev_count_add(h->evicted, evicted ? evicted->count : 0);
  size_t at = h->n_top;
  while (at > 0 && report_connections(h->top[at - 1]) < n)
    at--;
  if (at >= REPORT_HELLO_TOP)
    return;
  size_t last = h->n_top < REPORT_HELLO_TOP ? h->n_top : REPORT_HELLO_TOP - 1;
  memmove(&h->top[at + 1], &h->top[at], (last - at) * sizeof(h->top[0]));
  h->top[at] = ep;
  if (h->n_top < REPORT_HELLO_TOP)
    h->n_top++;
}

size_t report_notices(const struct ev_endpoint *ep, const struct ev_fact **out, size_t max) {
  static const enum ev_fact_id kinds[] = {EV_VIOLATION, EV_ABORTED, EV_DERIVED_NO_SNI_CERT_DIFFERS};
  size_t k = 0;
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    size_t n;
    const struct ev_fact *const *facts = ev_facts_of(ep, kinds[i], &n);
    for (size_t j = 0; j < n && k < max; j++)
      if (facts[j]->typed.id == kinds[i])
        out[k++] = facts[j];
  }
  return k;
}

const char *report_notice_kind(const struct ev_fact *f) {
  if (f->typed.id == EV_DERIVED_NO_SNI_CERT_DIFFERS)
    return "connections without SNI to this address got a certificate this server never sent "
           "(another back end): what they showed (SSL 2.0 and 3.0, DROWN) is not used here; "
           "their certificate";
  return f->typed.id == EV_VIOLATION
             ? "protocol violation, not evidence"
             : "handshake aborted by the client (its facts may fail checks, never pass one), alert";
}

const char *report_notice_id(const struct ev_fact *f) {
  if (f->typed.id == EV_DERIVED_NO_SNI_CERT_DIFFERS)
    return "no_sni_cert_differs";
  return f->typed.id == EV_VIOLATION ? "violation" : "aborted";
}

bool report_no_sni_folded(const struct grade_result *r) {
  return r->no_sni_folded;
}

/* "NAME, NAME" of a family's facts (refused: "VERSION (ALERT)"), after
 * head, at buf + *used. */
static void no_sni_list(const struct ev_endpoint *ep, enum ev_fact_id id, const char *head,
                        char *buf, size_t len, size_t *used) {
  size_t n, listed = 0;
  const struct ev_fact *const *facts = ev_facts_of(ep, id, &n);
  for (size_t i = 0; i < n && *used < len; i++) {
    const struct ev_fact *f = facts[i];
    if (f->typed.id != id)
      continue;
    const char *prefix = ev_fact_prefix(id);
    const char *rest = f->key + strlen(prefix); /* VERSION, or VERSION:ALERT */
    const char *colon = id == EV_REFUSED ? strchr(rest, ':') : NULL;
    int k = colon ? snprintf(buf + *used, len - *used, "%s%.*s (%s)", listed ? ", " : head,
                             (int)(colon - rest), rest, colon + 1)
                  : snprintf(buf + *used, len - *used, "%s%s", listed ? ", " : head, rest);
    *used += k > 0 ? (size_t)k : 0;
    listed++;
  }
}

void report_no_sni_line(const struct ev_endpoint *ep, char *buf, size_t len) {
  const struct ev_fact *seen = ev_find_id(ep, EV_HANDSHAKES, NULL);
  int k = snprintf(buf, len, "connections without SNI: %llu",
                   (unsigned long long)(seen ? seen->count : 0));
  size_t used = k > 0 ? (size_t)k : 0;
  no_sni_list(ep, EV_VERSION, ", versions ", buf, len, &used);
  no_sni_list(ep, EV_REFUSED, "; refused: ", buf, len, &used);
}

const char *report_fact_via(const struct ev_fact *f) {
  switch (f->typed.id) {
  case EV_DERIVED_NO_SNI_VERSION:
  case EV_DERIVED_NO_SNI_REFUSED:
  case EV_DERIVED_NO_SNI_CBC:
  case EV_DERIVED_NO_SNI_CERT_DIFFERS:
    return "no-sni";
  default:
    return NULL;
  }
}

static int by_severity(const void *a, const void *b) {
  const struct check_result *x = *(const struct check_result *const *)a;
  const struct check_result *y = *(const struct check_result *const *)b;
  if (x->severity != y->severity)
    return y->severity - x->severity;
  return strcmp(x->id, y->id);
}

size_t report_recommendations(const struct grade_result *r, const struct check_result **out) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_checks; i++)
    if (r->checks[i].status == CHECK_FAIL && check_recommendation(&r->checks[i]))
      out[n++] = &r->checks[i];
  qsort(out, n, sizeof(*out), by_severity);
  /* One line per action: several checks may ask for the same thing. */
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    bool dup = false;
    for (size_t j = 0; j < k && !dup; j++)
      dup = strcmp(check_recommendation(out[j]), check_recommendation(out[i])) == 0;
    if (!dup)
      out[k++] = out[i];
  }
  return k;
}

/* s as valid UTF-8 (see report_utf8): itself when plain ASCII, else a
 * sanitised copy in *copy (caller frees).  NULL when out of memory. */
static const unsigned char *utf8_view(const char *s, char **copy) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p && *p < 0x80)
    p++;
  *copy = NULL;
  if (!*p)
    return (const unsigned char *)s;
  bool replaced;
  *copy = report_utf8((const uint8_t *)s, strlen(s), &replaced);
  return (const unsigned char *)*copy;
}

void report_term_puts(FILE *out, const char *s) {
  char *copy;
  const unsigned char *p = utf8_view(s, &copy);
  if (p)
    cap_term_puts(out, (const char *)p); /* controls, escapes and bidi made visible */
  free(copy);
}

/* Bytes that need no HTML escaping (UTF-8 sequences included, but for the
 * lead bytes of the bidirectional controls: U+061C, U+200E.., U+2066..). */
static bool html_plain(unsigned char c) {
  return c >= 0x20 && c != 0x7f && c != '<' && c != '>' && c != '&' && c != '"' && c != '\'' &&
         c != 0xd8 && c != 0xe2;
}

const char *report_status_name(enum check_status s) {
  return s == CHECK_PASS ? "pass" : s == CHECK_FAIL ? "fail" : "unknown";
}

bool report_stopped(const struct report_meta *m) {
  return m->stop && *m->stop;
}

void report_html_puts(FILE *out, const char *s) {
  char *copy;
  const unsigned char *p = utf8_view(s, &copy);
  if (!p)
    return;
  while (*p) {
    const unsigned char *run = p;
    while (html_plain(*p))
      p++;
    fwrite(run, 1, (size_t)(p - run), out);
    if (!*p)
      break;
    switch (*p) {
    case '<':
      fputs("&lt;", out);
      break;
    case '>':
      fputs("&gt;", out);
      break;
    case '&':
      fputs("&amp;", out);
      break;
    case '"':
      fputs("&quot;", out);
      break;
    case '\'':
      fputs("&#39;", out);
      break;
    case 0xd8:
    case 0xe2: { /* valid UTF-8 here (utf8_view) */
      uint32_t cp;
      size_t k = cap_utf8_seq(p, 4, &cp);
      if (cap_bidi_control(cp))
        fprintf(out, "\\u%04x", (unsigned)cp); /* as text: a character reference is the control */
      else
        fwrite(p, 1, k, out);
      p += k - 1;
      break;
    }
    default: /* C0 controls and DEL */
      fputs("&#xfffd;", out);
    }
    p++;
  }
  free(copy);
}

/* The post-quantum verdict and the ECH offers, for the summaries: names
 * from the registry and counts only, nothing from the wire. */
void report_beyond_letter(const struct grade_result *r, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < r->n_checks && used < len; i++) {
    const struct check_result *c = &r->checks[i];
    const struct ev_fact *f = c->n_evidence ? c->evidence[0] : NULL;
    int n = 0;
    if (strcmp(c->id, "pq_kex") == 0 && c->status == CHECK_PASS && f)
      n = snprintf(buf + used, len - used, "%spost-quantum: %s%s", used ? "; " : "",
                   ev_fact_name(f), f->typed.id == EV_PQ_OBSOLETE ? " (obsolete)" : "");
    else if (strcmp(c->id, "pq_kex") == 0 && c->status == CHECK_FAIL && f)
      n = snprintf(buf + used, len - used, "%spost-quantum: refused (%s)", used ? "; " : "",
                   ev_fact_name(f));
    else if (strcmp(c->id, "ech") == 0 && c->n_evidence >= 2)
      n = snprintf(buf + used, len - used, "%sECH offered in %llu of %llu handshakes",
                   used ? "; " : "", (unsigned long long)c->evidence[0]->count,
                   (unsigned long long)c->evidence[1]->count);
    used += n > 0 ? (size_t)n : 0;
  }
}

/* The trust verdict on the chain: the "untrusted" check (check_table.h). */
static const struct check_result *trust_check(const struct grade_result *r) {
  for (size_t i = 0; i < r->n_checks; i++)
    if (strcmp(r->checks[i].id, "untrusted") == 0)
      return &r->checks[i];
  return NULL;
}

void report_confidence(const struct grade_result *r, struct report_confidence *c) {
  const struct check_result *t = trust_check(r);
  *c = (struct report_confidence){0};
  c->certificate_seen = ev_first_of(r->ep, EV_CERT_LEAF) != NULL;
  c->trust_decided = strcmp(r->letter, "T") == 0 || (t && t->status != CHECK_UNKNOWN);
  snprintf(c->display, sizeof c->display, "%s", r->letter);
  if (c->trust_decided || !r->graded)
    return;
  c->mark = c->certificate_seen ? '?' : '*';
  c->note = c->certificate_seen
                ? "trust not decided: the certificate was seen but its chain not verified "
                  "(no trust store loaded)"
                : "trust not decided: the certificate was not seen (TLS 1.3 hides it without "
                  "--keylog)";
  size_t n = strlen(c->display);
  c->display[n] = c->mark;
  c->display[n + 1] = '\0';
}

/* A failed check's weight in the summaries, lightest last (see
 * report_findings): 0 cap F, 1 T, 2 M, 3..6 caps E..B, 7 warning,
 * 8 no A+, 9 informational. */
static int finding_rank(const struct check_result *c) {
  switch (c->effect) {
  case EFFECT_CAP:
    return c->cap == 'F' ? 0 : c->cap >= 'B' && c->cap <= 'E' ? 3 + ('E' - c->cap) : 7;
  case EFFECT_TRUST:
    return 1;
  case EFFECT_NAME:
    return 2;
  case EFFECT_WARN:
    return 7;
  case EFFECT_NO_APLUS:
    return 8;
  case EFFECT_NONE:
    break;
  }
  return 9;
}

/* Does c's failure give the letter r shows? */
static bool decides(const struct grade_result *r, const struct check_result *c) {
  switch (c->effect) {
  case EFFECT_TRUST:
    return strcmp(r->letter, "T") == 0;
  case EFFECT_NAME:
    return strcmp(r->letter, "M") == 0;
  case EFFECT_WARN:
    return strcmp(r->letter, "A-") == 0;
  case EFFECT_CAP:
    return r->letter[0] == c->cap && !r->letter[1];
  default:
    return false;
  }
}

static int by_weight(const void *a, const void *b) {
  const struct check_result *x = *(const struct check_result *const *)a;
  const struct check_result *y = *(const struct check_result *const *)b;
  int rx = finding_rank(x), ry = finding_rank(y);
  if (rx != ry)
    return rx - ry;
  if (x->severity != y->severity)
    return y->severity - x->severity;
  return (x > y) - (x < y); /* the table's order */
}

size_t report_findings(const struct grade_result *r, const struct check_result **out,
                       size_t *affecting) {
  size_t n = 0;
  *affecting = 0;
  for (size_t i = 0; i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    if (c->status != CHECK_FAIL || strcmp(c->id, "pq_kex") == 0 || strcmp(c->id, "ech") == 0)
      continue;
    out[n++] = c;
    if (c->effect != EFFECT_NONE)
      (*affecting)++;
  }
  qsort(out, n, sizeof(*out), by_weight);
  /* The deciding check first: the heaviest of those that give the letter. */
  for (size_t i = 0; i < *affecting; i++)
    if (decides(r, out[i])) {
      const struct check_result *d = out[i];
      memmove(&out[1], &out[0], i * sizeof(*out));
      out[0] = d;
      break;
    }
  return n;
}

const char *report_seen_file(const struct ev_endpoint *ep, enum ev_fact_id id) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_of(ep, id, &n);
  const char *file = NULL;
  for (size_t i = 0; i < n; i++) {
    if (facts[i]->typed.id != id)
      continue;
    if (!facts[i]->sample.file || (file && strcmp(file, facts[i]->sample.file) != 0))
      return NULL;
    file = facts[i]->sample.file;
  }
  return file;
}

const char *report_unknown_group(const struct check_result *c) {
  static const struct {
    const char *says, *group;
  } GROUPS[] = {
      {"no client offer", "no client offered what they test"},
      {"active probe", "need an active probe"},
      {"HTTP not visible", "need HTTP answers (clear text, or decrypted with --keylog)"},
      {"clear-text HTTP", "need HTTP answers (clear text, or decrypted with --keylog)"},
      {"OCSP", "no stapled OCSP response seen"},
  };
  const char *reason = c->reason ? c->reason : "not decided";
  for (size_t i = 0; i < sizeof GROUPS / sizeof GROUPS[0]; i++)
    if (strstr(reason, GROUPS[i].says))
      return GROUPS[i].group;
  return reason;
}
