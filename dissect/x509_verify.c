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

static void verify_path(X509_STORE *store, X509 *leaf, cert_stack *untrusted, cap_time_us at,
                        struct x509_trust *out) {
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  if (!ctx || !X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
    X509_STORE_CTX_free(ctx);
    set_error(out, X509_V_ERR_OUT_OF_MEM);
    return;
  }
  X509_STORE_CTX_set_default(ctx, "ssl_server");
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), seconds_of(at));
  int verdict = X509_verify_cert(ctx);
  int error = X509_STORE_CTX_get_error(ctx);
  if (verdict != 1 && error == X509_V_OK)
    error = X509_V_ERR_UNSPECIFIED;
  out->trusted = verdict == 1;
  set_error(out, out->trusted ? X509_V_OK : error);
  out->chain_complete = !issuer_missing(out->error);
  cert_stack *path = X509_STORE_CTX_get0_chain(ctx);
  out->chain_len_used = path ? (size_t)sk_X509_num(path) : 0;
  if (out->trusted && !sent_whole_path(path, leaf, untrusted))
    out->chain_complete = false; /* it verified only with intermediates from our store */
  if (out->trusted && out->chain_len_used > 0) /* the anchor: the path's last certificate */
    x509_spki_sha256_hex(sk_X509_value(path, (int)out->chain_len_used - 1),
                         out->anchor_spki_sha256);
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
    certs[i] = x509_decode_der(chain[i]->der, chain[i]->der_len, &why);
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
