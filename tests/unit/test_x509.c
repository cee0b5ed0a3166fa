/*
 * tests/unit/test_x509.c - dissect/x509.c and x509_verify.c: certificate
 * facts, malformed DER, chain trust.
 *
 * Where the expected values come from:
 *  - Corpus certificates (tests/data/x509/CAPTURE-IDX.der, written by
 *    tests/data/x509/extract-corpus.sh): the row of tshark's reference
 *    corpus/expected/CAPTURE.tshark.tsv cited above each test (line number
 *    in that file); what the TSV has no column for (names, cA, policies,
 *    extensions) from tshark's PDML of the same frame (x509af.rdnSequence,
 *    x509ce.cA, x509ce.policyIdentifier, x509af.extension.id), attribute
 *    names turned into RFC 2253 keywords (emailAddress: OpenSSL's name).
 *    Self-signatures: `openssl verify -no_check_time -CAfile C C`.  Epoch
 *    seconds: `date -u -d '...' +%s`.
 *  - The test PKI (tests/data/x509/pki-*): what tests/data/x509/make-pki.sh
 *    asked openssl for (names, keys, dates, serial, extensions).
 *  - Verification error numbers: libcrypto's X509_V_ERR_* constants.
 *
 * Run from the repository root (paths below are relative to it).
 */
#include "dissect/dissect.h"
#include "dissect/dissect.h"
#include "harness.h"

#include <openssl/opensslv.h>
#include <openssl/x509_vfy.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA "tests/data/x509/"
#define ROOT_PEM DATA "pki-root.pem"
#define US(seconds) ((cap_time_us)(seconds)*1000000)

/* 2025-01-01 00:00:00 UTC: inside every PKI validity but the expired and
 * future leaves' */
#define AT_2025 US(1735689600)

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

/* cert owns a copy of the file's bytes and is parsed. */
static void load(struct tls_cert *cert, const char *path) {
  memset(cert, 0, sizeof *cert);
  cert->der = read_file(path, &cert->der_len);
  CHECK(cert->der != NULL);
  x509_cert_parse(cert);
}

/* The dNSNames joined with ',' (each already escaped by x509.c the way
 * tshark writes a list item), compared to a cert_san column verbatim. */
static bool san_is(const struct tls_cert *cert, const char *tsv_column) {
  size_t at = 0, len = strlen(tsv_column);
  for (size_t i = 0; i < cert->n_san; i++) {
    size_t item = strlen(cert->san[i]);
    if (i > 0 && tsv_column[at++] != ',')
      return false;
    if (at + item > len || memcmp(tsv_column + at, cert->san[i], item) != 0)
      return false;
    at += item;
  }
  return at == len;
}

/* ------------------------------------------------------------------ */
/* Corpus certificates                                                 */

/* zeek__signed_certificate_timestamp.pcap.tshark.tsv line 6 (frame 9,
 * cert_idx 0): RSA-2048, sha256WithRSAEncryption. */
static void test_rsa2048_sha256(void) {
  struct tls_cert c;
  load(&c, DATA "zeek__signed_certificate_timestamp-0.der");
  CHECK(c.parsed);
  CHECK(c.parse_error == NULL);
  CHECK_STR(c.subject_cn, "ritter.vg");
  CHECK_STR(c.issuer_cn, "COMODO RSA Domain Validation Secure Server CA");
  CHECK_STR(c.subject, "CN=ritter.vg,OU=PositiveSSL,OU=Domain Control Validated");
  CHECK_STR(c.issuer, "CN=COMODO RSA Domain Validation Secure Server CA,O=COMODO CA Limited,"
                      "L=Salford,ST=Greater Manchester,C=GB");
  CHECK_EQ_U(c.key_type, TLS_KEY_RSA);
  CHECK_EQ_U(c.key_bits, 2048);
  CHECK_STR(c.key_curve, "");
  CHECK_STR(c.sig_alg, "sha256WithRSAEncryption");
  CHECK_STR(c.sig_oid, "1.2.840.113549.1.1.11");
  CHECK_STR(c.not_before, "2014-07-31 00:00:00");
  CHECK_STR(c.not_after, "2019-07-30 23:59:59");
  CHECK(c.not_before_us == US(1406764800));
  CHECK(c.not_after_us == US(1564531199));
  CHECK_STR(c.serial_hex, "7b60cd98584a56ec9c2145c40c54f830");
  CHECK_STR(c.sha256, "4c3fbfbac7589ee68d753f806acc822cbd5082c735fdc3fce3924dc32959288f");
  CHECK_EQ_U(c.n_san, 2);
  CHECK(san_is(&c, "ritter.vg,www.ritter.vg"));
  /* pdml: basicConstraints without cA; policies; no SCT / TLS feature ext */
  CHECK(!c.is_ca);
  CHECK(!c.self_signed);
  CHECK(!c.must_staple);
  CHECK(!c.has_sct_list);
  CHECK_EQ_U(c.n_policies, 2);
  if (c.n_policies == 2) {
    CHECK_STR(c.policies[0], "1.3.6.1.4.1.6449.1.2.1.3.4");
    CHECK_STR(c.policies[1], "2.23.140.1.2.1");
  }
  x509_cert_clear(&c);
}

/* ndpi__tls_malicious_sha1.pcapng.tshark.tsv line 6 (frame 8, cert_idx 0):
 * RSA-2048 with an embedded SCT list (1.3.6.1.4.1.11129.2.4.2 in pdml). */
static void test_rsa_with_sct_list(void) {
  struct tls_cert c;
  load(&c, DATA "ndpi__tls_malicious_sha1-0.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "www.prbtest.dev");
  CHECK_STR(c.issuer_cn, "GTS CA 1D4");
  CHECK_STR(c.subject, "CN=www.prbtest.dev");
  CHECK_STR(c.issuer, "CN=GTS CA 1D4,O=Google Trust Services LLC,C=US");
  CHECK_EQ_U(c.key_type, TLS_KEY_RSA);
  CHECK_EQ_U(c.key_bits, 2048);
  CHECK_STR(c.sig_oid, "1.2.840.113549.1.1.11");
  CHECK_STR(c.not_before, "2023-11-28 12:50:11");
  CHECK_STR(c.not_after, "2024-02-26 13:39:22");
  CHECK_STR(c.serial_hex, "2a6700758d85123e104220244463e1c0");
  CHECK_STR(c.sha256, "bb83d6453de7080add19352689b912b83670e7d8f35eb88cc5ccd6919cd04b4c");
  CHECK_EQ_U(c.n_san, 1);
  CHECK(san_is(&c, "www.prbtest.dev"));
  CHECK(c.has_sct_list);
  CHECK(!c.must_staple);
  CHECK(!c.is_ca);
  CHECK_EQ_U(c.n_policies, 2);
  if (c.n_policies == 2) {
    CHECK_STR(c.policies[0], "2.23.140.1.2.1");
    CHECK_STR(c.policies[1], "1.3.6.1.4.1.11129.2.5.3");
  }
  x509_cert_clear(&c);
}

/* ndpi__tls_1.2_unidirectional_server.pcapng.tshark.tsv line 5 (frame 6,
 * cert_idx 0): ECDSA P-256 key (tshark: id-ecPublicKey:secp256r1, which
 * OpenSSL calls prime256v1), serial with a leading 00, 17 SANs. */
static void test_ecdsa_p256(void) {
  struct tls_cert c;
  load(&c, DATA "ndpi__tls_1.2_unidirectional_server-0.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "upload.video.google.com");
  CHECK_STR(c.issuer_cn, "GTS CA 1C3");
  CHECK_EQ_U(c.key_type, TLS_KEY_EC);
  CHECK_EQ_U(c.key_bits, 256);
  CHECK_STR(c.key_curve, "prime256v1");
  CHECK_STR(c.sig_alg, "sha256WithRSAEncryption");
  CHECK_STR(c.sig_oid, "1.2.840.113549.1.1.11");
  CHECK_STR(c.not_before, "2022-06-06 09:17:59");
  CHECK_STR(c.not_after, "2022-08-29 09:17:58");
  CHECK(c.not_before_us == US(1654507079));
  CHECK(c.not_after_us == US(1661764678));
  CHECK_STR(c.serial_hex, "00aa9bf2d957093f7112efe42b5264036e");
  CHECK_STR(c.sha256, "6661cf7367d256adb7f0a1681d32029101185184220cf08c1390ad59bdf45759");
  CHECK_EQ_U(c.n_san, 17);
  CHECK(san_is(&c, "upload.video.google.com,*.clients.google.com,*.docs.google.com,"
                   "*.drive.google.com,*.gdata.youtube.com,*.googleapis.com,"
                   "*.photos.google.com,*.youtube-3rd-party.com,upload.google.com,"
                   "*.upload.google.com,upload.youtube.com,*.upload.youtube.com,"
                   "uploads.stage.gdata.youtube.com,bg-call-donation.goog,"
                   "bg-call-donation-alpha.goog,bg-call-donation-canary.goog,"
                   "bg-call-donation-dev.goog"));
  CHECK(c.has_sct_list);
  CHECK(!c.is_ca);
  x509_cert_clear(&c);
}

/* ndpi__dtls_certificate_fragments.pcap.tshark.tsv line 21 (frame 25,
 * cert_idx 0): self-signed ECDSA (WebRTC), no extensions at all. */
static void test_ecdsa_self_signed(void) {
  struct tls_cert c;
  load(&c, DATA "ndpi__dtls_certificate_fragments-0.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "WebRTC");
  CHECK_STR(c.issuer_cn, "WebRTC");
  CHECK_STR(c.subject, "CN=WebRTC");
  CHECK_EQ_U(c.key_type, TLS_KEY_EC);
  CHECK_EQ_U(c.key_bits, 256);
  CHECK_STR(c.key_curve, "prime256v1");
  CHECK_STR(c.sig_alg, "ecdsa-with-SHA256");
  CHECK_STR(c.sig_oid, "1.2.840.10045.4.3.2");
  CHECK_STR(c.not_before, "2020-06-08 00:17:10");
  CHECK_STR(c.not_after, "2020-07-09 00:17:10");
  CHECK_STR(c.serial_hex, "00d102fbd764f45534");
  CHECK_STR(c.sha256, "f31a5ef09901edb2b926e1221b8912461de6a51dfa22736840d1d66787d5c311");
  CHECK_EQ_U(c.n_san, 0);
  CHECK_EQ_U(c.n_policies, 0);
  CHECK(c.self_signed);
  CHECK(!c.is_ca);
  CHECK(!c.has_sct_list);
  x509_cert_clear(&c);
}

/* zeek__pop3-starttls.pcap.tshark.tsv line 6 (frame 13, cert_idx 0):
 * md5WithRSAEncryption, serial 01, emailAddress in the names. */
static void test_md5_signed(void) {
  struct tls_cert c;
  load(&c, DATA "zeek__pop3-starttls-0.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "chimaera.lilawelt.de");
  CHECK_STR(c.issuer_cn, "Lilawelt");
  CHECK_STR(c.subject, "emailAddress=postmaster@lilawelt.de,CN=chimaera.lilawelt.de,"
                       "OU=Servers,O=Lilawelt,L=Munich,C=DE");
  CHECK_STR(c.issuer, "emailAddress=postmaster@lilawelt.de,CN=Lilawelt,OU=Lilawelt CA,"
                      "O=Lilawelt,L=Munich,C=DE");
  CHECK_EQ_U(c.key_type, TLS_KEY_RSA);
  CHECK_EQ_U(c.key_bits, 2048);
  CHECK_STR(c.sig_alg, "md5WithRSAEncryption");
  CHECK_STR(c.sig_oid, "1.2.840.113549.1.1.4");
  CHECK_STR(c.not_before, "2007-05-05 17:23:08");
  CHECK_STR(c.not_after, "2017-05-02 17:23:08");
  CHECK(c.not_before_us == US(1178385788));
  CHECK(c.not_after_us == US(1493745788));
  CHECK_STR(c.serial_hex, "01");
  CHECK_STR(c.sha256, "5f262710f31214ecdb6ffbfe4b45a8d1c7042e7c87c3eae9bc317035dafeb7ac");
  CHECK_EQ_U(c.n_san, 0);
  CHECK(!c.is_ca);
  CHECK(!c.self_signed);
  x509_cert_clear(&c);
}

/* zeek__ocsp-stapling.pcap.tshark.tsv line 6 (frame 10, cert_idx 0):
 * sha1WithRSAEncryption, EV policy 2.16.840.1.113733.1.7.23.6. */
static void test_sha1_signed_ev(void) {
  struct tls_cert c;
  load(&c, DATA "zeek__ocsp-stapling-0.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "login.live.com");
  CHECK_STR(c.issuer_cn, "VeriSign Class 3 Extended Validation SSL SGC CA");
  CHECK_EQ_U(c.key_type, TLS_KEY_RSA);
  CHECK_EQ_U(c.key_bits, 2048);
  CHECK_STR(c.sig_alg, "sha1WithRSAEncryption");
  CHECK_STR(c.sig_oid, "1.2.840.113549.1.1.5");
  CHECK_STR(c.not_before, "2013-10-23 00:00:00");
  CHECK_STR(c.not_after, "2014-10-23 23:59:59");
  CHECK_STR(c.serial_hex, "62035c00776a614eaf430c6a5c56e2bd");
  CHECK_STR(c.sha256, "d9280d7781b3d9100e4293de623de3a333c9402029825c6ad9342ae60c94a754");
  CHECK_EQ_U(c.n_san, 10);
  CHECK(san_is(&c, "loginnet.passport.com,msnia.login.live.com,"
                   "pst.microsoftpassportsupport.net,api.login.live.com,login.live.com,"
                   "tools.login.live.com,xml.login.live.com,nexus.passport.com,"
                   "login.passport.com,msnialogin.passport.com"));
  CHECK_EQ_U(c.n_policies, 1);
  if (c.n_policies == 1)
    CHECK_STR(c.policies[0], "2.16.840.1.113733.1.7.23.6");
  CHECK(!c.is_ca);
  CHECK(!c.has_sct_list);
  x509_cert_clear(&c);
}

/* zeek__imap-starttls.pcap.tshark.tsv line 8 (frame 19, cert_idx 2): a
 * self-signed root (pdml: cA True, issuer == subject). */
static void test_self_signed_root(void) {
  struct tls_cert c;
  load(&c, DATA "zeek__imap-starttls-2.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "Deutsche Telekom Root CA 2");
  CHECK_STR(c.issuer_cn, "Deutsche Telekom Root CA 2");
  CHECK_STR(c.subject,
            "CN=Deutsche Telekom Root CA 2,OU=T-TeleSec Trust Center,O=Deutsche Telekom AG,C=DE");
  CHECK(c.subject && c.issuer && strcmp(c.subject, c.issuer) == 0);
  CHECK_STR(c.sig_oid, "1.2.840.113549.1.1.5");
  CHECK_STR(c.not_before, "1999-07-09 12:11:00");
  CHECK_STR(c.not_after, "2019-07-09 23:59:00");
  CHECK_STR(c.serial_hex, "26");
  CHECK_STR(c.sha256, "b6191a50d0c3977f7da99bcdaac86a227daeb9679ec70ba3b0c9d92271c170d3");
  CHECK(c.is_ca);
  CHECK(c.self_signed);
  x509_cert_clear(&c);
}

/* suricata__tls-pre-1970.pcap.tshark.tsv line 6 (frame 6, cert_idx 0):
 * notBefore 1969-12-31 (UTCTime 69 -> 1969, RFC 5280 4.1.2.5.1), notAfter
 * past 2038; a subjectAltName without dNSName; cA True. */
static void test_pre_1970(void) {
  struct tls_cert c;
  load(&c, DATA "suricata__tls-pre-1970-0.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "fkp.samsungcloudsolution.com");
  CHECK_STR(c.issuer_cn, "ROOT CA SISC FKP2_PLUS");
  CHECK_STR(c.subject, "CN=fkp.samsungcloudsolution.com,OU=vd");
  CHECK_EQ_U(c.key_type, TLS_KEY_RSA);
  CHECK_EQ_U(c.key_bits, 2048);
  CHECK_STR(c.sig_oid, "1.2.840.113549.1.1.11");
  CHECK_STR(c.not_before, "1969-12-31 00:00:00");
  CHECK_STR(c.not_after, "2038-12-31 00:10:03");
  CHECK(c.not_before_us == US(-86400));
  CHECK(c.not_after_us == US(2177367003));
  CHECK_STR(c.serial_hex, "32");
  CHECK_STR(c.sha256, "6ded6ad00f50d930239004cc46325300993d33af77a96d3c4e4716721d389c1d");
  CHECK_EQ_U(c.n_san, 0);
  CHECK(c.is_ca);
  CHECK(!c.self_signed);
  x509_cert_clear(&c);
}

/* zeek__cert-no-cn.pcap.tshark.tsv line 6 (frame 6, cert_idx 0): names
 * with only O=TestCorp; self-signed, cA True. */
static void test_no_common_name(void) {
  struct tls_cert c;
  load(&c, DATA "zeek__cert-no-cn-0.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "");
  CHECK_STR(c.issuer_cn, "");
  CHECK_STR(c.subject, "O=TestCorp");
  CHECK_STR(c.issuer, "O=TestCorp");
  CHECK_EQ_U(c.key_type, TLS_KEY_RSA);
  CHECK_EQ_U(c.key_bits, 2048);
  CHECK_STR(c.sig_alg, "sha1WithRSAEncryption");
  CHECK_STR(c.not_before, "2015-03-04 00:31:05");
  CHECK_STR(c.not_after, "2016-03-03 00:31:05");
  CHECK_STR(c.serial_hex, "00fa17a614059b1ef3");
  CHECK_STR(c.sha256, "3cd6d125cca7c6f128928b0570cd3dc6efb0ad52f95dbff292011106b7f8d4b4");
  CHECK_EQ_U(c.n_san, 0);
  CHECK(c.is_ca);
  CHECK(c.self_signed);
  x509_cert_clear(&c);
}

/* zeek__ml-dsa-44-cert.pcap.tshark.tsv line 6 (frame 5, cert_idx 0):
 * ML-DSA-44 key and signature; tshark leaves cert_key_bits empty. */
static void test_ml_dsa_44(void) {
  struct tls_cert c;
  load(&c, DATA "zeek__ml-dsa-44-cert-0.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "ml-dsa.example.com");
  CHECK_STR(c.issuer_cn, "ml-dsa.example.com");
  CHECK_STR(c.subject, "CN=ml-dsa.example.com,O=PQC-Test,C=US");
  CHECK_EQ_U(c.key_type, TLS_KEY_OTHER);
  CHECK_STR(c.key_curve, "");
  CHECK_STR(c.sig_oid, "2.16.840.1.101.3.4.3.17");
  CHECK(c.sig_alg[0] != '\0');
#if OPENSSL_VERSION_NUMBER < 0x30500000L
  /* libcrypto before 3.5 knows neither the key nor the signature */
  CHECK_EQ_U(c.key_bits, 0);
  CHECK_STR(c.sig_alg, "2.16.840.1.101.3.4.3.17");
  CHECK(!c.self_signed);
#endif
  CHECK_STR(c.not_before, "2026-04-03 07:06:08");
  CHECK_STR(c.not_after, "2027-04-03 07:06:08");
  CHECK(c.not_before_us == US(1775199968));
  CHECK(c.not_after_us == US(1806735968));
  CHECK_STR(c.serial_hex, "6cc93d07602ec79cfd5201b425d1a93c7023197f");
  CHECK_STR(c.sha256, "fd95785a038018dccb84cd816602920a1e010d8acd9ce63407aa68440f595758");
  CHECK(c.is_ca);
  x509_cert_clear(&c);
}

/* suricata__tls_DER-incomplete-content.pcap.tshark.tsv line 8 (frame 6,
 * cert_idx 0): 8 bytes of a cut certificate, x509_not_decoded; tshark
 * still gives the SHA-256 of the bytes. */
static void test_truncated_der(void) {
  struct tls_cert c;
  load(&c, DATA "suricata__tls_DER-incomplete-content-0.der");
  CHECK_EQ_U(c.der_len, 8);
  CHECK(!c.parsed);
  CHECK(c.parse_error != NULL);
  CHECK_STR(c.sha256, "fd7332d6b24c66ca7869765c3eee207199cb9a966f0ff777be60aee0188bc724");
  CHECK(c.subject == NULL && c.subject_cn == NULL && c.serial_hex == NULL);
  CHECK(c.san == NULL && c.policies == NULL);
  CHECK_EQ_U(c.key_type, TLS_KEY_UNKNOWN);
  x509_cert_clear(&c);
  CHECK(c.der == NULL && c.der_len == 0);
}

/* ------------------------------------------------------------------ */
/* Malformed input                                                     */

static bool parses(const uint8_t *der, size_t len) {
  struct tls_cert c = {0};
  if (len) {
    c.der = malloc(len);
    if (!c.der)
      return false;
    memcpy(c.der, der, len);
  }
  c.der_len = len;
  x509_cert_parse(&c);
  bool parsed = c.parsed;
  CHECK(parsed ? c.parse_error == NULL : c.parse_error != NULL);
  x509_cert_clear(&c);
  return parsed;
}

static void test_empty_and_random(void) {
  struct tls_cert c = {0};
  x509_cert_parse(&c); /* der NULL */
  CHECK(!c.parsed && c.parse_error != NULL);
  CHECK_STR(c.sha256, "");
  x509_cert_clear(&c);
  uint8_t zero = 0;
  CHECK(!parses(&zero, 0));
  CHECK(!parses(&zero, 1));
  /* 400 buffers from a fixed LCG; half start like a DER SEQUENCE */
  uint32_t state = 12345;
  uint8_t junk[600];
  for (int round = 0; round < 400; round++) {
    size_t len = 1 + (size_t)round * 3 % sizeof junk;
    for (size_t i = 0; i < len; i++) {
      state = state * 1103515245u + 12345u;
      junk[i] = (uint8_t)(state >> 16);
    }
    if (round % 2)
      junk[0] = 0x30;
    CHECK(!parses(junk, len));
  }
}

/* A good certificate with one byte more, every cut of it, and bytes
 * flipped: never a crash or a leak; the cuts and the extra byte refused. */
static void test_trailing_and_cut(void) {
  size_t len;
  uint8_t *der = read_file(DATA "zeek__cert-no-cn-0.der", &len);
  CHECK(der != NULL && len == 765);
  if (!der)
    return;
  uint8_t *longer = malloc(len + 1);
  CHECK(longer != NULL);
  if (longer) {
    memcpy(longer, der, len);
    longer[len] = 0;
    struct tls_cert c = {.der = longer, .der_len = len + 1};
    x509_cert_parse(&c);
    CHECK(!c.parsed);
    CHECK(c.parse_error != NULL && strstr(c.parse_error, "after") != NULL);
    x509_cert_clear(&c);
  }
  CHECK(parses(der, len));
  size_t cuts_refused = 0;
  for (size_t cut = 0; cut < len; cut++)
    cuts_refused += !parses(der, cut);
  CHECK_EQ_U(cuts_refused, len);
  for (size_t at = 0; at < len; at += 7) {
    der[at] ^= 0x5a;
    (void)parses(der, len);
    der[at] ^= 0x5a;
  }
  free(der);
}

/* Parsing twice, clearing twice, clearing a zeroed struct. */
static void test_reparse_and_clear(void) {
  struct tls_cert c = {0};
  x509_cert_clear(&c);
  x509_cert_clear(NULL);
  load(&c, DATA "zeek__signed_certificate_timestamp-0.der");
  const uint8_t *der = c.der;
  size_t der_len = c.der_len;
  x509_cert_parse(&c);
  CHECK(c.parsed);
  CHECK(c.der == der && c.der_len == der_len); /* the bytes it was read from stay */
  CHECK_STR(c.subject_cn, "ritter.vg");
  CHECK_EQ_U(c.n_san, 2);
  x509_cert_clear(&c);
  x509_cert_clear(&c);
  CHECK(c.der == NULL && c.subject == NULL && !c.parsed);
}

/* The cache: a certificate read twice is read once, and both connections
 * get the one entry (the same DER bytes, the same strings); letting one go
 * leaves it to the other.  Without a cache, or with a full one, the caller
 * owns what it gets (AddressSanitizer checks the frees either way). */
static void test_cache_shares(void) {
  struct tls_cert plain;
  load(&plain, DATA "zeek__signed_certificate_timestamp-0.der");
  struct x509_cache *cache = x509_cache_new(8); /* room for 8 */
  CHECK(cache != NULL);
  if (!cache || !plain.der)
    return;
  struct tls_cert *a = x509_cert_read_cached(cache, plain.der, plain.der_len);
  struct tls_cert *b = x509_cert_read_cached(cache, plain.der, plain.der_len);
  CHECK(a && b && a == b && a->cached && a->parsed);
  CHECK(a && a->der != plain.der);
  CHECK(a && strcmp(a->sha256, plain.sha256) == 0 && strcmp(a->subject, plain.subject) == 0);
  x509_cert_release(a); /* an entry: nothing is freed */
  CHECK(b && strcmp(b->subject_cn, "ritter.vg") == 0 && b->n_san == 2);
  x509_cert_release(b);

  struct tls_cert *own = x509_cert_read_cached(NULL, plain.der, plain.der_len);
  CHECK(own && own->parsed && !own->cached && own->der != plain.der);
  CHECK(own && strcmp(own->sha256, plain.sha256) == 0);
  x509_cert_release(own);

  /* Seven more certificates fill it; the next is read but not kept. */
  uint8_t blob[16];
  for (int i = 0; i < 7; i++) {
    memset(blob, 'a' + i, sizeof blob);
    struct tls_cert *junk = x509_cert_read_cached(cache, blob, sizeof blob);
    CHECK(junk && junk->cached && !junk->parsed);
    x509_cert_release(junk);
  }
  memset(blob, 'z', sizeof blob);
  own = x509_cert_read_cached(cache, blob, sizeof blob);
  CHECK(own && !own->cached && !own->parsed && own->der_len == sizeof blob);
  struct tls_cert *again = x509_cert_read_cached(cache, blob, sizeof blob);
  CHECK(again && again != own && !again->cached); /* read again, still not kept */
  CHECK_EQ_U(x509_cache_refused(cache), 2);       /* both reads counted */
  x509_cert_release(own);
  x509_cert_release(again);
  x509_cache_free(cache);
  x509_cert_clear(&plain);
}

/* pki-leaf.der edited: the subject CN "www.example.test" (first copy of
 * the text) gets a ',' for its first '.', the first dNSName (second copy)
 * a NUL.  Both must survive as escapes, not cut or split the value. */
static void test_nul_and_comma_escaped(void) {
  static const char name[] = "www.example.test";
  struct tls_cert c = {0};
  c.der = read_file(DATA "pki-leaf.der", &c.der_len);
  CHECK(c.der != NULL);
  if (!c.der)
    return;
  uint8_t *first = memmem(c.der, c.der_len, name, strlen(name));
  uint8_t *second =
      first ? memmem(first + 1, c.der_len - (size_t)(first + 1 - c.der), name, strlen(name)) : NULL;
  CHECK(first && second);
  if (first && second) {
    first[3] = ',';
    second[3] = '\0';
    x509_cert_parse(&c);
    CHECK(c.parsed);
    CHECK_STR(c.subject_cn, "www\\x2cexample.test");
    CHECK_STR(c.subject, "CN=www\\,example.test,O=tlsgrade tests");
    CHECK_EQ_U(c.n_san, 2);
    CHECK(san_is(&c, "www\\x00example.test,example.test"));
  }
  x509_cert_clear(&c);
}

/* ------------------------------------------------------------------ */
/* Test PKI: facts (make-pki.sh)                                       */

static void test_pki_leaf(void) {
  struct tls_cert c;
  load(&c, DATA "pki-leaf.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject, "CN=www.example.test,O=tlsgrade tests");
  CHECK_STR(c.issuer, "CN=tlsgrade Test Intermediate CA,O=tlsgrade tests");
  CHECK_STR(c.subject_cn, "www.example.test");
  CHECK_EQ_U(c.key_type, TLS_KEY_EC);
  CHECK_EQ_U(c.key_bits, 256);
  CHECK_STR(c.key_curve, "prime256v1");
  CHECK_STR(c.sig_alg, "ecdsa-with-SHA384");
  CHECK_STR(c.sig_oid, "1.2.840.10045.4.3.3");
  CHECK_STR(c.not_before, "2024-01-01 00:00:00");
  CHECK_STR(c.not_after, "2026-01-01 00:00:00");
  CHECK(c.not_before_us == US(1704067200));
  CHECK(c.not_after_us == US(1767225600));
  CHECK_STR(c.serial_hex, "00c0ffee01"); /* C0FFEE01: high bit set, 00 kept */
  CHECK_EQ_U(c.n_san, 2);
  CHECK(san_is(&c, "www.example.test,example.test"));
  CHECK(c.must_staple);
  CHECK_EQ_U(c.n_policies, 2);
  if (c.n_policies == 2) {
    CHECK_STR(c.policies[0], "2.23.140.1.2.1");
    CHECK_STR(c.policies[1], "1.3.6.1.4.1.55555.1.2");
  }
  CHECK(!c.is_ca && !c.self_signed && !c.has_sct_list);
  x509_cert_clear(&c);
}

static void test_pki_p384_ca(void) {
  struct tls_cert c;
  load(&c, DATA "pki-inter.der");
  CHECK(c.parsed);
  CHECK_EQ_U(c.key_type, TLS_KEY_EC);
  CHECK_EQ_U(c.key_bits, 384);
  CHECK_STR(c.key_curve, "secp384r1");
  CHECK_STR(c.sig_alg, "sha256WithRSAEncryption");
  CHECK_STR(c.serial_hex, "02");
  CHECK(c.is_ca && !c.self_signed && !c.must_staple);
  x509_cert_clear(&c);
  load(&c, DATA "pki-root.der");
  CHECK(c.parsed && c.is_ca && c.self_signed);
  CHECK_STR(c.subject, "CN=tlsgrade Test Root CA,O=tlsgrade tests");
  x509_cert_clear(&c);
}

/* notBefore 2050: GeneralizedTime (RFC 5280 4.1.2.5). */
static void test_pki_generalized_time(void) {
  struct tls_cert c;
  load(&c, DATA "pki-future.der");
  CHECK(c.parsed);
  CHECK_STR(c.not_before, "2050-01-01 00:00:00");
  CHECK_STR(c.not_after, "2051-01-01 00:00:00");
  CHECK(c.not_before_us == US(2524608000));
  CHECK(c.not_after_us == US(2556144000));
  x509_cert_clear(&c);
}

static void test_pki_eddsa(void) {
  struct tls_cert c;
  load(&c, DATA "pki-self.der");
  CHECK(c.parsed);
  CHECK_EQ_U(c.key_type, TLS_KEY_ED25519);
  CHECK_EQ_U(c.key_bits, 253);
  CHECK_STR(c.sig_alg, "ED25519");
  CHECK_STR(c.sig_oid, "1.3.101.112");
  CHECK(c.self_signed && !c.is_ca);
  x509_cert_clear(&c);
  /* two commonNames in DER order, the ',' inside the second escaped */
  load(&c, DATA "pki-multicn.der");
  CHECK(c.parsed);
  CHECK_STR(c.subject_cn, "first.example.test,second\\x2c with comma");
  CHECK_STR(c.subject, "CN=second\\, with comma,CN=first.example.test,O=tlsgrade tests");
  CHECK_EQ_U(c.key_type, TLS_KEY_ED448);
  CHECK_EQ_U(c.key_bits, 456);
  x509_cert_clear(&c);
}

/* ------------------------------------------------------------------ */
/* Trust                                                               */

struct chain {
  struct tls_cert certs[4];
  size_t n;
};

/* names: files under tests/data/x509/, NULL-terminated, leaf first */
static void chain_load(struct chain *chain, const char *const *names) {
  char path[256];
  chain->n = 0;
  for (; *names && chain->n < 4; names++) {
    snprintf(path, sizeof path, DATA "%s", *names);
    load(&chain->certs[chain->n++], path);
  }
}

static void chain_free(struct chain *chain) {
  for (size_t i = 0; i < chain->n; i++)
    x509_cert_clear(&chain->certs[i]);
}

static int check_chain(const char *const *names, const char *hostname, cap_time_us at,
                       const char *ca_file, struct x509_trust *out) {
  struct chain chain;
  struct x509_trust_opts opts = {.ca_file = ca_file, .ca_path = NULL};
  chain_load(&chain, names);
  int rc = x509_trust_check(chain.certs, chain.n, hostname, at, &opts, out);
  chain_free(&chain);
  return rc;
}

static const char *const GOOD[] = {"pki-leaf.der", "pki-inter.der", NULL};

/* The server sends only its leaf; the trust store happens to hold the
 * intermediate.  Browsers with that intermediate cached would connect, but
 * the server's chain is incomplete (SSL Labs "chain issues"). */
static void test_trusted_but_incomplete(void) {
  static const char *const LEAF_ONLY[] = {"pki-leaf.der", NULL};
  struct x509_trust t;
  CHECK_EQ_U(check_chain(LEAF_ONLY, "www.example.test", AT_2025, DATA "pki-root-and-inter.pem", &t),
             0);
  CHECK(t.trusted);
  CHECK(!t.chain_complete);
  CHECK_EQ_U(check_chain(GOOD, "www.example.test", AT_2025, DATA "pki-root-and-inter.pem", &t), 0);
  CHECK(t.trusted && t.chain_complete);
}

static void test_trusted(void) {
  struct x509_trust t;
  CHECK_EQ_U(check_chain(GOOD, "www.example.test", AT_2025, ROOT_PEM, &t), 0);
  CHECK(t.checked);
  CHECK(t.trusted);
  CHECK_EQ_U(t.error, X509_V_OK);
  CHECK(!t.expired && !t.not_yet_valid && !t.self_signed);
  CHECK(t.hostname_checked && t.hostname_match);
  CHECK(t.chain_complete && t.chain_in_order);
  CHECK_EQ_U(t.chain_len_used, 3);
  /* the other SAN; no hostname at all */
  CHECK_EQ_U(check_chain(GOOD, "example.test", AT_2025, ROOT_PEM, &t), 0);
  CHECK(t.trusted && t.hostname_match);
  CHECK_EQ_U(check_chain(GOOD, NULL, AT_2025, ROOT_PEM, &t), 0);
  CHECK(t.trusted && !t.hostname_checked && !t.hostname_match);
  /* a wrong name leaves the path verdict alone: it is reported apart */
  CHECK_EQ_U(check_chain(GOOD, "other.example.test", AT_2025, ROOT_PEM, &t), 0);
  CHECK(t.trusted && t.hostname_checked && !t.hostname_match);
  CHECK_EQ_U(check_chain(GOOD, "www.example.test.evil", AT_2025, ROOT_PEM, &t), 0);
  CHECK(t.trusted && !t.hostname_match);
}

static void test_expired_and_not_yet_valid(void) {
  static const char *const expired[] = {"pki-expired.der", "pki-inter.der", NULL};
  static const char *const future[] = {"pki-future.der", "pki-inter.der", NULL};
  struct x509_trust t;
  CHECK_EQ_U(check_chain(expired, "expired.example.test", AT_2025, ROOT_PEM, &t), 0);
  CHECK(!t.trusted);
  CHECK_EQ_U(t.error, X509_V_ERR_CERT_HAS_EXPIRED);
  CHECK(t.reason[0] != '\0');
  CHECK(t.expired && !t.not_yet_valid);
  CHECK(t.chain_complete && t.hostname_match);
  CHECK_EQ_U(check_chain(future, NULL, AT_2025, ROOT_PEM, &t), 0);
  CHECK(!t.trusted);
  CHECK_EQ_U(t.error, X509_V_ERR_CERT_NOT_YET_VALID);
  CHECK(t.not_yet_valid && !t.expired);
}

/* The verdict is as of `at`, not of the wall clock. */
static void test_time_is_packet_time(void) {
  static const char *const expired[] = {"pki-expired.der", "pki-inter.der", NULL};
  struct x509_trust t;
  /* 2021-01-01: the expired leaf was still valid then */
  CHECK_EQ_U(check_chain(expired, NULL, US(1609459200), ROOT_PEM, &t), 0);
  CHECK(t.trusted && !t.expired);
  /* 2019-01-01: before the good leaf (and the root) */
  CHECK_EQ_U(check_chain(GOOD, NULL, US(1546300800), ROOT_PEM, &t), 0);
  CHECK(!t.trusted && t.not_yet_valid);
  CHECK_EQ_U(t.error, X509_V_ERR_CERT_NOT_YET_VALID);
  /* the leaf's notAfter is 2026-01-01 00:00:00: a second before it the
   * chain is good; a microsecond after it the leaf has expired */
  CHECK_EQ_U(check_chain(GOOD, NULL, US(1767225600 - 1), ROOT_PEM, &t), 0);
  CHECK(t.trusted && !t.expired);
  CHECK_EQ_U(check_chain(GOOD, NULL, US(1767225600) + 1, ROOT_PEM, &t), 0);
  CHECK(!t.trusted && t.expired);
  CHECK_EQ_U(t.error, X509_V_ERR_CERT_HAS_EXPIRED);
}

static void test_incomplete_chain(void) {
  static const char *const leaf_only[] = {"pki-leaf.der", NULL};
  struct x509_trust t;
  CHECK_EQ_U(check_chain(leaf_only, "www.example.test", AT_2025, ROOT_PEM, &t), 0);
  CHECK(t.checked && !t.trusted);
  CHECK_EQ_U(t.error, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  CHECK(!t.chain_complete);
  CHECK(t.chain_in_order);
  CHECK(t.hostname_match);
  CHECK_EQ_U(t.chain_len_used, 1);
}

static void test_out_of_order_chain(void) {
  static const char *const shuffled[] = {"pki-leaf.der", "pki-root.der", "pki-inter.der", NULL};
  struct x509_trust t;
  CHECK_EQ_U(check_chain(shuffled, "www.example.test", AT_2025, ROOT_PEM, &t), 0);
  CHECK(t.trusted);
  CHECK(t.chain_complete);
  CHECK(!t.chain_in_order);
  CHECK_EQ_U(t.chain_len_used, 3);
}

static void test_self_signed_leaf(void) {
  static const char *const self[] = {"pki-self.der", NULL};
  struct x509_trust t;
  CHECK_EQ_U(check_chain(self, "self.example.test", AT_2025, ROOT_PEM, &t), 0);
  CHECK(!t.trusted);
  CHECK_EQ_U(t.error, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  CHECK(t.self_signed && t.hostname_match);
  CHECK(t.chain_complete);
  /* trusted when it is itself the anchor */
  CHECK_EQ_U(check_chain(self, "self.example.test", AT_2025, DATA "pki-self.pem", &t), 0);
  CHECK(t.trusted && t.self_signed);
}

static void test_store_errors_and_odd_chains(void) {
  static const char *const truncated[] = {"suricata__tls_DER-incomplete-content-0.der",
                                          "pki-inter.der", NULL};
  struct x509_trust t;
  CHECK(check_chain(GOOD, NULL, AT_2025, DATA "no-such-file.pem", &t) == -1);
  CHECK(strstr(t.reason, "no-such-file.pem") != NULL);
  CHECK(!t.checked && !t.trusted);
  /* nothing to check: no store needed */
  CHECK_EQ_U(x509_trust_check(NULL, 0, NULL, AT_2025, NULL, &t), 0);
  CHECK(!t.checked);
  CHECK_EQ_U(check_chain(truncated, NULL, AT_2025, ROOT_PEM, &t), 0);
  CHECK(t.checked && !t.trusted && !t.chain_in_order);
  CHECK(t.error != X509_V_OK && t.reason[0] != '\0');
  /* the system store (whatever it holds) does not know the test root */
  struct chain chain;
  chain_load(&chain, GOOD);
  CHECK_EQ_U(x509_trust_check(chain.certs, chain.n, NULL, AT_2025, NULL, &t), 0);
  CHECK(t.checked && !t.trusted && !t.chain_complete);
  chain_free(&chain);
}

/* One store, many checks (dissect.h). */
static void test_reusable_store(void) {
  static const char *const leaf_only[] = {"pki-leaf.der", NULL};
  char reason[160];
  struct x509_trust_opts bad = {.ca_file = DATA "no-such-file.pem"};
  CHECK(x509_store_open(&bad, reason, sizeof reason) == NULL);
  CHECK(strstr(reason, "no-such-file.pem") != NULL);
  struct x509_trust_opts opts = {.ca_file = ROOT_PEM};
  struct x509_store *store = x509_store_open(&opts, reason, sizeof reason);
  CHECK(store != NULL);
  if (!store)
    return;
  struct chain good, lone;
  chain_load(&good, GOOD);
  chain_load(&lone, leaf_only);
  struct x509_trust t;
  const struct tls_cert *good_links[8], *lone_links[1] = {&lone.certs[0]};
  for (size_t i = 0; i < good.n && i < 8; i++)
    good_links[i] = &good.certs[i]; /* a session holds its chain as pointers */
  for (int round = 0; round < 3; round++) {
    CHECK_EQ_U(x509_trust_check_store(store, good_links, good.n, "www.example.test", AT_2025, &t),
               0);
    CHECK(t.trusted && t.hostname_match);
    CHECK_EQ_U(x509_trust_check_store(store, lone_links, lone.n, NULL, AT_2025, &t), 0);
    CHECK(!t.trusted && !t.chain_complete);
  }
  chain_free(&good);
  chain_free(&lone);
  x509_store_close(store);
  x509_store_close(NULL);
}

/* ------------------------------------------------------------------ */
/* Chains completed from a pool of intermediates seen elsewhere        */

static bool pool_add_file(struct x509_pool *pool, const char *name, const char *where) {
  struct tls_cert c;
  char path[256];
  snprintf(path, sizeof path, DATA "%s", name);
  load(&c, path);
  bool kept = x509_pool_add(pool, c.der, c.der_len, where);
  x509_cert_clear(&c);
  return kept;
}

/* Only CA certificates (basicConstraints CA:TRUE, as openssl prints for
 * pki-inter.der and pki-root.der, and CA:FALSE for pki-leaf.der), once. */
static void test_pool_keeps_ca_certificates(void) {
  struct x509_pool *pool = x509_pool_new();
  CHECK(pool != NULL);
  CHECK(!pool_add_file(pool, "pki-leaf.der", "a"));
  CHECK(pool_add_file(pool, "pki-inter.der", "b"));
  CHECK(!pool_add_file(pool, "pki-inter.der", "c"));
  CHECK(pool_add_file(pool, "pki-root.der", "d"));
  CHECK_EQ_U(x509_pool_count(pool), 2);
  CHECK(!x509_pool_add(pool, (const uint8_t *)"\x30\x03\x02\x01\x01", 5, "e"));
  x509_pool_free(pool);
  x509_pool_free(NULL);
}

/* A PEM bundle (pki-root-and-inter.pem: two certificates); a missing file
 * and a DER file are errors. */
static void test_pool_load(void) {
  struct x509_pool *pool = x509_pool_new();
  char err[256] = "";
  CHECK_EQ_U(x509_pool_load(pool, DATA "pki-root-and-inter.pem", err, sizeof err), 0);
  CHECK_EQ_U(x509_pool_count(pool), 2);
  CHECK(x509_pool_load(pool, DATA "no-such-file.pem", err, sizeof err) < 0);
  CHECK(strstr(err, "no-such-file.pem") != NULL);
  CHECK(x509_pool_load(pool, DATA "pki-leaf.der", err, sizeof err) < 0);
  CHECK_EQ_U(x509_pool_count(pool), 2);
  x509_pool_free(pool);
}

/* The leaf alone completes with the pool's intermediate: trusted, not
 * complete, and the pool entry that served is named.  Without it the
 * issuer is named (openssl x509 -issuer -nameopt RFC2253 pki-leaf.der). */
static void test_completed_from_pool(void) {
  static const char *const LEAF_ONLY[] = {"pki-leaf.der", NULL};
  char reason[160];
  struct x509_trust_opts opts = {.ca_file = ROOT_PEM};
  struct x509_store *store = x509_store_open(&opts, reason, sizeof reason);
  struct chain lone;
  chain_load(&lone, LEAF_ONLY);
  const struct tls_cert *links[] = {&lone.certs[0]};
  struct x509_pool *pool = x509_pool_new();
  CHECK(pool_add_file(pool, "pki-inter.der", "other.pcap:10"));
  const struct x509_pool *pools[] = {NULL, pool};
  struct x509_trust t;
  struct x509_completion done;
  x509_trust_complete(store, pools, 2, links, 1, "www.example.test", AT_2025, &t, &done);
  CHECK(t.trusted && !t.chain_complete && t.hostname_match);
  CHECK_EQ_U(t.chain_len_used, 3);
  CHECK(done.found_in && strcmp(done.found_in, "other.pcap:10") == 0);
  CHECK_STR(done.missing_issuer, "");
  CHECK_EQ_U(done.n_added, 1); /* the intermediate: the root is the store's */
  /* The same verdict from a second after the leaf's notBefore to a second
   * before its notAfter (openssl x509 -dates: 2024-01-01 and 2026-01-01;
   * the intermediate's 2020-2035 and the root's 2020-2040 lie outside). */
  CHECK(done.same_from == US(1704067200) + US(1) + 1);
  CHECK(done.same_until == US(1767225600) - US(1) - 1);
  x509_completion_clear(&done);
  x509_trust_complete(store, pools, 1, links, 1, NULL, AT_2025, &t, &done);
  CHECK(!t.trusted && !t.chain_complete && done.found_in == NULL);
  CHECK_STR(done.missing_issuer, "CN=tlsgrade Test Intermediate CA,O=tlsgrade tests");
  CHECK_STR(done.missing_aia, "");
  x509_pool_free(pool);
  x509_store_close(store);
  chain_free(&lone);
}

/* A pool never provides the anchor: with a store that lacks the root, the
 * root in the pool leaves the chain untrusted. */
static void test_pool_is_never_trusted(void) {
  static const char *const LEAF_ONLY[] = {"pki-leaf.der", NULL};
  char reason[160];
  struct x509_trust_opts opts = {.ca_file = DATA "pki-self.pem"};
  struct x509_store *store = x509_store_open(&opts, reason, sizeof reason);
  struct chain lone;
  chain_load(&lone, LEAF_ONLY);
  const struct tls_cert *links[] = {&lone.certs[0]};
  struct x509_pool *pool = x509_pool_new();
  CHECK(pool_add_file(pool, "pki-inter.der", "x"));
  CHECK(pool_add_file(pool, "pki-root.der", "y"));
  const struct x509_pool *pools[] = {pool};
  struct x509_trust t;
  struct x509_completion done;
  x509_trust_complete(store, pools, 1, links, 1, NULL, AT_2025, &t, &done);
  CHECK(!t.trusted && !t.trusted_but_time);
  x509_pool_free(pool);
  x509_store_close(store);
  chain_free(&lone);
}

int main(void) {
  RUN(test_rsa2048_sha256);
  RUN(test_rsa_with_sct_list);
  RUN(test_ecdsa_p256);
  RUN(test_ecdsa_self_signed);
  RUN(test_md5_signed);
  RUN(test_sha1_signed_ev);
  RUN(test_self_signed_root);
  RUN(test_pre_1970);
  RUN(test_no_common_name);
  RUN(test_ml_dsa_44);
  RUN(test_truncated_der);
  RUN(test_empty_and_random);
  RUN(test_trailing_and_cut);
  RUN(test_reparse_and_clear);
  RUN(test_cache_shares);
  RUN(test_nul_and_comma_escaped);
  RUN(test_pki_leaf);
  RUN(test_pki_p384_ca);
  RUN(test_pki_generalized_time);
  RUN(test_pki_eddsa);
  RUN(test_trusted);
  RUN(test_trusted_but_incomplete);
  RUN(test_expired_and_not_yet_valid);
  RUN(test_time_is_packet_time);
  RUN(test_incomplete_chain);
  RUN(test_out_of_order_chain);
  RUN(test_self_signed_leaf);
  RUN(test_store_errors_and_odd_chains);
  RUN(test_reusable_store);
  RUN(test_pool_keeps_ca_certificates);
  RUN(test_pool_load);
  RUN(test_completed_from_pool);
  RUN(test_pool_is_never_trusted);
  return harness_done();
}
