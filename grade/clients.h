/*
 * grade/clients.h - the client inventory (clients.c), private to grade/:
 * every client a tap saw, by address and JA4, with what it offered and
 * got, and per server which JA4s connected and what each got.  Kept with
 * the evidence store (evidence.c), saved and merged with it
 * (evidence_json.c), rendered by report_clients.c.
 */
#ifndef TLSGRADE_GRADE_CLIENTS_H
#define TLSGRADE_GRADE_CLIENTS_H

#include "grade/grade.h"

/* What a client is listed for, worst first (the report's order). */
enum cl_kind {
  CL_SSL,      /* negotiated SSL 2.0 or 3.0 */
  CL_EXPORT,   /* negotiated an export suite */
  CL_NULL,     /* negotiated a suite without encryption */
  CL_RC4,      /* negotiated RC4 (RFC 7465) */
  CL_TLS10_11, /* negotiated TLS 1.0 or 1.1 (RFC 8996) */
  CL_BLOCK64,  /* negotiated a 64-bit block cipher: 3DES, DES, IDEA */
  CL_NO_FS,    /* offered no forward-secret suite (nor TLS 1.3) */
  CL_NO_AEAD,  /* offered no AEAD suite (nor TLS 1.3) */
  CL_NO_PQ,    /* offered no post-quantum group */
  CL_NO_SNI,   /* sent no server_name */
  CL_N
};
/* "ssl2_3", "export", ...: the JSON and evidence names. */
const char *cl_kind_id(enum cl_kind k);
/* "SSL 2.0/3.0 negotiated", ...: the report's words. */
const char *cl_kind_label(enum cl_kind k);

/* Where a kind was first seen: a file of the table's names (index), the
 * frame and its time. */
struct cl_at {
  uint32_t file;
  uint64_t frame;
  cap_time_us ts;
};
struct cl_mark {
  uint64_t count; /* connections that showed it; 0: never */
  struct cl_at at;
  uint8_t kind; /* enum cl_kind */
};

#define CL_IP_LEN 46  /* INET6_ADDRSTRLEN */
#define CL_JA4_LEN 40 /* as struct tls_session's */
#define CL_KX_LEN 24  /* "X25519MLKEM768", "dh2048", "rsa" */

/* One client: an address and the JA4 of its hellos.  Only the kinds it
 * showed have a mark (most clients show one or two): the struct grows by
 * one mark when a new kind appears, so that a flood of hellos from
 * distinct addresses (a client each) costs about 230 bytes a hello rather
 * than 500. */
struct cl_client {
  char ip[CL_IP_LEN];
  char ja4[CL_JA4_LEN];
  uint16_t best_offered; /* highest version offered (wire value; 0 unknown) */
  uint8_t got;           /* versions negotiated: bit cl_version_rank() */
  uint8_t n_marks;
  uint8_t worst;  /* the worst kind of its marks (CL_N: none), the report's order */
  uint64_t count; /* connections */
  struct cl_at first;
  cap_time_us last_ts;
  struct cl_mark marks[]; /* n_marks, in the order their kinds appeared */
};
/* c's mark of kind k (count 0 when it never showed it). */
const struct cl_mark *cl_mark_of(const struct cl_client *c, enum cl_kind k);

/* One server's client: (host, ip, port) of the endpoint, the JA4, and what
 * the server's hello gave it. */
struct cl_row {
  char *host; /* owned */
  char ip[CL_IP_LEN];
  uint16_t port;
  char ja4[CL_JA4_LEN];
  uint16_t version;
  uint32_t suite;
  char kx[CL_KX_LEN]; /* the group (or "dh<bits>", "rsa"; "" none) */
  uint64_t count;
  struct cl_at first;
};

struct ev_clients;
/* 0 none, 1 SSL 2.0, 2 SSL 3.0, 3 TLS 1.0, 4 TLS 1.1 (and DTLS 1.0), 5 TLS
 * 1.2, 6 TLS 1.3. */
unsigned cl_version_rank(uint16_t version);

void ev_clients_free(struct ev_clients *cl);
/* One connection's ClientHello and what it got (facts.c), under the
 * store's cap (grade.h ev_store_set_client_limit): ep is its endpoint
 * (NULL: the endpoint cap refused it, no row).  No-op without a client
 * address in c. */
void ev_clients_add(struct ev_store *ev, const struct tls_session *s, const struct ev_conn *c,
                    const struct ev_endpoint *ep);
/* from's clients and rows added into *into (made when NULL), under into's
 * cap; from is unchanged.  0, or -1 out of memory. */
int ev_clients_merge(struct ev_clients **into, const struct ev_clients *from, size_t max);
/* The same, taking the clients and rows into has no room for yet from
 * *from (which is freed after); when into holds none yet and *from fits
 * the cap, *from becomes into's whole and *from is NULL. */
int ev_clients_merge_move(struct ev_clients **into, struct ev_clients **from, size_t max);
/* As saved evidence keeps it; NULL when there is nothing. */
cJSON *ev_clients_to_json(const struct ev_clients *cl);
/* Saved clients (o NULL: none) into *into, every bound checked.  0, or -1
 * with err set. */
int ev_clients_from_json(struct ev_clients **into, const cJSON *o, char *err, size_t errlen);

/* For reports: the clients worst first (owned array of n; free()), the
 * rows sorted by host, ip, port, then most connections first. */
const struct cl_client **ev_clients_sorted(const struct ev_clients *cl, size_t *n);
const struct cl_row **ev_clients_rows(const struct ev_clients *cl, size_t *n);
/* A sample's file name. */
const char *ev_clients_file(const struct ev_clients *cl, uint32_t file);
/* Connections not listed: their client (hits[0]) or row (hits[1]) was new
 * at the cap. */
void ev_clients_cap_hits(const struct ev_clients *cl, uint64_t hits[2]);

#endif
