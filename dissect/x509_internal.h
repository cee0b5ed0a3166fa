/*
 * dissect/x509_internal.h - what the certificate reader (x509.c) shares
 * with the chain verifier (x509_verify.c).  Private to dissect/.
 */
#ifndef TLSGRADE_DISSECT_X509_INTERNAL_H
#define TLSGRADE_DISSECT_X509_INTERNAL_H

#include "dissect/dissect.h"

#include <openssl/asn1.h>
#include <openssl/x509.h>
#include <time.h>

#define US_PER_SEC 1000000

/* The certificate, or NULL (with *why, static) when libcrypto refuses it
 * or bytes follow it (a Certificate entry holds exactly one certificate,
 * RFC 8446 4.4.2).  The caller frees it with X509_free. */
X509 *x509_decode_der(const uint8_t *der, size_t der_len, const char **why);
/* UTCTime or GeneralizedTime to microseconds since the epoch, and its
 * broken-down form; false when libcrypto finds it malformed. */
bool x509_asn1_time_us(const ASN1_TIME *when, cap_time_us *us, struct tm *tm);
/* Lower-case hex SHA-256 of the certificate's SubjectPublicKeyInfo DER. */
void x509_spki_sha256_hex(X509 *x509, char out[65]);
char *x509_name_oneline(const X509_NAME *name); /* RFC 2253, malloc'd (x509.c) */
char *x509_aia_ca_issuers(X509 *x509);          /* AIA caIssuers URI, malloc'd or NULL */

#endif
