/*
 * tests/unit/harness.h - the in-house unit-test harness.
 *
 * Each test program defines test functions, lists them in main() with
 * RUN(name), and ends with `return harness_done();`, which prints the
 * closing line "N passed, N failed" that tests/run.sh adds up.
 * A test passes when none of its CHECKs failed.
 */
#ifndef TLSGRADE_HARNESS_H
#define TLSGRADE_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_passed, harness_failed, harness_current_failed;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                   \
      harness_current_failed++;                                                                    \
    }                                                                                              \
  } while (0)

#define CHECK_EQ_U(a, b)                                                                           \
  do {                                                                                             \
    unsigned long long check_a_ = (unsigned long long)(a);                                         \
    unsigned long long check_b_ = (unsigned long long)(b);                                         \
    if (check_a_ != check_b_) {                                                                    \
      fprintf(stderr, "  %s:%d: CHECK failed: %s == %s (%llu != %llu)\n", __FILE__, __LINE__, #a,  \
              #b, check_a_, check_b_);                                                             \
      harness_current_failed++;                                                                    \
    }                                                                                              \
  } while (0)

#define CHECK_STR(a, b)                                                                            \
  do {                                                                                             \
    const char *check_a_ = (a), *check_b_ = (b);                                                   \
    if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                               \
      fprintf(stderr, "  %s:%d: CHECK failed: %s == \"%s\" (got \"%s\")\n", __FILE__, __LINE__,    \
              #a, check_b_ ? check_b_ : "(null)", check_a_ ? check_a_ : "(null)");                 \
      harness_current_failed++;                                                                    \
    }                                                                                              \
  } while (0)

#define RUN(fn)                                                                                    \
  do {                                                                                             \
    harness_current_failed = 0;                                                                    \
    fn();                                                                                          \
    if (harness_current_failed) {                                                                  \
      harness_failed++;                                                                            \
      fprintf(stderr, "FAIL %s\n", #fn);                                                           \
    } else {                                                                                       \
      harness_passed++;                                                                            \
    }                                                                                              \
  } while (0)

/* Hex digit pairs (spaces between pairs ignored) into out; returns how
 * many bytes.  out holds strlen(s) / 2 bytes at least. */
static inline size_t harness_unhex_into(const char *s, uint8_t *out) {
  size_t k = 0;
  for (const char *p = s; p[0] && p[1];) {
    if (*p == ' ') {
      p++;
      continue;
    }
    unsigned v;
    sscanf(p, "%2x", &v);
    out[k++] = (uint8_t)v;
    p += 2;
  }
  return k;
}

/* The same into a new buffer (caller frees), *n bytes. */
static inline uint8_t *harness_unhex(const char *s, size_t *n) {
  uint8_t *out = malloc(strlen(s) / 2 + 1);
  *n = out ? harness_unhex_into(s, out) : 0;
  return out;
}

static inline int harness_done(void) {
  printf("%d passed, %d failed\n", harness_passed, harness_failed);
  return harness_failed ? 1 : 0;
}

#endif
