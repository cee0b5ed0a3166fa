/*
 * dissect/x509_store.h - a trust store loaded once and reused (private to
 * dissect/, implemented in x509.c).
 *
 * x509_trust_check() loads its store on every call, which for the system
 * bundle means parsing some hundred certificates each time.  A caller that
 * checks many chains opens a store once, checks with it, and closes it.
 * An open store is only read while checking, so threads may share one
 * (libcrypto locks its lookups); open and close it outside the workers.
 */
#ifndef TLSGRADE_DISSECT_X509_STORE_H
#define TLSGRADE_DISSECT_X509_STORE_H

#include "dissect/dissect.h"

struct x509_store;

/* CA file and/or directory of opts; the system defaults when opts is NULL
 * or both are NULL.  NULL when they cannot be loaded: why in reason. */
struct x509_store *x509_store_open(const struct x509_trust_opts *opts, char *reason,
                                   size_t reason_len);
void x509_store_close(struct x509_store *store);

/* x509_trust_check() against an open store; always returns 0. */
int x509_trust_check_store(const struct x509_store *store, const struct tls_cert *chain, size_t n,
                           const char *hostname, cap_time_us at, struct x509_trust *out);

#endif
