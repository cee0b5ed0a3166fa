/*
 * grade/checks.h - the check table's shape (private to grade/).
 */
#ifndef TLSGRADE_GRADE_CHECKS_H
#define TLSGRADE_GRADE_CHECKS_H

#include "grade/grade.h"

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
  int severity;                 /* recommendations: higher first */
  const char *const *fail_keys; /* fact prefixes proving failure */
  const char *const *pass_keys; /* fact prefixes proving a pass */
  check_eval_fn eval;           /* NULL: fail on fail_keys, else pass on pass_keys */
  int threshold;                /* key checks: minimum RSA-equivalent bits */
  const char *fail_reason, *pass_reason, *unknown_reason;
  const char *recommendation;
};

size_t checks_run(const struct ev_endpoint *ep, struct check_result *out, size_t max);
/* RSA-equivalent bits of the weakest key seen (certificate, DH, ECDH,
 * export RSA); -1 none.  *which: the fact that holds it. */
int checks_weakest_key(const struct ev_endpoint *ep, const struct ev_fact **which);

#endif
