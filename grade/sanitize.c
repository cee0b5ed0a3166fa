/*
 * grade/sanitize.c - strings from the wire are attacker-chosen: SNI, ALPN,
 * certificate names.  They are kept raw with their length and made safe
 * here, at output time, once per format.
 */
#include "grade/grade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *report_utf8(const uint8_t *p, size_t n, bool *replaced) {
  /* Worst case: every byte becomes the 3-byte U+FFFD. */
  char *out = malloc(n * 3 + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  *replaced = false;
  for (size_t i = 0; i < n;) {
    if (p[i] && p[i] < 0x80) { /* ASCII but NUL: itself (what cap_utf8_seq says) */
      out[o++] = (char)p[i++];
      continue;
    }
    uint32_t cp;
    size_t k = cap_utf8_seq(p + i, n - i, &cp);
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
