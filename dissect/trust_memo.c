/*
 * dissect/trust_memo.c - a memo of chain verdicts, so that each chain is
 * verified once per run.  Verifying a chain costs milliseconds; the same
 * chain is seen on most connections to a server.
 *
 * The key is the chain's fingerprints, which of its certificates were
 * valid at the packet time, and the hostname: everything the verdict of
 * x509_trust_check_store() depends on besides the store, so a hit gives
 * exactly the verdict a fresh check would.  (Two times at which the same
 * certificates are valid give the same verdict: the validity periods are
 * the only time-dependent part of the check.)
 *
 * The owner may keep something of its own with each verdict (grade/ keeps
 * the distrust events a chain falls under, which need the verified
 * anchor): a payload of a fixed size that a callback derives from the
 * chain and its fresh verdict.  It is opaque here, so verification stays
 * free of grading's notions, and it is derived exactly as often as the
 * verdict itself is computed.
 *
 * Bounded: max_entries verdicts in at least twice as many slots; when
 * full, new verdicts are computed (and payloads derived) every time they
 * are asked for, and counted (refused).  Shared by threads (-j): a lock guards the table; the
 * verification itself runs outside it, so two threads that ask at once for a new chain may both
 * verify it (the first answer is kept).
 */
#include "base/hash.h"
#include "dissect/dissect.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct memo_entry {
  char *key; /* owned */
  struct x509_trust trust;
  unsigned char payload[]; /* the owner's, payload.size bytes */
};

struct x509_trust_memo {
  /* nslots pointers (a power of two), allocated on first use, and an
   * entry per verdict (some 400 bytes each: a table of entries was 1.6 MB). */
  struct memo_entry **slots;
  size_t nslots, count, max;
  size_t refused; /* verdicts not remembered: full */
  struct x509_memo_payload payload;
  pthread_mutex_t lock;
};

struct x509_trust_memo *x509_trust_memo_new(const struct x509_memo_payload *payload,
                                            size_t max_entries) {
  struct x509_trust_memo *memo = calloc(1, sizeof(*memo));
  if (!memo)
    return NULL;
  memo->max = max_entries;
  memo->nslots = 16;
  while (memo->nslots < max_entries * 2)
    memo->nslots *= 2;
  if (payload)
    memo->payload = *payload;
  pthread_mutex_init(&memo->lock, NULL);
  return memo;
}

void x509_trust_memo_free(struct x509_trust_memo *memo) {
  if (!memo)
    return;
  for (size_t i = 0; memo->slots && i < memo->nslots; i++) {
    if (memo->slots[i])
      free(memo->slots[i]->key);
    free(memo->slots[i]);
  }
  free(memo->slots);
  pthread_mutex_destroy(&memo->lock);
  free(memo);
}

/* Linear probing: the key's slot, or the empty one where it would go. */
static size_t memo_slot(const struct x509_trust_memo *memo, const char *key) {
  size_t j = hash_str(HASH_FNV_OFFSET, key) & (memo->nslots - 1);
  while (memo->slots[j] && strcmp(memo->slots[j]->key, key) != 0)
    j = (j + 1) & (memo->nslots - 1);
  return j;
}

/* "<sha256><+|->" per certificate (valid at `at` or not), then
 * "|<hostname>"; malloc'd, NULL when out of memory. */
static char *memo_key(const struct tls_cert *const *chain, size_t n, const char *hostname,
                      cap_time_us at) {
  size_t cap = 80 * n + (hostname ? strlen(hostname) : 0) + 8;
  char *key = malloc(cap);
  if (!key)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) { /* copied, not printed: one key per session */
    const struct tls_cert *cert = chain[i];
    bool valid = cert->parsed && cert->not_before_us <= at && at <= cert->not_after_us;
    const char *sha = cert->sha256[0] ? cert->sha256 : "-";
    size_t len = strnlen(sha, sizeof(cert->sha256) - 1);
    memcpy(key + k, sha, len);
    k += len;
    key[k++] = valid ? '+' : '-';
  }
  snprintf(key + k, cap - k, "|%s", hostname ? hostname : "");
  return key;
}

static bool recall(struct x509_trust_memo *memo, const char *key, struct x509_trust *trust,
                   void *payload) {
  bool found = false;
  pthread_mutex_lock(&memo->lock);
  if (memo->slots) {
    const struct memo_entry *m = memo->slots[memo_slot(memo, key)];
    if (m) {
      *trust = m->trust;
      if (payload && memo->payload.size)
        memcpy(payload, m->payload, memo->payload.size);
      found = true;
    }
  }
  pthread_mutex_unlock(&memo->lock);
  return found;
}

static void remember(struct x509_trust_memo *memo, const char *key, const struct x509_trust *trust,
                     const void *payload) {
  pthread_mutex_lock(&memo->lock);
  if (memo->count >= memo->max) {
    memo->refused++;
  } else if (memo->slots || (memo->slots = calloc(memo->nslots, sizeof(*memo->slots)))) {
    struct memo_entry **slot = &memo->slots[memo_slot(memo, key)];
    struct memo_entry *m = *slot ? NULL : malloc(sizeof(*m) + memo->payload.size);
    if (m && (m->key = strdup(key))) {
      m->trust = *trust;
      if (memo->payload.size)
        memcpy(m->payload, payload, memo->payload.size);
      *slot = m;
      memo->count++;
    } else {
      free(m);
    }
  }
  pthread_mutex_unlock(&memo->lock);
}

size_t x509_trust_memo_refused(struct x509_trust_memo *memo) {
  if (!memo)
    return 0;
  pthread_mutex_lock(&memo->lock);
  size_t n = memo->refused;
  pthread_mutex_unlock(&memo->lock);
  return n;
}

void x509_trust_memo_verdict(struct x509_trust_memo *memo, const struct x509_store *store,
                             const struct tls_cert *const *chain, size_t n, const char *hostname,
                             cap_time_us at, struct x509_trust *trust, void *payload) {
  char *key = memo_key(chain, n, hostname, at);
  if (key && recall(memo, key, trust, payload)) {
    free(key);
    return;
  }
  /* The payload is derived whether or not this caller wants it: the entry
   * remembered must be whole for the callers that do. */
  size_t size = memo->payload.size;
  void *own = NULL, *derived = payload;
  if (size && !derived)
    derived = own = calloc(1, size);
  else if (size)
    memset(derived, 0, size);
  x509_trust_check_store(store, chain, n, hostname, at, trust);
  if (size && derived && memo->payload.derive)
    memo->payload.derive(chain, n, trust, derived, memo->payload.arg);
  if (key && (size == 0 || derived))
    remember(memo, key, trust, derived);
  free(own);
  free(key);
}
