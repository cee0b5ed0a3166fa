/*
 * Unit tests of HTTP read from decrypted data: the Strict-Transport-Security
 * and Public-Key-Pins parsers (dissect/hsts.c), HTTP/2 frames with HPACK
 * header blocks (dissect/h2.c), HTTP/1.x responses through libhtp
 * (dissect/http.c).
 *
 * Expected values: RFC 6797 6.2 (STS examples) and 6.1 (grammar rules:
 * case-insensitive names, quoted values, repeated directives invalid,
 * max-age required); RFC 7469 2.1.5 (PKP example) and 2.1 (pins); RFC
 * 7541 C.5 and C.6 (response header blocks, without and with Huffman
 * coding, whose :status values the RFC lists) framed as RFC 9113 4.1
 * HEADERS frames here.
 */
#include "dissect/internal.h"
#include "tests/unit/harness.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* ---- Strict-Transport-Security ---- */

static struct http_sts sts(const char *value) {
  struct http_sts out;
  http_sts_parse((const uint8_t *)value, strlen(value), &out);
  return out;
}

static void sts_valid(void) {
  /* RFC 6797 6.2 */
  struct http_sts s = sts("max-age=31536000");
  CHECK(s.valid && s.max_age == 31536000 && !s.include_subdomains);
  s = sts("max-age=15768000 ; includeSubDomains");
  CHECK(s.valid && s.max_age == 15768000 && s.include_subdomains);
  /* 6.1: names are case-insensitive, values may be quoted, directives
   * may be empty, whitespace around tokens is allowed. */
  s = sts("MAX-AGE=100; INCLUDESUBDOMAINS");
  CHECK(s.valid && s.max_age == 100 && s.include_subdomains);
  s = sts("max-age=\"31536000\"");
  CHECK(s.valid && s.max_age == 31536000);
  s = sts("  max-age = 100 ;\tincludeSubDomains  ");
  CHECK(s.valid && s.max_age == 100 && s.include_subdomains);
  s = sts(";;max-age=7;;");
  CHECK(s.valid && s.max_age == 7);
  /* 6.1.1: max-age=0 is valid (it removes the policy). */
  s = sts("max-age=0");
  CHECK(s.valid && s.max_age == 0);
  /* Unknown directives are ignored; preload is the preload list's. */
  s = sts("max-age=63072000; includeSubDomains; preload; foo=\"bar;baz\"; x");
  CHECK(s.valid && s.preload && s.include_subdomains && s.max_age == 63072000);
  s = sts("max-age=99999999999999999999999999");
  CHECK(s.valid && s.max_age == UINT64_MAX);
}

static void sts_invalid(void) {
  static const struct {
    const char *value, *why;
  } t[] = {
      {"", "no_max_age"},
      {"includeSubDomains", "no_max_age"},
      {"max-age=100; max-age=200", "duplicate_directive"},
      {"max-age=100; MAX-AGE=100", "duplicate_directive"},
      {"max-age=1; includeSubDomains; includesubdomains", "duplicate_directive"},
      {"max-age=1; foo; FOO", "duplicate_directive"},
      {"max-age=-1", "bad_max_age"},
      {"max-age=abc", "bad_max_age"},
      {"max-age=1.5", "bad_max_age"},
      {"max-age", "bad_max_age"},
      {"max-age=\"\"", "bad_max_age"},
      {"max-age=", "syntax"},
      {"max-age=100 includeSubDomains", "syntax"},
      {"max-age=\"100", "syntax"},
      {"max-age=1, max-age=2", "syntax"},
      {"=100", "syntax"},
      {"max-age=1; \x01", "syntax"},
      {"includeSubDomains=yes; max-age=1", "include_subdomains_value"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    struct http_sts s = sts(t[i].value);
    if (s.valid || !s.invalid || strcmp(s.invalid, t[i].why) != 0) {
      fprintf(stderr, "  \"%s\": got %s, want %s\n", t[i].value, s.valid ? "valid" : s.invalid,
              t[i].why);
      harness_current_failed++;
    }
  }
  /* Embedded NUL: the length counts, not the terminator. */
  struct http_sts s;
  http_sts_parse((const uint8_t *)"max-age=1\0x", 11, &s);
  CHECK(!s.valid);
}

/* ---- Public-Key-Pins ---- */

static struct http_pkp pkp(const char *value) {
  struct http_pkp out;
  http_pkp_parse((const uint8_t *)value, strlen(value), &out);
  return out;
}

static void pkp_parse(void) {
  /* RFC 7469 2.1.5, the first example. */
  struct http_pkp p =
      pkp("max-age=3000; pin-sha256=\"d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=\"; "
          "pin-sha256=\"E9CZ9INDbd+2eRQozYqqbQ2yXLVKB9+xcprMF+44U1g=\"");
  CHECK(p.valid && p.max_age == 3000 && p.n_pins == 2);
  if (p.n_pins == 2) {
    char text[45];
    EVP_EncodeBlock((unsigned char *)text, p.pins[1], 32);
    CHECK_STR(text, "E9CZ9INDbd+2eRQozYqqbQ2yXLVKB9+xcprMF+44U1g=");
  }
  p = pkp("pin-sha256=\"d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=\"; "
          "pin-sha256=\"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=\"; max-age=10000; "
          "includeSubDomains; report-uri=\"https://other.example.net/pkp-report\"");
  CHECK(p.valid && p.include_subdomains && p.report_uri && p.n_pins == 2);
  static const struct {
    const char *value, *why;
  } bad[] = {
      {"pin-sha256=\"d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=\"", "no_max_age"},
      {"max-age=10", "no_pins"},
      {"max-age=10; pin-sha256=d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=", "syntax"},
      {"max-age=10; pin-sha256=abc", "bad_pin"},
      {"max-age=10; pin-sha256=\"abc=\"", "bad_pin"},
      {"max-age=10; max-age=20; pin-sha256=\"d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=\"",
       "duplicate_directive"},
      {"max-age=x; pin-sha256=\"d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=\"", "bad_max_age"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    p = pkp(bad[i].value);
    if (p.valid || !p.invalid || strcmp(p.invalid, bad[i].why) != 0) {
      fprintf(stderr, "  \"%s\": got %s, want %s\n", bad[i].value, p.valid ? "valid" : p.invalid,
              bad[i].why);
      harness_current_failed++;
    }
  }
}

/* ---- HTTP/2 ---- */

struct seen {
  int status[16];
  char sts[16][128];
  size_t n;
  uint64_t frame[16];
};

static void collect(void *ctx, const struct http_response_view *r, const struct tls_at *at) {
  struct seen *s = ctx;
  if (s->n >= 16)
    return;
  s->status[s->n] = r->status;
  s->frame[s->n] = at->frame;
  if (r->has_sts)
    snprintf(s->sts[s->n], sizeof(s->sts[0]), "%.*s", (int)r->sts_len, (const char *)r->sts);
  s->n++;
}

/* A server stream built frame by frame (RFC 9113 4.1). */
struct stream {
  uint8_t b[8192];
  size_t n;
};

static void frame(struct stream *s, uint8_t type, uint8_t flags, uint32_t id, const uint8_t *p,
                  size_t len) {
  uint8_t *h = s->b + s->n;
  h[0] = (uint8_t)(len >> 16), h[1] = (uint8_t)(len >> 8), h[2] = (uint8_t)len;
  h[3] = type, h[4] = flags;
  h[5] = (uint8_t)(id >> 24), h[6] = (uint8_t)(id >> 16), h[7] = (uint8_t)(id >> 8);
  h[8] = (uint8_t)id;
  if (len)
    memcpy(h + 9, p, len);
  s->n += 9 + len;
}

static void headers_hex(struct stream *s, uint32_t id, const char *block_hex) {
  uint8_t block[512];
  size_t n = harness_unhex_into(block_hex, block);
  frame(s, 0x1, 0x4 | 0x1, id, block, n); /* END_HEADERS | END_STREAM */
}

// clang-format off
/* RFC 7541 C.5.1-C.5.3 (no Huffman) and C.6.1-C.6.3 (Huffman): :status
 * 302, 307, 200. */
static const char *const c5[] = {
    "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 "
    "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 "
    "6c65 2e63 6f6d",
    "4803 3330 37c1 c0bf",
    "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d "
    "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 "
    "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"};
static const char *const c6[] = {
    "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 "
    "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
    "4883 640e ffc1 c0bf",
    "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab "
    "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f "
    "9587 3160 65c0 03ed 4ee5 b106 3d50 07"};
/* Hand-encoded (RFC 7541 6.2.1, literal with incremental indexing, new
 * name): :status 200 (index 8), strict-transport-security:
 * max-age=31536000; includeSubDomains.  The next block names it by its
 * dynamic index 62 (0xbe) with :status 204 (index 9: 0x89). */
static const char sts_block[] =
    "88 40 19 7374726963742d7472616e73706f72742d7365637572697479 "
    "23 6d61782d6167653d33313533363030303b20696e636c756465537562446f6d61696e73";
static const char sts_again[] = "89 be";
// clang-format on

static struct seen run_h2(const struct stream *s, size_t step) {
  struct seen seen = {0};
  struct h2_conn *h = h2_conn_new(collect, &seen);
  for (size_t off = 0; off < s->n;) {
    size_t k = step && s->n - off > step ? step : s->n - off;
    struct tls_at at = {0, 1 + off / 100, 0};
    h2_conn_data(h, FLOW_S2C, s->b + off, k, &at);
    off += k;
  }
  CHECK(h2_conn_failed(h) == NULL);
  h2_conn_free(h);
  return seen;
}

/* RFC 7541 C.5 and C.6 sequences, each on its own connection after the
 * server's SETTINGS, with DATA between: the dynamic table is followed. */
static void h2_rfc7541_responses(void) {
  for (int huffman = 0; huffman < 2; huffman++) {
    struct stream s = {.n = 0};
    frame(&s, 0x4, 0, 0, NULL, 0); /* SETTINGS */
    for (int i = 0; i < 3; i++) {
      headers_hex(&s, 1 + 2 * (uint32_t)i, (huffman ? c6 : c5)[i]);
      frame(&s, 0x0, 0x1, 1 + 2 * (uint32_t)i, (const uint8_t *)"body", 4); /* DATA */
    }
    headers_hex(&s, 7, sts_block);
    headers_hex(&s, 9, sts_again);
    for (size_t step = 0; step <= 1; step++) {
      struct seen seen = run_h2(&s, step);
      CHECK_EQ_U(seen.n, 5);
      CHECK(seen.status[0] == 302 && seen.status[1] == 307 && seen.status[2] == 200);
      CHECK(seen.status[3] == 200 && seen.status[4] == 204);
      CHECK_STR(seen.sts[3], "max-age=31536000; includeSubDomains");
      CHECK_STR(seen.sts[4], "max-age=31536000; includeSubDomains");
      CHECK(seen.sts[0][0] == '\0');
    }
  }
}

/* Padding and priority (RFC 9113 6.2), a block continued in CONTINUATION
 * frames (6.10), a PUSH_PROMISE block that adds to the table (6.6), an
 * interim 103 and trailers (no :status) that are not responses. */
static void h2_framing(void) {
  uint8_t block[256], payload[300];
  size_t n = harness_unhex_into(sts_block, block);
  struct stream s = {.n = 0};
  /* PUSH_PROMISE on stream 1 promising 2: adds "x-pushed: yes" (literal
   * with incremental indexing, new name). */
  size_t k = 0;
  payload[k++] = 0, payload[k++] = 0, payload[k++] = 0, payload[k++] = 2;
  k += harness_unhex_into("40 08 782d707573686564 03 796573", payload + k);
  frame(&s, 0x5, 0x4, 1, payload, k);
  /* 103 Early Hints: interim (literal without indexing, name :status). */
  uint8_t early[] = {0x08, 0x03, '1', '0', '3'};
  frame(&s, 0x1, 0x4, 1, early, sizeof(early));
  /* HEADERS PADDED|PRIORITY with 3 bytes of padding, split after 10 bytes
   * of block into a CONTINUATION. */
  k = 0;
  payload[k++] = 3;
  payload[k++] = 0, payload[k++] = 0, payload[k++] = 0, payload[k++] = 0, payload[k++] = 16;
  memcpy(payload + k, block, 10);
  k += 10;
  memset(payload + k, 0, 3);
  frame(&s, 0x1, 0x8 | 0x20, 1, payload, k + 3);
  frame(&s, 0x9, 0x4, 1, block + 10, n - 10);
  /* Trailers: a header block without :status, naming the pushed entry
   * (dynamic index 63 now, after the STS entry): it decodes only if the
   * PUSH_PROMISE block went through the inflater. */
  uint8_t trailer[] = {0xbf};
  frame(&s, 0x1, 0x5, 1, trailer, sizeof(trailer));
  for (size_t step = 0; step <= 3; step += 3) {
    struct seen seen = run_h2(&s, step);
    CHECK_EQ_U(seen.n, 1);
    CHECK_EQ_U(seen.status[0], 200);
    CHECK_STR(seen.sts[0], "max-age=31536000; includeSubDomains");
  }
}

/* Malformed streams stop the parser with a reason, never read past. */
static void h2_malformed(void) {
  static const char *const bad[] = {
      "000005 09 04 00000001 8889898989",                 /* CONTINUATION without HEADERS */
      "000002 01 08 00000001 0588",                       /* padding longer than the frame */
      "000003 01 04 00000001 ffffff",                     /* HPACK index out of range */
      "000002 01 00 00000001 8888 000000 00 00 00000000", /* block interrupted */
      "100000 01 04 00000001",                            /* 1 MiB header frame: over the cap */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint8_t b[64];
    size_t n = harness_unhex_into(bad[i], b);
    struct seen seen = {0};
    struct h2_conn *h = h2_conn_new(collect, &seen);
    struct tls_at at = {0, 1, 0};
    h2_conn_data(h, FLOW_S2C, b, n, &at);
    CHECK(h2_conn_failed(h) != NULL);
    CHECK_EQ_U(seen.n, 0);
    h2_conn_free(h);
  }
}

/* ---- HTTP/1.x through libhtp ---- */

static void http1_responses(void) {
  struct seen seen = {0};
  struct http_conn *h = http_conn_new_responses(collect, &seen);
  static const char *const parts[][2] = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", NULL},
      {NULL, "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=300\r\nContent-Length: 2\r\n"},
      {NULL, "\r\nok"},
      {"GET /b HTTP/1.1\r\nHost: a\r\n\r\n", NULL},
      /* Repeated header: only the first counts (RFC 6797 8.1). */
      {NULL, "HTTP/1.1 301 Moved\r\nstrict-transport-security: max-age=1\r\n"
             "Strict-Transport-Security: max-age=2\r\nContent-Length: 0\r\n\r\n"},
  };
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
    struct tls_at at = {0, 10 + i, 0};
    int dir = parts[i][0] ? FLOW_C2S : FLOW_S2C;
    const char *p = parts[i][0] ? parts[i][0] : parts[i][1];
    http_conn_data(h, dir, (const uint8_t *)p, strlen(p), &at);
  }
  CHECK(http_conn_failed(h) == NULL);
  CHECK_EQ_U(seen.n, 2);
  CHECK(seen.status[0] == 200 && seen.status[1] == 301);
  CHECK_STR(seen.sts[0], "max-age=300");
  CHECK_STR(seen.sts[1], "max-age=1");
  CHECK_EQ_U(seen.frame[0], 12); /* the header section ends in the third piece */
  http_conn_free(h);
}

/* The fields HTTP/2 and HTTP/3 share: :status only as three digits
 * (RFC 9110 15), the first Strict-Transport-Security kept (RFC 6797 8.1). */
static void response_fields(void) {
  struct http_fields f = {0};
  const struct {
    const char *value;
    int status;
  } statuses[] = {{"204", 204}, {"2000", 0}, {"20", 0}, {"2x0", 0}, {"000", 0}, {"103", 103}};
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
    http_fields_add(&f, (const uint8_t *)":status", 7, (const uint8_t *)statuses[i].value,
                    strlen(statuses[i].value));
    CHECK_EQ_U(f.status, statuses[i].status);
  }
  http_fields_add(&f, (const uint8_t *)"strict-transport-security", 25,
                  (const uint8_t *)"max-age=1", 9);
  http_fields_add(&f, (const uint8_t *)"strict-transport-security", 25,
                  (const uint8_t *)"max-age=2", 9);
  struct http_response_view v = http_fields_view(&f, 3);
  CHECK(v.http_version == 3 && v.status == 103 && v.has_sts && !v.has_pkp);
  CHECK(v.sts_len == 9 && memcmp(v.sts, "max-age=1", 9) == 0);
  http_fields_clear(&f);
  CHECK(!f.has_sts && !f.sts && f.status == 0);
}

int main(void) {
  RUN(response_fields);
  RUN(sts_valid);
  RUN(sts_invalid);
  RUN(pkp_parse);
  RUN(h2_rfc7541_responses);
  RUN(h2_framing);
  RUN(h2_malformed);
  RUN(http1_responses);
  return harness_done();
}
