/*
 * grade/address_facts.c - address evidence: what a server answered to
 * hellos without SNI (the `-` endpoint of its IP and port), for the named
 * servers behind that address.
 *
 * A hello without SNI is answered before the server can know a name: by
 * the default of its address.  An SSL 2.0 CLIENT-HELLO has no field for a
 * name, and an SSL 3.0 ClientHello has no extensions (RFC 6101 5.6.1.2),
 * so every SSL 2.0 or 3.0 client of a named server is answered as the
 * hellos without SNI were: SSL 2.0 or 3.0 spoken (with CBC under SSL 3.0)
 * or refused at the address is the named server's too, and so is DROWN
 * (checks.c).  A TLS hello may name the server, and a server may choose
 * its versions per name: nothing else is inherited.  A named server whose
 * certificates and those sent without SNI are both seen and share none is
 * another back end (a proxy routing by name): it inherits nothing, and
 * says so when there was something to inherit.  Derived once all evidence is in and never saved, so
 * the same after merge and with -j.
 */
#include "grade/evidence.h"
#include "grade/facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_SNI_PREFIX "derived:no_sni:" /* fact_table.h: before the `-` endpoint's own key */

static bool without_sni(const struct ev_endpoint *ep) {
  return strcmp(ep->host, "-") == 0;
}

/* A TLS endpoint that reports grade: connections, and more than their
 * ClientHellos (a hello-only endpoint must stay one). */
static bool reported(const struct ev_endpoint *ep) {
  return ev_find_id(ep, EV_HANDSHAKES, NULL) && !ev_hello_only(ep);
}

static int by_address(const void *a, const void *b) {
  const struct ev_endpoint *x = *(const struct ev_endpoint *const *)a;
  const struct ev_endpoint *y = *(const struct ev_endpoint *const *)b;
  int c = strcmp(x->ip, y->ip);
  return c ? c : (int)x->port - (int)y->port;
}

/* How the certificates sent without SNI compare with the named server's. */
struct certificates {
  const struct ev_fact *other; /* the first leaf sent without SNI that named never sent */
  bool shared;                 /* a leaf both sent */
  bool unseen;                 /* no leaf was sent without SNI */
};

static struct certificates compare(const struct ev_endpoint *no_sni,
                                   const struct ev_endpoint *named) {
  struct certificates c = {NULL, false, true};
  size_t n;
  const struct ev_fact *const *leaves = ev_facts_of(no_sni, EV_CERT_LEAF, &n);
  for (size_t i = 0; i < n; i++) {
    if (leaves[i]->typed.id != EV_CERT_LEAF)
      continue;
    c.unseen = false;
    const struct ev_args leaf = {.name = ev_fact_name(leaves[i])};
    if (ev_find_id(named, EV_CERT_LEAF, &leaf))
      c.shared = true;
    else if (!c.other)
      c.other = leaves[i];
  }
  return c;
}

/* The facts a named server inherits: SSL 2.0 and 3.0 spoken or refused,
 * a CBC suite under SSL 3.0 (POODLE). */
static bool inherited(const struct ev_fact *f) {
  uint16_t v = f->typed.version;
  switch (f->typed.id) {
  case EV_VERSION:
  case EV_REFUSED:
    return v == TLS_VERSION_SSL2 || v == TLS_VERSION_SSL3;
  case EV_CBC:
    return v == TLS_VERSION_SSL3;
  default:
    return false;
  }
}

static const enum ev_fact_id FAMILIES[] = {EV_VERSION, EV_REFUSED, EV_CBC};

/* Has the `-` endpoint a fact a named server would inherit? */
static bool inheritable(const struct ev_endpoint *no_sni) {
  for (size_t k = 0; k < sizeof FAMILIES / sizeof FAMILIES[0]; k++) {
    size_t n;
    const struct ev_fact *const *facts = ev_facts_of(no_sni, FAMILIES[k], &n);
    for (size_t i = 0; i < n; i++)
      if (facts[i]->typed.id == FAMILIES[k] && inherited(facts[i]))
        return true;
  }
  return false;
}

/* Each fact keeps its counts (its sightings in aborted handshakes too:
 * such a fact may fail a check, never pass one) and its sample, the frame
 * of the connection without SNI. */
static void inherit(struct ev_endpoint *named, const struct ev_endpoint *no_sni) {
  for (size_t k = 0; k < sizeof FAMILIES / sizeof FAMILIES[0]; k++) {
    size_t n;
    const struct ev_fact *const *facts = ev_facts_of(no_sni, FAMILIES[k], &n);
    for (size_t i = 0; i < n; i++) {
      const struct ev_fact *f = facts[i];
      char key[EV_KEY_MAX];
      int len = snprintf(key, sizeof key, NO_SNI_PREFIX "%s", f->key);
      if (f->typed.id != FAMILIES[k] || !inherited(f) || len < 0 || (size_t)len >= sizeof key)
        continue; /* a key cut short would say another thing */
      ev_fact_add(named, key, NULL, f->count, f->aborted, f->first_ts, f->last_ts, &f->sample);
    }
  }
}

/* Every named server at the address of a `-` endpoint (both with more
 * than ClientHellos): its address evidence, or the certificate that
 * keeps it from it; the `-` endpoint is folded under its address when a
 * named server sent the same certificate or it saw none (reports show no
 * letter for it then: nothing of its own was decided). */
void ev_derive_no_sni(struct ev_store *ev, const volatile sig_atomic_t *stop) {
  size_t n = ev_count(ev), m = 0;
  struct ev_endpoint **no_sni = calloc(n ? n : 1, sizeof(*no_sni));
  uint64_t *under = calloc(n ? n : 1, sizeof(*under));
  for (size_t i = 0; no_sni && under && i < n; i++) {
    struct ev_endpoint *ep = (struct ev_endpoint *)ev_endpoint_at(ev, i);
    if (without_sni(ep) && reported(ep))
      no_sni[m++] = ep;
  }
  qsort(no_sni, m, sizeof(*no_sni), by_address); /* then a lookup per named server */
  for (size_t i = 0; m && under && i < n && !(stop && *stop); i++) {
    struct ev_endpoint *named = (struct ev_endpoint *)ev_endpoint_at(ev, i);
    if (without_sni(named) || !reported(named))
      continue;
    struct ev_endpoint **at = bsearch(&named, no_sni, m, sizeof(*no_sni), by_address);
    if (!at)
      continue;
    struct certificates c = compare(*at, named);
    if (c.other && !c.shared && ev_first_of(named, EV_CERT_LEAF)) {
      if (inheritable(*at)) /* said only where it keeps something; counted as its connections */
        ev_add_times(named, &c.other->sample, EV_DERIVED_NO_SNI_CERT_DIFFERS,
                     &(const struct ev_args){.name = ev_fact_name(c.other)}, c.other->count);
      continue;
    }
    inherit(named, *at);
    if (c.shared || c.unseen)
      under[at - no_sni]++;
  }
  for (size_t k = 0; under && k < m; k++) {
    const struct ev_fact *seen = ev_find_id(no_sni[k], EV_HANDSHAKES, NULL);
    if (under[k] && seen) {
      struct ev_sample at = seen->sample; /* copied: the fact table may move */
      ev_add_times(no_sni[k], &at, EV_DERIVED_NO_SNI_FOLDED, NULL, under[k]);
    }
  }
  free(no_sni); /* out of memory: no address evidence, which decides nothing */
  free(under);
}
