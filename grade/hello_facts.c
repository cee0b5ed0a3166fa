/*
 * grade/hello_facts.c - what the hellos say beyond versions and suites:
 * whether the key exchange was post-quantum, and whether clients offered
 * Encrypted Client Hello.  Both are read from clear-text hellos; neither
 * changes the 2009r letter (check_table.h: pq_kex, ech).
 */
#include "grade/facts.h"

#include <stdio.h>
#include <string.h>

static bool is_tls13(uint16_t v) {
  return v == TLS_VERSION_TLS13 || v == TLS_VERSION_DTLS13;
}

/* The first post-quantum group of a client's list, 0 when none. */
static uint16_t first_pq(const struct tls_u16s *groups) {
  for (size_t i = 0; i < groups->n; i++)
    if (tls_group_pq(groups->v[i]) != TLS_GROUP_CLASSICAL)
      return groups->v[i];
  return 0;
}

/* The group the server's key exchange used: the TLS 1.3 key share, the
 * TLS 1.2 ECDHE curve; 0 when there was none (RSA or DHE key exchange, a
 * TLS 1.3 resumption without a key share). */
static uint16_t chosen_group(const struct tls_session *s) {
  if (is_tls13(s->version))
    return s->sh.key_share_group;
  return s->kex.is_ecdh ? s->kex.curve : 0;
}

static void add_pair(struct ev_endpoint *ep, const struct ev_sample *at, enum ev_fact_id id,
                     uint16_t offered, const char *chosen) {
  char name[96];
  const char *o = tls_group_name(offered); /* post-quantum groups are all named */
  snprintf(name, sizeof name, "%s:%s", o ? o : "unknown", chosen);
  ev_add_name(ep, at, id, name);
}

/* Post-quantum key exchange (README "What counts as evidence"): the
 * group the server's ServerHello used, against what the client offered.
 * A server chooses a group freely only among the client's key shares; a
 * group the client merely listed costs a HelloRetryRequest (RFC 8446
 * 4.1.4, 4.2.8), which a server may rightly avoid.  So a classical answer
 * refuses a post-quantum group only when the client sent a share for it,
 * or the server made the round trip anyway and named a classical group.  A
 * TLS 1.2 answer to a client offering a post-quantum share refuses it
 * too: the server chose a version without it.  A TLS 1.2 resumption
 * chose no key exchange. */
void ev_pq_facts(struct ev_endpoint *ep, const struct tls_session *s, const struct ev_sample *at) {
  if (!s->has_client_hello || s->version == TLS_VERSION_SSL2 || (s->version >> 8) == 0x7f ||
      (s->resumed && !is_tls13(s->version)))
    return; /* TLS 1.3 drafts (0x7fNN) had no post-quantum groups */
  uint16_t group = chosen_group(s);
  if (!group && is_tls13(s->version))
    return; /* a PSK without (EC)DHE: no group was chosen */
  enum tls_group_pq kind = group ? tls_group_pq(group) : TLS_GROUP_CLASSICAL;
  const char *name = group ? tls_group_name(group) : NULL;
  char hex[8];
  if (group && !name) {
    snprintf(hex, sizeof hex, "0x%04x", group);
    name = hex;
  }
  if (kind != TLS_GROUP_CLASSICAL) {
    ev_add_name(ep, at, kind == TLS_GROUP_PQ ? EV_PQ_CHOSEN : EV_PQ_OBSOLETE, name);
    return;
  }
  if (!name) {
    const char *v = tls_version_name(s->version);
    name = v ? v : "unknown";
  }
  uint16_t shared = first_pq(&s->ch.key_share_groups);
  uint16_t listed = first_pq(&s->ch.groups);
  /* A HelloRetryRequest naming a classical group: the server paid the
   * round trip and asked for that group rather than the listed
   * post-quantum one.  One without key_share (a cookie only) named none. */
  bool retried = s->has_hrr && s->hrr->key_share_group && is_tls13(s->version);
  if (shared)
    add_pair(ep, at, EV_PQ_REFUSED, shared, name);
  else if (listed && retried)
    add_pair(ep, at, EV_PQ_REFUSED, listed, name);
  else if (listed && is_tls13(s->version))
    add_pair(ep, at, EV_PQ_NO_RETRY, listed, name);
}

/* Encrypted Client Hello: the outer extension, counted per endpoint (the
 * endpoint's name is the outer SNI, the public name).  Whether the server
 * accepted it is in the ServerHello random or encrypted (RFC 9849 7.2):
 * out of a passive reader's reach without the keys; a HelloRetryRequest's
 * confirmation is noted, never verified. */
void ev_ech_facts(struct ev_endpoint *ep, const struct tls_session *s, const struct ev_conn *c,
                  const struct ev_sample *at) {
  if (s->ch.ech_offer.outer)
    ev_add(ep, at, EV_ECH_OFFERED, NULL);
  if (s->has_hrr && s->hrr->ech_confirmation) {
    const struct tls_at *h = &s->hrr->at;
    const char *file = h->file_index < c->n_files ? c->files[h->file_index] : "";
    ev_add(ep, &(struct ev_sample){(char *)file, h->frame, h->ts, at->aborted},
           EV_ECH_HRR_CONFIRMATION, NULL);
  }
}
