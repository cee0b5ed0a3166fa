/*
 * grade/distrust.h - CAs that browsers removed or distrusted (private to
 * grade/).  The list is data: grade/distrust.tsv, compiled into
 * grade/distrust_data.h by grade/gen-distrust.py.
 */
#ifndef TLSGRADE_GRADE_DISTRUST_H
#define TLSGRADE_GRADE_DISTRUST_H

#include "grade/grade.h"

struct distrust_event {
  const char *id;        /* "symantec": the fact is "distrust:<id>" */
  const char *name;      /* what happened, for people */
  const char *reason;    /* the check's reason when it fails */
  const char *source;    /* the public announcement */
  cap_time_us leaf_from; /* 0, or only leaves with notBefore >= this */
};

enum distrust_how {
  DISTRUST_MATCH_O,
  DISTRUST_MATCH_CN,
  DISTRUST_MATCH_SPKI,
  DISTRUST_EXEMPT_O_CN
};

struct distrust_rule {
  size_t event; /* index into the events */
  enum distrust_how how;
  const char *value; /* O or CN value, or SPKI SHA-256 hex */
  const char *cn;    /* DISTRUST_EXEMPT_O_CN: the CN value */
};

/* struct distrust_hit: grade/grade.h (the trust memo keeps them). */

/* The events a server chain (wire order, chain[0] the leaf) falls under;
 * anchor_spki: the SHA-256 of the verified trust anchor's key, "" or NULL
 * when unknown.  Returns how many were written (at most max). */
size_t distrust_match(const struct tls_cert *const *chain, size_t n, const char *anchor_spki,
                      struct distrust_hit *hits, size_t max);
/* The event of a fact "distrust:<id>", NULL when unknown. */
const struct distrust_event *distrust_event_by_id(const char *id);

#endif
