/*
 * grade/report_json.h - the JSON report's parts (private to grade/):
 * report_json.c says what a server's element holds and renders it, from
 * parts printed by report_json_part.c (the profiles' by
 * report_json_profiles.c); report_json_pool.c renders the servers on
 * several threads and writes them in order.
 */
#ifndef TLSGRADE_GRADE_REPORT_JSON_H
#define TLSGRADE_GRADE_REPORT_JSON_H

#include "grade/report.h"

#include <string.h>

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

/* ---- a renderer's scratch (report_json.c and report_json_part.c) ---- */

/* The deepest part: server > "profiles" > profile > "items" > item >
 * "evidence" > fact. */
#define NEST 6

/* An evidence object of the current server, printed once per form. */
struct fact_text {
  const struct ev_fact *fact;
  bool bare;        /* fact, count and sample only */
  const char *text; /* in json_out.chunks */
};

/* Texts of the current server, which raw items point to: chunks that
 * never move, emptied (not freed) between servers. */
struct chunk {
  struct chunk *next;
  size_t size, used;
  char data[];
};
#define CHUNK_SIZE (64 * 1024)

/* An object of some members at some depth, printed once by cJSON with a
 * mark for each member's value: its text is the pieces around the values.
 * A fact object is one, and so is a server's element. */
#define OBJ_MAX_MEMBERS 32
struct obj_tmpl {
  int depth;
  size_t n;                         /* members */
  const char *key[OBJ_MAX_MEMBERS]; /* their keys, told apart by address */
  char *text;                       /* the pieces, each ended by a NUL where a mark was */
  const char *piece[OBJ_MAX_MEMBERS + 1];
  size_t len[OBJ_MAX_MEMBERS + 1];
  struct obj_tmpl *next;
};

struct shell; /* report_json.c's */

/* A certificate printed as it lands in a chain, kept from server to
 * server: by the hash of its fields, the last one printed. */
#define REPORT_JSON_CERTS 256
struct cert_text {
  char *fields; /* what it was printed from (report_json.c) */
  size_t len;
  char *text;
};

/* Scratch of one renderer: reused across servers, freed at the end. */
struct json_out {
  cJSON *nest[NEST];                         /* nest[i] holds nest[i + 1] */
  struct shell *shells[GRADE_MAX_CHECKS][2]; /* per check index; [1]: caps */
  struct json_profile_shells *profiles;      /* report_json_profiles.c's */
  struct obj_tmpl *tmpls;                    /* objects by depth and members */
  struct cert_text certs[REPORT_JSON_CERTS];
  /* How cJSON prints an array of raw items: the text before the first,
   * between two, and after the last (json_out_init asks it). */
  char arr_open[8], arr_sep[8], arr_close[8];
  size_t open_len, sep_len, close_len;
  struct fact_text *facts; /* this server's evidence */
  size_t n_facts, cap_facts;
  struct chunk *chunks, *cur;
  char *buf; /* what cJSON prints into */
  size_t buf_size;
  char *file, *file_clean; /* the last sample file, raw and sanitised */
  bool file_replaced;
  char *sample; /* file_clean ":" frame */
  size_t sample_prefix, sample_cap;
  struct {
    cap_time_us ts;
    char text[CAP_TIME_STRLEN];
  } times[4]; /* the last packet times formatted, round robin */
  unsigned n_times;
  bool failed; /* out of memory: the current server is left out */
};

/* report_json_part.c: the printing half of json_out, made and freed; the
 * current server's texts let go (chunks, facts, the out-of-memory flag). */
bool report_json_parts_init(struct json_out *j);
void report_json_parts_free(struct json_out *j);
void report_json_parts_done(struct json_out *j);
/* item printed (formatted) into j->buf; false when out of memory. */
bool report_json_print(struct json_out *j, cJSON *item);
/* Two texts alike (the same pointer, or both there and equal): what
 * tells a template's variants apart. */
static inline bool same_str(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}
/* A raw node that points to text (no copy). */
cJSON *report_json_raw_node(const char *text);
/* "file:frame" of s, sanitised (*replaced: bytes were), in j's buffer
 * until the next call. */
const char *report_json_sample(struct json_out *j, const struct ev_sample *s, bool *replaced);
/* f's object with "value" (a listing's), `depth` deep, kept. */
const char *report_json_fact_value(struct json_out *j, const struct ev_fact *f, const char *value,
                                   int depth);

/* ---- parts printed once and spliced in (report_json_part.c) ----
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
/* An object's depth when it is printed unformatted (the client inventory). */
#define REPORT_JSON_FLAT (-1)

/* The members of an object being made, in order: keys (literals, told
 * apart by address) and their values' texts as cJSON prints each value
 * where it lands.  Each report_json_member* adds one (a NULL value, out
 * of memory, is noted in j->failed). */
struct json_members {
  const char *key[OBJ_MAX_MEMBERS], *val[OBJ_MAX_MEMBERS];
  size_t len[OBJ_MAX_MEMBERS], n;
  bool quoted[OBJ_MAX_MEMBERS]; /* val is a plain string, borrowed: quoted when printed */
};
void report_json_member(struct json_out *j, struct json_members *m, const char *key,
                        const char *val, size_t len);
/* raw JSON, kept or a literal */
void report_json_member_raw(struct json_out *j, struct json_members *m, const char *key,
                            const char *val);
void report_json_member_string(struct json_out *j, struct json_members *m, const char *key,
                               const char *s);
void report_json_member_bool(struct json_out *j, struct json_members *m, const char *key, bool b);
/* a count or a score */
void report_json_member_uint(struct json_out *j, struct json_members *m, const char *key,
                             uint64_t v);
/* an array of raw texts (each printed where it lands), formatted or flat */
void report_json_member_array(struct json_out *j, struct json_members *m, const char *key,
                              const char *const *texts, size_t n, bool flat);
/* A wire string, as report_add_wire_string adds it: sanitised, and
 * bad_key (KEY_invalid_utf8) true when bytes were replaced. */
void report_json_member_wire(struct json_out *j, struct json_members *m, const char *key,
                             const char *bad_key, const char *s);
/* The object of m's members, `depth` deep, from a template printed once
 * per list of keys (report_json_part.c): kept until the server is
 * written, or (into_buf) in j->buf.  NULL when out of memory, now or
 * before. */
const char *report_json_members(struct json_out *j, const struct json_members *m, int depth,
                                bool into_buf);

/* s as cJSON prints a string (NULL as a node without text: ""), kept;
 * *len its length.  NULL when out of memory. */
const char *report_json_string(struct json_out *j, const char *s, size_t *len);
/* A copy of text[0..n), kept until the server is written (NULL: out of
 * memory, noted). */
const char *report_json_keep(struct json_out *j, const char *text, size_t n);
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
 * (report_json_profiles.c), kept until the server is written; NULL when
 * out of memory. */
const char *report_json_profiles(struct json_out *j, const struct grade_result *r);
void report_json_profiles_free(struct json_profile_shells *p);

/* How many of s's n bytes, from the start, cJSON prints as they are: not
 * a control, '"' or '\\' (the rest of a string is printed by cJSON). */
size_t report_json_plain_run(const char *s, size_t n);

/* The threads a report of n servers is rendered on, given `jobs`: one
 * for a small report (a thread costs more than it saves). */
unsigned report_json_threads(unsigned jobs, size_t n);

/* The elements of the "servers" array, r[0..n) in order, rendered on up
 * to report_json_threads(jobs, n) threads (this one included). */
void report_json_servers(FILE *out, const struct grade_result *const *r, size_t n, unsigned jobs,
                         const volatile sig_atomic_t *stop);

#endif
