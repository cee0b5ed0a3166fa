/*
 * grade/report_common.c - what every report format shares: samples,
 * recommendation order, and the per-format output sanitisers.
 */
#include "grade/report.h"

#include <stdlib.h>
#include <string.h>

char *report_sample(const struct ev_sample *s) {
  char *out = NULL;
  if (asprintf(&out, "%s:%llu", s->file ? s->file : "", (unsigned long long)s->frame) < 0)
    return NULL;
  return out;
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
    if (r->checks[i].status == CHECK_FAIL && r->checks[i].recommendation)
      out[n++] = &r->checks[i];
  qsort(out, n, sizeof(*out), by_severity);
  /* One line per action: several checks may ask for the same thing. */
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    bool dup = false;
    for (size_t j = 0; j < k && !dup; j++)
      dup = strcmp(out[j]->recommendation, out[i]->recommendation) == 0;
    if (!dup)
      out[k++] = out[i];
  }
  return k;
}

void report_term_puts(FILE *out, const char *s) {
  bool replaced;
  char *clean = report_utf8((const uint8_t *)s, strlen(s), &replaced);
  if (!clean)
    return;
  for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
    /* C0 controls, DEL, and the C1 range U+0080..U+009F (UTF-8 C2 80..9F,
     * which terminals may read as CSI) never reach the terminal. */
    if (*p < 0x20 || *p == 0x7f)
      fprintf(out, "\\x%02x", *p);
    else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
      fprintf(out, "\\u%04x", p[1]), p++;
    else
      fputc(*p, out);
  }
  free(clean);
}

void report_html_puts(FILE *out, const char *s) {
  bool replaced;
  char *clean = report_utf8((const uint8_t *)s, strlen(s), &replaced);
  if (!clean)
    return;
  for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
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
    default:
      if (*p < 0x20 || *p == 0x7f)
        fprintf(out, "&#xfffd;");
      else
        fputc(*p, out);
    }
  }
  free(clean);
}
