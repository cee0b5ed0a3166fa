/*
 * grade/report_chain.c - what the reports say of a server's certificates:
 * the chains as sent read back from their facts (cert_sent.c), the trust
 * verdict and the store that decided it, the OCSP staple.
 */
#include "grade/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int chain_cmp(const void *a, const void *b) {
  const struct report_chain *x = a, *y = b;
  if (x->seen->count != y->seen->count)
    return x->seen->count > y->seen->count ? -1 : 1;
  return strcmp(x->id, y->id);
}

/* The field of c that FIELD names (cert_sent.c's names), NULL none. */
static const char **field_of(struct report_cert *c, const char *field, size_t len) {
  static const char *const names[] = {"sha256", "subject", "san", "issuer",
                                      "valid",  "key",     "sig", "unreadable"};
  const char **slots[] = {&c->sha256, &c->subject, &c->san, &c->issuer,
                          &c->valid,  &c->key,     &c->sig, &c->unreadable};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i]) == len && memcmp(names[i], field, len) == 0)
      return slots[i];
  return NULL;
}

/* A SENT_CERT fact, ID:I:FIELD:VALUE, into the chain of out[0..n) it names. */
static void read_field(const struct ev_fact *f, struct report_chain *out, size_t n) {
  const char *name = ev_fact_name(f);
  const char *index = name + EV_SENT_ID_LEN + 1;
  if (strlen(name) < EV_SENT_ID_LEN + 4 || name[EV_SENT_ID_LEN] != ':')
    return;
  char *end;
  unsigned long i = strtoul(index, &end, 10);
  const char *field = end + 1, *colon = strchr(field, ':');
  if (end == index || *end != ':' || !colon || i >= EV_SENT_CERTS)
    return;
  for (size_t k = 0; k < n; k++) {
    if (memcmp(out[k].id, name, EV_SENT_ID_LEN) != 0)
      continue;
    const char **slot = field_of(&out[k].certs[i], field, (size_t)(colon - field));
    if (slot && !*slot)
      *slot = colon + 1;
    if (slot && i + 1 > out[k].n_certs)
      out[k].n_certs = i + 1;
  }
}

size_t report_chains(const struct ev_endpoint *ep, struct report_chain out[EV_SENT_CHAINS]) {
  size_t n_facts, n = 0;
  const struct ev_fact *const *facts = ev_facts_of(ep, EV_SENT_CHAIN, &n_facts);
  for (size_t i = 0; i < n_facts && n < EV_SENT_CHAINS; i++) {
    const struct ev_fact *f = facts[i];
    if (f->typed.id != EV_SENT_CHAIN || f->typed.name_len != EV_SENT_ID_LEN)
      continue;
    memset(&out[n], 0, sizeof(out[n]));
    out[n].seen = f;
    memcpy(out[n].id, ev_fact_name(f), EV_SENT_ID_LEN);
    out[n].id[EV_SENT_ID_LEN] = '\0';
    out[n].length = f->typed.number;
    n++;
  }
  facts = ev_facts_of(ep, EV_SENT_CERT, &n_facts);
  for (size_t i = 0; i < n_facts; i++)
    if (facts[i]->typed.id == EV_SENT_CERT)
      read_field(facts[i], out, n);
  qsort(out, n, sizeof(out[0]), chain_cmp);
  return n;
}

/* s appended to buf (len bytes), after "; " when buf holds something. */
static void join(char *buf, size_t len, const char *s) {
  size_t used = strlen(buf);
  if (used + 1 < len)
    snprintf(buf + used, len - used, "%s%s", used ? "; " : "", s);
}

void report_trust_words(const struct ev_endpoint *ep, char *buf, size_t len) {
  buf[0] = '\0';
  if (ev_find_id(ep, EV_TRUST_OK, NULL))
    join(buf, len, "trusted");
  if (ev_find_id(ep, EV_TRUST_OK_BUT_TIME, NULL))
    join(buf, len, "trusted but for its validity dates");
  size_t n;
  const struct ev_fact *const *untrusted = ev_facts_of(ep, EV_TRUST_UNTRUSTED, &n);
  for (size_t i = 0; i < n; i++) {
    if (untrusted[i]->typed.id != EV_TRUST_UNTRUSTED)
      continue;
    char words[EV_KEY_MAX + 16];
    snprintf(words, sizeof words, "untrusted: %s", ev_fact_name(untrusted[i]));
    join(buf, len, words);
  }
  if (ev_find_id(ep, EV_CHAIN_INCOMPLETE, NULL))
    join(buf, len, "chain incomplete (the server omits an intermediate)");
  if (ev_find_id(ep, EV_CHAIN_UNORDERED, NULL))
    join(buf, len, "chain sent out of order");
  if (!buf[0])
    join(buf, len, "not decided");
}

void report_trust_store(const struct ev_endpoint *ep, char *buf, size_t len) {
  buf[0] = '\0';
  const struct ev_fact *f = ev_first_of(ep, EV_TRUST_STORE);
  if (!f || f->typed.id != EV_TRUST_STORE)
    return;
  const char *name = ev_fact_name(f);
  if (strcmp(name, "system") == 0) {
    snprintf(buf, len, "the system store");
    return;
  }
  /* "file:PATH", "dir:PATH" or "file:PATH,dir:PATH" */
  const char *dir = strstr(name, "dir:");
  if (strncmp(name, "file:", 5) == 0) {
    int n = dir ? (int)(dir - 1 - (name + 5)) : (int)strlen(name + 5);
    snprintf(buf, len, "--ca-file %.*s%s%s", n < 0 ? 0 : n, name + 5, dir ? " --ca-path " : "",
             dir ? dir + 4 : "");
  } else if (dir) {
    snprintf(buf, len, "--ca-path %s", dir + 4);
  } else {
    snprintf(buf, len, "%s", name);
  }
}

void report_ocsp_words(const struct ev_endpoint *ep, char *buf, size_t len) {
  const struct ev_fact *stapled = ev_find_id(ep, EV_OCSP_STAPLED, NULL);
  const struct ev_fact *good = ev_find_id(ep, EV_OCSP_GOOD, NULL);
  const struct ev_fact *revoked = ev_find_id(ep, EV_OCSP_REVOKED, NULL);
  if (!stapled) {
    snprintf(buf, len, "none seen");
    return;
  }
  char status[64] = "";
  if (good)
    join(status, sizeof status, "good");
  if (revoked)
    join(status, sizeof status, "REVOKED");
  snprintf(buf, len, "stapled in %llu handshake%s%s%s%s", (unsigned long long)stapled->count,
           stapled->count == 1 ? "" : "s", status[0] ? " (" : "", status, status[0] ? ")" : "");
}

/* A chain field as a JSON string (made valid UTF-8: evidence files are
 * read as given). */
static void add_text(cJSON *o, const char *key, const char *value) {
  if (value)
    report_add_wire_string(o, key, (const uint8_t *)value, strlen(value));
}

/* "a, b (+N more)" as ["a", "b"] and N in "san_not_kept". */
static void add_san(cJSON *o, const char *san) {
  cJSON *list = cJSON_AddArrayToObject(o, "san");
  const char *p = san;
  while (list && p && *p) {
    const char *end = strstr(p, ", ");
    size_t n = end ? (size_t)(end - p) : strlen(p);
    unsigned long more;
    char tail;
    if (sscanf(p, "(+%lu more%c", &more, &tail) == 2 && tail == ')') {
      cJSON_AddItemToObject(o, "san_not_kept", report_count_item(more));
    } else {
      const char *more_at = memchr(p, '(', n); /* "name (+N more)" */
      size_t name_len =
          more_at && more_at > p && more_at[-1] == ' ' ? (size_t)(more_at - 1 - p) : n;
      report_add_wire_item(list, (const uint8_t *)p, name_len);
      if (name_len < n && sscanf(more_at, "(+%lu more%c", &more, &tail) == 2 && tail == ')')
        cJSON_AddItemToObject(o, "san_not_kept", report_count_item(more));
    }
    p = end ? end + 2 : NULL;
  }
}

cJSON *report_cert_json(const struct report_cert *c) {
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  add_text(o, "sha256", c->sha256);
  add_text(o, "subject", c->subject);
  if (c->san)
    add_san(o, c->san);
  add_text(o, "issuer", c->issuer);
  const char *dots = c->valid ? strstr(c->valid, "..") : NULL;
  if (dots) {
    char before[EV_KEY_MAX];
    snprintf(before, sizeof before, "%.*s", (int)(dots - c->valid), c->valid);
    add_text(o, "not_before", before);
    add_text(o, "not_after", dots + 2);
  }
  add_text(o, "key", c->key);
  add_text(o, "signature", c->sig);
  add_text(o, "unreadable", c->unreadable);
  return o;
}
