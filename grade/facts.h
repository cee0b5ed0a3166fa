/*
 * grade/facts.h - between facts.c (a session's facts) and cert_facts.c
 * (those of its certificates); private to grade/.
 */
#ifndef TLSGRADE_GRADE_FACTS_H
#define TLSGRADE_GRADE_FACTS_H

#include "grade/grade.h"

/* The certificate and trust facts of s's chain, sampled at its
 * Certificate message (at when that frame is unknown). */
void ev_cert_facts(struct ev_endpoint *ep, const struct tls_session *s, const struct ev_conn *c,
                   const struct ev_sample *at);
/* The chain s sent, as sent (cert_sent.c): its SENT_CHAIN fact and, at
 * its first sighting on ep, the fields of its first EV_SENT_CERTS
 * certificates, at `at`. */
void ev_sent_chain_facts(struct ev_endpoint *ep, const struct tls_session *s,
                         const struct ev_sample *at);
/* The SENT_CHAIN fact a SENT_CERT fact is a field of (its sightings are
 * the chain's), NULL for another fact or when there is none. */
const struct ev_fact *ev_sent_chain_of(const struct ev_endpoint *ep, const struct ev_fact *cert);
/* Which trust store decided s's chain (TRUST_STORE), named as c says. */
void ev_trust_store_fact(struct ev_endpoint *ep, const struct ev_conn *c,
                         const struct ev_sample *at);
/* What completing chains needs of s: the CA certificates it sent, and its
 * chain when the verdict waits for them (chains.c). */
void ev_chain_notes(struct ev_store *ev, struct ev_endpoint *ep, const struct tls_session *s,
                    const struct ev_conn *c, const struct ev_sample *at);

/* hello_facts.c: post-quantum key exchange of an answered session, at
 * its ServerHello; Encrypted Client Hello offered (at, the ClientHello's
 * sample) and a HelloRetryRequest's ECH confirmation. */
void ev_pq_facts(struct ev_endpoint *ep, const struct tls_session *s, const struct ev_sample *at);
void ev_ech_facts(struct ev_endpoint *ep, const struct tls_session *s, const struct ev_conn *c,
                  const struct ev_sample *at);

/* address_facts.c: what hellos without SNI (the `-` endpoint) got at the
 * address of named servers, for them (derived facts, ev_derive_facts). */
void ev_derive_no_sni(struct ev_store *ev, const volatile sig_atomic_t *stop);

#endif
