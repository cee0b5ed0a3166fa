/*
 * capture/text.c - addresses, packet times and encapsulations as text, for
 * every report and the JSON lines; untrusted names made safe for a terminal.
 */
#include "capture/capture.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

void cap_endpoint_str(const struct cap_addr *addr, uint16_t port, char *buf, size_t buflen) {
  char text[INET6_ADDRSTRLEN];
  if (!buflen)
    return;
  int af = addr->family == 4 ? AF_INET : AF_INET6;
  if ((addr->family != 4 && addr->family != 6) || !inet_ntop(af, addr->bytes, text, sizeof text))
    snprintf(text, sizeof text, "?");
  if (addr->family == 6)
    snprintf(buf, buflen, "[%s]:%u", text, (unsigned)port);
  else
    snprintf(buf, buflen, "%s:%u", text, (unsigned)port);
}

/* value as exactly `width` decimal digits (value < 10^width), then `after`. */
static char *put_digits(char *p, unsigned value, int width, char after) {
  for (int i = width - 1; i >= 0; i--) {
    p[i] = (char)('0' + value % 10);
    value /= 10;
  }
  p[width] = after;
  return p + width + 1;
}

void cap_time_str(cap_time_us ts, char *buf, size_t buflen) {
  if (!buflen)
    return;
  /* Floor division, so that times before 1970 keep 0 <= micros < 10^6. */
  int64_t secs = ts / 1000000, micros = ts % 1000000;
  if (micros < 0) {
    secs--;
    micros += 1000000;
  }
  time_t t = (time_t)secs;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    snprintf(buf, buflen, "invalid-time");
    return;
  }
  long long year = tm.tm_year + 1900LL;
  if (year < 0 || year > 9999 || buflen < sizeof("YYYY-MM-DDTHH:MM:SS.uuuuuuZ")) {
    snprintf(buf, buflen, "%04lld-%02d-%02dT%02d:%02d:%02d.%06dZ", year, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)micros);
    return;
  }
  /* The same text without snprintf: reports print two times per fact, and
   * snprintf cost ten times the rest of this function. */
  char *p = buf;
  p = put_digits(p, (unsigned)year, 4, '-');
  p = put_digits(p, (unsigned)tm.tm_mon + 1, 2, '-');
  p = put_digits(p, (unsigned)tm.tm_mday, 2, 'T');
  p = put_digits(p, (unsigned)tm.tm_hour, 2, ':');
  p = put_digits(p, (unsigned)tm.tm_min, 2, ':');
  p = put_digits(p, (unsigned)tm.tm_sec, 2, '.');
  p = put_digits(p, (unsigned)micros, 6, 'Z');
  *p = '\0';
}

const char *cap_encap_name(unsigned kind) {
  static const char *const names[CAP_ENCAP_KINDS] = {
      "vxlan", "geneve", "gre", "erspan1", "erspan2", "erspan3", "mpls", "pppoe", "gtpu"};
  return kind < CAP_ENCAP_KINDS ? names[kind] : "?";
}

void cap_encap_str(const struct cap_encap *e, char *buf, size_t buflen) {
  static const char *const id_names[] = {"", "vni", "vni", "key"};
  size_t used = 0;
  if (!buflen)
    return;
  buf[0] = '\0';
  unsigned id_type = (unsigned)(e->tenant >> 32);
  for (unsigned i = 0; i < e->depth && i < CAP_ENCAP_MAX && used < buflen; i++) {
    int n = snprintf(buf + used, buflen - used, "%s%s", i ? ">" : "", cap_encap_name(e->kind[i]));
    if (n > 0)
      used += (size_t)n;
    if (e->tenant && i == e->tenant_layer && id_type < 4 && used < buflen) {
      n = snprintf(buf + used, buflen - used, ":%s=%u", id_names[id_type], (unsigned)e->tenant);
      if (n > 0)
        used += (size_t)n;
    }
  }
}

size_t cap_utf8_seq(const uint8_t *p, size_t n, uint32_t *cp) {
  uint8_t b = p[0];
  *cp = b;
  if (b < 0x80)
    return 1;
  size_t len;
  uint32_t c, min;
  if ((b & 0xe0) == 0xc0)
    len = 2, c = b & 0x1f, min = 0x80;
  else if ((b & 0xf0) == 0xe0)
    len = 3, c = b & 0x0f, min = 0x800;
  else if ((b & 0xf8) == 0xf0)
    len = 4, c = b & 0x07, min = 0x10000;
  else
    return 0;
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) { /* stops at the first byte that is not 10xxxxxx: a NUL */
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    c = c << 6 | (p[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    return 0;
  *cp = c;
  return len;
}

bool cap_bidi_control(uint32_t cp) {
  return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

void cap_term_puts(FILE *out, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    const unsigned char *run = p;
    while (*p >= 0x20 && *p < 0x7f)
      p++;
    fwrite(run, 1, (size_t)(p - run), out); /* runs, not a fputc per byte */
    if (!*p)
      break;
    uint32_t cp;
    size_t k = cap_utf8_seq(p, 4, &cp);
    /* C1 (U+0080..U+009F) too: a terminal may read U+009B as CSI. */
    if (k == 0 || cp < 0x20 || cp == 0x7f)
      fprintf(out, "\\x%02x", *p), k = 1;
    else if ((cp >= 0x80 && cp <= 0x9f) || cap_bidi_control(cp))
      fprintf(out, "\\u%04x", (unsigned)cp);
    else
      fwrite(p, 1, k, out);
    p += k;
  }
}

void cap_message(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[512], *text = small;
  int n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n >= sizeof(small) && (text = malloc((size_t)n + 1))) {
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  flockfile(stderr); /* one line, even with -j threads warning at once */
  fputs("tlsgrade: ", stderr);
  cap_term_puts(stderr, text ? text : small); /* out of memory: the message cut */
  fputc('\n', stderr);
  funlockfile(stderr);
  if (text != small)
    free(text);
}
