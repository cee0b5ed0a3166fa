/*
 * Unit tests of key log decryption (dissect/keylog.c, crypt.c, decrypt.c).
 *
 * Expected values are RFC 8448 section 3 ("Simple 1-RTT Handshake"): its
 * four traffic secrets, the write keys and IVs it derives from them, its
 * protected records ("complete record") and what they carry (the
 * EncryptedExtensions, Finished and NewSessionTicket messages it prints,
 * the 50-byte application payload 00 01 .. 31, close_notify alerts).
 * Every record must authenticate: a wrong byte anywhere (in the key
 * schedule or in the transcription) makes the AEAD tag check fail.
 */
#include "dissect/conn.h"
#include "dissect/decrypt.h"
#include "tests/unit/harness.h"

#include <stdlib.h>
#include <unistd.h>

// clang-format off
/* RFC 8448 3: the secrets "derive secret" prints (32 octets each). */
#define C_HS_SECRET "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21"
#define S_HS_SECRET "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38"
#define C_AP_SECRET "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5"
#define S_AP_SECRET "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43"
/* ClientHello.random, the key log's index. */
#define CLIENT_RANDOM "cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7"

/* {client}/{server} send handshake record (the RFC's bytes, also in test_record.c). */
static const char rfc8448_ch_record[] =
    "16 03 01 00 c4 01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a"
    "8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01 00 00 91 00 00 00 0b"
    "00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19"
    "01 00 01 01 01 02 01 03 01 04 00 23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d e5 60 e4"
    "bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00 03"
    "02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02"
    "01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01";
static const char rfc8448_sh_record[] =
    "16 03 03 00 5a 02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a"
    "c5 cb 14 34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24 00 1d 00 20 c9 82 88"
    "76 11 20 95 fe 66 76 2b db f7 c6 72 e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00"
    "2b 00 02 03 04";
/* {server} send handshake record: EE, Certificate, CertificateVerify, Finished (679 octets). */
static const char rfc8448_flight[] =
    "17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f "
    "45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca "
    "07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd "
    "05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b "
    "d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e "
    "f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c "
    "7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8 "
    "bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92 "
    "8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70 "
    "a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8 "
    "94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea "
    "52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f "
    "44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89 "
    "f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3 "
    "6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1 "
    "00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e "
    "1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84 "
    "c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c "
    "f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f "
    "c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be "
    "5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6 "
    "fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb "
    "56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10 "
    "dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38 "
    "eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f "
    "60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78 "
    "40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3 "
    "79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e "
    "75 0e dc 53 37 0d 2b";
/* {client} send handshake record: its Finished (58 octets). */
static const char rfc8448_cfin[] =
    "17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 "
    "51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c "
    "ae ac ab 68 67 d7 26 c4 05 46";
/* {server} send handshake record: NewSessionTicket (227 octets). */
static const char rfc8448_nst[] =
    "17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24 "
    "0e 6c ff ac 11 6e 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a "
    "01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 8e fb cf 57 53 ad 8e f1 "
    "70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0 "
    "9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15 "
    "13 98 91 d5 e4 c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77 "
    "f8 1b 5a b0 5b 94 c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3 "
    "47 d1 43 f9 60 5d 64 f6 50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c 74 "
    "bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96 12 9c 81 53 55 6b "
    "3b 6c 67 79 b3 7b f1 59 85 68 4f";
/* {client} / {server} send application_data record (72 octets each). */
static const char rfc8448_capp[] =
    "17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea "
    "42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b "
    "62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";
static const char rfc8448_sapp[] =
    "17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc "
    "32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8 "
    "fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d";
/* {client} / {server} send alert record (24 octets): close_notify. */
static const char rfc8448_calert[] =
    "17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3";
static const char rfc8448_salert[] =
    "17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9";

/* Plaintexts the RFC prints for those records. */
static const char rfc8448_ee[] =
    "08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 "
    "00 1c 00 02 40 01 00 00 00 00";
static const char rfc8448_server_finished[] =
    "14 00 00 20 9b 9b 14 1d 90 63 37 fb d2 cb dc e7 1d f4 de da 4a b4 2c 30 95 72 cb 7f ff ee "
    "54 54 b7 8f 07 18";
static const char rfc8448_client_finished[] =
    "14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03 9e c1 76 94 fa c6 e9 85 27 b6 "
    "42 f2 ed d5 ce 61";
static const char rfc8448_nst_start[] = /* lifetime 30, age_add, nonce 00 00, ticket 178 octets */
    "04 00 00 c9 00 00 00 1e fa d6 aa c5 02 00 00 00 b2";
// clang-format on

static bool same(const uint8_t *got, size_t got_len, const char *want_hex) {
  size_t n;
  uint8_t *want = harness_unhex(want_hex, &n);
  bool ok = got_len == n && memcmp(got, want, n) == 0;
  free(want);
  return ok;
}

/* RFC 8448 3: "derive write traffic keys" for each of the four secrets. */
static void traffic_keys(void) {
  static const struct {
    const char *secret, *key, *iv;
  } t[] = {
      {S_HS_SECRET, "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc",
       "5d 31 3e b2 67 12 76 ee 13 00 0b 30"},
      {C_HS_SECRET, "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01",
       "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"},
      {S_AP_SECRET, "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56",
       "cf 78 2b 88 dd 83 54 9a ad f1 e9 84"},
      {C_AP_SECRET, "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51",
       "5b 78 92 3d ee 08 57 90 33 e5 23 d9"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    size_t n;
    uint8_t *secret = harness_unhex(t[i].secret, &n);
    uint8_t key[16], iv[12];
    CHECK(tls13_expand_label("SHA256", secret, n, "key", key, sizeof(key)));
    CHECK(tls13_expand_label("SHA256", secret, n, "iv", iv, sizeof(iv)));
    CHECK(same(key, sizeof(key), t[i].key));
    CHECK(same(iv, sizeof(iv), t[i].iv));
    free(secret);
  }
}

static struct tls_crypt *keys_for(const char *secret_hex) {
  size_t n;
  uint8_t *secret = harness_unhex(secret_hex, &n);
  const char *why = NULL;
  struct tls_crypt *k = tls_crypt_tls13(0x1301, secret, n, &why);
  CHECK(k != NULL);
  free(secret);
  return k;
}

/* Open one RFC record (header included in rec_hex) with k; the inner
 * content type and plaintext are returned (plaintext owned by caller). */
static bool open_record(struct tls_crypt *k, const char *rec_hex, uint8_t *type, uint8_t **buf,
                        uint8_t **plain, size_t *plain_len) {
  size_t n;
  *buf = harness_unhex(rec_hex, &n);
  *type = (*buf)[0];
  uint16_t version = (uint16_t)((*buf)[1] << 8 | (*buf)[2]);
  CHECK_EQ_U(n - 5, (size_t)((*buf)[3] << 8 | (*buf)[4]));
  return tls_crypt_open(k, type, version, *buf + 5, n - 5, plain, plain_len);
}

/* The server's encrypted flight: EE first, its Finished last, 657 octets
 * of handshake (40 + 445 + 136 + 36, the RFC's message sizes). */
static void server_flight(void) {
  struct tls_crypt *k = keys_for(S_HS_SECRET);
  uint8_t type, *buf, *plain;
  size_t len;
  CHECK(k && open_record(k, rfc8448_flight, &type, &buf, &plain, &len));
  CHECK_EQ_U(type, 22);
  CHECK_EQ_U(len, 657);
  if (len == 657) {
    CHECK(same(plain, 40, rfc8448_ee));
    CHECK(same(plain + len - 36, 36, rfc8448_server_finished));
  }
  free(buf);
  tls_crypt_free(k);
}

static void client_finished(void) {
  struct tls_crypt *k = keys_for(C_HS_SECRET);
  uint8_t type, *buf, *plain;
  size_t len;
  CHECK(k && open_record(k, rfc8448_cfin, &type, &buf, &plain, &len));
  CHECK_EQ_U(type, 22);
  CHECK(same(plain, len, rfc8448_client_finished));
  free(buf);
  tls_crypt_free(k);
}

/* Application keys: sequence numbers 0, 1, 2 in order (the server's
 * NewSessionTicket, its data, its alert; the client's data, its alert). */
static void application_records(void) {
  uint8_t payload[50];
  for (int i = 0; i < 50; i++)
    payload[i] = (uint8_t)i;
  struct tls_crypt *s = keys_for(S_AP_SECRET), *c = keys_for(C_AP_SECRET);
  uint8_t type, *buf, *plain;
  size_t len;
  CHECK(s && open_record(s, rfc8448_nst, &type, &buf, &plain, &len));
  CHECK_EQ_U(type, 22);
  CHECK_EQ_U(len, 205);
  CHECK(len >= 17 && same(plain, 17, rfc8448_nst_start));
  free(buf);
  CHECK(c && open_record(c, rfc8448_capp, &type, &buf, &plain, &len));
  CHECK(type == 23 && len == 50 && memcmp(plain, payload, 50) == 0);
  free(buf);
  CHECK(open_record(s, rfc8448_sapp, &type, &buf, &plain, &len));
  CHECK(type == 23 && len == 50 && memcmp(plain, payload, 50) == 0);
  free(buf);
  CHECK(open_record(c, rfc8448_calert, &type, &buf, &plain, &len));
  CHECK(type == 21 && same(plain, len, "01 00"));
  free(buf);
  CHECK(open_record(s, rfc8448_salert, &type, &buf, &plain, &len));
  CHECK(type == 21 && same(plain, len, "01 00"));
  free(buf);
  tls_crypt_free(s);
  tls_crypt_free(c);
}

/* A changed byte, the other side's keys, or a record out of order must
 * fail authentication, never yield plaintext. */
static void wrong_keys_fail(void) {
  uint8_t type, *buf, *plain;
  size_t len, n;
  struct tls_crypt *c = keys_for(C_AP_SECRET);
  buf = harness_unhex(rfc8448_capp, &n);
  buf[20] ^= 1;
  type = 23;
  CHECK(!tls_crypt_open(c, &type, 0x0303, buf + 5, n - 5, &plain, &len));
  free(buf);
  CHECK(!open_record(c, rfc8448_calert, &type, &buf, &plain, &len)); /* sequence 1 expected 0 */
  free(buf);
  tls_crypt_free(c);
  struct tls_crypt *s = keys_for(S_AP_SECRET);
  CHECK(!open_record(s, rfc8448_capp, &type, &buf, &plain, &len));
  free(buf);
  tls_crypt_free(s);
  const char *why = NULL;
  uint8_t short_secret[16] = {0};
  CHECK(tls_crypt_tls13(0x1301, short_secret, sizeof(short_secret), &why) == NULL && why);
  CHECK(tls_crypt_tls13(0x1304, short_secret, sizeof(short_secret), &why) == NULL && why);
}

/* A key log file with the RFC's secrets, one byte of `bad_secret` (may be
 * NULL) changed. */
static char *write_keylog(const char *bad_label) {
  static const struct {
    const char *label, *secret;
  } lines[] = {{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", C_HS_SECRET},
               {"SERVER_HANDSHAKE_TRAFFIC_SECRET", S_HS_SECRET},
               {"CLIENT_TRAFFIC_SECRET_0", C_AP_SECRET},
               {"SERVER_TRAFFIC_SECRET_0", S_AP_SECRET}};
  char *path = strdup("/tmp/tlsgrade-test-keylog-XXXXXX");
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "# RFC 8448 section 3\n\n");
  for (size_t i = 0; i < 4; i++) {
    fprintf(f, "%s ", lines[i].label);
    for (const char *p = CLIENT_RANDOM; *p; p++)
      if (*p != ' ')
        fputc(*p, f);
    fputc(' ', f);
    bool first = true;
    for (const char *p = lines[i].secret; *p; p++) {
      if (*p == ' ')
        continue;
      bool flip = first && bad_label && strcmp(bad_label, lines[i].label) == 0;
      fputc(flip ? (*p == '0' ? '1' : '0') : *p, f);
      first = false;
    }
    fputc('\n', f);
  }
  fclose(f);
  return path;
}

static void feed_hex(struct tls_conn *c, int dir, const char *s, uint64_t frame) {
  size_t n;
  uint8_t *b = harness_unhex(s, &n);
  tls_conn_data(c, dir, b, n, 0, 0, 0, frame, (cap_time_us)frame * 1000);
  free(b);
}

/* The RFC's whole exchange through a connection with a key log. */
static const struct tls_session *rfc8448_conn(struct tls_conn *c, const struct tls_keylog *kl) {
  tls_conn_set_keylog(c, kl);
  feed_hex(c, FLOW_C2S, rfc8448_ch_record, 1);
  feed_hex(c, FLOW_S2C, rfc8448_sh_record, 2);
  feed_hex(c, FLOW_S2C, rfc8448_flight, 3);
  feed_hex(c, FLOW_C2S, rfc8448_cfin, 4);
  feed_hex(c, FLOW_S2C, rfc8448_nst, 5);
  feed_hex(c, FLOW_C2S, rfc8448_capp, 6);
  feed_hex(c, FLOW_S2C, rfc8448_sapp, 7);
  feed_hex(c, FLOW_C2S, rfc8448_calert, 8);
  feed_hex(c, FLOW_S2C, rfc8448_salert, 9);
  return tls_conn_session(c);
}

static struct tls_conn *new_conn(void) {
  struct tls_limits lim;
  tls_limits_default(&lim);
  return tls_conn_new(&lim, false, 443);
}

/* The certificate of a TLS 1.3 handshake is read once the key log opens
 * it (RFC 8448 2: the server's certificate has CN "rsa", RSA-1024). */
static void connection_with_keylog(void) {
  char *path = write_keylog(NULL);
  struct tls_keylog *kl = tls_keylog_new();
  struct tls_keylog_stats st;
  char err[256];
  CHECK(tls_keylog_load(kl, path, &st, err, sizeof(err)) == 0);
  CHECK_EQ_U(st.secrets, 4);
  CHECK_EQ_U(st.bad, 0);
  CHECK_EQ_U(tls_keylog_count(kl), 1);
  struct tls_conn *c = new_conn();
  const struct tls_session *s = rfc8448_conn(c, kl);
  CHECK_EQ_U(s->decryption.status, TLS_DECRYPT_OK);
  CHECK_EQ_U(s->chain_len, 1);
  if (s->chain_len) {
    CHECK_STR(s->chain[0]->subject_cn, "rsa");
    CHECK_EQ_U(s->chain[0]->key_bits, 1024);
    CHECK_EQ_U(s->chain_at.frame, 3);
  }
  CHECK(s->new_session_ticket);
  CHECK_EQ_U(s->ticket_at.frame, 5);
  CHECK_EQ_U(s->ticket_lifetime_hint, 30);
  CHECK_EQ_U(s->ticket_length, 178);
  /* Flight, Finished, ticket; the application data is not HTTP, so once
   * both sides' traffic keys are known nothing more is opened. */
  CHECK_EQ_U(s->decryption.records[FLOW_S2C], 2);
  CHECK_EQ_U(s->decryption.records[FLOW_C2S], 2);
  CHECK(s->https == NULL);
  CHECK(s->malformed == NULL);
  tls_conn_free(c);
  tls_keylog_free(kl);
  unlink(path);
  free(path);
}

/* One changed byte of the server's handshake secret: the first protected
 * record fails, decryption stops, no certificate appears; no crash. */
static void connection_wrong_secret(void) {
  char *path = write_keylog("SERVER_HANDSHAKE_TRAFFIC_SECRET");
  struct tls_keylog *kl = tls_keylog_new();
  struct tls_keylog_stats st;
  char err[256];
  CHECK(tls_keylog_load(kl, path, &st, err, sizeof(err)) == 0);
  struct tls_conn *c = new_conn();
  const struct tls_session *s = rfc8448_conn(c, kl);
  CHECK_EQ_U(s->decryption.status, TLS_DECRYPT_FAILED);
  CHECK_EQ_U(s->decryption.failed_at.frame, 3);
  CHECK_EQ_U(s->chain_len, 0);
  CHECK(s->established); /* what the record headers show is unchanged */
  tls_conn_free(c);
  tls_keylog_free(kl);
  unlink(path);
  free(path);
}

/* No secret for this ClientHello.random: nothing is buffered or opened. */
static void connection_without_keys(void) {
  struct tls_keylog *kl = tls_keylog_new();
  struct tls_conn *c = new_conn();
  const struct tls_session *s = rfc8448_conn(c, kl);
  CHECK_EQ_U(s->decryption.status, TLS_DECRYPT_NO_KEYS);
  CHECK_EQ_U(s->chain_len, 0);
  tls_conn_free(c);
  tls_keylog_free(kl);
}

/* Comments and blank lines are fine; other labels are ignored; lines that
 * do not parse are counted and skipped; an unreadable file is an error. */
static void keylog_lines(void) {
  char path[] = "/tmp/tlsgrade-test-keylog-XXXXXX";
  FILE *f = fdopen(mkstemp(path), "w");
  fprintf(
      f, "# comment\n\n"
         "CLIENT_RANDOM 0101010101010101010101010101010101010101010101010101010101010101 "
         "020202020202020202020202020202020202020202020202020202020202020202020202020202"
         "020202020202020202\n"
         "EXPORTER_SECRET 0101010101010101010101010101010101010101010101010101010101010101 "
         "0303030303030303030303030303030303030303030303030303030303030303\n"
         "CLIENT_RANDOM 0101 0202\n" /* 5 */
         "CLIENT_RANDOM zz01010101010101010101010101010101010101010101010101010101010101 "
         "020202020202020202020202020202020202020202020202020202020202020202020202020202"
         "020202020202020202\n"
         "SERVER_TRAFFIC_SECRET_0 0101010101010101010101010101010101010101010101010101010101010101 "
         "04040404 extra\n"
         "CLIENT_TRAFFIC_SECRET_0\r\n"
         "lower_case_label 01 02\n");
  fclose(f);
  struct tls_keylog *kl = tls_keylog_new();
  struct tls_keylog_stats st;
  char err[256];
  CHECK(tls_keylog_load(kl, path, &st, err, sizeof(err)) == 0);
  CHECK_EQ_U(st.lines, 9);
  CHECK_EQ_U(st.secrets, 1);
  CHECK_EQ_U(st.ignored, 1);
  CHECK_EQ_U(st.bad, 5);
  CHECK_EQ_U(st.first_bad_line, 5);
  uint8_t random[32];
  memset(random, 1, sizeof(random));
  const struct tls_secrets *sec = tls_keylog_find(kl, random);
  CHECK(sec && (sec->have & (1u << TLS_SECRET_MASTER)) && sec->len[TLS_SECRET_MASTER] == 48);
  CHECK(sec && sec->v[TLS_SECRET_MASTER][47] == 2);
  random[0] = 9;
  CHECK(tls_keylog_find(kl, random) == NULL);
  unlink(path);
  CHECK(tls_keylog_load(kl, path, &st, err, sizeof(err)) < 0);
  CHECK(strstr(err, path) != NULL);
  tls_keylog_free(kl);
}

/* A line of CLIENT_RANDOM for random i (its 32 bytes: i in the first 4,
 * then 0xab) and a 48-byte master secret of i. */
static void random_line(char *line, size_t cap, uint32_t i, const char *label) {
  char hex[65];
  snprintf(hex, sizeof hex, "%08x%056x", i, 0);
  for (size_t k = 8; k < 64; k++)
    hex[k] = k % 2 ? 'b' : 'a';
  snprintf(line, cap, "%s %s ", label, hex);
  size_t n = strlen(line);
  for (size_t k = 0; k < 96 && n + k + 1 < cap; k++)
    line[n + k] = "0123456789abcdef"[(i + k) % 16];
  line[n + 96] = '\0';
}

static void random_of(uint8_t out[32], uint32_t i) {
  out[0] = (uint8_t)(i >> 24), out[1] = (uint8_t)(i >> 16), out[2] = (uint8_t)(i >> 8);
  out[3] = (uint8_t)i;
  memset(out + 4, 0xab, 28);
}

/* The key log's table: many connections found after it grew; past the
 * cap a new connection's secrets are refused and counted, while more
 * secrets of a connection already kept are still taken. */
static void keylog_table_and_cap(void) {
  char line[256];
  uint8_t r[32];
  struct tls_keylog *kl = tls_keylog_new();
  for (uint32_t i = 0; i < 3000; i++) {
    random_line(line, sizeof line, i, "CLIENT_RANDOM");
    CHECK_EQ_U(tls_keylog_add_line(kl, line), 1);
  }
  CHECK_EQ_U(tls_keylog_count(kl), 3000);
  bool all = true;
  for (uint32_t i = 0; i < 3000; i++) {
    random_of(r, i);
    const struct tls_secrets *s = tls_keylog_find(kl, r);
    all = all && s && memcmp(s->random, r, 32) == 0 && s->len[TLS_SECRET_MASTER] == 48;
  }
  CHECK(all);
  random_of(r, 3000);
  CHECK(tls_keylog_find(kl, r) == NULL);
  tls_keylog_free(kl);

  kl = tls_keylog_new();
  tls_keylog_set_max(kl, 2);
  for (uint32_t i = 0; i < 4; i++) {
    random_line(line, sizeof line, i, "CLIENT_RANDOM");
    tls_keylog_add_line(kl, line);
  }
  CHECK_EQ_U(tls_keylog_count(kl), 2);
  CHECK_EQ_U(tls_keylog_refused(kl), 2);
  random_of(r, 3);
  CHECK(tls_keylog_find(kl, r) == NULL);
  random_line(line, sizeof line, 1, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"); /* 48 bytes: SHA-384 */
  CHECK_EQ_U(tls_keylog_add_line(kl, line), 1);
  random_of(r, 1);
  const struct tls_secrets *s = tls_keylog_find(kl, r);
  CHECK(s && s->len[TLS_SECRET_CLIENT_HS] == 48 && s->len[TLS_SECRET_MASTER] == 48);
  CHECK_EQ_U(tls_keylog_refused(kl), 2);
  tls_keylog_free(kl);
}

int main(void) {
  RUN(keylog_table_and_cap);
  RUN(traffic_keys);
  RUN(server_flight);
  RUN(client_finished);
  RUN(application_records);
  RUN(wrong_keys_fail);
  RUN(connection_with_keylog);
  RUN(connection_wrong_secret);
  RUN(connection_without_keys);
  RUN(keylog_lines);
  return harness_done();
}
