/*
 * grade/report_ecs.c - --format ecs after grading: one Elastic Common
 * Schema document per failed check per server (a finding), as a
 * vulnerability scanner writes them (ECS event.kind "state", category
 * "vulnerability"), one JSON object per line.  What ECS has no field for
 * (the letter, the check's effect on it) is under "tlsgrade", ECS's place
 * for custom fields being a name of one's own.
 */
#include "grade/grade.h"
#include "grade/report.h"

#include <stdlib.h>
#include <string.h>

/* ECS vulnerability.severity ("Critical", "High", "Medium", "Low"): how
 * far the check pulls the letter down (grading-reference: T and M are as
 * bad as F for a browser). */
static const char *severity(const struct check_result *c) {
  if (c->effect == EFFECT_TRUST || c->effect == EFFECT_NAME ||
      (c->effect == EFFECT_CAP && c->cap == 'F'))
    return "Critical";
  if (c->effect == EFFECT_CAP && c->cap >= 'C')
    return "High";
  if (c->effect == EFFECT_CAP)
    return "Medium";
  return "Low";
}

static const char *effect_name(enum check_effect e) {
  static const char *const names[] = {"none", "cap", "warning", "trust", "name", "no_a_plus"};
  return e <= EFFECT_NO_APLUS ? names[e] : "none";
}

/* When the finding was seen: its first piece of evidence, else the
 * server's last sighting. */
static cap_time_us finding_time(const struct grade_result *r, const struct check_result *c) {
  if (c->n_evidence && c->evidence[0])
    return c->evidence[0]->sample.ts;
  const struct ev_fact *seen = ev_find_id(r->ep, EV_HANDSHAKES, NULL);
  return seen ? seen->last_ts : 0;
}

static void add_server(cJSON *o, const struct ev_endpoint *ep) {
  cJSON *server = cJSON_AddObjectToObject(o, "server");
  bool named = ep->host && strcmp(ep->host, "-") != 0;
  cJSON_AddStringToObject(server, "address", named ? ep->host : ep->ip);
  cJSON_AddStringToObject(server, "ip", ep->ip);
  cJSON_AddItemToObject(server, "port", report_int_item(ep->port));
  if (named)
    cJSON_AddStringToObject(server, "domain", ep->host);
}

static cJSON *finding(const struct grade_result *r, const struct check_result *c) {
  cJSON *o = cJSON_CreateObject();
  report_ecs_base(o, finding_time(r, c), "state", "vulnerability", "info");
  cJSON *event = cJSON_GetObjectItem(o, "event");
  cJSON_AddStringToObject(event, "dataset", "tlsgrade.finding");
  cJSON_AddStringToObject(event, "action", "tls-check-failed");
  if (c->reason)
    cJSON_AddStringToObject(event, "reason", c->reason);
  char *message = NULL;
  size_t len = strlen(check_title(c)) + (c->reason ? strlen(c->reason) : 0) + 3;
  if ((message = malloc(len)) != NULL) {
    snprintf(message, len, "%s%s%s", check_title(c), c->reason ? ": " : "",
             c->reason ? c->reason : "");
    cJSON_AddStringToObject(o, "message", message);
    free(message);
  }
  add_server(o, r->ep);
  cJSON *v = cJSON_AddObjectToObject(o, "vulnerability");
  cJSON_AddStringToObject(v, "id", c->id);
  cJSON_AddStringToObject(v, "description", check_title(c));
  cJSON_AddStringToObject(v, "severity", severity(c));
  cJSON_AddItemToArray(cJSON_AddArrayToObject(v, "category"), cJSON_CreateString("TLS"));
  cJSON_AddStringToObject(cJSON_AddObjectToObject(v, "scanner"), "vendor", "tlsgrade");
  cJSON *own = cJSON_AddObjectToObject(o, "tlsgrade");
  cJSON_AddStringToObject(own, "grade", r->letter);
  cJSON_AddStringToObject(own, "effect", effect_name(c->effect));
  if (c->effect == EFFECT_CAP) {
    char cap[2] = {c->cap, '\0'};
    cJSON_AddStringToObject(own, "cap", cap);
  }
  if (check_recommendation(c))
    cJSON_AddStringToObject(own, "recommendation", check_recommendation(c));
  return o;
}

void report_ecs(FILE *out, const struct grade_result *const *r, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (report_no_sni_folded(r[i])) /* its findings are its address's: see grade.h */
      continue;
    for (size_t k = 0; k < r[i]->n_checks; k++) {
      if (r[i]->checks[k].status != CHECK_FAIL)
        continue;
      cJSON *o = finding(r[i], &r[i]->checks[k]);
      char *text = o ? cJSON_PrintUnformatted(o) : NULL;
      if (text)
        fprintf(out, "%s\n", text);
      free(text);
      cJSON_Delete(o);
    }
  }
}
