/*
 * grade/report_json_part.c - the JSON report's printed parts (for
 * report_json.c, which says what a server's element holds, and
 * report_clients.c, the client inventory's items): a part printed as deep
 * as it lands in the element, kept in the renderer's chunks until the
 * element is written; templates (an object printed once with a mark where
 * an array goes, filled per server); objects of known members (the
 * element, a fact, an inventory item unformatted) from a template printed
 * once per list of keys, their values spliced in; arrays of parts joined
 * as cJSON joins them; and each fact of a server printed once per form.
 */
#include "grade/report.h"
#include "grade/report_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- raw nodes ---- */

/* A node for raw JSON that points to a text (cJSON has no constructor
 * for one; the type bits are part of its public header). */
cJSON *report_json_raw_node(const char *text) {
  cJSON *item = cJSON_CreateStringReference(text);
  if (item)
    item->type = cJSON_Raw | cJSON_IsReference;
  return item;
}

/* ---- printing parts ---- */

/* item printed (formatted) into j->buf; false when out of memory.  cJSON
 * cannot say how long a text will be: when the buffer is too small, it
 * prints into a fresh allocation and the buffer grows to fit. */
static bool print_as(struct json_out *j, cJSON *item, bool formatted) {
  if (j->buf && cJSON_PrintPreallocated(item, j->buf, (int)j->buf_size, formatted))
    return true;
  char *text = formatted ? cJSON_Print(item) : cJSON_PrintUnformatted(item);
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

bool report_json_print(struct json_out *j, cJSON *item) {
  return print_as(j, item, true);
}

/* item's text as cJSON prints it `depth` containers deep (REPORT_JSON_FLAT:
 * unformatted), in j->buf (*len bytes, terminated).  The caller still owns
 * item. */
static const char *print_at_depth(struct json_out *j, cJSON *item, int depth, size_t *len) {
  if (depth == REPORT_JSON_FLAT) {
    if (!print_as(j, item, false))
      return NULL;
    *len = strlen(j->buf);
    return j->buf;
  }
  cJSON *from = item;
  if (depth > 0) {
    cJSON_AddItemToArray(j->nest[NEST - 1], item);
    from = j->nest[NEST - depth];
  }
  bool ok = report_json_print(j, from);
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

const char *report_json_keep(struct json_out *j, const char *text, size_t n) {
  const char *kept = keep(j, text, n);
  if (!kept)
    j->failed = true;
  return kept;
}

/* item printed `depth` deep, kept until the server is written. */
const char *report_json_part(struct json_out *j, cJSON *item, int depth) {
  size_t len;
  const char *text = print_at_depth(j, item, depth, &len);
  return keep(j, text, text ? len : 0);
}

void report_json_parts_done(struct json_out *j) {
  for (struct chunk *c = j->chunks; c; c = c->next)
    c->used = 0;
  j->cur = NULL;
  j->n_facts = 0;
  j->failed = false;
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

/* texts[0..n) joined, however many: open, sep between two, close (NULL
 * when n is 0). */
static const char *join(struct json_out *j, const char *const *texts, size_t n, const char *open,
                        size_t open_len, const char *sep, size_t sep_len, const char *close,
                        size_t close_len) {
  if (!n)
    return NULL;
  size_t total = open_len + (n - 1) * sep_len + close_len + 1;
  for (size_t i = 0; i < n; i++)
    total += strlen(texts[i]);
  char *text = text_space(j, total), *p = text;
  if (!text)
    return NULL;
  memcpy(p, open, open_len);
  p += open_len;
  for (size_t i = 0; i < n; i++) {
    if (i) {
      memcpy(p, sep, sep_len);
      p += sep_len;
    }
    p = stpcpy(p, texts[i]);
  }
  memcpy(p, close, close_len);
  p[close_len] = '\0';
  return text;
}

const char *report_json_array(struct json_out *j, const char *const *texts, size_t n) {
  return join(j, texts, n, j->arr_open, j->open_len, j->arr_sep, j->sep_len, j->arr_close,
              j->close_len);
}

/* as cJSON prints an array unformatted */
static const char *flat_array(struct json_out *j, const char *const *texts, size_t n) {
  return join(j, texts, n, "[", 1, ",", 1, "]", 1);
}

/* An array of raw items as cJSON prints it, split around two marks. */
static bool learn_array(struct json_out *j) {
  cJSON *a = cJSON_CreateArray();
  cJSON *x = report_json_raw_node("\x02"), *y = report_json_raw_node("\x03");
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

/* ---- facts ---- */

/* "file:frame", sanitised: the file once per run of facts from one file. */
const char *report_json_sample(struct json_out *j, const struct ev_sample *s, bool *replaced) {
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

/* The template of an object of the members keys[0..n) (told apart by
 * their addresses: a key given at another address makes a template of
 * its own, alike), `depth` deep. */
static const struct obj_tmpl *obj_tmpl_of(struct json_out *j, const char *const *keys, size_t n,
                                          int depth) {
  for (const struct obj_tmpl *t = j->tmpls; t; t = t->next)
    if (t->n == n && t->depth == depth && memcmp(t->key, keys, n * sizeof(*keys)) == 0)
      return t;
  struct obj_tmpl *t = n <= OBJ_MAX_MEMBERS ? calloc(1, sizeof(*t)) : NULL;
  cJSON *o = cJSON_CreateObject();
  bool ok = t && o;
  for (size_t m = 0; ok && m < n; m++) {
    cJSON *mark = report_json_raw_node(REPORT_JSON_MARK);
    ok = mark && cJSON_AddItemToObjectCS(o, keys[m], mark);
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
  t->n = n;
  memcpy(t->key, keys, n * sizeof(*keys));
  char *p = t->text;
  size_t marks = 0;
  for (;; marks++) { /* one piece before each mark, and the last */
    char *at = strchr(p, REPORT_JSON_MARK[0]);
    t->piece[marks] = p;
    t->len[marks] = at ? (size_t)(at - p) : strlen(p);
    if (!at || marks == n)
      break;
    *at = '\0';
    p = at + 1;
  }
  if (marks != n) { /* not one mark per member: cannot be filled */
    free(t->text);
    free(t);
    j->failed = true;
    return NULL;
  }
  t->next = j->tmpls;
  j->tmpls = t;
  return t;
}

/* Room for n bytes in j->buf, which is replaced (not copied) when small. */
static char *buf_space(struct json_out *j, size_t n) {
  if (n > j->buf_size) {
    free(j->buf);
    j->buf_size = n + n / 2;
    if (!(j->buf = malloc(j->buf_size)))
      j->buf_size = 0;
  }
  if (!j->buf)
    j->failed = true;
  return j->buf;
}

/* The object of the members keys[i]: vals[i] (lens[i] bytes each, as
 * cJSON prints the value depth + 1 deep; quoted[i]: a string that needs
 * no escaping, printed here in quotes), `depth` deep, from a template
 * printed once per list of keys: kept until the server is written, or
 * (into_buf) in j->buf.  NULL when out of memory (noted). */
static const char *object_of(struct json_out *j, const char *const *keys, const char *const *vals,
                             const size_t *lens, const bool *quoted, size_t n, int depth,
                             bool into_buf) {
  const struct obj_tmpl *t = obj_tmpl_of(j, keys, n, depth);
  if (!t)
    return NULL;
  size_t total = 1;
  for (size_t i = 0; i < n; i++)
    total += t->len[i] + lens[i] + (quoted[i] ? 2 : 0);
  total += t->len[n];
  char *text = into_buf ? buf_space(j, total) : text_space(j, total), *p = text;
  if (!text)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    memcpy(p, t->piece[i], t->len[i]);
    p += t->len[i];
    if (quoted[i])
      *p++ = '"';
    memcpy(p, vals[i], lens[i]);
    p += lens[i];
    if (quoted[i])
      *p++ = '"';
  }
  memcpy(p, t->piece[n], t->len[n]);
  p[t->len[n]] = '\0';
  return text;
}

/* Eight bytes at a time, then one at a time from the word that holds the
 * first that needs escaping.  A word's bytes are flagged by the usual
 * subtract-and-mask tests; a borrow can only flag a byte above one that
 * is truly flagged, and that word is walked byte by byte. */
size_t report_json_plain_run(const char *s, size_t n) {
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v, q, b;
    memcpy(&v, s + i, 8);
    q = v ^ (ones * '"');
    b = v ^ (ones * '\\');
    if ((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
      break;
  }
  while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
    i++;
  return i;
}

/* s as cJSON prints a string: quoted as it is when nothing in it needs
 * escaping (cJSON escapes only controls, '"' and '\\'), else printed by
 * cJSON. */
const char *report_json_string(struct json_out *j, const char *s, size_t *len) {
  if (!s) { /* as cJSON prints a string node without its text */
    *len = 2;
    return "\"\"";
  }
  size_t n = strlen(s);
  if (report_json_plain_run(s, n) == n) {
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

/* A string member whose text s outlives the object (the fact's own
 * strings, buffers of fact_text): quoted as it is into the object when
 * nothing in it needs escaping, not copied first; else printed by cJSON. */
static void member_borrowed(struct json_out *j, struct json_members *m, const char *key,
                            const char *s) {
  size_t len = strlen(s);
  if (report_json_plain_run(s, len) != len) {
    report_json_member_string(j, m, key, s);
    return;
  }
  report_json_member(j, m, key, s, len);
  if (m->n && m->val[m->n - 1] == s)
    m->quoted[m->n - 1] = true;
}

/* A fact as an object: fact, count, first, last, sample, and with a
 * value (not NULL) also "value"; bare: fact, count and sample only (a
 * profile item's evidence), the sample always. */
static const char *fact_text(struct json_out *j, const struct ev_fact *f, const char *value,
                             int depth, bool bare) {
  struct json_members m; /* each member sets its own fields: not cleared per fact */
  m.n = 0;
  char count[REPORT_UINT_LEN], first[CAP_TIME_STRLEN], last[CAP_TIME_STRLEN];
  char *fact_clean = NULL;
  bool fact_bad = false, sample_bad = false;
  const unsigned char *p = (const unsigned char *)f->key;
  while (*p && *p < 0x80)
    p++;
  if (*p) { /* not plain ASCII: sanitised as report_add_wire_string does */
    fact_clean = report_utf8((const uint8_t *)f->key, strlen(f->key), &fact_bad);
    if (!fact_clean) {
      j->failed = true;
      return NULL;
    }
  }
  member_borrowed(j, &m, "fact", fact_clean ? fact_clean : f->key);
  if (fact_bad)
    report_json_member_bool(j, &m, "fact_invalid_utf8", true);
  if (f->count < 1000000000000000ULL) /* raw digits, as report_json_member_uint writes them */
    report_json_member(j, &m, "count", count, report_uint(count, f->count));
  else
    report_json_member_uint(j, &m, "count", f->count);
  if (!bare) {
    time_text(j, f->first_ts, first);
    member_borrowed(j, &m, "first", first);
    time_text(j, f->last_ts, last);
    member_borrowed(j, &m, "last", last);
  }
  char no_file[1 + REPORT_UINT_LEN];
  const char *where = f->sample.file ? report_json_sample(j, &f->sample, &sample_bad) : NULL;
  if (!f->sample.file && bare) { /* as report_sample writes it */
    no_file[0] = ':';
    report_uint(no_file + 1, f->sample.frame);
    where = no_file;
  }
  if (where) {
    member_borrowed(j, &m, "sample", where);
    if (sample_bad)
      report_json_member_bool(j, &m, "sample_invalid_utf8", true);
  }
  if (value)
    member_borrowed(j, &m, "value", value);
  if (!bare && report_fact_via(f))
    member_borrowed(j, &m, "via", report_fact_via(f));
  const char *text = report_json_members(j, &m, depth, false);
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

const char *report_json_fact_value(struct json_out *j, const struct ev_fact *f, const char *value,
                                   int depth) {
  return fact_text(j, f, value, depth, false);
}

/* ---- an object's members ---- */

void report_json_member(struct json_out *j, struct json_members *m, const char *key,
                        const char *val, size_t len) {
  if (!val || m->n == OBJ_MAX_MEMBERS) {
    j->failed = true;
    return;
  }
  m->key[m->n] = key;
  m->val[m->n] = val;
  m->quoted[m->n] = false;
  m->len[m->n++] = len;
}

void report_json_member_raw(struct json_out *j, struct json_members *m, const char *key,
                            const char *val) {
  report_json_member(j, m, key, val, val ? strlen(val) : 0);
}

void report_json_member_string(struct json_out *j, struct json_members *m, const char *key,
                               const char *s) {
  size_t len = 0;
  const char *text = report_json_string(j, s, &len);
  report_json_member(j, m, key, text, len);
}

void report_json_member_bool(struct json_out *j, struct json_members *m, const char *key, bool b) {
  report_json_member_raw(j, m, key, b ? "true" : "false");
}

/* cJSON prints numbers with snprintf("%1.15g") and a sscanf round trip,
 * some 3,000 instructions; below 10^15 that text is the integer's decimal
 * digits, written here directly. */
void report_json_member_uint(struct json_out *j, struct json_members *m, const char *key,
                             uint64_t v) {
  char digits[REPORT_UINT_LEN];
  if (v < 1000000000000000ULL) {
    size_t n = report_uint(digits, v);
    report_json_member(j, m, key, report_json_keep(j, digits, n), n);
    return;
  }
  cJSON *number = cJSON_CreateNumber((double)v); /* printed alike at any depth */
  report_json_member_raw(j, m, key, number ? report_json_part(j, number, 0) : NULL);
  cJSON_Delete(number);
}

void report_json_member_array(struct json_out *j, struct json_members *m, const char *key,
                              const char *const *texts, size_t n, bool flat) {
  const char *text = !n ? "[]" : flat ? flat_array(j, texts, n) : report_json_array(j, texts, n);
  report_json_member_raw(j, m, key, text);
}

void report_json_member_wire(struct json_out *j, struct json_members *m, const char *key,
                             const char *bad_key, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p && *p < 0x80)
    p++;
  if (!*p) { /* plain ASCII: nothing to replace */
    report_json_member_string(j, m, key, s);
    return;
  }
  bool replaced = false;
  char *clean = report_utf8((const uint8_t *)s, strlen(s), &replaced);
  report_json_member_string(j, m, key, clean);
  if (clean && replaced)
    report_json_member_bool(j, m, bad_key, true);
  free(clean);
}

const char *report_json_members(struct json_out *j, const struct json_members *m, int depth,
                                bool into_buf) {
  return j->failed ? NULL : object_of(j, m->key, m->val, m->len, m->quoted, m->n, depth, into_buf);
}

bool report_json_parts_init(struct json_out *j) {
  bool ok = true;
  for (int i = 0; i < NEST; i++) {
    ok = ok && (j->nest[i] = cJSON_CreateArray());
    if (ok && i > 0)
      cJSON_AddItemToArray(j->nest[i - 1], j->nest[i]);
  }
  return ok && learn_array(j);
}

void report_json_parts_free(struct json_out *j) {
  report_json_parts_done(j);
  cJSON_Delete(j->nest[0]);
  for (struct obj_tmpl *t = j->tmpls, *next; t; t = next) {
    next = t->next;
    free(t->text);
    free(t);
  }
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
