/*
 * dissect/starttls.c - the plaintext before TLS: which protocol asked for
 * STARTTLS, and where the TLS records begin.
 *
 * SMTP (RFC 3207), IMAP (RFC 2595, 9051), POP3 STLS (RFC 2595), FTP AUTH TLS
 * (RFC 4217), XMPP <starttls/> (RFC 6120), LDAP StartTLS extended operation
 * (RFC 4511 4.14), PostgreSQL SSLRequest, NNTP (RFC 4642), ManageSieve
 * (RFC 5804).  The switch point is a record that starts a hello: found at a
 * segment start, after a line end, or anywhere once a STARTTLS request was
 * seen.
 */
#include "dissect/conn.h"

#include <string.h>
#include <strings.h>

#define PLAINTEXT_LIMIT (256 * 1024) /* bytes scanned before giving up */

static const char LDAP_STARTTLS_OID[] = "1.3.6.1.4.1.1466.20037";
static const uint8_t PG_SSLREQUEST[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};

static bool contains(const uint8_t *p, size_t n, const char *word) {
  size_t k = strlen(word);
  for (size_t i = 0; k <= n && i <= n - k; i++)
    if (strncasecmp((const char *)p + i, word, k) == 0)
      return true;
  return false;
}

static bool port_is(uint16_t port, uint16_t a, uint16_t b, uint16_t c) {
  return port == a || port == b || port == c;
}

/* The protocol behind a STARTTLS request seen in the client's bytes. */
static const char *protocol_of(const struct tls_conn *c, const uint8_t *p, size_t n) {
  uint16_t port = c->server_port;
  if (n >= 8 && memcmp(p, PG_SSLREQUEST, 8) == 0)
    return "postgresql";
  if (contains(p, n, LDAP_STARTTLS_OID))
    return "ldap";
  if (contains(p, n, "<starttls"))
    return "xmpp";
  if (contains(p, n, "AUTH TLS") || contains(p, n, "AUTH SSL"))
    return "ftp";
  if (n >= 4 && strncasecmp((const char *)p, "STLS", 4) == 0)
    return "pop3";
  if (!contains(p, n, "STARTTLS"))
    return NULL;
  if (port_is(port, 25, 587, 2525))
    return "smtp";
  if (port_is(port, 143, 143, 143))
    return "imap";
  if (port_is(port, 110, 110, 110))
    return "pop3";
  if (port_is(port, 119, 433, 119))
    return "nntp";
  if (port == 4190)
    return "sieve";
  /* An IMAP command is tagged ("a1 STARTTLS"); SMTP's is the verb alone. */
  return (n >= 8 && strncasecmp((const char *)p, "STARTTLS", 8) == 0) ? "smtp" : "imap";
}

size_t tls_starttls_scan(struct tls_conn *c, int dir, const uint8_t *p, size_t n) {
  struct tls_dir *d = &c->dir[dir];
  uint8_t hs_type = dir == FLOW_C2S ? 1 : 2;
  if (dir == FLOW_C2S && !c->s.starttls)
    c->s.starttls = protocol_of(c, p, n);
  bool anywhere = c->s.starttls != NULL;
  for (size_t i = 0; i < n; i++) {
    bool boundary = i == 0 || p[i - 1] == '\n' || p[i - 1] == '>' || anywhere;
    if (boundary && tls_sniff_hello(rd_make(p + i, n - i), hs_type))
      return i;
  }
  d->plaintext_seen += n;
  if (d->plaintext_seen > PLAINTEXT_LIMIT)
    d->mode = TLS_MODE_NOT_TLS;
  return n;
}
