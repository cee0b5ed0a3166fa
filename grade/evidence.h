/*
 * grade/evidence.h - between evidence.c (the store: endpoints, facts,
 * merge) and evidence_json.c (saved evidence); private to grade/.
 */
#ifndef TLSGRADE_GRADE_EVIDENCE_H
#define TLSGRADE_GRADE_EVIDENCE_H

#include "grade/grade.h"

#define EV_FORMAT_VERSION 2 /* 2: the chains waiting for completion */

/* Owns every endpoint.  (The trust memo is the run's: dissect.h.) */
struct ev_store {
  struct ev_endpoint **eps; /* open-addressing table */
  size_t nslots, count;
  struct ev_endpoint **sorted; /* cache for ev_endpoint_at, NULL when stale */
  struct ev_chains *chains;    /* chains.c's notes, NULL when none */
  /* The endpoint cap (grade.h ev_store_set_limit): at most max_endpoints
   * answered endpoints and, apart, at most max_endpoints seen only in
   * ClientHellos (n_hello of the count). */
  size_t max_endpoints, n_hello;
  uint64_t cap_hits;                       /* connections dropped at the cap */
  struct ev_clients *clients;              /* clients.c's inventory, NULL when none */
  size_t max_clients;                      /* its cap (grade.h ev_store_set_client_limit) */
  uint8_t max_sent_chains, max_sent_certs; /* ev_store_set_sent_chain_limits */
  size_t max_cas, max_pending;             /* chains.c's caps (ev_store_set_chain_limits) */
};

/* Add `count` sightings (`aborted` of them in aborted handshakes) with
 * [first, last] and sample to the fact `key`, which says `typed` (NULL:
 * parse the key, the first time it is seen). */
void ev_fact_add(struct ev_endpoint *ep, const char *key, const struct ev_typed *typed,
                 uint64_t count, uint64_t aborted, cap_time_us first, cap_time_us last,
                 const struct ev_sample *sample);
/* The endpoint (host, ip, port) for evidence of its class: found, promoted
 * from hello-only to answered, or made, as the cap allows.  NULL with
 * *at_cap set when the cap refused it (`weight` connections counted), else
 * NULL out of memory. */
struct ev_endpoint *ev_endpoint_claim(struct ev_store *ev, const char *host, const char *ip,
                                      uint16_t port, bool answered, uint64_t weight, bool *at_cap);

#endif
