/*
 * dissect/x509_verify.c - chain verification through libcrypto: the trust
 * store (the system's, or a CA file / directory) and the verdict on the
 * chain a server sent - trusted, complete, in order, valid at the time of
 * the capture, for the hostname asked for.  The facts of each certificate
 * are x509.c's.
 *
 * Nothing here is global: a trust store lives for one call or as long as
 * its owner keeps it (dissect.h).
 */
#include "dissect/x509_internal.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct x509_store {
  X509_STORE *store;
};

/* The untrusted certificates a server sent (a name clang-format can read). */
typedef STACK_OF(X509) cert_stack;

static void store_error(char *reason, size_t reason_len, const char *what, const char *path) {
  unsigned long code = ERR_peek_last_error();
  const char *detail = code ? ERR_reason_error_string(code) : NULL;
  snprintf(reason, reason_len, "cannot load %s%s%s: %s", what, path ? " " : "", path ? path : "",
           detail ? detail : "unknown error");
}

/* True when dir holds OpenSSL's hashed links (NNNNNNNN.0). */
static bool has_hashed_links(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return false;
  bool found = false;
  for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
    size_t n = strlen(e->d_name);
    found = n >= 10 && e->d_name[8] == '.' && strspn(e->d_name, "0123456789abcdef") == 8;
  }
  closedir(d);
  return found;
}

/* The system store, read lazily.  X509_STORE_set_default_paths parses the
 * whole bundle file up front (about 150 PEM certificates, 0.2 billion
 * instructions: most of a small capture's run), while the hashed directory
 * beside it is searched one CA at a time when a chain needs one.  Debian's
 * update-ca-certificates fills both from the same list.  A user who names a
 * bundle with SSL_CERT_FILE (other than the default one), or a system
 * without hashed links, gets the eager default. */
static bool same_file(const char *a, const char *b) {
  char ra[PATH_MAX], rb[PATH_MAX];
  return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

static bool load_default_lazily(X509_STORE *store) {
  const char *file = getenv(X509_get_default_cert_file_env());
  if (file && !same_file(file, X509_get_default_cert_file()))
    return false;
  const char *dir = getenv(X509_get_default_cert_dir_env());
  if (!dir)
    dir = X509_get_default_cert_dir();
  if (!dir || strchr(dir, ':') || !has_hashed_links(dir))
    return false;
  return X509_STORE_load_path(store, dir) == 1;
}

struct x509_store *x509_store_open(const struct x509_trust_opts *opts, char *reason,
                                   size_t reason_len) {
  struct x509_store *wrap = calloc(1, sizeof *wrap);
  if (!wrap || !(wrap->store = X509_STORE_new())) {
    snprintf(reason, reason_len, "cannot load the trust store: out of memory");
    free(wrap);
    return NULL;
  }
  const char *file = opts ? opts->ca_file : NULL;
  const char *path = opts ? opts->ca_path : NULL;
  bool ok = true;
  ERR_set_mark();
  if (!file && !path && !load_default_lazily(wrap->store)) {
    if (!(ok = X509_STORE_set_default_paths(wrap->store)))
      store_error(reason, reason_len, "the system trust store", NULL);
  }
  if (ok && file && !(ok = X509_STORE_load_file(wrap->store, file)))
    store_error(reason, reason_len, "CA file", file);
  if (ok && path && !(ok = X509_STORE_load_path(wrap->store, path)))
    store_error(reason, reason_len, "CA directory", path);
  ERR_pop_to_mark();
  if (!ok) {
    x509_store_close(wrap);
    return NULL;
  }
  return wrap;
}

void x509_store_close(struct x509_store *store) {
  if (!store)
    return;
  X509_STORE_free(store->store);
  free(store);
}

/* Seconds, rounded down also before the epoch. */
static time_t seconds_of(cap_time_us us) {
  int64_t seconds = us / US_PER_SEC;
  if (us % US_PER_SEC < 0)
    seconds--;
  return (time_t)seconds;
}

/* Each certificate issued by the next one (names, key identifiers, key
 * usage: X509_check_issued; signatures are the verifier's business). */
static bool chain_in_order(X509 *const *certs, size_t n) {
  for (size_t i = 0; i + 1 < n; i++)
    if (!certs[i] || !certs[i + 1] || X509_check_issued(certs[i + 1], certs[i]) != X509_V_OK)
      return false;
  return n > 0 && certs[0] != NULL;
}

static bool issuer_missing(int error) {
  return error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
         error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
         error == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

static void set_error(struct x509_trust *out, int error) {
  out->error = error;
  snprintf(out->reason, sizeof out->reason, "%s", X509_verify_cert_error_string(error));
}

/* Did the server send every certificate of the verified path below its
 * trust anchor?  The anchor (the last one) may come from the store; an
 * intermediate taken from the store means the server's chain is incomplete
 * (SSL Labs "chain issues: incomplete"). */
static bool sent_whole_path(cert_stack *path, X509 *leaf, cert_stack *untrusted) {
  int n = path ? sk_X509_num(path) : 0;
  for (int i = 1; i < n - 1; i++) {
    X509 *x = sk_X509_value(path, i);
    bool sent = X509_cmp(x, leaf) == 0;
    for (int k = 0; !sent && k < sk_X509_num(untrusted); k++)
      sent = X509_cmp(x, sk_X509_value(untrusted, k)) == 0;
    if (!sent)
      return false;
  }
  return true;
}

/* Would the chain verify if validity periods were not checked? */
static bool verifies_ignoring_time(X509_STORE *store, X509 *leaf, cert_stack *untrusted) {
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  bool ok = false;
  if (ctx && X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
    X509_STORE_CTX_set_default(ctx, "ssl_server");
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
    ok = X509_verify_cert(ctx) == 1;
  }
  X509_STORE_CTX_free(ctx);
  return ok;
}

/* Run ctx (initialised) as a TLS server's chain at packet time at: out's
 * verdict, error and path length, and the anchor's key when trusted.
 * Returns ctx's path, and libcrypto's error in *error. */
static cert_stack *verify_in(X509_STORE_CTX *ctx, cap_time_us at, struct x509_trust *out,
                             int *error) {
  X509_STORE_CTX_set_default(ctx, "ssl_server");
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), seconds_of(at));
  int verdict = X509_verify_cert(ctx);
  *error = X509_STORE_CTX_get_error(ctx);
  if (verdict != 1 && *error == X509_V_OK)
    *error = X509_V_ERR_UNSPECIFIED;
  out->trusted = verdict == 1;
  set_error(out, out->trusted ? X509_V_OK : *error);
  cert_stack *path = X509_STORE_CTX_get0_chain(ctx);
  out->chain_len_used = path ? (size_t)sk_X509_num(path) : 0;
  if (out->trusted && out->chain_len_used > 0) /* the anchor: the path's last certificate */
    x509_spki_sha256_hex(sk_X509_value(path, (int)out->chain_len_used - 1),
                         out->anchor_spki_sha256);
  return path;
}

static void verify_path(X509_STORE *store, X509 *leaf, cert_stack *untrusted, cap_time_us at,
                        struct x509_trust *out) {
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  if (!ctx || !X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
    X509_STORE_CTX_free(ctx);
    set_error(out, X509_V_ERR_OUT_OF_MEM);
    return;
  }
  int error;
  cert_stack *path = verify_in(ctx, at, out, &error);
  out->chain_complete = !issuer_missing(out->error);
  if (out->trusted && !sent_whole_path(path, leaf, untrusted))
    out->chain_complete = false; /* it verified only with intermediates from our store */
  X509_STORE_CTX_free(ctx);
  if (error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID)
    out->trusted_but_time = verifies_ignoring_time(store, leaf, untrusted);
}

/* Validity as the header words it (notAfter < at, notBefore > at, to the
 * microsecond).  libcrypto's verdict differs only at the instant of
 * notAfter itself, which it already counts as expired. */
static void check_leaf(X509 *leaf, const char *hostname, cap_time_us at, struct x509_trust *out) {
  cap_time_us not_before, not_after;
  struct tm tm;
  if (x509_asn1_time_us(X509_get0_notAfter(leaf), &not_after, &tm))
    out->expired = not_after < at;
  if (x509_asn1_time_us(X509_get0_notBefore(leaf), &not_before, &tm))
    out->not_yet_valid = not_before > at;
  out->self_signed = X509_self_signed(leaf, 1) == 1;
  if (hostname && *hostname) {
    out->hostname_checked = true;
    out->hostname_match = X509_check_host(leaf, hostname, strlen(hostname), 0, NULL) == 1;
  }
}

/* Decode the chain; certs[i] is NULL where libcrypto refused one. */
static X509 **decode_chain(const struct tls_cert *const *chain, size_t n, cert_stack **untrusted) {
  X509 **certs = calloc(n, sizeof *certs);
  *untrusted = sk_X509_new_null();
  if (!certs || !*untrusted) {
    free(certs);
    sk_X509_free(*untrusted);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const char *why;
    X509 *kept = chain[i]->x509; /* decoded when parsed: shared, not decoded again */
    certs[i] =
        kept && X509_up_ref(kept) ? kept : x509_decode_der(chain[i]->der, chain[i]->der_len, &why);
    if (i > 0 && certs[i] && !sk_X509_push(*untrusted, certs[i])) {
      X509_free(certs[i]);
      certs[i] = NULL;
    }
  }
  return certs;
}

int x509_trust_check_store(const struct x509_store *store, const struct tls_cert *const *chain,
                           size_t n, const char *hostname, cap_time_us at, struct x509_trust *out) {
  memset(out, 0, sizeof *out);
  if (!chain || n == 0)
    return 0;
  out->checked = true;
  ERR_set_mark();
  cert_stack *untrusted = NULL;
  X509 **certs = decode_chain(chain, n, &untrusted);
  if (!certs) {
    set_error(out, X509_V_ERR_OUT_OF_MEM);
  } else if (!certs[0]) {
    set_error(out, X509_V_ERR_UNSPECIFIED);
    snprintf(out->reason, sizeof out->reason, "libcrypto could not decode the leaf certificate");
  } else {
    verify_path(store->store, certs[0], untrusted, at, out);
    check_leaf(certs[0], hostname, at, out);
    out->chain_in_order = chain_in_order(certs, n);
  }
  if (certs) {
    X509_free(certs[0]); /* the others are owned by untrusted */
    free(certs);
    sk_X509_pop_free(untrusted, X509_free);
  }
  ERR_pop_to_mark();
  return 0;
}

int x509_trust_check(const struct tls_cert *chain, size_t n, const char *hostname, cap_time_us at,
                     const struct x509_trust_opts *opts, struct x509_trust *out) {
  memset(out, 0, sizeof *out);
  if (!chain || n == 0)
    return 0;
  const struct tls_cert **links = calloc(n, sizeof(*links));
  struct x509_store *store = links ? x509_store_open(opts, out->reason, sizeof out->reason) : NULL;
  if (!store) {
    if (!links)
      snprintf(out->reason, sizeof out->reason, "out of memory");
    free(links);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    links[i] = &chain[i];
  int rc = x509_trust_check_store(store, links, n, hostname, at, out);
  free(links);
  x509_store_close(store);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Intermediates from elsewhere: a pool of untrusted CA certificates   */

struct pool_cert {
  X509 *x509;
  char *where;
  bool has_times; /* libcrypto read both validity times: */
  cap_time_us not_before, not_after;
};

struct x509_pool {
  struct pool_cert *certs;
  size_t n, cap;
};

struct x509_pool *x509_pool_new(void) {
  return calloc(1, sizeof(struct x509_pool));
}

void x509_pool_free(struct x509_pool *pool) {
  if (!pool)
    return;
  for (size_t i = 0; i < pool->n; i++) {
    X509_free(pool->certs[i].x509);
    free(pool->certs[i].where);
  }
  free(pool->certs);
  free(pool);
}

size_t x509_pool_count(const struct x509_pool *pool) {
  return pool ? pool->n : 0;
}

/* Takes x509 when it is kept: a CA certificate (basicConstraints CA:TRUE,
 * X509_check_ca 1) not in the pool yet; the first place it was given from
 * is the one remembered. */
static bool pool_take(struct x509_pool *pool, X509 *x509, const char *where) {
  if (X509_check_ca(x509) != 1)
    return false;
  for (size_t i = 0; i < pool->n; i++)
    if (X509_cmp(pool->certs[i].x509, x509) == 0)
      return false;
  if (pool->n == pool->cap) {
    size_t cap = pool->cap ? 2 * pool->cap : 16;
    struct pool_cert *grown = realloc(pool->certs, cap * sizeof(*grown));
    if (!grown)
      return false;
    pool->certs = grown, pool->cap = cap;
  }
  char *copy = strdup(where ? where : "");
  if (!copy)
    return false;
  struct pool_cert *kept = &pool->certs[pool->n++];
  *kept = (struct pool_cert){x509, copy, false, 0, 0};
  struct tm tm;
  kept->has_times = x509_asn1_time_us(X509_get0_notBefore(x509), &kept->not_before, &tm) &&
                    x509_asn1_time_us(X509_get0_notAfter(x509), &kept->not_after, &tm);
  return true;
}

bool x509_pool_add(struct x509_pool *pool, const uint8_t *der, size_t len, const char *where) {
  const char *why;
  ERR_set_mark();
  X509 *x509 = x509_decode_der(der, len, &why);
  bool kept = x509 && pool_take(pool, x509, where);
  if (x509 && !kept)
    X509_free(x509);
  ERR_pop_to_mark();
  return kept;
}

bool x509_pool_add_cert(struct x509_pool *pool, const struct tls_cert *cert, const char *where) {
  X509 *x509 = cert->x509;
  if (!x509 || !X509_up_ref(x509))
    return x509_pool_add(pool, cert->der, cert->der_len, where);
  ERR_set_mark();
  bool kept = pool_take(pool, x509, where);
  if (!kept)
    X509_free(x509);
  ERR_pop_to_mark();
  return kept;
}

/* Every certificate of one PEM file; -1 when it cannot be read or holds
 * none. */
static int pool_load_file(struct x509_pool *pool, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  int read = 0;
  for (X509 *x; (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL; read++)
    if (!pool_take(pool, x, path))
      X509_free(x);
  fclose(f);
  return read ? 0 : -1;
}

int x509_pool_load(struct x509_pool *pool, const char *path, char *err, size_t errlen) {
  ERR_set_mark();
  DIR *d = opendir(path);
  int rc = 0;
  if (!d) {
    rc = pool_load_file(pool, path);
    if (rc < 0)
      snprintf(err, errlen, "cannot read %s: not a PEM file of certificates or a directory", path);
  } else {
    /* A directory: its PEM files; others (hashed links aside, the same
     * certificates again) are skipped, and an empty one is an error. */
    size_t before = pool->n;
    bool any = false;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
      char file[PATH_MAX];
      if (e->d_name[0] == '.' ||
          snprintf(file, sizeof file, "%s/%s", path, e->d_name) >= (int)sizeof file)
        continue;
      any = pool_load_file(pool, file) == 0 || any;
    }
    closedir(d);
    if (!any && pool->n == before) {
      snprintf(err, errlen, "cannot read %s: no PEM certificate in the directory", path);
      rc = -1;
    }
  }
  ERR_pop_to_mark();
  return rc;
}

/* Where the first certificate of the verified path that the server did not
 * send came from, if a pool gave it. */
static const char *path_source(cert_stack *path, X509 *leaf, const cert_stack *sent,
                               const struct x509_pool *const *pools, size_t n_pools) {
  for (int i = 1; path && i < sk_X509_num(path); i++) {
    X509 *x = sk_X509_value(path, i);
    bool was_sent = X509_cmp(x, leaf) == 0;
    for (int k = 0; !was_sent && k < sk_X509_num(sent); k++)
      was_sent = X509_cmp(x, sk_X509_value(sent, k)) == 0;
    for (size_t p = 0; !was_sent && p < n_pools; p++)
      for (size_t k = 0; pools[p] && k < pools[p]->n; k++)
        if (X509_cmp(x, pools[p]->certs[k].x509) == 0)
          return pools[p]->certs[k].where;
  }
  return NULL;
}

/* The path's certificates below the anchor that the server did not send. */
static void note_added(cert_stack *path, X509 *leaf, const cert_stack *sent,
                       struct x509_completion *done) {
  for (int i = 1; path && i < sk_X509_num(path) - 1 && done->n_added < 4; i++) {
    X509 *x = sk_X509_value(path, i);
    bool was_sent = X509_cmp(x, leaf) == 0;
    for (int k = 0; !was_sent && k < sk_X509_num(sent); k++)
      was_sent = X509_cmp(x, sk_X509_value(sent, k)) == 0;
    unsigned char *der = NULL;
    int len = was_sent ? 0 : i2d_X509(x, &der);
    if (len > 0) {
      done->added_der[done->n_added] = der;
      done->added_len[done->n_added++] = (size_t)len;
    }
  }
}

void x509_completion_clear(struct x509_completion *done) {
  for (size_t i = 0; i < done->n_added; i++)
    OPENSSL_free(done->added_der[i]);
  done->n_added = 0;
}

/* The issuer that no store or pool has: the name and AIA caIssuers URL of
 * the issuer of the certificate the path stopped at. */
static void name_missing(X509_STORE_CTX *ctx, struct x509_completion *done) {
  X509 *stuck = X509_STORE_CTX_get_current_cert(ctx);
  if (!stuck)
    return;
  char *name = x509_name_oneline(X509_get_issuer_name(stuck));
  char *url = x509_aia_ca_issuers(stuck);
  snprintf(done->missing_issuer, sizeof done->missing_issuer, "%s", name ? name : "");
  snprintf(done->missing_aia, sizeof done->missing_aia, "%s", url ? url : "");
  free(name);
  free(url);
}

/* Narrow [done->same_from, done->same_until] to the times around at at
 * which a certificate valid from not_before to not_after is in the state
 * (not yet valid, valid, expired) it is in at at, a second inside each
 * boundary; unknown times leave at alone. */
static void keep_state(bool has_times, cap_time_us not_before, cap_time_us not_after,
                       cap_time_us at, struct x509_completion *done) {
  const cap_time_us edges[2] = {not_before, not_after};
  for (int i = 0; i < 2; i++) {
    cap_time_us edge = edges[i];
    if (!has_times || (at >= edge - US_PER_SEC && at <= edge + US_PER_SEC))
      done->same_from = done->same_until = at;
    else if (at < edge && edge - US_PER_SEC - 1 < done->same_until)
      done->same_until = edge - US_PER_SEC - 1;
    else if (at > edge && edge + US_PER_SEC + 1 > done->same_from)
      done->same_from = edge + US_PER_SEC + 1;
  }
}

static void keep_state_of(X509 *x509, cap_time_us at, struct x509_completion *done) {
  cap_time_us not_before = 0, not_after = 0;
  struct tm tm;
  bool has_times = x509_asn1_time_us(X509_get0_notBefore(x509), &not_before, &tm) &&
                   x509_asn1_time_us(X509_get0_notAfter(x509), &not_after, &tm);
  keep_state(has_times, not_before, not_after, at, done);
}

/* The store's certificates named name (candidates for a path's issuer, or
 * the leaf itself as a trusted one). */
static void keep_state_of_named(X509_STORE_CTX *ctx, const X509_NAME *name, cap_time_us at,
                                struct x509_completion *done) {
  cert_stack *named = X509_STORE_CTX_get1_certs(ctx, (X509_NAME *)name);
  for (int i = 0; named && i < sk_X509_num(named); i++)
    keep_state_of(sk_X509_value(named, i), at, done);
  sk_X509_pop_free(named, X509_free);
}

/* The times around at at which the verdict stays the same: where no
 * certificate path building could have chosen changes validity.  Those
 * are the ones sent, the pools' and the store's of each subject and
 * issuer name on the path (the store is searched by name). */
static void same_verdict_times(X509_STORE_CTX *ctx, cert_stack *path, const cert_stack *sent,
                               X509 *leaf, const struct x509_pool *const *pools, size_t n_pools,
                               cap_time_us at, struct x509_completion *done) {
  done->same_from = INT64_MIN, done->same_until = INT64_MAX;
  keep_state_of(leaf, at, done);
  for (int k = 0; k < sk_X509_num(sent); k++)
    keep_state_of(sk_X509_value(sent, k), at, done);
  for (size_t p = 0; p < n_pools; p++)
    for (size_t k = 0; pools[p] && k < pools[p]->n; k++) {
      const struct pool_cert *c = &pools[p]->certs[k];
      keep_state(c->has_times, c->not_before, c->not_after, at, done);
    }
  for (int i = 0; path && i < sk_X509_num(path); i++) {
    X509 *x = sk_X509_value(path, i);
    keep_state_of(x, at, done);
    keep_state_of_named(ctx, X509_get_subject_name(x), at, done);
    keep_state_of_named(ctx, X509_get_issuer_name(x), at, done);
  }
  keep_state_of_named(ctx, X509_get_subject_name(leaf), at, done);
}

/* The path built from what the server sent and the pools' certificates, as
 * untrusted ones: a pool never adds a trust anchor. */
static void verify_completed(X509_STORE *store, X509 *leaf, cert_stack *sent,
                             const struct x509_pool *const *pools, size_t n_pools, cap_time_us at,
                             struct x509_trust *out, struct x509_completion *done) {
  cert_stack *untrusted = sk_X509_dup(sent);
  for (size_t p = 0; untrusted && p < n_pools; p++)
    for (size_t k = 0; pools[p] && k < pools[p]->n; k++)
      if (!sk_X509_push(untrusted, pools[p]->certs[k].x509)) {
        sk_X509_free(untrusted);
        untrusted = NULL;
        break;
      }
  X509_STORE_CTX *ctx = untrusted ? X509_STORE_CTX_new() : NULL;
  if (!ctx || !X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    set_error(out, X509_V_ERR_OUT_OF_MEM);
    return;
  }
  int error;
  cert_stack *path = verify_in(ctx, at, out, &error);
  out->chain_complete = !issuer_missing(out->error) && sent_whole_path(path, leaf, sent);
  done->found_in = path_source(path, leaf, sent, pools, n_pools);
  if (out->trusted)
    note_added(path, leaf, sent, done);
  if (issuer_missing(out->error))
    name_missing(ctx, done);
  same_verdict_times(ctx, path, sent, leaf, pools, n_pools, at, done);
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  if (error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID) {
    cert_stack *all = sk_X509_dup(sent);
    for (size_t p = 0; all && p < n_pools; p++)
      for (size_t k = 0; pools[p] && k < pools[p]->n; k++)
        sk_X509_push(all, pools[p]->certs[k].x509);
    out->trusted_but_time = all && verifies_ignoring_time(store, leaf, all);
    sk_X509_free(all);
  }
}

void x509_trust_complete(const struct x509_store *store, const struct x509_pool *const *pools,
                         size_t n_pools, const struct tls_cert *const *chain, size_t n,
                         const char *hostname, cap_time_us at, struct x509_trust *out,
                         struct x509_completion *done) {
  memset(out, 0, sizeof *out);
  memset(done, 0, sizeof *done);
  done->same_from = done->same_until = at;
  if (!chain || n == 0)
    return;
  out->checked = true;
  ERR_set_mark();
  cert_stack *sent = NULL;
  X509 **certs = decode_chain(chain, n, &sent);
  if (!certs) {
    set_error(out, X509_V_ERR_OUT_OF_MEM);
  } else if (!certs[0]) {
    set_error(out, X509_V_ERR_UNSPECIFIED);
    snprintf(out->reason, sizeof out->reason, "libcrypto could not decode the leaf certificate");
  } else {
    verify_completed(store->store, certs[0], sent, pools, n_pools, at, out, done);
    check_leaf(certs[0], hostname, at, out);
    out->chain_in_order = chain_in_order(certs, n);
  }
  if (certs) {
    X509_free(certs[0]);
    free(certs);
    sk_X509_pop_free(sent, X509_free);
  }
  ERR_pop_to_mark();
}
