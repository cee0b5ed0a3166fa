/*
 * dissect/quic.h - QUIC Initial packets, passively (private to dissect/).
 *
 * QUIC protects its Initial packets with keys anyone can derive from the
 * client's first Destination Connection ID (RFC 9001 5.2, RFC 9369 3.3), so
 * a passive observer can read the CRYPTO frames that carry the ClientHello
 * and ServerHello.  quic.c removes header protection, opens the AEAD, walks
 * the frames and reassembles the CRYPTO data of each direction into the TLS
 * handshake byte stream, delivered in order through a callback.  Handshake
 * and 1-RTT packets need keys from the TLS exchange: with a key log's
 * secrets (quic_conn_set_secrets) they are opened too; else, and 0-RTT
 * packets always, they are skipped.
 *
 * Versions: 1 (RFC 9001), 2 (0x6b3343cf, RFC 9369), drafts 29-34, and
 * Google's T050 and T051 (TLS in Google QUIC frames).  Other Google versions
 * (Q0xx: Google's own crypto handshake, no TLS) are recognised and counted,
 * not read.
 */
#ifndef TLSGRADE_DISSECT_QUIC_H
#define TLSGRADE_DISSECT_QUIC_H

#include "dissect/quic_protect.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_VERSION_1 0x00000001u
#define QUIC_VERSION_2 0x6b3343cfu
#define QUIC_VERSION_T050 0x54303530u /* "T050" */
#define QUIC_VERSION_T051 0x54303531u /* "T051" */

/* Is version one of Google QUIC's ("Q046", "Q050", "T051": a letter and
 * three ASCII digits)? */
bool quic_version_is_google(uint32_t version);

/* In-order CRYPTO bytes of direction dir (0 client->server, 1 server->
 * client): data[0..len) sits at stream offset offset_of_data.  Each byte is
 * delivered once; file_index/frame/ts are those of the datagram that made
 * the bytes contiguous. */
typedef void (*quic_crypto_fn)(void *ctx, int dir, const uint8_t *data, size_t len,
                               uint64_t offset_of_data, uint32_t file_index, uint64_t frame,
                               int64_t ts);

/* Counters of one flow, for the report: every cap hit is counted here. */
struct quic_stats {
  uint64_t datagrams;             /* datagrams given to quic_conn_datagram */
  uint64_t initial_packets;       /* Initial packets parsed */
  uint64_t initial_decrypted;     /* ... whose AEAD opened */
  uint64_t initial_undecryptable; /* no keys yet, or authentication failed */
  uint64_t skipped_packets;       /* Handshake, 0-RTT, 1-RTT without keys, Retry, VN, other CIDs */
  uint64_t protected_opened[2];   /* Handshake and 1-RTT packets opened per direction (key log) */
  uint64_t protected_failed;      /* ... that did not authenticate */
  uint64_t retries;               /* Retry packets */
  uint64_t malformed_packets;     /* packets with a malformed header or frames */
  uint64_t unsupported_packets;   /* Google QUIC versions not read (Q050, ...) */
  uint64_t crypto_bytes[2];       /* CRYPTO bytes delivered per direction */
  uint64_t stream_bytes[2];       /* STREAM frame bytes in 1-RTT packets per direction */
  uint64_t crypto_bytes_refused;  /* out-of-order bytes not held: per-direction caps */
  uint64_t crypto_pieces_refused; /* out-of-order pieces not held: either per-direction cap */
  uint64_t crypto_budget_refused; /* out-of-order pieces not held: all connections' budget */
};

/* Per UDP flow; owns its buffers (held out-of-order CRYPTO data). */
struct quic_conn;
struct tls_budget;

/* max_crypto_bytes: out-of-order CRYPTO bytes held per direction (and at
 * most QUIC_HELD_PIECES pieces, no shared budget, until quic_conn_set_caps).
 * NULL when out of memory. */
struct quic_conn *quic_conn_new(size_t max_crypto_bytes);
/* At most max_pieces out-of-order pieces per direction and space; their
 * cost drawn from budget (borrowed, NULL: none) up to budget_max.  Set
 * before the first datagram. */
void quic_conn_set_caps(struct quic_conn *q, size_t max_pieces, struct tls_budget *budget,
                        size_t budget_max);
/* What the held pieces take from the budget (bytes and headers). */
size_t quic_conn_held_cost(const struct quic_conn *q);
void quic_conn_free(struct quic_conn *q);

/* One UDP datagram of direction dir.  Returns false when the datagram is not
 * QUIC (the caller may try DTLS): the flow has not been seen to be QUIC and
 * the datagram does not start with a long header (fixed bit set) of a known
 * or reserved (RFC 9000 15) version.  Malformed QUIC returns true and sets
 * quic_conn_malformed(); packets that cannot be opened are counted. */
bool quic_conn_datagram(struct quic_conn *q, int dir, const uint8_t *d, size_t n,
                        uint32_t file_index, uint64_t frame, int64_t ts, quic_crypto_fn fn,
                        void *ctx);

/* With a key log: the handshake and application traffic secrets of the
 * connection (index 0 client; app[i].len 0 when the log lacks it), once
 * the ServerHello fixed the suite.  Handshake and 1-RTT packets are opened
 * from then on, their CRYPTO frames delivered through the callback like
 * the Initials' (each packet number space is a CRYPTO stream of its own,
 * from offset 0).  False when the suite or version is not supported. */
bool quic_conn_set_secrets(struct quic_conn *q, const struct quic_secret hs[2],
                           const struct quic_secret app[2]);
/* The first packet that did not authenticate under those secrets (then
 * decryption stopped), or NULL. */
struct quic_decrypt_failure {
  bool failed;
  uint32_t file_index;
  uint64_t frame;
  int64_t ts;
};
const struct quic_decrypt_failure *quic_conn_decrypt_failure(const struct quic_conn *q);
/* STREAM frame data the server sent (1-RTT packets): data[0..len) at
 * offset off of stream id, as it arrives (no reassembly here). */
typedef void (*quic_stream_fn)(void *ctx, uint64_t id, uint64_t off, const uint8_t *data,
                               size_t len, uint32_t file_index, uint64_t frame, int64_t ts);
void quic_conn_set_stream_fn(struct quic_conn *q, quic_stream_fn fn, void *ctx);
/* 1-RTT key updates (RFC 9001 6) seen in direction dir. */
unsigned quic_conn_key_updates(const struct quic_conn *q, int dir);

/* Version of the Initials decrypted (the server's when it answered), else of
 * the first long header seen; 0 before any. */
uint32_t quic_conn_version(const struct quic_conn *q);
/* First malformation seen, a static string; NULL when none. */
const char *quic_conn_malformed(const struct quic_conn *q);
const struct quic_stats *quic_conn_stats(const struct quic_conn *q);
/* The first Google QUIC version of the flow that is not read (its crypto
 * is not TLS), or 0. */
uint32_t quic_conn_unsupported(const struct quic_conn *q);

/* For tests and tools: the building blocks. */
enum quic_err {
  QUIC_OK = 0,
  QUIC_ERR_VERSION = -1,     /* no Initial keys known for this version */
  QUIC_ERR_HEADER = -2,      /* truncated or malformed long header */
  QUIC_ERR_NOT_INITIAL = -3, /* a long header, but not an Initial packet */
  QUIC_ERR_AUTH = -4,        /* AEAD authentication failed */
  QUIC_ERR_SPACE = -5,       /* output buffer too small */
  QUIC_ERR_LIBCRYPTO = -6    /* libcrypto failed (memory, provider) */
};

/* Initial key, IV and header-protection key of side dir (0 client, 1
 * server) for the client's Destination Connection ID dcid (<= 20 bytes).
 * Returns QUIC_OK or a negative enum quic_err. */
int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, int dir,
                      uint8_t key[16], uint8_t iv[12], uint8_t hp[16]);

/* Open the Initial packet at the start of pkt[0..n) sent by side dir, with
 * keys from dcid.  On entry *out_len is the capacity of out_plain, on
 * success the plaintext length (the frames).  *pkt_len (may be NULL) gets
 * the packet's length within pkt, to step to a coalesced packet.  Returns
 * QUIC_OK or a negative enum quic_err. */
int quic_decrypt_initial(uint32_t version, const uint8_t *dcid, size_t dcid_len, int dir,
                         const uint8_t *pkt, size_t n, uint8_t *out_plain, size_t *out_len,
                         size_t *pkt_len);

#endif
