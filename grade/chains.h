/*
 * grade/chains.h - chains completed passively (chains.c), private to
 * grade/: what facts.c notes as sessions arrive, and evidence.c keeps with
 * the store.
 */
#ifndef TLSGRADE_GRADE_CHAINS_H
#define TLSGRADE_GRADE_CHAINS_H

#include "grade/grade.h"

/* An ip as the capture writes it (inet_ntop), as every endpoint of saved
 * evidence must hold (evidence.c): anything else in a file is not evidence
 * of ours, and would reach reports as it is. */
bool ev_ip_valid(const char *ip);

struct ev_chains;
/* The store's chains (evidence.c): NULL until something is noted. */
struct ev_chains **ev_store_chains(struct ev_store *ev);
void ev_chains_free(struct ev_chains *chains);
/* from's notes join into's; from is left empty.  0, or -1 when out of
 * memory. */
int ev_chains_absorb(struct ev_chains **into, struct ev_chains **from);
/* from's notes copied into the store's, under its caps; from is
 * unchanged.  0, or -1. */
int ev_chains_copy(struct ev_store *into, const struct ev_chains *from);
/* The notes as saved evidence keeps them (certificates as base64 DER):
 * NULL when there is nothing to keep. */
cJSON *ev_chains_to_json(const struct ev_chains *ch);
/* Saved notes (NULL: none) into the store's, each certificate parsed again
 * and every cap applied as when noted.  0, or -1 with err set. */
int ev_chains_from_json(struct ev_store *into, const cJSON *o, char *err, size_t errlen);
/* A CA certificate a server sent, and the Certificate message it came in
 * (sample->file must outlive the store, as the run's input names do). */
void ev_chains_note_ca(struct ev_store *ev, const struct tls_cert *cert,
                       const struct ev_sample *sample);
/* A chain that did not verify for want of an issuer: its trust facts wait
 * for ev_complete_chains.  False when it could not be noted (the cap of
 * pending chains, or memory): the caller adds the session's own verdict. */
bool ev_chains_note_pending(struct ev_store *ev, const struct ev_endpoint *ep, const char *sni,
                            const struct tls_session *s, const struct ev_sample *sample);

/* Saved evidence (evidence.c, and the chain notes here): the number at key
 * k of o when it lies in [min, max]; times are bounded by
 * EV_JSON_TS_LIMIT microseconds either side of the epoch. */
#define EV_JSON_TS_LIMIT 9.2e18
bool ev_json_num(const cJSON *o, const char *k, double min, double max, double *out);

#endif
