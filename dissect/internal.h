/*
 * dissect/internal.h - interfaces between the files of dissect/ (private).
 */
#ifndef TLSGRADE_DISSECT_INTERNAL_H
#define TLSGRADE_DISSECT_INTERNAL_H

#include "dissect/dissect.h"
#include "dissect/rd.h"

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

#endif
