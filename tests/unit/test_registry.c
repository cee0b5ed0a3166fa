/*
 * tests/unit/test_registry.c - dissect/registry.c: the IANA tables.
 *
 * Expected ids and names are copied from the RFCs that define them (the
 * section is named next to each group of checks), never from the tables.
 * Suite properties follow from the algorithm definitions: DES has a 56-bit
 * key, 3DES three of them, DES/3DES/IDEA/RC2 a 64-bit block, AES a 128-bit
 * block, GCM/CCM/ChaCha20-Poly1305 are AEADs (RFC 5116, RFC 8439), export
 * suites have 40-bit keys (RFC 2246 6.3, RFC 4346 A.5).
 *
 * The tables themselves are included to check their shape (sorted, unique,
 * every entry reachable through the public lookup).
 */
#include "dissect/dissect.h"
#include "dissect/registry_data.h"
#include "dissect/registry_ids_data.h"
#include "harness.h"

#include <stdbool.h>
#include <string.h>

#define COUNT(table) (sizeof(table) / sizeof((table)[0]))

struct expected_suite {
  uint32_t id;
  const char *name;
  uint8_t kx, auth;
  const char *cipher;
  uint16_t bits;
  uint8_t block_bits;
  bool aead, forward_secret, export_grade, anonymous, scsv;
};

static void check_suite(const struct tls_suite_info *got, const struct expected_suite *want) {
  CHECK(got != NULL);
  if (!got) {
    fprintf(stderr, "  suite 0x%04" PRIx32 " missing\n", want->id);
    return;
  }
  CHECK_EQ_U(got->id, want->id);
  CHECK_STR(got->name, want->name);
  CHECK_EQ_U(got->kx, want->kx);
  CHECK_EQ_U(got->auth, want->auth);
  CHECK_STR(got->cipher, want->cipher);
  CHECK_EQ_U(got->bits, want->bits);
  CHECK_EQ_U(got->block_bits, want->block_bits);
  CHECK_EQ_U(got->aead, want->aead);
  CHECK_EQ_U(got->forward_secret, want->forward_secret);
  CHECK_EQ_U(got->export_grade, want->export_grade);
  CHECK_EQ_U(got->anonymous, want->anonymous);
  CHECK_EQ_U(got->scsv, want->scsv);
}

static void check_suites(const struct expected_suite *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    check_suite(tls_suite_lookup(list[i].id), &list[i]);
}

// clang-format off
/* RFC 8446 B.4 */
static const struct expected_suite tls13_suites[] = {
  {0x1301, "TLS_AES_128_GCM_SHA256", TLS_KX_TLS13, TLS_AUTH_TLS13, "AES_128_GCM", 128, 0, true, true, false, false, false},
  {0x1302, "TLS_AES_256_GCM_SHA384", TLS_KX_TLS13, TLS_AUTH_TLS13, "AES_256_GCM", 256, 0, true, true, false, false, false},
  {0x1303, "TLS_CHACHA20_POLY1305_SHA256", TLS_KX_TLS13, TLS_AUTH_TLS13, "CHACHA20_POLY1305", 256, 0, true, true, false, false, false},
  {0x1304, "TLS_AES_128_CCM_SHA256", TLS_KX_TLS13, TLS_AUTH_TLS13, "AES_128_CCM", 128, 0, true, true, false, false, false},
  {0x1305, "TLS_AES_128_CCM_8_SHA256", TLS_KX_TLS13, TLS_AUTH_TLS13, "AES_128_CCM_8", 128, 0, true, true, false, false, false},
};

/* RFC 5246 A.5 (the TLS 1.2 suites), RFC 4346 A.5 (export, removed from
 * TLS 1.2), RFC 5469 (DES, IDEA). */
static const struct expected_suite tls12_suites[] = {
  {0x0000, "TLS_NULL_WITH_NULL_NULL", TLS_KX_NULL, TLS_AUTH_NULL, "NULL", 0, 0, false, false, false, true, false},
  {0x0001, "TLS_RSA_WITH_NULL_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "NULL", 0, 0, false, false, false, false, false},
  {0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "RC4_40", 40, 0, false, false, true, false, false},
  {0x0004, "TLS_RSA_WITH_RC4_128_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "RC4_128", 128, 0, false, false, false, false, false},
  {0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "RC2_CBC_40", 40, 64, false, false, true, false, false},
  {0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", TLS_KX_RSA, TLS_AUTH_RSA, "IDEA_CBC", 128, 64, false, false, false, false, false},
  {0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", TLS_KX_RSA, TLS_AUTH_RSA, "DES40_CBC", 40, 64, false, false, true, false, false},
  {0x0009, "TLS_RSA_WITH_DES_CBC_SHA", TLS_KX_RSA, TLS_AUTH_RSA, "DES_CBC", 56, 64, false, false, false, false, false},
  {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", TLS_KX_RSA, TLS_AUTH_RSA, "3DES_EDE_CBC", 168, 64, false, false, false, false, false},
  {0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", TLS_KX_DHE, TLS_AUTH_DSS, "3DES_EDE_CBC", 168, 64, false, true, false, false, false},
  {0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", TLS_KX_DHE, TLS_AUTH_RSA, "DES40_CBC", 40, 64, false, true, true, false, false},
  {0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", TLS_KX_DH, TLS_AUTH_ANON, "RC4_128", 128, 0, false, false, false, true, false},
  {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", TLS_KX_RSA, TLS_AUTH_RSA, "AES_128_CBC", 128, 128, false, false, false, false, false},
  {0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA", TLS_KX_DH, TLS_AUTH_DSS, "AES_128_CBC", 128, 128, false, false, false, false, false},
  {0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", TLS_KX_DH, TLS_AUTH_ANON, "AES_128_CBC", 128, 128, false, false, false, true, false},
  {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", TLS_KX_DHE, TLS_AUTH_RSA, "AES_256_CBC", 256, 128, false, true, false, false, false},
  {0x003b, "TLS_RSA_WITH_NULL_SHA256", TLS_KX_RSA, TLS_AUTH_RSA, "NULL", 0, 0, false, false, false, false, false},
  {0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", TLS_KX_DHE, TLS_AUTH_RSA, "AES_256_CBC", 256, 128, false, true, false, false, false},
};

/* RFC 5288 3, RFC 5289 3.1-3.2, RFC 7905 2, RFC 6655 3, RFC 8422 6,
 * RFC 4279 2-4, RFC 5489 3, RFC 4162 2, RFC 6209 2. */
static const struct expected_suite other_suites[] = {
  {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", TLS_KX_RSA, TLS_AUTH_RSA, "AES_128_GCM", 128, 0, true, false, false, false, false},
  {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", TLS_KX_DHE, TLS_AUTH_RSA, "AES_256_GCM", 256, 0, true, true, false, false, false},
  {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", TLS_KX_ECDHE, TLS_AUTH_ECDSA, "AES_128_GCM", 128, 0, true, true, false, false, false},
  {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", TLS_KX_ECDHE, TLS_AUTH_RSA, "AES_128_GCM", 128, 0, true, true, false, false, false},
  {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", TLS_KX_ECDHE, TLS_AUTH_RSA, "AES_256_GCM", 256, 0, true, true, false, false, false},
  {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", TLS_KX_ECDHE, TLS_AUTH_RSA, "AES_128_CBC", 128, 128, false, true, false, false, false},
  {0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", TLS_KX_ECDH, TLS_AUTH_RSA, "AES_128_GCM", 128, 0, true, false, false, false, false},
  {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", TLS_KX_ECDHE, TLS_AUTH_RSA, "AES_128_CBC", 128, 128, false, true, false, false, false},
  {0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", TLS_KX_ECDHE, TLS_AUTH_RSA, "RC4_128", 128, 0, false, true, false, false, false},
  {0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", TLS_KX_ECDHE, TLS_AUTH_ECDSA, "NULL", 0, 0, false, true, false, false, false},
  {0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", TLS_KX_ECDH, TLS_AUTH_ANON, "AES_128_CBC", 128, 128, false, false, false, true, false},
  {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", TLS_KX_ECDHE, TLS_AUTH_RSA, "CHACHA20_POLY1305", 256, 0, true, true, false, false, false},
  {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", TLS_KX_ECDHE, TLS_AUTH_ECDSA, "CHACHA20_POLY1305", 256, 0, true, true, false, false, false},
  {0xc09c, "TLS_RSA_WITH_AES_128_CCM", TLS_KX_RSA, TLS_AUTH_RSA, "AES_128_CCM", 128, 0, true, false, false, false, false},
  {0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", TLS_KX_DHE, TLS_AUTH_RSA, "AES_256_CCM_8", 256, 0, true, true, false, false, false},
  {0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA", TLS_KX_PSK, TLS_AUTH_PSK, "AES_128_CBC", 128, 128, false, false, false, false, false},
  {0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", TLS_KX_DHE_PSK, TLS_AUTH_PSK, "AES_128_CBC", 128, 128, false, true, false, false, false},
  {0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", TLS_KX_RSA_PSK, TLS_AUTH_RSA, "AES_128_CBC", 128, 128, false, false, false, false, false},
  {0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", TLS_KX_ECDHE_PSK, TLS_AUTH_PSK, "AES_128_CBC", 128, 128, false, true, false, false, false},
  {0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", TLS_KX_RSA, TLS_AUTH_RSA, "SEED_CBC", 128, 128, false, false, false, false, false},
  {0xc03c, "TLS_RSA_WITH_ARIA_128_CBC_SHA256", TLS_KX_RSA, TLS_AUTH_RSA, "ARIA_128_CBC", 128, 128, false, false, false, false, false},
  {0x001f, "TLS_KRB5_WITH_3DES_EDE_CBC_SHA", TLS_KX_KRB5, TLS_AUTH_KRB5, "3DES_EDE_CBC", 168, 64, false, false, false, false, false},
  {0xc01a, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA", TLS_KX_SRP, TLS_AUTH_OTHER, "3DES_EDE_CBC", 168, 64, false, false, false, false, false},
  /* draft-ietf-tls-56-bit-ciphersuites-01 (never an RFC) */
  {0x0064, "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", TLS_KX_RSA, TLS_AUTH_RSA, "RC4_56", 56, 0, false, false, true, false, false},
  /* RFC 5746 3.3, RFC 7507 6: signalling values */
  {0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", TLS_KX_NULL, TLS_AUTH_NULL, "NULL", 0, 0, false, false, false, false, true},
  {0x5600, "TLS_FALLBACK_SCSV", TLS_KX_NULL, TLS_AUTH_NULL, "NULL", 0, 0, false, false, false, false, true},
};

/* draft-hickman-netscape-ssl-00, Appendix A (cipher kind values) */
static const struct expected_suite sslv2_suites[] = {
  {0x010080, "SSL_CK_RC4_128_WITH_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "RC4_128", 128, 0, false, false, false, false, false},
  {0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "RC4_128_EXPORT40", 40, 0, false, false, true, false, false},
  {0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "RC2_128_CBC", 128, 64, false, false, false, false, false},
  {0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "RC2_128_CBC_EXPORT40", 40, 64, false, false, true, false, false},
  {0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "IDEA_128_CBC", 128, 64, false, false, false, false, false},
  {0x060040, "SSL_CK_DES_64_CBC_WITH_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "DES_64_CBC", 56, 64, false, false, false, false, false},
  {0x0700c0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5", TLS_KX_RSA, TLS_AUTH_RSA, "DES_192_EDE3_CBC", 168, 64, false, false, false, false, false},
};
// clang-format on

static void test_tls13_suites(void) {
  check_suites(tls13_suites, COUNT(tls13_suites));
}

static void test_tls12_suites(void) {
  check_suites(tls12_suites, COUNT(tls12_suites));
}

static void test_other_suites(void) {
  check_suites(other_suites, COUNT(other_suites));
}

static void test_sslv2_suites(void) {
  for (size_t i = 0; i < COUNT(sslv2_suites); i++)
    check_suite(tls_sslv2_suite_lookup(sslv2_suites[i].id), &sslv2_suites[i]);
  /* RFC 5246 E.2: TLS suite {0x00,0x0A} is sent as {0x00,0x00,0x0A}. */
  CHECK(tls_sslv2_suite_lookup(0x00000a) == tls_suite_lookup(0x000a));
  CHECK(tls_sslv2_suite_lookup(0x00000a) != NULL);
  CHECK(tls_sslv2_suite_lookup(0x090080) == NULL);
  CHECK(tls_sslv2_suite_lookup(0xffffff) == NULL);
  /* The SSLv2 kinds are not TLS suites. */
  CHECK(tls_suite_lookup(0x010080) == NULL);
}

static void test_unknown_suites(void) {
  /* RFC 8446 B.4: 0xFF00-0xFFFF private use; RFC 8701: GREASE reserved. */
  CHECK(tls_suite_lookup(0xffff) == NULL);
  CHECK(tls_suite_lookup(0xff00) == NULL);
  CHECK(tls_suite_lookup(0x0a0a) == NULL);
  CHECK(tls_suite_lookup(0xfafa) == NULL);
  CHECK(tls_suite_lookup(0x10000) == NULL);
  CHECK(tls_suite_lookup(UINT32_MAX) == NULL);
}

static void test_groups(void) {
  /* RFC 8446 4.2.7 */
  CHECK_STR(tls_group_name(0x0017), "secp256r1");
  CHECK_STR(tls_group_name(0x0018), "secp384r1");
  CHECK_STR(tls_group_name(0x0019), "secp521r1");
  CHECK_STR(tls_group_name(0x001d), "x25519");
  CHECK_STR(tls_group_name(0x001e), "x448");
  CHECK_STR(tls_group_name(0x0100), "ffdhe2048");
  CHECK_STR(tls_group_name(0x0101), "ffdhe3072");
  CHECK_STR(tls_group_name(0x0102), "ffdhe4096");
  CHECK_STR(tls_group_name(0x0103), "ffdhe6144");
  CHECK_STR(tls_group_name(0x0104), "ffdhe8192");
  /* RFC 7027 2 */
  CHECK_STR(tls_group_name(26), "brainpoolP256r1");
  /* draft-ietf-tls-ecdhe-mlkem 4 */
  CHECK_STR(tls_group_name(0x11ec), "X25519MLKEM768");
  CHECK_STR(tls_group_name(0x11eb), "SecP256r1MLKEM768");
  CHECK_STR(tls_group_name(0x11ed), "SecP384r1MLKEM1024");
  /* draft-tls-westerbaan-xyber768d00-02 */
  CHECK_STR(tls_group_name(0x6399), "X25519Kyber768Draft00");
  CHECK(tls_group_name(0x0a0a) == NULL);
  CHECK(tls_group_name(0x0000) == NULL);
  CHECK(tls_group_name(0xfe00) == NULL);
}

/* Post-quantum groups: ML-KEM (FIPS 203) alone (draft-connolly-tls-mlkem-
 * key-agreement: 0x0200-0x0202) or hybrid (draft-ietf-tls-ecdhe-mlkem:
 * 0x11eb-0x11ed); the IANA registry marks the Kyber drafts 0x6399 and
 * 0x639a "(OBSOLETE)". */
static void test_group_pq(void) {
  static const uint16_t pq[] = {0x0200, 0x0201, 0x0202, 0x11eb, 0x11ec, 0x11ed};
  for (size_t i = 0; i < sizeof pq / sizeof pq[0]; i++)
    CHECK(tls_group_pq(pq[i]) == TLS_GROUP_PQ);
  CHECK(tls_group_pq(0x6399) == TLS_GROUP_PQ_OBSOLETE);
  CHECK(tls_group_pq(0x639a) == TLS_GROUP_PQ_OBSOLETE);
  static const uint16_t classical[] = {0x0017, 0x0018, 0x001d, 0x001e, 0x0100, 0x0a0a, 0x0000};
  for (size_t i = 0; i < sizeof classical / sizeof classical[0]; i++)
    CHECK(tls_group_pq(classical[i]) == TLS_GROUP_CLASSICAL);
}

static void test_group_bits(void) {
  /* Curve sizes (SEC 2, RFC 7748), FFDHE moduli (RFC 7919 A), the classical
   * part of a hybrid; x25519 counts as 256 by the documented rule. */
  CHECK_EQ_U(tls_group_bits(0x0017), 256);
  CHECK_EQ_U(tls_group_bits(0x0018), 384);
  CHECK_EQ_U(tls_group_bits(0x0019), 521);
  CHECK_EQ_U(tls_group_bits(0x001d), 256);
  CHECK_EQ_U(tls_group_bits(0x001e), 448);
  CHECK_EQ_U(tls_group_bits(0x0013), 192); /* secp192r1 */
  CHECK_EQ_U(tls_group_bits(0x001c), 512); /* brainpoolP512r1 */
  CHECK_EQ_U(tls_group_bits(0x0100), 2048);
  CHECK_EQ_U(tls_group_bits(0x0104), 8192);
  CHECK_EQ_U(tls_group_bits(0x11ec), 256);
  CHECK_EQ_U(tls_group_bits(0x11ed), 384);
  CHECK_EQ_U(tls_group_bits(0x0a0a), 0);
  CHECK_EQ_U(tls_group_bits(0xfe00), 0);
}

static void test_sigschemes(void) {
  /* RFC 8446 4.2.3 */
  CHECK_STR(tls_sigscheme_name(0x0401), "rsa_pkcs1_sha256");
  CHECK_STR(tls_sigscheme_name(0x0501), "rsa_pkcs1_sha384");
  CHECK_STR(tls_sigscheme_name(0x0601), "rsa_pkcs1_sha512");
  CHECK_STR(tls_sigscheme_name(0x0403), "ecdsa_secp256r1_sha256");
  CHECK_STR(tls_sigscheme_name(0x0503), "ecdsa_secp384r1_sha384");
  CHECK_STR(tls_sigscheme_name(0x0603), "ecdsa_secp521r1_sha512");
  CHECK_STR(tls_sigscheme_name(0x0804), "rsa_pss_rsae_sha256");
  CHECK_STR(tls_sigscheme_name(0x0806), "rsa_pss_rsae_sha512");
  CHECK_STR(tls_sigscheme_name(0x0807), "ed25519");
  CHECK_STR(tls_sigscheme_name(0x0808), "ed448");
  CHECK_STR(tls_sigscheme_name(0x0809), "rsa_pss_pss_sha256");
  CHECK_STR(tls_sigscheme_name(0x080b), "rsa_pss_pss_sha512");
  CHECK_STR(tls_sigscheme_name(0x0201), "rsa_pkcs1_sha1");
  CHECK_STR(tls_sigscheme_name(0x0203), "ecdsa_sha1");
  /* RFC 5246 7.4.1.4.1 pairs {hash, signature}: sha1(2)/dsa(2),
   * sha224(3)/rsa(1), md5(1)/rsa(1), sha256(4)/dsa(2). */
  CHECK_STR(tls_sigscheme_name(0x0202), "dsa_sha1");
  CHECK_STR(tls_sigscheme_name(0x0301), "rsa_pkcs1_sha224");
  CHECK_STR(tls_sigscheme_name(0x0101), "rsa_pkcs1_md5");
  CHECK_STR(tls_sigscheme_name(0x0402), "dsa_sha256");
  /* RFC 8446 4.2.3: 0xFE00-0xFFFF private use; hash none(0) is not a pair. */
  CHECK(tls_sigscheme_name(0xfe00) == NULL);
  CHECK(tls_sigscheme_name(0xffff) == NULL);
  CHECK(tls_sigscheme_name(0x0001) == NULL);
  CHECK(tls_sigscheme_name(0x0000) == NULL);
}

static void test_extensions(void) {
  /* RFC 8446 4.2 */
  CHECK_STR(tls_extension_name(0), "server_name");
  CHECK_STR(tls_extension_name(1), "max_fragment_length");
  CHECK_STR(tls_extension_name(5), "status_request");
  CHECK_STR(tls_extension_name(10), "supported_groups");
  CHECK_STR(tls_extension_name(13), "signature_algorithms");
  CHECK_STR(tls_extension_name(16), "application_layer_protocol_negotiation");
  CHECK_STR(tls_extension_name(18), "signed_certificate_timestamp");
  CHECK_STR(tls_extension_name(21), "padding");
  CHECK_STR(tls_extension_name(41), "pre_shared_key");
  CHECK_STR(tls_extension_name(42), "early_data");
  CHECK_STR(tls_extension_name(43), "supported_versions");
  CHECK_STR(tls_extension_name(44), "cookie");
  CHECK_STR(tls_extension_name(45), "psk_key_exchange_modes");
  CHECK_STR(tls_extension_name(49), "post_handshake_auth");
  CHECK_STR(tls_extension_name(51), "key_share");
  /* RFC 7627 5.1, RFC 8447 (SessionTicket renamed), RFC 5746 3.2,
   * RFC 6520 2, RFC 9001 8.2, RFC 9849 (ECH) */
  CHECK_STR(tls_extension_name(23), "extended_master_secret");
  CHECK_STR(tls_extension_name(35), "session_ticket");
  CHECK_STR(tls_extension_name(65281), "renegotiation_info");
  CHECK_STR(tls_extension_name(15), "heartbeat");
  CHECK_STR(tls_extension_name(57), "quic_transport_parameters");
  CHECK_STR(tls_extension_name(0xfe0d), "encrypted_client_hello");
  /* RFC 8701: GREASE; RFC 8446 4.2: 0xFF00-0xFFFF private use except 0xFF01 */
  CHECK(tls_extension_name(0x0a0a) == NULL);
  CHECK(tls_extension_name(0xffff) == NULL);
  CHECK(tls_extension_name(0xff00) == NULL);
}

static void test_alerts(void) {
  /* RFC 8446 6 */
  CHECK_STR(tls_alert_name(0), "close_notify");
  CHECK_STR(tls_alert_name(10), "unexpected_message");
  CHECK_STR(tls_alert_name(20), "bad_record_mac");
  CHECK_STR(tls_alert_name(22), "record_overflow");
  CHECK_STR(tls_alert_name(40), "handshake_failure");
  CHECK_STR(tls_alert_name(42), "bad_certificate");
  CHECK_STR(tls_alert_name(47), "illegal_parameter");
  CHECK_STR(tls_alert_name(48), "unknown_ca");
  CHECK_STR(tls_alert_name(70), "protocol_version");
  CHECK_STR(tls_alert_name(71), "insufficient_security");
  CHECK_STR(tls_alert_name(80), "internal_error");
  CHECK_STR(tls_alert_name(86), "inappropriate_fallback");
  CHECK_STR(tls_alert_name(90), "user_canceled");
  CHECK_STR(tls_alert_name(109), "missing_extension");
  CHECK_STR(tls_alert_name(112), "unrecognized_name");
  CHECK_STR(tls_alert_name(116), "certificate_required");
  CHECK_STR(tls_alert_name(120), "no_application_protocol");
  /* RFC 5246 7.2: alerts TLS 1.3 only reserves keep their 1.2 names */
  CHECK_STR(tls_alert_name(21), "decryption_failed");
  CHECK_STR(tls_alert_name(100), "no_renegotiation");
  CHECK(tls_alert_name(1) == NULL);
  CHECK(tls_alert_name(255) == NULL);
}

static void test_grease(void) {
  /* RFC 8701 2: the sixteen reserved values */
  static const uint16_t grease[] = {0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a,
                                    0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa};
  for (size_t i = 0; i < COUNT(grease); i++)
    CHECK(tls_is_grease(grease[i]));
  unsigned count = 0;
  for (uint32_t id = 0; id <= 0xffff; id++)
    count += tls_is_grease((uint16_t)id);
  CHECK_EQ_U(count, 16);
  CHECK(!tls_is_grease(0x0a1a));
  CHECK(!tls_is_grease(0x0b0b));
  CHECK(!tls_is_grease(0xaaab));
  CHECK(!tls_is_grease(0x0000));
  CHECK(!tls_is_grease(0xffff));
  CHECK(!tls_is_grease(0x1301));
}

/* The generated names for code carry the RFCs' numbers (RFC 8446 4.2,
 * RFC 5746 3.2, RFC 9849) and the registry's names. */
static void test_extension_ids(void) {
  CHECK_EQ_U(TLS_EXT_SERVER_NAME, 0);
  CHECK_EQ_U(TLS_EXT_APPLICATION_LAYER_PROTOCOL_NEGOTIATION, 16);
  CHECK_EQ_U(TLS_EXT_PRE_SHARED_KEY, 41);
  CHECK_EQ_U(TLS_EXT_SUPPORTED_VERSIONS, 43);
  CHECK_EQ_U(TLS_EXT_KEY_SHARE, 51);
  CHECK_EQ_U(TLS_EXT_RENEGOTIATION_INFO, 0xff01);
  CHECK_EQ_U(TLS_EXT_ENCRYPTED_CLIENT_HELLO, 0xfe0d);
  CHECK_STR(tls_extension_name(TLS_EXT_SUPPORTED_VERSIONS), "supported_versions");
  CHECK_STR(tls_extension_name(TLS_EXT_SIGNED_CERTIFICATE_TIMESTAMP),
            "signed_certificate_timestamp");
}

static void test_versions(void) {
  CHECK_STR(tls_version_name(0x0002), "SSLv2");
  CHECK_STR(tls_version_name(0x0300), "SSLv3");    /* RFC 6101 */
  CHECK_STR(tls_version_name(0x0301), "TLSv1.0");  /* RFC 2246 */
  CHECK_STR(tls_version_name(0x0302), "TLSv1.1");  /* RFC 4346 */
  CHECK_STR(tls_version_name(0x0303), "TLSv1.2");  /* RFC 5246 */
  CHECK_STR(tls_version_name(0x0304), "TLSv1.3");  /* RFC 8446 */
  CHECK_STR(tls_version_name(0xfeff), "DTLSv1.0"); /* RFC 4347 */
  CHECK_STR(tls_version_name(0xfefd), "DTLSv1.2"); /* RFC 6347 */
  CHECK_STR(tls_version_name(0xfefc), "DTLSv1.3"); /* RFC 9147 */
  CHECK(tls_version_name(0x0000) == NULL);
  CHECK(tls_version_name(0x0305) == NULL);
  CHECK(tls_version_name(0x7f1c) == NULL);
  CHECK(tls_version_name(0xfefe) == NULL);
  CHECK(tls_version_name(0x0a0a) == NULL);
  /* The enum's wire values, from the same RFCs. */
  CHECK_EQ_U(TLS_VERSION_SSL3, 0x0300);
  CHECK_EQ_U(TLS_VERSION_TLS12, 0x0303);
  CHECK_EQ_U(TLS_VERSION_TLS13, 0x0304);
  CHECK_EQ_U(TLS_VERSION_DTLS10, 0xfeff);
  CHECK_EQ_U(TLS_VERSION_DTLS12, 0xfefd);
  CHECK_EQ_U(TLS_VERSION_DTLS13, 0xfefc);
}

/* A name lookup agrees with the table entry (the test has its own copy of
 * the static tables, so compare contents, not addresses). */
static bool same_name(const char *found, const char *expected) {
  return found && strcmp(found, expected) == 0;
}

static bool same_suite(const struct tls_suite_info *found, const struct tls_suite_info *entry) {
  return found && found->id == entry->id && strcmp(found->name, entry->name) == 0;
}

/* Shape of the generated tables: strictly ascending ids (binary search
 * depends on it), and every entry found by its own lookup. */
static void test_tables_sorted(void) {
  CHECK(COUNT(registry_suites) > 300);
  for (size_t i = 0; i < COUNT(registry_suites); i++) {
    const struct tls_suite_info *suite = &registry_suites[i];
    if (i > 0)
      CHECK(registry_suites[i - 1].id < suite->id);
    CHECK(suite->id <= 0xffff);
    CHECK(same_suite(tls_suite_lookup(suite->id), suite));
    CHECK(strncmp(suite->name, "TLS_", 4) == 0 || strncmp(suite->name, "SSL_", 4) == 0);
    CHECK(!tls_is_grease((uint16_t)suite->id));
  }
  for (size_t i = 0; i < COUNT(registry_sslv2_suites); i++) {
    const struct tls_suite_info *suite = &registry_sslv2_suites[i];
    if (i > 0)
      CHECK(registry_sslv2_suites[i - 1].id < suite->id);
    CHECK(suite->id > 0xffff && suite->id <= 0xffffff);
    CHECK(same_suite(tls_sslv2_suite_lookup(suite->id), suite));
  }
  for (size_t i = 0; i < COUNT(registry_groups); i++) {
    const struct registry_group *group = &registry_groups[i];
    if (i > 0)
      CHECK(registry_groups[i - 1].id < group->id);
    CHECK(same_name(tls_group_name((uint16_t)group->id), group->name));
    CHECK_EQ_U(tls_group_bits((uint16_t)group->id), group->bits);
  }
  for (size_t i = 0; i < COUNT(registry_sigschemes); i++) {
    if (i > 0)
      CHECK(registry_sigschemes[i - 1].id < registry_sigschemes[i].id);
    CHECK(same_name(tls_sigscheme_name((uint16_t)registry_sigschemes[i].id),
                    registry_sigschemes[i].name));
  }
  for (size_t i = 0; i < COUNT(registry_extensions); i++) {
    if (i > 0)
      CHECK(registry_extensions[i - 1].id < registry_extensions[i].id);
    CHECK(same_name(tls_extension_name((uint16_t)registry_extensions[i].id),
                    registry_extensions[i].name));
  }
  for (size_t i = 0; i < COUNT(registry_alerts); i++) {
    if (i > 0)
      CHECK(registry_alerts[i - 1].id < registry_alerts[i].id);
    CHECK(registry_alerts[i].id <= 0xff);
    CHECK(same_name(tls_alert_name((uint8_t)registry_alerts[i].id), registry_alerts[i].name));
  }
}

/* Rules that hold for every suite whatever the registry adds. */
static void test_suite_invariants(void) {
  for (size_t i = 0; i < COUNT(registry_suites); i++) {
    const struct tls_suite_info *suite = &registry_suites[i];
    if (suite->aead)
      CHECK(suite->block_bits == 0);
    if (suite->scsv)
      CHECK(suite->bits == 0 && !suite->aead && !suite->forward_secret);
    if (suite->export_grade)
      CHECK(suite->bits <= 56);
    if (suite->kx == TLS_KX_TLS13)
      CHECK(suite->forward_secret);
    if (suite->anonymous)
      CHECK(suite->auth == TLS_AUTH_ANON || suite->auth == TLS_AUTH_NULL);
    CHECK(suite->block_bits == 0 || suite->block_bits == 64 || suite->block_bits == 128);
    CHECK(suite->cipher != NULL && suite->cipher[0] != '\0');
    CHECK((suite->bits == 0) == (strcmp(suite->cipher, "NULL") == 0));
  }
}

int main(void) {
  RUN(test_tls13_suites);
  RUN(test_tls12_suites);
  RUN(test_other_suites);
  RUN(test_sslv2_suites);
  RUN(test_unknown_suites);
  RUN(test_groups);
  RUN(test_group_pq);
  RUN(test_group_bits);
  RUN(test_sigschemes);
  RUN(test_extensions);
  RUN(test_alerts);
  RUN(test_grease);
  RUN(test_extension_ids);
  RUN(test_versions);
  RUN(test_tables_sorted);
  RUN(test_suite_invariants);
  return harness_done();
}
