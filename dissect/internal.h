/*
 * dissect/internal.h - interfaces between the files of dissect/ (private).
 */
#ifndef TLSGRADE_DISSECT_INTERNAL_H
#define TLSGRADE_DISSECT_INTERNAL_H

#include "dissect/dissect.h"
#include "base/rd.h"
#include "dissect/registry_ids_data.h"

/* record.c - the budget of all connections' buffers (struct tls_budget).
 * May a buffer that will hold `after` bytes take `add` more from budget
 * (NULL: no shared bound)?  Up to TLS_BUDGET_FREE_BYTES is always granted
 * (a hello, an alert): a full budget must not starve every new connection;
 * the flow table's cap bounds those.  True: taken (give it back with
 * tls_budget_give). */
#define TLS_BUDGET_FREE_BYTES 1024
bool tls_budget_take(struct tls_budget *budget, size_t max_total, size_t after, size_t add);
void tls_budget_give(struct tls_budget *budget, size_t n);

/* hello.c - hello messages.  `body` is the handshake message body (after
 * the 4-byte handshake header; for DTLS after the 12-byte header).  Each
 * returns NULL when well-formed, else a static reason ("client_hello:
 * extensions length") and keeps what was read before the fault.  The
 * structs own what they point to: free with hello_*_clear(). */
const char *hello_parse_client(struct tls_client_hello *ch, struct rd body, bool dtls);
const char *hello_parse_server(struct tls_server_hello *sh, struct rd body, bool dtls);
/* SSLv2 record-format CLIENT-HELLO (RFC 6101 E.2 / draft-hickman): body
 * starts at msg_type (1). */
const char *hello_parse_sslv2_client(struct tls_client_hello *ch, struct rd body);
/* SSLv2 SERVER-HELLO: body starts at msg_type (4).  Certificate DER is
 * returned through cert/cert_len (pointing into body) when present. */
const char *hello_parse_sslv2_server(struct tls_server_hello *sh, struct rd body,
                                     const uint8_t **cert, size_t *cert_len);
void hello_client_clear(struct tls_client_hello *ch);
void hello_server_clear(struct tls_server_hello *sh);
/* fingerprint.c - JA3 into ch->ja3, JA3S into sh->ja3s. */
void hello_ja3(struct tls_client_hello *ch);
void hello_ja3s(struct tls_server_hello *sh);
/* JA4 (FoxIO) of a ClientHello, transport 't' (TCP), 'q' (QUIC), 'd' (DTLS). */
void hello_ja4(const struct tls_client_hello *ch, char transport, char out[40]);

/* http.c, h2.c - HTTP responses in decrypted application data.  Each
 * response's header section is reported once, as it completes. */
struct http_response_view {
  uint8_t http_version; /* 1, 2 or 3 */
  int status;
  bool has_sts, has_pkp; /* the first Strict-Transport-Security / Public-Key-Pins */
  const uint8_t *sts, *pkp;
  size_t sts_len, pkp_len;
};
typedef void (*http_response_fn)(void *ctx, const struct http_response_view *r,
                                 const struct tls_at *at);
/* A response's fields as HTTP/2 and HTTP/3 decode them, one at a time
 * (http.c): :status, and the first Strict-Transport-Security and
 * Public-Key-Pins values (RFC 6797 8.1), each kept up to 8 KiB.  Names are
 * lower case in both (RFC 9113 8.2.1, RFC 9114 4.2). */
struct http_fields {
  int status; /* 0 until a valid three-digit :status */
  bool has_sts, has_pkp;
  uint8_t *sts, *pkp; /* owned */
  size_t sts_len, pkp_len;
};
void http_fields_add(struct http_fields *f, const uint8_t *name, size_t name_len,
                     const uint8_t *value, size_t value_len);
/* f as the view a response callback gets (f keeps the bytes). */
struct http_response_view http_fields_view(const struct http_fields *f, uint8_t http_version);
void http_fields_clear(struct http_fields *f);
/* HTTP/1.x through libhtp, every response (http_conn_data feeds it). */
struct http_conn *http_conn_new_responses(http_response_fn fn, void *ctx);
/* Why libhtp gave up on the stream, NULL while it parses. */
const char *http_conn_failed(const struct http_conn *h);

/* HTTP/2 (RFC 9113): frames read here, header blocks decoded by
 * libnghttp2's HPACK inflater.  Only the server's frames are read (its
 * responses); the client's direction is ignored. */
struct h2_conn;
struct h2_conn *h2_conn_new(http_response_fn fn, void *ctx);
void h2_conn_data(struct h2_conn *h, int dir, const uint8_t *p, size_t n, const struct tls_at *at);
/* Why parsing stopped (static), NULL while it goes on. */
const char *h2_conn_failed(const struct h2_conn *h);
void h2_conn_free(struct h2_conn *h);

/* HTTP/3 (RFC 9114, h3.c): the server's bytes of QUIC stream id at offset
 * off, from STREAM frames a key log opened; field sections decoded by
 * libnghttp3's QPACK decoder. */
struct h3_conn;
struct h3_conn *h3_conn_new(http_response_fn fn, void *ctx, size_t max_streams, size_t max_section);
void h3_conn_stream(struct h3_conn *h, uint64_t id, uint64_t off, const uint8_t *p, size_t n,
                    const struct tls_at *at);
const char *h3_conn_failed(const struct h3_conn *h);
/* Stream bytes not read: past a hole, or of streams beyond the cap. */
uint64_t h3_conn_bytes_dropped(const struct h3_conn *h);
/* Did a stream come past max_streams, a field section past max_section? */
void h3_conn_capped(const struct h3_conn *h, bool *streams, bool *section);
void h3_conn_free(struct h3_conn *h);

#endif
