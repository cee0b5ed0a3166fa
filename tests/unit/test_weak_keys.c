/*
 * tests/unit/test_weak_keys.c - dissect/weak_keys.c (Debian weak-key lists)
 * and the fingerprint dissect/x509.c computes for them.
 *
 * Where the expected values come from:
 *  - List files: written by each test, so the distinct entries, the line
 *    of each fault and the sizes covered are known by construction.
 *  - Fingerprints: Debian's recipe (openssl-vulnkey(1), the header of the
 *    openssl-blacklist files): `openssl x509 -noout -modulus -in CERT |
 *    sha1sum`, last 20 hex digits, run here through the openssl command
 *    line, never through the code under test.  One key of 1020 bits shows
 *    the leading digit `openssl x509 -modulus` does not print.
 *
 * Run from the repository root (samples/certs/ is read).
 */
#include "dissect/dissect.h"
#include "harness.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/tlsgrade-weak-keys-XXXXXX";

static void write_text(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static const char *path_of(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

/* Load one path into a fresh set; returns the set (or NULL on error, the
 * message in err). */
static struct x509_weak_keys *load_one(const char *path, size_t max, char *err, size_t errlen) {
  struct x509_weak_keys *keys = x509_weak_keys_new(max);
  CHECK(keys != NULL);
  err[0] = '\0';
  if (x509_weak_keys_load(keys, path, err, errlen) < 0) {
    x509_weak_keys_free(keys);
    return NULL;
  }
  return keys;
}

static void hex_to_fp(const char *hex, uint8_t fp[10]) {
  for (int i = 0; i < 10; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    fp[i] = (uint8_t)v;
  }
}

static struct tls_cert rsa_cert(int bits, const char *hex) {
  struct tls_cert c;
  memset(&c, 0, sizeof c);
  c.parsed = true;
  c.key_type = TLS_KEY_RSA;
  c.key_bits = bits;
  c.has_weak_key_fp = true;
  hex_to_fp(hex, c.weak_key_fp);
  return c;
}

/* Comments, an empty line, CRLF, upper-case digits and duplicates. */
static void comments_and_duplicates(void) {
  write_text("blacklist.RSA-2048", "# openssl-blacklist style header\n"
                                   "#\n"
                                   "00000000000000000000\n"
                                   "\n"
                                   "f60644adc58a474c7001\n"
                                   "F60644ADC58A474C7001\r\n"
                                   "ffffffffffffffffffff\n"
                                   "00000000000000000000"); /* no final newline */
  char err[512];
  struct x509_weak_keys *keys = load_one(path_of("blacklist.RSA-2048"), 100, err, sizeof err);
  CHECK(keys != NULL);
  if (!keys) {
    fprintf(stderr, "  %s\n", err);
    return;
  }
  CHECK_EQ_U(x509_weak_keys_count(keys), 3); /* 0000.., f606.., ffff.. */
  CHECK(x509_weak_keys_cover(keys, 2048));
  CHECK(!x509_weak_keys_cover(keys, 1024));
  struct tls_cert listed = rsa_cert(2048, "f60644adc58a474c7001");
  struct tls_cert first = rsa_cert(2048, "00000000000000000000");
  struct tls_cert last = rsa_cert(2048, "ffffffffffffffffffff");
  struct tls_cert other = rsa_cert(2048, "f60644adc58a474c7002");
  struct tls_cert wrong_size = rsa_cert(1024, "f60644adc58a474c7001");
  CHECK_EQ_U(x509_weak_keys_lookup(keys, &listed), TLS_WEAK_KEY_LISTED);
  CHECK_EQ_U(x509_weak_keys_lookup(keys, &first), TLS_WEAK_KEY_LISTED);
  CHECK_EQ_U(x509_weak_keys_lookup(keys, &last), TLS_WEAK_KEY_LISTED);
  CHECK_EQ_U(x509_weak_keys_lookup(keys, &other), TLS_WEAK_KEY_NOT_LISTED);
  CHECK_EQ_U(x509_weak_keys_lookup(keys, &wrong_size), TLS_WEAK_KEY_UNCHECKED);
  CHECK_EQ_U(x509_weak_keys_lookup(NULL, &listed), TLS_WEAK_KEY_UNCHECKED);
  struct tls_cert ec = listed;
  ec.key_type = TLS_KEY_EC;
  CHECK_EQ_U(x509_weak_keys_lookup(keys, &ec), TLS_WEAK_KEY_UNCHECKED);
  x509_weak_keys_free(keys);
}

/* Each bad list names its file and the line at fault. */
static void bad_lines(void) {
  static const struct {
    const char *text;
    const char *where; /* "NAME:LINE:" expected in the message */
  } cases[] = {
      {"# ok\n0123456789abcdef012\n", ":2: expected 20 hex digits"}, /* 19 digits */
      {"0123456789abcdef01234\n", ":1: expected 20 hex digits"},     /* 21 digits */
      {"0123456789abcdef0123\n0123456789abcdefg123\n", ":2: expected 20 hex digits, found"},
      {"0123456789abcdef0123 \n", ":1: expected 20 hex digits"}, /* trailing blank */
      {" # indented comment\n", ":1: expected 20 hex digits"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_text("blacklist.RSA-1024", cases[i].text);
    char err[512], want[600];
    struct x509_weak_keys *keys = load_one(path_of("blacklist.RSA-1024"), 100, err, sizeof err);
    CHECK(keys == NULL);
    snprintf(want, sizeof want, "%s%s", path_of("blacklist.RSA-1024"), cases[i].where);
    if (!strstr(err, want)) {
      fprintf(stderr, "  case %zu: message \"%s\" lacks \"%s\"\n", i, err, want);
      harness_current_failed++;
    }
    x509_weak_keys_free(keys);
  }
  /* a line far longer than a fingerprint, and a NUL byte */
  char long_line[400];
  memset(long_line, 'a', sizeof long_line - 2);
  long_line[sizeof long_line - 2] = '\n';
  long_line[sizeof long_line - 1] = '\0';
  write_text("blacklist.RSA-1024", long_line);
  char err[512];
  CHECK(load_one(path_of("blacklist.RSA-1024"), 100, err, sizeof err) == NULL);
  CHECK(strstr(err, "blacklist.RSA-1024:1: line longer") != NULL);
  FILE *f = fopen(path_of("blacklist.RSA-1024"), "wb");
  if (f) {
    fwrite("0123456789\0bcdef0123\n", 1, 21, f);
    fclose(f);
  }
  CHECK(load_one(path_of("blacklist.RSA-1024"), 100, err, sizeof err) == NULL);
  CHECK(strstr(err, "blacklist.RSA-1024:1: a NUL byte") != NULL);
}

/* The key size comes from the file name; a directory loads its lists. */
static void names_and_directories(void) {
  char err[512];
  write_text("keys.txt", "0123456789abcdef0123\n");
  CHECK(load_one(path_of("keys.txt"), 100, err, sizeof err) == NULL);
  CHECK(strstr(err, "keys.txt: the file name must be blacklist.RSA-<bits>") != NULL);
  CHECK(load_one(path_of("blacklist.RSA-missing"), 100, err, sizeof err) == NULL);
  CHECK(strstr(err, "blacklist.RSA-missing") != NULL);

  char sub[600];
  snprintf(sub, sizeof sub, "%s/lists", dir);
  CHECK(mkdir(sub, 0700) == 0);
  CHECK(load_one(sub, 100, err, sizeof err) == NULL); /* empty */
  CHECK(strstr(err, "no blacklist.RSA-<bits> file") != NULL);
  write_text("lists/blacklist.RSA-1024", "11111111111111111111\n");
  write_text("lists/blacklist.RSA-4096", "22222222222222222222\n33333333333333333333\n");
  write_text("lists/blacklist.DSA-1024", "not read: not an RSA list\n");
  write_text("lists/README", "not read\n");
  struct x509_weak_keys *keys = load_one(sub, 100, err, sizeof err);
  CHECK(keys != NULL);
  CHECK_EQ_U(x509_weak_keys_count(keys), 3);
  CHECK(x509_weak_keys_cover(keys, 1024));
  CHECK(x509_weak_keys_cover(keys, 4096));
  CHECK(!x509_weak_keys_cover(keys, 2048));
  /* a second path adds to the same set (--weak-keys may be repeated) */
  write_text("blacklist.RSA-2048", "11111111111111111111\n");
  CHECK(keys && x509_weak_keys_load(keys, path_of("blacklist.RSA-2048"), err, sizeof err) == 0);
  CHECK(x509_weak_keys_cover(keys, 2048));
  CHECK_EQ_U(x509_weak_keys_count(keys), 4);
  x509_weak_keys_free(keys);
  /* a bad list inside a directory is named with its directory */
  write_text("lists/blacklist.RSA-512", "xyz\n");
  CHECK(load_one(sub, 100, err, sizeof err) == NULL);
  CHECK(strstr(err, "lists/blacklist.RSA-512:1:") != NULL);
}

/* The cap on entries stops the load with a message. */
static void entry_cap(void) {
  write_text("blacklist.RSA-2048",
             "01010101010101010101\n02020202020202020202\n03030303030303030303\n");
  char err[512];
  struct x509_weak_keys *keys = load_one(path_of("blacklist.RSA-2048"), 3, err, sizeof err);
  CHECK(keys != NULL);
  x509_weak_keys_free(keys);
  CHECK(load_one(path_of("blacklist.RSA-2048"), 2, err, sizeof err) == NULL);
  CHECK(strstr(err, "blacklist.RSA-2048:3: more than 2 weak keys") != NULL);
}

/* The fingerprint of a certificate's key, against the openssl command
 * line's "Modulus=..." through sha1sum. */
static void fingerprint_of(const char *pem, int bits) {
  char cmd[1024], expected[64] = "", der_path[600];
  snprintf(cmd, sizeof cmd, "openssl x509 -noout -modulus -in '%s' | sha1sum", pem);
  FILE *p = popen(cmd, "r");
  CHECK(p != NULL);
  if (!p || !fgets(expected, sizeof expected, p)) {
    CHECK(!"openssl x509 -modulus | sha1sum gave nothing");
    if (p)
      pclose(p);
    return;
  }
  pclose(p);
  snprintf(der_path, sizeof der_path, "%s/cert.der", dir);
  snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -outform DER -out '%s'", pem, der_path);
  CHECK(system(cmd) == 0);
  struct tls_cert cert;
  memset(&cert, 0, sizeof cert);
  FILE *f = fopen(der_path, "rb");
  CHECK(f != NULL);
  if (!f)
    return;
  cert.der = malloc(1 << 16);
  cert.der_len = fread(cert.der, 1, 1 << 16, f);
  fclose(f);
  x509_cert_parse(&cert);
  CHECK(cert.parsed);
  CHECK_EQ_U(cert.key_bits, bits);
  CHECK(cert.has_weak_key_fp);
  char got[21];
  for (int i = 0; i < 10; i++)
    snprintf(got + 2 * i, 3, "%02x", cert.weak_key_fp[i]);
  expected[40] = '\0';
  CHECK_STR(got, expected + 20);
  x509_cert_clear(&cert);
}

static void fingerprints(void) {
  fingerprint_of("samples/certs/a.pem", 2048);
  fingerprint_of("samples/certs/rsa512.pem", 512);
  /* 1020 bits: the modulus starts with a 0 digit when padded to whole bytes */
  char pem[600], cmd[1400];
  snprintf(pem, sizeof pem, "%s/odd.pem", dir);
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:1020 -nodes -subj /CN=odd -days 1 -keyout '%s/odd.key' "
           "-out '%s' 2>/dev/null",
           dir, pem);
  CHECK(system(cmd) == 0);
  fingerprint_of(pem, 1020);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(comments_and_duplicates);
  RUN(bad_lines);
  RUN(names_and_directories);
  RUN(entry_cap);
  RUN(fingerprints);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "  could not remove %s\n", dir);
  return harness_done();
}
