/*
 * grade/report_json_doc.c - the JSON report's document (described by
 * grade/report.schema.json): {"tool", "rules", "inputs", "report",
 * "servers": [...], "unverified", "hello_only", "clients", "limits",
 * "stats"}; the servers' elements come from report_json.c, rendered on
 * several threads by report_json_pool.c.
 */
#include "grade/report.h"
#include "grade/report_json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Streamed one server at a time: a day of traffic has thousands of
 * servers, and the whole document as one cJSON tree would cost hundreds of
 * megabytes. */
static void write_item(FILE *out, const char *key, cJSON *item, bool last) {
  char *text = cJSON_Print(item);
  if (text)
    fprintf(out, "  \"%s\": %s%s\n", key, text, last ? "" : ",");
  free(text);
  cJSON_Delete(item);
}

/* Addresses whose handshake messages came without a ClientHello on their
 * connection: listed, never graded. */
static cJSON *unverified_json(const struct report_meta *m) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < m->n_unverified; i++) {
    const struct ev_endpoint *ep = m->unverified[i];
    const struct ev_fact *f = ev_find_id(ep, EV_UNVERIFIED, NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(a, o);
    cJSON_AddStringToObject(o, "ip", ep->ip);
    cJSON_AddNumberToObject(o, "port", ep->port);
    cJSON_AddNumberToObject(o, "connections", f ? (double)f->count : 0);
    if (f)
      report_add_sample(o, "sample", &f->sample);
  }
  return a;
}

/* Servers seen only in ClientHellos, folded (grade.h report_hello_only):
 * {"servers", "connections", "evicted_connections" (when some), "most_seen":
 * [{"host", "ip", "port", "connections", "evicted" (when some), "first", "last",
 * "sample"}]}. */
static cJSON *hello_only_json(const struct report_hello_only *h) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "servers", (double)h->servers);
  cJSON_AddNumberToObject(o, "connections", (double)h->connections);
  if (h->evicted)
    cJSON_AddNumberToObject(o, "evicted_connections", (double)h->evicted);
  cJSON *a = cJSON_AddArrayToObject(o, "most_seen");
  for (size_t i = 0; a && i < h->n_top; i++) {
    const struct ev_endpoint *ep = h->top[i];
    const struct ev_fact *f = ev_find_id(ep, EV_HANDSHAKES, NULL);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(a, e);
    report_add_wire_string(e, "host", (const uint8_t *)ep->host, strlen(ep->host));
    cJSON_AddStringToObject(e, "ip", ep->ip);
    cJSON_AddNumberToObject(e, "port", ep->port);
    cJSON_AddNumberToObject(e, "connections", f ? (double)f->count : 0);
    const struct ev_fact *evicted = ev_find_id(ep, EV_EVICTED_UNANSWERED, NULL);
    if (evicted)
      cJSON_AddNumberToObject(e, "evicted", (double)evicted->count);
    if (!f)
      continue;
    char when[CAP_TIME_STRLEN];
    cap_time_str(f->first_ts, when, sizeof(when));
    cJSON_AddStringToObject(e, "first", when);
    cap_time_str(f->last_ts, when, sizeof(when));
    cJSON_AddStringToObject(e, "last", when);
    report_add_sample(e, "sample", &f->sample);
  }
  return o;
}

/* The report's header (grade.h report_meta): {"generated", "first_packet",
 * "last_packet" (when packets were read), "inputs" (how many),
 * "trust_store": {"kind": "ca-file" | "ca-path" | "ca-file+ca-path" |
 * "system" | "none" | "evidence", "ca_file", "ca_path"}, "keylogs": [...],
 * "decryption" (as in stats, with --keylog), "warnings" (how many)}. */
static cJSON *report_header_json(const struct report_meta *m) {
  cJSON *o = cJSON_CreateObject();
  char when[CAP_TIME_STRLEN];
  if (m->generated) {
    cap_time_str(m->generated, when, sizeof when);
    cJSON_AddStringToObject(o, "generated", when);
  }
  const char *period[] = {"first_packet", "last_packet"};
  for (int i = 0; i < 2; i++) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m->stats, period[i]);
    if (cJSON_IsString(t))
      cJSON_AddStringToObject(o, period[i], t->valuestring);
  }
  cJSON_AddNumberToObject(o, "inputs", (double)m->n_inputs);
  cJSON *trust = cJSON_AddObjectToObject(o, "trust_store");
  const char *kind = m->ca_file && m->ca_path ? "ca-file+ca-path"
                     : m->ca_file             ? "ca-file"
                     : m->ca_path             ? "ca-path"
                     : m->trust_loaded        ? "system"
                                              : "none";
  cJSON_AddStringToObject(trust, "kind", m->from_evidence ? "evidence" : kind);
  if (m->from_evidence)
    cJSON_AddStringToObject(trust, "chains_completed_with", kind);
  if (m->ca_file)
    report_add_wire_string(trust, "ca_file", (const uint8_t *)m->ca_file, strlen(m->ca_file));
  if (m->ca_path)
    report_add_wire_string(trust, "ca_path", (const uint8_t *)m->ca_path, strlen(m->ca_path));
  cJSON *keylogs = cJSON_AddArrayToObject(o, "keylogs");
  for (size_t i = 0; keylogs && i < m->n_keylogs; i++)
    report_add_wire_item(keylogs, (const uint8_t *)m->keylogs[i], strlen(m->keylogs[i]));
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(m->stats, "decryption");
  if (d)
    cJSON_AddItemToObject(o, "decryption", cJSON_Duplicate(d, 1));
  cJSON_AddNumberToObject(o, "warnings", (double)m->n_warnings);
  return o;
}

/* The client inventory, rendered into memory on a thread of its own
 * while the servers are rendered, and written after them: written in its
 * turn it was the report's last stretch on one thread (a tenth of a -j 2
 * run's report).  Its text is bounded by the inventory's caps. */
struct clients_text {
  pthread_t thread;
  const struct grade_result *const *r;
  size_t n;
  const struct report_meta *m;
  char *text;
  size_t len;
  bool ok;
};

static void *render_clients(void *arg) {
  struct clients_text *c = arg;
  FILE *f = open_memstream(&c->text, &c->len);
  if (f) {
    report_clients_json(f, c->r, c->n, c->m);
    c->ok = fclose(f) == 0;
  }
  return NULL;
}

void report_json(FILE *out, const struct grade_result *const *r, size_t n,
                 const struct report_meta *m) {
  struct clients_text clients = {.r = r, .n = n, .m = m};
  bool ahead = report_json_threads(m->jobs, n) > 1 &&
               pthread_create(&clients.thread, NULL, render_clients, &clients) == 0;
  fputs("{\n", out);
  write_item(out, "tool", cJSON_CreateString("tlsgrade " TLSGRADE_VERSION), false);
  write_item(out, "rules", cJSON_CreateString("SSL Labs rating guide 2009r, passive"), false);
  cJSON *inputs = cJSON_CreateArray();
  for (size_t i = 0; i < m->n_inputs; i++) {
    report_add_wire_item(inputs, (const uint8_t *)m->inputs[i], strlen(m->inputs[i]));
  }
  write_item(out, "inputs", inputs, false);
  write_item(out, "report", report_header_json(m), false);
  fputs("  \"servers\": [\n", out);
  report_json_servers(out, r, n, m->jobs, m->stop);
  if (ahead)
    pthread_join(clients.thread, NULL);
  if (report_stopped(m)) {
    free(clients.text);
    return;
  }
  fputs("  ],\n", out);
  if (m->n_unverified)
    write_item(out, "unverified", unverified_json(m), false);
  cJSON *warnings = m->n_warnings ? cJSON_CreateArray() : NULL; /* as on stderr */
  for (size_t i = 0; i < m->n_warnings; i++)
    report_add_wire_item(warnings, (const uint8_t *)m->warnings[i], strlen(m->warnings[i]));
  if (warnings)
    write_item(out, "warnings", warnings, false);
  if (m->hello_only)
    write_item(out, "hello_only", hello_only_json(m->hello_only), false);
  if (ahead && clients.ok)
    fwrite(clients.text, 1, clients.len, out);
  else /* one thread, or no memory for the text */
    report_clients_json(out, r, n, m);
  free(clients.text);
  write_item(out, "limits", m->limits ? cJSON_Duplicate(m->limits, 1) : cJSON_CreateObject(),
             false);
  write_item(out, "stats", m->stats ? cJSON_Duplicate(m->stats, 1) : cJSON_CreateObject(), true);
  fputs("}\n", out);
}
