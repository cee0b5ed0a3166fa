/*
 * dissect/decrypt.h - key log decryption (private to dissect/).
 *
 *   keylog.c   the key log file: secrets by ClientHello.random
 *   crypt.c    record protection through libcrypto: TLS 1.3 key schedule
 *              (RFC 8446 7.1-7.3), TLS 1.0-1.2 key block (RFC 5246 6.3),
 *              AEAD and CBC records
 *   decrypt.c  a connection's decryption: which keys when; it opens the
 *              records the dispatcher (record.c) hands it and returns the
 *              plaintext, calling nothing above it
 */
#ifndef TLSGRADE_DISSECT_DECRYPT_H
#define TLSGRADE_DISSECT_DECRYPT_H

#include "dissect/dissect.h"

#include <openssl/types.h>

enum tls_secret_kind {
  TLS_SECRET_MASTER,     /* CLIENT_RANDOM */
  TLS_SECRET_CLIENT_HS,  /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
  TLS_SECRET_SERVER_HS,  /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
  TLS_SECRET_CLIENT_APP, /* CLIENT_TRAFFIC_SECRET_0 */
  TLS_SECRET_SERVER_APP, /* SERVER_TRAFFIC_SECRET_0 */
  TLS_SECRET_KINDS
};

#define TLS_SECRET_MAX 64 /* SHA-512 size: room for any hash a suite names */

/* The secrets logged for one ClientHello.random. */
struct tls_secrets {
  uint8_t random[32];
  uint8_t have; /* bit (1 << kind) per secret present; 0: free slot */
  uint8_t len[TLS_SECRET_KINDS];
  uint8_t v[TLS_SECRET_KINDS][TLS_SECRET_MAX];
};

const struct tls_secrets *tls_keylog_find(const struct tls_keylog *kl, const uint8_t random[32]);

/* ---- crypt.c ---- */

/* One direction's record protection: keys, sequence number, and (TLS 1.3)
 * the traffic secret for a key update.  Owns its libcrypto contexts. */
struct tls_crypt;

/* TLS 1.3 keys from a traffic secret for suite 0x1301..0x1303 (RFC 8446
 * 7.3).  NULL with *why set (static) when the suite is not supported. */
struct tls_crypt *tls_crypt_tls13(uint16_t suite, const uint8_t *secret, size_t secret_len,
                                  const char **why);
/* RFC 8446 7.2: the next application traffic secret and its keys. */
bool tls_crypt_key_update(struct tls_crypt *k);
/* TLS 1.0-1.2 (not SSL 3.0): both directions' keys from the master
 * secret.  etm: encrypt_then_mac was negotiated (RFC 7366). */
bool tls_crypt_tls12(uint16_t version, uint16_t suite, bool etm, const uint8_t master[48],
                     const uint8_t client_random[32], const uint8_t server_random[32],
                     struct tls_crypt **client_write, struct tls_crypt **server_write,
                     const char **why);
/* Open one protected record in place: body[0..n) is the record's
 * fragment, *type and version its header.  On success *plain points into
 * body and, in TLS 1.3, *type becomes the inner content type.  False: the
 * record did not authenticate (wrong keys) or is malformed; only a record
 * that opened advances the sequence number. */
bool tls_crypt_open(struct tls_crypt *k, uint8_t *type, uint16_t version, uint8_t *body, size_t n,
                    uint8_t **plain, size_t *plain_len);
void tls_crypt_free(struct tls_crypt *k);

/* out_len bytes from libcrypto's KDF `name` ("HKDF", "TLS1-PRF") with
 * params; false when libcrypto fails. */
bool tls_kdf_derive(const char *name, const OSSL_PARAM *params, uint8_t *out, size_t out_len);

/* RFC 8446 7.1 HKDF-Expand-Label with an empty context, hash `digest`
 * ("SHA256", "SHA384").  Also QUIC's (RFC 9001 5.1), and the RFC 8448 unit
 * test's. */
bool tls13_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
                        const char *label, uint8_t *out, size_t out_len);

/* ---- decrypt.c: called by the record dispatcher (record.c) ---- */

struct tls_decrypt;
struct tls_conn;
void tls_decrypt_free(struct tls_decrypt *dec);
/* Key-schedule hooks, each called after the handshake parser has read the
 * message that moves the keys. */
/* ServerHello seen: TLS 1.3 handshake keys, if the key log has them. */
void tls_decrypt_server_hello(struct tls_conn *c);
/* QUIC (c->quic): after each datagram, the outcome of its packets'
 * decryption into the session. */
void tls_decrypt_quic_update(struct tls_conn *c);
/* ChangeCipherSpec of a TLS <= 1.2 direction: its keys from the master
 * secret. */
void tls_decrypt_change_cipher_spec(struct tls_conn *c, int dir);
/* A TLS 1.3 Finished or KeyUpdate (hs_type) that arrived decrypted: the
 * keys of that direction change after it. */
void tls_decrypt_key_change(struct tls_conn *c, int dir, uint8_t hs_type);

/* Should this record's body be buffered for decryption? */
bool tls_decrypt_wants(const struct tls_conn *c, int dir, uint8_t type);
/* TLS 1.3 keys: decrypted handshake records hold messages to parse. */
bool tls_decrypt_tls13(const struct tls_conn *c);
enum tls_open {
  TLS_OPEN_PLAINTEXT, /* *plain holds the record's content, *type its inner type */
  TLS_OPEN_SKIPPED,   /* TLS 1.3 early data under keys the log lacks: passed over */
  TLS_OPEN_FAILED,    /* did not authenticate: decryption of the connection stopped */
};
/* Open a complete protected record (tls_decrypt_wants said yes) in place:
 * body[0..n), *type its header's type.  Never calls back into the record
 * layer: the caller routes the plaintext. */
enum tls_open tls_decrypt_open(struct tls_conn *c, int dir, uint8_t *type, uint16_t version,
                               uint8_t *body, size_t n, const struct tls_at *at, uint8_t **plain,
                               size_t *plain_len);
/* The application data reader wants nothing more: stop decrypting once no
 * handshake message can still arrive protected. */
void tls_decrypt_app_done(struct tls_conn *c);

#endif
