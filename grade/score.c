/*
 * grade/score.c - the SSL Labs numeric score and the letter
 * (grading-reference.md sections 1 and 3): protocol 30 %, key exchange 30 %,
 * cipher strength 40 %, then every cap that a FAILED check sets, then T
 * and M, then A- and A+.  Unknown checks never lower the letter; they set
 * the floor, the letter if every unknown cap-check (and trust check,
 * section 5 case 40) had failed.
 */
#include "grade/checks.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* Protocol score of a version (section 1 table); DTLS 1.0 is TLS 1.1's
 * DTLS (RFC 4347). */
static int version_score(uint16_t v) {
  static const struct {
    uint16_t version;
    int score;
  } t[] = {{TLS_VERSION_SSL2, 0},    {TLS_VERSION_SSL3, 80},    {TLS_VERSION_TLS10, 90},
           {TLS_VERSION_TLS11, 95},  {TLS_VERSION_TLS12, 100},  {TLS_VERSION_TLS13, 100},
           {TLS_VERSION_DTLS10, 95}, {TLS_VERSION_DTLS12, 100}, {TLS_VERSION_DTLS13, 100}};
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    if (v == t[i].version)
      return t[i].score;
  return -1;
}

/* Best and worst (section 1): a fact of an aborted handshake alone may
 * lower the worst, never raise the best (ev_fact_accepted). */
static int protocol_score(const struct ev_endpoint *ep, struct grade_result *out) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_of(ep, EV_VERSION, &n);
  int best = -1, worst = -1;
  for (size_t i = 0; i < n; i++) {
    if (facts[i]->typed.id != EV_VERSION)
      continue;
    const char *v = ev_fact_name(facts[i]); /* "TLSv1.2": it ends the key */
    int s = version_score(facts[i]->typed.version);
    if (s < 0)
      continue;
    if (ev_fact_accepted(facts[i]) &&
        (best < 0 || s > best || (s == best && strcmp(v, out->best_version) > 0)))
      best = s, out->best_version = v;
    if (worst < 0 || s < worst || (s == worst && strcmp(v, out->worst_version) < 0))
      worst = s, out->worst_version = v;
  }
  return best < 0 ? -1 : (best + worst) / 2;
}

/* Key exchange: the weakest key protecting a handshake (section 1). */
static int key_score(const struct ev_endpoint *ep) {
  /* An anonymous key exchange and a Debian weak key both score 0. */
  if (ev_find_id(ep, EV_ANON, NULL) || ev_find_id(ep, EV_CERT_DEBIAN_WEAK, NULL))
    return 0;
  const struct ev_fact *f = NULL;
  int bits = checks_weakest_key(ep, &f);
  if (bits < 0)
    return -1;
  if (ev_first_of(ep, EV_KX_RSA_EXPORT))
    return bits < 512 ? 20 : 40;
  return bits < 512 ? 20 : bits < 1024 ? 40 : bits < 2048 ? 80 : bits < 4096 ? 90 : 100;
}

static int cipher_bits_score(int bits) {
  return bits == 0 ? 0 : bits < 128 ? 20 : bits < 256 ? 80 : 100;
}

static int cipher_score(const struct ev_endpoint *ep) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_of(ep, EV_CIPHER_BITS, &n);
  int best = -1, worst = -1;
  for (size_t i = 0; i < n; i++) {
    if (facts[i]->typed.id != EV_CIPHER_BITS)
      continue;
    uint64_t bits = facts[i]->typed.number;
    int s = cipher_bits_score(bits > INT_MAX ? INT_MAX : (int)bits);
    if (ev_fact_accepted(facts[i]) && (best < 0 || s > best))
      best = s;
    if (worst < 0 || s < worst)
      worst = s;
  }
  return best < 0 ? -1 : (best + worst) / 2;
}

static const char *letter_of_total(int total) {
  return total >= 80   ? "A"
         : total >= 65 ? "B"
         : total >= 50 ? "C"
         : total >= 35 ? "D"
         : total >= 20 ? "E"
                       : "F";
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

/* No ServerHello: silence is claimed only of handshakes whose flow was
 * read to its end; one evicted from a full flow table before the answer
 * says nothing of the server. */
static const char *no_answer_reason(const struct ev_endpoint *ep) {
  const struct ev_fact *all = ev_find_id(ep, EV_HANDSHAKES, NULL);
  const struct ev_fact *evicted = ev_find_id(ep, EV_EVICTED_UNANSWERED, NULL);
  if (!evicted)
    return "no ServerHello seen: the server never answered in the capture";
  if (all && evicted->count < all->count)
    return "no ServerHello seen: the server never answered in the capture (other handshakes "
           "were evicted before the answer: flow table full)";
  return "no ServerHello seen: evicted before the answer (flow table full, see --limit flows)";
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
  const struct ev_fact *hello = ev_find_id(ep, EV_SERVER_HELLO, NULL);
  out->graded = hello && ev_fact_accepted(hello) && out->total >= 0;
  if (!out->graded) {
    out->no_grade_reason =
        hello && !ev_fact_accepted(hello)
            ? "every ServerHello seen was in a handshake its client aborted"
        : hello ? "the key exchange strength is not visible (certificate hidden "
                  "and no key exchange decoded)"
        : ev_first_of(ep, EV_VIOLATION)
            ? "no sound ServerHello: every one seen was a protocol violation (see notices)"
            : no_answer_reason(ep);
    set_letter(out->letter, "-");
    set_letter(out->letter_trust_ignored, "-");
    set_letter(out->floor, "-");
    return;
  }
  letters(out);
}

/* Facts that contradict each other when one stopped before the other began:
 * the server's configuration changed in between.  A fact of family a and
 * one of family b conflict when: `refusal`, b refused a's version with
 * protocol_version (refused:VERSION:ALERT); `offer`, both answered the same
 * offer (the same offer digest, facts.c) differently; `any`, their arguments differ. */
enum tail { TAIL_ANY, TAIL_REFUSAL, TAIL_OFFER };
static const struct conflict {
  enum ev_fact_id a, b;
  enum tail tail;
  const char *what; /* with its article: "a protocol version" */
} CONFLICTS[] = {
    {EV_CERT_LEAF, EV_CERT_LEAF, TAIL_ANY, "certificate"},
    {EV_VERSION, EV_REFUSED, TAIL_REFUSAL, "a protocol version"},
    {EV_ANSWER, EV_ANSWER, TAIL_OFFER, "the same client offer"},
};

static bool same_name(const struct ev_fact *x, const struct ev_fact *y) {
  return x->typed.name_len == y->typed.name_len &&
         memcmp(ev_fact_name(x), ev_fact_name(y), x->typed.name_len) == 0;
}

static bool conflicting(const struct conflict *c, const struct ev_fact *x,
                        const struct ev_fact *y) {
  if (x->typed.id != c->a || y->typed.id != c->b)
    return false;
  switch (c->tail) {
  case TAIL_OFFER:
    return same_name(x, y) &&
           (x->typed.version != y->typed.version || x->typed.number != y->typed.number);
  case TAIL_REFUSAL:
    /* Only a protocol_version alert says the version itself was refused; a
     * handshake_failure may be about the suites the client offered. */
    return x->typed.version == y->typed.version && ev_fact_name_is(y, "protocol_version");
  case TAIL_ANY:
    return !same_name(x, y) || x->typed.version != y->typed.version ||
           x->typed.number != y->typed.number;
  }
  return false;
}

/* The earliest change a rule shows so far: its time, the pair, and
 * whether x stopped (x then y) or started (y then x). */
struct change {
  cap_time_us at;
  const struct ev_fact *x, *y;
  bool stopped;
};

/* The pair (x, y), if it conflicts and is earlier than what *c holds. */
static void consider(struct change *c, const struct conflict *rule, const struct ev_fact *x,
                     const struct ev_fact *y) {
  if (!conflicting(rule, x, y))
    return;
  /* x then y: x stopped; y then x: x started. */
  bool stopped = x->last_ts < y->first_ts, started = y->last_ts < x->first_ts;
  cap_time_us t = stopped ? y->first_ts : started ? x->first_ts : 0;
  if (t && (!c->at || t < c->at))
    *c = (struct change){t, x, y, stopped};
}

/* Every pair, in key order: for rules whose facts are few. */
static void pairs_all(struct change *c, const struct conflict *rule,
                      const struct ev_fact *const *fa, size_t na, const struct ev_fact *const *fb,
                      size_t nb) {
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++)
      consider(c, rule, fa[i], fb[j]);
}

/* Answers conflict only within one offer, and the facts of one offer
 * (answer:DIGEST:...) are adjacent in key order: pairs within each run,
 * linear in the offers however many clients offered something else. */
static void pairs_by_offer(struct change *c, const struct conflict *rule,
                           const struct ev_fact *const *f, size_t n) {
  for (size_t run = 0, end; run < n; run = end) {
    for (end = run + 1; end < n && same_name(f[end], f[run]); end++)
      ;
    pairs_all(c, rule, f + run, end - run, f + run, end - run);
  }
}

/* Two different leaves conflict when one was last seen before the other was
 * first seen.  The earliest such time is the first first_ts after the
 * smallest last_ts; the pair reported is the first in key order that gives
 * it, as the walk over every pair would find it, in linear time. */
static void pairs_of_leaves(struct change *c, const struct conflict *rule,
                            const struct ev_fact *const *f, size_t n) {
  if (n < 2)
    return;
  cap_time_us min_last = f[0]->last_ts, t = 0;
  for (size_t i = 1; i < n; i++)
    if (f[i]->last_ts < min_last)
      min_last = f[i]->last_ts;
  for (size_t i = 0; i < n; i++)
    if (f[i]->first_ts > min_last && (!t || f[i]->first_ts < t))
      t = f[i]->first_ts;
  if (!t)
    return;
  /* The first y (key order) first seen at t, and the first last seen
   * before t; then the first x in key order that pairs with either. */
  size_t first_at = n, first_before = n;
  for (size_t j = 0; j < n; j++) {
    if (first_at == n && f[j]->first_ts == t)
      first_at = j;
    if (first_before == n && f[j]->last_ts < t)
      first_before = j;
  }
  for (size_t i = 0; i < n; i++) {
    size_t j_stop = f[i]->last_ts < t ? first_at : n;        /* x stopped, y started at t */
    size_t j_start = f[i]->first_ts == t ? first_before : n; /* x started at t */
    size_t j = j_stop < j_start ? j_stop : j_start;
    if (j < n) {
      consider(c, rule, f[i], f[j]);
      return;
    }
  }
}

/* A configuration change: a certificate replaced (one leaf last seen before
 * another was first seen), a version negotiated and later refused to a
 * client offering it at best (or refused, then negotiated), or the same
 * client offer answered with another version or suite, or refused.  The
 * earliest such point (rules in table order, pairs in key order: the first
 * found wins a tie); 0: none. */
static cap_time_us change_point(const struct ev_endpoint *ep, char *why, size_t why_len,
                                struct ev_sample *before, struct ev_sample *after) {
  struct change best = {0};
  const struct conflict *best_rule = NULL;
  for (size_t r = 0; r < sizeof CONFLICTS / sizeof CONFLICTS[0]; r++) {
    const struct conflict *rule = &CONFLICTS[r];
    size_t na, nb;
    const struct ev_fact *const *fa = ev_facts_of(ep, rule->a, &na);
    const struct ev_fact *const *fb = ev_facts_of(ep, rule->b, &nb);
    struct change c = {0};
    if (rule->a == rule->b && rule->tail == TAIL_OFFER)
      pairs_by_offer(&c, rule, fa, na);
    else if (rule->a == rule->b && rule->tail == TAIL_ANY)
      pairs_of_leaves(&c, rule, fa, na);
    else
      pairs_all(&c, rule, fa, na, fb, nb);
    if (c.at && (!best.at || c.at < best.at))
      best = c, best_rule = rule;
  }
  if (!best.at)
    return 0;
  *before = best.stopped ? best.x->sample : best.y->sample;
  *after = best.stopped ? best.y->sample : best.x->sample;
  if (best_rule->tail == TAIL_ANY)
    snprintf(why, why_len, "the server's %s was replaced", best_rule->what);
  else if (best_rule->tail == TAIL_OFFER)
    snprintf(why, why_len, "%s got a different answer afterwards", best_rule->what);
  else
    snprintf(why, why_len, "%s it %s before was %s afterwards", best_rule->what,
             best.stopped ? "accepted" : "refused", best.stopped ? "refused" : "accepted");
  return best.at;
}

void grade_periods(const struct ev_endpoint *ep, struct grade_result *out) {
  char why[sizeof out->change_reason];
  struct ev_sample was, is;
  cap_time_us at = change_point(ep, why, sizeof why, &was, &is);
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
  out->change_before = was;
  out->change_after = is;
  snprintf(out->change_reason, sizeof out->change_reason, "%s", why);
}

/* ---- several endpoints, several threads ---- */

/* Endpoints are claimed one at a time from a shared counter, so a thread
 * that drew large ones does not hold the others up. */
struct grading {
  const struct ev_endpoint *const *eps;
  struct grade_result **out;
  size_t n;
  const volatile sig_atomic_t *stop;
  _Atomic size_t next;
  _Atomic bool no_memory;
};

/* Each result is allocated by the thread that grades it, in that
 * thread's heap, where it can take room reading freed (flows, segments):
 * pages already touched.  One block for every result (3 kB a server) was
 * always a fresh mapping, each page of it cleared at its first touch. */
static void *grade_share(void *arg) {
  struct grading *g = arg;
  /* The stop is read before each claim: every endpoint claimed is graded. */
  for (size_t i; !(g->stop && *g->stop) && !atomic_load(&g->no_memory) &&
                 (i = atomic_fetch_add_explicit(&g->next, 1, memory_order_relaxed)) < g->n;) {
    if (!(g->out[i] = malloc(sizeof(*g->out[i])))) {
      atomic_store(&g->no_memory, true);
      break;
    }
    grade_endpoint(g->eps[i], g->out[i]);
    grade_periods(g->eps[i], g->out[i]);
  }
  return NULL;
}

/* ---- connections without SNI beside named servers ---- */

static int by_address(const void *a, const void *b) {
  const struct grade_result *x = *(const struct grade_result *const *)a;
  const struct grade_result *y = *(const struct grade_result *const *)b;
  int d = strcmp(x->ep->ip, y->ep->ip);
  return d ? d : (int)x->ep->port - (int)y->ep->port;
}

/* Does some named endpoint of the group fail check k (the same table
 * order in every result) too? */
static bool named_fails(struct grade_result *const *group, size_t n, size_t k) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(group[i]->ep->host, "-") != 0 && k < group[i]->n_checks &&
        group[i]->checks[k].status == CHECK_FAIL)
      return true;
  return false;
}

/* A `-` endpoint that address_facts.c allows to fold (same certificate as
 * a named server of its address, or none seen) is folded when every check
 * that failed on it and changes a grade also failed on a named server of
 * its address: its letter would then say nothing theirs do not.  A
 * weakness of its own (TLS 1.0 or a NULL suite answered without SNI) keeps
 * it a server with its letter.  Sorted by address once: n log n. */
static void fold_no_sni(struct grade_result *const *out, size_t n) {
  struct grade_result **by = malloc((n ? n : 1) * sizeof(*by));
  if (!by)
    return; /* nothing folded: every endpoint keeps its letter */
  memcpy(by, out, n * sizeof(*by));
  qsort(by, n, sizeof(*by), by_address);
  for (size_t start = 0, end; start < n; start = end) {
    for (end = start + 1; end < n && by_address(&by[start], &by[end]) == 0; end++)
      ;
    for (size_t i = start; i < end; i++) {
      struct grade_result *r = by[i];
      if (strcmp(r->ep->host, "-") != 0 || !ev_find_id(r->ep, EV_DERIVED_NO_SNI_FOLDED, NULL))
        continue;
      bool own = false;
      for (size_t k = 0; k < r->n_checks && !own; k++)
        own = r->checks[k].status == CHECK_FAIL && r->checks[k].effect != EFFECT_NONE &&
              !named_fails(by + start, end - start, k);
      r->no_sni_folded = !own;
    }
  }
  free(by);
}

int grade_endpoints(const struct ev_endpoint *const *eps, size_t n, struct grade_result **out,
                    unsigned jobs, const volatile sig_atomic_t *stop) {
  enum { MAX_GRADERS = 64, MIN_ENDPOINTS = 256 };
  if (jobs > MAX_GRADERS)
    jobs = MAX_GRADERS;
  if (jobs < 1 || n < MIN_ENDPOINTS)
    jobs = 1; /* a thread costs more than it saves on a few servers */
  struct grading g = {eps, out, n, stop, 0, false};
  memset(out, 0, n * sizeof(*out));
  pthread_t threads[MAX_GRADERS];
  bool started[MAX_GRADERS] = {false};
  for (unsigned k = 1; k < jobs; k++)
    started[k] = pthread_create(&threads[k], NULL, grade_share, &g) == 0;
  grade_share(&g); /* with no helper, this thread grades them all */
  for (unsigned k = 1; k < jobs; k++)
    if (started[k])
      pthread_join(threads[k], NULL);
  if (atomic_load(&g.no_memory))
    return GRADE_NO_MEMORY;
  if (atomic_load(&g.next) < n)
    return GRADE_STOPPED; /* not every endpoint graded */
  fold_no_sni(out, n);
  return GRADE_ALL;
}
