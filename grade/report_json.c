/*
 * grade/report_json.c - a server's element of the JSON report (the
 * document around it: report_json_doc.c).  Every check and cap carries
 * its evidence as fact, count, first/last time and one file:frame sample.
 *
 * cJSON builds and prints every part, but what repeats is printed once and
 * spliced in as raw JSON, which cJSON prints verbatim:
 *  - a check or cap object without its evidence is the same for every
 *    server with the same status and reason (a few dozen per report);
 *  - an evidence object is printed once per server, however many checks
 *    and caps cite it.
 * Formatted cJSON indents by nesting depth, so each part is printed as deep
 * as it lands (inside that many empty arrays, which print no whitespace)
 * and the report is byte for byte what one cJSON tree per server prints.
 * This made the report six times cheaper (a thousand servers, 15 MB).
 * report_json_pool.c renders the servers on several threads.
 */
#include "grade/report.h"
#include "grade/report_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The deepest part: server > "profiles" > profile > "items" > item >
 * "evidence" > fact. */
#define NEST 6
#define EVIDENCE_DEPTH 4 /* a fact in a check's or cap's evidence */
#define ENTRY_DEPTH 2    /* a check, a cap, or a fact in "protocols" ... */

/* A check or cap object printed without its evidence (owned by json_out). */
struct shell {
  bool is_cap;
  const char *id, *title, *reason;
  enum check_status status;
  enum check_effect effect;
  char cap;
  struct json_tmpl t;
  struct shell *next; /* the next variant of the same check */
};

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

/* The members of a fact object, in output order.  The nodes are made once
 * and reused for every fact: only the texts they point to change. */
enum fact_member {
  M_FACT,
  M_FACT_BAD,
  M_COUNT,     /* raw digits */
  M_COUNT_BIG, /* 10^15 and more: a cJSON number */
  M_FIRST,
  M_LAST,
  M_SAMPLE,
  M_SAMPLE_BAD,
  M_VALUE,
  M_VIA, /* "no-sni": address evidence (report_fact_via) */
  N_MEMBERS
};

/* A fact object of some members at some depth, printed once with a mark
 * for each member's value: its text is the pieces around the values. */
struct fact_tmpl {
  int depth;
  unsigned mask; /* the members, 1 << enum fact_member */
  char *text;    /* the pieces, each ended by a NUL where a mark was */
  const char *piece[N_MEMBERS + 1];
  size_t len[N_MEMBERS + 1], n_pieces;
  struct fact_tmpl *next;
};

/* Scratch of one renderer: reused across servers, freed at the end. */
struct json_out {
  cJSON *nest[NEST];                         /* nest[i] holds nest[i + 1] */
  struct shell *shells[GRADE_MAX_CHECKS][2]; /* per check index; [1]: caps */
  struct json_profile_shells *profiles;      /* report_json_profiles.c's */
  cJSON *fact, *member[N_MEMBERS];           /* the reused fact object */
  struct fact_tmpl *fact_tmpls;              /* fact objects by depth and members */
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

static const char *effect_name(enum check_effect e) {
  static const char *const names[] = {"info", "cap", "warning", "trust", "name", "no_a_plus"};
  return names[e];
}

static bool same_str(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- cJSON helpers: references instead of copies ---- */

/* A node for raw JSON that points to a text (cJSON has no constructor
 * for one; the type bits are part of its public header). */
static cJSON *raw_node(const char *text) {
  cJSON *item = cJSON_CreateStringReference(text);
  if (item)
    item->type = cJSON_Raw | cJSON_IsReference;
  return item;
}

/* Pre-printed JSON that the tree points to. */
static cJSON *raw_ref(struct json_out *j, const char *text) {
  cJSON *item = text ? raw_node(text) : NULL;
  if (!item)
    j->failed = true;
  return item;
}

cJSON *report_json_raw(struct json_out *j, const char *text) {
  return raw_ref(j, text);
}

/* key is a literal; value outlives the print. */
static void add_ref(struct json_out *j, cJSON *o, const char *key, const char *value) {
  cJSON *item = cJSON_CreateStringReference(value);
  if (!item || !cJSON_AddItemToObjectCS(o, key, item)) {
    cJSON_Delete(item);
    j->failed = true;
  }
}

static void add_item(struct json_out *j, cJSON *o, const char *key, cJSON *item) {
  if (!item || !cJSON_AddItemToObjectCS(o, key, item)) {
    cJSON_Delete(item);
    j->failed = true;
  }
}

static void append(struct json_out *j, cJSON *array, cJSON *item) {
  if (!item || !cJSON_AddItemToArray(array, item)) {
    cJSON_Delete(item);
    j->failed = true;
  }
}

/* A count or a score.  cJSON prints numbers with snprintf("%1.15g") and a
 * sscanf round trip, some 3,000 instructions; below 10^15 that text is the
 * integer's decimal digits, written here directly. */
static void add_uint(struct json_out *j, cJSON *o, const char *key, uint64_t v) {
  char digits[REPORT_UINT_LEN];
  if (v < 1000000000000000ULL) {
    report_uint(digits, v);
    add_item(j, o, key, cJSON_CreateRaw(digits));
  } else {
    add_item(j, o, key, cJSON_CreateNumber((double)v));
  }
}

/* A wire string, as report_add_wire_string adds it; plain ASCII (nothing
 * for the sanitiser to replace) is referenced, not copied. */
static void add_wire(struct json_out *j, cJSON *o, const char *key, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p && *p < 0x80)
    p++;
  if (!*p)
    add_ref(j, o, key, s);
  else
    report_add_wire_string(o, key, (const uint8_t *)s, strlen(s));
}

/* ---- printing parts ---- */

/* item printed (formatted) into j->buf; false when out of memory.  cJSON
 * cannot say how long a text will be: when the buffer is too small, it
 * prints into a fresh allocation and the buffer grows to fit. */
static bool print_buf(struct json_out *j, cJSON *item) {
  if (j->buf && cJSON_PrintPreallocated(item, j->buf, (int)j->buf_size, true))
    return true;
  char *text = cJSON_Print(item);
  size_t n = text ? strlen(text) + 1 : 0;
  if (text && n + n / 2 > j->buf_size && n < (1u << 29)) {
    free(j->buf);
    j->buf_size = n + n / 2;
    if (!(j->buf = malloc(j->buf_size)))
      j->buf_size = 0;
  }
  bool ok = text && n <= j->buf_size;
  if (ok)
    memcpy(j->buf, text, n);
  free(text);
  if (!ok)
    j->failed = true;
  return ok;
}

/* item's text as cJSON prints it `depth` containers deep, in j->buf
 * (*len bytes, terminated).  The caller still owns item. */
static const char *print_at_depth(struct json_out *j, cJSON *item, int depth, size_t *len) {
  cJSON *from = item;
  if (depth > 0) {
    cJSON_AddItemToArray(j->nest[NEST - 1], item);
    from = j->nest[NEST - depth];
  }
  bool ok = print_buf(j, from);
  if (depth > 0)
    cJSON_DetachItemViaPointer(j->nest[NEST - 1], item);
  if (!ok)
    return NULL;
  *len = strlen(j->buf) - 2 * (size_t)depth; /* without the brackets around it */
  j->buf[depth + *len] = '\0';
  return j->buf + depth;
}

/* Room for n bytes of the current server's texts. */
static char *text_space(struct json_out *j, size_t n) {
  if (!j->cur || j->cur->size - j->cur->used < n) {
    /* The chunks after cur are empty: take the first large enough. */
    struct chunk **link = j->cur ? &j->cur->next : &j->chunks;
    while (*link && (*link)->size < n)
      link = &(*link)->next;
    if (!*link) {
      size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
      struct chunk *c = malloc(sizeof(*c) + size);
      if (!c) {
        j->failed = true;
        return NULL;
      }
      c->next = NULL;
      c->size = size;
      c->used = 0;
      *link = c;
    }
    j->cur = *link;
  }
  char *p = j->cur->data + j->cur->used;
  j->cur->used += n;
  return p;
}

/* A copy of text[0..n) among the current server's texts. */
static const char *keep(struct json_out *j, const char *text, size_t n) {
  char *p = text ? text_space(j, n + 1) : NULL;
  if (!p)
    return NULL;
  memcpy(p, text, n);
  p[n] = '\0';
  return p;
}

/* item printed `depth` deep, kept until the server is written. */
const char *report_json_part(struct json_out *j, cJSON *item, int depth) {
  size_t len;
  const char *text = print_at_depth(j, item, depth, &len);
  return keep(j, text, text ? len : 0);
}

static void server_done(struct json_out *j) {
  for (struct chunk *c = j->chunks; c; c = c->next)
    c->used = 0;
  j->cur = NULL;
  j->n_facts = 0;
  j->failed = false;
}

/* ---- facts ---- */

/* "file:frame", sanitised: the file once per run of facts from one file. */
static const char *sample_text(struct json_out *j, const struct ev_sample *s, bool *replaced) {
  if (!j->file || strcmp(j->file, s->file) != 0) {
    free(j->file);
    free(j->file_clean);
    j->file = strdup(s->file);
    j->file_clean = report_utf8((const uint8_t *)s->file, strlen(s->file), &j->file_replaced);
    size_t len = j->file_clean ? strlen(j->file_clean) : 0;
    if (j->file_clean && len + 1 + REPORT_UINT_LEN > j->sample_cap) {
      char *sample = realloc(j->sample, len + 1 + REPORT_UINT_LEN);
      if (sample) {
        j->sample = sample;
        j->sample_cap = len + 1 + REPORT_UINT_LEN;
      }
    }
    if (!j->file || !j->file_clean || len + 1 + REPORT_UINT_LEN > j->sample_cap) {
      free(j->file);
      free(j->file_clean);
      j->file = j->file_clean = NULL;
      return NULL;
    }
    memcpy(j->sample, j->file_clean, len);
    j->sample[len] = ':';
    j->sample_prefix = len + 1;
  }
  report_uint(j->sample + j->sample_prefix, s->frame);
  *replaced = j->file_replaced;
  return j->sample;
}

/* ts formatted into out (CAP_TIME_STRLEN): the facts of a server share a
 * few packet times (19 in 20 are among the last four). */
static void time_text(struct json_out *j, cap_time_us ts, char *out) {
  size_t n = sizeof(j->times) / sizeof(j->times[0]);
  for (size_t i = 0; i < n && i < j->n_times; i++)
    if (j->times[i].ts == ts) {
      memcpy(out, j->times[i].text, CAP_TIME_STRLEN);
      return;
    }
  size_t slot = j->n_times++ % n;
  j->times[slot].ts = ts;
  cap_time_str(ts, j->times[slot].text, CAP_TIME_STRLEN);
  memcpy(out, j->times[slot].text, CAP_TIME_STRLEN);
}

/* A string member's text (the node is a reference). */
static void set_text(cJSON *member, const char *text) {
  member->valuestring = (char *)text;
}

static const char *const MEMBER_KEYS[N_MEMBERS] = {
    "fact",   "fact_invalid_utf8",   "count", "count", "first", "last",
    "sample", "sample_invalid_utf8", "value", "via"};

/* The template of a fact object of the members in use, `depth` deep. */
static const struct fact_tmpl *fact_tmpl_of(struct json_out *j, const bool use[N_MEMBERS],
                                            int depth) {
  unsigned mask = 0;
  for (int m = 0; m < N_MEMBERS; m++)
    mask |= use[m] ? 1u << m : 0;
  for (const struct fact_tmpl *t = j->fact_tmpls; t; t = t->next)
    if (t->mask == mask && t->depth == depth)
      return t;
  struct fact_tmpl *t = calloc(1, sizeof(*t));
  cJSON *o = cJSON_CreateObject();
  bool ok = t && o;
  for (int m = 0; ok && m < N_MEMBERS; m++)
    if (use[m]) {
      cJSON *mark = raw_node(REPORT_JSON_MARK);
      ok = mark && cJSON_AddItemToObjectCS(o, MEMBER_KEYS[m], mark);
      if (!ok)
        cJSON_Delete(mark);
    }
  size_t len;
  const char *text = ok ? print_at_depth(j, o, depth, &len) : NULL;
  cJSON_Delete(o);
  if (!text || !(t->text = strdup(text))) {
    free(t);
    j->failed = true;
    return NULL;
  }
  t->depth = depth;
  t->mask = mask;
  char *p = t->text;
  for (;;) { /* one piece before each mark, and the last */
    char *at = strchr(p, REPORT_JSON_MARK[0]);
    t->piece[t->n_pieces] = p;
    t->len[t->n_pieces] = at ? (size_t)(at - p) : strlen(p);
    t->n_pieces++;
    if (!at || t->n_pieces > N_MEMBERS)
      break;
    *at = '\0';
    p = at + 1;
  }
  t->next = j->fact_tmpls;
  j->fact_tmpls = t;
  return t;
}

/* s as cJSON prints a string: quoted as it is when nothing in it needs
 * escaping (cJSON escapes only controls, '"' and '\\'), else printed by
 * cJSON; *len its length. */
static const char *json_string(struct json_out *j, const char *s, size_t *len) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p >= 0x20 && *p != '"' && *p != '\\')
    p++;
  size_t n = (size_t)(p - (const unsigned char *)s);
  if (!*p) {
    char *out = text_space(j, n + 3);
    if (out) {
      out[0] = '"';
      memcpy(out + 1, s, n);
      memcpy(out + 1 + n, "\"", 2);
      *len = n + 2;
    }
    return out;
  }
  cJSON *node = cJSON_CreateStringReference(s);
  const char *text = node ? report_json_part(j, node, 0) : NULL;
  cJSON_Delete(node);
  if (text)
    *len = strlen(text);
  return text;
}

/* The fact object whose members' nodes are set (use[m]), `depth` deep,
 * from its template: the members' values spliced in. */
static const char *fact_filled(struct json_out *j, const bool use[N_MEMBERS], int depth) {
  const struct fact_tmpl *t = fact_tmpl_of(j, use, depth);
  if (!t)
    return NULL;
  const char *val[N_MEMBERS];
  size_t len[N_MEMBERS], n = 0, total = 1;
  for (int m = 0; m < N_MEMBERS; m++) {
    if (!use[m])
      continue;
    if (m == M_FACT_BAD || m == M_SAMPLE_BAD) {
      val[n] = "true";
      len[n] = 4;
    } else if (m == M_COUNT) { /* raw digits */
      val[n] = j->member[m]->valuestring;
      len[n] = strlen(val[n]);
    } else if (!(val[n] = json_string(j, j->member[m]->valuestring, &len[n]))) {
      return NULL;
    }
    total += len[n++];
  }
  if (n + 1 != t->n_pieces)
    return NULL;
  for (size_t i = 0; i < t->n_pieces; i++)
    total += t->len[i];
  char *text = text_space(j, total), *p = text;
  if (!text)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    memcpy(p, t->piece[i], t->len[i]);
    p += t->len[i];
    memcpy(p, val[i], len[i]);
    p += len[i];
  }
  memcpy(p, t->piece[n], t->len[n]);
  p[t->len[n]] = '\0';
  return text;
}

/* A fact as an object: fact, count, first, last, sample, and with a
 * value (not NULL) also "value"; bare: fact, count and sample only (a
 * profile item's evidence), the sample always. */
static const char *fact_text(struct json_out *j, const struct ev_fact *f, const char *value,
                             int depth, bool bare) {
  bool use[N_MEMBERS] = {false};
  char count[REPORT_UINT_LEN], first[CAP_TIME_STRLEN], last[CAP_TIME_STRLEN];
  char *fact_clean = NULL;
  const unsigned char *p = (const unsigned char *)f->key;
  while (*p && *p < 0x80)
    p++;
  if (*p) { /* not plain ASCII: sanitised as report_add_wire_string does */
    fact_clean = report_utf8((const uint8_t *)f->key, strlen(f->key), &use[M_FACT_BAD]);
    if (!fact_clean) {
      j->failed = true;
      return NULL;
    }
  }
  set_text(j->member[M_FACT], fact_clean ? fact_clean : f->key);
  use[M_FACT] = true;
  if (f->count < 1000000000000000ULL) { /* see add_uint */
    report_uint(count, f->count);
    set_text(j->member[M_COUNT], count);
    use[M_COUNT] = true;
  } else {
    cJSON_SetNumberValue(j->member[M_COUNT_BIG], (double)f->count);
    use[M_COUNT_BIG] = true;
  }
  if (!bare) {
    time_text(j, f->first_ts, first);
    set_text(j->member[M_FIRST], first);
    time_text(j, f->last_ts, last);
    set_text(j->member[M_LAST], last);
    use[M_FIRST] = use[M_LAST] = true;
  }
  char no_file[1 + REPORT_UINT_LEN];
  const char *where = f->sample.file ? sample_text(j, &f->sample, &use[M_SAMPLE_BAD]) : NULL;
  if (!f->sample.file && bare) { /* as report_sample writes it */
    no_file[0] = ':';
    report_uint(no_file + 1, f->sample.frame);
    where = no_file;
  }
  if (where) {
    set_text(j->member[M_SAMPLE], where);
    use[M_SAMPLE] = true;
  }
  if (value) {
    set_text(j->member[M_VALUE], value);
    use[M_VALUE] = true;
  }
  if (!bare && report_fact_via(f)) {
    set_text(j->member[M_VIA], report_fact_via(f));
    use[M_VIA] = true;
  }
  const char *text = use[M_COUNT_BIG] ? NULL : fact_filled(j, use, depth);
  if (!text && !j->failed) { /* a count cJSON prints as a double: the object printed */
    for (int m = 0; m < N_MEMBERS; m++)
      if (use[m])
        cJSON_AddItemToObjectCS(j->fact, MEMBER_KEYS[m], j->member[m]);
    text = report_json_part(j, j->fact, depth);
    for (int m = 0; m < N_MEMBERS; m++)
      if (use[m])
        cJSON_DetachItemViaPointer(j->fact, j->member[m]);
  }
  free(fact_clean);
  return text;
}

const char *report_json_fact(struct json_out *j, const struct ev_fact *f, int depth, bool bare) {
  for (size_t i = 0; i < j->n_facts; i++)
    if (j->facts[i].fact == f && j->facts[i].bare == bare)
      return j->facts[i].text;
  if (j->n_facts == j->cap_facts) {
    size_t cap = j->cap_facts ? j->cap_facts * 2 : 32;
    struct fact_text *facts = realloc(j->facts, cap * sizeof(*facts));
    if (!facts) {
      j->failed = true;
      return NULL;
    }
    j->facts = facts;
    j->cap_facts = cap;
  }
  const char *text = fact_text(j, f, NULL, depth, bare);
  if (text)
    j->facts[j->n_facts++] = (struct fact_text){f, bare, text};
  return text;
}

/* A check's "evidence" array; NULL when empty (or out of memory). */
static const char *evidence_text(struct json_out *j, const struct check_result *c) {
  const char *cited[4];
  size_t n = c->n_evidence < 4 ? c->n_evidence : 4;
  for (size_t i = 0; i < n; i++)
    if (!(cited[i] = report_json_fact(j, c->evidence[i], EVIDENCE_DEPTH, false)))
      return NULL;
  return report_json_array(j, cited, n);
}

/* ---- checks and caps ---- */

static cJSON *check_object(const struct check_result *c, cJSON *evidence) {
  cJSON *o = cJSON_CreateObject();
  if (!o) {
    cJSON_Delete(evidence);
    return NULL;
  }
  cJSON_AddStringToObject(o, "id", c->id);
  cJSON_AddStringToObject(o, "title", c->title);
  cJSON_AddStringToObject(o, "status", report_status_name(c->status));
  cJSON_AddStringToObject(o, "effect", effect_name(c->effect));
  if (c->effect == EFFECT_CAP) {
    char cap[2] = {c->cap, 0};
    cJSON_AddStringToObject(o, "cap", cap);
  }
  if (c->reason)
    cJSON_AddStringToObject(o, "reason", c->reason);
  cJSON_AddItemToObject(o, "evidence", evidence);
  return o;
}

static const char *cap_reason(const struct check_result *c) {
  return c->reason ? c->reason : c->title;
}

static cJSON *cap_object(const struct check_result *c, cJSON *evidence) {
  cJSON *cap = cJSON_CreateObject();
  if (!cap) {
    cJSON_Delete(evidence);
    return NULL;
  }
  char letter[2] = {c->cap, 0};
  cJSON_AddStringToObject(cap, "id", c->id);
  cJSON_AddStringToObject(cap, "grade", letter);
  cJSON_AddStringToObject(cap, "reason", cap_reason(c));
  cJSON_AddItemToObject(cap, "evidence", evidence);
  return cap;
}

static bool shell_fits(const struct shell *sh, const struct check_result *c) {
  if (sh->is_cap)
    return same_str(sh->id, c->id) && sh->cap == c->cap && same_str(sh->reason, cap_reason(c));
  return same_str(sh->id, c->id) && same_str(sh->title, c->title) && sh->status == c->status &&
         sh->effect == c->effect && sh->cap == c->cap && same_str(sh->reason, c->reason);
}

void report_json_tmpl_free(struct json_tmpl *t) {
  free(t->before);
  free(t->after);
  free(t->empty);
  memset(t, 0, sizeof(*t));
}

bool report_json_tmpl(struct json_out *j, cJSON *o, int depth, struct json_tmpl *t) {
  memset(t, 0, sizeof(*t));
  cJSON *empty = cJSON_CreateArray();
  size_t len, empty_len;
  const char *text = o ? print_at_depth(j, o, depth, &len) : NULL;
  const char *at = text ? strstr(text, REPORT_JSON_MARK) : NULL;
  if (at) {
    t->before_len = (size_t)(at - text);
    t->after_len = len - t->before_len - 1;
    t->before = strndup(text, t->before_len);
    t->after = strdup(at + 1);
  }
  const char *empty_text = at && empty ? print_at_depth(j, empty, 0, &empty_len) : NULL;
  if (empty_text && t->before && t->after &&
      (t->empty = malloc(t->before_len + empty_len + t->after_len + 1))) {
    memcpy(t->empty, t->before, t->before_len);
    memcpy(t->empty + t->before_len, empty_text, empty_len);
    memcpy(t->empty + t->before_len + empty_len, t->after, t->after_len + 1);
  }
  cJSON_Delete(empty);
  if (!t->empty) {
    report_json_tmpl_free(t);
    j->failed = true;
    return false;
  }
  return true;
}

const char *report_json_fill(struct json_out *j, const struct json_tmpl *t, const char *inner) {
  if (!t || !t->empty) {
    j->failed = true;
    return NULL;
  }
  if (!inner)
    return t->empty;
  size_t n = strlen(inner);
  char *text = text_space(j, t->before_len + n + t->after_len + 1);
  if (text) {
    memcpy(text, t->before, t->before_len);
    memcpy(text + t->before_len, inner, n);
    memcpy(text + t->before_len + n, t->after, t->after_len + 1);
  }
  return text;
}

const char *report_json_array(struct json_out *j, const char *const *texts, size_t n) {
  if (!n)
    return NULL;
  size_t len[GRADE_MAX_CHECKS], total = j->open_len + (n - 1) * j->sep_len + j->close_len + 1;
  if (n > GRADE_MAX_CHECKS) {
    j->failed = true;
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    total += (len[i] = strlen(texts[i]));
  char *text = text_space(j, total), *p = text;
  if (!text)
    return NULL;
  memcpy(p, j->arr_open, j->open_len);
  p += j->open_len;
  for (size_t i = 0; i < n; i++) {
    if (i) {
      memcpy(p, j->arr_sep, j->sep_len);
      p += j->sep_len;
    }
    memcpy(p, texts[i], len[i]);
    p += len[i];
  }
  memcpy(p, j->arr_close, j->close_len + 1);
  return text;
}

/* An array of raw items as cJSON prints it, split around two marks. */
static bool learn_array(struct json_out *j) {
  cJSON *a = cJSON_CreateArray();
  cJSON *x = raw_node("\x02"), *y = raw_node("\x03");
  bool ok = a && x && y && cJSON_AddItemToArray(a, x) && cJSON_AddItemToArray(a, y);
  if (!ok) {
    cJSON_Delete(x);
    cJSON_Delete(y);
  }
  size_t len;
  const char *text = ok ? print_at_depth(j, a, 0, &len) : NULL;
  const char *at_x = text ? strchr(text, '\x02') : NULL, *at_y = at_x ? strchr(at_x, '\x03') : NULL;
  ok = at_y && (size_t)(at_x - text) < sizeof(j->arr_open) &&
       (size_t)(at_y - at_x - 1) < sizeof(j->arr_sep) && strlen(at_y + 1) < sizeof(j->arr_close);
  if (ok) {
    j->open_len = (size_t)(at_x - text);
    j->sep_len = (size_t)(at_y - at_x - 1);
    j->close_len = strlen(at_y + 1);
    memcpy(j->arr_open, text, j->open_len);
    memcpy(j->arr_sep, at_x + 1, j->sep_len);
    memcpy(j->arr_close, at_y + 1, j->close_len + 1);
  }
  cJSON_Delete(a);
  return ok;
}

static void shell_free(struct shell *sh) {
  report_json_tmpl_free(&sh->t);
  free(sh);
}

/* The check (or cap) object of c without its evidence, printed at the
 * first server that needs it. */
static const struct shell *shell_of(struct json_out *j, size_t index, const struct check_result *c,
                                    bool is_cap) {
  struct shell **list = &j->shells[index][is_cap];
  for (struct shell *sh = *list; sh; sh = sh->next)
    if (shell_fits(sh, c))
      return sh;
  struct shell *sh = calloc(1, sizeof(*sh));
  cJSON *mark = cJSON_CreateRaw(REPORT_JSON_MARK);
  cJSON *o = !mark ? NULL : is_cap ? cap_object(c, mark) : check_object(c, mark);
  bool ok = sh && o && report_json_tmpl(j, o, ENTRY_DEPTH, &sh->t);
  cJSON_Delete(o); /* with mark (check_object and cap_object free it on failure) */
  if (!ok) {
    free(sh);
    j->failed = true;
    return NULL;
  }
  sh->is_cap = is_cap;
  sh->id = c->id;
  sh->title = c->title;
  sh->reason = is_cap ? cap_reason(c) : c->reason;
  sh->status = c->status;
  sh->effect = c->effect;
  sh->cap = c->cap;
  sh->next = *list;
  *list = sh;
  return sh;
}

/* A check or cap object: its shell around the evidence array. */
static cJSON *entry(struct json_out *j, const struct shell *sh, const char *evidence) {
  return sh ? raw_ref(j, report_json_fill(j, &sh->t, evidence)) : NULL;
}

/* ---- servers ---- */

/* A list of facts in a server's object: the facts of some families, in
 * key order (the families are listed so), each with its value: its
 * argument, after what tells its family from the others' where the list
 * has several ("key_exchange": "dh:2048", "ecdh:x25519:256"). */
static const struct listing {
  const char *member;
  size_t n_families;
  enum ev_fact_id family[4];
} LISTINGS[] = {
    {"protocols", 1, {EV_VERSION}},
    {"ciphers", 1, {EV_SUITE}},
    {"key_exchange", 4, {EV_KX_DH, EV_KX_DH_GROUP, EV_KX_ECDH, EV_KX_RSA_EXPORT}},
    {"certificates", 1, {EV_CERT_LEAF}},
    {"certificate_keys", 1, {EV_CERT_KEY_TYPE}},
};

/* How much of its families' prefixes a listing's families share ("kx:"). */
static size_t shared_prefix(const struct listing *l) {
  const char *first = ev_fact_prefix(l->family[0]);
  size_t shared = strlen(first);
  for (size_t k = 1; k < l->n_families; k++) {
    const char *p = ev_fact_prefix(l->family[k]);
    size_t n = 0;
    while (n < shared && p[n] == first[n])
      n++;
    shared = n;
  }
  return shared;
}

static cJSON *listing_json(struct json_out *j, const struct ev_endpoint *ep,
                           const struct listing *l) {
  cJSON *a = cJSON_CreateArray();
  size_t shared = shared_prefix(l);
  for (size_t k = 0; a && k < l->n_families; k++) {
    enum ev_fact_id id = l->family[k];
    size_t n;
    const struct ev_fact *const *facts = ev_facts_of(ep, id, &n);
    for (size_t i = 0; i < n; i++) {
      if (facts[i]->typed.id != id)
        continue;
      char argument[EV_KEY_MAX], value[2 * EV_KEY_MAX];
      ev_fact_argument(facts[i], argument);
      snprintf(value, sizeof(value), "%s%s", ev_fact_prefix(id) + shared, argument);
      append(j, a, raw_ref(j, fact_text(j, facts[i], value, ENTRY_DEPTH, false)));
    }
  }
  return a;
}

static void add_checks(struct json_out *j, cJSON *o, const struct grade_result *r) {
  cJSON *caps = cJSON_CreateArray(), *warnings = cJSON_CreateArray();
  cJSON *checks = cJSON_CreateArray();
  add_item(j, o, "caps", caps);
  add_item(j, o, "warnings", warnings);
  add_item(j, o, "checks", checks);
  for (size_t i = 0; caps && warnings && checks && i < r->n_checks; i++) {
    const struct check_result *c = &r->checks[i];
    const char *evidence = evidence_text(j, c);
    append(j, checks, entry(j, shell_of(j, i, c, false), evidence));
    if (c->status != CHECK_FAIL)
      continue;
    if (c->effect == EFFECT_CAP || c->effect == EFFECT_TRUST || c->effect == EFFECT_NAME)
      append(j, caps, entry(j, shell_of(j, i, c, true), evidence));
    else if (c->effect == EFFECT_WARN)
      append(j, warnings, cJSON_CreateStringReference(c->id));
  }
}

/* Handshakes that are no evidence (violations) or only evidence against
 * the server (aborted by their client): "notices", when there are any. */
static void add_notices(struct json_out *j, cJSON *o, const struct ev_endpoint *ep) {
  const struct ev_fact *notes[REPORT_MAX_NOTICES];
  size_t n = report_notices(ep, notes, REPORT_MAX_NOTICES);
  cJSON *list = n ? cJSON_CreateArray() : NULL;
  if (n)
    add_item(j, o, "notices", list);
  for (size_t i = 0; list && i < n; i++) {
    cJSON *note = cJSON_CreateObject();
    append(j, list, note);
    if (!note)
      continue;
    add_ref(j, note, "kind", report_notice_id(notes[i]));
    if (!cJSON_AddStringToObject(note, "what", ev_fact_name(notes[i])))
      j->failed = true;
    add_uint(j, note, "handshakes", notes[i]->count);
    bool replaced = false;
    const char *where = notes[i]->sample.file ? sample_text(j, &notes[i]->sample, &replaced) : NULL;
    if (where && !cJSON_AddStringToObject(note, "sample", where))
      j->failed = true;
  }
}

static cJSON *server_json(struct json_out *j, const struct grade_result *r) {
  const struct ev_endpoint *ep = r->ep;
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  add_wire(j, o, "host", ep->host);
  add_ref(j, o, "ip", ep->ip);
  add_uint(j, o, "port", ep->port);
  add_ref(j, o, "grade", r->letter);
  add_ref(j, o, "grade_trust_ignored", r->letter_trust_ignored);
  add_ref(j, o, "floor", r->floor);
  struct report_confidence c;
  report_confidence(r, &c);
  if (!cJSON_AddStringToObject(o, "grade_display", c.display) ||
      !cJSON_AddBoolToObject(o, "certificate_seen", c.certificate_seen) ||
      !cJSON_AddBoolToObject(o, "trust_decided", c.trust_decided))
    j->failed = true;
  if (!r->graded)
    add_ref(j, o, "not_graded", r->no_grade_reason);
  if (report_no_sni_folded(r)) /* its letter decided nothing of its own: see report.h */
    add_item(j, o, "folded_under_address", cJSON_CreateTrue());
  if (r->changed) {
    char when[CAP_TIME_STRLEN];
    cap_time_str(r->changed_at, when, sizeof(when));
    cJSON *ch = cJSON_AddObjectToObject(o, "configuration_change");
    cJSON_AddStringToObject(ch, "at", when);
    cJSON_AddStringToObject(ch, "reason", r->change_reason);
    cJSON_AddStringToObject(ch, "grade_before", r->before);
    cJSON_AddStringToObject(ch, "grade_after", r->after);
    /* The frames that disagree: sample_text's buffer is reused, so copied. */
    const struct ev_sample *frames[2] = {&r->change_before, &r->change_after};
    const char *names[2] = {"frame_before", "frame_after"};
    for (int i = 0; i < 2; i++) {
      bool replaced = false;
      const char *where = frames[i]->file ? sample_text(j, frames[i], &replaced) : NULL;
      if (where && !cJSON_AddStringToObject(ch, names[i], where))
        j->failed = true;
    }
  }
  add_notices(j, o, ep);
  cJSON *score = cJSON_CreateObject();
  add_item(j, o, "score", score);
  const char *names[] = {"protocol", "key_exchange", "cipher", "total"};
  int values[] = {r->protocol, r->key_exchange, r->cipher, r->total};
  for (int i = 0; score && i < 4; i++) {
    if (values[i] >= 0)
      add_uint(j, score, names[i], (uint64_t)values[i]);
    else
      add_item(j, score, names[i], cJSON_CreateNull());
  }
  add_checks(j, o, r);
  add_uint(j, o, "checks_decided", r->n_decided);
  add_uint(j, o, "checks_total", r->n_checks);
  if (r->graded)
    add_item(j, o, "profiles", report_json_profiles(j, r));
  for (size_t i = 0; i < sizeof(LISTINGS) / sizeof(LISTINGS[0]); i++)
    add_item(j, o, LISTINGS[i].member, listing_json(j, ep, &LISTINGS[i]));
  add_item(j, o, "certificate_chains", report_chains_json(ep));
  add_item(j, o, "certificate_trust", report_trust_json(ep));
  cJSON *recs = cJSON_CreateArray();
  add_item(j, o, "recommendations", recs);
  const struct check_result *order[GRADE_MAX_CHECKS];
  size_t n = report_recommendations(r, order);
  for (size_t i = 0; recs && i < n; i++) {
    cJSON *rec = cJSON_CreateObject();
    if (rec) {
      add_ref(j, rec, "check", order[i]->id);
      add_ref(j, rec, "action", order[i]->recommendation);
    }
    append(j, recs, rec);
  }
  return o;
}

/* The server's text (in j->buf), NULL when out of memory. */
static const char *server_text(struct json_out *j, const struct grade_result *r) {
  cJSON *server = server_json(j, r);
  bool ok = server && !j->failed && print_buf(j, server);
  cJSON_Delete(server);
  return ok ? j->buf : NULL;
}

static bool json_out_init(struct json_out *j) {
  memset(j, 0, sizeof(*j));
  bool ok = true;
  for (int i = 0; i < NEST; i++) {
    ok = ok && (j->nest[i] = cJSON_CreateArray());
    if (ok && i > 0)
      cJSON_AddItemToArray(j->nest[i - 1], j->nest[i]);
  }
  ok = ok && (j->fact = cJSON_CreateObject());
  for (int m = 0; m < N_MEMBERS; m++) {
    if (m == M_COUNT)
      j->member[m] = raw_node("");
    else if (m == M_COUNT_BIG)
      j->member[m] = cJSON_CreateNumber(0);
    else if (m == M_FACT_BAD || m == M_SAMPLE_BAD)
      j->member[m] = cJSON_CreateTrue();
    else
      j->member[m] = cJSON_CreateStringReference("");
    ok = ok && j->member[m];
  }
  return ok && learn_array(j);
}

static void json_out_free(struct json_out *j) {
  server_done(j);
  cJSON_Delete(j->nest[0]);
  for (size_t i = 0; i < GRADE_MAX_CHECKS; i++)
    for (int k = 0; k < 2; k++)
      for (struct shell *sh = j->shells[i][k], *next; sh; sh = next) {
        next = sh->next;
        shell_free(sh);
      }
  report_json_profiles_free(j->profiles);
  for (struct fact_tmpl *t = j->fact_tmpls, *next; t; t = next) {
    next = t->next;
    free(t->text);
    free(t);
  }
  cJSON_Delete(j->fact);
  for (int m = 0; m < N_MEMBERS; m++)
    cJSON_Delete(j->member[m]);
  for (struct chunk *c = j->chunks, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(j->facts);
  free(j->buf);
  free(j->file);
  free(j->file_clean);
  free(j->sample);
}

struct json_profile_shells **report_json_profile_shells(struct json_out *j) {
  return &j->profiles;
}

/* ---- rendering, for report_json_pool.c ---- */

struct json_out *report_json_scratch_new(void) {
  struct json_out *j = malloc(sizeof(*j));
  if (j && !json_out_init(j)) {
    json_out_free(j);
    free(j);
    j = NULL;
  }
  return j;
}

void report_json_scratch_free(struct json_out *j) {
  if (j)
    json_out_free(j);
  free(j);
}

const char *report_json_server(struct json_out *j, const struct grade_result *r) {
  return server_text(j, r);
}

void report_json_server_done(struct json_out *j) {
  server_done(j);
}

/* The text is taken from j's print buffer, which is replaced by spare
 * (when it is as large) or a new one of the same size: no copy of tens of
 * kilobytes. */
struct json_text report_json_render(struct json_out *j, const struct grade_result *r,
                                    struct json_text spare) {
  const char *text = j ? server_text(j, r) : NULL;
  struct json_text taken = {NULL, 0, 0};
  if (text && text == j->buf) {
    char *fresh = spare.s && spare.size >= j->buf_size ? spare.s : malloc(j->buf_size);
    if (fresh) {
      taken = (struct json_text){j->buf, strlen(text), j->buf_size};
      if (fresh == spare.s) {
        j->buf_size = spare.size;
        spare.s = NULL;
      }
      j->buf = fresh;
    }
  }
  if (text && !taken.s && (taken.s = strdup(text)))
    taken.size = (taken.len = strlen(text)) + 1;
  free(spare.s);
  if (j)
    server_done(j);
  return taken;
}
