/*
 * dissect/starttls.c - a connection that began in clear text: does it
 * switch to TLS, and at which byte of each direction?
 *
 * Only after the client asked for TLS and the server said yes, each in its
 * protocol's own words: SMTP STARTTLS / 220 (RFC 3207 4), IMAP tagged
 * STARTTLS / tagged OK (RFC 9051 6.2.1), POP3 STLS / +OK (RFC 2595 4), FTP
 * AUTH TLS / 234 (RFC 4217 4), XMPP <starttls/> / <proceed/> (RFC 6120
 * 5.4.2), the LDAP StartTLS extended operation / extendedResp with
 * resultCode success (RFC 4511 4.14), PostgreSQL SSLRequest / 'S' (protocol
 * 53.2.10), NNTP STARTTLS / 382 (RFC 4642 2.2), ManageSieve STARTTLS / OK
 * (RFC 5804 2.2).  TLS then starts at the first byte after the request (the
 * client waits for the answer) and at the first byte after the answer (the
 * server waits for the ClientHello): a hello anywhere else in clear text is
 * content, however much it looks like TLS.  A refusal (SMTP 454, PostgreSQL
 * 'N', ...) keeps the connection in clear text.
 *
 * The protocol is told by who speaks first: a server greeting (SMTP, FTP,
 * NNTP, POP3, IMAP, ManageSieve: lines), or the client's first byte ('<'
 * XMPP, a BER SEQUENCE LDAP, a length-prefixed SSLRequest PostgreSQL).  A
 * client that speaks first with anything else (HTTP) never switches.
 *
 * Each direction is cut into units (a line, an XML tag, a BER message, a
 * PostgreSQL negotiation message); only the first UNIT_HEAD bytes of a unit
 * are kept, the rest is counted.  Every byte is looked at once, and at most
 * tls_limits.max_starttls_bytes per direction: past it the connection is
 * given up, and counted (cap_starttls).
 */
#include "dissect/conn.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define UNIT_HEAD 64 /* bytes kept of each unit: commands and replies fit */

enum family {
  FAM_UNDECIDED,
  FAM_LINES, /* the server spoke first: a greeting, then lines both ways */
  FAM_XMPP,  /* XML: a unit ends at '>' */
  FAM_LDAP,  /* BER messages */
  FAM_PG,    /* 8-byte requests, 1-byte answers */
  FAM_DEAD,  /* no switch can follow */
};

enum greeting { GREET_NONE, GREET_220, GREET_NNTP, GREET_POP3, GREET_IMAP, GREET_SIEVE };

enum state { ST_IDLE, ST_REQUESTED, ST_ACCEPTED };

enum kind { K_SMTP, K_FTP, K_NNTP, K_POP3, K_IMAP, K_SIEVE, K_XMPP, K_LDAP, K_PG, K_PG_GSS };

static const char *const KIND_NAME[] = {"smtp",  "ftp",  "nntp", "pop3",       "imap",
                                        "sieve", "xmpp", "ldap", "postgresql", "postgresql"};

struct unit {
  uint8_t head[UNIT_HEAD];
  size_t head_len;
  uint64_t len;  /* bytes of the unit so far */
  uint64_t want; /* LDAP, PostgreSQL: the unit's length once known; 0 unknown */
  uint8_t prev;  /* the last byte added */
  bool broken;   /* bytes of it were lost: not read, only its end looked for */
  uint8_t last;  /* the byte before the terminator (XMPP: '/' closes the element) */
};

/* Owned by the connection (tls_conn.clear) until both directions switched
 * or no switch can follow. */
struct tls_clear {
  enum family family;
  enum greeting greeting;
  enum state state;
  enum kind kind;
  uint8_t tag[32]; /* IMAP command tag, LDAP messageID contents */
  size_t tag_len;
  bool xml_open[2];    /* XMPP: the request / answer element ends at its end tag */
  bool boundary[2];    /* the request (c2s) or answer (s2c) ended at the last byte seen */
  bool client_tls;     /* the client's direction switched */
  unsigned pg_units;   /* PostgreSQL requests seen */
  struct unit unit[2]; /* the unit in progress, per direction */
};

static const char LDAP_STARTTLS_OID[] = "1.3.6.1.4.1.1466.20037"; /* RFC 4511 4.14.1 */
static const uint8_t PG_SSLREQUEST[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
static const uint8_t PG_GSSENCREQUEST[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30};

void tls_starttls_free(struct tls_clear *cl) {
  free(cl);
}

/* No switch can follow: both directions stay clear text. */
static void give_up(struct tls_conn *c) {
  for (int dir = 0; dir < 2; dir++)
    if (c->dir[dir].mode == TLS_MODE_PLAINTEXT || c->dir[dir].mode == TLS_MODE_UNKNOWN)
      c->dir[dir].mode = TLS_MODE_NOT_TLS;
  tls_starttls_free(c->clear);
  c->clear = NULL;
}

/* Lines and XML tags resynchronise at their next terminator: the unit the
 * bytes were lost from is not read.  BER and PostgreSQL framing, a
 * greeting or a switch point do not survive lost bytes. */
void tls_starttls_gap(struct tls_conn *c, int dir) {
  struct tls_clear *cl = c->clear;
  if (!cl || (cl->family != FAM_LINES && cl->family != FAM_XMPP) || cl->boundary[dir] ||
      (cl->family == FAM_LINES && cl->greeting == GREET_NONE)) {
    give_up(c);
    return;
  }
  memset(&cl->unit[dir], 0, sizeof(cl->unit[dir]));
  cl->unit[dir].broken = true;
}

/* ---- reading a unit's head ---- */

/* The head without the line end and trailing blanks. */
static size_t trimmed(const struct unit *u) {
  size_t n = u->head_len;
  while (n && (u->head[n - 1] == '\r' || u->head[n - 1] == '\n' || u->head[n - 1] == ' ' ||
               u->head[n - 1] == '\t'))
    n--;
  return n;
}

static bool whole(const struct unit *u) {
  return u->len == u->head_len;
}

/* The head starts with word (case-insensitive). */
static bool starts(const struct unit *u, const char *word) {
  size_t k = strlen(word);
  return u->head_len >= k && strncasecmp((const char *)u->head, word, k) == 0;
}

/* The whole line is the command (case-insensitive, RFC 5321 2.4). */
static bool line_is(const struct unit *u, const char *command) {
  size_t k = strlen(command);
  return whole(u) && trimmed(u) == k && strncasecmp((const char *)u->head, command, k) == 0;
}

/* A reply line with this 3-digit code that ends the reply ("220 ...", not
 * the "220-" of a continued one, RFC 5321 4.2.1). */
static bool final_reply(const struct unit *u, char first) {
  return u->head_len >= 3 && u->head[0] == first && u->head[1] >= '0' && u->head[1] <= '9' &&
         u->head[2] >= '0' && u->head[2] <= '9' &&
         (u->head_len == 3 || u->head[3] == ' ' || u->head[3] == '\r' || u->head[3] == '\n');
}

static bool final_code(const struct unit *u, const char *code) {
  return final_reply(u, code[0]) && memcmp(u->head, code, 3) == 0;
}

/* A word followed by a blank or the line end: "OK", "OK ...", not "OKAY". */
static bool word_at(const struct unit *u, size_t at, const char *word) {
  size_t k = strlen(word);
  if (u->head_len < at + k || strncasecmp((const char *)u->head + at, word, k) != 0)
    return false;
  return u->head_len == at + k || u->head[at + k] == ' ' || u->head[at + k] == '\r' ||
         u->head[at + k] == '\n';
}

/* ---- line protocols ---- */

static enum greeting greeting_of(const struct unit *u) {
  if (final_code(u, "220") || (u->head_len >= 4 && memcmp(u->head, "220-", 4) == 0))
    return GREET_220; /* SMTP (RFC 5321 4.3.1) or FTP (RFC 959 5.4) */
  if (final_code(u, "200") || final_code(u, "201"))
    return GREET_NNTP; /* RFC 3977 5.1.1 */
  if (word_at(u, 0, "+OK"))
    return GREET_POP3; /* RFC 1939 4 */
  if (starts(u, "* OK"))
    return GREET_IMAP; /* RFC 9051 7.1.1; PREAUTH allows no STARTTLS */
  if (u->head_len && (u->head[0] == '"' || word_at(u, 0, "OK")))
    return GREET_SIEVE; /* RFC 5804 1.7: the capabilities, then OK */
  return GREET_NONE;
}

/* An IMAP command "TAG STARTTLS" (RFC 9051 6.2.1): keep the tag. */
static bool imap_request(struct tls_clear *cl, const struct unit *u) {
  size_t n = trimmed(u);
  const uint8_t *sp = memchr(u->head, ' ', n);
  size_t tag = sp ? (size_t)(sp - u->head) : 0;
  if (!whole(u) || tag == 0 || tag > sizeof(cl->tag) || n - tag - 1 != 8 ||
      strncasecmp((const char *)sp + 1, "STARTTLS", 8) != 0)
    return false;
  memcpy(cl->tag, u->head, tag);
  cl->tag_len = tag;
  return true;
}

/* The client's line: a request for TLS in the greeting's protocol? */
static bool line_request(struct tls_clear *cl, const struct unit *u) {
  switch (cl->greeting) {
  case GREET_220:
    if (line_is(u, "STARTTLS"))
      return cl->kind = K_SMTP, true;
    if (line_is(u, "AUTH TLS") || line_is(u, "AUTH SSL") || line_is(u, "AUTH TLS-C") ||
        line_is(u, "AUTH TLS-P"))
      return cl->kind = K_FTP, true; /* RFC 4217 4, and the older names of its 17 */
    return false;
  case GREET_NNTP:
    return line_is(u, "STARTTLS") && (cl->kind = K_NNTP, true);
  case GREET_POP3:
    return line_is(u, "STLS") && (cl->kind = K_POP3, true);
  case GREET_IMAP:
    return imap_request(cl, u) && (cl->kind = K_IMAP, true);
  case GREET_SIEVE:
    return line_is(u, "STARTTLS") && (cl->kind = K_SIEVE, true);
  case GREET_NONE:
    break;
  }
  return false;
}

/* The server's answer to the request: 1 yes, -1 no, 0 another line. */
static int line_answer(const struct tls_clear *cl, const struct unit *u) {
  bool refused = final_reply(u, '4') || final_reply(u, '5');
  switch (cl->kind) {
  case K_SMTP: /* RFC 3207 4: 220, or 454 / 501 */
    return final_code(u, "220") ? 1 : refused ? -1 : 0;
  case K_FTP: /* RFC 4217 4: 234, or 431 / 504 / 534 ... */
    return final_code(u, "234") ? 1 : refused ? -1 : 0;
  case K_NNTP: /* RFC 4642 2.2: 382, or 502 / 580 */
    return final_code(u, "382") ? 1 : refused ? -1 : 0;
  case K_POP3: /* RFC 2595 4: +OK or -ERR */
    return word_at(u, 0, "+OK") ? 1 : word_at(u, 0, "-ERR") ? -1 : 0;
  case K_SIEVE: /* RFC 5804 2.2: OK, or NO / BYE */
    return word_at(u, 0, "OK") ? 1 : word_at(u, 0, "NO") || word_at(u, 0, "BYE") ? -1 : 0;
  case K_IMAP: /* RFC 9051 6.2.1: the tagged OK; NO or BAD refuse */
    if (u->head_len <= cl->tag_len || memcmp(u->head, cl->tag, cl->tag_len) != 0 ||
        u->head[cl->tag_len] != ' ')
      return starts(u, "* BYE") ? -1 : 0;
    return word_at(u, cl->tag_len + 1, "OK")                                         ? 1
           : word_at(u, cl->tag_len + 1, "NO") || word_at(u, cl->tag_len + 1, "BAD") ? -1
                                                                                     : 0;
  default:
    return 0;
  }
}

/* ---- XMPP (RFC 6120 5.4.2) ---- */

/* The tag after blanks: "<starttls ...", "</proceed>". */
static bool xml_tag(const struct unit *u, const char *name) {
  size_t i = 0;
  while (i < u->head_len &&
         (u->head[i] == ' ' || u->head[i] == '\t' || u->head[i] == '\r' || u->head[i] == '\n'))
    i++;
  size_t k = strlen(name);
  if (u->head_len < i + k + 1 || memcmp(u->head + i, name, k) != 0)
    return false;
  uint8_t after = u->head[i + k];
  return after == ' ' || after == '/' || after == '>' || after == '\t' || after == '\r' ||
         after == '\n';
}

/* An element that ends in this tag (<x/>) or at its end tag (<x>...</x>):
 * 1 it ended, 0 open, -1 not this element. */
static int xml_element(struct tls_clear *cl, int dir, const struct unit *u, const char *open,
                       const char *close) {
  if (cl->xml_open[dir]) {
    if (!xml_tag(u, close))
      return 0;
    cl->xml_open[dir] = false;
    return 1;
  }
  if (!xml_tag(u, open))
    return -1;
  if (u->last == '/')
    return 1;
  cl->xml_open[dir] = true;
  return 0;
}

/* ---- LDAP (RFC 4511 4.2, 4.12, 4.14) ---- */

/* A BER length (X.690 8.1.3), definite, at most 4 bytes. */
static bool ber_length(struct rd *r, uint64_t *len) {
  uint8_t b = rd_u8(r);
  if (b < 0x80) {
    *len = b;
    return !r->err;
  }
  if (b < 0x81 || b > 0x84)
    return false;
  *len = 0;
  for (int i = 0; i < (b & 0x7f); i++)
    *len = *len << 8 | rd_u8(r);
  return !r->err;
}

/* LDAPMessage ::= SEQUENCE { messageID INTEGER, protocolOp CHOICE {...} }:
 * the messageID's contents and the reader at the operation's contents. */
static bool ldap_op(struct rd *r, uint8_t op_tag, struct rd *id) {
  uint64_t len;
  if (rd_u8(r) != 0x30 || !ber_length(r, &len) || rd_u8(r) != 0x02 || !ber_length(r, &len) ||
      len < 1 || len > 4)
    return false;
  *id = rd_sub(r, (size_t)len);
  return rd_u8(r) == op_tag && ber_length(r, &len) && !r->err && !id->err;
}

/* ExtendedRequest [APPLICATION 23] whose requestName [0] is StartTLS. */
static bool ldap_request(struct tls_clear *cl, const struct unit *u) {
  struct rd r = rd_make(u->head, u->head_len), id;
  uint64_t len;
  if (!ldap_op(&r, 0x77, &id) || rd_u8(&r) != 0x80 || !ber_length(&r, &len) ||
      len != strlen(LDAP_STARTTLS_OID))
    return false;
  const uint8_t *oid = rd_bytes(&r, (size_t)len);
  if (!oid || memcmp(oid, LDAP_STARTTLS_OID, (size_t)len) != 0)
    return false;
  cl->tag_len = id.n;
  memcpy(cl->tag, id.p, id.n);
  cl->kind = K_LDAP;
  return true;
}

/* ExtendedResponse [APPLICATION 24] to the request's messageID: its
 * LDAPResult's resultCode, success (0) or not. */
static int ldap_answer(const struct tls_clear *cl, const struct unit *u) {
  struct rd r = rd_make(u->head, u->head_len), id;
  uint64_t len;
  if (!ldap_op(&r, 0x78, &id) || id.n != cl->tag_len || memcmp(id.p, cl->tag, id.n) != 0 ||
      rd_u8(&r) != 0x0a || !ber_length(&r, &len) || len != 1)
    return 0;
  uint8_t code = rd_u8(&r);
  return r.err ? 0 : code == 0 ? 1 : -1;
}

/* The length of the BER message in u, once its header is in: 0 until then,
 * false when it is not one. */
static bool ldap_framing(struct unit *u) {
  struct rd r = rd_make(u->head, u->head_len);
  uint64_t len;
  if (u->head_len >= 1 && u->head[0] != 0x30)
    return false;
  if (u->head_len < 2 ||
      (u->head[1] >= 0x81 && u->head[1] <= 0x84 && u->head_len < 2 + (size_t)(u->head[1] & 0x7f)))
    return true;
  rd_u8(&r);
  if (!ber_length(&r, &len))
    return false;
  u->want = (u->head_len - r.n) + len;
  return u->want > 0;
}

/* ---- units ---- */

static void unit_add(struct unit *u, const uint8_t *p, size_t k) {
  size_t room = UNIT_HEAD - u->head_len < k ? UNIT_HEAD - u->head_len : k;
  memcpy(u->head + u->head_len, p, room);
  u->head_len += room;
  u->len += k;
  if (k)
    u->prev = p[k - 1];
}

/* The bytes of p that belong to dir's unit in progress: how many; *done
 * when they end it. */
static size_t unit_take(struct tls_clear *cl, int dir, const uint8_t *p, size_t n, bool *done) {
  struct unit *u = &cl->unit[dir];
  *done = false;
  if (cl->family == FAM_LINES || cl->family == FAM_XMPP) {
    const uint8_t *end = memchr(p, cl->family == FAM_XMPP ? '>' : '\n', n);
    size_t k = end ? (size_t)(end - p) + 1 : n;
    if (end) {
      *done = true;
      u->last = k >= 2 ? p[k - 2] : u->prev;
    }
    unit_add(u, p, k);
    return k;
  }
  size_t used = 0;
  if (cl->family == FAM_PG)
    u->want = dir == FLOW_C2S ? 8 : 1;
  while (!u->want && used < n) { /* a BER header, a byte at a time */
    unit_add(u, p + used++, 1);
    if (!ldap_framing(u)) {
      cl->family = FAM_DEAD;
      return used;
    }
  }
  if (!u->want)
    return used;
  uint64_t rest = u->want - u->len;
  size_t k = rest < n - used ? (size_t)rest : n - used;
  unit_add(u, p + used, k);
  *done = u->len == u->want;
  return used + k;
}

enum step { STEP_NONE, STEP_REQUEST, STEP_ACCEPT, STEP_REFUSE };

/* A unit of the client ended: is it the request for TLS? */
static enum step client_unit(struct tls_clear *cl, const struct unit *u) {
  if (cl->state != ST_IDLE)
    return STEP_NONE;
  switch (cl->family) {
  case FAM_LINES:
    return line_request(cl, u) ? STEP_REQUEST : STEP_NONE;
  case FAM_XMPP:
    if (xml_element(cl, FLOW_C2S, u, "<starttls", "</starttls") != 1)
      return STEP_NONE;
    cl->kind = K_XMPP;
    return STEP_REQUEST;
  case FAM_LDAP:
    return ldap_request(cl, u) ? STEP_REQUEST : STEP_NONE;
  case FAM_PG:
    /* The first message, or the second after a GSSENCRequest refused
     * (PostgreSQL protocol 53.2.10, 53.2.11); anything else is the
     * startup message: the connection stays as it is. */
    cl->pg_units++;
    if (memcmp(u->head, PG_SSLREQUEST, 8) == 0 && cl->pg_units <= 2)
      return cl->kind = K_PG, STEP_REQUEST;
    if (memcmp(u->head, PG_GSSENCREQUEST, 8) == 0 && cl->pg_units == 1)
      return cl->kind = K_PG_GSS, STEP_REQUEST;
    cl->family = FAM_DEAD;
    return STEP_NONE;
  default:
    return STEP_NONE;
  }
}

static enum step of_answer(int answer) {
  return answer > 0 ? STEP_ACCEPT : answer < 0 ? STEP_REFUSE : STEP_NONE;
}

/* A unit of the server ended: the greeting, or the answer to the request? */
static enum step server_unit(struct tls_clear *cl, const struct unit *u) {
  switch (cl->family) {
  case FAM_LINES:
    if (cl->greeting == GREET_NONE) {
      cl->greeting = greeting_of(u);
      if (cl->greeting == GREET_NONE)
        cl->family = FAM_DEAD; /* not a protocol with STARTTLS */
      return STEP_NONE;
    }
    return cl->state == ST_REQUESTED ? of_answer(line_answer(cl, u)) : STEP_NONE;
  case FAM_XMPP:
    if (cl->state != ST_REQUESTED)
      return STEP_NONE;
    if (!cl->xml_open[FLOW_S2C] && xml_tag(u, "<failure"))
      return STEP_REFUSE; /* RFC 6120 5.4.2.2 */
    return xml_element(cl, FLOW_S2C, u, "<proceed", "</proceed") == 1 ? STEP_ACCEPT : STEP_NONE;
  case FAM_LDAP:
    return cl->state == ST_REQUESTED ? of_answer(ldap_answer(cl, u)) : STEP_NONE;
  case FAM_PG:
    if (cl->state == ST_REQUESTED && cl->kind == K_PG && u->head[0] == 'S')
      return STEP_ACCEPT;
    if (cl->state == ST_REQUESTED && cl->kind == K_PG_GSS && u->head[0] == 'N')
      return STEP_REFUSE;  /* an SSLRequest may follow */
    cl->family = FAM_DEAD; /* 'N' to SSLRequest, 'G', an error: no TLS */
    return STEP_NONE;
  default:
    return STEP_NONE;
  }
}

/* ---- the scan ---- */

/* The protocol family, from the first bytes of the connection (dir spoke
 * first). */
static struct tls_clear *clear_new(int dir, const uint8_t *p, size_t n) {
  struct tls_clear *cl = calloc(1, sizeof(*cl));
  if (!cl)
    return NULL;
  if (dir == FLOW_S2C)
    cl->family = FAM_LINES;
  else if (n && p[0] == '<')
    cl->family = FAM_XMPP;
  else if (n && p[0] == 0x30)
    cl->family = FAM_LDAP;
  else if (n && p[0] == 0x00)
    cl->family = FAM_PG;
  else
    cl->family = FAM_DEAD;
  return cl;
}

/* The start of a TLS record carrying a ClientHello (RFC 5246 6.2.1, 7.4),
 * as far as p goes (a segment may hold less than the 6 bytes to tell). */
static bool client_hello_start(const uint8_t *p, size_t n) {
  if (n >= 6)
    return tls_sniff_hello(rd_make(p, n), 1);
  return p[0] == TLS_CT_HANDSHAKE && (n < 2 || p[1] == 3) && (n < 3 || p[2] <= 4);
}

/* TLS starts at p[at] in dir. */
static bool switch_here(struct tls_conn *c, int dir, size_t at, size_t *tls_from) {
  struct tls_clear *cl = c->clear;
  *tls_from = at;
  if (dir == FLOW_C2S) {
    cl->client_tls = true;
    c->s.starttls = KIND_NAME[cl->kind];
  } else {
    tls_starttls_free(cl);
    c->clear = NULL;
  }
  return true;
}

/* A unit ended (more: bytes follow it in the same delivery): move the
 * exchange on. */
static void step(struct tls_clear *cl, enum step st, bool more) {
  switch (st) {
  case STEP_REQUEST:
    /* The client waits for the answer (RFC 3207 4, RFC 9051 6.2.1, ...):
     * one that goes on talking did not ask for TLS here. */
    cl->state = more ? ST_IDLE : ST_REQUESTED;
    cl->boundary[FLOW_C2S] = !more;
    break;
  case STEP_ACCEPT:
    /* The server waits for the ClientHello: bytes right after its yes
     * are not its TLS. */
    cl->state = ST_ACCEPTED;
    cl->boundary[FLOW_S2C] = true;
    if (more)
      cl->family = FAM_DEAD;
    break;
  case STEP_REFUSE:
    cl->state = ST_IDLE;
    cl->boundary[FLOW_C2S] = false;
    cl->xml_open[FLOW_C2S] = cl->xml_open[FLOW_S2C] = false;
    break;
  case STEP_NONE:
    break;
  }
}

bool tls_starttls_scan(struct tls_conn *c, int dir, const uint8_t *p, size_t n, size_t *tls_from) {
  struct tls_dir *d = &c->dir[dir];
  if (!c->clear && !(c->clear = clear_new(dir, p, n))) {
    give_up(c);
    return false;
  }
  struct tls_clear *cl = c->clear;
  if (cl->boundary[dir] && n) {
    cl->boundary[dir] = false;
    /* After the yes: the client's ClientHello, then the server's answer
     * to it; anything else there is no TLS of theirs. */
    if (cl->state == ST_ACCEPTED && dir == FLOW_C2S && client_hello_start(p, n))
      return switch_here(c, dir, 0, tls_from);
    if (cl->state == ST_ACCEPTED && dir == FLOW_S2C && cl->client_tls && c->s.has_client_hello)
      return switch_here(c, dir, 0, tls_from);
    if (cl->state == ST_ACCEPTED)
      cl->family = FAM_DEAD;
    else if (dir == FLOW_C2S)
      cl->state = ST_IDLE; /* the client spoke before the answer */
  }
  size_t i = 0;
  while (i < n && cl->family != FAM_DEAD) {
    bool done;
    i += unit_take(cl, dir, p + i, n - i, &done);
    if (!done)
      continue;
    struct unit *u = &cl->unit[dir];
    enum step st = u->broken         ? STEP_NONE
                   : dir == FLOW_C2S ? client_unit(cl, u)
                                     : server_unit(cl, u);
    memset(u, 0, sizeof(*u));
    step(cl, st, i < n);
  }
  d->plaintext_seen += n;
  if (cl->family != FAM_DEAD && d->plaintext_seen > c->lim.max_starttls_bytes) {
    c->s.cap_starttls = 1;
    give_up(c);
  } else if (cl->family == FAM_DEAD)
    give_up(c);
  return false;
}
