/*
 * grade/clients.c - the client inventory: a tap sees every client, which
 * no active scanner can.  Clients are keyed by address and JA4 (FoxIO's
 * client fingerprint, dissect/fingerprint.c), each with what it offered
 * (best version; whether any forward-secret or AEAD suite, post-quantum
 * group, server_name) and what it got (versions, weak suites), every kind
 * of finding counted with its earliest frame.  Per server endpoint, the
 * JA4s that connected and what each got (version, suite, group): the
 * passive counterpart of SSL Labs' handshake simulation.
 *
 * Both tables are capped (--limit clients): a connection whose client, or
 * server row, would be new at the cap is not listed and is counted.
 * Merging adds counts and keeps the earliest sample, so it is commutative
 * and associative like the endpoints' facts.
 */
#include "base/hash.h"
#include "grade/chains.h"
#include "grade/clients.h"
#include "grade/evidence.h"

#include <stdlib.h>
#include <string.h>

struct ev_clients {
  char **names; /* sample files, interned */
  size_t n_names, cap_names;
  struct cl_client **clients; /* open addressing */
  size_t client_slots, n_clients;
  struct cl_row **rows;
  size_t row_slots, n_rows;
  uint64_t hits[2]; /* connections refused at the cap: client, row */
};

static const struct {
  const char *id, *label;
} kinds[CL_N] = {
    [CL_SSL] = {"ssl2_3", "SSL 2.0/3.0 negotiated"},
    [CL_EXPORT] = {"export", "export suite negotiated"},
    [CL_NULL] = {"null_cipher", "NULL cipher negotiated"},
    [CL_RC4] = {"rc4", "RC4 negotiated"},
    [CL_TLS10_11] = {"tls10_11", "TLS 1.0/1.1 negotiated"},
    [CL_BLOCK64] = {"block64", "3DES/64-bit block negotiated"},
    [CL_NO_FS] = {"no_fs_offered", "no forward-secret suite offered"},
    [CL_NO_AEAD] = {"no_aead_offered", "no AEAD suite offered"},
    [CL_NO_PQ] = {"no_pq_offered", "no post-quantum group offered"},
    [CL_NO_SNI] = {"no_sni", "no SNI sent"},
};

const char *cl_kind_id(enum cl_kind k) {
  return kinds[k].id;
}

const char *cl_kind_label(enum cl_kind k) {
  return kinds[k].label;
}

unsigned cl_version_rank(uint16_t v) {
  switch (v) {
  case TLS_VERSION_SSL2:
    return 1;
  case TLS_VERSION_SSL3:
    return 2;
  case TLS_VERSION_TLS10:
    return 3;
  case TLS_VERSION_TLS11:
  case TLS_VERSION_DTLS10: /* mirrors TLS 1.1 (RFC 6347 4.1) */
    return 4;
  case TLS_VERSION_TLS12:
  case TLS_VERSION_DTLS12:
    return 5;
  case TLS_VERSION_TLS13:
  case TLS_VERSION_DTLS13:
    return 6;
  default:
    return 0;
  }
}

void ev_clients_free(struct ev_clients *cl) {
  if (!cl)
    return;
  for (size_t i = 0; i < cl->n_names; i++)
    free(cl->names[i]);
  free(cl->names);
  for (size_t i = 0; i < cl->client_slots; i++)
    free(cl->clients[i]);
  free(cl->clients);
  for (size_t i = 0; i < cl->row_slots; i++)
    if (cl->rows[i]) {
      free(cl->rows[i]->host);
      free(cl->rows[i]);
    }
  free(cl->rows);
  free(cl);
}

/* src into dst[cap], cut to fit (snprintf's result, without its cost on
 * every connection). */
static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strnlen(src, cap - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static struct ev_clients *clients_of(struct ev_clients **cl) {
  if (!*cl)
    *cl = calloc(1, sizeof(**cl));
  return *cl;
}

/* The index of file among the names, added when new; UINT32_MAX out of
 * memory.  The file of the last connection is nearly always the last
 * name: searched from the end. */
static uint32_t name_index(struct ev_clients *cl, const char *file) {
  for (size_t i = cl->n_names; i-- > 0;)
    if (strcmp(cl->names[i], file) == 0)
      return (uint32_t)i;
  if (cl->n_names == cl->cap_names) {
    size_t cap = cl->cap_names ? cl->cap_names * 2 : 4;
    char **n = cap < UINT32_MAX ? realloc(cl->names, cap * sizeof(*n)) : NULL;
    if (!n)
      return UINT32_MAX;
    cl->names = n;
    cl->cap_names = cap;
  }
  char *copy = strdup(file);
  if (!copy)
    return UINT32_MAX;
  cl->names[cl->n_names] = copy;
  return (uint32_t)cl->n_names++;
}

const char *ev_clients_file(const struct ev_clients *cl, uint32_t file) {
  return cl && file < cl->n_names ? cl->names[file] : "";
}

/* Is a (in cl's names) earlier than b: time, then file name, then frame,
 * as the endpoints' samples (evidence.c). */
static bool at_before(const struct ev_clients *cl, const struct cl_at *a, const struct cl_at *b) {
  if (a->ts != b->ts)
    return a->ts < b->ts;
  int c = strcmp(ev_clients_file(cl, a->file), ev_clients_file(cl, b->file));
  return c ? c < 0 : a->frame < b->frame;
}

static void mark_add(const struct ev_clients *cl, struct cl_mark *m, uint64_t count,
                     const struct cl_at *at) {
  if (!count)
    return;
  if (!m->count || at_before(cl, at, &m->at))
    m->at = *at;
  m->count = ev_count_add(m->count, count);
}

/* ---- the two tables ---- */

/* FNV-1a leaves a string's last bytes in the low and middle bits; a
 * multiplication carries them into the high bits hash_range reads. */
static uint64_t client_hash(const char *ip, const char *ja4) {
  return hash_str(hash_str(HASH_FNV_OFFSET, ip) ^ 0xff, ja4) * HASH_K1;
}

static uint64_t row_hash(const struct cl_row *r) {
  uint64_t h = hash_str(hash_str(HASH_FNV_OFFSET, r->host) ^ 0xff, r->ip);
  h = hash_str((h ^ r->port) * HASH_FNV_PRIME, r->ja4);
  h = hash_str((h ^ r->version ^ ((uint64_t)r->suite << 16)) * HASH_FNV_PRIME, r->kx);
  return h * HASH_K1;
}

static bool row_same(const struct cl_row *a, const struct cl_row *b) {
  return a->port == b->port && a->version == b->version && a->suite == b->suite &&
         !strcmp(a->ja4, b->ja4) && !strcmp(a->ip, b->ip) && !strcmp(a->kx, b->kx) &&
         !strcmp(a->host, b->host);
}

static size_t client_slot(const struct ev_clients *cl, const char *ip, const char *ja4) {
  size_t i = hash_range(client_hash(ip, ja4), cl->client_slots);
  while (cl->clients[i] && (strcmp(cl->clients[i]->ip, ip) || strcmp(cl->clients[i]->ja4, ja4)))
    i = (i + 1) % cl->client_slots;
  return i;
}

static size_t row_slot(const struct ev_clients *cl, const struct cl_row *r) {
  size_t i = hash_range(row_hash(r), cl->row_slots);
  while (cl->rows[i] && !row_same(cl->rows[i], r))
    i = (i + 1) % cl->row_slots;
  return i;
}

/* Double a table (load kept under a half). */
static bool grow_clients(struct ev_clients *cl) {
  size_t slots = cl->client_slots ? cl->client_slots * 2 : 64;
  struct cl_client **old = cl->clients, **fresh = calloc(slots, sizeof(*fresh));
  if (!fresh)
    return false;
  size_t old_slots = cl->client_slots;
  cl->clients = fresh;
  cl->client_slots = slots;
  for (size_t i = 0; i < old_slots; i++)
    if (old[i])
      fresh[client_slot(cl, old[i]->ip, old[i]->ja4)] = old[i];
  free(old);
  return true;
}

static bool grow_rows(struct ev_clients *cl) {
  size_t slots = cl->row_slots ? cl->row_slots * 2 : 64;
  struct cl_row **old = cl->rows, **fresh = calloc(slots, sizeof(*fresh));
  if (!fresh)
    return false;
  size_t old_slots = cl->row_slots;
  cl->rows = fresh;
  cl->row_slots = slots;
  for (size_t i = 0; i < old_slots; i++)
    if (old[i])
      fresh[row_slot(cl, old[i])] = old[i];
  free(old);
  return true;
}

/* The table's slot of client (ip, ja4): found, or made when the cap
 * allows; NULL when refused (weight connections counted) or out of memory.
 * The slot stays valid until the next claim (which may grow the table),
 * and holds the client while marks move it (client_mark). */
static struct cl_client **client_claim(struct ev_clients *cl, const char *ip, const char *ja4,
                                       size_t max, uint64_t weight) {
  if ((cl->n_clients + 1) * 2 > cl->client_slots && !grow_clients(cl))
    return NULL;
  size_t i = client_slot(cl, ip, ja4);
  if (cl->clients[i])
    return &cl->clients[i];
  if (cl->n_clients >= max) {
    cl->hits[0] = ev_count_add(cl->hits[0], weight);
    return NULL;
  }
  struct cl_client *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  copy_str(c->ip, sizeof c->ip, ip);
  copy_str(c->ja4, sizeof c->ja4, ja4);
  c->worst = CL_N;
  cl->clients[i] = c;
  cl->n_clients++;
  return &cl->clients[i];
}

static const struct cl_mark no_mark;

const struct cl_mark *cl_mark_of(const struct cl_client *c, enum cl_kind k) {
  for (unsigned i = 0; i < c->n_marks; i++)
    if (c->marks[i].kind == k)
      return &c->marks[i];
  return &no_mark;
}

/* count more connections of kind k, the first of them at `at`, for the
 * client in *slot: a kind new to it grows it by one mark (moved by
 * realloc, the slot follows).  Out of memory the kind is not noted. */
static void client_mark(const struct ev_clients *cl, struct cl_client **slot, enum cl_kind k,
                        uint64_t count, const struct cl_at *at) {
  if (!count)
    return;
  struct cl_client *c = *slot;
  struct cl_mark *m = (struct cl_mark *)cl_mark_of(c, k);
  if (m == &no_mark) {
    c = realloc(c, sizeof(*c) + (c->n_marks + 1u) * sizeof(c->marks[0]));
    if (!c)
      return;
    *slot = c;
    m = &c->marks[c->n_marks++];
    *m = (struct cl_mark){.kind = (uint8_t)k};
    if (k < c->worst)
      c->worst = (uint8_t)k;
  }
  mark_add(cl, m, count, at);
}

/* The row like key: found, or a copy made when the cap allows. */
static struct cl_row *row_claim(struct ev_clients *cl, const struct cl_row *key, size_t max,
                                uint64_t weight) {
  if ((cl->n_rows + 1) * 2 > cl->row_slots && !grow_rows(cl))
    return NULL;
  size_t i = row_slot(cl, key);
  if (cl->rows[i])
    return cl->rows[i];
  if (cl->n_rows >= max) {
    cl->hits[1] = ev_count_add(cl->hits[1], weight);
    return NULL;
  }
  struct cl_row *r = malloc(sizeof(*r));
  char *host = strdup(key->host);
  if (!r || !host) {
    free(r);
    free(host);
    return NULL;
  }
  *r = *key;
  r->host = host;
  r->count = 0;
  cl->rows[i] = r;
  cl->n_rows++;
  return r;
}

/* A sample's file index in the table taking it: map[file] (map NULL: the
 * same table's). */
static struct cl_at at_mapped(struct cl_at at, const uint32_t *map) {
  if (map)
    at.file = map[at.file];
  return at;
}

/* The client in *slot takes more's connections (more's samples in from's
 * names, map). */
static void client_absorb(const struct ev_clients *cl, struct cl_client **slot,
                          const struct cl_client *more, const uint32_t *map) {
  struct cl_client *c = *slot;
  struct cl_at first = at_mapped(more->first, map);
  if (!c->count || at_before(cl, &first, &c->first))
    c->first = first;
  if (!c->count || more->last_ts > c->last_ts)
    c->last_ts = more->last_ts;
  c->count = ev_count_add(c->count, more->count);
  if (more->best_offered && cl_version_rank(more->best_offered) >= cl_version_rank(c->best_offered))
    c->best_offered = more->best_offered;
  c->got |= more->got;
  for (unsigned i = 0; i < more->n_marks; i++) {
    struct cl_at at = at_mapped(more->marks[i].at, map);
    client_mark(cl, slot, more->marks[i].kind, more->marks[i].count, &at);
  }
}

static void row_absorb(const struct ev_clients *cl, struct cl_row *r, const struct cl_row *more,
                       const uint32_t *map) {
  struct cl_at first = at_mapped(more->first, map);
  if (!r->count || at_before(cl, &first, &r->first))
    r->first = first;
  r->count = ev_count_add(r->count, more->count);
}

/* ---- one connection ---- */

/* What a hello offered, TLS 1.3 counting as forward secret and AEAD (its
 * every suite is both, RFC 8446 B.4). */
static uint16_t best_offered(const struct tls_client_hello *ch) {
  uint16_t best = 0;
  for (size_t i = 0; i < ch->versions.n; i++)
    if (cl_version_rank(ch->versions.v[i]) > cl_version_rank(best))
      best = ch->versions.v[i];
  return best ? best : ch->legacy_version;
}

static void offered_marks(const struct tls_session *s, bool marks[CL_N]) {
  const struct tls_client_hello *ch = &s->ch;
  bool tls13 = cl_version_rank(best_offered(ch)) >= 6, fs = tls13, aead = tls13, pq = false;
  for (size_t i = 0; i < ch->ciphers.n; i++) {
    const struct tls_suite_info *su = tls_suite_lookup(ch->ciphers.v[i]);
    fs = fs || (su && su->forward_secret);
    aead = aead || (su && su->aead);
  }
  for (size_t i = 0; i < ch->groups.n; i++)
    pq = pq || tls_group_pq(ch->groups.v[i]) != TLS_GROUP_CLASSICAL;
  marks[CL_NO_FS] = !fs;
  marks[CL_NO_AEAD] = !aead;
  marks[CL_NO_PQ] = !pq;
  marks[CL_NO_SNI] = !ch->sni.n;
}

/* What the server's hello gave (outside a violation: no evidence). */
static void got_marks(const struct tls_session *s, bool marks[CL_N]) {
  unsigned rank = cl_version_rank(s->version);
  const struct tls_suite_info *su =
      s->sh.sslv2_format ? tls_sslv2_suite_lookup(s->sh.cipher) : tls_suite_lookup(s->sh.cipher);
  marks[CL_SSL] = rank == 1 || rank == 2;
  marks[CL_TLS10_11] = rank == 3 || rank == 4;
  marks[CL_EXPORT] = su && su->export_grade;
  marks[CL_NULL] = su && su->bits == 0 && !su->scsv;
  marks[CL_RC4] = su && su->rc4;
  marks[CL_BLOCK64] = su && su->block_bits == 64;
}

/* The key exchange's group as the report names it. */
static void kx_text(const struct tls_session *s, char out[CL_KX_LEN]) {
  uint16_t group = 0;
  out[0] = '\0';
  if (cl_version_rank(s->version) == 6)
    group = s->sh.key_share_group;
  else if (s->kex.is_ecdh)
    group = s->kex.curve;
  else if (s->kex.is_dh)
    snprintf(out, CL_KX_LEN, "dh%d", s->kex.dh_bits);
  else if (s->kex.is_rsa)
    snprintf(out, CL_KX_LEN, "rsa_export%d", s->kex.rsa_bits);
  if (group) {
    const char *name = tls_group_name(group);
    if (name)
      copy_str(out, CL_KX_LEN, name);
    else
      snprintf(out, CL_KX_LEN, "0x%04x", group);
  }
}

/* One more connection of client one: its marks, dated by its hello (what
 * it offered) or the server's (what it got). */
static void client_count(struct ev_clients *cl, struct cl_client **slot,
                         const struct tls_session *s, uint32_t fi, bool answered) {
  struct cl_client *one = *slot;
  struct cl_at at = {fi, s->ch.at.frame, s->ch.at.ts};
  struct cl_at sat = {fi, s->sh.at.frame, s->sh.at.ts};
  bool marks[CL_N] = {0};
  offered_marks(s, marks);
  if (answered) {
    got_marks(s, marks);
    unsigned rank = cl_version_rank(s->version);
    if (rank)
      one->got |= (uint8_t)(1u << rank);
  }
  if (!one->count || at_before(cl, &at, &one->first))
    one->first = at;
  if (!one->count || at.ts > one->last_ts)
    one->last_ts = at.ts;
  one->count = ev_count_add(one->count, 1);
  uint16_t best = best_offered(&s->ch);
  if (cl_version_rank(best) >= cl_version_rank(one->best_offered))
    one->best_offered = best;
  for (int k = 0; k < CL_N; k++)
    client_mark(cl, slot, k, marks[k], k < CL_NO_FS ? &sat : &at);
}

void ev_clients_add(struct ev_store *ev, const struct tls_session *s, const struct ev_conn *c,
                    const struct ev_endpoint *ep) {
  if (!c->client_ip || !s->ja4[0])
    return;
  struct ev_clients *cl = clients_of(&ev->clients);
  const char *file = s->ch.at.file_index < c->n_files ? c->files[s->ch.at.file_index] : "";
  uint32_t fi = cl ? name_index(cl, file) : UINT32_MAX;
  if (fi == UINT32_MAX)
    return; /* out of memory */
  bool answered = s->has_server_hello && !s->violation;
  /* The two tables are capped apart: a client left out at the cap still
   * counts in its server's rows, and the other way round. */
  struct cl_client **one = client_claim(cl, c->client_ip, s->ja4, ev->max_clients, 1);
  if (one)
    client_count(cl, one, s, fi, answered);
  if (!answered || !ep)
    return;
  struct cl_row key = {
      .host = ep->host, .port = ep->port, .version = s->version, .suite = s->sh.cipher};
  copy_str(key.ip, sizeof key.ip, ep->ip);
  copy_str(key.ja4, sizeof key.ja4, s->ja4);
  kx_text(s, key.kx);
  struct cl_row *row = row_claim(cl, &key, ev->max_clients, 1);
  if (!row)
    return;
  struct cl_at sat = {fi, s->sh.at.frame, s->sh.at.ts};
  if (!row->count || at_before(cl, &sat, &row->first))
    row->first = sat;
  row->count = ev_count_add(row->count, 1);
}

/* ---- merge ---- */

/* A client or row of from that into does not hold yet changes tables
 * (move) instead of being copied: -j's stores merge without new memory
 * for half the clients. */
static int clients_merge(struct ev_clients **into_p, struct ev_clients *from, size_t max,
                         bool move) {
  if (!from)
    return 0;
  struct ev_clients *into = clients_of(into_p);
  uint32_t *map = calloc(from->n_names ? from->n_names : 1, sizeof(*map));
  if (!into || !map) {
    free(map);
    return -1;
  }
  for (size_t i = 0; i < from->n_names; i++)
    if ((map[i] = name_index(into, from->names[i])) == UINT32_MAX) {
      free(map);
      return -1;
    }
  into->hits[0] = ev_count_add(into->hits[0], from->hits[0]);
  into->hits[1] = ev_count_add(into->hits[1], from->hits[1]);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < from->client_slots; i++) {
    struct cl_client *c = from->clients[i];
    if (!c)
      continue;
    if (move && (into->n_clients + 1) * 2 > into->client_slots && !grow_clients(into)) {
      rc = -1;
      break;
    }
    struct cl_client **slot = move ? &into->clients[client_slot(into, c->ip, c->ja4)] : NULL;
    if (slot && !*slot && into->n_clients < max) { /* c itself, its samples in into's names */
      c->first = at_mapped(c->first, map);
      for (unsigned k = 0; k < c->n_marks; k++)
        c->marks[k].at = at_mapped(c->marks[k].at, map);
      *slot = c;
      into->n_clients++;
      from->clients[i] = NULL;
      from->n_clients--;
      continue;
    }
    uint64_t before = into->hits[0];
    struct cl_client **dst = client_claim(into, c->ip, c->ja4, max, c->count);
    if (dst)
      client_absorb(into, dst, c, map);
    else if (before == into->hits[0])
      rc = -1; /* out of memory, not the cap */
  }
  for (size_t i = 0; rc == 0 && i < from->row_slots; i++) {
    struct cl_row *r = from->rows[i];
    if (!r)
      continue;
    if (move && (into->n_rows + 1) * 2 > into->row_slots && !grow_rows(into)) {
      rc = -1;
      break;
    }
    struct cl_row **slot = move ? &into->rows[row_slot(into, r)] : NULL;
    if (slot && !*slot && into->n_rows < max) {
      r->first = at_mapped(r->first, map);
      *slot = r;
      into->n_rows++;
      from->rows[i] = NULL;
      from->n_rows--;
      continue;
    }
    uint64_t before = into->hits[1];
    struct cl_row *dst = row_claim(into, r, max, r->count);
    if (dst)
      row_absorb(into, dst, r, map);
    else if (before == into->hits[1])
      rc = -1;
  }
  free(map);
  return rc;
}

int ev_clients_merge(struct ev_clients **into, const struct ev_clients *from, size_t max) {
  return clients_merge(into, (struct ev_clients *)from, max, false); /* from is only read */
}

int ev_clients_merge_move(struct ev_clients **into, struct ev_clients **from, size_t max) {
  struct ev_clients *src = *from;
  /* The first of -j's inventories folded into the run's: taken whole (its
   * table is as good as one built again, and the reports sort it). */
  if (src && !*into && src->n_clients <= max && src->n_rows <= max) {
    *into = src;
    *from = NULL;
    return 0;
  }
  return clients_merge(into, src, max, true);
}

void ev_clients_cap_hits(const struct ev_clients *cl, uint64_t hits[2]) {
  hits[0] = cl ? cl->hits[0] : 0;
  hits[1] = cl ? cl->hits[1] : 0;
}

/* ---- report order ---- */

/* Worst first: the worst kind, then more kinds, then more connections,
 * then address and JA4 (a total order: the report is stable). */
static int client_cmp(const void *a, const void *b) {
  const struct cl_client *x = *(const struct cl_client *const *)a;
  const struct cl_client *y = *(const struct cl_client *const *)b;
  int c = (int)x->worst - (int)y->worst;
  if (!c)
    c = (int)y->n_marks - (int)x->n_marks;
  if (!c)
    c = (y->count > x->count) - (y->count < x->count);
  if (!c)
    c = strcmp(x->ip, y->ip);
  return c ? c : strcmp(x->ja4, y->ja4);
}

static int row_cmp(const void *a, const void *b) {
  const struct cl_row *x = *(const struct cl_row *const *)a;
  const struct cl_row *y = *(const struct cl_row *const *)b;
  int c = strcmp(x->host, y->host);
  if (!c)
    c = strcmp(x->ip, y->ip);
  if (!c)
    c = (int)x->port - (int)y->port;
  if (!c)
    c = (y->count > x->count) - (y->count < x->count);
  if (!c)
    c = strcmp(x->ja4, y->ja4);
  if (!c)
    c = (int)x->version - (int)y->version;
  if (!c)
    c = (x->suite > y->suite) - (x->suite < y->suite);
  return c ? c : strcmp(x->kx, y->kx);
}

const struct cl_client **ev_clients_sorted(const struct ev_clients *cl, size_t *n) {
  *n = 0;
  if (!cl || !cl->n_clients)
    return NULL;
  const struct cl_client **v = malloc(cl->n_clients * sizeof(*v));
  for (size_t i = 0; v && i < cl->client_slots; i++)
    if (cl->clients[i])
      v[(*n)++] = cl->clients[i];
  if (v)
    qsort(v, *n, sizeof(*v), client_cmp);
  return v;
}

const struct cl_row **ev_clients_rows(const struct ev_clients *cl, size_t *n) {
  *n = 0;
  if (!cl || !cl->n_rows)
    return NULL;
  const struct cl_row **v = malloc(cl->n_rows * sizeof(*v));
  for (size_t i = 0; v && i < cl->row_slots; i++)
    if (cl->rows[i])
      v[(*n)++] = cl->rows[i];
  if (v)
    qsort(v, *n, sizeof(*v), row_cmp);
  return v;
}

/* ---- saved evidence ---- */

static void at_json(cJSON *o, const struct ev_clients *cl, const struct cl_at *at) {
  cJSON_AddStringToObject(o, "file", ev_clients_file(cl, at->file));
  cJSON_AddNumberToObject(o, "frame", (double)at->frame);
  cJSON_AddNumberToObject(o, "ts_us", (double)at->ts);
}

static cJSON *client_json(const struct ev_clients *cl, const struct cl_client *c) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "ip", c->ip);
  cJSON_AddStringToObject(o, "ja4", c->ja4);
  cJSON_AddNumberToObject(o, "n", (double)c->count);
  at_json(o, cl, &c->first);
  cJSON_AddNumberToObject(o, "last_us", (double)c->last_ts);
  cJSON_AddNumberToObject(o, "best_offered", c->best_offered);
  cJSON_AddNumberToObject(o, "got", c->got);
  cJSON *marks = cJSON_AddObjectToObject(o, "marks");
  for (int k = 0; k < CL_N; k++) {
    const struct cl_mark *mk = cl_mark_of(c, k);
    if (!mk->count)
      continue;
    cJSON *m = cJSON_AddObjectToObject(marks, kinds[k].id);
    cJSON_AddNumberToObject(m, "n", (double)mk->count);
    at_json(m, cl, &mk->at);
  }
  return o;
}

static cJSON *row_json(const struct ev_clients *cl, const struct cl_row *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "host", r->host);
  cJSON_AddStringToObject(o, "ip", r->ip);
  cJSON_AddNumberToObject(o, "port", r->port);
  cJSON_AddStringToObject(o, "ja4", r->ja4);
  cJSON_AddNumberToObject(o, "version", r->version);
  cJSON_AddNumberToObject(o, "suite", r->suite);
  cJSON_AddStringToObject(o, "kx", r->kx);
  cJSON_AddNumberToObject(o, "n", (double)r->count);
  at_json(o, cl, &r->first);
  return o;
}

cJSON *ev_clients_to_json(const struct ev_clients *cl) {
  if (!cl || (!cl->n_clients && !cl->n_rows && !cl->hits[0] && !cl->hits[1]))
    return NULL;
  cJSON *o = cJSON_CreateObject();
  cJSON *hits = cJSON_AddArrayToObject(o, "cap_hits");
  cJSON_AddItemToArray(hits, cJSON_CreateNumber((double)cl->hits[0]));
  cJSON_AddItemToArray(hits, cJSON_CreateNumber((double)cl->hits[1]));
  size_t n;
  const struct cl_client **c = ev_clients_sorted(cl, &n);
  cJSON *a = cJSON_AddArrayToObject(o, "clients");
  for (size_t i = 0; c && i < n; i++)
    cJSON_AddItemToArray(a, client_json(cl, c[i]));
  free(c);
  const struct cl_row **r = ev_clients_rows(cl, &n);
  a = cJSON_AddArrayToObject(o, "rows");
  for (size_t i = 0; r && i < n; i++)
    cJSON_AddItemToArray(a, row_json(cl, r[i]));
  free(r);
  return o;
}

/* A string of at most max - 1 bytes from a JA4's or a group's alphabet. */
static bool get_token(const cJSON *o, const char *k, char *out, size_t max) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsString(v) || strlen(v->valuestring) >= max)
    return false;
  for (const char *p = v->valuestring; *p; p++)
    if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
        *p != '_')
      return false;
  snprintf(out, max, "%s", v->valuestring);
  return true;
}

static bool at_from_json(struct ev_clients *cl, const cJSON *o, struct cl_at *at) {
  const cJSON *file = cJSON_GetObjectItemCaseSensitive(o, "file");
  double frame, ts;
  if (!cJSON_IsString(file) || strlen(file->valuestring) >= 4096 ||
      !ev_json_num(o, "frame", 0, 1e18, &frame) ||
      !ev_json_num(o, "ts_us", -EV_JSON_TS_LIMIT, EV_JSON_TS_LIMIT, &ts))
    return false;
  at->file = name_index(cl, file->valuestring);
  at->frame = (uint64_t)frame;
  at->ts = (cap_time_us)ts;
  return at->file != UINT32_MAX;
}

/* A saved client as one with room for every kind (c: calloc'd by the
 * caller, CL_N marks), its samples in cl's names. */
static bool client_fields(struct ev_clients *cl, const cJSON *o, struct cl_client *c) {
  const cJSON *ip = cJSON_GetObjectItemCaseSensitive(o, "ip");
  const cJSON *marks = cJSON_GetObjectItemCaseSensitive(o, "marks");
  double n, last, best, got;
  if (!cJSON_IsString(ip) || strlen(ip->valuestring) >= CL_IP_LEN ||
      !ev_ip_valid(ip->valuestring) || !get_token(o, "ja4", c->ja4, sizeof c->ja4) ||
      !ev_json_num(o, "n", 1, (double)EV_COUNT_MAX, &n) || !at_from_json(cl, o, &c->first) ||
      !ev_json_num(o, "last_us", -EV_JSON_TS_LIMIT, EV_JSON_TS_LIMIT, &last) ||
      !ev_json_num(o, "best_offered", 0, 65535, &best) || !ev_json_num(o, "got", 0, 127, &got) ||
      (marks && !cJSON_IsObject(marks)))
    return false;
  snprintf(c->ip, sizeof c->ip, "%s", ip->valuestring);
  c->count = (uint64_t)n;
  c->last_ts = (cap_time_us)last;
  c->best_offered = (uint16_t)best;
  c->got = (uint8_t)got;
  for (int k = 0; k < CL_N; k++) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(marks, kinds[k].id);
    struct cl_mark *mk = &c->marks[c->n_marks];
    double mn;
    if (!m)
      continue;
    if (!ev_json_num(m, "n", 1, (double)EV_COUNT_MAX, &mn) || !at_from_json(cl, m, &mk->at))
      return false;
    mk->count = (uint64_t)mn;
    mk->kind = (uint8_t)k;
    c->n_marks++;
  }
  return true;
}

static bool client_from_json(struct ev_clients *cl, const cJSON *o) {
  struct cl_client *c = calloc(1, sizeof(*c) + CL_N * sizeof(c->marks[0]));
  bool ok = c && client_fields(cl, o, c);
  struct cl_client **dst = ok ? client_claim(cl, c->ip, c->ja4, SIZE_MAX, c->count) : NULL;
  if (dst)
    client_absorb(cl, dst, c, NULL); /* its samples are in cl's names already */
  free(c);
  return dst != NULL;
}

static bool row_from_json(struct ev_clients *cl, const cJSON *o) {
  struct cl_row r = {0};
  const cJSON *host = cJSON_GetObjectItemCaseSensitive(o, "host");
  const cJSON *ip = cJSON_GetObjectItemCaseSensitive(o, "ip");
  double port, version, suite, n;
  if (!cJSON_IsString(host) || strlen(host->valuestring) >= EV_KEY_MAX || !cJSON_IsString(ip) ||
      strlen(ip->valuestring) >= CL_IP_LEN || !ev_ip_valid(ip->valuestring) ||
      !ev_json_num(o, "port", 0, 65535, &port) || !get_token(o, "ja4", r.ja4, sizeof r.ja4) ||
      !ev_json_num(o, "version", 0, 65535, &version) ||
      !ev_json_num(o, "suite", 0, 0xffffff, &suite) || !get_token(o, "kx", r.kx, sizeof r.kx) ||
      !ev_json_num(o, "n", 1, (double)EV_COUNT_MAX, &n) || !at_from_json(cl, o, &r.first))
    return false;
  r.host = host->valuestring;
  snprintf(r.ip, sizeof r.ip, "%s", ip->valuestring);
  r.port = (uint16_t)port;
  r.version = (uint16_t)version;
  r.suite = (uint32_t)suite;
  r.count = (uint64_t)n;
  struct cl_row *dst = row_claim(cl, &r, SIZE_MAX, r.count);
  if (dst)
    row_absorb(cl, dst, &r, NULL);
  return dst != NULL;
}

int ev_clients_from_json(struct ev_clients **into, const cJSON *o, char *err, size_t errlen) {
  if (!o)
    return 0;
  const cJSON *hits = cJSON_GetObjectItemCaseSensitive(o, "cap_hits");
  const cJSON *clients = cJSON_GetObjectItemCaseSensitive(o, "clients");
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(o, "rows");
  struct ev_clients *cl = clients_of(into);
  bool ok = cl && cJSON_IsArray(hits) && cJSON_GetArraySize(hits) == 2 && cJSON_IsArray(clients) &&
            cJSON_IsArray(rows);
  for (int i = 0; ok && i < 2; i++) {
    const cJSON *h = cJSON_GetArrayItem(hits, i);
    ok = cJSON_IsNumber(h) && h->valuedouble >= 0 && h->valuedouble <= (double)EV_COUNT_MAX;
    if (ok)
      cl->hits[i] = ev_count_add(cl->hits[i], (uint64_t)h->valuedouble);
  }
  const cJSON *e;
  cJSON_ArrayForEach(e, clients) {
    ok = ok && client_from_json(cl, e);
  }
  cJSON_ArrayForEach(e, rows) {
    ok = ok && row_from_json(cl, e);
  }
  if (!ok)
    snprintf(err, errlen, "malformed clients in the evidence");
  return ok ? 0 : -1;
}
