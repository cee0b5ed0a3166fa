/*
 * grade/evidence_json.c - saved evidence: the store as versioned JSON
 * ({"tlsgrade_evidence": 2, "endpoints": [...], "chains", "clients",
 * "endpoint_cap_hits"}),
 * written one endpoint at a time, and read back with every bound checked.
 */
#include "grade/chains.h"
#include "grade/clients.h"
#include "grade/evidence.h"
#include "grade/facts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fact f, with the sightings of `seen` (f itself, or the chain whose
 * field f is: cert_sent.c notes a field once). */
static cJSON *fact_json(const struct ev_fact *f, const struct ev_fact *seen) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "k", f->key);
  f = seen;
  cJSON_AddNumberToObject(o, "n", (double)f->count);
  if (f->aborted) /* written only when there are some: older files read the same */
    cJSON_AddNumberToObject(o, "aborted", (double)f->aborted);
  cJSON_AddNumberToObject(o, "first_us", (double)f->first_ts);
  cJSON_AddNumberToObject(o, "last_us", (double)f->last_ts);
  if (f->sample.file) {
    cJSON_AddStringToObject(o, "file", f->sample.file);
    cJSON_AddNumberToObject(o, "frame", (double)f->sample.frame);
    cJSON_AddNumberToObject(o, "ts_us", (double)f->sample.ts);
  }
  return o;
}

static cJSON *endpoint_json(const struct ev_endpoint *ep) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "host", ep->host);
  cJSON_AddStringToObject(o, "ip", ep->ip);
  cJSON_AddNumberToObject(o, "port", ep->port);
  cJSON *facts = cJSON_AddArrayToObject(o, "facts");
  size_t n;
  const struct ev_fact **sorted = ev_sorted_facts(ep, &n);
  for (size_t k = 0; sorted && k < n; k++) {
    if (!ev_fact_saved(sorted[k]->typed.id)) /* derived facts are recomputed */
      continue;
    const struct ev_fact *chain = ev_sent_chain_of(ep, sorted[k]);
    cJSON_AddItemToArray(facts, fact_json(sorted[k], chain ? chain : sorted[k]));
  }
  free(sorted);
  return o;
}

cJSON *ev_to_json(const struct ev_store *ev) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddNumberToObject(root, "tlsgrade_evidence", EV_FORMAT_VERSION);
  cJSON *eps = cJSON_AddArrayToObject(root, "endpoints");
  for (size_t i = 0; i < ev_count(ev); i++)
    cJSON_AddItemToArray(eps, endpoint_json(ev_endpoint_at(ev, i)));
  cJSON *chains = ev_chains_to_json(ev->chains);
  if (chains)
    cJSON_AddItemToObject(root, "chains", chains);
  cJSON *clients = ev_clients_to_json(ev->clients);
  if (clients)
    cJSON_AddItemToObject(root, "clients", clients);
  if (ev->cap_hits) /* written only when there are some: older files read the same */
    cJSON_AddNumberToObject(root, "endpoint_cap_hits", (double)ev->cap_hits);
  return root;
}

static bool get_str(const cJSON *o, const char *k, const char **out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  *out = cJSON_IsString(v) ? v->valuestring : NULL;
  return *out != NULL;
}

bool ev_json_num(const cJSON *o, const char *k, double min, double max, double *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max)
    return false;
  *out = v->valuedouble;
  return true;
}

static bool fact_from_json(struct ev_endpoint *ep, const cJSON *f) {
  const char *key, *file = NULL;
  double n, first, last, frame = 0, ts = 0, aborted = 0;
  if (cJSON_GetObjectItemCaseSensitive(f, "aborted") &&
      !ev_json_num(f, "aborted", 0, (double)EV_COUNT_MAX, &aborted))
    return false;
  if (!get_str(f, "k", &key) || strlen(key) >= 256 ||
      !ev_json_num(f, "n", 1, (double)EV_COUNT_MAX, &n) || aborted > n ||
      !ev_json_num(f, "first_us", -EV_JSON_TS_LIMIT, EV_JSON_TS_LIMIT, &first) ||
      !ev_json_num(f, "last_us", -EV_JSON_TS_LIMIT, EV_JSON_TS_LIMIT, &last) || first > last)
    return false;
  struct ev_sample sample = {0};
  if (get_str(f, "file", &file)) {
    if (!ev_json_num(f, "frame", 0, 1e18, &frame) ||
        !ev_json_num(f, "ts_us", -EV_JSON_TS_LIMIT, EV_JSON_TS_LIMIT, &ts))
      return false;
    sample.file = (char *)file;
    sample.frame = (uint64_t)frame;
    sample.ts = (cap_time_us)ts;
  }
  ev_fact_add(ep, key, NULL, (uint64_t)n, (uint64_t)aborted, (cap_time_us)first, (cap_time_us)last,
              &sample);
  return true;
}

bool ev_ip_valid(const char *ip) {
  unsigned char addr[16];
  return inet_pton(AF_INET, ip, addr) == 1 || inet_pton(AF_INET6, ip, addr) == 1;
}

struct ev_store *ev_from_json(const cJSON *root, char *err, size_t errlen) {
  double version;
  const cJSON *eps = cJSON_GetObjectItemCaseSensitive(root, "endpoints");
  if (!ev_json_num(root, "tlsgrade_evidence", 0, 1e9, &version) || !cJSON_IsArray(eps)) {
    snprintf(err, errlen, "not a tlsgrade evidence file");
    return NULL;
  }
  if (version != EV_FORMAT_VERSION) {
    snprintf(err, errlen, "evidence format version %g, this tlsgrade reads %d", version,
             EV_FORMAT_VERSION);
    return NULL;
  }
  double hits = 0;
  if (cJSON_GetObjectItemCaseSensitive(root, "endpoint_cap_hits") &&
      !ev_json_num(root, "endpoint_cap_hits", 0, (double)EV_COUNT_MAX, &hits)) {
    snprintf(err, errlen, "malformed endpoint_cap_hits in the evidence");
    return NULL;
  }
  struct ev_store *ev = ev_store_new();
  if (ev) { /* a file holds what its run's cap let in: the merge applies this run's */
    ev->max_endpoints = SIZE_MAX;
    ev->max_clients = SIZE_MAX;
    ev->cap_hits = (uint64_t)hits;
  }
  const cJSON *e;
  cJSON_ArrayForEach(e, eps) {
    const char *host, *ip;
    double port;
    const cJSON *facts = cJSON_GetObjectItemCaseSensitive(e, "facts");
    struct ev_endpoint *ep = NULL;
    bool at_cap;
    if (get_str(e, "host", &host) && get_str(e, "ip", &ip) && ev_ip_valid(ip) &&
        ev_json_num(e, "port", 0, 65535, &port) && cJSON_IsArray(facts))
      ep = ev ? ev_endpoint_claim(ev, host, ip, (uint16_t)port, false, 1, &at_cap) : NULL;
    const cJSON *f;
    bool ok = ep != NULL;
    cJSON_ArrayForEach(f, facts) {
      ok = ok && fact_from_json(ep, f);
    }
    if (ok && !ep->answered && !ev_hello_only(ep)) { /* its facts say its class */
      ep->answered = true;
      ev->n_hello--;
    }
    if (!ok) {
      snprintf(err, errlen, "malformed endpoint or fact in the evidence");
      ev_store_free(ev);
      return NULL;
    }
  }
  if (ev &&
      (ev_chains_from_json(ev, cJSON_GetObjectItemCaseSensitive(root, "chains"), err, errlen) < 0 ||
       ev_clients_from_json(&ev->clients, cJSON_GetObjectItemCaseSensitive(root, "clients"), err,
                            errlen) < 0)) {
    ev_store_free(ev);
    return NULL;
  }
  return ev;
}

/* item's text, unformatted, after head (NULL: none) to out; item is
 * deleted.  false out of memory or on a write error. */
static bool write_part(FILE *out, const char *head, cJSON *item) {
  char *text = item ? cJSON_PrintUnformatted(item) : NULL;
  bool ok = text && (!head || fputs(head, out) >= 0) && fputs(text, out) >= 0;
  free(text);
  cJSON_Delete(item);
  return ok;
}

/* The bytes of ev_to_json's unformatted text, written one endpoint at a
 * time: the whole tree of a store of 200,000 endpoints would cost more
 * than the store (about 1.7 kB each). */
int ev_write(const struct ev_store *ev, FILE *out) {
  bool ok = write_part(out, "{\"tlsgrade_evidence\":", cJSON_CreateNumber(EV_FORMAT_VERSION)) &&
            fputs(",\"endpoints\":[", out) >= 0;
  for (size_t i = 0; ok && i < ev_count(ev); i++)
    ok = write_part(out, i ? "," : NULL, endpoint_json(ev_endpoint_at(ev, i)));
  ok = ok && fputc(']', out) != EOF;
  cJSON *chains = ev_chains_to_json(ev->chains);
  if (chains)
    ok = write_part(out, ",\"chains\":", chains) && ok;
  cJSON *clients = ev_clients_to_json(ev->clients);
  if (clients)
    ok = write_part(out, ",\"clients\":", clients) && ok;
  if (ev->cap_hits) /* as ev_to_json writes it */
    ok = ok && write_part(out, ",\"endpoint_cap_hits\":", cJSON_CreateNumber((double)ev->cap_hits));
  return ok && fputs("}\n", out) >= 0 ? 0 : -1;
}

struct ev_store *ev_load(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  size_t k;
  while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap) {
      char *b = cap < (1u << 30) ? realloc(buf, cap * 2 + 1) : NULL;
      if (!b) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = b;
      cap *= 2;
    }
  }
  fclose(f);
  if (!buf) {
    snprintf(err, errlen, "%s: too large or out of memory", path);
    return NULL;
  }
  buf[n] = '\0';
  cJSON *j = cJSON_ParseWithLength(buf, n);
  free(buf);
  if (!j) {
    snprintf(err, errlen, "%s: not valid JSON", path);
    return NULL;
  }
  char why[200];
  struct ev_store *ev = ev_from_json(j, why, sizeof(why));
  cJSON_Delete(j);
  if (!ev)
    snprintf(err, errlen, "%s: %s", path, why);
  return ev;
}
