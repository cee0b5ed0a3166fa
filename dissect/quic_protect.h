/*
 * dissect/quic_protect.h - QUIC packet protection (private to dissect/):
 * keys from a TLS secret (RFC 9001 5.1), header protection (5.4) and the
 * AEAD (5.3) for the three TLS 1.3 suites QUIC uses, and key updates (6).
 * quic.c uses it for every packet space: Initial keys come from the
 * client's DCID, Handshake and 1-RTT keys from a key log's secrets.
 */
#ifndef TLSGRADE_DISSECT_QUIC_PROTECT_H
#define TLSGRADE_DISSECT_QUIC_PROTECT_H

#include "base/rd.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_SECRET_MAX 48 /* SHA-384 */

enum quic_aead { QUIC_AEAD_AES_128_GCM, QUIC_AEAD_AES_256_GCM, QUIC_AEAD_CHACHA20_POLY1305 };

/* The labels of a QUIC version (RFC 9001 5.1, 6.1; RFC 9369 3.3.2). */
struct quic_labels {
  const char *key, *iv, *hp, *ku;
};

/* One direction's packet protection keys; plain data, no libcrypto state. */
struct quic_keys {
  uint8_t aead;    /* enum quic_aead */
  uint8_t key_len; /* 16 or 32; the header protection key has the same length */
  uint8_t key[32], iv[12], hp[32];
};

/* A TLS 1.3 traffic secret with its suite: what a key update starts from. */
struct quic_secret {
  uint16_t suite;
  uint8_t len;
  uint8_t v[QUIC_SECRET_MAX];
};

/* Is TLS 1.3 suite `suite` one QUIC packets can be opened with here
 * (0x1301-0x1303; AES-128-CCM 0x1304 is not)? */
bool quic_suite_supported(uint16_t suite);
/* Packet keys of a traffic secret (RFC 9001 5.1): key, iv and hp with the
 * version's labels.  False: suite unsupported, secret of the wrong length
 * for its hash, or libcrypto failed. */
bool quic_keys_from_secret(struct quic_keys *k, const struct quic_secret *s,
                           const struct quic_labels *l);
/* RFC 9001 6.1: the next generation's secret, in place ("quic ku"). */
bool quic_secret_update(struct quic_secret *s, const struct quic_labels *l);

/* A packet after header protection is removed (RFC 9001 5.4.1). */
struct quic_unprotected {
  uint8_t first; /* first byte in clear */
  uint8_t pn_bytes[4];
  size_t pn_len;
  uint64_t pn; /* full packet number (RFC 9000 A.3) */
};

/* Remove header protection.  header: the packet from its first byte to
 * the packet number; body: packet number and protected payload.  long_header
 * says which first-byte bits are protected.  expected_pn: the largest
 * packet number of the space + 1.  QUIC_OK or a negative enum quic_err. */
int quic_header_open(const struct quic_keys *k, struct rd header, struct rd body, bool long_header,
                     uint64_t expected_pn, struct quic_unprotected *u);
/* Open the payload of a packet whose header quic_header_open read, with
 * keys k (which may be of another key phase than the header's) into
 * out[0..cap); *out_len the plaintext length. */
int quic_payload_open(const struct quic_keys *k, struct rd header, struct rd body,
                      const struct quic_unprotected *u, uint8_t *out, size_t cap, size_t *out_len);

/* ---- Handshake and 1-RTT keys of a connection, from a key log ---- */

/* Owns nothing outside itself (one allocation). */
struct quic_tls_keys;

/* Keys of both directions (0 client) from the handshake traffic secrets
 * and, when app[dir].len is not 0, the application traffic secrets 0.
 * NULL when the suite is not supported or libcrypto fails. */
struct quic_tls_keys *quic_tls_keys_new(const struct quic_secret hs[2],
                                        const struct quic_secret app[2],
                                        const struct quic_labels *labels);
void quic_tls_keys_free(struct quic_tls_keys *k);

/* Open a Handshake packet (long_header) or a 1-RTT packet (short header:
 * the key phase bit picks the keys, a new phase is a key update, RFC 9001
 * 6) of direction dir.  header/body as for quic_header_open.  QUIC_OK, or
 * QUIC_ERR_VERSION when there are no keys for it, or another negative
 * enum quic_err. */
int quic_tls_open(struct quic_tls_keys *k, int dir, bool long_header, struct rd header,
                  struct rd body, uint64_t expected_pn, uint8_t *out, size_t cap,
                  struct quic_unprotected *u, size_t *out_len);
/* Key updates seen in direction dir. */
unsigned quic_tls_key_updates(const struct quic_tls_keys *k, int dir);

#endif
