/*
 * dissect/hsts.c - the values of Strict-Transport-Security (RFC 6797 6.1)
 * and Public-Key-Pins (RFC 7469 2.1).  Both share one grammar:
 *
 *   value     = [ directive ] *( ";" [ directive ] )
 *   directive = name [ "=" ( token / quoted-string ) ]     (RFC 7230 3.2.6)
 *
 * with optional whitespace around names, "=" and ";".  Names are case-
 * insensitive; a directive may appear once (HPKP's pin- directives
 * excepted); unknown directives are ignored; anything that does not fit
 * the grammar makes the whole header invalid (RFC 6797 6.1: "UAs MUST
 * ignore any STS header field containing directives, or other header
 * field value data, that does not conform to the syntax").
 */
#include "dissect/dissect.h"
#include "base/rd.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

/* One directive as it appears: value points at the token, or inside the
 * quotes of a quoted-string (escapes still in it). */
struct directive {
  const uint8_t *name;
  size_t name_len;
  bool has_value, quoted;
  const uint8_t *value;
  size_t value_len;
};

static bool is_tchar(uint8_t ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static void skip_ows(struct rd *r) {
  while (r->n && (r->p[0] == ' ' || r->p[0] == '\t'))
    rd_u8(r);
}

static size_t take_token(struct rd *r) {
  size_t k = 0;
  while (k < r->n && is_tchar(r->p[k]))
    k++;
  rd_bytes(r, k);
  return k;
}

/* RFC 7230 3.2.6 quoted-string after the opening quote; false when it is
 * not closed or holds a character it may not. */
static bool take_quoted(struct rd *r, struct directive *d) {
  d->value = r->p;
  d->quoted = true;
  while (r->n) {
    uint8_t ch = rd_u8(r);
    if (ch == '"') {
      d->value_len = (size_t)(r->p - d->value) - 1;
      return true;
    }
    if (ch == '\\') {
      if (!r->n || (r->p[0] < 0x20 && r->p[0] != '\t') || r->p[0] == 0x7f)
        return false;
      rd_u8(r);
    } else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
      return false;
    }
  }
  return false;
}

/* The next directive; false on a syntax error.  *end: nothing left. */
static bool next_directive(struct rd *r, struct directive *d, bool *end) {
  memset(d, 0, sizeof(*d));
  for (;;) {
    skip_ows(r);
    if (!r->n) {
      *end = true;
      return true;
    }
    if (r->p[0] != ';')
      break;
    rd_u8(r); /* an empty directive */
  }
  *end = false;
  d->name = r->p;
  d->name_len = take_token(r);
  if (!d->name_len)
    return false;
  skip_ows(r);
  if (r->n && r->p[0] == '=') {
    rd_u8(r);
    skip_ows(r);
    d->has_value = true;
    if (r->n && r->p[0] == '"') {
      rd_u8(r);
      if (!take_quoted(r, d))
        return false;
    } else {
      d->value = r->p;
      d->value_len = take_token(r);
      if (!d->value_len)
        return false;
    }
    skip_ows(r);
  }
  if (r->n && r->p[0] != ';')
    return false;
  if (r->n)
    rd_u8(r);
  return true;
}

static bool named(const struct directive *d, const char *name) {
  return d->name_len == strlen(name) && strncasecmp((const char *)d->name, name, d->name_len) == 0;
}

/* delta-seconds (RFC 7234 1.2.1): 1*DIGIT, saturating like a cache would;
 * quoted it may hold escapes of digits. */
static bool delta_seconds(const struct directive *d, uint64_t *out) {
  uint64_t v = 0;
  size_t digits = 0;
  for (size_t i = 0; i < d->value_len; i++) {
    uint8_t ch = d->value[i];
    if (d->quoted && ch == '\\' && i + 1 < d->value_len)
      ch = d->value[++i];
    if (ch < '0' || ch > '9')
      return false;
    v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(ch - '0');
    digits++;
  }
  *out = v;
  return digits > 0;
}

/* Directives seen so far, to refuse a repeated one. */
#define MAX_TRACKED 32
struct seen {
  struct directive kept[MAX_TRACKED];
  size_t n;
};

static bool repeated(struct seen *seen, const struct directive *d) {
  for (size_t i = 0; i < seen->n; i++)
    if (seen->kept[i].name_len == d->name_len &&
        strncasecmp((const char *)seen->kept[i].name, (const char *)d->name, d->name_len) == 0)
      return true;
  if (seen->n < MAX_TRACKED)
    seen->kept[seen->n++] = *d;
  return false;
}

/* Hands each directive of a header value to one(ctx, d), which returns
 * NULL or why the header is invalid.  A repeated directive is invalid
 * unless may_repeat(d) (HSTS: RFC 6797 6.1 (4); HPKP: RFC 7469 2.1).
 * Returns NULL, or the first reason ("syntax": not directives at all). */
static const char *each_directive(const uint8_t *p, size_t n,
                                  bool (*may_repeat)(const struct directive *d),
                                  const char *(*one)(void *ctx, const struct directive *d),
                                  void *ctx) {
  struct rd r = rd_make(p, n);
  struct seen seen = {.n = 0};
  struct directive d;
  bool end = false;
  for (;;) {
    if (!next_directive(&r, &d, &end))
      return "syntax";
    if (end)
      return NULL;
    if (!(may_repeat && may_repeat(&d)) && repeated(&seen, &d))
      return "duplicate_directive";
    const char *why = one(ctx, &d);
    if (why)
      return why;
  }
}

/* max-age, the same in both headers: required, delta-seconds. */
static const char *max_age(const struct directive *d, bool *seen, uint64_t *out) {
  *seen = true;
  return d->has_value && delta_seconds(d, out) ? NULL : "bad_max_age";
}

struct sts_parse {
  struct http_sts *out;
  bool have_max_age;
};

static const char *sts_directive(void *ctx, const struct directive *d) {
  struct sts_parse *st = ctx;
  if (named(d, "max-age"))
    return max_age(d, &st->have_max_age, &st->out->max_age);
  if (named(d, "includeSubDomains")) {
    st->out->include_subdomains = true;
    return d->has_value ? "include_subdomains_value" : NULL; /* RFC 6797 6.1.2: valueless */
  }
  if (named(d, "preload"))
    st->out->preload = true; /* not in RFC 6797: the preload list's convention */
  return NULL;
}

void http_sts_parse(const uint8_t *p, size_t n, struct http_sts *out) {
  memset(out, 0, sizeof(*out));
  struct sts_parse st = {out, false};
  out->invalid = each_directive(p, n, NULL, sts_directive, &st);
  if (!out->invalid && !st.have_max_age)
    out->invalid = "no_max_age"; /* RFC 6797 6.1.1: REQUIRED */
  out->valid = out->invalid == NULL;
}

/* pin-sha256: base64 of a 32-byte SHA-256 (RFC 7469 2.4), 44 characters. */
static bool pin_value(const struct directive *d, uint8_t pin[32]) {
  uint8_t text[44], raw[33];
  if (!d->quoted || d->value_len != sizeof(text) || memchr(d->value, '\\', d->value_len))
    return false;
  memcpy(text, d->value, sizeof(text));
  if (text[43] != '=' || text[42] == '=')
    return false;
  if (EVP_DecodeBlock(raw, text, (int)sizeof(text)) != 33)
    return false;
  memcpy(pin, raw, 32);
  return true;
}

/* pin-* directives may repeat (one per pin); no other may. */
static bool is_pin(const struct directive *d) {
  return d->name_len > 4 && strncasecmp((const char *)d->name, "pin-", 4) == 0;
}

struct pkp_parse {
  struct http_pkp *out;
  bool have_max_age;
};

static const char *pkp_directive(void *ctx, const struct directive *d) {
  struct pkp_parse *pk = ctx;
  struct http_pkp *out = pk->out;
  if (named(d, "pin-sha256")) {
    uint8_t v[32];
    if (!d->has_value || !pin_value(d, v))
      return "bad_pin";
    if (out->n_pins < HTTP_PKP_MAX_PINS)
      memcpy(out->pins[out->n_pins++], v, 32);
    else
      out->pins_dropped++;
  } else if (named(d, "max-age")) {
    return max_age(d, &pk->have_max_age, &out->max_age);
  } else if (named(d, "includeSubDomains")) {
    out->include_subdomains = true;
  } else if (named(d, "report-uri")) {
    out->report_uri = true;
  }
  return NULL;
}

void http_pkp_parse(const uint8_t *p, size_t n, struct http_pkp *out) {
  memset(out, 0, sizeof(*out));
  struct pkp_parse pk = {out, false};
  out->invalid = each_directive(p, n, is_pin, pkp_directive, &pk);
  if (!out->invalid && !pk.have_max_age)
    out->invalid = "no_max_age"; /* RFC 7469 2.1.2: REQUIRED */
  if (!out->invalid && out->n_pins + out->pins_dropped == 0)
    out->invalid = "no_pins"; /* RFC 7469 2.5: at least a pin and a backup pin */
  out->valid = out->invalid == NULL;
}
