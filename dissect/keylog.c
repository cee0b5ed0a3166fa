/*
 * dissect/keylog.c - NSS key log files (SSLKEYLOGFILE), as browsers, curl
 * and OpenSSL (-keylogfile) write them: one secret per line,
 *
 *   LABEL <ClientHello.random, 64 hex digits> <secret, hex>
 *
 * Kept: CLIENT_RANDOM (the TLS <= 1.2 master secret) and the four TLS 1.3
 * traffic secrets this tool needs.  Other labels (EXPORTER_SECRET, early
 * data, ...) are counted and ignored; a line that does not parse is counted
 * as bad and never stops the load.  Lookups come from every thread after
 * the load: the table is read-only by then.
 */
#include "dissect/decrypt.h"
#include "base/hash.h"

#include <openssl/crypto.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The secrets of each connection in one dense array, found through an
 * open-addressing table of 4-byte indexes by the random's first bytes (it
 * is random): about 290 bytes a connection, not twice that in empty slots.
 * At most max_entries connections; the secrets of more are refused and
 * counted. */
struct tls_keylog {
  struct tls_secrets *entries;
  size_t used, cap;
  uint32_t *slots; /* index + 1; 0: free */
  size_t nslots;
  size_t max_entries;
  uint64_t refused;
};

#define KEYLOG_DEFAULT_MAX 1000000u

static const struct {
  const char *label;
  enum tls_secret_kind kind;
  size_t min_len, max_len; /* secret bytes: master 48; TLS 1.3 the hash size */
} LABELS[] = {
    {"CLIENT_RANDOM", TLS_SECRET_MASTER, 48, 48},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", TLS_SECRET_CLIENT_HS, 32, TLS_SECRET_MAX},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", TLS_SECRET_SERVER_HS, 32, TLS_SECRET_MAX},
    {"CLIENT_TRAFFIC_SECRET_0", TLS_SECRET_CLIENT_APP, 32, TLS_SECRET_MAX},
    {"SERVER_TRAFFIC_SECRET_0", TLS_SECRET_SERVER_APP, 32, TLS_SECRET_MAX},
};

struct tls_keylog *tls_keylog_new(void) {
  struct tls_keylog *kl = calloc(1, sizeof(struct tls_keylog));
  if (kl)
    kl->max_entries = KEYLOG_DEFAULT_MAX;
  return kl;
}

void tls_keylog_set_max(struct tls_keylog *kl, size_t max_entries) {
  kl->max_entries = max_entries > UINT32_MAX - 1 ? UINT32_MAX - 1 : max_entries;
}

void tls_keylog_free(struct tls_keylog *kl) {
  if (!kl)
    return;
  free(kl->entries);
  free(kl->slots);
  free(kl);
}

size_t tls_keylog_count(const struct tls_keylog *kl) {
  return kl ? kl->used : 0;
}

uint64_t tls_keylog_refused(const struct tls_keylog *kl) {
  return kl ? kl->refused : 0;
}

/* All 32 bytes hashed: a key log is the user's file, but one written by a
 * tool (or a test) need not have random-looking first bytes. */
static size_t slot_of(const uint8_t random[32], size_t nslots) {
  return hash_range(hash_bytes(HASH_FNV_OFFSET, random, 32), nslots);
}

/* The slot holding random, or the free one where it would go. */
static uint32_t *find_slot(const struct tls_keylog *kl, const uint8_t random[32]) {
  for (size_t i = slot_of(random, kl->nslots), k = 0; k < kl->nslots;
       i = (i + 1) % kl->nslots, k++) {
    uint32_t *slot = &kl->slots[i];
    if (!*slot || memcmp(kl->entries[*slot - 1].random, random, 32) == 0)
      return slot;
  }
  return NULL; /* cannot happen: the table is at most half full */
}

const struct tls_secrets *tls_keylog_find(const struct tls_keylog *kl, const uint8_t random[32]) {
  if (!kl || !kl->nslots)
    return NULL;
  const uint32_t *slot = find_slot(kl, random);
  return slot && *slot ? &kl->entries[*slot - 1] : NULL;
}

/* Room for one more entry and its slot; false out of memory. */
static bool make_room(struct tls_keylog *kl) {
  if (kl->used == kl->cap) {
    size_t n = kl->cap ? kl->cap * 2 : 32;
    struct tls_secrets *grown = realloc(kl->entries, n * sizeof(*grown));
    if (!grown)
      return false;
    kl->entries = grown, kl->cap = n;
  }
  if ((kl->used + 1) * 2 <= kl->nslots)
    return true;
  size_t n = kl->nslots ? kl->nslots * 2 : 64;
  uint32_t *slots = calloc(n, sizeof(*slots));
  if (!slots)
    return false;
  free(kl->slots);
  kl->slots = slots, kl->nslots = n;
  for (size_t e = 0; e < kl->used; e++) /* each entry once: its own slot */
    *find_slot(kl, kl->entries[e].random) = (uint32_t)(e + 1);
  return true;
}

enum entry_result { ENTRY_OK, ENTRY_CAP, ENTRY_NOMEM };

/* The entry for `random`, created when missing. */
static enum entry_result entry(struct tls_keylog *kl, const uint8_t random[32],
                               struct tls_secrets **out) {
  uint32_t *slot = kl->nslots ? find_slot(kl, random) : NULL;
  if (slot && *slot) {
    *out = &kl->entries[*slot - 1];
    return ENTRY_OK;
  }
  if (kl->used >= kl->max_entries) {
    kl->refused++;
    return ENTRY_CAP;
  }
  if (!make_room(kl))
    return ENTRY_NOMEM;
  slot = find_slot(kl, random);
  struct tls_secrets *s = &kl->entries[kl->used];
  memset(s, 0, sizeof(*s));
  memcpy(s->random, random, 32);
  *slot = (uint32_t)++kl->used;
  *out = s;
  return ENTRY_OK;
}

/* Hex text of exactly 2*len digits (len in [min, max]) into out. */
static bool hex_field(const char *text, size_t text_len, uint8_t *out, size_t min, size_t max,
                      size_t *len) {
  if (text_len % 2 || text_len / 2 < min || text_len / 2 > max)
    return false;
  for (size_t i = 0; i < text_len / 2; i++) {
    int hi = OPENSSL_hexchar2int((unsigned char)text[2 * i]),
        lo = OPENSSL_hexchar2int((unsigned char)text[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  *len = text_len / 2;
  return true;
}

/* The next field of a line: bytes up to a space or tab. */
static const char *field(const char **p, size_t *len) {
  while (**p == ' ' || **p == '\t')
    (*p)++;
  const char *start = *p;
  while (**p && **p != ' ' && **p != '\t')
    (*p)++;
  *len = (size_t)(*p - start);
  return start;
}

enum line_kind { LINE_SKIP, LINE_KEPT, LINE_IGNORED, LINE_BAD, LINE_NOMEM, LINE_CAP };

static enum line_kind parse_line(struct tls_keylog *kl, char *line) {
  line[strcspn(line, "\r\n")] = '\0';
  const char *p = line;
  size_t label_len, random_len, secret_len, extra_len;
  const char *label = field(&p, &label_len);
  if (label_len == 0 || label[0] == '#')
    return LINE_SKIP;
  const char *random_hex = field(&p, &random_len);
  const char *secret_hex = field(&p, &secret_len);
  field(&p, &extra_len);
  if (random_len == 0 || secret_len == 0 || extra_len != 0)
    return LINE_BAD;
  for (size_t i = 0; i < sizeof(LABELS) / sizeof(LABELS[0]); i++) {
    if (strlen(LABELS[i].label) != label_len || memcmp(LABELS[i].label, label, label_len) != 0)
      continue;
    uint8_t random[32], secret[TLS_SECRET_MAX];
    size_t n;
    if (!hex_field(random_hex, random_len, random, 32, 32, &n) ||
        !hex_field(secret_hex, secret_len, secret, LABELS[i].min_len, LABELS[i].max_len, &n))
      return LINE_BAD;
    struct tls_secrets *s;
    enum entry_result r = entry(kl, random, &s);
    if (r != ENTRY_OK)
      return r == ENTRY_CAP ? LINE_CAP : LINE_NOMEM;
    memcpy(s->v[LABELS[i].kind], secret, n);
    s->len[LABELS[i].kind] = (uint8_t)n;
    s->have |= (uint8_t)(1u << LABELS[i].kind);
    return LINE_KEPT;
  }
  /* Another label: well-formed lines of other secrets are fine. */
  for (size_t i = 0; i < label_len; i++)
    if (!((label[i] >= 'A' && label[i] <= 'Z') || (label[i] >= '0' && label[i] <= '9') ||
          label[i] == '_'))
      return LINE_BAD;
  return LINE_IGNORED;
}

int tls_keylog_add_line(struct tls_keylog *kl, const char *line) {
  char *copy = strdup(line);
  if (!copy)
    return -1;
  enum line_kind kind = parse_line(kl, copy);
  free(copy);
  return kind == LINE_KEPT ? 1 : kind == LINE_BAD || kind == LINE_NOMEM ? -1 : 0; /* cap: 0 */
}

int tls_keylog_load(struct tls_keylog *kl, const char *path, struct tls_keylog_stats *st, char *err,
                    size_t errlen) {
  memset(st, 0, sizeof(*st));
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  int rc = 0;
  while (getline(&line, &cap, f) >= 0) {
    st->lines++;
    switch (parse_line(kl, line)) {
    case LINE_KEPT:
      st->secrets++;
      break;
    case LINE_IGNORED:
      st->ignored++;
      break;
    case LINE_CAP:
      st->refused++;
      break;
    case LINE_BAD:
      if (!st->bad++)
        st->first_bad_line = st->lines;
      break;
    case LINE_NOMEM:
      snprintf(err, errlen, "%s: out of memory", path);
      rc = -1;
      break;
    case LINE_SKIP:
      break;
    }
    if (rc < 0)
      break;
  }
  if (rc == 0 && ferror(f)) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    rc = -1;
  }
  free(line);
  fclose(f);
  return rc;
}
