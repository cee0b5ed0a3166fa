/*
 * grade/grade.h - the one public header of grading and reports.
 *
 *   sanitize.c    every attacker-chosen string passes here, per format
 *   hs_json.c     --handshakes: one JSON object per TLS connection
 */
#ifndef TLSGRADE_GRADE_H
#define TLSGRADE_GRADE_H

#include "dissect/dissect.h"

#include <cjson/cJSON.h>

/* ---- sanitising (sanitize.c) ---- */

/* Wire bytes as a valid UTF-8 string for JSON (cJSON escapes control
 * characters): invalid sequences become U+FFFD and *replaced is set.
 * Returns a malloc'd string (caller frees), NULL when out of memory. */
char *report_utf8(const uint8_t *p, size_t n, bool *replaced);
/* Add p[0..n) to obj under key, sanitised; adds "<key>_invalid_utf8":
 * true when bytes were replaced. */
void report_add_wire_string(cJSON *obj, const char *key, const uint8_t *p, size_t n);

/* ---- --handshakes (hs_json.c) ---- */

/* Who talked: filled by the caller from the flow. */
struct report_conn {
  const char *file;   /* input name of the first fact's file */
  const char *client; /* "ip:port" */
  const char *server;
  const char **files; /* input names by file_index */
  size_t n_files;
};

/* One JSON object (Zeek ssl.log-like) for a connection's session; NULL when
 * the connection showed no TLS.  Caller owns the result. */
cJSON *report_handshake_json(const struct tls_session *s, const struct report_conn *conn);

#endif
