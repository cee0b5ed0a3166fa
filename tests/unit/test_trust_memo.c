/*
 * tests/unit/test_trust_memo.c - dissect/trust_memo.c: the memo of chain
 * verdicts.  (Apart from test_x509.c, which is long enough.)
 *
 * Where the expected values come from:
 *  - Verdicts: `openssl verify -purpose sslserver -attime T -CAfile
 *    tests/data/x509/pki-root.pem [-untrusted inter.pem]
 *    [-verify_hostname H] leaf.pem`, the DER files of tests/data/x509
 *    turned into PEM with `openssl x509 -inform der`:
 *      pki-leaf + pki-inter, T 1735689600 (2025-01-01), H www.example.test:
 *        "OK"                                         -> trusted
 *      pki-leaf alone, same T:
 *        "error 20 ... unable to get local issuer certificate"
 *      pki-expired + pki-inter, same T:
 *        "error 10 ... certificate has expired"
 *      pki-expired + pki-inter, T 1609459200 (2021-01-01): "OK"
 *    (pki-expired's notAfter is 2021-06-01, `openssl x509 -noout -dates`).
 *  - How many verdicts are kept: README, Limits, "trust verdicts
 *    remembered per run: 2048".
 *  - How often a verdict is computed: counted by the payload's derive
 *    callback, which the memo calls once per computation (dissect.h).
 *
 * Run from the repository root (paths below are relative to it).
 */
#include "dissect/dissect.h"
#include "harness.h"

#include <openssl/x509_vfy.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA "tests/data/x509/"
#define US(seconds) ((cap_time_us)(seconds)*1000000)
#define AT_2025 US(1735689600) /* 2025-01-01 00:00:00 UTC */
#define AT_2021 US(1609459200) /* 2021-01-01 00:00:00 UTC */
#define MEMO_KEEPS 2048        /* README, Limits */

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *file = fopen(path, "rb");
  *len = 0;
  if (!file) {
    fprintf(stderr, "  cannot open %s (run from the repository root)\n", path);
    return NULL;
  }
  uint8_t *bytes = NULL;
  if (fseek(file, 0, SEEK_END) == 0) {
    long size = ftell(file);
    rewind(file);
    bytes = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (bytes && fread(bytes, 1, (size_t)size, file) == (size_t)size) {
      *len = (size_t)size;
    } else {
      free(bytes);
      bytes = NULL;
    }
  }
  fclose(file);
  return bytes;
}

/* A chain as a session holds it: certificates, and pointers to them. */
struct chain {
  struct tls_cert certs[2];
  const struct tls_cert *links[2];
  size_t n;
};

static void chain_load(struct chain *c, const char *leaf, const char *inter) {
  const char *names[2] = {leaf, inter};
  char path[256];
  memset(c, 0, sizeof(*c));
  for (size_t i = 0; i < 2 && names[i]; i++) {
    snprintf(path, sizeof path, DATA "%s", names[i]);
    c->certs[i].der = read_file(path, &c->certs[i].der_len);
    CHECK(c->certs[i].der != NULL);
    x509_cert_parse(&c->certs[i]);
    CHECK(c->certs[i].parsed && c->certs[i].sha256[0]);
    c->links[i] = &c->certs[i];
    c->n++;
  }
}

static void chain_free(struct chain *c) {
  for (size_t i = 0; i < c->n; i++)
    x509_cert_clear(&c->certs[i]);
}

static struct x509_store *open_root(void) {
  char reason[160];
  struct x509_trust_opts opts = {.ca_file = DATA "pki-root.pem", .ca_path = NULL};
  struct x509_store *store = x509_store_open(&opts, reason, sizeof reason);
  CHECK(store != NULL);
  return store;
}

/* The payload of these tests: which computation made it (1, 2, ...) and
 * whether the chain was trusted then.  A verdict answered from memory
 * comes with the number of the computation that made it. */
struct computed {
  unsigned long n;
  bool trusted;
};

static void count_computation(const struct tls_cert *const *chain, size_t n,
                              const struct x509_trust *trust, void *payload, void *arg) {
  (void)chain, (void)n;
  unsigned long *count = arg;
  struct computed *p = payload;
  p->n = ++*count;
  p->trusted = trust->trusted;
}

static struct x509_trust_memo *counting_memo(unsigned long *count) {
  *count = 0;
  struct x509_memo_payload payload = {sizeof(struct computed), count_computation, count};
  struct x509_trust_memo *memo = x509_trust_memo_new(&payload, X509_TRUST_MEMO_DEFAULT);
  CHECK(memo != NULL);
  return memo;
}

/* The fields a report uses, the same as a fresh check's. */
static bool same_verdict(const struct x509_trust *a, const struct x509_trust *b) {
  return a->checked == b->checked && a->trusted == b->trusted &&
         a->trusted_but_time == b->trusted_but_time && a->error == b->error &&
         strcmp(a->reason, b->reason) == 0 && a->expired == b->expired &&
         a->not_yet_valid == b->not_yet_valid && a->self_signed == b->self_signed &&
         a->hostname_checked == b->hostname_checked && a->hostname_match == b->hostname_match &&
         a->chain_complete == b->chain_complete && a->chain_in_order == b->chain_in_order &&
         a->chain_len_used == b->chain_len_used &&
         strcmp(a->anchor_spki_sha256, b->anchor_spki_sha256) == 0;
}

/* Asked three times, the memo gives openssl's verdict and the direct
 * check's each time, and computes it once. */
static void expect_once(struct x509_trust_memo *memo, const struct x509_store *store,
                        const struct chain *c, const char *host, cap_time_us at, bool trusted,
                        int error, unsigned long *count) {
  struct x509_trust direct, memo_says;
  x509_trust_check_store(store, c->links, c->n, host, at, &direct);
  CHECK(direct.trusted == trusted);
  CHECK_EQ_U(direct.error, error);
  unsigned long before = *count;
  for (int round = 0; round < 3; round++) {
    struct computed p = {0, false};
    x509_trust_memo_verdict(memo, store, c->links, c->n, host, at, &memo_says, &p);
    CHECK(memo_says.trusted == trusted);
    CHECK_EQ_U(memo_says.error, error);
    CHECK(same_verdict(&memo_says, &direct));
    CHECK_EQ_U(p.n, before + 1); /* made by the first round's computation */
    CHECK(p.trusted == trusted);
  }
  CHECK_EQ_U(*count, before + 1);
}

static void test_same_verdict_computed_once(void) {
  struct x509_store *store = open_root();
  struct chain good, lone, expired;
  chain_load(&good, "pki-leaf.der", "pki-inter.der");
  chain_load(&lone, "pki-leaf.der", NULL);
  chain_load(&expired, "pki-expired.der", "pki-inter.der");
  unsigned long count;
  struct x509_trust_memo *memo = counting_memo(&count);
  if (store && memo) {
    expect_once(memo, store, &good, "www.example.test", AT_2025, true, X509_V_OK, &count);
    expect_once(memo, store, &lone, "www.example.test", AT_2025, false,
                X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, &count);
    expect_once(memo, store, &expired, "expired.example.test", AT_2025, false,
                X509_V_ERR_CERT_HAS_EXPIRED, &count);
    /* the same chain while its leaf was valid is another question */
    expect_once(memo, store, &expired, "expired.example.test", AT_2021, true, X509_V_OK, &count);
    CHECK_EQ_U(count, 4);
  }
  x509_trust_memo_free(memo);
  chain_free(&good);
  chain_free(&lone);
  chain_free(&expired);
  x509_store_close(store);
}

/* What the key holds: the hostname, and which certificates were valid
 * (not the time itself). */
static void test_what_makes_another_question(void) {
  struct x509_store *store = open_root();
  struct chain good;
  chain_load(&good, "pki-leaf.der", "pki-inter.der");
  unsigned long count;
  struct x509_trust_memo *memo = counting_memo(&count);
  struct x509_trust t;
  if (store && memo) {
    x509_trust_memo_verdict(memo, store, good.links, good.n, "www.example.test", AT_2025, &t, NULL);
    CHECK(t.trusted && t.hostname_match);
    /* the leaf's other name is not its first */
    x509_trust_memo_verdict(memo, store, good.links, good.n, "other.example.test", AT_2025, &t,
                            NULL);
    CHECK(t.trusted && t.hostname_checked && !t.hostname_match);
    x509_trust_memo_verdict(memo, store, good.links, good.n, NULL, AT_2025, &t, NULL);
    CHECK(t.trusted && !t.hostname_checked);
    CHECK_EQ_U(count, 3);
    /* half a year later both certificates are still valid: the same answer */
    x509_trust_memo_verdict(memo, store, good.links, good.n, NULL, AT_2025 + US(86400 * 180), &t,
                            NULL);
    CHECK(t.trusted && !t.hostname_checked);
    CHECK_EQ_U(count, 3);
    /* a payload asked for after a verdict computed without one: whole */
    struct computed p = {0, false};
    x509_trust_memo_verdict(memo, store, good.links, good.n, NULL, AT_2025, &t, &p);
    CHECK_EQ_U(p.n, 3);
    CHECK(p.trusted);
  }
  x509_trust_memo_free(memo);
  chain_free(&good);
  x509_store_close(store);
}

/* MEMO_KEEPS chains are remembered; past them, verdicts are computed every
 * time they are asked for, and the ones kept are still answered.  The
 * chains are one certificate libcrypto refuses (quick to judge), told
 * apart by their fingerprints. */
static void test_full_memo_recomputes(void) {
  unsigned long count;
  struct x509_trust_memo *memo = counting_memo(&count);
  struct x509_store *store = open_root();
  static uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01}; /* not a certificate */
  struct tls_cert *certs = calloc(MEMO_KEEPS + 1, sizeof(*certs));
  CHECK(certs != NULL);
  if (!memo || !store || !certs)
    goto out;
  for (size_t i = 0; i <= MEMO_KEEPS; i++) {
    certs[i].der = junk;
    certs[i].der_len = sizeof junk;
    snprintf(certs[i].sha256, sizeof certs[i].sha256, "%064zx", i);
  }
  struct x509_trust t;
  struct computed p;
  for (size_t i = 0; i < MEMO_KEEPS; i++) {
    const struct tls_cert *link = &certs[i];
    x509_trust_memo_verdict(memo, store, &link, 1, NULL, AT_2025, &t, &p);
  }
  CHECK_EQ_U(count, MEMO_KEEPS);
  CHECK(t.checked && !t.trusted && t.error != X509_V_OK);
  for (size_t i = 0; i < MEMO_KEEPS; i++) { /* all kept */
    const struct tls_cert *link = &certs[i];
    x509_trust_memo_verdict(memo, store, &link, 1, NULL, AT_2025, &t, &p);
    CHECK(p.n == i + 1);
  }
  CHECK_EQ_U(count, MEMO_KEEPS);
  const struct tls_cert *one_more = &certs[MEMO_KEEPS];
  for (int round = 0; round < 3; round++) {
    x509_trust_memo_verdict(memo, store, &one_more, 1, NULL, AT_2025, &t, &p);
    CHECK(t.checked && !t.trusted);
    CHECK_EQ_U(p.n, MEMO_KEEPS + 1 + round); /* computed each time */
  }
  CHECK_EQ_U(count, MEMO_KEEPS + 3);
  CHECK_EQ_U(x509_trust_memo_refused(memo), 3); /* each one not kept is counted */
out:
  free(certs);
  x509_trust_memo_free(memo);
  x509_store_close(store);
}

/* Threads sharing one memo (-j; `make test SAN=thread` runs this under
 * ThreadSanitizer): every answer and payload right. */
#define THREADS 4
struct asker {
  struct x509_trust_memo *memo;
  const struct x509_store *store;
  const struct chain *good, *lone;
  int wrong;
};

static void keep_trusted(const struct tls_cert *const *chain, size_t n,
                         const struct x509_trust *trust, void *payload, void *arg) {
  (void)chain, (void)n, (void)arg;
  ((struct computed *)payload)->trusted = trust->trusted;
}

static void *ask(void *arg) {
  struct asker *a = arg;
  for (int i = 0; i < 200; i++) {
    const struct chain *c = i % 2 ? a->good : a->lone;
    struct x509_trust t;
    struct computed p = {0, !(c == a->good)};
    x509_trust_memo_verdict(a->memo, a->store, c->links, c->n, "www.example.test", AT_2025, &t, &p);
    if (t.trusted != (c == a->good) || p.trusted != t.trusted)
      a->wrong++;
  }
  return NULL;
}

static void test_threads_share(void) {
  struct x509_store *store = open_root();
  struct chain good, lone;
  chain_load(&good, "pki-leaf.der", "pki-inter.der");
  chain_load(&lone, "pki-leaf.der", NULL);
  struct x509_memo_payload payload = {sizeof(struct computed), keep_trusted, NULL};
  struct x509_trust_memo *memo = x509_trust_memo_new(&payload, X509_TRUST_MEMO_DEFAULT);
  /* libcrypto fills the store's certificates' caches (key identifiers)
   * the first time a path uses them, and ThreadSanitizer reports two
   * threads doing so at once (inside libcrypto, whatever the memo does):
   * one verdict per chain first, without the memo. */
  struct x509_trust warm;
  if (store) {
    x509_trust_check_store(store, good.links, good.n, "www.example.test", AT_2025, &warm);
    x509_trust_check_store(store, lone.links, lone.n, "www.example.test", AT_2025, &warm);
  }
  struct asker askers[THREADS];
  pthread_t threads[THREADS];
  bool started[THREADS] = {false};
  for (int k = 0; store && memo && k < THREADS; k++) {
    askers[k] = (struct asker){memo, store, &good, &lone, 0};
    started[k] = pthread_create(&threads[k], NULL, ask, &askers[k]) == 0;
    CHECK(started[k]);
  }
  for (int k = 0; k < THREADS; k++)
    if (started[k]) {
      pthread_join(threads[k], NULL);
      CHECK_EQ_U(askers[k].wrong, 0);
    }
  x509_trust_memo_free(memo);
  chain_free(&good);
  chain_free(&lone);
  x509_store_close(store);
}

int main(void) {
  RUN(test_same_verdict_computed_once);
  RUN(test_what_makes_another_question);
  RUN(test_full_memo_recomputes);
  RUN(test_threads_share);
  x509_trust_memo_free(NULL);
  return harness_done();
}
