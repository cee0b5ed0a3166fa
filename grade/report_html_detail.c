/*
 * grade/report_html_detail.c - blocks of a server's section in the HTML
 * report, the same as the text report's detail: the certificate chains as
 * sent (each certificate's subject, SAN, issuer, validity, key, signature
 * and SHA-256), the trust verdict with the store that decided it, the OCSP
 * staple, and the protocols and cipher suites seen with their handshake
 * counts and earliest frames.  Every string from the evidence goes
 * through report_html_puts; the tables scroll in their own box
 * (<div class="scroll">) so that the page never scrolls sideways.
 */
#include "grade/report.h"

#include <stdlib.h>
#include <string.h>

/* "<code>FILE:FRAME</code>" of f's earliest sighting ("?" without one). */
static void put_sample(FILE *out, const struct ev_fact *f) {
  char *where = f->sample.file ? report_sample(&f->sample) : NULL;
  fputs("<code>", out);
  report_html_puts(out, where ? where : "?");
  fputs("</code>", out);
  free(where);
}

static void put_times(FILE *out, uint64_t n) {
  report_put_uint(out, n);
  fputs(n == 1 ? " time" : " times", out);
}

/* A row of a certificate's table: its label and its value as code. */
static void put_row(FILE *out, const char *label, const char *value) {
  if (!value)
    return;
  fprintf(out, "<tr><th scope=\"row\">%s</th><td><code>", label);
  report_html_puts(out, value);
  fputs("</code></td></tr>\n", out);
}

/* The validity "A..B" (cert_sent.c) as two dates in UTC. */
static void put_validity(FILE *out, const char *valid) {
  const char *dots = valid ? strstr(valid, "..") : NULL;
  if (!dots) {
    put_row(out, "valid", valid);
    return;
  }
  char before[EV_KEY_MAX];
  snprintf(before, sizeof before, "%.*s", (int)(dots - valid), valid);
  fputs("<tr><th scope=\"row\">valid</th><td>not before <time>", out);
  report_html_puts(out, before);
  fputs("</time> UTC, not after <time>", out);
  report_html_puts(out, dots + 2);
  fputs("</time> UTC</td></tr>\n", out);
}

static void put_cert(FILE *out, size_t index, const struct report_cert *c) {
  fprintf(out, "<tbody class=\"cert\"><tr><th scope=\"rowgroup\" colspan=\"2\">[%zu]%s</th></tr>\n",
          index, index ? "" : " leaf");
  if (c->unreadable) {
    put_row(out, "unreadable", c->unreadable);
  } else {
    put_row(out, "subject", c->subject ? c->subject : "?");
    put_row(out, "SAN", c->san);
    put_row(out, "issuer", c->issuer ? c->issuer : "?");
    put_validity(out, c->valid);
    put_row(out, "key", c->key ? c->key : "?");
    put_row(out, "signature", c->sig ? c->sig : "?");
  }
  put_row(out, "SHA-256", c->sha256);
  fputs("</tbody>\n", out);
}

static void put_chain(FILE *out, const struct report_chain *ch, size_t i, size_t n) {
  fputs("<p class=\"chain\">Chain", out);
  if (n > 1)
    fprintf(out, " %zu of %zu", i + 1, n);
  fputs(" as sent: ", out);
  report_put_uint(out, ch->length);
  fputs(ch->length == 1 ? " certificate, seen " : " certificates, seen ", out);
  put_times(out, ch->seen->count);
  fputs(", first at ", out);
  put_sample(out, ch->seen);
  fputs("</p>\n<div class=\"scroll\"><table class=\"chain\">\n", out);
  for (size_t k = 0; k < ch->n_certs; k++)
    put_cert(out, k, &ch->certs[k]);
  fputs("</table></div>\n", out);
  if (ch->length > ch->n_certs) {
    uint64_t more = ch->length - ch->n_certs;
    fputs("<p class=\"muted\">", out);
    report_put_uint(out, more);
    fprintf(out, " more certificate%s sent, not kept in the evidence (at most %d).</p>\n",
            more == 1 ? "" : "s", EV_SENT_CERTS);
  }
}

/* What the evidence says of the certificate when it holds no chain:
 * the leaf's digest alone, or why it was not seen.  Returns whether a
 * certificate was seen (then its trust is worth a line). */
static bool no_chain(FILE *out, const struct ev_endpoint *ep) {
  const struct ev_fact *leaf = ev_first_of(ep, EV_CERT_LEAF);
  if (leaf && leaf->typed.id == EV_CERT_LEAF) {
    fputs("<p>Leaf SHA-256 <code>", out);
    report_html_puts(out, ev_fact_name(leaf));
    fputs("</code> <span class=\"muted\">(the chain is not in this evidence)</span></p>\n", out);
    return true;
  }
  fputs(ev_find_id(ep, EV_TLS13_CERT_HIDDEN, NULL)
            ? "<p class=\"muted\">Not seen (TLS 1.3 encrypts it: give a key log, "
              "<code>--keylog</code>).</p>\n"
            : "<p class=\"muted\">Not seen.</p>\n",
        out);
  return false;
}

void report_html_certificate(FILE *out, const struct ev_endpoint *ep) {
  fputs("<h3>Certificate</h3>\n", out);
  struct report_chain chains[EV_SENT_CHAINS];
  size_t n = report_chains(ep, chains);
  for (size_t i = 0; i < n; i++)
    put_chain(out, &chains[i], i, n);
  const struct ev_fact *over = ev_find_id(ep, EV_SENT_CHAINS_OVER_CAP, NULL);
  if (over) {
    fputs("<p class=\"muted\">Other chains were sent ", out);
    put_times(out, over->count);
    fprintf(out, ", not kept in the evidence (at most %d chains per server).</p>\n",
            EV_SENT_CHAINS);
  }
  if (!n && !no_chain(out, ep))
    return;
  char words[1024], store[600];
  report_trust_words(ep, words, sizeof words);
  report_trust_store(ep, store, sizeof store);
  fputs("<p class=\"trust\">Trust: ", out);
  report_html_puts(out, words);
  if (store[0]) {
    fputs(" (decided with <code>", out);
    report_html_puts(out, store);
    fputs("</code>)", out);
  }
  report_ocsp_words(ep, words, sizeof words);
  fputs("<br>OCSP staple: ", out);
  report_html_puts(out, words);
  fputs("</p>\n", out);
}

void report_html_seen(FILE *out, const struct ev_endpoint *ep, enum ev_fact_id id,
                      const char *title, const char *column) {
  size_t n, shown = 0;
  const struct ev_fact *const *facts = ev_facts_of(ep, id, &n);
  const char *file = report_seen_file(ep, id);
  for (size_t i = 0; i < n; i++) {
    const struct ev_fact *f = facts[i];
    if (f->typed.id != id)
      continue;
    if (!shown++) {
      fprintf(out, "<h3>%s seen</h3>\n", title);
      if (file) {
        fputs("<p>First frames in <code>", out);
        report_html_puts(out, file);
        fputs("</code>.</p>\n", out);
      }
      fprintf(out,
              "<div class=\"scroll\"><table class=\"seen\">\n<thead><tr><th scope=\"col\">%s</th>"
              "<th scope=\"col\">Handshakes</th><th scope=\"col\">First frame</th></tr></thead>\n"
              "<tbody>\n",
              column);
    }
    fputs("<tr><td><code class=\"id\">", out);
    report_html_puts(out, ev_fact_name(f));
    fputs("</code></td><td class=\"num\">", out);
    report_put_uint(out, f->count);
    if (f->aborted) {
      fputs(" <span class=\"muted\">(", out);
      report_put_uint(out, f->aborted);
      fputs(" aborted)</span>", out);
    }
    fputs("</td><td>", out);
    if (file) {
      fputs("frame ", out);
      report_put_uint(out, f->sample.frame);
    } else {
      put_sample(out, f);
    }
    fputs("</td></tr>\n", out);
  }
  if (shown)
    fputs("</tbody>\n</table></div>\n", out);
}
