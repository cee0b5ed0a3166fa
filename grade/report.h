/*
 * grade/report.h - what the report formats share (private to grade/).
 */
#ifndef TLSGRADE_GRADE_REPORT_H
#define TLSGRADE_GRADE_REPORT_H

#include "grade/grade.h"

/* Decimal digits of v and a NUL into p (REPORT_UINT_LEN bytes), as
 * printf's %llu writes them; returns the number of digits. */
#define REPORT_UINT_LEN 21
size_t report_uint(char *p, uint64_t v);
/* The same, written to out. */
void report_put_uint(FILE *out, uint64_t v);
/* An integer as a JSON number (hs_json.c). */
cJSON *report_int_item(long long v);
/* The connection's first message seen: what a per-connection record is
 * dated and numbered by (hs_json.c). */
const struct tls_at *report_first_fact(const struct tls_session *s);
/* "192.0.2.1:443" or "[2001:db8::1]:443" (struct report_conn's endpoints)
 * as the address without brackets and the port (hs_zeek.c). */
void report_split_endpoint(const char *ep, char host[CAP_ENDPOINT_STRLEN], long *port);
/* The ECS release whose field reference the ECS documents follow. */
#define REPORT_ECS_VERSION "8.11.0"
/* @timestamp, ecs.version, event.kind/category/type/module and observer:
 * what every ECS document of tlsgrade starts with (hs_ecs.c). */
void report_ecs_base(cJSON *o, cap_time_us ts, const char *kind, const char *category,
                     const char *type);
/* "file:frame" (malloc'd, raw: sanitise per format). */
char *report_sample(const struct ev_sample *s);
/* The failed checks that carry a recommendation, most severe first;
 * returns how many were written to out (GRADE_MAX_CHECKS entries). */
size_t report_recommendations(const struct grade_result *r, const struct check_result **out);

/* The notices of ep: one per kind of protocol violation and per alert
 * that aborted handshakes (fact_table.h VIOLATION, ABORTED), in key order;
 * returns how many were written to out (at most max). */
#define REPORT_MAX_NOTICES 16
size_t report_notices(const struct ev_endpoint *ep, const struct ev_fact **out, size_t max);
/* What a notice says before its name: "protocol violation, not evidence",
 * ... */
const char *report_notice_kind(const struct ev_fact *f);
/* A short name of the notice's kind for JSON ("violation", "aborted"). */
const char *report_notice_id(const struct ev_fact *f);

/* Beside the letter (check_table.h pq_kex, ech), for the summaries:
 * "post-quantum: GROUP" (or "refused (OFFERED:CHOSEN)") when pq_kex is
 * decided, "ECH offered in N of M handshakes" when clients offered it,
 * joined by "; "; "" when neither. */
#define REPORT_BEYOND_LEN 160
void report_beyond_letter(const struct grade_result *r, char *buf, size_t len);

/* Connections without SNI (the `-` endpoint of an address, and the
 * address evidence named servers there inherit: address_facts.c).  Is r
 * a `-` endpoint folded under its address (a named server there sent the
 * same certificate, or it saw none)?  Then nothing of its trust or
 * certificate was decided apart from the named servers': text and HTML
 * show no letter for it, only report_no_sni_line; JSON keeps it with
 * "folded_under_address": true. */
bool report_no_sni_folded(const struct grade_result *r);
/* "connections without SNI: N, versions V, ...; refused: V (ALERT), ..."
 * of a `-` endpoint, cut to fit len; names from its evidence keys, to be
 * sanitised per format. */
#define REPORT_NO_SNI_LEN 256
void report_no_sni_line(const struct ev_endpoint *ep, char *buf, size_t len);
/* "no-sni" for a fact of address evidence (the server's own connections
 * did not show it: a connection without SNI to its address did), NULL
 * for any other fact. */
const char *report_fact_via(const struct ev_fact *f);

/* Terminal: printable ASCII and valid UTF-8 only; control characters and
 * escape sequences from the wire become \xNN. */
void report_term_puts(FILE *out, const char *s);
/* HTML: everything escaped, invalid UTF-8 replaced. */
void report_html_puts(FILE *out, const char *s);
/* A signal asked the report to stop (report_meta.stop). */
bool report_stopped(const struct report_meta *m);

#endif
