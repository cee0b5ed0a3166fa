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

/* ---- parts printed once and spliced in (report_json.c) ----
 * cJSON prints a raw node verbatim: a part printed as deep as it lands
 * (its nesting depth in the server's element) reads as if cJSON had
 * printed it in place. */

/* Where a template's inner part goes: a control byte, which cJSON never
 * prints unescaped inside a string. */
#define REPORT_JSON_MARK "\x01"

/* An object printed once with a mark where an array goes. */
struct json_tmpl {
  char *before, *after; /* the text around the mark */
  size_t before_len, after_len;
  char *empty; /* the object with an empty array there */
};

/* o (holding a raw REPORT_JSON_MARK node) printed `depth` deep into t;
 * false when out of memory.  The caller still owns o. */
bool report_json_tmpl(struct json_out *j, cJSON *o, int depth, struct json_tmpl *t);
void report_json_tmpl_free(struct json_tmpl *t);
/* t around inner (NULL: the empty array), kept until the server is
 * written. */
const char *report_json_fill(struct json_out *j, const struct json_tmpl *t, const char *inner);
/* A raw node that points to text (NULL: out of memory, noted). */
cJSON *report_json_raw(struct json_out *j, const char *text);
/* item printed `depth` deep, kept until the server is written. */
const char *report_json_part(struct json_out *j, cJSON *item, int depth);
/* The array of the texts (raw JSON) as one text; NULL when n is 0. */
const char *report_json_array(struct json_out *j, const char *const *texts, size_t n);
/* f's evidence object `depth` deep, printed once per server and form
 * (bare: fact, count and sample only). */
const char *report_json_fact(struct json_out *j, const struct ev_fact *f, int depth, bool bare);
/* The profiles' parts of a renderer (report_json_profiles.c). */
struct json_profile_shells **report_json_profile_shells(struct json_out *j);

/* Server r's "profiles" array (r graded), spliced from parts printed once
 * (report_json_profiles.c); the parts are freed with the scratch. */
cJSON *report_json_profiles(struct json_out *j, const struct grade_result *r);
void report_json_profiles_free(struct json_profile_shells *p);

/* The elements of the "servers" array, r[0..n) in order, rendered on up
 * to `jobs` threads (this one included). */
void report_json_servers(FILE *out, const struct grade_result *const *r, size_t n, unsigned jobs,
                         const volatile sig_atomic_t *stop);

#endif
