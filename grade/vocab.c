/*
 * grade/vocab.c - the fact vocabulary (grade/fact_table.h): a fact's key
 * made from its family and typed arguments, and a key given as text (a
 * saved evidence file, a test) parsed back into them.  The one place that
 * knows how an argument is printed: the rest of grade/ reads a fact's
 * version, number or name from its ev_typed, never from its key.
 */
#include "grade/grade.h"

#include <stdio.h>
#include <string.h>

static const struct family {
  const char *prefix;
  enum ev_arg_kind kind;
  bool saved;
  const char *meaning;
} FAMILIES[EV_N_FACTS] = {
#define FACT(id, prefix, arg, saved, meaning) {prefix, EV_ARG_##arg, saved, meaning},
#include "grade/fact_table.h"
#undef FACT
};

const char *ev_fact_prefix(enum ev_fact_id id) {
  return id < EV_N_FACTS ? FAMILIES[id].prefix : NULL;
}

enum ev_arg_kind ev_fact_kind(enum ev_fact_id id) {
  return id < EV_N_FACTS ? FAMILIES[id].kind : EV_ARG_NONE;
}

const char *ev_fact_meaning(enum ev_fact_id id) {
  return id < EV_N_FACTS ? FAMILIES[id].meaning : NULL;
}

bool ev_fact_saved(enum ev_fact_id id) {
  return id >= EV_N_FACTS || FAMILIES[id].saved;
}

/* ---- making a key ---- */

/* A key being put together, cut at EV_KEY_MAX - 1 bytes as ev_note cuts
 * one. */
struct key_out {
  char *p;
  size_t n;
};

static void put(struct key_out *k, const char *s, size_t len) {
  if (len > EV_KEY_MAX - 1 - k->n)
    len = EV_KEY_MAX - 1 - k->n;
  memcpy(k->p + k->n, s, len);
  k->n += len;
  k->p[k->n] = '\0';
}

static void puts_key(struct key_out *k, const char *s) {
  put(k, s, strlen(s));
}

/* A version is printed by its name (dissect's), "unknown" when it has
 * none; such a version is 0 in the fact, as it is when read back. */
static uint16_t put_version(struct key_out *k, uint16_t v) {
  const char *name = tls_version_name(v);
  puts_key(k, name ? name : "unknown");
  return name ? v : 0;
}

static void put_number(struct key_out *k, uint64_t n) {
  char digits[24];
  put(k, digits, (size_t)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n));
}

/* The name argument: where it starts, how long it came out (after a cut). */
static void put_name(struct key_out *k, const char *name, struct ev_typed *t) {
  t->name_at = (uint8_t)k->n;
  puts_key(k, name ? name : "");
  t->name_len = (uint8_t)(k->n - t->name_at);
}

bool ev_key_make(enum ev_fact_id id, const struct ev_args *a, char key[EV_KEY_MAX],
                 struct ev_typed *t) {
  static const struct ev_args none = {0};
  struct key_out k = {key, 0};
  memset(t, 0, sizeof(*t));
  key[0] = '\0';
  if (id >= EV_N_FACTS)
    return false;
  if (!a)
    a = &none;
  t->id = (uint16_t)id;
  puts_key(&k, FAMILIES[id].prefix);
  switch (FAMILIES[id].kind) {
  case EV_ARG_NONE:
    break;
  case EV_ARG_VERSION:
    t->name_at = (uint8_t)k.n;
    t->version = put_version(&k, a->version);
    t->name_len = (uint8_t)(k.n - t->name_at);
    break;
  case EV_ARG_NUMBER:
    put_number(&k, a->number);
    t->number = a->number;
    break;
  case EV_ARG_INT:
    if ((int64_t)a->number < 0) {
      puts_key(&k, "-");
      put_number(&k, -(uint64_t)a->number);
    } else {
      put_number(&k, a->number);
    }
    t->number = a->number;
    break;
  case EV_ARG_NAME:
  case EV_ARG_HEX:
    put_name(&k, a->name, t);
    break;
  case EV_ARG_NAME_NUMBER:
    put_name(&k, a->name, t);
    puts_key(&k, ":");
    put_number(&k, a->number);
    t->number = a->number;
    break;
  case EV_ARG_VERSION_NAME:
    t->version = put_version(&k, a->version);
    puts_key(&k, ":");
    put_name(&k, a->name, t);
    break;
  case EV_ARG_ANSWER:
    put_name(&k, a->name, t);
    t->number = a->number;
    if (a->number == EV_ANSWER_REFUSED) {
      puts_key(&k, ":refused");
    } else {
      char suite[8];
      puts_key(&k, ":");
      t->version = put_version(&k, a->version);
      snprintf(suite, sizeof(suite), ":0x%04x", (unsigned)(a->number & 0xffff));
      puts_key(&k, suite);
      t->number = a->number & 0xffff;
    }
    break;
  }
  return true;
}

/* f's argument as its key prints it, made again from f's typed arguments
 * (cut where the key is cut). */
void ev_fact_argument(const struct ev_fact *f, char out[EV_KEY_MAX]) {
  char name[EV_KEY_MAX], key[EV_KEY_MAX];
  memcpy(name, ev_fact_name(f), f->typed.name_len);
  name[f->typed.name_len] = '\0';
  const struct ev_args a = {f->typed.version, f->typed.number, name};
  struct ev_typed typed;
  out[0] = '\0';
  if (ev_key_make(f->typed.id, &a, key, &typed))
    snprintf(out, EV_KEY_MAX, "%s", key + strlen(FAMILIES[f->typed.id].prefix));
}

/* ---- reading a key given as text ---- */

/* The version named s[0..n), as put_version prints it; false when no
 * version has that name.  Versions are SSL 2.0, SSL 3.0 and TLS (major 3)
 * and DTLS (major 0xfe): those are the codes asked. */
static bool parse_version(const char *s, size_t n, uint16_t *v) {
  if (n == 7 && memcmp(s, "unknown", 7) == 0) {
    *v = 0;
    return true;
  }
  static const uint16_t ranges[][2] = {
      {TLS_VERSION_SSL2, TLS_VERSION_SSL2}, {0x0300, 0x03ff}, {0xfe00, 0xfeff}};
  for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++)
    for (unsigned code = ranges[r][0]; code <= ranges[r][1]; code++) {
      const char *name = tls_version_name((uint16_t)code);
      if (name && strlen(name) == n && memcmp(name, s, n) == 0) {
        *v = (uint16_t)code;
        return true;
      }
    }
  return false;
}

/* A decimal number as put_number prints it: no sign, no leading zero, no
 * overflow. */
static bool parse_number(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;
  if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
    return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
      return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return true;
}

/* A signed decimal as ev_key_make prints an INT: "-" and a number, or a
 * number, within int64_t ("-0" is not printed). */
static bool parse_int(const char *s, size_t n, uint64_t *out) {
  bool minus = n > 0 && s[0] == '-';
  uint64_t v;
  if (!parse_number(s + minus, n - minus, &v) || (minus && v == 0) ||
      v > (minus ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
    return false;
  *out = minus ? -v : v;
  return true;
}

/* ":0x" and four lowercase hex digits, as ev_key_make prints a suite. */
static bool parse_suite(const char *s, size_t n, uint64_t *out) {
  if (n != 7 || memcmp(s, ":0x", 3) != 0)
    return false;
  uint64_t v = 0;
  for (size_t i = 3; i < 7; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0)
      return false;
    v = v << 4 | (uint64_t)d;
  }
  *out = v;
  return true;
}

/* "OFFER:refused" or "OFFER:VERSION:0xSUITE" from rest = key + at. */
static bool parse_answer(const char *key, size_t at, struct ev_typed *t) {
  const char *rest = key + at;
  const char *colon = strchr(rest, ':');
  if (!colon)
    return false;
  t->name_at = (uint8_t)at;
  t->name_len = (uint8_t)(colon - rest);
  if (strcmp(colon, ":refused") == 0) {
    t->number = EV_ANSWER_REFUSED;
    return true;
  }
  const char *v = colon + 1, *end = strchr(v, ':');
  return end && parse_version(v, (size_t)(end - v), &t->version) &&
         parse_suite(end, strlen(end), &t->number);
}

/* The argument of a key of family kind, from key + at. */
static bool parse_arg(enum ev_arg_kind kind, const char *key, size_t at, struct ev_typed *t) {
  const char *rest = key + at;
  size_t n = strlen(rest);
  const char *colon;
  switch (kind) {
  case EV_ARG_NONE:
    return n == 0;
  case EV_ARG_VERSION:
    t->name_at = (uint8_t)at;
    t->name_len = (uint8_t)n;
    return parse_version(rest, n, &t->version);
  case EV_ARG_NUMBER:
    return parse_number(rest, n, &t->number);
  case EV_ARG_INT:
    return parse_int(rest, n, &t->number);
  case EV_ARG_NAME:
  case EV_ARG_HEX:
    t->name_at = (uint8_t)at;
    t->name_len = (uint8_t)n;
    return true;
  case EV_ARG_NAME_NUMBER:
    colon = strrchr(rest, ':');
    t->name_at = (uint8_t)at;
    t->name_len = colon ? (uint8_t)(colon - rest) : 0;
    return colon && parse_number(colon + 1, strlen(colon + 1), &t->number);
  case EV_ARG_VERSION_NAME:
    colon = strchr(rest, ':');
    t->name_at = colon ? (uint8_t)(colon + 1 - key) : 0;
    t->name_len = colon ? (uint8_t)strlen(colon + 1) : 0;
    return colon && parse_version(rest, (size_t)(colon - rest), &t->version);
  case EV_ARG_ANSWER:
    return parse_answer(key, at, t);
  }
  return false;
}

/* A key is of the family whose prefix it starts with and whose argument
 * it holds as ev_key_make prints it; failing that (hand-made evidence:
 * "http:no_redirect:/"), of the first family whose prefix it starts with,
 * its arguments what could be read (0 otherwise); failing that EV_OTHER. */
void ev_key_parse(const char *key, struct ev_typed *t) {
  size_t len = strlen(key);
  struct ev_typed rough = {.id = EV_OTHER};
  for (unsigned id = 0; len < EV_KEY_MAX && id < EV_N_FACTS; id++) {
    const struct family *f = &FAMILIES[id];
    size_t n = strlen(f->prefix);
    if (f->prefix[0] != key[0] || n > len || memcmp(f->prefix, key, n) != 0)
      continue;
    memset(t, 0, sizeof(*t));
    t->id = (uint16_t)id;
    if (parse_arg(f->kind, key, n, t))
      return;
    if (rough.id == EV_OTHER && f->kind != EV_ARG_NONE)
      rough = *t;
  }
  *t = rough;
}

/* ---- reading facts by family ---- */

const struct ev_fact *ev_find_id(const struct ev_endpoint *ep, enum ev_fact_id id,
                                 const struct ev_args *a) {
  const char *prefix = ev_fact_prefix(id);
  if (ev_fact_kind(id) == EV_ARG_NONE && prefix) { /* the key is the prefix */
    if (!ep->sorted)
      return ev_find(ep, prefix);
    /* the first of the family's view, which the keys sorted already
     * (grading, the reports) give without hashing */
    size_t n;
    const struct ev_fact *const *view = ev_facts_of(ep, id, &n);
    return n && strcmp(view[0]->key, prefix) == 0 ? view[0] : NULL;
  }
  char key[EV_KEY_MAX];
  struct ev_typed typed;
  return ev_key_make(id, a, key, &typed) ? ev_find(ep, key) : NULL;
}

const struct ev_fact *ev_first_of(const struct ev_endpoint *ep, enum ev_fact_id id) {
  size_t n;
  const struct ev_fact *const *facts = ev_facts_of(ep, id, &n);
  for (size_t i = 0; i < n; i++)
    if (facts[i]->typed.id == id)
      return facts[i];
  return NULL;
}

bool ev_fact_name_is(const struct ev_fact *f, const char *s) {
  size_t n = strlen(s);
  return f->typed.name_len == n && memcmp(ev_fact_name(f), s, n) == 0;
}
