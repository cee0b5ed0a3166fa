/*
 * grade/distrust.c - does a server chain belong to a CA that browsers
 * removed or distrusted?  The rules are data (distrust.tsv, whose head
 * defines what a row means); this file only applies them.
 *
 * A chain's CA names are the issuer name of every certificate and the
 * subject name of every certificate after the leaf: the leaf's subject is
 * the customer's name, and a company may be called anything.  Values are
 * compared whole, ASCII case-folded, never as substrings: "Not Symantec
 * Testing" is not "Symantec Corporation".
 */
#include "grade/distrust.h"

#include <string.h>

#include "grade/distrust_data.h"

#define N_EVENTS (sizeof(DISTRUST_EVENTS) / sizeof(DISTRUST_EVENTS[0]))
#define N_RULES (sizeof(DISTRUST_RULES) / sizeof(DISTRUST_RULES[0]))

static int fold(int byte) {
  return byte >= 'A' && byte <= 'Z' ? byte - 'A' + 'a' : byte;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Does one of the values in `joined` (x509.c's form: each value with NUL,
 * ',' and '\' written "\xNN", values joined by ',') equal want? */
static bool list_has(const char *joined, const char *want) {
  for (const char *p = joined; p;) {
    const char *w = want;
    bool same = true;
    while (*p && *p != ',') {
      int byte = (unsigned char)*p;
      int high, low;
      if (p[0] == '\\' && p[1] == 'x' && (high = hex_digit(p[2])) >= 0 &&
          (low = hex_digit(p[3])) >= 0) {
        byte = high << 4 | low;
        p += 4;
      } else {
        p++;
      }
      if (same && *w && fold(byte) == fold((unsigned char)*w))
        w++;
      else
        same = false;
    }
    if (same && !*w)
      return true;
    p = *p == ',' ? p + 1 : NULL;
  }
  return false;
}

/* One name of the chain: organizationNames and commonNames. */
struct ca_name {
  const char *o, *cn;
};

static bool name_matches(const struct distrust_rule *rule, const struct ca_name *name) {
  if (!name->o || !name->cn)
    return false;
  switch (rule->how) {
  case DISTRUST_MATCH_O:
    return list_has(name->o, rule->value);
  case DISTRUST_MATCH_CN:
    return list_has(name->cn, rule->value);
  case DISTRUST_EXEMPT_O_CN:
    return list_has(name->o, rule->value) && list_has(name->cn, rule->cn);
  case DISTRUST_MATCH_SPKI:
    return false;
  }
  return false;
}

/* The first certificate the rule matches: an index into the chain, n for
 * the trust anchor, or -1. */
static long rule_matches(const struct distrust_rule *rule, const struct tls_cert *const *chain,
                         size_t n, const char *anchor_spki) {
  for (size_t i = 0; i < n; i++) {
    const struct tls_cert *cert = chain[i];
    if (!cert->parsed)
      continue;
    if (rule->how == DISTRUST_MATCH_SPKI) {
      if (i > 0 && strcmp(cert->spki_sha256, rule->value) == 0)
        return (long)i;
      continue;
    }
    struct ca_name issuer = {cert->issuer_o, cert->issuer_cn};
    struct ca_name subject = {cert->subject_o, cert->subject_cn};
    if (name_matches(rule, &issuer) || (i > 0 && name_matches(rule, &subject)))
      return (long)i;
  }
  if (rule->how == DISTRUST_MATCH_SPKI && anchor_spki && strcmp(anchor_spki, rule->value) == 0)
    return (long)n;
  return -1;
}

static bool exempted(size_t event, const struct tls_cert *const *chain, size_t n) {
  for (size_t r = 0; r < N_RULES; r++)
    if (DISTRUST_RULES[r].event == event && DISTRUST_RULES[r].how == DISTRUST_EXEMPT_O_CN &&
        rule_matches(&DISTRUST_RULES[r], chain, n, NULL) >= 0)
      return true;
  return false;
}

size_t distrust_match(const struct tls_cert *const *chain, size_t n, const char *anchor_spki,
                      struct distrust_hit *hits, size_t max) {
  size_t found = 0;
  if (!chain || n == 0 || !chain[0]->parsed)
    return 0;
  for (size_t e = 0; e < N_EVENTS && found < max; e++) {
    const struct distrust_event *event = &DISTRUST_EVENTS[e];
    if (event->leaf_from && chain[0]->not_before_us < event->leaf_from)
      continue;
    long cert = -1;
    for (size_t r = 0; r < N_RULES && cert < 0; r++)
      if (DISTRUST_RULES[r].event == e && DISTRUST_RULES[r].how != DISTRUST_EXEMPT_O_CN)
        cert = rule_matches(&DISTRUST_RULES[r], chain, n, anchor_spki);
    if (cert >= 0 && !exempted(e, chain, n))
      hits[found++] = (struct distrust_hit){event, (size_t)cert};
  }
  return found;
}

const struct distrust_event *distrust_event_by_id(const char *id) {
  for (size_t e = 0; e < N_EVENTS; e++)
    if (strcmp(DISTRUST_EVENTS[e].id, id) == 0)
      return &DISTRUST_EVENTS[e];
  return NULL;
}
