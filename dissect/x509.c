/*
 * dissect/x509.c - certificate facts through libcrypto: the fields of one
 * certificate (names, key, signature, validity, extensions).  Whether a
 * chain is trusted is x509_verify.c's job.
 *
 * Every byte of a certificate is decoded by OpenSSL (d2i_X509 and the
 * extension decoders); this file only copies out what libcrypto found.
 * Nothing here is global: an X509 lives for one call.
 *
 * Strings copied from the certificate are kept raw (the report sanitises
 * them per output format) with one exception: in commonName and dNSName
 * values a NUL, ',' and '\' are written "\x00", "\x2c" and "\x5c".  NUL
 * would otherwise cut the C string ("www.bank.example\0.evil.example"),
 * and with ',' escaped the commonNames of a name can be joined with ','
 * into one string that still splits unambiguously - the form tshark uses
 * for its cert_subject_cn / cert_san columns.
 */
#include "dissect/x509_internal.h"
#include "base/hex.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/ct.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 7633 TLS Feature value of status_request (RFC 6066 section 8). */
#define TLS_FEATURE_STATUS_REQUEST 5

/* ------------------------------------------------------------------ */
/* Small string helpers                                                */

static char *dup_text(const char *text, size_t len) {
  char *copy = malloc(len + 1);
  if (!copy)
    return NULL;
  memcpy(copy, text, len);
  copy[len] = '\0';
  return copy;
}

static bool needs_escape(uint8_t byte) {
  return byte == '\0' || byte == ',' || byte == '\\';
}

/* Length of bytes[0..len) once escaped (see the head of the file). */
static size_t escaped_len(const uint8_t *bytes, size_t len) {
  size_t out = 0;
  for (size_t i = 0; i < len; i++)
    out += needs_escape(bytes[i]) ? 4 : 1;
  return out;
}

/* Writes the escaped bytes at dst (escaped_len() bytes, no NUL). */
static char *escape_into(char *dst, const uint8_t *bytes, size_t len) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    if (needs_escape(bytes[i])) {
      *dst++ = '\\';
      *dst++ = 'x';
      *dst++ = hex[bytes[i] >> 4];
      *dst++ = hex[bytes[i] & 0x0f];
    } else {
      *dst++ = (char)bytes[i];
    }
  }
  return dst;
}

static char *dup_escaped(const uint8_t *bytes, size_t len) {
  char *copy = malloc(escaped_len(bytes, len) + 1);
  if (!copy)
    return NULL;
  *escape_into(copy, bytes, len) = '\0';
  return copy;
}

/* Dotted text of an OID, allocated (NULL when out of memory). */
static char *oid_text_dup(const ASN1_OBJECT *obj) {
  int len = OBJ_obj2txt(NULL, 0, obj, 1);
  if (len < 0)
    len = 0;
  char *text = malloc((size_t)len + 1);
  if (!text)
    return NULL;
  if (OBJ_obj2txt(text, len + 1, obj, 1) < 0)
    text[0] = '\0';
  return text;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */

/* The certificate, or NULL when libcrypto refuses it or bytes follow it
 * (a Certificate entry holds exactly one certificate, RFC 8446 4.4.2). */
X509 *x509_decode_der(const uint8_t *der, size_t der_len, const char **why) {
  *why = "libcrypto could not decode the certificate";
  if (!der || der_len == 0 || der_len > LONG_MAX)
    return NULL;
  const unsigned char *cursor = der;
  X509 *cert = d2i_X509(NULL, &cursor, (long)der_len);
  if (cert && cursor != der + der_len) {
    *why = "bytes after the certificate's DER";
    X509_free(cert);
    return NULL;
  }
  return cert;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

/* RFC 2253 one-line form; UTF-8 is kept (no \XX for bytes >= 0x80). */
char *x509_name_oneline(const X509_NAME *name) {
  BIO *bio = BIO_new(BIO_s_mem());
  if (!bio)
    return NULL;
  char *text = NULL;
  if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    text = dup_text(len > 0 ? data : "", len > 0 ? (size_t)len : 0);
  }
  BIO_free(bio);
  return text;
}

/* The first caIssuers URI of the Authority Information Access extension
 * (RFC 5280 4.2.2.1): where the issuer's certificate can be fetched;
 * malloc'd, NULL when there is none. */
char *x509_aia_ca_issuers(X509 *x509) {
  AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x509, NID_info_access, NULL, NULL);
  char *url = NULL;
  for (int i = 0; aia && !url && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
    const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
    if (OBJ_obj2nid(ad->method) != NID_ad_ca_issuers || ad->location->type != GEN_URI)
      continue;
    const ASN1_IA5STRING *uri = ad->location->d.uniformResourceIdentifier;
    url = dup_text((const char *)ASN1_STRING_get0_data(uri), (size_t)ASN1_STRING_length(uri));
  }
  AUTHORITY_INFO_ACCESS_free(aia);
  return url;
}

/* One commonName's value, as UTF-8 when libcrypto can convert it (BMP,
 * Universal and Teletex strings), else as its raw bytes. */
struct cn_value {
  const uint8_t *bytes;
  size_t len;
  unsigned char *utf8; /* owned by libcrypto's allocator, or NULL */
};

static void cn_value_get(const X509_NAME *name, int index, struct cn_value *value) {
  const ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  int utf8_len = ASN1_STRING_to_UTF8(&value->utf8, data);
  if (utf8_len >= 0) {
    value->bytes = value->utf8;
    value->len = (size_t)utf8_len;
  } else {
    value->utf8 = NULL;
    value->bytes = ASN1_STRING_get0_data(data);
    value->len = (size_t)ASN1_STRING_length(data);
  }
}

/* Every value of attribute nid (commonName, organizationName) in DER
 * order, escaped, joined with ','; "" without. */
static char *name_values(const X509_NAME *name, int nid) {
  size_t count = 0;
  for (int i = -1; (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0;)
    count++;
  struct cn_value *values = calloc(count ? count : 1, sizeof *values);
  if (!values)
    return NULL;
  size_t total = 0, filled = 0;
  for (int i = -1; filled < count && (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0;) {
    cn_value_get(name, i, &values[filled]);
    total += (filled ? 1 : 0) + escaped_len(values[filled].bytes, values[filled].len);
    filled++;
  }
  char *joined = malloc(total + 1), *dst = joined;
  for (size_t k = 0; k < filled; k++) {
    if (dst) {
      if (k > 0)
        *dst++ = ',';
      dst = escape_into(dst, values[k].bytes, values[k].len);
    }
    OPENSSL_free(values[k].utf8);
  }
  if (dst)
    *dst = '\0';
  free(values);
  return joined;
}

/* ------------------------------------------------------------------ */
/* Extensions                                                          */

static bool read_san(X509 *x509, struct tls_cert *cert) {
  GENERAL_NAMES *names = X509_get_ext_d2i(x509, NID_subject_alt_name, NULL, NULL);
  if (!names)
    return true;
  int total = sk_GENERAL_NAME_num(names);
  cert->san = calloc(total > 0 ? (size_t)total : 1, sizeof *cert->san);
  bool ok = cert->san != NULL;
  for (int i = 0; ok && i < total; i++) {
    const GENERAL_NAME *gen = sk_GENERAL_NAME_value(names, i);
    if (gen->type != GEN_DNS)
      continue;
    const ASN1_IA5STRING *dns = gen->d.dNSName;
    char *copy = dup_escaped(ASN1_STRING_get0_data(dns), (size_t)ASN1_STRING_length(dns));
    if (!copy)
      ok = false;
    else
      cert->san[cert->n_san++] = copy;
  }
  GENERAL_NAMES_free(names);
  return ok;
}

static bool read_policies(X509 *x509, struct tls_cert *cert) {
  CERTIFICATEPOLICIES *policies = X509_get_ext_d2i(x509, NID_certificate_policies, NULL, NULL);
  if (!policies)
    return true;
  int total = sk_POLICYINFO_num(policies);
  cert->policies = calloc(total > 0 ? (size_t)total : 1, sizeof *cert->policies);
  bool ok = cert->policies != NULL;
  for (int i = 0; ok && i < total; i++) {
    char *oid = oid_text_dup(sk_POLICYINFO_value(policies, i)->policyid);
    if (!oid)
      ok = false;
    else
      cert->policies[cert->n_policies++] = oid;
  }
  CERTIFICATEPOLICIES_free(policies);
  return ok;
}

/* RFC 7633: a TLS Feature extension listing status_request. */
static bool has_must_staple(X509 *x509) {
  TLS_FEATURE *features = X509_get_ext_d2i(x509, NID_tlsfeature, NULL, NULL);
  if (!features)
    return false;
  bool found = false;
  for (int i = 0; i < sk_ASN1_INTEGER_num(features); i++)
    if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i)) == TLS_FEATURE_STATUS_REQUEST)
      found = true;
  TLS_FEATURE_free(features);
  return found;
}

/* The logs of the embedded SCT list, each once (libcrypto parses the
 * list; a log id is the SHA-256 of the log's key, RFC 6962 3.2). */
static void read_sct_logs(X509 *x509, struct tls_cert *cert) {
  STACK_OF(SCT) *scts = X509_get_ext_d2i(x509, NID_ct_precert_scts, NULL, NULL);
  int n = scts ? sk_SCT_num(scts) : 0;
  if (n > 0)
    cert->sct_logs = calloc(n < TLS_CERT_SCT_LOGS ? (size_t)n : TLS_CERT_SCT_LOGS, 32);
  for (int i = 0; cert->sct_logs && i < n && cert->n_sct_logs < TLS_CERT_SCT_LOGS; i++) {
    unsigned char *id = NULL;
    if (SCT_get0_log_id(sk_SCT_value(scts, i), &id) != 32 || !id)
      continue;
    bool seen = false;
    for (size_t k = 0; k < cert->n_sct_logs && !seen; k++)
      seen = memcmp(cert->sct_logs[k], id, 32) == 0;
    if (!seen)
      memcpy(cert->sct_logs[cert->n_sct_logs++], id, 32);
  }
  SCT_LIST_free(scts);
}

static void read_flags(X509 *x509, struct tls_cert *cert) {
  BASIC_CONSTRAINTS *constraints = X509_get_ext_d2i(x509, NID_basic_constraints, NULL, NULL);
  cert->is_ca = constraints && constraints->ca;
  BASIC_CONSTRAINTS_free(constraints);
  cert->self_signed = X509_self_signed(x509, 1) == 1;
  cert->must_staple = has_must_staple(x509);
  /* RFC 6962 3.3: embedded SCT list, 1.3.6.1.4.1.11129.2.4.2 */
  cert->has_sct_list = X509_get_ext_by_NID(x509, NID_ct_precert_scts, -1) >= 0;
  if (cert->has_sct_list)
    read_sct_logs(x509, cert);
}

/* ------------------------------------------------------------------ */
/* Key and signature                                                   */

static uint8_t key_type_of(int base_id) {
  switch (base_id) {
  case EVP_PKEY_RSA:
  case EVP_PKEY_RSA_PSS:
    return TLS_KEY_RSA;
  case EVP_PKEY_DSA:
    return TLS_KEY_DSA;
  case EVP_PKEY_EC:
  case EVP_PKEY_SM2:
    return TLS_KEY_EC;
  case EVP_PKEY_ED25519:
    return TLS_KEY_ED25519;
  case EVP_PKEY_ED448:
    return TLS_KEY_ED448;
  case EVP_PKEY_DH:
  case EVP_PKEY_DHX:
    return TLS_KEY_DH;
  default:
    return TLS_KEY_OTHER;
  }
}

/* A key libcrypto cannot load (an algorithm it does not know, such as
 * ML-DSA before OpenSSL 3.5) is TLS_KEY_OTHER with 0 bits. */
/* The key's fingerprint, to find the same key on other servers (DROWN). */
void x509_spki_sha256_hex(X509 *x509, char out[65]) {
  unsigned char *der = NULL;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509), &der);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (len > 0 && EVP_Digest(der, (size_t)len, digest, &digest_len, tls_sha256(), NULL) &&
      digest_len == 32)
    hex_encode(out, digest, digest_len);
  OPENSSL_free(der);
}

static void read_spki(X509 *x509, struct tls_cert *cert) {
  x509_spki_sha256_hex(x509, cert->spki_sha256);
}

/* The fingerprint Debian's openssl-vulnkey (package openssl-blacklist) looks
 * up for an RSA key: SHA-1 of the text `openssl x509 -noout -modulus`
 * prints, "Modulus=<HEX>\n".  That text comes from BN_print: upper-case hex
 * without leading zero digits, where BN_bn2hex pads to whole bytes, so a
 * leading '0' digit is dropped.  The lists keep the last 80 bits. */
static void read_weak_key_fp(EVP_PKEY *key, struct tls_cert *cert) {
  BIGNUM *modulus = NULL;
  if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &modulus))
    return;
  char *hex = BN_bn2hex(modulus);
  BN_free(modulus);
  if (!hex)
    return;
  const char *sign = hex[0] == '-' ? "-" : "";
  const char *digits = hex + strlen(sign);
  if (digits[0] == '0' && digits[1])
    digits++;
  size_t text_len = strlen("Modulus=") + strlen(sign) + strlen(digits) + 1;
  char *text = malloc(text_len + 1);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (text) {
    snprintf(text, text_len + 1, "Modulus=%s%s\n", sign, digits);
    if (EVP_Digest(text, text_len, digest, &digest_len, EVP_sha1(), NULL) && digest_len == 20) {
      memcpy(cert->weak_key_fp, digest + 20 - sizeof cert->weak_key_fp, sizeof cert->weak_key_fp);
      cert->has_weak_key_fp = true;
    }
  }
  free(text);
  OPENSSL_free(hex);
}

static void read_key(X509 *x509, struct tls_cert *cert) {
  read_spki(x509, cert);
  EVP_PKEY *key = X509_get0_pubkey(x509);
  cert->key_type = TLS_KEY_OTHER;
  if (!key)
    return;
  cert->key_type = key_type_of(EVP_PKEY_get_base_id(key));
  cert->key_bits = EVP_PKEY_get_bits(key);
  if (cert->key_bits < 0)
    cert->key_bits = 0;
  /* The corpus convention (shared/corpus/README.md, cert_key_bits) gives
   * Ed25519 253 bits (the size of the group order), where OpenSSL 3.0 says
   * 256; Ed448 is 456 in both. */
  if (cert->key_type == TLS_KEY_ED25519)
    cert->key_bits = 253;
  BIGNUM *e = NULL;
  if (cert->key_type == TLS_KEY_RSA && EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
    cert->rsa_exponent_one = BN_is_one(e);
  BN_free(e);
  if (cert->key_type == TLS_KEY_RSA)
    read_weak_key_fp(key, cert);
  if (cert->key_type == TLS_KEY_EC &&
      !EVP_PKEY_get_group_name(key, cert->key_curve, sizeof cert->key_curve, NULL))
    snprintf(cert->key_curve, sizeof cert->key_curve, "explicit");
}

static void read_signature(X509 *x509, struct tls_cert *cert) {
  const X509_ALGOR *algorithm = NULL;
  const ASN1_OBJECT *oid = NULL;
  X509_get0_signature(NULL, &algorithm, x509);
  X509_ALGOR_get0(&oid, NULL, NULL, algorithm);
  if (!oid)
    return;
  if (OBJ_obj2txt(cert->sig_oid, sizeof cert->sig_oid, oid, 1) < 0)
    cert->sig_oid[0] = '\0';
  int nid = OBJ_obj2nid(oid);
  const char *name = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;
  snprintf(cert->sig_alg, sizeof cert->sig_alg, "%s", name ? name : cert->sig_oid);
}

/* ------------------------------------------------------------------ */
/* Times                                                               */

/* Days from 1970-01-01 to a proleptic Gregorian date; negative before.
 * (The era arithmetic of H. Hinnant's days_from_civil.) */
static int64_t days_from_civil(int64_t year, int month, int day) {
  year -= month <= 2;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t year_of_era = year - era * 400;
  int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

/* UTCTime or GeneralizedTime to microseconds since the epoch; false when
 * libcrypto finds it malformed.  Works before 1970 (no time_t involved). */
bool x509_asn1_time_us(const ASN1_TIME *when, cap_time_us *us, struct tm *tm) {
  memset(tm, 0, sizeof *tm);
  if (!when || !ASN1_TIME_to_tm(when, tm)) /* NULL would mean "now" */
    return false;
  int64_t days = days_from_civil((int64_t)tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
  int64_t seconds = days * 86400 + tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
  *us = (cap_time_us)(seconds * US_PER_SEC);
  return true;
}

/* "YYYY-MM-DD HH:MM:SS"; a time libcrypto refuses is shown as "raw:" and
 * its printable characters (as tshark does), with *us = 0. */
static void read_time(const ASN1_TIME *when, char out[32], cap_time_us *us) {
  struct tm tm;
  *us = 0;
  if (x509_asn1_time_us(when, us, &tm)) {
    unsigned year = (unsigned)(tm.tm_year + 1900) % 10000u;
    snprintf(out, 32, "%04u-%02u-%02u %02u:%02u:%02u", year, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u);
    return;
  }
  size_t at = (size_t)snprintf(out, 32, "raw:");
  const uint8_t *bytes = when ? ASN1_STRING_get0_data(when) : NULL;
  int len = when ? ASN1_STRING_length(when) : 0;
  for (int i = 0; bytes && i < len && at + 1 < 32; i++)
    if (bytes[i] >= 0x20 && bytes[i] < 0x7f)
      out[at++] = (char)bytes[i];
  out[at] = '\0';
}

/* ------------------------------------------------------------------ */
/* Serial and fingerprint                                              */

/* Hex of the DER INTEGER's content octets, as encoded (a leading 00 that
 * keeps a positive number positive is kept, like tshark shows it). */
static char *serial_hex(X509 *x509) {
  const ASN1_INTEGER *serial = X509_get0_serialNumber(x509);
  unsigned char *der = NULL;
  int der_len = i2d_ASN1_INTEGER(serial, &der);
  if (der_len <= 0)
    return dup_text("", 0);
  const unsigned char *content = der;
  long content_len = 0;
  int tag, xclass;
  char *hex = NULL;
  if (!(ASN1_get_object(&content, &content_len, &tag, &xclass, der_len) & 0x80) &&
      content_len >= 0 && (hex = malloc(2 * (size_t)content_len + 1)) != NULL)
    hex_encode(hex, content, (size_t)content_len);
  OPENSSL_free(der);
  return hex;
}

static void read_sha256(struct tls_cert *cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (cert->der && cert->der_len &&
      EVP_Digest(cert->der, cert->der_len, digest, &digest_len, tls_sha256(), NULL) &&
      digest_len == 32)
    hex_encode(cert->sha256, digest, digest_len);
}

/* ------------------------------------------------------------------ */
/* x509_cert_parse / x509_cert_clear                                   */

static void free_list(char **list, size_t count) {
  for (size_t i = 0; i < count; i++)
    free(list[i]);
  free(list);
}

/* Free and zero every fact, keeping der and der_len. */
static void reset_facts(struct tls_cert *cert) {
  uint8_t *der = cert->der;
  size_t der_len = cert->der_len;
  X509_free(cert->x509);
  free(cert->subject);
  free(cert->issuer);
  free(cert->subject_cn);
  free(cert->issuer_cn);
  free(cert->subject_o);
  free(cert->issuer_o);
  free(cert->serial_hex);
  free_list(cert->san, cert->n_san);
  free_list(cert->policies, cert->n_policies);
  free(cert->sct_logs);
  memset(cert, 0, sizeof *cert);
  cert->der = der;
  cert->der_len = der_len;
}

/* false when memory ran out. */
static bool read_facts(X509 *x509, struct tls_cert *cert) {
  const X509_NAME *subject = X509_get_subject_name(x509);
  const X509_NAME *issuer = X509_get_issuer_name(x509);
  cert->subject = x509_name_oneline(subject);
  cert->issuer = x509_name_oneline(issuer);
  cert->subject_cn = name_values(subject, NID_commonName);
  cert->issuer_cn = name_values(issuer, NID_commonName);
  cert->subject_o = name_values(subject, NID_organizationName);
  cert->issuer_o = name_values(issuer, NID_organizationName);
  cert->serial_hex = serial_hex(x509);
  if (!cert->subject || !cert->issuer || !cert->subject_cn || !cert->issuer_cn ||
      !cert->subject_o || !cert->issuer_o || !cert->serial_hex)
    return false;
  if (!read_san(x509, cert) || !read_policies(x509, cert))
    return false;
  read_key(x509, cert);
  read_signature(x509, cert);
  read_time(X509_get0_notBefore(x509), cert->not_before, &cert->not_before_us);
  read_time(X509_get0_notAfter(x509), cert->not_after, &cert->not_after_us);
  read_flags(x509, cert);
  return true;
}

void x509_cert_parse(struct tls_cert *cert) {
  reset_facts(cert);
  read_sha256(cert);
  /* libcrypto's error queue is per thread; leave it as we found it */
  ERR_set_mark();
  X509 *x509 = x509_decode_der(cert->der, cert->der_len, &cert->parse_error);
  if (x509) {
    bool complete = read_facts(x509, cert);
    if (complete) {
      cert->parsed = true;
      cert->parse_error = NULL;
      cert->x509 = x509; /* for verification (x509_verify.c) */
    } else {
      X509_free(x509);
      char sha256[sizeof cert->sha256];
      memcpy(sha256, cert->sha256, sizeof sha256);
      reset_facts(cert);
      memcpy(cert->sha256, sha256, sizeof sha256);
      cert->parse_error = "out of memory while reading the certificate";
    }
  }
  ERR_pop_to_mark();
}

bool x509_cert_copy_der(struct tls_cert *to, const struct tls_cert *from) {
  to->der = malloc(from->der_len ? from->der_len : 1);
  if (!to->der)
    return false;
  if (from->der_len)
    memcpy(to->der, from->der, from->der_len);
  to->der_len = from->der_len;
  if (from->x509 && X509_up_ref(from->x509))
    to->x509 = from->x509;
  return true;
}

void x509_cert_clear(struct tls_cert *cert) {
  if (!cert)
    return;
  reset_facts(cert);
  free(cert->der);
  memset(cert, 0, sizeof *cert);
}
