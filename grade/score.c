/*
 * grade/score.c - the SSL Labs numeric score and the letter
 * (grading-reference.md sections 1 and 3): protocol 30 %, key exchange 30 %,
 * cipher strength 40 %, then every cap that a FAILED check sets, then T
 * and M, then A- and A+.  Unknown checks never lower the letter; they set
 * the floor, the letter if every unknown cap-check (and trust check,
 * section 5 case 40) had failed.
 */
#include "grade/checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const LETTERS[] = {"A+", "A", "A-", "B", "C", "D", "E", "F", "M", "T"};

static int letter_rank(const char *l) {
  /* First letters before strcmp: grading and sorting rank letters half a
   * million times for a thousand servers. */
  for (size_t i = 0; i < sizeof(LETTERS) / sizeof(LETTERS[0]); i++)
    if (l[0] == LETTERS[i][0] && strcmp(l, LETTERS[i]) == 0)
      return (int)i;
  return 100; /* "-": not graded */
}

int grade_letter_cmp(const char *a, const char *b) {
  return letter_rank(a) - letter_rank(b);
}

/* Protocol score of a version (section 1 table). */
static int version_score(const char *v) {
  static const struct {
    const char *name;
    int score;
  } t[] = {{"SSLv2", 0},      {"SSLv3", 80},     {"TLSv1.0", 90},   {"TLSv1.1", 95},
           {"TLSv1.2", 100},  {"TLSv1.3", 100},  {"DTLSv1.0", 95},  {"DTLSv1.2", 100},
           {"DTLSv1.3", 100}};
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    if (strcmp(v, t[i].name) == 0)
      return t[i].score;
  return -1;
}

static int protocol_score(const struct ev_endpoint *ep, struct grade_result *out) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_with(ep, "version:", &n);
  int best = -1, worst = -1;
  for (size_t i = 0; i < n; i++) {
    const char *v = facts[i]->key + 8;
    int s = version_score(v);
    if (s < 0)
      continue;
    if (best < 0 || s > best || (s == best && strcmp(v, out->best_version) > 0))
      best = s, out->best_version = v;
    if (worst < 0 || s < worst || (s == worst && strcmp(v, out->worst_version) < 0))
      worst = s, out->worst_version = v;
  }
  return best < 0 ? -1 : (best + worst) / 2;
}

/* Key exchange: the weakest key protecting a handshake (section 1). */
static int key_score(const struct ev_endpoint *ep) {
  if (ev_find(ep, "anon"))
    return 0;
  const struct ev_fact *f = NULL;
  int bits = checks_weakest_key(ep, &f);
  if (bits < 0)
    return -1;
  if (ev_find_prefix(ep, "kx:rsa_export:"))
    return bits < 512 ? 20 : 40;
  return bits < 512 ? 20 : bits < 1024 ? 40 : bits < 2048 ? 80 : bits < 4096 ? 90 : 100;
}

static int cipher_bits_score(int bits) {
  return bits == 0 ? 0 : bits < 128 ? 20 : bits < 256 ? 80 : 100;
}

static int cipher_score(const struct ev_endpoint *ep) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_with(ep, "cipher_bits:", &n);
  int best = -1, worst = -1;
  for (size_t i = 0; i < n; i++) {
    int s = cipher_bits_score(atoi(facts[i]->key + 12));
    if (best < 0 || s > best)
      best = s;
    if (worst < 0 || s < worst)
      worst = s;
  }
  return best < 0 ? -1 : (best + worst) / 2;
}

static const char *letter_of_total(int total) {
  return total >= 80 ? "A" : total >= 65 ? "B" : total >= 50 ? "C" : total >= 35 ? "D"
                                           : total >= 20 ? "E" : "F";
}

/* At most three characters, like snprintf(dst, 4, "%s", l) but cheaper:
 * grading sets letters 24 times per endpoint. */
static void set_letter(char dst[4], const char *l) {
  size_t n = strnlen(l, 3);
  memcpy(dst, l, n);
  dst[n] = '\0';
}

static void worst_of(char dst[4], const char *l) {
  if (grade_letter_cmp(l, dst) > 0)
    set_letter(dst, l);
}

static void numeric(const struct ev_endpoint *ep, struct grade_result *out) {
  out->protocol = protocol_score(ep, out);
  out->key_exchange = key_score(ep);
  out->cipher = cipher_score(ep);
  int k = out->key_exchange;
  /* TLS 1.3 without a key log: the certificate is hidden; score the key
   * exchange alone and say so (the certificate checks stay unknown). */
  if (out->protocol < 0 || out->cipher < 0 || k < 0) {
    out->total = -1;
    return;
  }
  /* testssl floors each weighted part; SSL Labs' rounding is unconfirmed. */
  out->total = out->protocol * 30 / 100 + k * 30 / 100 + out->cipher * 40 / 100;
  if (out->protocol == 0 || k == 0 || out->cipher == 0)
    out->total = 0;
}

/* Caps, T, M, A-, A+, and the floor from the checks. */
static void letters(struct grade_result *out) {
  char letter[4], floor_letter[4];
  set_letter(letter, letter_of_total(out->total));
  bool capped = false, warned = false, trust = false, name = false, aplus_ok = true;
  set_letter(floor_letter, letter);
  for (size_t i = 0; i < out->n_checks; i++) {
    const struct check_result *c = &out->checks[i];
    bool fail = c->status == CHECK_FAIL, unknown = c->status == CHECK_UNKNOWN;
    char cap[2] = {c->cap, 0};
    if (c->effect == EFFECT_CAP && fail) {
      if (grade_letter_cmp(cap, letter) > 0)
        capped = true;
      worst_of(letter, cap);
    }
    if (c->effect == EFFECT_CAP && unknown)
      worst_of(floor_letter, cap);
    warned = warned || (c->effect == EFFECT_WARN && fail);
    /* Section 5 case 40: an unknown trust check puts T in the floor. */
    if (c->effect == EFFECT_TRUST && unknown)
      worst_of(floor_letter, "T");
    trust = trust || (c->effect == EFFECT_TRUST && fail);
    name = name || (c->effect == EFFECT_NAME && fail);
    /* A+ needs positive evidence (reference 3, project policy). */
    if ((c->effect == EFFECT_WARN || c->effect == EFFECT_NO_APLUS) && c->status != CHECK_PASS)
      aplus_ok = false;
  }
  worst_of(floor_letter, letter);
  if (strcmp(letter, "A") == 0 && !capped) {
    if (warned)
      set_letter(letter, "A-");
    else if (aplus_ok)
      set_letter(letter, "A+");
  }
  set_letter(out->letter_trust_ignored, letter);
  if (trust)
    set_letter(letter, "T"); /* T before M: the project's choice (reference 3) */
  else if (name)
    set_letter(letter, "M");
  set_letter(out->letter, letter);
  set_letter(out->floor, grade_letter_cmp(floor_letter, letter) > 0 ? floor_letter : letter);
}

void grade_endpoint(const struct ev_endpoint *ep, struct grade_result *out) {
  memset(out, 0, sizeof(*out));
  out->ep = ep;
  out->best_version = out->worst_version = "";
  out->n_checks = checks_run(ep, out->checks, GRADE_MAX_CHECKS);
  for (size_t i = 0; i < out->n_checks; i++)
    if (out->checks[i].status != CHECK_UNKNOWN)
      out->n_decided++;
  numeric(ep, out);
  out->graded = ev_find(ep, "server_hello") != NULL && out->total >= 0;
  if (!out->graded) {
    out->no_grade_reason = !ev_find(ep, "server_hello")
                               ? "no ServerHello seen: the server never answered in the capture"
                               : "the key exchange strength is not visible (certificate hidden "
                                 "and no key exchange decoded)";
    set_letter(out->letter, "-");
    set_letter(out->letter_trust_ignored, "-");
    set_letter(out->floor, "-");
    return;
  }
  letters(out);
}

/* A configuration change: a certificate replaced (one leaf last seen before
 * another was first seen), or a version negotiated and later refused to a
 * client offering it at best (refused:V:... after version:V).  0: none. */
static cap_time_us change_point(const struct ev_endpoint *ep, const char **why) {
  size_t n_leaf, n_version, n_refused;
  const struct ev_fact *const *leaf = ev_facts_with(ep, "cert:leaf:", &n_leaf);
  const struct ev_fact *const *version = ev_facts_with(ep, "version:", &n_version);
  const struct ev_fact *const *refused = ev_facts_with(ep, "refused:", &n_refused);
  cap_time_us at = 0;
  /* Pairs in key order, the first of equal times winning: "cert:leaf:"
   * sorts before "version:". */
  for (size_t i = 0; i < n_leaf; i++)
    for (size_t j = 0; j < n_leaf; j++)
      if (leaf[i]->last_ts < leaf[j]->first_ts && (!at || leaf[j]->first_ts < at)) {
        at = leaf[j]->first_ts;
        *why = "the server's certificate was replaced";
      }
  for (size_t i = 0; i < n_version; i++) {
    const char *v = version[i]->key + 8;
    size_t k = strlen(v);
    for (size_t j = 0; j < n_refused; j++) {
      const struct ev_fact *b = refused[j];
      if (strncmp(b->key + 8, v, k) == 0 && b->key[8 + k] == ':' &&
          version[i]->last_ts < b->first_ts && (!at || b->first_ts < at)) {
        at = b->first_ts;
        *why = "a version it negotiated before was refused afterwards";
      }
    }
  }
  return at;
}

void grade_periods(const struct ev_endpoint *ep, struct grade_result *out) {
  const char *why = NULL;
  cap_time_us at = change_point(ep, &why);
  if (!at || !out->graded)
    return;
  struct grade_result part;
  for (int after = 0; after < 2; after++) {
    struct ev_store *ev = ev_period(ep, at, after);
    if (!ev)
      return;
    grade_endpoint(ev_endpoint_at(ev, 0), &part);
    set_letter(after ? out->after : out->before, part.letter);
    ev_store_free(ev);
  }
  out->changed = true;
  out->changed_at = at;
  out->change_reason = why;
}
