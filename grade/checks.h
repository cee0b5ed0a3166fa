/*
 * grade/checks.h - the check table's shape (private to grade/).
 */
#ifndef TLSGRADE_GRADE_CHECKS_H
#define TLSGRADE_GRADE_CHECKS_H

#include "grade/grade.h"

/* Facts a check cites: a family, and what its typed argument must be.
 * Lists end with an entry whose family is EV_N_FACTS. */
enum fact_arg_test {
  ARG_ANY,       /* any fact of the family */
  ARG_VERSIONS,  /* version_lo <= version <= version_hi (an unknown version is 0) */
  ARG_NUMBER_IS, /* number == number */
  ARG_NAME_IS    /* the name argument is name */
};
struct fact_match {
  enum ev_fact_id id;
  enum fact_arg_test test;
  uint16_t version_lo, version_hi;
  uint64_t number;
  const char *name;
};

struct check_def;
typedef void (*check_eval_fn)(const struct check_def *d, const struct ev_endpoint *ep,
                              struct check_result *c);

/* One rule: its id in grading-reference.md, what failing it does, the facts
 * that decide it, and what to tell the operator. */
struct check_def {
  const char *id;
  const char *title;
  enum check_effect effect;
  char cap;
  int severity;                        /* recommendations: higher first */
  const struct fact_match *fail_facts; /* facts proving failure */
  const struct fact_match *pass_facts; /* facts proving a pass */
  check_eval_fn eval;                  /* NULL: fail on fail_facts, else pass on pass_facts */
  int threshold;                       /* key checks: minimum RSA-equivalent bits */
  const char *fail_reason, *pass_reason, *unknown_reason;
  const char *recommendation;
};

size_t checks_run(const struct ev_endpoint *ep, struct check_result *out, size_t max);
/* RSA-equivalent bits of the weakest key seen (certificate, DH, ECDH,
 * export RSA); -1 none.  *which: the fact that holds it. */
int checks_weakest_key(const struct ev_endpoint *ep, const struct ev_fact **which);

#endif
