/*
 * grade/profiles.c - compliance profiles: each guideline of
 * grade/profiles.tsv (Mozilla modern, intermediate, old; NIST SP 800-52
 * Rev. 2; BSI TR-02102-2) item by item, from the endpoint's facts.
 *
 * The soundness rule is the checks' (checks.c): an item fails only on a
 * fact the server chose (a version, suite, group, key, certificate or
 * header it sent), never on what a client merely offered; an item passes
 * only on proof, and a fact seen only in handshakes their client aborted
 * never passes one.  What a passive observer cannot prove stays unknown:
 * that a server never chooses a suite or group outside a list for some
 * client the capture lacks is never seen, so those items never pass.
 */
#include "grade/profiles.h"

#include <limits.h>
#include <string.h>

#include "grade/profiles_data.h"

_Static_assert(sizeof(PROFILES) / sizeof(PROFILES[0]) > 0, "profiles.tsv defines profiles");

/* Versions from oldest to newest: a server enables a contiguous range of
 * them (every stack configures a minimum and a maximum), so one refused
 * just below the oldest allowed stands for every older one. */
static const uint16_t VERSION_ORDER[] = {TLS_VERSION_SSL2,  TLS_VERSION_SSL3,  TLS_VERSION_TLS10,
                                         TLS_VERSION_TLS11, TLS_VERSION_TLS12, TLS_VERSION_TLS13};
#define N_VERSIONS (sizeof(VERSION_ORDER) / sizeof(VERSION_ORDER[0]))

static int version_rank(uint16_t v) {
  /* DTLS 1.0 is TLS 1.1, DTLS 1.2 and 1.3 are TLS 1.2 and 1.3 (RFC 6347 1, RFC 9147 1). */
  if (v == TLS_VERSION_DTLS10)
    v = TLS_VERSION_TLS11;
  else if (v == TLS_VERSION_DTLS12)
    v = TLS_VERSION_TLS12;
  else if (v == TLS_VERSION_DTLS13)
    v = TLS_VERSION_TLS13;
  for (size_t i = 0; i < N_VERSIONS; i++)
    if (VERSION_ORDER[i] == v)
      return (int)i;
  return -1;
}

static bool version_allowed(const struct profile_def *p, int rank) {
  for (size_t i = 0; i < p->n_versions; i++)
    if (version_rank(p->versions[i]) == rank)
      return true;
  return false;
}

static bool listed(const char *const *list, size_t n, const char *name, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0)
      return true;
  return false;
}

static void add_evidence(struct grade_profile_item *it, const struct ev_fact *f) {
  if (f && it->n_evidence < sizeof(it->evidence) / sizeof(it->evidence[0]))
    it->evidence[it->n_evidence++] = f;
}

static void decide(struct grade_profile_item *it, enum check_status st, const struct ev_fact *f,
                   const char *reason) {
  it->status = st;
  it->reason = reason;
  add_evidence(it, f);
}

/* facts[i] of ev_facts_of's view when it is of family id; NULL when it is
 * of another family whose key extends the prefix ("kx:dh:" and
 * "kx:dh_group:" do not, but the view promises nothing). */
static const struct ev_fact *nth(const struct ev_fact *const *facts, size_t i, enum ev_fact_id id) {
  return facts[i]->typed.id == id ? facts[i] : NULL;
}

/* versions: fail on a version negotiated outside the list; pass when a
 * client whose best version was the newest forbidden one below the list
 * was refused (grading-reference 4.2: only a refusal proves a version
 * off; check tls10_11 decides the same way). */
static void item_versions(const struct profile_def *p, const struct ev_endpoint *ep,
                          struct grade_profile_item *it) {
  it->id = "versions";
  int oldest = (int)N_VERSIONS;
  for (size_t i = 0; i < p->n_versions; i++) {
    int rank = version_rank(p->versions[i]);
    if (rank >= 0 && rank < oldest)
      oldest = rank;
  }
  size_t n_versions = 0;
  const struct ev_fact *const *versions = ev_facts_of(ep, EV_VERSION, &n_versions);
  for (size_t i = 0; i < n_versions; i++) {
    const struct ev_fact *f = nth(versions, i, EV_VERSION);
    if (!f)
      continue;
    int rank = version_rank(f->typed.version);
    if (rank >= 0 && !version_allowed(p, rank)) {
      decide(it, CHECK_FAIL, f, "the server negotiated a version the profile does not allow");
      return;
    }
  }
  if (oldest == 0 || oldest == (int)N_VERSIONS) {
    it->reason = "no version below the profile's to refuse";
    return;
  }
  uint16_t below = VERSION_ORDER[oldest - 1];
  size_t n_refused = 0;
  const struct ev_fact *const *refused = ev_facts_of(ep, EV_REFUSED, &n_refused);
  for (size_t i = 0; i < n_refused; i++) {
    const struct ev_fact *f = nth(refused, i, EV_REFUSED);
    if (!f)
      continue;
    if (f->typed.version == below && ev_fact_accepted(f)) {
      decide(it, CHECK_PASS, f,
             "a client offering at most the newest version below the profile's was refused "
             "(servers enable a contiguous range of versions)");
      return;
    }
  }
  it->reason = "no client offering at most the newest version below the profile's was seen "
               "refused: the server may still accept it";
}

/* suites: fail on a suite negotiated outside the list; never pass. */
static void item_suites(const struct profile_def *p, const struct ev_endpoint *ep,
                        struct grade_profile_item *it) {
  it->id = "suites";
  const struct ev_fact *seen = NULL;
  size_t n_suites = 0;
  const struct ev_fact *const *suites = ev_facts_of(ep, EV_SUITE, &n_suites);
  for (size_t i = 0; i < n_suites; i++) {
    const struct ev_fact *f = nth(suites, i, EV_SUITE);
    if (!f)
      continue;
    if (!listed(p->suites, p->n_suites, ev_fact_name(f), f->typed.name_len)) {
      decide(it, CHECK_FAIL, f, "the server negotiated a cipher suite the profile does not list");
      return;
    }
    if (!seen && ev_fact_accepted(f))
      seen = f;
  }
  add_evidence(it, seen);
  it->reason = seen ? "every suite negotiated is listed; whether the server would choose an "
                      "unlisted one for other clients is not visible passively"
                    : "no suite negotiated";
}

/* groups: fail on an (EC)DH group outside the list, or finite-field DH
 * below the profile's minimum (or at all when it allows none); never
 * pass, as suites. */
static void item_groups(const struct profile_def *p, const struct ev_endpoint *ep,
                        struct grade_profile_item *it) {
  it->id = "groups";
  const struct ev_fact *seen = NULL;
  size_t n_ecdh = 0;
  const struct ev_fact *const *ecdh = ev_facts_of(ep, EV_KX_ECDH, &n_ecdh);
  for (size_t i = 0; i < n_ecdh; i++) {
    const struct ev_fact *f = nth(ecdh, i, EV_KX_ECDH);
    if (!f)
      continue;
    if (!listed(p->groups, p->n_groups, ev_fact_name(f), f->typed.name_len)) {
      decide(it, CHECK_FAIL, f, "the server's key exchange used a group the profile does not list");
      return;
    }
    if (!seen && ev_fact_accepted(f))
      seen = f;
  }
  size_t n_dh = 0;
  const struct ev_fact *const *dh = ev_facts_of(ep, EV_KX_DH, &n_dh);
  for (size_t i = 0; i < n_dh; i++) {
    const struct ev_fact *f = nth(dh, i, EV_KX_DH);
    if (!f)
      continue;
    if (!p->dh_min_bits || f->typed.number < p->dh_min_bits) {
      decide(it, CHECK_FAIL, f,
             p->dh_min_bits ? "a finite-field DH group smaller than the profile allows"
                            : "a finite-field DH key exchange, which the profile does not allow");
      return;
    }
    if (!seen && ev_fact_accepted(f))
      seen = f;
  }
  add_evidence(it, seen);
  it->reason = seen ? "every key-exchange group seen is allowed; whether the server would choose "
                      "another for other clients is not visible passively"
                    : "no (EC)DH key exchange seen";
}

static bool key_allowed(const struct profile_def *p, const struct ev_fact *f) {
  for (size_t i = 0; i < p->n_keys; i++) {
    const struct profile_key *k = &p->keys[i];
    if (strlen(k->type) == f->typed.name_len &&
        memcmp(k->type, ev_fact_name(f), f->typed.name_len) == 0 &&
        f->typed.number >= k->min_bits && (!k->max_bits || f->typed.number <= k->max_bits))
      return true;
  }
  return false;
}

/* cert_key: every leaf key seen of an allowed type and size passes, as
 * key_weak passes on the keys seen (checks.c eval_key). */
static void item_cert_key(const struct profile_def *p, const struct ev_endpoint *ep,
                          struct grade_profile_item *it) {
  it->id = "cert_key";
  const struct ev_fact *seen = NULL;
  size_t n_keys = 0;
  const struct ev_fact *const *keys = ev_facts_of(ep, EV_CERT_KEY_TYPE, &n_keys);
  for (size_t i = 0; i < n_keys; i++) {
    const struct ev_fact *f = nth(keys, i, EV_CERT_KEY_TYPE);
    if (!f)
      continue;
    if (!key_allowed(p, f)) {
      decide(it, CHECK_FAIL, f, "the certificate key is of a type or size the profile forbids");
      return;
    }
    if (!seen && ev_fact_accepted(f))
      seen = f;
  }
  if (seen)
    decide(it, CHECK_PASS, seen, "every certificate key seen is of an allowed type and size");
  else
    it->reason = ev_find_id(ep, EV_TLS13_CERT_HIDDEN, NULL)
                     ? "TLS 1.3 encrypts the certificate: not visible without a key log"
                     : "no certificate seen";
}

/* hsts: as check hsts (checks.c eval_hsts) with the profile's max-age. */
static void item_hsts(const struct profile_def *p, const struct ev_endpoint *ep,
                      struct grade_profile_item *it) {
  it->id = "hsts";
  const struct ev_fact *longest = NULL, *f;
  size_t n_ages = 0;
  const struct ev_fact *const *ages = ev_facts_of(ep, EV_HSTS_MAX_AGE, &n_ages);
  for (size_t i = 0; i < n_ages; i++) {
    const struct ev_fact *age = nth(ages, i, EV_HSTS_MAX_AGE);
    if (!age)
      continue;
    if (!longest || age->typed.number > longest->typed.number)
      longest = age;
  }
  if (longest && longest->typed.number >= p->hsts_min_age && ev_fact_accepted(longest))
    decide(it, CHECK_PASS, longest, "an HSTS max-age at least the profile's was seen");
  else if (longest && longest->typed.number < p->hsts_min_age)
    decide(it, CHECK_FAIL, longest, "HSTS max-age shorter than the profile's");
  else if (!longest && (f = ev_first_of(ep, EV_HSTS_INVALID)))
    decide(it, CHECK_FAIL, f, "the HSTS header is invalid: browsers ignore it");
  else if (!longest && (f = ev_find_id(ep, EV_HSTS_ABSENT, NULL)))
    decide(it, CHECK_FAIL, f, "decrypted HTTP responses carry no HSTS header");
  else
    it->reason = "HSTS travels in encrypted HTTP: not visible without a key log";
}

/* lifetime: every leaf's validity (cert_lifetime facts, in days) against
 * the profile's maximum. */
static void item_lifetime(const struct profile_def *p, const struct ev_endpoint *ep,
                          struct grade_profile_item *it) {
  it->id = "cert_lifetime";
  const struct ev_fact *within = NULL;
  size_t n_lifetimes = 0;
  const struct ev_fact *const *lifetimes = ev_facts_of(ep, EV_CERT_LIFETIME, &n_lifetimes);
  for (size_t i = 0; i < n_lifetimes; i++) {
    const struct ev_fact *f = nth(lifetimes, i, EV_CERT_LIFETIME);
    if (!f)
      continue;
    if (f->typed.number > p->lifetime_max) {
      decide(it, CHECK_FAIL, f, "the certificate is valid longer than the profile allows");
      return;
    }
    if (!within && ev_fact_accepted(f))
      within = f;
  }
  if (within)
    decide(it, CHECK_PASS, within, "every certificate seen is within the profile's lifetime");
  else
    it->reason = ev_find_id(ep, EV_TLS13_CERT_HIDDEN, NULL)
                     ? "TLS 1.3 encrypts the certificate: not visible without a key log"
                     : "no certificate seen";
}

/* A version the profile requires (NIST SP 800-52r2 3.1: TLS 1.2, and TLS
 * 1.3 from 2024-01-01): passes when negotiated (TLS 1.3 also when a TLS
 * 1.2 answer carries the DOWNGRD01 sentinel, RFC 8446 4.1.3); fails when a
 * client offering it got less (tls12:refused, tls13:refused) or a client
 * whose best version it was was refused, as checks no_tls12 and no_tls13
 * decide; a newer version negotiated proves nothing of an older one. */
static void item_support(const struct profile_def *p, size_t k, const struct ev_endpoint *ep,
                         struct grade_profile_item *it) {
  uint16_t v = p->supports[k];
  bool tls13 = v == TLS_VERSION_TLS13;
  it->id = tls13 ? "tls13" : "tls12";
  const struct ev_args version = {.version = v};
  const struct ev_fact *seen = ev_find_id(ep, EV_VERSION, &version);
  if (!seen && tls13)
    seen = ev_find_id(ep, EV_SENTINEL, &(const struct ev_args){.name = "DOWNGRD01"});
  if (seen && ev_fact_accepted(seen)) {
    decide(it, CHECK_PASS, seen, "the version was negotiated (or announced by its sentinel)");
    return;
  }
  const struct ev_fact *less = ev_find_id(ep, tls13 ? EV_TLS13_REFUSED : EV_TLS12_REFUSED, NULL);
  size_t n_refused = 0;
  const struct ev_fact *const *refused = ev_facts_of(ep, EV_REFUSED, &n_refused);
  for (size_t i = 0; !less && i < n_refused; i++) {
    const struct ev_fact *f = nth(refused, i, EV_REFUSED);
    if (f && f->typed.version == v)
      less = f;
  }
  if (less)
    decide(it, CHECK_FAIL, less, "a client offering the version the profile requires got less");
  else
    it->reason = "no client offering the version was seen answered";
}

/* A check of check_table.h, as grade_endpoint decided it. */
static void item_check(const struct grade_result *r, const char *id,
                       struct grade_profile_item *it) {
  it->id = id;
  it->reason = "the check was not run";
  for (size_t i = 0; i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    /* the first byte first: called for every profile of every server */
    if (c->id != id && (c->id[0] != id[0] || strcmp(c->id, id) != 0))
      continue;
    it->status = c->status;
    it->reason = c->reason;
    for (size_t e = 0; e < c->n_evidence; e++)
      add_evidence(it, c->evidence[e]);
    break; /* ids are unique */
  }
}

size_t grade_profile_count(void) {
  return sizeof(PROFILES) / sizeof(PROFILES[0]);
}

const char *grade_profile_id(size_t i) {
  return i < grade_profile_count() ? PROFILES[i].id : NULL;
}

int grade_profile_find(const char *id) {
  for (size_t i = 0; i < grade_profile_count(); i++)
    if (strcmp(PROFILES[i].id, id) == 0)
      return (int)i;
  return -1;
}

const char *grade_profile_verdict_name(enum grade_profile_verdict v) {
  return v == GRADE_PROFILE_FAILS        ? "fails"
         : v == GRADE_PROFILE_MEETS_SEEN ? "meets what was seen"
                                         : "meets";
}

bool grade_profile(const struct grade_result *r, size_t i, struct grade_profile_result *out) {
  if (i >= grade_profile_count())
    return false;
  const struct profile_def *p = &PROFILES[i];
  memset(out, 0, sizeof *out);
  out->id = p->id;
  out->title = p->title;
  out->source = p->source;
  struct grade_profile_item *it = out->items;
  item_versions(p, r->ep, it++);
  item_suites(p, r->ep, it++);
  item_groups(p, r->ep, it++);
  item_cert_key(p, r->ep, it++);
  if (p->hsts_min_age)
    item_hsts(p, r->ep, it++);
  if (p->lifetime_max)
    item_lifetime(p, r->ep, it++);
  for (size_t k = 0; k < p->n_supports && it < out->items + GRADE_PROFILE_ITEMS; k++)
    item_support(p, k, r->ep, it++);
  for (size_t k = 0; k < p->n_requires && it < out->items + GRADE_PROFILE_ITEMS; k++)
    item_check(r, p->requires[k], it++);
  out->n_items = (size_t)(it - out->items);
  bool failed = false, undecided = false;
  for (size_t k = 0; k < out->n_items; k++) {
    failed |= out->items[k].status == CHECK_FAIL;
    undecided |= out->items[k].status == CHECK_UNKNOWN;
  }
  out->verdict = failed      ? GRADE_PROFILE_FAILS
                 : undecided ? GRADE_PROFILE_MEETS_SEEN
                             : GRADE_PROFILE_MEETS;
  return true;
}

const struct grade_profile_item *grade_profile_failed_item(const struct grade_profile_result *p) {
  for (size_t k = 0; k < p->n_items; k++)
    if (p->items[k].status == CHECK_FAIL)
      return &p->items[k];
  return NULL;
}
