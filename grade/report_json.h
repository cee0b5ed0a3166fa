/*
 * grade/report_json.h - the JSON report's two halves (private to grade/):
 * report_json.c says what a server's element holds and renders it;
 * report_json_pool.c renders the servers on several threads and writes
 * them in order.
 */
#ifndef TLSGRADE_GRADE_REPORT_JSON_H
#define TLSGRADE_GRADE_REPORT_JSON_H

#include "grade/grade.h"

/* A rendered server's text, owned by whoever holds it. */
struct json_text {
  char *s;     /* owned, NULL none */
  size_t len;  /* of the text in s */
  size_t size; /* of the buffer s */
};

/* The scratch one renderer reuses from server to server (one per thread);
 * NULL when out of memory. */
struct json_out;
struct json_out *report_json_scratch_new(void);
void report_json_scratch_free(struct json_out *j);

/* Server r's element as text, in j's buffer until
 * report_json_server_done(j); NULL when out of memory (left out). */
const char *report_json_server(struct json_out *j, const struct grade_result *r);
void report_json_server_done(struct json_out *j);
/* The same as a text the caller owns (j's buffer itself, which takes
 * spare's place when spare is as large: no copy), and done; spare is
 * consumed.  {NULL} when out of memory or j is NULL. */
struct json_text report_json_render(struct json_out *j, const struct grade_result *r,
                                    struct json_text spare);

/* The elements of the "servers" array, r[0..n) in order, rendered on up
 * to `jobs` threads (this one included). */
void report_json_servers(FILE *out, const struct grade_result *const *r, size_t n, unsigned jobs,
                         const volatile sig_atomic_t *stop);

#endif
