/*
 * grade/evidence.c - facts per server endpoint.
 *
 * Evidence is a set of endpoints, each a set of facts keyed by a short
 * string ("version:TLSv1.2", printed from its family and arguments by
 * vocab.c, which is what is saved) with a count, first and last packet
 * time and the earliest sample (file:frame).  Merging adds counts, takes the min of
 * first times, the max of last times and the earliest sample, so it is
 * commutative and associative: a day graded in pieces equals the day graded
 * at once.
 */
#include "base/hash.h"
#include "grade/chains.h"
#include "grade/clients.h"
#include "grade/evidence.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ev_chains **ev_store_chains(struct ev_store *ev) {
  return &ev->chains;
}

static uint64_t ep_hash(const char *host, const char *ip, uint16_t port) {
  uint64_t h = hash_str(HASH_FNV_OFFSET, host);
  h = hash_str(h ^ 0xff, ip);
  return (h ^ port) * HASH_FNV_PRIME;
}

struct ev_store *ev_store_new(void) {
  struct ev_store *ev = calloc(1, sizeof(*ev));
  if (!ev)
    return NULL;
  ev->nslots = 64;
  ev->max_endpoints = EV_ENDPOINTS_DEFAULT;
  ev->max_clients = EV_CLIENTS_DEFAULT;
  ev->max_sent_chains = EV_SENT_CHAINS;
  ev->max_sent_certs = EV_SENT_CERTS;
  ev->max_cas = EV_CHAINS_MAX_CAS;
  ev->max_pending = EV_CHAINS_MAX_PENDING;
  ev->eps = calloc(ev->nslots, sizeof(*ev->eps));
  if (!ev->eps) {
    free(ev);
    return NULL;
  }
  return ev;
}

/* ---- an endpoint's strings ---- */

/* An endpoint's strings (host, ip, fact keys, the file names of samples)
 * are packed in chunks it owns, freed with it: a new fact costs no
 * allocation of its own, a day's evidence (hundreds of thousands of facts)
 * is freed chunk by chunk rather than string by string, and the file name
 * that nearly every sample of an endpoint shares is kept once.  Nothing in
 * a chunk is freed before its endpoint; a key or sample that is dropped
 * (merged into another) leaves its bytes there. */
struct ev_strings {
  struct ev_strings *next;
  size_t used, cap;
  char bytes[];
};

#define STRINGS_FIRST 512
#define STRINGS_HELLO 96 /* a hello-only endpoint's: host, ip, "handshakes", one file */
#define STRINGS_MAX 16384

static char *ep_strdup(struct ev_endpoint *ep, const char *s) {
  size_t n = strlen(s) + 1;
  struct ev_strings *c = ep->strings;
  if (!c || c->cap - c->used < n) {
    size_t cap = c ? c->cap * 2 : ep->answered ? STRINGS_FIRST : STRINGS_HELLO;
    if (cap > STRINGS_MAX)
      cap = STRINGS_MAX;
    if (cap < n)
      cap = n;
    struct ev_strings *fresh = malloc(sizeof(*fresh) + cap);
    if (!fresh)
      return NULL;
    fresh->next = c;
    fresh->used = 0;
    fresh->cap = cap;
    ep->strings = c = fresh;
  }
  char *p = c->bytes + c->used;
  memcpy(p, s, n);
  c->used += n;
  return p;
}

/* A sample's file name: the one kept last when it is the same. */
static char *ep_file(struct ev_endpoint *ep, const char *file) {
  if (ep->last_file && strcmp(ep->last_file, file) == 0)
    return ep->last_file;
  char *p = ep_strdup(ep, file);
  if (p)
    ep->last_file = p;
  return p;
}

/* dst takes src's chunks: src's keys and files stay where they are, now
 * dst's.  They go after dst's first chunk, which is still being filled. */
static void ep_adopt_strings(struct ev_endpoint *dst, struct ev_endpoint *src) {
  struct ev_strings *first = src->strings;
  if (!first)
    return;
  struct ev_strings *last = first;
  while (last->next)
    last = last->next;
  if (dst->strings) {
    last->next = dst->strings->next;
    dst->strings->next = first;
  } else {
    dst->strings = first;
  }
  src->strings = NULL;
  src->last_file = NULL;
}

static void endpoint_free(struct ev_endpoint *ep) {
  for (struct ev_strings *c = ep->strings, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(ep->facts);
  free(ep->sorted);
  free(ep);
}

void ev_store_free(struct ev_store *ev) {
  if (!ev)
    return;
  for (size_t i = 0; i < ev->nslots; i++)
    if (ev->eps[i])
      endpoint_free(ev->eps[i]);
  free(ev->eps);
  free(ev->sorted);
  ev_chains_free(ev->chains);
  ev_clients_free(ev->clients);
  free(ev);
}

size_t ev_count(const struct ev_store *ev) {
  return ev->count;
}

static int ep_cmp(const void *a, const void *b) {
  const struct ev_endpoint *x = *(const struct ev_endpoint *const *)a;
  const struct ev_endpoint *y = *(const struct ev_endpoint *const *)b;
  int c = strcmp(x->host, y->host);
  if (!c)
    c = strcmp(x->ip, y->ip);
  if (!c)
    c = (int)x->port - (int)y->port;
  return c;
}

const struct ev_endpoint *ev_endpoint_at(const struct ev_store *ev_const, size_t i) {
  struct ev_store *ev = (struct ev_store *)ev_const; /* the cache is not state */
  if (i >= ev->count)
    return NULL;
  if (!ev->sorted) {
    ev->sorted = malloc(ev->count * sizeof(*ev->sorted));
    if (!ev->sorted)
      return NULL;
    size_t k = 0;
    for (size_t s = 0; s < ev->nslots; s++)
      if (ev->eps[s])
        ev->sorted[k++] = ev->eps[s];
    qsort(ev->sorted, k, sizeof(*ev->sorted), ep_cmp);
  }
  return ev->sorted[i];
}

static bool grow_store(struct ev_store *ev) {
  size_t n = ev->nslots * 2;
  struct ev_endpoint **t = calloc(n, sizeof(*t));
  if (!t)
    return false;
  for (size_t i = 0; i < ev->nslots; i++) {
    struct ev_endpoint *ep = ev->eps[i];
    if (!ep)
      continue;
    size_t j = ep_hash(ep->host, ep->ip, ep->port) & (n - 1);
    while (t[j])
      j = (j + 1) & (n - 1);
    t[j] = ep;
  }
  free(ev->eps);
  ev->eps = t;
  ev->nslots = n;
  return true;
}

/* The slot of (host, ip, port) in ev's table, or the empty slot where it
 * would go. */
static size_t endpoint_slot(const struct ev_store *ev, const char *host, const char *ip,
                            uint16_t port) {
  size_t j = ep_hash(host, ip, port) & (ev->nslots - 1);
  for (; ev->eps[j]; j = (j + 1) & (ev->nslots - 1)) {
    const struct ev_endpoint *ep = ev->eps[j];
    if (ep->port == port && strcmp(ep->host, host) == 0 && strcmp(ep->ip, ip) == 0)
      break;
  }
  return j;
}

void ev_store_set_limit(struct ev_store *ev, size_t max_endpoints) {
  ev->max_endpoints = max_endpoints;
}

void ev_store_set_client_limit(struct ev_store *ev, size_t max_clients) {
  ev->max_clients = max_clients;
}

void ev_store_set_sent_chain_limits(struct ev_store *ev, size_t chains, size_t certs) {
  ev->max_sent_chains = (uint8_t)(chains < EV_SENT_CHAINS ? chains : EV_SENT_CHAINS);
  ev->max_sent_certs = (uint8_t)(certs < EV_SENT_CERTS ? certs : EV_SENT_CERTS);
}

uint64_t ev_sent_chain_hits(const struct ev_store *ev) {
  uint64_t hits = 0;
  for (size_t i = 0; i < ev->nslots; i++) {
    const struct ev_fact *f =
        ev->eps[i] ? ev_find_id(ev->eps[i], EV_SENT_CHAINS_OVER_CAP, NULL) : NULL;
    if (f)
      hits = ev_count_add(hits, f->count);
  }
  return hits;
}

void ev_client_cap_hits(const struct ev_store *ev, uint64_t hits[2]) {
  ev_clients_cap_hits(ev->clients, hits);
}

void ev_store_set_chain_limits(struct ev_store *ev, size_t max_cas, size_t max_pending) {
  ev->max_cas = max_cas;
  ev->max_pending = max_pending;
}

void ev_store_chain_limits(const struct ev_store *ev, size_t *max_cas, size_t *max_pending) {
  *max_cas = ev->max_cas;
  *max_pending = ev->max_pending;
}

uint64_t ev_endpoint_cap_hits(const struct ev_store *ev) {
  return ev->cap_hits;
}

size_t ev_hello_count(const struct ev_store *ev) {
  return ev->n_hello;
}

/* May ev take one more endpoint of this class (answered or hello-only)? */
static bool class_has_room(const struct ev_store *ev, bool answered) {
  size_t held = answered ? ev->count - ev->n_hello : ev->n_hello;
  return held < ev->max_endpoints;
}

static struct ev_endpoint *endpoint_new(const char *host, const char *ip, uint16_t port,
                                        bool answered) {
  struct ev_endpoint *ep = calloc(1, sizeof(*ep));
  if (!ep)
    return NULL;
  ep->answered = answered;
  ep->host = ep_strdup(ep, host);
  ep->ip = ep_strdup(ep, ip);
  ep->port = port;
  /* A hello-only endpoint holds one fact (two when evicted): a table of 32
   * would be most of its cost, and a flood of names is made of them. */
  ep->nslots = answered ? 32 : 2;
  ep->facts = calloc(ep->nslots, sizeof(*ep->facts));
  if (!ep->host || !ep->ip || !ep->facts) {
    endpoint_free(ep);
    return NULL;
  }
  return ep;
}

/* The endpoint (host, ip, port) for evidence of its class: found, promoted
 * from hello-only to answered, or made, as the cap allows.  NULL with
 * *at_cap set when the cap refused it (`weight` connections counted), else
 * NULL out of memory. */
struct ev_endpoint *ev_endpoint_claim(struct ev_store *ev, const char *host, const char *ip,
                                      uint16_t port, bool answered, uint64_t weight, bool *at_cap) {
  *at_cap = false;
  if ((ev->count + 1) * 2 > ev->nslots && !grow_store(ev))
    return NULL;
  size_t j = endpoint_slot(ev, host, ip, port);
  struct ev_endpoint *ep = ev->eps[j];
  if (ep && (ep->answered || !answered))
    return ep; /* held: it keeps receiving its class's facts */
  if (!class_has_room(ev, answered)) {
    ev->cap_hits = ev_count_add(ev->cap_hits, weight);
    *at_cap = true;
    return NULL;
  }
  if (ep) { /* a hello-only endpoint's first answer */
    ep->answered = true;
    ev->n_hello--;
    return ep;
  }
  if (!(ep = endpoint_new(host, ip, port, answered)))
    return NULL;
  ep->max_sent_chains = ev->max_sent_chains;
  ep->max_sent_certs = ev->max_sent_certs;
  ev->eps[j] = ep;
  ev->count++;
  ev->n_hello += !answered;
  free(ev->sorted);
  ev->sorted = NULL;
  return ep;
}

struct ev_endpoint *ev_endpoint_for(struct ev_store *ev, const char *host, const char *ip,
                                    uint16_t port, bool answered) {
  bool at_cap;
  return ev_endpoint_claim(ev, host, ip, port, answered, 1, &at_cap);
}

struct ev_endpoint *ev_endpoint_get(struct ev_store *ev, const char *host, const char *ip,
                                    uint16_t port) {
  return ev_endpoint_for(ev, host, ip, port, true);
}

/* Facts that a ClientHello alone gives: an endpoint holding no other was
 * seen only in ClientHellos. */
static bool hello_fact(uint16_t id) {
  return id == EV_HANDSHAKES || id == EV_EVICTED_UNANSWERED;
}

bool ev_hello_only(const struct ev_endpoint *ep) {
  if (ep->nfacts > 2)
    return false;
  for (size_t i = 0; i < ep->nslots; i++)
    if (ep->facts[i].key && !hello_fact(ep->facts[i].typed.id))
      return false;
  return ep->nfacts > 0;
}

/* ---- a connection evicted before the answer ---- */

bool ev_session_evicted_unanswered(const struct tls_session *s) {
  if (!s->evicted || !s->is_tls || !s->has_client_hello || s->has_server_hello)
    return false;
  for (size_t i = 0; i < s->n_alerts; i++)
    if (s->alerts[i].dir == FLOW_S2C)
      return false; /* refused: the alert is the answer, and its facts hold */
  return true;
}

/* ---- facts ---- */

static size_t fact_slot(const struct ev_endpoint *ep, const char *key) {
  size_t j = hash_str(HASH_FNV_OFFSET, key) & (ep->nslots - 1);
  while (ep->facts[j].key && strcmp(ep->facts[j].key, key) != 0)
    j = (j + 1) & (ep->nslots - 1);
  return j;
}

static bool grow_facts(struct ev_endpoint *ep) {
  struct ev_endpoint tmp = *ep;
  tmp.nslots = ep->nslots * 2;
  tmp.facts = calloc(tmp.nslots, sizeof(*tmp.facts));
  if (!tmp.facts)
    return false;
  for (size_t i = 0; i < ep->nslots; i++)
    if (ep->facts[i].key)
      tmp.facts[fact_slot(&tmp, ep->facts[i].key)] = ep->facts[i];
  free(ep->facts);
  ep->facts = tmp.facts;
  ep->nslots = tmp.nslots;
  free(ep->sorted);
  ep->sorted = NULL;
  return true;
}

/* Is sample a earlier than b (time, then file, then frame)? */
static bool sample_before(const struct ev_sample *a, const struct ev_sample *b) {
  if (!b->file)
    return a->file != NULL;
  if (!a->file)
    return false;
  if (a->ts != b->ts)
    return a->ts < b->ts;
  int c = strcmp(a->file, b->file);
  return c ? c < 0 : a->frame < b->frame;
}

/* count more sightings (aborted of them in aborted handshakes), within
 * [first, last]; counts stop at EV_COUNT_MAX. */
static void fact_widen(struct ev_fact *f, uint64_t count, uint64_t aborted, cap_time_us first,
                       cap_time_us last) {
  f->count = ev_count_add(f->count, count);
  f->aborted = ev_count_add(f->aborted, aborted);
  if (first < f->first_ts)
    f->first_ts = first;
  if (last > f->last_ts)
    f->last_ts = last;
}

static unsigned fact_holds(const struct ev_typed *t) {
  if (t->id == EV_HTTP_REDIRECT_HTTPS || t->id == EV_HTTP_NO_REDIRECT)
    return EV_HOLDS_HTTP;
  if (t->id == EV_SSLV2_KEY)
    return EV_HOLDS_SSLV2_KEY;
  return 0;
}

/* A new key has taken a slot of ep's table (by fact_add or a merge): what
 * ep knows of its keys as a whole follows. */
static void key_added(struct ev_endpoint *ep, const struct ev_typed *t) {
  ep->nfacts++;
  ep->holds |= fact_holds(t);
  free(ep->sorted); /* sort again when asked */
  ep->sorted = NULL;
}

/* The chain a key of the chains as sent names (its ID as a number);
 * false for a key of no such chain, or whose ID is not 16 hex digits. */
static bool sent_chain_id(const char *key, const struct ev_typed *t, uint64_t *id) {
  if (t->id != EV_SENT_CHAIN && t->id != EV_SENT_CERT)
    return false;
  const char *p = key + t->name_at;
  *id = 0;
  for (int i = 0; i < EV_SENT_ID_LEN; i++) {
    int v = p[i] >= '0' && p[i] <= '9'   ? p[i] - '0'
            : p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10
                                         : -1;
    if (v < 0)
      return false;
    *id = *id << 4 | (uint64_t)v;
  }
  return p[EV_SENT_ID_LEN] == '\0' || p[EV_SENT_ID_LEN] == ':';
}

/* May ep take the new key `key` (typed t)?  Facts of chains as sent only
 * for the first max_sent_chains chains it holds, whatever the order their
 * keys come in (a merge's is the hash table's), and of their first
 * max_sent_certs certificates: the cap on their memory. */
static bool sent_chain_room(struct ev_endpoint *ep, const char *key, const struct ev_typed *t) {
  uint64_t id;
  if (t->id != EV_SENT_CHAIN && t->id != EV_SENT_CERT)
    return true;
  if (!sent_chain_id(key, t, &id))
    return false;
  if (t->id == EV_SENT_CERT) { /* "sent_cert:ID:I:...": certificate I of the chain */
    const char *index = strchr(key, ':');
    index = index ? strchr(index + 1, ':') : NULL;
    if (!index || strtoul(index + 1, NULL, 10) >= ep->max_sent_certs)
      return false;
  }
  for (size_t i = 0; i < ep->n_sent_chains; i++)
    if (ep->sent_chains[i] == id)
      return true;
  if (ep->n_sent_chains >= ep->max_sent_chains)
    return false;
  ep->sent_chains[ep->n_sent_chains++] = id;
  return true;
}

#define SENT_OVER_CAP "sent_chains:over_cap"

/* Add `count` sightings (`aborted` of them in aborted handshakes) with
 * [first, last] and sample to the fact `key`, which says `typed` (NULL:
 * parse the key, the first time it is seen). */
void ev_fact_add(struct ev_endpoint *ep, const char *key, const struct ev_typed *typed,
                 uint64_t count, uint64_t aborted, cap_time_us first, cap_time_us last,
                 const struct ev_sample *sample) {
  /* up to three quarters full: at half, the tables of a few thousand
   * servers were a sixth of a handshake-heavy run's memory, and every
   * fresh page of it a fault */
  if ((ep->nfacts + 1) * 4 > ep->nslots * 3 && !grow_facts(ep))
    return;
  struct ev_fact *f = &ep->facts[fact_slot(ep, key)];
  if (!f->key) {
    struct ev_typed t;
    if (typed)
      t = *typed;
    else
      ev_key_parse(key, &t);
    if (!sent_chain_room(ep, key, &t)) { /* a sighting of a chain not kept: counted */
      if (t.id == EV_SENT_CHAIN)
        ev_fact_add(ep, SENT_OVER_CAP, NULL, count, aborted, first, last, sample);
      return;
    }
    if (!(f->key = ep_strdup(ep, key)))
      return;
    f->first_ts = first;
    f->last_ts = last;
    f->typed = t;
    key_added(ep, &f->typed);
  }
  fact_widen(f, count, aborted, first, last);
  if (sample && sample->file && sample_before(sample, &f->sample)) {
    char *file = ep_file(ep, sample->file);
    if (file) {
      f->sample = *sample;
      f->sample.file = file;
      f->sample.aborted = false; /* the count says it */
    }
  }
}

/* Most keys are a constant, or a constant and one string ("suite:%s"):
 * those are put together without vsnprintf, which was most of a note's
 * cost.  The key is the same either way (cut at 255 bytes). */
void ev_note(struct ev_endpoint *ep, const struct ev_sample *at, const char *fmt, ...) {
  char key[256];
  const char *pct = strchr(fmt, '%');
  va_list ap;
  va_start(ap, fmt);
  if (!pct) {
    va_end(ap);
    size_t n = strlen(fmt);
    if (n < sizeof(key)) {
      ev_fact_add(ep, fmt, NULL, 1, at->aborted, at->ts, at->ts, at);
      return;
    }
    memcpy(key, fmt, sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
  } else if (pct[1] == 's' && pct[2] == '\0') {
    const char *arg = va_arg(ap, const char *);
    va_end(ap);
    size_t head = (size_t)(pct - fmt), tail = strlen(arg);
    if (head > sizeof(key) - 1)
      head = sizeof(key) - 1;
    if (tail > sizeof(key) - 1 - head)
      tail = sizeof(key) - 1 - head;
    memcpy(key, fmt, head);
    memcpy(key + head, arg, tail);
    key[head + tail] = '\0';
  } else {
    vsnprintf(key, sizeof(key), fmt, ap);
    va_end(ap);
  }
  ev_fact_add(ep, key, NULL, 1, at->aborted, at->ts, at->ts, at);
}

void ev_add_times(struct ev_endpoint *ep, const struct ev_sample *at, enum ev_fact_id id,
                  const struct ev_args *a, uint64_t count) {
  char key[EV_KEY_MAX];
  struct ev_typed typed;
  if (ev_key_make(id, a, key, &typed))
    ev_fact_add(ep, key, &typed, count, at->aborted ? count : 0, at->ts, at->ts, at);
}

void ev_add(struct ev_endpoint *ep, const struct ev_sample *at, enum ev_fact_id id,
            const struct ev_args *a) {
  ev_add_times(ep, at, id, a, 1);
}

const struct ev_fact *ev_find(const struct ev_endpoint *ep, const char *key) {
  const struct ev_fact *f = &ep->facts[fact_slot(ep, key)];
  return f->key ? f : NULL;
}

static int fact_cmp(const void *a, const void *b) {
  return strcmp((*(const struct ev_fact *const *)a)->key, (*(const struct ev_fact *const *)b)->key);
}

/* A key's first 8 bytes as a big-endian number, zeros past its end: two
 * keys whose words differ compare (as strcmp does) as their words do. */
static uint64_t key_word(const char *s) {
  uint64_t w = 0;
  for (int i = 0; i < 8 && s[i]; i++)
    w |= (uint64_t)(uint8_t)s[i] << (56 - 8 * i);
  return w;
}

/* The words of the sorted facts' keys, kept after the pointers. */
static const uint64_t *sorted_words(const struct ev_endpoint *ep) {
  return (const uint64_t *)(const void *)(ep->sorted + ep->nfacts);
}

/* ---- the families' views: where each family's prefix starts ---- */

/* The families that have a prefix, in the prefixes' order (strcmp), made
 * once: an endpoint's sorted keys and these are walked together. */
static enum ev_fact_id families[EV_N_FACTS];
static size_t n_families;
static pthread_once_t families_once = PTHREAD_ONCE_INIT;

static int family_cmp(const void *a, const void *b) {
  return strcmp(ev_fact_prefix(*(const enum ev_fact_id *)a),
                ev_fact_prefix(*(const enum ev_fact_id *)b));
}

static void order_families(void) {
  for (int id = 0; id < EV_N_FACTS; id++)
    if (ev_fact_prefix((enum ev_fact_id)id))
      families[n_families++] = (enum ev_fact_id)id;
  qsort(families, n_families, sizeof(families[0]), family_cmp);
}

/* An endpoint of at most this many facts keeps each family's view (where
 * its prefix starts among the sorted keys, and how many keys start with
 * it) beside its sorted keys, as two bytes per family. */
#define FAMILY_INDEX_MAX UINT8_MAX

static uint8_t *family_index(const struct ev_endpoint *ep) {
  return (uint8_t *)(void *)(ep->sorted + 2 * ep->nfacts); /* after the words */
}

/* Every family's view, by one walk over the sorted keys with the families
 * in their prefixes' order (a later prefix never starts before an earlier
 * one): what ev_facts_with finds for each prefix. */
static void index_families(const struct ev_endpoint *ep) {
  uint8_t *index = family_index(ep);
  size_t i = 0;
  for (size_t k = 0; k < n_families; k++) {
    const char *prefix = ev_fact_prefix(families[k]);
    size_t len = strlen(prefix), end;
    while (i < ep->nfacts && strcmp(ep->sorted[i]->key, prefix) < 0)
      i++;
    for (end = i; end < ep->nfacts && strncmp(ep->sorted[end]->key, prefix, len) == 0;)
      end++;
    index[2 * families[k]] = (uint8_t)i;
    index[2 * families[k] + 1] = (uint8_t)(end - i);
  }
}

/* Facts by key, sorted once and kept until a new key arrives: grading
 * asks for prefixes hundreds of times per endpoint.  Each key's word is
 * kept beside it, so that the searches compare numbers, and strings only
 * past 8 equal bytes; and on an endpoint of up to FAMILY_INDEX_MAX facts
 * (a graded server holds some 35), each family's view, so that asking for
 * a family costs no search at all. */
static const struct ev_fact **sorted_cache(const struct ev_endpoint *ep_const) {
  struct ev_endpoint *ep = (struct ev_endpoint *)ep_const; /* a cache, not state */
  if (ep->sorted)
    return ep->sorted;
  pthread_once(&families_once, order_families);
  size_t cap = ep->nfacts ? ep->nfacts : 1;
  bool indexed = ep->nfacts <= FAMILY_INDEX_MAX;
  ep->sorted =
      malloc(cap * (sizeof(*ep->sorted) + sizeof(uint64_t)) + (indexed ? 2 * EV_N_FACTS : 0));
  if (!ep->sorted)
    return NULL;
  size_t n = 0;
  for (size_t i = 0; i < ep->nslots; i++)
    if (ep->facts[i].key)
      ep->sorted[n++] = &ep->facts[i];
  qsort(ep->sorted, n, sizeof(*ep->sorted), fact_cmp);
  uint64_t *words = (uint64_t *)(void *)(ep->sorted + ep->nfacts);
  for (size_t i = 0; i < n; i++)
    words[i] = key_word(ep->sorted[i]->key);
  if (indexed)
    index_families(ep);
  return ep->sorted;
}

const struct ev_fact **ev_sorted_facts(const struct ev_endpoint *ep, size_t *n) {
  const struct ev_fact **sorted = sorted_cache(ep);
  const struct ev_fact **out = malloc((ep->nfacts ? ep->nfacts : 1) * sizeof(*out));
  *n = 0;
  if (!out || !sorted) {
    free(out);
    return NULL;
  }
  memcpy(out, sorted, ep->nfacts * sizeof(*out));
  *n = ep->nfacts;
  return out;
}

/* Index of the first key >= prefix in ep's sorted cache, by binary search;
 * the keys that start with prefix follow it. */
static size_t lower_bound(const struct ev_endpoint *ep, const char *prefix) {
  const struct ev_fact *const *sorted = ep->sorted;
  const uint64_t *words = sorted_words(ep);
  uint64_t pw = key_word(prefix);
  /* The first word >= the prefix's, halving without a branch to guess
   * (the compiler makes the step a conditional move). */
  size_t lo = 0, len = ep->nfacts;
  while (len > 1) {
    size_t half = len / 2;
    lo += words[lo + half - 1] < pw ? half : 0;
    len -= half;
  }
  lo += len == 1 && words[lo] < pw;
  /* Keys with the same 8 bytes, and the prefix longer: by the rest. */
  if (pw & 0xff)
    while (lo < ep->nfacts && words[lo] == pw && strcmp(sorted[lo]->key + 8, prefix + 8) < 0)
      lo++;
  return lo;
}

const struct ev_fact *const *ev_facts_with(const struct ev_endpoint *ep, const char *prefix,
                                           size_t *n) {
  const struct ev_fact **sorted = sorted_cache(ep);
  *n = 0;
  if (!sorted)
    return NULL;
  size_t first = lower_bound(ep, prefix), k = strlen(prefix), end = first;
  while (end < ep->nfacts && strncmp(sorted[end]->key, prefix, k) == 0)
    end++;
  *n = end - first;
  return sorted + first;
}

const struct ev_fact *const *ev_facts_of(const struct ev_endpoint *ep, enum ev_fact_id id,
                                         size_t *n) {
  const char *prefix = (unsigned)id < EV_N_FACTS ? ev_fact_prefix(id) : NULL;
  const struct ev_fact **sorted = prefix ? sorted_cache(ep) : NULL;
  *n = 0;
  if (!sorted)
    return NULL;
  if (ep->nfacts > FAMILY_INDEX_MAX)
    return ev_facts_with(ep, prefix, n);
  const uint8_t *index = family_index(ep);
  *n = index[2 * id + 1];
  return sorted + index[2 * id];
}

/* What dropping ep's evidence at the cap loses, in connections: its
 * handshakes (an endpoint of clear-text HTTP or unverified flights: one). */
static uint64_t ep_connections(const struct ev_endpoint *ep) {
  const struct ev_fact *f = ev_find_id(ep, EV_HANDSHAKES, NULL);
  return f ? f->count : 1;
}

int ev_merge(struct ev_store *into, const struct ev_store *from) {
  if (ev_chains_copy(into, from->chains) < 0 ||
      ev_clients_merge(&into->clients, from->clients, into->max_clients) < 0)
    return -1;
  into->cap_hits = ev_count_add(into->cap_hits, from->cap_hits);
  for (size_t i = 0; i < from->nslots; i++) {
    const struct ev_endpoint *src = from->eps[i];
    if (!src)
      continue;
    bool at_cap;
    struct ev_endpoint *dst = ev_endpoint_claim(into, src->host, src->ip, src->port, src->answered,
                                                ep_connections(src), &at_cap);
    if (!dst && at_cap)
      continue; /* counted */
    if (!dst)
      return -1;
    for (size_t k = 0; k < src->nslots; k++) {
      const struct ev_fact *f = &src->facts[k];
      if (f->key)
        ev_fact_add(dst, f->key, &f->typed, f->count, f->aborted, f->first_ts, f->last_ts,
                    &f->sample);
    }
  }
  return 0;
}

/* src's facts into dst, moved: keys and samples change owner with the
 * chunks that hold them, nothing is copied; src is freed. */
static bool endpoint_absorb(struct ev_endpoint *dst, struct ev_endpoint *src) {
  ep_adopt_strings(dst, src); /* first: src's facts point there, moved or not */
  for (size_t k = 0; k < src->nslots; k++) {
    struct ev_fact *f = &src->facts[k];
    if (!f->key)
      continue;
    if ((dst->nfacts + 1) * 2 > dst->nslots && !grow_facts(dst))
      return false; /* src keeps the rest and is freed by its store */
    struct ev_fact *d = &dst->facts[fact_slot(dst, f->key)];
    if (!d->key && !sent_chain_room(dst, f->key, &f->typed)) {
      if (f->typed.id == EV_SENT_CHAIN)
        ev_fact_add(dst, SENT_OVER_CAP, NULL, f->count, f->aborted, f->first_ts, f->last_ts,
                    &f->sample);
    } else if (!d->key) {
      *d = *f;
      key_added(dst, &d->typed);
    } else {
      fact_widen(d, f->count, f->aborted, f->first_ts, f->last_ts);
      if (f->sample.file && sample_before(&f->sample, &d->sample))
        d->sample = f->sample;
    }
    f->key = NULL;
    src->nfacts--;
  }
  endpoint_free(src);
  return true;
}

/* Does into have room for src's evidence, at the endpoint dst (NULL:
 * none yet)?  As endpoint_claim decides. */
static bool room_for(const struct ev_store *into, const struct ev_endpoint *dst,
                     const struct ev_endpoint *src) {
  if (dst && (dst->answered || !src->answered))
    return true;
  return class_has_room(into, src->answered);
}

int ev_merge_move(struct ev_store *into, struct ev_store *from) {
  if (ev_chains_absorb(&into->chains, &from->chains) < 0 ||
      ev_clients_merge_move(&into->clients, &from->clients, into->max_clients) < 0)
    return -1;
  ev_clients_free(from->clients); /* what was not moved was added */
  from->clients = NULL;
  into->cap_hits = ev_count_add(into->cap_hits, from->cap_hits);
  from->cap_hits = 0;
  if (into->count == 0 && from->count - from->n_hello <= into->max_endpoints &&
      from->n_hello <= into->max_endpoints) {
    /* into holds no endpoint yet and from's fit its caps (-j's first
     * store folded into the run's): the tables change places whole */
    struct ev_endpoint **eps = into->eps;
    size_t nslots = into->nslots;
    into->eps = from->eps, into->nslots = from->nslots;
    into->count = from->count, into->n_hello = from->n_hello;
    from->eps = eps, from->nslots = nslots;
    from->count = from->n_hello = 0;
    free(into->sorted);
    into->sorted = NULL;
    free(from->sorted);
    from->sorted = NULL;
    return 0;
  }
  for (size_t i = 0; i < from->nslots; i++) {
    struct ev_endpoint *src = from->eps[i];
    if (!src)
      continue;
    if ((into->count + 1) * 2 > into->nslots && !grow_store(into))
      return -1;
    size_t j = endpoint_slot(into, src->host, src->ip, src->port);
    struct ev_endpoint *dst = into->eps[j];
    bool answered = src->answered;
    if (!room_for(into, dst, src)) {
      into->cap_hits = ev_count_add(into->cap_hits, ep_connections(src));
      endpoint_free(src);
    } else if (dst) {
      if (answered && !dst->answered) {
        dst->answered = true;
        into->n_hello--;
      }
      if (!endpoint_absorb(dst, src))
        return -1;
    } else {
      into->eps[j] = src; /* a new endpoint: the whole of it changes store */
      into->count++;
      into->n_hello += !answered;
      free(into->sorted);
      into->sorted = NULL;
    }
    from->eps[i] = NULL;
    from->count--;
    from->n_hello -= !answered;
  }
  free(from->sorted);
  from->sorted = NULL;
  return 0;
}

struct ev_store *ev_period(const struct ev_endpoint *ep, cap_time_us t, bool after) {
  struct ev_store *ev = ev_store_new();
  struct ev_endpoint *dst = ev ? ev_endpoint_get(ev, ep->host, ep->ip, ep->port) : NULL;
  if (!dst) {
    ev_store_free(ev);
    return NULL;
  }
  for (size_t k = 0; k < ep->nslots; k++) {
    const struct ev_fact *f = &ep->facts[k];
    if (f->key && (after ? f->last_ts >= t : f->first_ts < t))
      ev_fact_add(dst, f->key, &f->typed, f->count, f->aborted, f->first_ts, f->last_ts,
                  &f->sample);
  }
  return ev;
}
