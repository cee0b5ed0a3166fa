/*
 * grade/report_json.c - a server's element of the JSON report (the
 * document around it: report_json_doc.c).  Every check and cap carries
 * its evidence as fact, count, first/last time and one file:frame sample.
 *
 * cJSON builds and prints every part, but what repeats is printed once and
 * spliced in as raw JSON, which cJSON prints verbatim:
 *  - a check or cap object without its evidence is the same for every
 *    server with the same status and reason (a few dozen per report);
 *  - an evidence object is printed once per server, however many checks
 *    and caps cite it.
 * Formatted cJSON indents by nesting depth, so each part is printed as deep
 * as it lands (inside that many empty arrays, which print no whitespace)
 * and the report is byte for byte what one cJSON tree per server prints.
 * This made the report six times cheaper (a thousand servers, 15 MB).
 * The parts are printed by report_json_part.c, the profiles' by
 * report_json_profiles.c; report_json_pool.c renders the servers on
 * several threads.
 */
#include "grade/report.h"
#include "grade/report_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVIDENCE_DEPTH 4 /* a fact in a check's or cap's evidence */
#define ENTRY_DEPTH 2    /* a check, a cap, or a fact in "protocols" ... */

/* A check or cap object printed without its evidence (owned by json_out). */
struct shell {
  bool is_cap;
  const char *id, *title, *reason;
  enum check_status status;
  enum check_effect effect;
  char cap;
  struct json_tmpl t;
  struct shell *next; /* the next variant of the same check */
};

static const char *effect_name(enum check_effect e) {
  static const char *const names[] = {"info", "cap", "warning", "trust", "name", "no_a_plus"};
  return names[e];
}

/* ---- cJSON helpers: references instead of copies ---- */

/* key is a literal; value outlives the print. */
static void add_ref(struct json_out *j, cJSON *o, const char *key, const char *value) {
  cJSON *item = cJSON_CreateStringReference(value);
  if (!item || !cJSON_AddItemToObjectCS(o, key, item)) {
    cJSON_Delete(item);
    j->failed = true;
  }
}

static void add_item(struct json_out *j, cJSON *o, const char *key, cJSON *item) {
  if (!item || !cJSON_AddItemToObjectCS(o, key, item)) {
    cJSON_Delete(item);
    j->failed = true;
  }
}

static void append(struct json_out *j, cJSON *array, cJSON *item) {
  if (!item || !cJSON_AddItemToArray(array, item)) {
    cJSON_Delete(item);
    j->failed = true;
  }
}

/* A count or a score.  cJSON prints numbers with snprintf("%1.15g") and a
 * sscanf round trip, some 3,000 instructions; below 10^15 that text is the
 * integer's decimal digits, written here directly. */
static void add_uint(struct json_out *j, cJSON *o, const char *key, uint64_t v) {
  char digits[REPORT_UINT_LEN];
  if (v < 1000000000000000ULL) {
    report_uint(digits, v);
    add_item(j, o, key, cJSON_CreateRaw(digits));
  } else {
    add_item(j, o, key, cJSON_CreateNumber((double)v));
  }
}

/* A wire string, as report_add_wire_string adds it; plain ASCII (nothing
 * for the sanitiser to replace) is referenced, not copied. */
static void add_wire(struct json_out *j, cJSON *o, const char *key, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p && *p < 0x80)
    p++;
  if (!*p)
    add_ref(j, o, key, s);
  else
    report_add_wire_string(o, key, (const uint8_t *)s, strlen(s));
}

/* A check's "evidence" array; NULL when empty (or out of memory). */
static const char *evidence_text(struct json_out *j, const struct check_result *c) {
  const char *cited[4];
  size_t n = c->n_evidence < 4 ? c->n_evidence : 4;
  for (size_t i = 0; i < n; i++)
    if (!(cited[i] = report_json_fact(j, c->evidence[i], EVIDENCE_DEPTH, false)))
      return NULL;
  return report_json_array(j, cited, n);
}

/* ---- checks and caps ---- */

static cJSON *check_object(const struct check_result *c, cJSON *evidence) {
  cJSON *o = cJSON_CreateObject();
  if (!o) {
    cJSON_Delete(evidence);
    return NULL;
  }
  cJSON_AddStringToObject(o, "id", c->id);
  cJSON_AddStringToObject(o, "title", check_title(c));
  cJSON_AddStringToObject(o, "status", report_status_name(c->status));
  cJSON_AddStringToObject(o, "effect", effect_name(c->effect));
  if (c->effect == EFFECT_CAP) {
    char cap[2] = {c->cap, 0};
    cJSON_AddStringToObject(o, "cap", cap);
  }
  if (c->reason)
    cJSON_AddStringToObject(o, "reason", c->reason);
  cJSON_AddItemToObject(o, "evidence", evidence);
  return o;
}

static const char *cap_reason(const struct check_result *c) {
  return c->reason ? c->reason : check_title(c);
}

static cJSON *cap_object(const struct check_result *c, cJSON *evidence) {
  cJSON *cap = cJSON_CreateObject();
  if (!cap) {
    cJSON_Delete(evidence);
    return NULL;
  }
  char letter[2] = {c->cap, 0};
  cJSON_AddStringToObject(cap, "id", c->id);
  cJSON_AddStringToObject(cap, "grade", letter);
  cJSON_AddStringToObject(cap, "reason", cap_reason(c));
  cJSON_AddItemToObject(cap, "evidence", evidence);
  return cap;
}

static bool shell_fits(const struct shell *sh, const struct check_result *c) {
  if (sh->is_cap)
    return same_str(sh->id, c->id) && sh->cap == c->cap && same_str(sh->reason, cap_reason(c));
  return same_str(sh->id, c->id) && same_str(sh->title, check_title(c)) &&
         sh->status == c->status && sh->effect == c->effect && sh->cap == c->cap &&
         same_str(sh->reason, c->reason);
}

static void shell_free(struct shell *sh) {
  report_json_tmpl_free(&sh->t);
  free(sh);
}

/* The check (or cap) object of c without its evidence, printed at the
 * first server that needs it. */
static const struct shell *shell_of(struct json_out *j, size_t index, const struct check_result *c,
                                    bool is_cap) {
  struct shell **list = &j->shells[index][is_cap];
  for (struct shell *sh = *list; sh; sh = sh->next)
    if (shell_fits(sh, c))
      return sh;
  struct shell *sh = calloc(1, sizeof(*sh));
  cJSON *mark = cJSON_CreateRaw(REPORT_JSON_MARK);
  cJSON *o = !mark ? NULL : is_cap ? cap_object(c, mark) : check_object(c, mark);
  bool ok = sh && o && report_json_tmpl(j, o, ENTRY_DEPTH, &sh->t);
  cJSON_Delete(o); /* with mark (check_object and cap_object free it on failure) */
  if (!ok) {
    free(sh);
    j->failed = true;
    return NULL;
  }
  sh->is_cap = is_cap;
  sh->id = c->id;
  sh->title = check_title(c);
  sh->reason = is_cap ? cap_reason(c) : c->reason;
  sh->status = c->status;
  sh->effect = c->effect;
  sh->cap = c->cap;
  sh->next = *list;
  *list = sh;
  return sh;
}

/* A check or cap object: its shell around the evidence array. */
static cJSON *entry(struct json_out *j, const struct shell *sh, const char *evidence) {
  return sh ? report_json_raw(j, report_json_fill(j, &sh->t, evidence)) : NULL;
}

/* ---- servers ---- */

/* A list of facts in a server's object: the facts of some families, in
 * key order (the families are listed so), each with its value: its
 * argument, after what tells its family from the others' where the list
 * has several ("key_exchange": "dh:2048", "ecdh:x25519:256"). */
static const struct listing {
  const char *member;
  size_t n_families;
  enum ev_fact_id family[4];
} LISTINGS[] = {
    {"protocols", 1, {EV_VERSION}},
    {"ciphers", 1, {EV_SUITE}},
    {"key_exchange", 4, {EV_KX_DH, EV_KX_DH_GROUP, EV_KX_ECDH, EV_KX_RSA_EXPORT}},
    {"certificates", 1, {EV_CERT_LEAF}},
    {"certificate_keys", 1, {EV_CERT_KEY_TYPE}},
};

/* How much of its families' prefixes a listing's families share ("kx:"). */
static size_t shared_prefix(const struct listing *l) {
  const char *first = ev_fact_prefix(l->family[0]);
  size_t shared = strlen(first);
  for (size_t k = 1; k < l->n_families; k++) {
    const char *p = ev_fact_prefix(l->family[k]);
    size_t n = 0;
    while (n < shared && p[n] == first[n])
      n++;
    shared = n;
  }
  return shared;
}

static cJSON *listing_json(struct json_out *j, const struct ev_endpoint *ep,
                           const struct listing *l) {
  cJSON *a = cJSON_CreateArray();
  size_t shared = shared_prefix(l);
  for (size_t k = 0; a && k < l->n_families; k++) {
    enum ev_fact_id id = l->family[k];
    size_t n;
    const struct ev_fact *const *facts = ev_facts_of(ep, id, &n);
    for (size_t i = 0; i < n; i++) {
      if (facts[i]->typed.id != id)
        continue;
      char argument[EV_KEY_MAX], value[2 * EV_KEY_MAX];
      ev_fact_argument(facts[i], argument);
      snprintf(value, sizeof(value), "%s%s", ev_fact_prefix(id) + shared, argument);
      append(j, a, report_json_raw(j, report_json_fact_value(j, facts[i], value, ENTRY_DEPTH)));
    }
  }
  return a;
}

static void add_checks(struct json_out *j, cJSON *o, const struct grade_result *r) {
  cJSON *caps = cJSON_CreateArray(), *warnings = cJSON_CreateArray();
  cJSON *checks = cJSON_CreateArray();
  add_item(j, o, "caps", caps);
  add_item(j, o, "warnings", warnings);
  add_item(j, o, "checks", checks);
  for (size_t i = 0; caps && warnings && checks && i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    const char *evidence = evidence_text(j, c);
    append(j, checks, entry(j, shell_of(j, i, c, false), evidence));
    if (c->status != CHECK_FAIL)
      continue;
    if (c->effect == EFFECT_CAP || c->effect == EFFECT_TRUST || c->effect == EFFECT_NAME)
      append(j, caps, entry(j, shell_of(j, i, c, true), evidence));
    else if (c->effect == EFFECT_WARN)
      append(j, warnings, cJSON_CreateStringReference(c->id));
  }
}

/* Handshakes that are no evidence (violations) or only evidence against
 * the server (aborted by their client): "notices", when there are any. */
static void add_notices(struct json_out *j, cJSON *o, const struct ev_endpoint *ep) {
  const struct ev_fact *notes[REPORT_MAX_NOTICES];
  size_t n = report_notices(ep, notes, REPORT_MAX_NOTICES);
  cJSON *list = n ? cJSON_CreateArray() : NULL;
  if (n)
    add_item(j, o, "notices", list);
  for (size_t i = 0; list && i < n; i++) {
    cJSON *note = cJSON_CreateObject();
    append(j, list, note);
    if (!note)
      continue;
    add_ref(j, note, "kind", report_notice_id(notes[i]));
    if (!cJSON_AddStringToObject(note, "what", ev_fact_name(notes[i])))
      j->failed = true;
    add_uint(j, note, "handshakes", notes[i]->count);
    bool replaced = false;
    const char *where =
        notes[i]->sample.file ? report_json_sample(j, &notes[i]->sample, &replaced) : NULL;
    if (where && !cJSON_AddStringToObject(note, "sample", where))
      j->failed = true;
  }
}

static cJSON *server_json(struct json_out *j, const struct grade_result *r) {
  const struct ev_endpoint *ep = r->ep;
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  add_wire(j, o, "host", ep->host);
  add_ref(j, o, "ip", ep->ip);
  add_uint(j, o, "port", ep->port);
  add_ref(j, o, "grade", r->letter);
  add_ref(j, o, "grade_trust_ignored", r->letter_trust_ignored);
  add_ref(j, o, "floor", r->floor);
  struct report_confidence c;
  report_confidence(r, &c);
  if (!cJSON_AddStringToObject(o, "grade_display", c.display) ||
      !cJSON_AddBoolToObject(o, "certificate_seen", c.certificate_seen) ||
      !cJSON_AddBoolToObject(o, "trust_decided", c.trust_decided))
    j->failed = true;
  if (!r->graded)
    add_ref(j, o, "not_graded", r->no_grade_reason);
  if (report_no_sni_folded(r)) /* its letter decided nothing of its own: see report.h */
    add_item(j, o, "folded_under_address", cJSON_CreateTrue());
  if (r->changed) {
    char when[CAP_TIME_STRLEN];
    cap_time_str(r->changed_at, when, sizeof(when));
    cJSON *ch = cJSON_AddObjectToObject(o, "configuration_change");
    cJSON_AddStringToObject(ch, "at", when);
    cJSON_AddStringToObject(ch, "reason", r->change_reason);
    cJSON_AddStringToObject(ch, "grade_before", r->before);
    cJSON_AddStringToObject(ch, "grade_after", r->after);
    /* The frames that disagree: sample_text's buffer is reused, so copied. */
    const struct ev_sample *frames[2] = {&r->change_before, &r->change_after};
    const char *names[2] = {"frame_before", "frame_after"};
    for (int i = 0; i < 2; i++) {
      bool replaced = false;
      const char *where = frames[i]->file ? report_json_sample(j, frames[i], &replaced) : NULL;
      if (where && !cJSON_AddStringToObject(ch, names[i], where))
        j->failed = true;
    }
  }
  add_notices(j, o, ep);
  cJSON *score = cJSON_CreateObject();
  add_item(j, o, "score", score);
  const char *names[] = {"protocol", "key_exchange", "cipher", "total"};
  int values[] = {r->protocol, r->key_exchange, r->cipher, r->total};
  for (int i = 0; score && i < 4; i++) {
    if (values[i] >= 0)
      add_uint(j, score, names[i], (uint64_t)values[i]);
    else
      add_item(j, score, names[i], cJSON_CreateNull());
  }
  add_checks(j, o, r);
  add_uint(j, o, "checks_decided", r->n_decided);
  add_uint(j, o, "checks_total", r->n_checks);
  if (r->graded)
    add_item(j, o, "profiles", report_json_profiles(j, r));
  for (size_t i = 0; i < sizeof(LISTINGS) / sizeof(LISTINGS[0]); i++)
    add_item(j, o, LISTINGS[i].member, listing_json(j, ep, &LISTINGS[i]));
  add_item(j, o, "certificate_chains", report_chains_json(ep));
  add_item(j, o, "certificate_trust", report_trust_json(ep));
  cJSON *recs = cJSON_CreateArray();
  add_item(j, o, "recommendations", recs);
  const struct check_result *order[GRADE_MAX_CHECKS];
  size_t n = report_recommendations(r, order);
  for (size_t i = 0; recs && i < n; i++) {
    cJSON *rec = cJSON_CreateObject();
    if (rec) {
      add_ref(j, rec, "check", order[i]->id);
      add_ref(j, rec, "action", check_recommendation(order[i]));
    }
    append(j, recs, rec);
  }
  return o;
}

/* The server's text (in j->buf), NULL when out of memory. */
static const char *server_text(struct json_out *j, const struct grade_result *r) {
  cJSON *server = server_json(j, r);
  bool ok = server && !j->failed && report_json_print(j, server);
  cJSON_Delete(server);
  return ok ? j->buf : NULL;
}

static bool json_out_init(struct json_out *j) {
  memset(j, 0, sizeof(*j));
  return report_json_parts_init(j);
}

static void json_out_free(struct json_out *j) {
  for (size_t i = 0; i < GRADE_MAX_CHECKS; i++)
    for (int k = 0; k < 2; k++)
      for (struct shell *sh = j->shells[i][k], *next; sh; sh = next) {
        next = sh->next;
        shell_free(sh);
      }
  report_json_profiles_free(j->profiles);
  report_json_parts_free(j);
}

struct json_profile_shells **report_json_profile_shells(struct json_out *j) {
  return &j->profiles;
}

/* ---- rendering, for report_json_pool.c ---- */

struct json_out *report_json_scratch_new(void) {
  struct json_out *j = malloc(sizeof(*j));
  if (j && !json_out_init(j)) {
    json_out_free(j);
    free(j);
    j = NULL;
  }
  return j;
}

void report_json_scratch_free(struct json_out *j) {
  if (j)
    json_out_free(j);
  free(j);
}

const char *report_json_server(struct json_out *j, const struct grade_result *r) {
  return server_text(j, r);
}

void report_json_server_done(struct json_out *j) {
  report_json_parts_done(j);
}

/* The text is taken from j's print buffer, which is replaced by spare
 * (when it is as large) or a new one of the same size: no copy of tens of
 * kilobytes. */
struct json_text report_json_render(struct json_out *j, const struct grade_result *r,
                                    struct json_text spare) {
  const char *text = j ? server_text(j, r) : NULL;
  struct json_text taken = {NULL, 0, 0};
  if (text && text == j->buf) {
    char *fresh = spare.s && spare.size >= j->buf_size ? spare.s : malloc(j->buf_size);
    if (fresh) {
      taken = (struct json_text){j->buf, strlen(text), j->buf_size};
      if (fresh == spare.s) {
        j->buf_size = spare.size;
        spare.s = NULL;
      }
      j->buf = fresh;
    }
  }
  if (text && !taken.s && (taken.s = strdup(text)))
    taken.size = (taken.len = strlen(text)) + 1;
  free(spare.s);
  if (j)
    report_json_parts_done(j);
  return taken;
}
