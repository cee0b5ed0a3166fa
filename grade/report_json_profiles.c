/*
 * grade/report_json_profiles.c - a server's "profiles" array in the JSON
 * report.  Five profiles of some forty items repeat on every server: an
 * item's object without its evidence is the same wherever its status and
 * reason are, and a profile's object without its items wherever its
 * verdict is.  Each is printed once per renderer (report_json.c's
 * templates) and filled with the server's evidence, printed once per
 * server.  Built as one cJSON tree per server, the profiles were the
 * report's largest part of its cost.
 */
#include "grade/report.h"
#include "grade/report_json.h"

#include <stdlib.h>
#include <string.h>

#define PROFILE_DEPTH 2  /* server > "profiles" > profile */
#define ITEM_DEPTH 4     /* ... > "items" > item */
#define EVIDENCE_DEPTH 6 /* ... > "evidence" > fact */

/* One variant of a profile's object (slot n_items) or of an item's. */
struct pshell {
  const char *id, *reason;
  int status; /* enum check_status; the verdict for a profile */
  struct json_tmpl t;
  struct pshell *next;
};

struct json_profile_shells {
  size_t n_profiles;
  struct pshell *slots[]; /* [profile * (GRADE_PROFILE_ITEMS + 1) + slot] */
};

void report_json_profiles_free(struct json_profile_shells *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->n_profiles * (GRADE_PROFILE_ITEMS + 1); i++)
    for (struct pshell *sh = p->slots[i], *next; sh; sh = next) {
      next = sh->next;
      report_json_tmpl_free(&sh->t);
      free(sh);
    }
  free(p);
}

static struct json_profile_shells *shells_of(struct json_out *j) {
  struct json_profile_shells **p = report_json_profile_shells(j);
  if (!*p) {
    size_t n = grade_profile_count();
    *p = calloc(1, sizeof(**p) + n * (GRADE_PROFILE_ITEMS + 1) * sizeof((*p)->slots[0]));
    if (*p)
      (*p)->n_profiles = n;
  }
  return *p;
}

/* The object of profile p (without its items) or of item it. */
static cJSON *shell_object(const struct grade_profile_result *p,
                           const struct grade_profile_item *it, cJSON *mark) {
  cJSON *o = cJSON_CreateObject();
  bool ok = o != NULL;
  if (ok && it) {
    ok = cJSON_AddStringToObject(o, "id", it->id) &&
         cJSON_AddStringToObject(o, "status", report_status_name(it->status)) &&
         (!it->reason || cJSON_AddStringToObject(o, "reason", it->reason)) &&
         cJSON_AddItemToObject(o, "evidence", mark);
  } else if (ok) {
    ok = cJSON_AddStringToObject(o, "id", p->id) && cJSON_AddStringToObject(o, "title", p->title) &&
         cJSON_AddStringToObject(o, "source", p->source) &&
         cJSON_AddStringToObject(o, "verdict", grade_profile_verdict_name(p->verdict)) &&
         cJSON_AddItemToObject(o, "items", mark);
  }
  if (!ok) {
    if (!o || !cJSON_IsRaw(cJSON_GetObjectItemCaseSensitive(o, it ? "evidence" : "items")))
      cJSON_Delete(mark);
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

/* The template of profile i's object (it NULL) or of its item k. */
static const struct json_tmpl *shell_of(struct json_out *j, size_t i,
                                        const struct grade_profile_result *p, size_t k,
                                        const struct grade_profile_item *it) {
  struct json_profile_shells *all = shells_of(j);
  if (!all || i >= all->n_profiles || k > GRADE_PROFILE_ITEMS)
    return NULL;
  struct pshell **list = &all->slots[i * (GRADE_PROFILE_ITEMS + 1) + k];
  const char *id = it ? it->id : p->id, *reason = it ? it->reason : NULL;
  int status = it ? (int)it->status : (int)p->verdict;
  for (struct pshell *sh = *list; sh; sh = sh->next)
    if (sh->status == status && same_str(sh->id, id) && same_str(sh->reason, reason))
      return &sh->t;
  struct pshell *sh = calloc(1, sizeof(*sh));
  cJSON *mark = cJSON_CreateRaw(REPORT_JSON_MARK);
  cJSON *o = mark ? shell_object(p, it, mark) : NULL;
  bool ok = sh && o && report_json_tmpl(j, o, it ? ITEM_DEPTH : PROFILE_DEPTH, &sh->t);
  cJSON_Delete(o);
  if (!ok) {
    free(sh);
    return NULL;
  }
  sh->id = id;
  sh->reason = reason;
  sh->status = status;
  sh->next = *list;
  *list = sh;
  return &sh->t;
}

/* Item k of profile i: its template around its evidence. */
static const char *item_text(struct json_out *j, size_t i, const struct grade_profile_result *p,
                             size_t k) {
  const struct grade_profile_item *it = &p->items[k];
  const char *facts[sizeof(it->evidence) / sizeof(it->evidence[0])];
  size_t n = it->n_evidence < sizeof(facts) / sizeof(facts[0]) ? it->n_evidence
                                                               : sizeof(facts) / sizeof(facts[0]);
  for (size_t e = 0; e < n; e++)
    if (!(facts[e] = report_json_fact(j, it->evidence[e], EVIDENCE_DEPTH, true)))
      return NULL;
  const char *evidence = report_json_array(j, facts, n);
  if (n && !evidence)
    return NULL;
  return report_json_fill(j, shell_of(j, i, p, k, it), evidence);
}

const char *report_json_profiles(struct json_out *j, const struct grade_result *r) {
  const char *profiles[GRADE_MAX_CHECKS]; /* more than profiles.tsv holds; checked below */
  size_t n = 0;
  for (size_t i = 0; r->graded && i < grade_profile_count(); i++) {
    struct grade_profile_result p;
    if (!grade_profile(r, i, &p))
      break;
    if (n == GRADE_MAX_CHECKS) {
      j->failed = true;
      return NULL;
    }
    const char *items[GRADE_PROFILE_ITEMS];
    for (size_t k = 0; k < p.n_items; k++)
      if (!(items[k] = item_text(j, i, &p, k)))
        return NULL;
    const char *inner = report_json_array(j, items, p.n_items);
    if ((p.n_items && !inner) || !(profiles[n++] = report_json_fill(
                                       j, shell_of(j, i, &p, GRADE_PROFILE_ITEMS, NULL), inner)))
      return NULL;
  }
  return n ? report_json_array(j, profiles, n) : "[]";
}
