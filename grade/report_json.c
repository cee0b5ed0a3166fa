/*
 * grade/report_json.c - the JSON report (output contract of
 * docs/architecture.md): {"tool", "inputs", "servers": [...], "limits",
 * "stats"}.  Every check and cap carries its evidence as fact, count,
 * first/last time and one file:frame sample.
 */
#include "grade/report.h"

#include <stdlib.h>
#include <string.h>

static const char *status_name(enum check_status s) {
  return s == CHECK_PASS ? "pass" : s == CHECK_FAIL ? "fail" : "unknown";
}

static const char *effect_name(enum check_effect e) {
  static const char *const names[] = {"info", "cap", "warning", "trust", "name", "no_a_plus"};
  return names[e];
}

cJSON *report_fact_json(const struct ev_fact *f) {
  cJSON *o = cJSON_CreateObject();
  report_add_wire_string(o, "fact", (const uint8_t *)f->key, strlen(f->key));
  cJSON_AddNumberToObject(o, "count", (double)f->count);
  char buf[CAP_TIME_STRLEN];
  cap_time_str(f->first_ts, buf, sizeof(buf));
  cJSON_AddStringToObject(o, "first", buf);
  cap_time_str(f->last_ts, buf, sizeof(buf));
  cJSON_AddStringToObject(o, "last", buf);
  if (f->sample.file) {
    char *where = report_sample(&f->sample);
    if (where)
      report_add_wire_string(o, "sample", (const uint8_t *)where, strlen(where));
    free(where);
  }
  return o;
}

static cJSON *evidence_json(const struct check_result *c) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < c->n_evidence; i++)
    cJSON_AddItemToArray(a, report_fact_json(c->evidence[i]));
  return a;
}

static cJSON *check_json(const struct check_result *c) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", c->id);
  cJSON_AddStringToObject(o, "title", c->title);
  cJSON_AddStringToObject(o, "status", status_name(c->status));
  cJSON_AddStringToObject(o, "effect", effect_name(c->effect));
  if (c->effect == EFFECT_CAP) {
    char cap[2] = {c->cap, 0};
    cJSON_AddStringToObject(o, "cap", cap);
  }
  if (c->reason)
    cJSON_AddStringToObject(o, "reason", c->reason);
  cJSON_AddItemToObject(o, "evidence", evidence_json(c));
  return o;
}

/* Facts whose key starts with prefix, as a list of the rest of the key. */
static cJSON *facts_with(const struct ev_endpoint *ep, const char *prefix) {
  cJSON *a = cJSON_CreateArray();
  size_t n, k = strlen(prefix);
  const struct ev_fact **facts = ev_sorted_facts(ep, &n);
  for (size_t i = 0; facts && i < n; i++)
    if (strncmp(facts[i]->key, prefix, k) == 0) {
      cJSON *o = report_fact_json(facts[i]);
      cJSON_AddStringToObject(o, "value", facts[i]->key + k);
      cJSON_AddItemToArray(a, o);
    }
  free(facts);
  return a;
}

static cJSON *server_json(const struct grade_result *r) {
  const struct ev_endpoint *ep = r->ep;
  cJSON *o = cJSON_CreateObject();
  report_add_wire_string(o, "host", (const uint8_t *)ep->host, strlen(ep->host));
  cJSON_AddStringToObject(o, "ip", ep->ip);
  cJSON_AddNumberToObject(o, "port", ep->port);
  cJSON_AddStringToObject(o, "grade", r->letter);
  cJSON_AddStringToObject(o, "grade_trust_ignored", r->letter_trust_ignored);
  cJSON_AddStringToObject(o, "floor", r->floor);
  if (!r->graded)
    cJSON_AddStringToObject(o, "not_graded", r->no_grade_reason);
  if (r->changed) {
    char when[CAP_TIME_STRLEN];
    cap_time_str(r->changed_at, when, sizeof(when));
    cJSON *ch = cJSON_AddObjectToObject(o, "configuration_change");
    cJSON_AddStringToObject(ch, "at", when);
    cJSON_AddStringToObject(ch, "reason", r->change_reason);
    cJSON_AddStringToObject(ch, "grade_before", r->before);
    cJSON_AddStringToObject(ch, "grade_after", r->after);
  }
  cJSON *score = cJSON_AddObjectToObject(o, "score");
  const char *names[] = {"protocol", "key_exchange", "cipher", "total"};
  int values[] = {r->protocol, r->key_exchange, r->cipher, r->total};
  for (int i = 0; i < 4; i++) {
    if (values[i] >= 0)
      cJSON_AddNumberToObject(score, names[i], values[i]);
    else
      cJSON_AddNullToObject(score, names[i]);
  }
  cJSON *caps = cJSON_AddArrayToObject(o, "caps");
  cJSON *warnings = cJSON_AddArrayToObject(o, "warnings");
  cJSON *checks = cJSON_AddArrayToObject(o, "checks");
  for (size_t i = 0; i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    cJSON_AddItemToArray(checks, check_json(c));
    if (c->status != CHECK_FAIL)
      continue;
    if (c->effect == EFFECT_CAP || c->effect == EFFECT_TRUST || c->effect == EFFECT_NAME) {
      cJSON *cap = cJSON_CreateObject();
      char letter[2] = {c->cap, 0};
      cJSON_AddStringToObject(cap, "id", c->id);
      cJSON_AddStringToObject(cap, "grade", letter);
      cJSON_AddStringToObject(cap, "reason", c->reason ? c->reason : c->title);
      cJSON_AddItemToObject(cap, "evidence", evidence_json(c));
      cJSON_AddItemToArray(caps, cap);
    } else if (c->effect == EFFECT_WARN) {
      cJSON_AddItemToArray(warnings, cJSON_CreateString(c->id));
    }
  }
  cJSON_AddNumberToObject(o, "checks_decided", (double)r->n_decided);
  cJSON_AddNumberToObject(o, "checks_total", (double)r->n_checks);
  cJSON_AddItemToObject(o, "protocols", facts_with(ep, "version:"));
  cJSON_AddItemToObject(o, "ciphers", facts_with(ep, "suite:"));
  cJSON_AddItemToObject(o, "key_exchange", facts_with(ep, "kx:"));
  cJSON_AddItemToObject(o, "certificates", facts_with(ep, "cert:leaf:"));
  cJSON_AddItemToObject(o, "certificate_keys", facts_with(ep, "cert_key:"));
  cJSON *recs = cJSON_AddArrayToObject(o, "recommendations");
  const struct check_result *order[GRADE_MAX_CHECKS];
  size_t n = report_recommendations(r, order);
  for (size_t i = 0; i < n; i++) {
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "check", order[i]->id);
    cJSON_AddStringToObject(rec, "action", order[i]->recommendation);
    cJSON_AddItemToArray(recs, rec);
  }
  return o;
}

/* Streamed one server at a time: a day of traffic has thousands of
 * servers, and the whole document as one cJSON tree would cost hundreds of
 * megabytes. */
static void write_item(FILE *out, const char *key, cJSON *item, bool last) {
  char *text = cJSON_Print(item);
  if (text)
    fprintf(out, "  \"%s\": %s%s\n", key, text, last ? "" : ",");
  free(text);
  cJSON_Delete(item);
}

void report_json(FILE *out, const struct grade_result *r, size_t n, const struct report_meta *m) {
  fputs("{\n", out);
  write_item(out, "tool", cJSON_CreateString("tlsgrade " TLSGRADE_VERSION), false);
  write_item(out, "rules", cJSON_CreateString("SSL Labs rating guide 2009r, passive"), false);
  cJSON *inputs = cJSON_CreateArray();
  for (size_t i = 0; i < m->n_inputs; i++) {
    report_add_wire_item(inputs, (const uint8_t *)m->inputs[i], strlen(m->inputs[i]));
  }
  write_item(out, "inputs", inputs, false);
  fputs("  \"servers\": [\n", out);
  for (size_t i = 0; i < n; i++) {
    cJSON *server = server_json(&r[i]);
    char *text = cJSON_Print(server);
    if (text)
      fprintf(out, "%s%s\n", text, i + 1 < n ? "," : "");
    free(text);
    cJSON_Delete(server);
  }
  fputs("  ],\n", out);
  write_item(out, "limits", m->limits ? cJSON_Duplicate(m->limits, 1) : cJSON_CreateObject(),
             false);
  write_item(out, "stats", m->stats ? cJSON_Duplicate(m->stats, 1) : cJSON_CreateObject(), true);
  fputs("}\n", out);
}
