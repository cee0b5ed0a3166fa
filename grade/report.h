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
/* A count as cJSON prints it as a number, made without its printf and
 * sscanf round trip (some 3,000 instructions) below 10^15, where that text
 * is the decimal digits. */
cJSON *report_count_item(uint64_t v);
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
/* The same as a JSON member `key` of o, sanitised as a wire string
 * (nothing when out of memory). */
void report_add_sample(cJSON *o, const char *key, const struct ev_sample *s);
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

/* How far a letter can be relied on.  The trust checks need the
 * certificate and a trust store: when the letter is not T and the chain's
 * trust was not decided ("untrusted" unknown), the letter is shown marked,
 * never plain: '*' the certificate was not seen (TLS 1.3 without a key
 * log), '?' it was seen but its chain not verified (no trust store).  A
 * T is decided whatever else is unknown; "-" (not graded) has no mark. */
struct report_confidence {
  bool certificate_seen; /* a leaf certificate is in the evidence */
  bool trust_decided;    /* the letter is T, or the chain was verified (pass or fail) */
  char mark;             /* '*', '?' or '\0' */
  char display[5];       /* the letter and its mark: "A+*", "B?", "T" */
  const char *note;      /* what the mark means (a footnote), NULL without one */
};
void report_confidence(const struct grade_result *r, struct report_confidence *c);

/* The failed checks as the summaries list them: first the one that decides
 * the letter (the trust check of a T, the name check of an M, the cap equal
 * to the letter, the warning of an A-), then those that lower the grade by
 * the weight of their effect (cap F, T, M, caps E..B, warning, no A+),
 * more severe first, then the informational ones (pq_kex and ech are said
 * beside the letter instead: report_beyond_letter).  Returns how many were
 * written to out (GRADE_MAX_CHECKS entries); *affecting: how many of them,
 * from the first, change the grade. */
size_t report_findings(const struct grade_result *r, const struct check_result **out,
                       size_t *affecting);

/* A certificate of a chain as sent (fact_table.h SENT_CERT): its fields,
 * each NULL when the evidence lacks it; they point into fact keys. */
struct report_cert {
  const char *sha256, *subject, *san, *issuer, *valid, *key, *sig, *unreadable;
};
/* A chain as sent (SENT_CHAIN): its sightings and sample, its length as
 * sent and the certificates the evidence kept (the first EV_SENT_CERTS). */
struct report_chain {
  const struct ev_fact *seen;
  char id[EV_SENT_ID_LEN + 1];
  uint64_t length;
  size_t n_certs; /* certs[0..n_certs) in the order sent */
  struct report_cert certs[EV_SENT_CERTS];
};
/* ep's chains as sent, most seen first (ties: by ID), at most
 * EV_SENT_CHAINS; returns how many were written. */
size_t report_chains(const struct ev_endpoint *ep, struct report_chain out[EV_SENT_CHAINS]);
/* The trust verdicts ep's evidence holds, in words joined by "; "
 * ("trusted", "untrusted: REASON", ..., "not decided" when none). */
void report_trust_words(const struct ev_endpoint *ep, char *buf, size_t len);
/* The store that decided them: "--ca-file PATH", "--ca-path DIR", "the
 * system store", or "" when the evidence does not say. */
void report_trust_store(const struct ev_endpoint *ep, char *buf, size_t len);
/* The OCSP staple in words: "stapled (good) in N handshakes", ... */
void report_ocsp_words(const struct ev_endpoint *ep, char *buf, size_t len);

/* The file every fact of family id (EV_VERSION, EV_SUITE) of ep was
 * first seen in, NULL when they were not all first seen in one: the
 * tables of what was seen name it once, then only frames. */
const char *report_seen_file(const struct ev_endpoint *ep, enum ev_fact_id id);
/* What an undecided check waits for, in the words of its group: the
 * checks that need a kind of traffic share one line (text) or row (HTML),
 * whatever their own reasons say; any other reason is its own group. */
const char *report_unknown_group(const struct check_result *c);

/* HTML blocks of a server's section (report_html_detail.c): the chains
 * as sent with the trust verdict, its store and the OCSP staple; the
 * values of family id seen (EV_VERSION, EV_SUITE) with their handshake
 * counts and earliest frames, under "TITLE seen", the values' column
 * headed COLUMN. */
void report_html_certificate(FILE *out, const struct ev_endpoint *ep);
void report_html_seen(FILE *out, const struct ev_endpoint *ep, enum ev_fact_id id,
                      const char *title, const char *column);

/* JSON: a certificate of a chain as sent (report_chains), its fields
 * made valid UTF-8 ("certificate_chains" in report_json.c). */
cJSON *report_cert_json(const struct report_cert *c);

/* The client inventory in text (report_clients.c), from one view built
 * for the whole report, text or HTML (NULL: no client seen).  report_clients_text: the
 * counts line, and with detail the first REPORT_CLIENTS_TOP clients, worst
 * first, "+N more"; report_clients_server_text: inside ep's block, the
 * JA4s that connected to it and what each got (at most 5, "+N more"). */
struct report_clients_view;
struct report_clients_view *report_clients_view_open(const struct report_meta *m);
void report_clients_view_close(struct report_clients_view *cv);
void report_clients_text(FILE *out, const struct report_clients_view *cv, bool detail);
void report_clients_server_text(FILE *out, const struct report_clients_view *cv,
                                const struct ev_endpoint *ep);
/* HTML, from the same view: the section of clients, worst first (the
 * first HTML_TOP), and inside ep's section the JA4s that connected to it,
 * each with what it got and its first frame. */
void report_clients_html(FILE *out, const struct report_clients_view *cv);
void report_clients_server_html(FILE *out, const struct report_clients_view *cv,
                                const struct ev_endpoint *ep);

/* "connections without SNI: N, versions V, ...; refused: V (ALERT), ..."
 * of a `-` endpoint, cut to fit len; names from its evidence keys, to be
 * sanitised per format. */
#define REPORT_NO_SNI_LEN 256
void report_no_sni_line(const struct ev_endpoint *ep, char *buf, size_t len);
/* "no-sni" for a fact of address evidence (the server's own connections
 * did not show it: a connection without SNI to its address did), NULL
 * for any other fact. */
const char *report_fact_via(const struct ev_fact *f);

/* "pass", "fail" or "unknown": a check's or a profile item's status as
 * JSON and HTML name it. */
const char *report_status_name(enum check_status s);

/* Terminal: printable ASCII and valid UTF-8 only; control characters and
 * escape sequences from the wire become \xNN. */
void report_term_puts(FILE *out, const char *s);
/* HTML: everything escaped, invalid UTF-8 replaced. */
void report_html_puts(FILE *out, const char *s);
/* A signal asked the report to stop (report_meta.stop). */
bool report_stopped(const struct report_meta *m);

#endif
