/*
 * tests/unit/test_hello.c - dissect/hello.c: ClientHello, ServerHello,
 * HelloRetryRequest, SSLv2 hellos, JA3 / JA3S / JA4, malformed input.
 *
 * Where the expected values come from (never from hello.c's output):
 * - RFC 8448 section 3 (simple 1-RTT ClientHello / ServerHello) and
 *   section 5 (HelloRetryRequest): the RFC's bytes as quoted verbatim by
 *   several independent projects' test suites (identical in all of them,
 *   and their handshake lengths check out); fields read off the bytes by
 *   hand.
 * - tests/data/hello/NAME.hex: hello bodies taken from the shared corpus
 *   captures with tests/data/hello/extract.py (tshark's follow streams);
 *   the expected fields are tshark's rows in
 *   corpus/expected/CAPTURE.tshark.tsv (tshark 4.0.17), pasted verbatim
 *   below with the capture and frame of each row.
 * - JA4: nDPI's values in corpus/expected/ndpi__*.ndpi.out, and the
 *   examples of FoxIO-LLC/ja4 technical_details/JA4.md.
 * - JA3: the two examples of the salesforce/ja3 README.
 * Every parse reads from a heap copy of exactly the bytes given, so ASan
 * reports any read past them.
 */
#include "dissect/internal.h"
#include "harness.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* Hex digits to bytes; whitespace and lines starting with '#' skipped. */
static uint8_t *hex_decode(const char *hex, size_t *len) {
  size_t cap = strlen(hex) / 2 + 1, n = 0;
  uint8_t *out = malloc(cap);
  int high = -1;
  for (const char *c = hex; out && *c; c++) {
    if (*c == '#') {
      while (*c && *c != '\n')
        c++;
      if (!*c)
        break;
      continue;
    }
    int v = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10 : -1;
    if (v < 0)
      continue;
    if (high < 0) {
      high = v;
    } else {
      out[n++] = (uint8_t)(high << 4 | v);
      high = -1;
    }
  }
  *len = n;
  return out;
}

/* tests/data/hello/NAME.hex (HELLO_DATA overrides the folder). */
static uint8_t *load_hex(const char *name, size_t *len) {
  const char *dir = getenv("HELLO_DATA") ? getenv("HELLO_DATA") : "tests/data/hello";
  char path[512];
  snprintf(path, sizeof path, "%s/%s.hex", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "  cannot open %s (run from the repository root)\n", path);
    *len = 0;
    return NULL;
  }
  static char text[1 << 16];
  size_t got = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[got] = 0;
  return hex_decode(text, len);
}

/* Parse from a heap copy of exactly n bytes. */
static const char *parse_ch(struct tls_client_hello *ch, const uint8_t *p, size_t n, bool dtls) {
  uint8_t *copy = malloc(n ? n : 1);
  if (n)
    memcpy(copy, p, n);
  const char *reason = hello_parse_client(ch, rd_make(copy, n), dtls);
  free(copy);
  return reason;
}

static const char *parse_sh(struct tls_server_hello *sh, const uint8_t *p, size_t n) {
  uint8_t *copy = malloc(n ? n : 1);
  if (n)
    memcpy(copy, p, n);
  const char *reason = hello_parse_server(sh, rd_make(copy, n), false);
  free(copy);
  return reason;
}

/* want: comma-separated numbers as the TSV writes them ("0x1301,0x1302",
 * "11,10"), "" for an empty list. */
static bool nums_match(const char *what, const uint32_t *got, size_t n, const char *want) {
  size_t i = 0;
  for (const char *c = want; *c; i++) {
    char *end;
    unsigned long v = strtoul(c, &end, 0);
    if (i >= n || got[i] != v) {
      fprintf(stderr, "  %s: item %zu differs (want \"%s\")\n", what, i, want);
      return false;
    }
    c = *end == ',' ? end + 1 : end;
  }
  if (i != n)
    fprintf(stderr, "  %s: %zu items, want %zu (\"%s\")\n", what, n, i, want);
  return i == n;
}

static bool u16s_match(const char *what, const struct tls_u16s *got, const char *want) {
  uint32_t *wide = malloc((got->n + 1) * sizeof *wide);
  for (size_t i = 0; i < got->n; i++)
    wide[i] = got->v[i];
  bool ok = nums_match(what, wide, got->n, want);
  free(wide);
  return ok;
}

static bool bytes_match(const char *what, const struct tls_str *got, const char *want) {
  uint32_t *wide = malloc((got->n + 1) * sizeof *wide);
  for (size_t i = 0; i < got->n; i++)
    wide[i] = got->p[i];
  bool ok = nums_match(what, wide, got->n, want);
  free(wide);
  return ok;
}

static bool hex_match(const char *what, const struct tls_str *got, const char *want_hex) {
  size_t n;
  uint8_t *want = hex_decode(want_hex, &n);
  bool ok = got->n == n && (n == 0 || memcmp(got->p, want, n) == 0);
  free(want);
  if (!ok)
    fprintf(stderr, "  %s: differs from %s\n", what, want_hex);
  return ok;
}

static bool text_match(const char *what, const struct tls_str *got, const char *want) {
  bool ok = got->n == strlen(want) && (got->n == 0 || memcmp(got->p, want, got->n) == 0);
  if (!ok)
    fprintf(stderr, "  %s: got \"%.*s\", want \"%s\"\n", what, (int)got->n,
            got->p ? (const char *)got->p : "", want);
  return ok;
}

/* ALPN names joined by ',' as in the TSV. */
static bool alpn_match(const struct tls_client_hello *ch, const char *want) {
  char joined[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < ch->n_alpn && used < sizeof joined; i++)
    used += (size_t)snprintf(joined + used, sizeof joined - used, "%s%.*s", i ? "," : "",
                             (int)ch->alpn[i].n, (const char *)ch->alpn[i].p);
  if (strcmp(joined, want) != 0)
    fprintf(stderr, "  alpn: got \"%s\", want \"%s\"\n", joined, want);
  return strcmp(joined, want) == 0;
}

/* A small writer for hand-made hellos; vec_open/vec_close fill lengths. */
struct buf {
  uint8_t b[8192];
  size_t n;
};

static void put8(struct buf *b, unsigned v) {
  b->b[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, unsigned v) {
  put8(b, v >> 8);
  put8(b, v & 0xff);
}

static void put_bytes(struct buf *b, const void *p, size_t n) {
  memcpy(b->b + b->n, p, n);
  b->n += n;
}

static size_t vec_open(struct buf *b, size_t width) {
  size_t at = b->n;
  b->n += width;
  return at;
}

static void vec_close(struct buf *b, size_t at, size_t width) {
  size_t len = b->n - at - width;
  for (size_t i = 0; i < width; i++)
    b->b[at + i] = (uint8_t)(len >> (8 * (width - 1 - i)));
}

/* legacy_version, zero random, empty session_id, suites, {null}. */
static void ch_prefix(struct buf *b, unsigned version, const uint16_t *suites, size_t n) {
  b->n = 0;
  put16(b, version);
  for (int i = 0; i < 32; i++)
    put8(b, 0);
  put8(b, 0);
  put16(b, (unsigned)(2 * n));
  for (size_t i = 0; i < n; i++)
    put16(b, suites[i]);
  put8(b, 1);
  put8(b, 0);
}

/* One extension whose body is given as hex. */
static void put_ext(struct buf *b, unsigned type, const char *body_hex) {
  size_t n;
  uint8_t *body = hex_decode(body_hex, &n);
  put16(b, type);
  put16(b, (unsigned)n);
  put_bytes(b, body, n);
  free(body);
}

/* ------------------------------------------------------------------ */
/* Corpus hellos against tshark's rows                                 */

struct ch_expect {
  const char *file, *source;
  bool dtls;
  uint16_t legacy_version;
  const char *versions;
  size_t n_ciphers;
  const char *ciphers, *compression, *session_id, *sni, *alpn, *groups, *key_share, *sig_algs,
      *extensions, *ja3;
  const char *ja4; /* nDPI's (NULL: no reference) */
};

struct sh_expect {
  const char *file, *source;
  bool hello_retry;
  uint16_t legacy_version, selected_version;
  uint32_t cipher;
  const char *compression, *session_id, *alpn;
  uint16_t group;
  const char *extensions, *ja3s, *downgrade;
};

// clang-format off
/* Columns: hs_version versions cipher ciphers compression session_id sni
 * alpn groups key_share sig_algs extensions ja3 of each capture's TSV row.
 * tls13-ech JA4: "8daaf6152771" is JA4.md's example (the same 15 suites);
 * "b1ff8ab2d16f" is SHA-256 (python3 hashlib) of the JA4.md string built
 * from this TSV row: sorted non-GREASE extensions without 0/16, "_", sig_algs.
 * ftp.ch and the DTLS hellos carry no server_name extension: JA4.md says
 * "i" there, while nDPI prints "d" (its SNI letter follows the host name
 * it found elsewhere); the letter below is JA4.md's, the rest nDPI's. */
static const struct ch_expect ch_rows[] = {
    {"tls13-ech.ch", "zeek__tls13-ech.pcap frame 7", false, 0x0303,
     "0x8a8a,0x0304,0x0303", 16,
     "0x2a2a,0x1301,0x1302,0x1303,0xc02b,0xc02f,0xc02c,0xc030,0xcca9,0xcca8,0xc013,0xc014,0x009c,0x009d,0x002f,0x0035",
     "0", "7c77f968ecbeda040598f47af5265fb5f0f5ef3279f08b43d03c31a57ce0c630", "cloudflare-ech.com", "h2,http/1.1",
     "0x1a1a,0x001d,0x0017,0x0018", "0x1a1a,0x001d",
     "0x0403,0x0804,0x0401,0x0503,0x0805,0x0501,0x0806,0x0601",
     "56026,65281,16,13,51,45,17513,35,43,10,65037,23,5,18,11,0,27,39578,21",
     "2fcbf8655473005933c5869b2b5d8044", "t13d1517h2_8daaf6152771_b1ff8ab2d16f"},
    {"split-ch.ch", "arkime__tls-split-client-hello.pcap frame 5", false, 0x0303,
     "0x9a9a,0x0304,0x0303", 16,
     "0x1a1a,0x1301,0x1302,0x1303,0xc02b,0xc02f,0xc02c,0xc030,0xcca9,0xcca8,0xc013,0xc014,0x009c,0x009d,0x002f,0x0035",
     "0", "da4a3599da1bc634b855913b42c9764934b861fbdf7e32c97c246205e4fc8092", "clients2.google.com", "h2,http/1.1",
     "0x3a3a,0x11ec,0x001d,0x0017,0x0018", "0x3a3a,0x11ec,0x001d",
     "0x0403,0x0804,0x0401,0x0503,0x0805,0x0501,0x0806,0x0601",
     "6682,13,18,45,27,65037,43,51,0,11,35,5,23,16,10,65281,17513,47802",
     "35708a08e7be9f7aa5bce7f2d5c1cecb", NULL},
    {"tls1.ch", "arkime__openssl-tls1.pcap frame 4", false, 0x0301,
     "", 46,
     "0xc014,0xc00a,0x0039,0x0038,0x0088,0x0087,0xc00f,0xc005,0x0035,0x0084,0xc012,0xc008,0x0016,0x0013,0xc00d,0xc003,0x000a,0xc013,0xc009,0x0033,0x0032,0x009a,0x0099,0x0045,0x0044,0xc00e,0xc004,0x002f,0x0096,0x0041,0x0007,0xc011,0xc007,0xc00c,0xc002,0x0005,0x0004,0x0015,0x0012,0x0009,0x0014,0x0011,0x0008,0x0006,0x0003,0x00ff",
     "0", "", "", "",
     "0x0018,0x0017", "",
     "",
     "11,10,35,15",
     "503053a0c5b2bd9b9334bf7f3d3b8852", NULL},
    {"ssl3.ch", "arkime__openssl-ssl3.pcap frame 4", false, 0x0300,
     "", 46,
     "0xc014,0xc00a,0x0039,0x0038,0x0088,0x0087,0xc00f,0xc005,0x0035,0x0084,0xc012,0xc008,0x0016,0x0013,0xc00d,0xc003,0x000a,0xc013,0xc009,0x0033,0x0032,0x009a,0x0099,0x0045,0x0044,0xc00e,0xc004,0x002f,0x0096,0x0041,0x0007,0xc011,0xc007,0xc00c,0xc002,0x0005,0x0004,0x0015,0x0012,0x0009,0x0014,0x0011,0x0008,0x0006,0x0003,0x00ff",
     "0", "", "", "",
     "", "",
     "",
     "",
     "f917ae2520ef9784557b0a3c02489c2c", NULL},
    {"hrr.ch1", "zeek__hrr.pcap frame 4", false, 0x0303,
     "0x0304", 4,
     "0x1302,0x1303,0x1301,0x00ff",
     "0", "1a6bb8368add0e28015bd6cced648236f49e2407f19653ac1fdd1ffa48bfaecd", "", "",
     "0x0015,0x0017,0x0018", "0x0015",
     "0x0403,0x0503,0x0603,0x0807,0x0808,0x0809,0x080a,0x080b,0x0804,0x0805,0x0806,0x0401,0x0501,0x0601",
     "11,10,35,22,23,13,43,45,51",
     "0f14b679807628ec7f9c02cada3ee941", NULL},
    {"hrr.ch2", "zeek__hrr.pcap frame 8", false, 0x0303,
     "0x0304", 4,
     "0x1302,0x1303,0x1301,0x00ff",
     "0", "1a6bb8368add0e28015bd6cced648236f49e2407f19653ac1fdd1ffa48bfaecd", "", "",
     "0x0015,0x0017,0x0018", "0x0017",
     "0x0403,0x0503,0x0603,0x0807,0x0808,0x0809,0x080a,0x080b,0x0804,0x0805,0x0806,0x0401,0x0501,0x0601",
     "11,10,35,22,23,13,43,45,51",
     "0f14b679807628ec7f9c02cada3ee941", NULL},
    {"sha1.ch", "ndpi__tls_malicious_sha1.pcapng frame 4", false, 0x0303,
     "", 28,
     "0xc02c,0xc030,0x009f,0xcca9,0xcca8,0xccaa,0xc02b,0xc02f,0x009e,0xc024,0xc028,0x006b,0xc023,0xc027,0x0067,0xc00a,0xc014,0x0039,0xc009,0xc013,0x0033,0x009d,0x009c,0x003d,0x003c,0x0035,0x002f,0x00ff",
     "0", "", "www.prbtest.dev", "h2,http/1.1",
     "0x001d,0x0017,0x001e,0x0019,0x0018", "",
     "0x0403,0x0503,0x0603,0x0807,0x0808,0x0809,0x080a,0x080b,0x0804,0x0805,0x0806,0x0401,0x0501,0x0601,0x0303,0x0301,0x0302,0x0402,0x0502,0x0602",
     "0,11,10,13172,16,22,23,13",
     "00bcd759cb8ad485fdbf1e7a0c5b94b4", "t12d2808h2_d943125447b4_dd0a478c1db3"},
    {"alert.ch", "ndpi__tls_alert.pcap frame 4", false, 0x0301,
     "", 9,
     "0x002f,0x0033,0x0035,0x0039,0xc009,0xc00a,0xc013,0xc014,0x5600",
     "0", "", "www.google-analytics.com", "h2,h2-16,h2-15,h2-14,spdy/3.1,spdy/3,http/1.1",
     "0x001d,0x0017,0x0018,0x0019", "",
     "",
     "65281,0,23,5,13172,18,16,11,10",
     "d78489b860c8bf7838a6ff0b4d131541", "t10d0909h2_61c4dbd01224_cc731f12afbb"},
    {"ftp.ch", "ndpi__ftp-start-tls.pcap frame 12", false, 0x0303,
     "", 41,
     "0x003d,0x0035,0x000a,0x003c,0x002f,0x0005,0x0004,0x006b,0x006a,0x0039,0x0038,0x0016,0x0013,0x0067,0x0040,0x0033,0x0032,0x0009,0x0015,0x0012,0x0008,0x0003,0x0014,0x0011,0x006d,0x003a,0x001b,0x006c,0x0034,0x0018,0x001a,0x0019,0x0017,0x003b,0x0002,0x0001,0x00fe,0x001d,0x00fd,0x001c,0x00ff",
     "0", "", "", "",
     "", "",
     "0x0601,0x0501,0x0401,0x0201,0x0202,0x0101",
     "13",
     "398076b7fcad56308a762b3c79fe1f44", "t12i410100_d572b635dddf_5f8d9ea464d3"},
    {"certlong.ch", "ndpi__tls_certificate_too_long.pcap frame 49", false, 0x0303,
     "0x1a1a,0x0304,0x0303,0x0302,0x0301", 27,
     "0xbaba,0x1301,0x1302,0x1303,0xc02c,0xc02b,0xcca9,0xc030,0xc02f,0xcca8,0xc024,0xc023,0xc00a,0xc009,0xc028,0xc027,0xc014,0xc013,0x009d,0x009c,0x003d,0x003c,0x0035,0x002f,0xc008,0xc012,0x000a",
     "0", "e054e0a7ebab5c120aa47cb2f49a9e8eed5c61c5d0de88cc832feab7f3ca75e4", "wdcp.microsoft.com", "h2,http/1.1",
     "0xaaaa,0x001d,0x0017,0x0018,0x0019", "0xaaaa,0x001d",
     "0x0403,0x0804,0x0401,0x0503,0x0203,0x0805,0x0805,0x0501,0x0806,0x0601,0x0201",
     "23130,0,23,65281,10,11,16,5,13,18,51,45,43,10794,21",
     "656b9a2f4de6ed4909e157482860ab3d", "t13d2613h2_2802a3db6c62_845d286b0d67"},
    {"heartbleed.ch", "zeek__heartbleed-success.pcap frame 4", false, 0x0303,
     "", 64,
     "0x0004,0x0005,0x000a,0x000d,0x0010,0x0013,0x0016,0x002f,0x0030,0x0031,0x0032,0x0033,0x0035,0x0036,0x0037,0x0038,0x0039,0x003c,0x003d,0x003e,0x003f,0x0040,0x0041,0x0044,0x0045,0x0066,0x0067,0x0068,0x0069,0x006a,0x006b,0x0084,0x0087,0x0088,0x0096,0x009c,0x009d,0x009e,0x009f,0x00ff,0xc002,0xc003,0xc004,0xc005,0xc007,0xc008,0xc009,0xc00a,0xc00c,0xc00d,0xc00e,0xc00f,0xc011,0xc012,0xc013,0xc014,0xc023,0xc024,0xc027,0xc02b,0xc02c,0xc02f,0xc031,0xc032",
     "0", "", "", "",
     "0x000e,0x000d,0x0019,0x000b,0x000c,0x0018,0x0009,0x000a,0x0016,0x0017,0x0008,0x0006,0x0007,0x0014,0x0015,0x0004,0x0005,0x0012,0x0013,0x0001,0x0002,0x0003,0x000f,0x0010,0x0011", "",
     "0x0401,0x0501,0x0201,0x0403,0x0503,0x0603,0x0203,0x0202",
     "11,10,13,15",
     "0fbff214b79f536d55d3d39fb31f4d8d", NULL},
    {"sct.ch", "zeek__signed_certificate_timestamp.pcap frame 4", false, 0x0303,
     "0xaaaa,0x7f12,0x0303,0x0302,0x0301", 19,
     "0x4a4a,0x1301,0x1302,0x1303,0xc02b,0xc02f,0xc02c,0xc030,0xcca9,0xcca8,0xcc14,0xcc13,0xc013,0xc014,0x009c,0x009d,0x002f,0x0035,0x000a",
     "0", "", "ritter.vg", "h2,http/1.1",
     "0x3a3a,0x001d,0x0017,0x0018", "0x3a3a,0x001d",
     "0x0403,0x0804,0x0401,0x0503,0x0805,0x0501,0x0806,0x0601,0x0201",
     "6682,65281,0,23,35,13,5,18,16,30032,11,40,45,43,10,24,35466,21",
     "b1afe2c6450b5e4734275e639199d5fe", NULL},
    {"ocsp.ch", "zeek__ocsp-stapling.pcap frame 4", false, 0x0301,
     "", 52,
     "0xc014,0xc00a,0xc022,0xc021,0x0039,0x0038,0x0088,0x0087,0xc00f,0xc005,0x0035,0x0084,0xc012,0xc008,0xc01c,0xc01b,0x0016,0x0013,0xc00d,0xc003,0x000a,0xc013,0xc009,0xc01f,0xc01e,0x0033,0x0032,0x009a,0x0099,0x0045,0x0044,0xc00e,0xc004,0x002f,0x0096,0x0041,0x0007,0xc011,0xc007,0xc00c,0xc002,0x0005,0x0004,0x0015,0x0012,0x0009,0x0014,0x0011,0x0008,0x0006,0x0003,0x00ff",
     "1,0", "", "", "",
     "0x000e,0x000d,0x0019,0x000b,0x000c,0x0018,0x0009,0x000a,0x0016,0x0017,0x0008,0x0006,0x0007,0x0014,0x0015,0x0004,0x0005,0x0012,0x0013,0x0001,0x0002,0x0003,0x000f,0x0010,0x0011", "",
     "",
     "11,10,35,5,15",
     "cc20531a832a9f80fe3a2c05b3ec1bb5", NULL},
    {"dtls10.ch2", "zeek__dtls1_0.pcap frame 5", true, 0xfeff,
     "", 55,
     "0xc014,0xc00a,0x0039,0x0038,0x0037,0x0036,0x0088,0x0087,0x0086,0x0085,0xc00f,0xc005,0x0035,0x0084,0xc013,0xc009,0x0033,0x0032,0x0031,0x0030,0x009a,0x0099,0x0098,0x0097,0x0045,0x0044,0x0043,0x0042,0xc00e,0xc004,0x002f,0x0096,0x0041,0x0007,0xc012,0xc008,0x0016,0x0013,0x0010,0x000d,0xc00d,0xc003,0x000a,0x0015,0x0012,0x000f,0x000c,0x0009,0x0014,0x0011,0x000e,0x000b,0x0008,0x0006,0x00ff",
     "0", "", "", "",
     "0x000e,0x000d,0x0019,0x001c,0x000b,0x000c,0x001b,0x0018,0x0009,0x000a,0x001a,0x0016,0x0017,0x0008,0x0006,0x0007,0x0014,0x0015,0x0004,0x0005,0x0012,0x0013,0x0001,0x0002,0x0003,0x000f,0x0010,0x0011", "",
     "",
     "11,10,35,15",
     "0dab7dadc76b31d578cb41b8c2838cd9", NULL},
    {"dtlsfrag0.ch2", "ndpi__dtls_certificate_fragments.pcap frame 3", true, 0xfefd,
     "", 80,
     "0xc030,0xc02c,0xc028,0xc024,0xc014,0xc00a,0x00a5,0x00a3,0x00a1,0x009f,0x006b,0x006a,0x0069,0x0068,0x0039,0x0038,0x0037,0x0036,0x0088,0x0087,0x0086,0x0085,0xc032,0xc02e,0xc02a,0xc026,0xc00f,0xc005,0x009d,0x003d,0x0035,0x0084,0xc02f,0xc02b,0xc027,0xc023,0xc013,0xc009,0x00a4,0x00a2,0x00a0,0x009e,0x0067,0x0040,0x003f,0x003e,0x0033,0x0032,0x0031,0x0030,0x009a,0x0099,0x0098,0x0097,0x0045,0x0044,0x0043,0x0042,0xc031,0xc02d,0xc029,0xc025,0xc00e,0xc004,0x009c,0x003c,0x002f,0x0096,0x0041,0x0007,0xc012,0xc008,0x0016,0x0013,0x0010,0x000d,0xc00d,0xc003,0x000a,0x00ff",
     "0", "", "", "",
     "0x0017,0x0019,0x001c,0x001b,0x0018,0x001a,0x0016,0x000e,0x000d,0x000b,0x000c,0x0009,0x000a", "",
     "0x0601,0x0602,0x0603,0x0501,0x0502,0x0503,0x0401,0x0402,0x0403,0x0301,0x0302,0x0303,0x0201,0x0202,0x0203",
     "11,10,35,13,15",
     "3c3d129780d0066cd8936a6291a8d44f", "dd2i800500_9cedc1f1428b_a1e935682795"},
    {"dtlsfrag1.ch", "ndpi__dtls_certificate_fragments.pcap frame 21", true, 0xfefd,
     "", 12,
     "0xc02b,0xc02f,0xcca9,0xcca8,0xc009,0xc013,0xc00a,0xc014,0x009c,0x002f,0x0035,0x000a",
     "0", "", "", "",
     "0x001d,0x0017,0x0018", "",
     "0x0403,0x0804,0x0401,0x0503,0x0805,0x0501,0x0806,0x0601,0x0201",
     "23,65281,10,11,35,13,14",
     "681eb4fb79ccb6d60d35fa502c279d42", "dd2i120700_7c0e62f61317_d9dd6182da81"},
};

/* Columns: hs_version versions cipher compression session_id alpn groups
 * extensions ja3 info(random_sentinel). */
static const struct sh_expect sh_rows[] = {
    {"tls13-ech.sh", "zeek__tls13-ech.pcap frame 9", false, 0x0303, 0x0304, 0x1301,
     "0", "7c77f968ecbeda040598f47af5265fb5f0f5ef3279f08b43d03c31a57ce0c630", "", 0x001d,
     "43,51", "f4febc55ea12b31ae17cfb7e614afda8", ""},
    {"split-ch.sh", "arkime__tls-split-client-hello.pcap frame 8", false, 0x0303, 0x0304, 0x1301,
     "0", "da4a3599da1bc634b855913b42c9764934b861fbdf7e32c97c246205e4fc8092", "", 0x11ec,
     "51,43", "eb1d94daa7e0344597e756a1fb6e7054", ""},
    {"tls1.sh", "arkime__openssl-tls1.pcap frame 6", false, 0x0301, 0, 0xc011,
     "0", "", "", 0,
     "65281,11,35", "bed95e1b525d2f41db3a6d68fac5b566", ""},
    {"ssl3.sh", "arkime__openssl-ssl3.pcap frame 6", false, 0x0300, 0, 0xc011,
     "0", "95c3c5ac6f647c1b7214c7bcf4387b6f34819f9f17095c690caafbdbcf6a36ec", "", 0,
     "65281", "59e3f99fd4b68388f5ba9349e0ca71a4", ""},
    {"hrr.hrr", "zeek__hrr.pcap frame 6", true, 0x0303, 0x0304, 0x1302,
     "0", "1a6bb8368add0e28015bd6cced648236f49e2407f19653ac1fdd1ffa48bfaecd", "", 0x0017,
     "43,51", "15af977ce25de452b96affa2addb1036", ""},
    {"hrr.sh", "zeek__hrr.pcap frame 11", false, 0x0303, 0x0304, 0x1302,
     "0", "1a6bb8368add0e28015bd6cced648236f49e2407f19653ac1fdd1ffa48bfaecd", "", 0x0017,
     "51,43", "907bf3ecef1c987c889946b737b43de8", ""},
    {"sha1.sh", "ndpi__tls_malicious_sha1.pcapng frame 6", false, 0x0303, 0, 0xcca8,
     "0", "fdbb7ccda18aac2e48bb9ab6c9cc0b1c0a4edda4b77f79a816a4c49a574fa1fd", "h2", 0,
     "23,65281,11,16", "e2bc06b738d7e5d2b0cec5d2196b1d80", "DOWNGRD01"},
    {"nss.sh", "scapy__tls_nss_example.pcap frame 6", false, 0x0303, 0, 0xc030,
     "0", "", "", 0,
     "65281,11,35,23", "ec74a5c51106f0419184d0dd08fb05bc", "DOWNGRD01"},
    {"certlong.sh", "ndpi__tls_certificate_too_long.pcap frame 55", false, 0x0303, 0, 0xc030,
     "0", "ed0f000041d4d3cf696d2a1f895b2be68e9f13377005b881d7b3af00da93de3a", "h2", 0,
     "16,23,65281", "17e97216fa7f4ec8c43090c6eed97c25", ""},
    {"heartbleed.sh", "zeek__heartbleed-success.pcap frame 6", false, 0x0303, 0, 0xc02f,
     "0", "ee236668bb77b82b52b0421469708479760a3b9cc85ad7d80b59737d2b4a0c3f", "", 0,
     "65281,11,15", "a95ca7eab4d47d051a5cd4fb7b6005dc", ""},
    {"sct.sh", "zeek__signed_certificate_timestamp.pcap frame 6", false, 0x0303, 0, 0xc02f,
     "0", "", "http/1.1", 0,
     "0,65281,11,35,5,18,16", "c6fb5c8105271d5fb88ecf79cac4e1d5", ""},
    {"dtls10.sh", "zeek__dtls1_0.pcap frame 6", false, 0xfeff, 0, 0xc014,
     "0", "", "", 0,
     "65281,35,15", "2066c878accbcb34c1b9ef82aad90709", ""},
};
// clang-format on

static void test_corpus_client(void) {
  for (size_t i = 0; i < sizeof ch_rows / sizeof ch_rows[0]; i++) {
    const struct ch_expect *e = &ch_rows[i];
    int failed_before = harness_current_failed;
    size_t len;
    uint8_t *body = load_hex(e->file, &len);
    struct tls_client_hello ch = {0};
    CHECK(body != NULL);
    CHECK(parse_ch(&ch, body, len, e->dtls) == NULL);
    CHECK_EQ_U(ch.legacy_version, e->legacy_version);
    CHECK(u16s_match("versions", &ch.versions, e->versions));
    CHECK_EQ_U(ch.ciphers.n, e->n_ciphers);
    CHECK(u16s_match("ciphers", &ch.ciphers, e->ciphers));
    CHECK(bytes_match("compression", &ch.compression, e->compression));
    CHECK(hex_match("session_id", &ch.session_id, e->session_id));
    CHECK(text_match("sni", &ch.sni, e->sni));
    CHECK(alpn_match(&ch, e->alpn));
    CHECK(u16s_match("groups", &ch.groups, e->groups));
    CHECK(u16s_match("key_share", &ch.key_share_groups, e->key_share));
    CHECK(u16s_match("sig_algs", &ch.sig_algs, e->sig_algs));
    CHECK(u16s_match("extensions", &ch.extensions, e->extensions));
    CHECK_STR(ch.ja3, e->ja3);
    CHECK(!ch.sslv2_format);
    if (e->ja4) {
      char ja4[40];
      hello_ja4(&ch, e->dtls ? 'd' : 't', ja4);
      CHECK_STR(ja4, e->ja4);
    }
    if (harness_current_failed != failed_before)
      fprintf(stderr, "  in %s (%s)\n", e->file, e->source);
    hello_client_clear(&ch);
    free(body);
  }
}

static void test_corpus_server(void) {
  for (size_t i = 0; i < sizeof sh_rows / sizeof sh_rows[0]; i++) {
    const struct sh_expect *e = &sh_rows[i];
    int failed_before = harness_current_failed;
    size_t len;
    uint8_t *body = load_hex(e->file, &len);
    struct tls_server_hello sh = {0};
    CHECK(body != NULL);
    CHECK(parse_sh(&sh, body, len) == NULL);
    CHECK_EQ_U(sh.hello_retry, e->hello_retry);
    CHECK_EQ_U(sh.legacy_version, e->legacy_version);
    CHECK_EQ_U(sh.selected_version, e->selected_version);
    CHECK_EQ_U(sh.version, e->selected_version ? e->selected_version : e->legacy_version);
    CHECK_EQ_U(sh.cipher, e->cipher);
    CHECK_EQ_U(sh.compression, strtoul(e->compression, NULL, 10));
    CHECK(hex_match("session_id", &sh.session_id, e->session_id));
    CHECK(text_match("alpn", &sh.alpn, e->alpn));
    CHECK_EQ_U(sh.key_share_group, e->group);
    CHECK(u16s_match("extensions", &sh.extensions, e->extensions));
    CHECK_STR(sh.ja3s, e->ja3s);
    CHECK_STR(sh.downgrade, e->downgrade);
    if (harness_current_failed != failed_before)
      fprintf(stderr, "  in %s (%s)\n", e->file, e->source);
    hello_server_clear(&sh);
    free(body);
  }
}

/* Flags, from the extension and suite lists of the TSV rows above. */
static void test_corpus_flags(void) {
  struct tls_client_hello ch = {0};
  struct tls_server_hello sh = {0};
  size_t len;
  uint8_t *body;

  body = load_hex("tls13-ech.ch", &len); /* 65037 offered */
  CHECK(body && parse_ch(&ch, body, len, false) == NULL);
  CHECK(ch.ech && ch.reneg_info && ch.ems && ch.sct && ch.status_request && ch.padding);
  CHECK(ch.session_ticket && !ch.session_ticket_nonempty && !ch.esni && !ch.psk);
  free(body);
  body = load_hex("alert.ch", &len); /* 0x5600 in the suites */
  CHECK(body && parse_ch(&ch, body, len, false) == NULL);
  CHECK(ch.fallback_scsv && !ch.empty_reneg_scsv && ch.reneg_info);
  free(body);
  body = load_hex("tls1.ch", &len); /* 0x00ff in the suites, 15 and 35 */
  CHECK(body && parse_ch(&ch, body, len, false) == NULL);
  CHECK(!ch.fallback_scsv && ch.empty_reneg_scsv && ch.heartbeat && ch.session_ticket);
  CHECK(!ch.reneg_info && !ch.ems);
  free(body);
  body = load_hex("hrr.ch1", &len); /* 22, 23 */
  CHECK(body && parse_ch(&ch, body, len, false) == NULL);
  CHECK(ch.etm && ch.ems && ch.empty_reneg_scsv);
  free(body);
  body = load_hex("ocsp.ch", &len); /* 5 */
  CHECK(body && parse_ch(&ch, body, len, false) == NULL);
  CHECK(ch.status_request && ch.heartbeat);
  free(body);
  hello_client_clear(&ch);

  body = load_hex("tls1.sh", &len); /* 65281, 11, 35 */
  CHECK(body && parse_sh(&sh, body, len) == NULL);
  CHECK(sh.reneg_info && sh.session_ticket && !sh.ems && !sh.heartbeat);
  free(body);
  body = load_hex("heartbleed.sh", &len); /* 65281, 11, 15 */
  CHECK(body && parse_sh(&sh, body, len) == NULL);
  CHECK(sh.heartbeat && sh.reneg_info);
  free(body);
  body = load_hex("sct.sh", &len); /* 5, 18, 16 */
  CHECK(body && parse_sh(&sh, body, len) == NULL);
  CHECK(sh.sct && sh.status_request && sh.reneg_info && sh.session_ticket);
  free(body);
  body = load_hex("certlong.sh", &len); /* 16, 23, 65281 */
  CHECK(body && parse_sh(&sh, body, len) == NULL);
  CHECK(sh.ems && sh.reneg_info && !sh.etm);
  free(body);
  hello_server_clear(&sh);
}

/* ------------------------------------------------------------------ */
/* RFC 8448                                                            */

// clang-format off
/* RFC 8448 section 3, {client} "construct a ClientHello handshake message". */
static const char rfc8448_ch[] =
    "01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18"
    "a2 ef 62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01 00 00 91 00 00 00 0b 00 09 00 00 06"
    "73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01"
    "02 01 03 01 04 00 23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d e5 60 e4 bd 43 d2 3d 8e"
    "43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00 03 02 03 04 00 0d"
    "00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02"
    "06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01";
/* RFC 8448 section 3, {server} "construct a ServerHello handshake message". */
static const char rfc8448_sh[] =
    "02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb 14 34 da"
    "c1 55 77 2e d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe"
    "66 76 2b db f7 c6 72 e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04";
/* RFC 8448 section 5, {server} "construct a HelloRetryRequest handshake message". */
static const char rfc8448_hrr[] =
    "02 00 00 ac 03 03 cf 21 ad 74 e5 9a 61 11 be 1d 8c 02 1e 65 b8 91 c2 a2 11 16 7a bb 8c 5e"
    "07 9e 09 e2 c8 a8 33 9c 00 13 01 00 00 84 00 33 00 02 00 17 00 2c 00 74 00 72 71 dc d0 4b"
    "b8 8b c3 18 91 19 39 8a 00 00 00 00 ee fa fc 76 c1 46 b8 23 b0 96 f8 aa ca d3 65 dd 00 30"
    "95 3f 4e df 62 56 36 e5 f2 1b b2 e2 3f cc 65 4b 1b 5b 40 31 8d 10 d1 37 ab cb b8 75 74 e3"
    "6e 8a 1f 02 5f 7d fa 5d 6e 50 78 1b 5e da 4a a1 5b 0c 8b e7 78 25 7d 16 aa 30 30 e9 e7 84"
    "1d d9 e4 c0 34 22 67 e8 ca 0c af 57 1f b2 b7 cf f0 f9 34 b0 00 2b 00 02 03 04";
// clang-format on

/* The message body after its 4-byte handshake header, checked by hand. */
static uint8_t *rfc_body(const char *hex, unsigned type, size_t *len) {
  size_t n;
  uint8_t *msg = hex_decode(hex, &n);
  CHECK(n >= 4 && msg[0] == type && (size_t)(msg[1] << 16 | msg[2] << 8 | msg[3]) == n - 4);
  memmove(msg, msg + 4, n - 4);
  *len = n - 4;
  return msg;
}

static void test_rfc8448_client(void) {
  size_t len;
  uint8_t *body = rfc_body(rfc8448_ch, 1, &len);
  struct tls_client_hello ch = {0};
  CHECK(parse_ch(&ch, body, len, false) == NULL);
  CHECK_EQ_U(ch.legacy_version, 0x0303);
  CHECK_EQ_U(ch.session_id.n, 0);
  CHECK(u16s_match("ciphers", &ch.ciphers, "0x1301,0x1303,0x1302"));
  CHECK(bytes_match("compression", &ch.compression, "0"));
  /* server_name, renegotiation_info, supported_groups, session_ticket,
   * key_share, supported_versions, signature_algorithms,
   * psk_key_exchange_modes, record_size_limit */
  CHECK(u16s_match("extensions", &ch.extensions, "0,65281,10,35,51,43,13,45,28"));
  CHECK(text_match("sni", &ch.sni, "server"));
  CHECK(u16s_match("groups", &ch.groups,
                   "0x001d,0x0017,0x0018,0x0019,0x0100,0x0101,0x0102,0x0103,0x0104"));
  CHECK(u16s_match("key_share", &ch.key_share_groups, "0x001d"));
  CHECK(u16s_match("versions", &ch.versions, "0x0304"));
  CHECK(u16s_match("sig_algs", &ch.sig_algs,
                   "0x0403,0x0503,0x0603,0x0203,0x0804,0x0805,0x0806,0x0401,0x0501,0x0601,"
                   "0x0201,0x0402,0x0502,0x0602,0x0202"));
  CHECK(ch.reneg_info && ch.session_ticket && !ch.session_ticket_nonempty);
  CHECK(!ch.ech && !ch.psk && !ch.early_data && ch.n_alpn == 0);
  CHECK_EQ_U(strlen(ch.ja3), 32);
  hello_client_clear(&ch);
  free(body);
}

static void test_rfc8448_server(void) {
  size_t len;
  uint8_t *body = rfc_body(rfc8448_sh, 2, &len);
  struct tls_server_hello sh = {0};
  CHECK(parse_sh(&sh, body, len) == NULL);
  CHECK_EQ_U(sh.legacy_version, 0x0303);
  CHECK_EQ_U(sh.cipher, 0x1301);
  CHECK_EQ_U(sh.compression, 0);
  CHECK_EQ_U(sh.session_id.n, 0);
  CHECK(u16s_match("extensions", &sh.extensions, "51,43"));
  CHECK_EQ_U(sh.key_share_group, 0x001d);
  CHECK_EQ_U(sh.selected_version, 0x0304);
  CHECK_EQ_U(sh.version, 0x0304);
  CHECK(!sh.hello_retry);
  CHECK_STR(sh.downgrade, "");
  hello_server_clear(&sh);
  free(body);

  body = rfc_body(rfc8448_hrr, 2, &len);
  CHECK(parse_sh(&sh, body, len) == NULL);
  CHECK(sh.hello_retry);
  CHECK_EQ_U(sh.cipher, 0x1301);
  CHECK(u16s_match("extensions", &sh.extensions, "51,44,43")); /* key_share, cookie, versions */
  CHECK_EQ_U(sh.key_share_group, 0x0017);                      /* secp256r1 */
  CHECK_EQ_U(sh.version, 0x0304);
  CHECK_STR(sh.downgrade, "");
  hello_server_clear(&sh);
  free(body);
}

/* ------------------------------------------------------------------ */
/* SSLv2                                                               */

/* zeek__ssl-v2.pcap frame 4 (proto sslv2, client_hello). */
static void test_sslv2_client(void) {
  size_t len;
  uint8_t *body = load_hex("sslv2.ch", &len);
  struct tls_client_hello ch = {0};
  CHECK(body && hello_parse_sslv2_client(&ch, rd_make(body, len)) == NULL);
  CHECK(ch.sslv2_format);
  CHECK_EQ_U(ch.legacy_version, 0x0002);
  CHECK(nums_match("sslv2 specs", ch.sslv2_ciphers, ch.n_sslv2_ciphers,
                   "0x0700c0,0x050080,0x030080,0x010080,0x060040,0x040080,0x020080"));
  CHECK_EQ_U(ch.ciphers.n, 0);
  CHECK_EQ_U(ch.session_id.n, 0);
  char ja4[40];
  hello_ja4(&ch, 't', ja4);
  CHECK(strncmp(ja4, "ts2i0000", 8) == 0); /* JA4.md: 0x0002 = "s2" */
  hello_client_clear(&ch);
  free(body);

  /* RFC 5246 E.2: TLS suites travel as specs {0x00, hi, lo}. */
  size_t v2_len;
  uint8_t *v2 = hex_decode("01 0301"        /* msg_type, version */
                           "000f 0000 0010" /* spec, session, challenge lengths */
                           "010080 000039 0000ff 005600 0700c0" /* cipher specs */
                           "0102030405060708090a0b0c0d0e0f10",  /* challenge */
                           &v2_len);
  CHECK(hello_parse_sslv2_client(&ch, rd_make(v2, v2_len)) == NULL);
  CHECK_EQ_U(ch.legacy_version, 0x0301);
  CHECK_EQ_U(ch.n_sslv2_ciphers, 5);
  CHECK(u16s_match("ciphers", &ch.ciphers, "0x0039,0x00ff,0x5600"));
  CHECK(ch.fallback_scsv && ch.empty_reneg_scsv);
  hello_client_clear(&ch);
  free(v2);
}

/* zeek__ssl-v2.pcap frame 6: SERVER-HELLO and its certificate row. */
static void test_sslv2_server(void) {
  size_t len;
  uint8_t *body = load_hex("sslv2.sh", &len);
  struct tls_server_hello sh = {0};
  const uint8_t *cert = NULL;
  size_t cert_len = 0;
  CHECK(body && hello_parse_sslv2_server(&sh, rd_make(body, len), &cert, &cert_len) == NULL);
  CHECK(sh.sslv2_format);
  CHECK_EQ_U(sh.version, 0x0002);
  CHECK_EQ_U(sh.cipher, 0x0700c0);
  CHECK(cert != NULL && cert_len > 0);
  if (cert) {
    uint8_t md[32];
    unsigned md_len = 0;
    EVP_Digest(cert, cert_len, md, &md_len, EVP_sha256(), NULL);
    struct tls_str got = {md, md_len};
    CHECK(hex_match("cert_sha256", &got,
                    "8ce7a4de80166f6198ad559e2aaaa0d858ad2fb173557a9b159cfcaf4760beef"));
  }
  hello_server_clear(&sh);
  free(body);
}

/* ------------------------------------------------------------------ */
/* Malformed input                                                     */

/* Where the extension block starts, walked by hand (valid hellos only). */
static size_t ch_ext_offset(const uint8_t *b, bool dtls) {
  size_t off = 2 + 32;
  off += 1 + b[off];
  if (dtls)
    off += 1 + b[off];
  off += 2 + (size_t)(b[off] << 8 | b[off + 1]);
  return off + 1 + b[off];
}

static size_t sh_ext_offset(const uint8_t *b) {
  size_t off = 2 + 32;
  return off + 1 + b[off] + 3;
}

/* Every proper prefix is malformed, except the one that ends just before
 * the (optional) extension block; what comes before the cut is kept. */
static void truncate_client(const uint8_t *body, size_t len, bool dtls, const char *name) {
  size_t ext_at = ch_ext_offset(body, dtls);
  struct tls_client_hello full = {0}, ch = {0};
  parse_ch(&full, body, len, dtls);
  for (size_t cut = 0; cut < len; cut++) {
    const char *reason = parse_ch(&ch, body, cut, dtls);
    if (cut == ext_at) {
      CHECK(reason == NULL);
    } else if (reason == NULL) {
      fprintf(stderr, "  %s: prefix of %zu bytes accepted\n", name, cut);
      CHECK(reason != NULL);
    }
    if (cut >= ext_at) {
      CHECK_EQ_U(ch.ciphers.n, full.ciphers.n);
      CHECK_EQ_U(ch.legacy_version, full.legacy_version);
    }
    if (cut < len && ch.ja3[0] && cut != ext_at)
      CHECK(!"ja3 of a truncated hello");
  }
  hello_client_clear(&ch);
  hello_client_clear(&full);
}

static void truncate_server(const uint8_t *body, size_t len, const char *name) {
  size_t ext_at = sh_ext_offset(body);
  struct tls_server_hello sh = {0};
  for (size_t cut = 0; cut < len; cut++) {
    const char *reason = parse_sh(&sh, body, cut);
    if (cut == ext_at) {
      CHECK(reason == NULL);
    } else if (reason == NULL) {
      fprintf(stderr, "  %s: prefix of %zu bytes accepted\n", name, cut);
      CHECK(reason != NULL);
    }
  }
  hello_server_clear(&sh);
}

static void test_truncation(void) {
  size_t len;
  uint8_t *body;
  for (size_t i = 0; i < sizeof ch_rows / sizeof ch_rows[0]; i++) {
    if ((body = load_hex(ch_rows[i].file, &len)))
      truncate_client(body, len, ch_rows[i].dtls, ch_rows[i].file);
    free(body);
  }
  for (size_t i = 0; i < sizeof sh_rows / sizeof sh_rows[0]; i++) {
    if ((body = load_hex(sh_rows[i].file, &len)))
      truncate_server(body, len, sh_rows[i].file);
    free(body);
  }
  body = rfc_body(rfc8448_ch, 1, &len);
  truncate_client(body, len, false, "rfc8448 ch");
  free(body);
  body = rfc_body(rfc8448_sh, 2, &len);
  truncate_server(body, len, "rfc8448 sh");
  free(body);
  body = rfc_body(rfc8448_hrr, 2, &len);
  truncate_server(body, len, "rfc8448 hrr");
  free(body);
}

static void test_truncation_sslv2(void) {
  size_t len;
  uint8_t *body = load_hex("sslv2.ch", &len);
  struct tls_client_hello ch = {0};
  for (size_t cut = 0; body && cut < len; cut++) {
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, body, cut);
    CHECK(hello_parse_sslv2_client(&ch, rd_make(copy, cut)) != NULL);
    free(copy);
  }
  hello_client_clear(&ch);
  free(body);
  body = load_hex("sslv2.sh", &len);
  struct tls_server_hello sh = {0};
  for (size_t cut = 0; body && cut < len; cut++) {
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, body, cut);
    const uint8_t *cert = NULL;
    size_t cert_len = 0;
    CHECK(hello_parse_sslv2_server(&sh, rd_make(copy, cut), &cert, &cert_len) != NULL);
    CHECK(cert == NULL || (cert >= copy && cert + cert_len <= copy + cut));
    free(copy);
  }
  hello_server_clear(&sh);
  free(body);
}

/* Every byte set to 0x00, 0xff and flipped: no crash, no leak, no overread. */
static void test_mutation(void) {
  static const char *const files[] = {"tls13-ech.ch", "certlong.ch", "dtlsfrag1.ch", "sct.sh",
                                      "hrr.hrr",      "sslv2.ch",    "sslv2.sh"};
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    size_t len;
    uint8_t *body = load_hex(files[f], &len);
    struct tls_client_hello ch = {0};
    struct tls_server_hello sh = {0};
    for (size_t i = 0; body && i < len; i++) {
      uint8_t saved = body[i];
      for (int m = 0; m < 3; m++) {
        body[i] = m == 0 ? 0x00 : m == 1 ? 0xff : (uint8_t)(saved ^ 0x80);
        const uint8_t *cert;
        size_t cert_len;
        char ja4[40];
        parse_ch(&ch, body, len, strstr(files[f], "dtls") != NULL);
        hello_ja4(&ch, 't', ja4);
        parse_sh(&sh, body, len);
        hello_parse_sslv2_client(&ch, rd_make(body, len));
        hello_parse_sslv2_server(&sh, rd_make(body, len), &cert, &cert_len);
      }
      body[i] = saved;
    }
    hello_client_clear(&ch);
    hello_server_clear(&sh);
    free(body);
  }
  CHECK(1);
}

static const uint16_t two_suites[] = {0x1301, 0xc02f};

static void test_lying_client_lengths(void) {
  struct buf b;
  struct tls_client_hello ch = {0};

  /* cipher_suites longer than the body */
  b.n = 0;
  put16(&b, 0x0303);
  for (int i = 0; i < 33; i++)
    put8(&b, 0);
  put16(&b, 0xfffe);
  put16(&b, 0x1301);
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: cipher_suites length");
  CHECK_EQ_U(ch.legacy_version, 0x0303);
  CHECK_EQ_U(ch.ciphers.n, 0);

  /* odd cipher_suites length; what follows is still read */
  b.n = 0;
  put16(&b, 0x0303);
  for (int i = 0; i < 33; i++)
    put8(&b, 0);
  put16(&b, 3);
  put_bytes(&b, "\x13\x01\x13", 3);
  put8(&b, 1);
  put8(&b, 0);
  size_t exts = vec_open(&b, 2);
  put_ext(&b, 0, "0008 00 0005 68 65 6c 6c 6f");
  vec_close(&b, exts, 2);
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: cipher_suites length");
  CHECK(text_match("sni", &ch.sni, "hello"));
  CHECK_STR(ch.ja3, "");

  /* empty cipher_suites, empty compression_methods */
  ch_prefix(&b, 0x0303, NULL, 0);
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: cipher_suites length");
  ch_prefix(&b, 0x0303, two_suites, 2);
  b.b[b.n - 2] = 0;
  b.n--;
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: compression length");

  /* session_id of 33 bytes */
  b.n = 0;
  put16(&b, 0x0303);
  for (int i = 0; i < 32; i++)
    put8(&b, 0);
  put8(&b, 33);
  for (int i = 0; i < 33; i++)
    put8(&b, 0xaa);
  put16(&b, 2);
  put16(&b, 0x1301);
  put8(&b, 1);
  put8(&b, 0);
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: session_id length");
  CHECK_EQ_U(ch.session_id.n, 33);
  CHECK_EQ_U(ch.ciphers.n, 1);

  /* DTLS cookie longer than the body */
  b.n = 0;
  put16(&b, 0xfefd);
  for (int i = 0; i < 33; i++)
    put8(&b, 0);
  put8(&b, 200);
  put_bytes(&b, "\x00\x02\x13\x01\x01\x00", 6);
  CHECK_STR(parse_ch(&ch, b.b, b.n, true), "client_hello: cookie length");
  hello_client_clear(&ch);
}

static void test_lying_extensions(void) {
  struct buf b;
  struct tls_client_hello ch = {0};
  size_t exts;

  /* block length beyond the body: the whole extensions before are kept */
  ch_prefix(&b, 0x0303, two_suites, 2);
  exts = vec_open(&b, 2);
  put_ext(&b, 0, "0008 00 0005 68 65 6c 6c 6f");
  put_ext(&b, 10, "0004 001d 0017");
  vec_close(&b, exts, 2);
  b.b[exts] = 0x40;
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: extensions length");
  CHECK(text_match("sni", &ch.sni, "hello"));
  CHECK(u16s_match("groups", &ch.groups, "0x001d,0x0017"));
  CHECK_STR(ch.ja3, "");

  /* one extension longer than the block */
  ch_prefix(&b, 0x0303, two_suites, 2);
  exts = vec_open(&b, 2);
  put_ext(&b, 0, "0008 00 0005 68 65 6c 6c 6f");
  put16(&b, 10);
  put16(&b, 0x100);
  put16(&b, 0x001d);
  vec_close(&b, exts, 2);
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: extensions length");
  CHECK(u16s_match("extensions", &ch.extensions, "0"));
  CHECK(text_match("sni", &ch.sni, "hello"));

  /* inner vectors that lie; the extensions after them are still read */
  static const struct {
    unsigned type;
    const char *body, *reason;
  } bad[] = {
      {10, "0008 001d", "client_hello: supported_groups"},
      {10, "0003 001d 00", "client_hello: supported_groups"},
      {10, "0002 001d 0017", "client_hello: supported_groups"},
      {11, "05 00", "client_hello: ec_point_formats"},
      {13, "0001 04", "client_hello: signature_algorithms"},
      {43, "03 0304 03", "client_hello: supported_versions"},
      {16, "0004 02 6832 00", "client_hello: application_layer_protocol_negotiation"},
      {16, "0005 02 6832", "client_hello: application_layer_protocol_negotiation"},
      {16, "", "client_hello: application_layer_protocol_negotiation"},
      {0, "", "client_hello: server_name"},
      {0, "0003 00 0000", "client_hello: server_name"},
      {0, "0006 00 0005 6865", "client_hello: server_name"},
      {51, "0006 001d 0020 99", "client_hello: key_share"},
      {45, "00", "client_hello: psk_key_exchange_modes"},
      {15, "", "client_hello: heartbeat"},
      {15, "01 02", "client_hello: heartbeat"},
      {65281, "05 00", "client_hello: renegotiation_info"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ch_prefix(&b, 0x0303, two_suites, 2);
    exts = vec_open(&b, 2);
    put_ext(&b, bad[i].type, bad[i].body);
    put_ext(&b, 23, "");
    put_ext(&b, 0x0a0a, "");
    vec_close(&b, exts, 2);
    const char *reason = parse_ch(&ch, b.b, b.n, false);
    CHECK_STR(reason, bad[i].reason);
    CHECK(ch.ems);
    CHECK_EQ_U(ch.extensions.n, 3);
    CHECK_EQ_U(strlen(ch.ja3), 32); /* the framing held */
  }
  hello_client_clear(&ch);
}

static void test_extension_rules(void) {
  struct buf b;
  struct tls_client_hello ch = {0};
  size_t exts;

  /* RFC 8446 4.2: one extension of a type; the first one is kept */
  ch_prefix(&b, 0x0303, two_suites, 2);
  exts = vec_open(&b, 2);
  put_ext(&b, 0, "0006 00 0003 6f6e65");
  put_ext(&b, 0, "0006 00 0003 74776f");
  vec_close(&b, exts, 2);
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: duplicate extension");
  CHECK(text_match("sni", &ch.sni, "one"));
  CHECK(u16s_match("extensions", &ch.extensions, "0,0"));

  /* Many extensions (unknown types, empty bodies; pre_shared_key and
   * early_data left out, for their own rules): every distinct type passes,
   * and one type repeated at the end is caught however many came before. */
  for (int repeat = 0; repeat < 2; repeat++) {
    ch_prefix(&b, 0x0303, two_suites, 2);
    exts = vec_open(&b, 2);
    unsigned count = 0;
    for (unsigned type = 100; count < 700; type += 97, count++)
      put_ext(&b, type % 65536 == 41 || type % 65536 == 42 ? 1000 + count : type % 65536, "");
    if (repeat)
      put_ext(&b, 100 + 97 * 350, "");
    vec_close(&b, exts, 2);
    const char *bad = parse_ch(&ch, b.b, b.n, false);
    if (repeat)
      CHECK_STR(bad, "client_hello: duplicate extension");
    else
      CHECK(bad == NULL);
    CHECK_EQ_U(ch.extensions.n, 700u + (unsigned)repeat);
  }

  /* RFC 8446 4.2.11: pre_shared_key last */
  ch_prefix(&b, 0x0303, two_suites, 2);
  exts = vec_open(&b, 2);
  put_ext(&b, 41, "0000 0000");
  put_ext(&b, 42, "");
  vec_close(&b, exts, 2);
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: pre_shared_key not last");
  CHECK(ch.psk && ch.early_data);

  /* bytes after the extension block */
  ch_prefix(&b, 0x0303, two_suites, 2);
  exts = vec_open(&b, 2);
  put_ext(&b, 23, "");
  vec_close(&b, exts, 2);
  put8(&b, 0);
  CHECK_STR(parse_ch(&ch, b.b, b.n, false), "client_hello: trailing bytes");

  /* zero-length block, session ticket with data, heartbeat mode, ESNI */
  ch_prefix(&b, 0x0303, two_suites, 2);
  put16(&b, 0);
  CHECK(parse_ch(&ch, b.b, b.n, false) == NULL);
  CHECK_EQ_U(ch.extensions.n, 0);
  ch_prefix(&b, 0x0303, two_suites, 2);
  exts = vec_open(&b, 2);
  put_ext(&b, 35, "0102");
  put_ext(&b, 15, "02");
  put_ext(&b, 0xffce, "00");
  put_ext(&b, 49, "");
  vec_close(&b, exts, 2);
  CHECK(parse_ch(&ch, b.b, b.n, false) == NULL);
  CHECK(ch.session_ticket && ch.session_ticket_nonempty && ch.esni && ch.post_handshake_auth);
  CHECK(ch.heartbeat && ch.heartbeat_mode == 2);

  /* empty body */
  CHECK(parse_ch(&ch, b.b, 0, false) != NULL);
  hello_client_clear(&ch);
}

/* RFC 9849 5: ECHClientHello, built here field by field: type outer (0),
 * HpkeSymmetricCipherSuite (kdf_id, aead_id: RFC 9180 7.2, 7.3), config_id,
 * enc<0..2^16-1>, payload<1..2^16-1>; inner (1) is empty. */
static void test_ech(void) {
  struct buf b;
  struct tls_client_hello ch = {0};
  static const struct {
    const char *body, *reason;
    bool outer, inner;
    unsigned type, kdf, aead, config_id, enc, payload;
  } cases[] = {
      /* HKDF-SHA256, AES-128-GCM, config 0xd1, 2-byte enc, 3-byte payload */
      {"00 0001 0001 d1 0002 aabb 0003 010203", NULL, true, false, 0, 1, 1, 0xd1, 2, 3},
      /* HKDF-SHA384 (2), ChaCha20Poly1305 (3), empty enc (allowed after HRR) */
      {"00 0002 0003 07 0000 0001 ff", NULL, true, false, 0, 2, 3, 7, 0, 1},
      {"01", NULL, false, true, 1, 0, 0, 0, 0, 0},
      {"05 0102", NULL, false, false, 5, 0, 0, 0, 0, 0},
      /* payload<1..2^16-1>: never empty */
      {"00 0001 0001 d1 0002 aabb 0000", "client_hello: encrypted_client_hello", false, false, 0, 0,
       0, 0, 0, 0},
      {"00 0001 0001 d1 0002 aabb 0003 0102", "client_hello: encrypted_client_hello", false, false,
       0, 0, 0, 0, 0, 0},
      {"00 0001 0001 d1 0002 aabb 0001 01 00", "client_hello: encrypted_client_hello", false, false,
       0, 0, 0, 0, 0, 0},
      {"01 00", "client_hello: encrypted_client_hello", false, false, 0, 0, 0, 0, 0, 0},
      {"", "client_hello: encrypted_client_hello", false, false, 0, 0, 0, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ch_prefix(&b, 0x0303, two_suites, 2);
    size_t exts = vec_open(&b, 2);
    put_ext(&b, 0xfe0d, cases[i].body);
    put_ext(&b, 23, "");
    vec_close(&b, exts, 2);
    const char *reason = parse_ch(&ch, b.b, b.n, false);
    CHECK(ch.ech && ch.ems);
    if (cases[i].reason) {
      CHECK_STR(reason, cases[i].reason);
      CHECK(!ch.ech_offer.outer);
      continue;
    }
    CHECK(reason == NULL);
    CHECK(ch.ech_offer.outer == cases[i].outer && ch.ech_offer.inner == cases[i].inner);
    CHECK_EQ_U(ch.ech_offer.type, cases[i].type);
    CHECK_EQ_U(ch.ech_offer.kdf_id, cases[i].kdf);
    CHECK_EQ_U(ch.ech_offer.aead_id, cases[i].aead);
    CHECK_EQ_U(ch.ech_offer.config_id, cases[i].config_id);
    CHECK_EQ_U(ch.ech_offer.enc_length, cases[i].enc);
    CHECK_EQ_U(ch.ech_offer.payload_length, cases[i].payload);
  }
  hello_client_clear(&ch);
}

/* ServerHello: legacy_version, zero random, empty session_id, suite, null. */
static void sh_prefix(struct buf *b, unsigned cipher) {
  b->n = 0;
  put16(b, 0x0303);
  for (int i = 0; i < 33; i++)
    put8(b, 0);
  put16(b, cipher);
  put8(b, 0);
}

static void test_lying_server(void) {
  struct buf b;
  struct tls_server_hello sh = {0};
  size_t exts;
  static const struct {
    unsigned type;
    const char *body, *reason;
  } bad[] = {
      {43, "030403", "server_hello: supported_versions"},
      {43, "03", "server_hello: supported_versions"},
      {51, "001d 0020 01", "server_hello: key_share"},
      {51, "001d", "server_hello: key_share"},
      {16, "0006 02 6832 02 6831", "server_hello: application_layer_protocol_negotiation"},
      {16, "0001 00", "server_hello: application_layer_protocol_negotiation"},
      {65281, "", "server_hello: renegotiation_info"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sh_prefix(&b, 0xc02f);
    exts = vec_open(&b, 2);
    put_ext(&b, bad[i].type, bad[i].body);
    put_ext(&b, 23, "");
    vec_close(&b, exts, 2);
    CHECK_STR(parse_sh(&sh, b.b, b.n), bad[i].reason);
    CHECK(sh.ems);
  }

  /* HRR: key_share is the bare selected group (RFC 8446 4.2.8) */
  static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
                                         0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                         0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
                                         0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
  sh_prefix(&b, 0x1301);
  memcpy(b.b + 2, hrr_random, 32);
  exts = vec_open(&b, 2);
  put_ext(&b, 51, "001d 0001 00");
  vec_close(&b, exts, 2);
  CHECK_STR(parse_sh(&sh, b.b, b.n), "server_hello: key_share");
  CHECK(sh.hello_retry);

  /* RFC 9849 7.2.1: an HRR's encrypted_client_hello is confirmation[8]; a
   * ServerHello's is not read (it should have none) */
  sh_prefix(&b, 0x1301);
  memcpy(b.b + 2, hrr_random, 32);
  exts = vec_open(&b, 2);
  put_ext(&b, 51, "11ec");
  put_ext(&b, 0xfe0d, "0102030405060708");
  vec_close(&b, exts, 2);
  CHECK(parse_sh(&sh, b.b, b.n) == NULL);
  CHECK(sh.hello_retry && sh.ech_confirmation && sh.key_share_group == 0x11ec);
  sh_prefix(&b, 0x1301);
  memcpy(b.b + 2, hrr_random, 32);
  exts = vec_open(&b, 2);
  put_ext(&b, 0xfe0d, "01020304050607");
  vec_close(&b, exts, 2);
  CHECK_STR(parse_sh(&sh, b.b, b.n), "server_hello: encrypted_client_hello");
  CHECK(!sh.ech_confirmation);
  sh_prefix(&b, 0x1301);
  exts = vec_open(&b, 2);
  put_ext(&b, 0xfe0d, "0102030405060708");
  vec_close(&b, exts, 2);
  CHECK(parse_sh(&sh, b.b, b.n) == NULL);
  CHECK(!sh.hello_retry && !sh.ech_confirmation);

  /* no extensions (TLS 1.0 style), DOWNGRD00, duplicate, block overflow */
  sh_prefix(&b, 0x002f);
  memcpy(b.b + 2 + 24, "DOWNGRD\x00", 8);
  CHECK(parse_sh(&sh, b.b, b.n) == NULL);
  CHECK_STR(sh.downgrade, "DOWNGRD00");
  CHECK_EQ_U(sh.extensions.n, 0);
  CHECK_EQ_U(sh.version, 0x0303);
  exts = vec_open(&b, 2);
  put_ext(&b, 23, "");
  put_ext(&b, 23, "");
  vec_close(&b, exts, 2);
  CHECK_STR(parse_sh(&sh, b.b, b.n), "server_hello: duplicate extension");
  b.b[exts] = 0xff;
  CHECK_STR(parse_sh(&sh, b.b, b.n), "server_hello: extensions length");
  CHECK(parse_sh(&sh, b.b, 0) != NULL);
  hello_server_clear(&sh);
}

static void test_sslv2_malformed(void) {
  struct tls_client_hello ch = {0};
  struct tls_server_hello sh = {0};
  const uint8_t *cert;
  size_t cert_len;
  static const uint8_t wrong_type[] = {4, 0, 2, 0, 3, 0, 0, 0, 0, 1, 0, 0x80};
  CHECK_STR(hello_parse_sslv2_client(&ch, rd_make(wrong_type, sizeof wrong_type)),
            "sslv2 client_hello: msg_type");
  static const uint8_t specs_not_3[] = {1, 0, 2, 0, 2, 0, 0, 0, 0, 1, 0};
  CHECK_STR(hello_parse_sslv2_client(&ch, rd_make(specs_not_3, sizeof specs_not_3)),
            "sslv2 client_hello: cipher_specs length");
  static const uint8_t trailing[] = {1, 0, 2, 0, 3, 0, 0, 0, 1, 1, 0, 0x80, 0x55, 0};
  CHECK_STR(hello_parse_sslv2_client(&ch, rd_make(trailing, sizeof trailing)),
            "sslv2 client_hello: trailing bytes");
  CHECK_EQ_U(ch.n_sslv2_ciphers, 1);
  static const uint8_t cert_overflow[] = {4, 0, 1, 0, 2, 0xff, 0xff, 0, 3, 0, 0, 0x30};
  CHECK_STR(
      hello_parse_sslv2_server(&sh, rd_make(cert_overflow, sizeof cert_overflow), &cert, &cert_len),
      "sslv2 server_hello: certificate length");
  CHECK(cert == NULL && cert_len == 0);
  hello_client_clear(&ch);
  hello_server_clear(&sh);
}

/* Clear is safe on a zeroed struct, after a fault and twice; a second
 * parse into a used struct frees the first one's memory (LeakSanitizer). */
static void test_ownership(void) {
  struct tls_client_hello ch = {0};
  struct tls_server_hello sh = {0};
  hello_client_clear(&ch);
  hello_server_clear(&sh);
  size_t len;
  uint8_t *body = load_hex("certlong.ch", &len);
  ch.record_version = 0x0301;
  ch.at.frame = 49;
  CHECK(body && parse_ch(&ch, body, len, false) == NULL);
  CHECK(body && parse_ch(&ch, body, len, false) == NULL);
  CHECK_EQ_U(ch.record_version, 0x0301);
  CHECK_EQ_U(ch.at.frame, 49);
  CHECK(body && parse_ch(&ch, body, len / 2, false) != NULL);
  hello_client_clear(&ch);
  CHECK(ch.ciphers.v == NULL && ch.alpn == NULL && ch.n_alpn == 0 && ch.ja3[0] == 0);
  hello_client_clear(&ch);
  free(body);
  body = load_hex("sha1.sh", &len);
  CHECK(body && parse_sh(&sh, body, len) == NULL);
  CHECK(body && parse_sh(&sh, body, len) == NULL);
  hello_server_clear(&sh);
  CHECK(sh.alpn.p == NULL && sh.downgrade[0] == 0);
  free(body);
}

/* ------------------------------------------------------------------ */
/* Fingerprints from their specifications                              */

/* The example of FoxIO-LLC/ja4 technical_details/JA4.md: 15 suites, 16
 * extensions, ALPN h2, TLS 1.3, SNI; GREASE added everywhere must not
 * change it. */
static void build_ja4_example(struct buf *b, bool with_sig_algs) {
  static const uint16_t suites[] = {0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
                                    0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  static const uint16_t ext_order[] = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
                                       0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b,
                                       0xff01, 0x000b, 0x000a, 0x0015};
  ch_prefix(b, 0x0303, suites, sizeof suites / sizeof suites[0]);
  size_t exts = vec_open(b, 2);
  put_ext(b, 0x2a2a, "");
  for (size_t i = 0; i < sizeof ext_order / sizeof ext_order[0]; i++) {
    switch (ext_order[i]) {
    case 0x0000:
      put_ext(b, 0, "000e 00 000b 6578616d706c652e636f6d");
      break;
    case 0x0010:
      put_ext(b, 16, "000c 02 6832 08 687474702f312e31");
      break;
    case 0x002b:
      put_ext(b, 43, "06 3a3a 0304 0303");
      break;
    case 0x000d:
      put_ext(b, 13, with_sig_algs ? "0012 1a1a 0403 0804 0401 0503 0805 0501 0806 0601" : "0000");
      break;
    case 0x0033:
      put_ext(b, 51,
              "0024 001d 0020 0000000000000000000000000000000000000000000000000000000000000000");
      break;
    case 0x002d:
      put_ext(b, 45, "01 01");
      break;
    case 0x000b:
      put_ext(b, 11, "01 00");
      break;
    case 0x000a:
      put_ext(b, 10, "0004 2a2a 001d");
      break;
    case 0xff01:
      put_ext(b, 0xff01, "00");
      break;
    default:
      put_ext(b, ext_order[i], "");
      break;
    }
  }
  vec_close(b, exts, 2);
}

static void test_ja4_spec(void) {
  struct buf b;
  struct tls_client_hello ch = {0};
  char ja4[40];
  build_ja4_example(&b, true);
  CHECK(parse_ch(&ch, b.b, b.n, false) == NULL);
  hello_ja4(&ch, 't', ja4);
  CHECK_STR(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  hello_ja4(&ch, 'q', ja4);
  CHECK_STR(ja4, "q13d1516h2_8daaf6152771_e5627efa2ab1");
  /* JA4.md: without signature algorithms the string ends without "_" */
  build_ja4_example(&b, false);
  CHECK(parse_ch(&ch, b.b, b.n, false) == NULL);
  hello_ja4(&ch, 't', ja4);
  CHECK_STR(ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
  hello_client_clear(&ch);
}

/* JA4.md "ALPN Extension Value", counts over 99, empty lists, no SNI. */
static void test_ja4_rules(void) {
  static const struct {
    const char *alpn;
    size_t n;
    const char *want;
  } alpn[] = {
      {"\xab", 1, "ab"},
      {"\xab\xcd", 2, "ad"},
      {"\x30\xab", 2, "3b"},
      {"\x30\x31\xab\xcd", 4, "3d"},
      {"\x30\xab\xcd\x31", 4, "01"},
      {"h", 1, "hh"},
      {"http/1.1", 8, "h1"},
      {"", 0, "00"},
  };
  uint16_t suites[150];
  for (int i = 0; i < 150; i++)
    suites[i] = (uint16_t)(0x0100 + i);
  for (size_t i = 0; i < sizeof alpn / sizeof alpn[0]; i++) {
    struct tls_str name = {(uint8_t *)alpn[i].alpn, alpn[i].n};
    struct tls_client_hello ch = {0};
    ch.legacy_version = 0x0303;
    ch.alpn = &name;
    ch.n_alpn = 1;
    char ja4[40];
    hello_ja4(&ch, 't', ja4);
    CHECK(strncmp(ja4, "t12i0000", 8) == 0);
    CHECK(strncmp(ja4 + 8, alpn[i].want, 2) == 0);
    CHECK_STR(ja4 + 10, "_000000000000_000000000000");
    ch.ciphers.v = suites;
    ch.ciphers.n = 150;
    hello_ja4(&ch, 'd', ja4);
    CHECK(strncmp(ja4, "d12i9900", 8) == 0);
  }
}

/* The two examples of the salesforce/ja3 README. */
static void test_ja3_readme(void) {
  struct buf b;
  struct tls_client_hello ch = {0};
  /* 769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0 */
  static const uint16_t suites1[] = {47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4};
  ch_prefix(&b, 769, suites1, 12);
  size_t exts = vec_open(&b, 2);
  put_ext(&b, 0, "000e 00 000b 6578616d706c652e636f6d");
  put_ext(&b, 10, "0006 0017 0018 0019");
  put_ext(&b, 11, "01 00");
  vec_close(&b, exts, 2);
  CHECK(parse_ch(&ch, b.b, b.n, false) == NULL);
  CHECK_STR(ch.ja3, "ada70206e40642a3e4461f35503241d5");
  /* 769,4-5-10-9-100-98-3-6-19-18-99,,, */
  static const uint16_t suites2[] = {4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99};
  ch_prefix(&b, 769, suites2, 11);
  CHECK(parse_ch(&ch, b.b, b.n, false) == NULL);
  CHECK_STR(ch.ja3, "de350869b8c85de67a350c8d186f11e6");
  hello_client_clear(&ch);
}

int main(void) {
  RUN(test_corpus_client);
  RUN(test_corpus_server);
  RUN(test_corpus_flags);
  RUN(test_rfc8448_client);
  RUN(test_rfc8448_server);
  RUN(test_sslv2_client);
  RUN(test_sslv2_server);
  RUN(test_truncation);
  RUN(test_truncation_sslv2);
  RUN(test_mutation);
  RUN(test_lying_client_lengths);
  RUN(test_lying_extensions);
  RUN(test_extension_rules);
  RUN(test_ech);
  RUN(test_lying_server);
  RUN(test_sslv2_malformed);
  RUN(test_ownership);
  RUN(test_ja4_spec);
  RUN(test_ja4_rules);
  RUN(test_ja3_readme);
  return harness_done();
}
