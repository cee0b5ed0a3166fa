/*
 * grade/derive.c - facts that need every endpoint, derived once all
 * evidence is in and never saved ("derived:" keys, ev_save skips them):
 * what a host's plain-http endpoint said, DROWN (a key any endpoint uses
 * for SSLv2 breaks every endpoint using it), and the address evidence of
 * connections without SNI (address_facts.c).  Each step looks at the stop
 * flag, and none is quadratic in the endpoints.
 */
#include "grade/facts.h"

#include <stdlib.h>
#include <string.h>

/* The TLS endpoints of a host learn what its plain-http endpoint said. */
static bool same_site(const struct ev_endpoint *a, const struct ev_endpoint *b) {
  return strcmp(a->host, b->host) == 0 && strcmp(a->ip, b->ip) == 0;
}

static void derive_http(struct ev_store *ev, const volatile sig_atomic_t *stop) {
  size_t n = ev_count(ev);
  for (size_t i = 0; i < n && !(stop && *stop); i++) {
    const struct ev_endpoint *web = ev_endpoint_at(ev, i);
    if (!(web->holds & EV_HOLDS_HTTP))
      continue;
    const struct ev_fact *redirect = ev_find_id(web, EV_HTTP_REDIRECT_HTTPS, NULL);
    const struct ev_fact *plain = ev_first_of(web, EV_HTTP_NO_REDIRECT);
    if (!redirect && !plain)
      continue;
    /* The store's order is host, ip, port: the endpoints of web's host and
     * ip are its neighbours (a scan of them all made this quadratic). */
    size_t lo = i, hi = i + 1;
    while (lo > 0 && same_site(ev_endpoint_at(ev, lo - 1), web))
      lo--;
    while (hi < n && same_site(ev_endpoint_at(ev, hi), web))
      hi++;
    for (size_t j = lo; j < hi; j++) {
      struct ev_endpoint *ep = (struct ev_endpoint *)ev_endpoint_at(ev, j);
      if (ep == web || !ev_find_id(ep, EV_HANDSHAKES, NULL))
        continue;
      if (plain)
        ev_add(ep, &plain->sample, EV_DERIVED_HTTP_PLAIN, NULL);
      if (redirect)
        ev_add(ep, &redirect->sample, EV_DERIVED_HTTP_REDIRECT, NULL);
    }
  }
}

/* One key an endpoint used for SSLv2, with where it was seen (copied:
 * noting a fact may move the endpoint's table, and every fact pointer and
 * sample with it). */
struct sslv2_key {
  char *spki; /* the key's SPKI digest, the fact's name */
  struct ev_sample sample;
  const struct ev_endpoint *v2; /* the endpoint that used it for SSLv2 */
};

static int sslv2_key_cmp(const void *a, const void *b) {
  return strcmp(((const struct sslv2_key *)a)->spki, ((const struct sslv2_key *)b)->spki);
}

/* Every SSLv2 key of the store, sorted by digest; NULL with *n 0 when none
 * (or out of memory). */
static struct sslv2_key *sslv2_keys(const struct ev_store *ev, size_t *n) {
  size_t total = 0, m = 0;
  for (size_t i = 0; i < ev_count(ev); i++) {
    const struct ev_endpoint *v2 = ev_endpoint_at(ev, i);
    size_t k = 0;
    if (v2->holds & EV_HOLDS_SSLV2_KEY)
      ev_facts_of(v2, EV_SSLV2_KEY, &k);
    total += k;
  }
  struct sslv2_key *keys = total ? calloc(total, sizeof(*keys)) : NULL;
  for (size_t i = 0; keys && i < ev_count(ev); i++) {
    const struct ev_endpoint *v2 = ev_endpoint_at(ev, i);
    if (!(v2->holds & EV_HOLDS_SSLV2_KEY))
      continue;
    size_t k;
    const struct ev_fact *const *facts = ev_facts_of(v2, EV_SSLV2_KEY, &k);
    for (size_t j = 0; j < k; j++) {
      struct sslv2_key *key = &keys[m];
      key->sample = facts[j]->sample;
      key->sample.file = strdup(facts[j]->sample.file ? facts[j]->sample.file : "");
      key->spki = strdup(ev_fact_name(facts[j]));
      key->v2 = v2;
      if (key->spki && key->sample.file)
        m++;
      else
        free(key->spki), free(key->sample.file);
    }
  }
  if (m)
    qsort(keys, m, sizeof(*keys), sslv2_key_cmp);
  *n = m;
  return keys;
}

/* The first of keys[0..n) whose digest is spki, or n. */
static size_t first_key(const struct sslv2_key *keys, size_t n, const char *spki) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(keys[mid].spki, spki) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && strcmp(keys[lo].spki, spki) == 0 ? lo : n;
}

/* ep's DROWN facts from the keys of its certificates that another
 * endpoint used for SSLv2: one per such sighting. */
static void drown_endpoint(struct ev_endpoint *ep, const struct sslv2_key *keys, size_t n) {
  size_t n_cert;
  const struct ev_fact *const *certs = ev_facts_of(ep, EV_CERT_KEY, &n_cert);
  /* The sightings to add, found before adding: adding moves the facts. */
  size_t *hits = NULL, n_hits = 0, cap = 0;
  for (size_t c = 0; c < n_cert; c++) {
    for (size_t k = first_key(keys, n, ev_fact_name(certs[c]));
         k < n && strcmp(keys[k].spki, ev_fact_name(certs[c])) == 0; k++) {
      if (keys[k].v2 == ep)
        continue; /* counted below, once */
      if (n_hits == cap) {
        size_t more = cap ? 2 * cap : 8;
        size_t *grown = realloc(hits, more * sizeof(*hits));
        if (!grown)
          break;
        hits = grown, cap = more;
      }
      hits[n_hits++] = k;
    }
  }
  for (size_t h = 0; h < n_hits; h++)
    ev_add(ep, &keys[hits[h]].sample, EV_DERIVED_DROWN, NULL);
  free(hits);
}

/* DROWN (reference 2): a key that any endpoint uses for SSLv2 breaks every
 * endpoint using it.  Cross-endpoint, so derived after all evidence is in,
 * as is the address evidence of connections without SNI (address_facts.c);
 * "derived:" facts are not saved (ev_save skips them).  The SSLv2 keys
 * are sorted once and each certificate key of each endpoint looked up in
 * them: n log n in the facts, not a pass over every endpoint per key. */
bool ev_derive_facts(struct ev_store *ev, const volatile sig_atomic_t *stop) {
  derive_http(ev, stop);
  size_t n;
  struct sslv2_key *keys = sslv2_keys(ev, &n);
  for (size_t i = 0; n && i < ev_count(ev) && !(stop && *stop); i++)
    drown_endpoint((struct ev_endpoint *)ev_endpoint_at(ev, i), keys, n);
  for (size_t k = 0; k < n && !(stop && *stop); k++) /* each SSLv2 key breaks its own user */
    ev_add((struct ev_endpoint *)keys[k].v2, &keys[k].sample, EV_DERIVED_DROWN, NULL);
  for (size_t k = 0; k < n; k++) {
    free(keys[k].spki);
    free(keys[k].sample.file);
  }
  free(keys);
  ev_derive_no_sni(ev, stop);
  return !(stop && *stop);
}
