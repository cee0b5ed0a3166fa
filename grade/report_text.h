/*
 * grade/report_text.h - between report_text.c (the summary) and
 * report_text_detail.c (each server in detail); private to grade/.
 */
#ifndef TLSGRADE_GRADE_REPORT_TEXT_H
#define TLSGRADE_GRADE_REPORT_TEXT_H

#include "grade/report.h"

/* The width the detail's lines keep to where they can (a long key or file
 * name is never cut). */
#define REPORT_TEXT_WIDTH 80

struct report_text_style {
  bool color;
  bool verbose;                              /* every unknown check on its own line */
  const struct report_clients_view *clients; /* NULL: no client seen */
};

/* letter padded to width, coloured when st says so. */
void report_text_grade(FILE *out, const struct report_text_style *st, const char *letter,
                       int width);
/* " (seen N time(s), e.g. FILE:FRAME)" and the line's end. */
void report_text_seen(FILE *out, const struct ev_fact *f);
/* One server in detail. */
void report_text_server(FILE *out, const struct grade_result *r,
                        const struct report_text_style *st);

#endif
