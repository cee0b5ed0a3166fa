/*
 * grade/profiles.h - a compliance profile's shape (private to grade/):
 * what grade/profiles.tsv says, as grade/gen-profiles.py writes it.
 */
#ifndef TLSGRADE_GRADE_PROFILES_H
#define TLSGRADE_GRADE_PROFILES_H

#include "grade/grade.h"

/* An allowed leaf key: its type as cert_key facts name it, and bits
 * min..max (max 0: no maximum). */
struct profile_key {
  const char *type;
  unsigned min_bits, max_bits;
};

/* One guideline: lists of what it allows, thresholds (0: no such item),
 * and the checks of check_table.h that must not fail. */
struct profile_def {
  const char *id, *title, *source;
  const uint16_t *versions;
  size_t n_versions;
  const char *const *suites;
  size_t n_suites;
  const char *const *groups;
  size_t n_groups;
  const struct profile_key *keys;
  size_t n_keys;
  const char *const *requires;
  size_t n_requires;
  const uint16_t *supports; /* versions the server must support */
  size_t n_supports;
  unsigned dh_min_bits;  /* 0: no finite-field DH allowed */
  unsigned hsts_min_age; /* 0: HSTS not part of the profile */
  unsigned lifetime_max; /* days; 0: not part of the profile */
};

#endif
