/*
 * grade/report_json.c - a server's element of the JSON report (the
 * document around it: report_json_doc.c).  Every check and cap carries
 * its evidence as fact, count, first/last time and one file:frame sample.
 *
 * cJSON prints every part, but what repeats is printed once and the rest
 * spliced in:
 *  - a check or cap object without its evidence is the same for every
 *    server with the same status and reason (a few dozen per report);
 *  - an evidence object is printed once per server, however many checks
 *    and caps cite it;
 *  - an object whose members are known (the element itself, a fact, the
 *    score) is a template printed once per list of members, its values
 *    spliced in where cJSON printed marks.
 * Formatted cJSON indents by nesting depth, so each part is printed as deep
 * as it lands (inside that many empty arrays, which print no whitespace)
 * and the report is byte for byte what one cJSON tree per server prints.
 * This made the report six times cheaper (a thousand servers, 15 MB); the
 * element as a template rather than a tree of raw nodes, a few percent
 * more.
 * The parts are printed by report_json_part.c, the profiles' by
 * report_json_profiles.c; report_json_pool.c renders the servers on
 * several threads.
 */
#include "base/hash.h"
#include "grade/report.h"
#include "grade/report_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVIDENCE_DEPTH 4 /* a fact in a check's or cap's evidence */
#define ENTRY_DEPTH 2    /* a check, a cap, or a fact in "protocols" ... */
#define CHAIN_DEPTH 2    /* a chain in "certificate_chains" */
#define CERT_DEPTH 4     /* a certificate in a chain's "certificates" */

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

/* ---- a server's members, each printed as it lands in the element ---- */

/* item (consumed) printed one container deep, as the member's value */
static void member_part(struct json_out *j, struct json_members *m, const char *key, cJSON *item) {
  report_json_member_raw(j, m, key, item ? report_json_part(j, item, 1) : NULL);
  cJSON_Delete(item);
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
static const char *entry(struct json_out *j, const struct shell *sh, const char *evidence) {
  return sh ? report_json_fill(j, &sh->t, evidence) : NULL;
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

static void listing(struct json_out *j, struct json_members *m, const struct ev_endpoint *ep,
                    const struct listing *l) {
  size_t n = 0, room = ep->nfacts, shared = shared_prefix(l); /* the families hold no more */
  const char **texts = malloc((room ? room : 1) * sizeof(*texts));
  for (size_t k = 0; texts && k < l->n_families; k++) {
    enum ev_fact_id id = l->family[k];
    size_t n_facts;
    const struct ev_fact *const *facts = ev_facts_of(ep, id, &n_facts);
    for (size_t i = 0; i < n_facts && n < room; i++) {
      if (facts[i]->typed.id != id)
        continue;
      char argument[EV_KEY_MAX], value[2 * EV_KEY_MAX];
      ev_fact_argument(facts[i], argument);
      snprintf(value, sizeof(value), "%s%s", ev_fact_prefix(id) + shared, argument);
      if (!(texts[n++] = report_json_fact_value(j, facts[i], value, ENTRY_DEPTH))) {
        free(texts);
        return;
      }
    }
  }
  if (texts)
    report_json_member_array(j, m, l->member, texts, n, false);
  else
    j->failed = true;
  free(texts);
}

static void add_checks(struct json_out *j, struct json_members *m, const struct grade_result *r) {
  const char *caps[GRADE_MAX_CHECKS], *warnings[GRADE_MAX_CHECKS], *checks[GRADE_MAX_CHECKS];
  size_t n_caps = 0, n_warnings = 0, n_checks = 0;
  for (size_t i = 0; i < r->n_checks && i < GRADE_MAX_CHECKS; i++) {
    const struct check_result *c = &r->checks[i];
    const char *evidence = evidence_text(j, c);
    const char *text = checks[n_checks++] = entry(j, shell_of(j, i, c, false), evidence);
    if (text && c->status == CHECK_FAIL) {
      size_t len;
      if (c->effect == EFFECT_CAP || c->effect == EFFECT_TRUST || c->effect == EFFECT_NAME)
        text = caps[n_caps++] = entry(j, shell_of(j, i, c, true), evidence);
      else if (c->effect == EFFECT_WARN)
        text = warnings[n_warnings++] = report_json_string(j, c->id, &len);
    }
    if (!text) {
      j->failed = true;
      return;
    }
  }
  report_json_member_array(j, m, "caps", caps, n_caps, false);
  report_json_member_array(j, m, "warnings", warnings, n_warnings, false);
  report_json_member_array(j, m, "checks", checks, n_checks, false);
}

/* Handshakes that are no evidence (violations) or only evidence against
 * the server (aborted by their client): "notices", when there are any. */
static void add_notices(struct json_out *j, struct json_members *m, const struct ev_endpoint *ep) {
  const struct ev_fact *notes[REPORT_MAX_NOTICES];
  const char *texts[REPORT_MAX_NOTICES];
  size_t n = report_notices(ep, notes, REPORT_MAX_NOTICES);
  if (!n)
    return;
  for (size_t i = 0; i < n; i++) {
    struct json_members note = {.n = 0};
    report_json_member_string(j, &note, "kind", report_notice_id(notes[i]));
    report_json_member_string(j, &note, "what", ev_fact_name(notes[i]));
    report_json_member_uint(j, &note, "handshakes", notes[i]->count);
    bool replaced = false;
    const char *where =
        notes[i]->sample.file ? report_json_sample(j, &notes[i]->sample, &replaced) : NULL;
    if (where)
      report_json_member_string(j, &note, "sample", where);
    if (!(texts[i] = report_json_members(j, &note, ENTRY_DEPTH, false)))
      return;
  }
  report_json_member_array(j, m, "notices", texts, n, false);
}

static void add_change(struct json_out *j, struct json_members *m, const struct grade_result *r) {
  char when[CAP_TIME_STRLEN];
  cap_time_str(r->changed_at, when, sizeof(when));
  cJSON *ch = cJSON_CreateObject();
  if (!ch || !cJSON_AddStringToObject(ch, "at", when) ||
      !cJSON_AddStringToObject(ch, "reason", r->change_reason) ||
      !cJSON_AddStringToObject(ch, "grade_before", r->before) ||
      !cJSON_AddStringToObject(ch, "grade_after", r->after))
    j->failed = true;
  /* The frames that disagree: sample_text's buffer is reused, so copied. */
  const struct ev_sample *frames[2] = {&r->change_before, &r->change_after};
  const char *names[2] = {"frame_before", "frame_after"};
  for (int i = 0; ch && i < 2; i++) {
    bool replaced = false;
    const char *where = frames[i]->file ? report_json_sample(j, frames[i], &replaced) : NULL;
    if (where && !cJSON_AddStringToObject(ch, names[i], where))
      j->failed = true;
  }
  member_part(j, m, "configuration_change", ch);
}

/* ---- certificates, trust ---- */

/* c's fields one after another, each after a byte that says whether it is
 * there: what tells two certificates' texts apart.  0 when they do not
 * fit (not kept then). */
static size_t cert_fields(const struct report_cert *c, char *out, size_t cap) {
  const char *const f[] = {c->sha256, c->subject, c->san, c->issuer,
                           c->valid,  c->key,     c->sig, c->unreadable};
  size_t o = 0;
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    size_t n = f[i] ? strlen(f[i]) + 1 : 0;
    if (o + 1 + n > cap)
      return 0;
    out[o++] = f[i] ? 1 : 0;
    memcpy(out + o, f[i] ? f[i] : "", n);
    o += n;
  }
  return o;
}

/* Certificate c as it lands in a chain: printed once per renderer for
 * all the servers that sent it (a provider's certificate serves many
 * names), found again by all its fields, not by its digest alone (saved
 * evidence is read as given). */
static const char *cert_text(struct json_out *j, const struct report_cert *c) {
  char fields[8 * (EV_KEY_MAX + 2)];
  size_t len = cert_fields(c, fields, sizeof fields);
  struct cert_text *slot =
      &j->certs[hash_bytes(HASH_FNV_OFFSET, (const uint8_t *)fields, len) % REPORT_JSON_CERTS];
  if (len && slot->text && slot->len == len && memcmp(slot->fields, fields, len) == 0)
    return slot->text;
  cJSON *o = report_cert_json(c);
  const char *text = o ? report_json_part(j, o, CERT_DEPTH) : NULL;
  cJSON_Delete(o);
  if (!text) {
    j->failed = true;
    return NULL;
  }
  if (len) { /* the slot's last certificate makes way */
    free(slot->fields);
    free(slot->text);
    slot->len = len;
    slot->fields = malloc(len);
    slot->text = slot->fields ? strdup(text) : NULL;
    if (slot->text)
      memcpy(slot->fields, fields, len);
    else
      free(slot->fields), slot->fields = NULL;
  }
  return text;
}

/* "certificate_chains": ep's chains as sent, each its id, length, count,
 * sample and certificates. */
static void add_chains(struct json_out *j, struct json_members *m, const struct ev_endpoint *ep) {
  struct report_chain chains[EV_SENT_CHAINS];
  const char *texts[EV_SENT_CHAINS];
  size_t n = report_chains(ep, chains);
  for (size_t i = 0; i < n; i++) {
    const char *certs[EV_SENT_CERTS];
    for (size_t k = 0; k < chains[i].n_certs; k++)
      if (!(certs[k] = cert_text(j, &chains[i].certs[k])))
        return;
    struct json_members chain = {.n = 0};
    report_json_member_string(j, &chain, "id", chains[i].id);
    report_json_member_uint(j, &chain, "length", chains[i].length);
    report_json_member_uint(j, &chain, "count", chains[i].seen->count);
    char *where = report_sample(&chains[i].seen->sample);
    report_json_member_wire(j, &chain, "sample", "sample_invalid_utf8", where);
    free(where);
    report_json_member_array(j, &chain, "certificates", certs, chains[i].n_certs, false);
    if (!(texts[i] = report_json_members(j, &chain, CHAIN_DEPTH, false)))
      return;
  }
  report_json_member_array(j, m, "certificate_chains", texts, n, false);
}

/* "certificate_trust": the verdict on ep's chains, the store that decided
 * it, the OCSP staple, the chains not kept. */
static void add_trust(struct json_out *j, struct json_members *m, const struct ev_endpoint *ep) {
  struct json_members trust = {.n = 0};
  char verdict[1024], store[1024], ocsp[1024];
  report_trust_words(ep, verdict, sizeof verdict);
  report_json_member_wire(j, &trust, "verdict", "verdict_invalid_utf8", verdict);
  report_trust_store(ep, store, sizeof store);
  if (store[0])
    report_json_member_wire(j, &trust, "store", "store_invalid_utf8", store);
  report_ocsp_words(ep, ocsp, sizeof ocsp);
  report_json_member_wire(j, &trust, "ocsp_staple", "ocsp_staple_invalid_utf8", ocsp);
  const struct ev_fact *over = ev_find_id(ep, EV_SENT_CHAINS_OVER_CAP, NULL);
  if (over)
    report_json_member_uint(j, &trust, "chains_not_kept", over->count);
  report_json_member_raw(j, m, "certificate_trust", report_json_members(j, &trust, 1, false));
}

static void add_score(struct json_out *j, struct json_members *m, const struct grade_result *r) {
  static const char *const names[] = {"protocol", "key_exchange", "cipher", "total"};
  int values[] = {r->protocol, r->key_exchange, r->cipher, r->total};
  struct json_members score = {.n = 0};
  for (int i = 0; i < 4; i++)
    if (values[i] >= 0)
      report_json_member_uint(j, &score, names[i], (uint64_t)values[i]);
    else
      report_json_member_raw(j, &score, names[i], "null");
  report_json_member_raw(j, m, "score", report_json_members(j, &score, 1, false));
}

static void add_recommendations(struct json_out *j, struct json_members *m,
                                const struct grade_result *r) {
  const struct check_result *order[GRADE_MAX_CHECKS];
  const char *recs[GRADE_MAX_CHECKS];
  size_t n = report_recommendations(r, order);
  for (size_t i = 0; i < n; i++) {
    struct json_members rec = {.n = 0};
    report_json_member_string(j, &rec, "check", order[i]->id);
    report_json_member_string(j, &rec, "action", check_recommendation(order[i]));
    if (!(recs[i] = report_json_members(j, &rec, ENTRY_DEPTH, false)))
      return;
  }
  report_json_member_array(j, m, "recommendations", recs, n, false);
}

/* The server's text (in j->buf), NULL when out of memory: its members
 * printed as they land, spliced into the element's template (one per
 * list of members: a few per report). */
static const char *server_text(struct json_out *j, const struct grade_result *r) {
  const struct ev_endpoint *ep = r->ep;
  struct json_members m = {.n = 0};
  report_json_member_wire(j, &m, "host", "host_invalid_utf8", ep->host);
  report_json_member_string(j, &m, "ip", ep->ip);
  report_json_member_uint(j, &m, "port", ep->port);
  report_json_member_string(j, &m, "grade", r->letter);
  report_json_member_string(j, &m, "grade_trust_ignored", r->letter_trust_ignored);
  report_json_member_string(j, &m, "floor", r->floor);
  struct report_confidence c;
  report_confidence(r, &c);
  report_json_member_string(j, &m, "grade_display", c.display);
  report_json_member_bool(j, &m, "certificate_seen", c.certificate_seen);
  report_json_member_bool(j, &m, "trust_decided", c.trust_decided);
  if (!r->graded)
    report_json_member_string(j, &m, "not_graded", r->no_grade_reason);
  if (report_no_sni_folded(r)) /* its letter decided nothing of its own: see report.h */
    report_json_member_bool(j, &m, "folded_under_address", true);
  if (r->changed)
    add_change(j, &m, r);
  add_notices(j, &m, ep);
  add_score(j, &m, r);
  add_checks(j, &m, r);
  report_json_member_uint(j, &m, "checks_decided", r->n_decided);
  report_json_member_uint(j, &m, "checks_total", r->n_checks);
  if (r->graded)
    report_json_member_raw(j, &m, "profiles", report_json_profiles(j, r));
  for (size_t i = 0; i < sizeof(LISTINGS) / sizeof(LISTINGS[0]); i++)
    listing(j, &m, ep, &LISTINGS[i]);
  add_chains(j, &m, ep);
  add_trust(j, &m, ep);
  add_recommendations(j, &m, r);
  return report_json_members(j, &m, 0, true);
}

static bool json_out_init(struct json_out *j) {
  memset(j, 0, sizeof(*j));
  return report_json_parts_init(j);
}

static void json_out_free(struct json_out *j) {
  for (size_t i = 0; i < REPORT_JSON_CERTS; i++) {
    free(j->certs[i].fields);
    free(j->certs[i].text);
  }
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
