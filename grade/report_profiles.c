/*
 * grade/report_profiles.c - the compliance profiles of a server in HTML
 * (a table); the text detail writes its own lines (report_text_detail.c)
 * and the JSON report its array (report_json_profiles.c).
 */
#include "grade/report.h"

#include <stdlib.h>
#include <string.h>

/* "suite:NAME: file:frame", the first fact that decided the item. */
static void put_first_evidence(FILE *out, const struct grade_profile_item *it) {
  if (!it->n_evidence)
    return;
  const struct ev_fact *f = it->evidence[0];
  char *where = report_sample(&f->sample);
  report_html_puts(out, f->key);
  fputs(": ", out);
  report_html_puts(out, where ? where : "?");
  free(where);
}

void report_profiles_html(FILE *out, const struct grade_result *r) {
  if (!r->graded)
    return;
  fputs("<h3>Compliance profiles</h3>\n<div "
        "class=\"scroll\"><table>\n<tr><th>Profile</th><th>Verdict</th>"
        "<th>Items</th></tr>\n",
        out);
  for (size_t i = 0; i < grade_profile_count(); i++) {
    struct grade_profile_result p;
    if (!grade_profile(r, i, &p))
      break;
    fputs("<tr><td><a href=\"", out);
    report_html_puts(out, p.source);
    fputs("\">", out);
    report_html_puts(out, p.title);
    fprintf(out, "</a></td><td>%s</td><td>", grade_profile_verdict_name(p.verdict));
    for (size_t k = 0; k < p.n_items; k++) {
      const struct grade_profile_item *it = &p.items[k];
      fprintf(out, "%s<code>%s</code> %s", k ? "<br>" : "", it->id, report_status_name(it->status));
      if (it->status == CHECK_FAIL && it->n_evidence) {
        fputs(": <code>", out);
        put_first_evidence(out, it);
        fputs("</code>", out);
      }
    }
    fputs("</td></tr>\n", out);
  }
  fputs("</table></div>\n", out);
}
