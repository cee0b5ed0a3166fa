/*
 * grade/report_profiles.c - the compliance profiles of a server in HTML
 * (a table) and JSON (an array); the text detail writes its own lines
 * (report_text_detail.c).
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

static cJSON *item_json(const struct grade_profile_item *it) {
  cJSON *o = cJSON_CreateObject();
  cJSON *evidence = NULL;
  if (!o || !cJSON_AddStringToObject(o, "id", it->id) ||
      !cJSON_AddStringToObject(o, "status", report_status_name(it->status)) ||
      (it->reason && !cJSON_AddStringToObject(o, "reason", it->reason)) ||
      !(evidence = cJSON_AddArrayToObject(o, "evidence"))) {
    cJSON_Delete(o);
    return NULL;
  }
  for (size_t e = 0; e < it->n_evidence; e++) {
    const struct ev_fact *f = it->evidence[e];
    cJSON *fact = cJSON_CreateObject();
    char *where = report_sample(&f->sample);
    if (fact) {
      cJSON_AddItemToArray(evidence, fact);
      report_add_wire_string(fact, "fact", (const uint8_t *)f->key, strlen(f->key));
      cJSON_AddNumberToObject(fact, "count", (double)f->count);
      if (where)
        report_add_wire_string(fact, "sample", (const uint8_t *)where, strlen(where));
    }
    free(where);
  }
  return o;
}

cJSON *report_profiles_json(const struct grade_result *r) {
  if (!r->graded)
    return NULL;
  cJSON *list = cJSON_CreateArray();
  for (size_t i = 0; list && i < grade_profile_count(); i++) {
    struct grade_profile_result p;
    cJSON *o = cJSON_CreateObject(), *items = NULL;
    if (!o || !grade_profile(r, i, &p) || !cJSON_AddStringToObject(o, "id", p.id) ||
        !cJSON_AddStringToObject(o, "title", p.title) ||
        !cJSON_AddStringToObject(o, "source", p.source) ||
        !cJSON_AddStringToObject(o, "verdict", grade_profile_verdict_name(p.verdict)) ||
        !(items = cJSON_AddArrayToObject(o, "items"))) {
      cJSON_Delete(o);
      cJSON_Delete(list);
      return NULL;
    }
    cJSON_AddItemToArray(list, o);
    for (size_t k = 0; k < p.n_items; k++) {
      cJSON *item = item_json(&p.items[k]);
      if (!item) {
        cJSON_Delete(list);
        return NULL;
      }
      cJSON_AddItemToArray(items, item);
    }
  }
  return list;
}
