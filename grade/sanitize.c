/*
 * grade/sanitize.c - strings from the wire are attacker-chosen: SNI, ALPN,
 * certificate names.  They are kept raw with their length and made safe
 * here, at output time, once per format.
 */
#include "grade/grade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 when invalid. */
static size_t utf8_seq(const uint8_t *p, size_t n) {
  uint8_t b = p[0];
  if (b < 0x80)
    return 1;
  size_t len;
  uint32_t cp, min;
  if ((b & 0xe0) == 0xc0)
    len = 2, cp = b & 0x1f, min = 0x80;
  else if ((b & 0xf0) == 0xe0)
    len = 3, cp = b & 0x0f, min = 0x800;
  else if ((b & 0xf8) == 0xf0)
    len = 4, cp = b & 0x07, min = 0x10000;
  else
    return 0;
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

char *report_utf8(const uint8_t *p, size_t n, bool *replaced) {
  /* Worst case: every byte becomes the 3-byte U+FFFD. */
  char *out = malloc(n * 3 + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  *replaced = false;
  for (size_t i = 0; i < n;) {
    size_t k = utf8_seq(p + i, n - i);
    if (k == 0 || (k == 1 && p[i] == 0)) {
      memcpy(out + o, "\xef\xbf\xbd", 3); /* NUL too: C strings end there */
      o += 3;
      *replaced = true;
      i += 1;
    } else {
      memcpy(out + o, p + i, k);
      o += k;
      i += k;
    }
  }
  out[o] = '\0';
  return out;
}

void report_add_wire_string(cJSON *obj, const char *key, const uint8_t *p, size_t n) {
  bool replaced = false;
  char *s = report_utf8(p ? p : (const uint8_t *)"", p ? n : 0, &replaced);
  if (!s)
    return;
  cJSON_AddStringToObject(obj, key, s);
  free(s);
  if (replaced) {
    char flag[96];
    snprintf(flag, sizeof(flag), "%s_invalid_utf8", key);
    cJSON_AddTrueToObject(obj, flag);
  }
}

void report_add_wire_item(cJSON *array, const uint8_t *p, size_t n) {
  bool replaced = false;
  char *s = report_utf8(p ? p : (const uint8_t *)"", p ? n : 0, &replaced);
  if (s)
    cJSON_AddItemToArray(array, cJSON_CreateString(s));
  free(s);
}
