/*
 * dissect/dissect.h - the one public header of the TLS dissector.
 *
 * dissect turns ordered bytes per connection and direction (from capture/)
 * into facts about one TLS connection: what the client offered, what the
 * server chose, the certificates it showed, key exchange, alerts.  It knows
 * nothing of libpcap, flows or grades.  Every fact carries the frame it came
 * from (struct tls_at).
 *
 *   base/rd.h     the bounded reader every parser uses (layer 0, shared)
 *   registry.c    IANA tables: suites, groups, signature schemes, ...
 *   conn.c        one connection: which mode each direction is in
 *   sniff.c       does a stream start like TLS, SSLv2, DTLS or QUIC
 *   record.c      record layer and dispatcher: handshake message
 *                 reassembly, SSLv2, where decrypted plaintext goes
 *   hello.c       ClientHello / ServerHello / HelloRetryRequest
 *   handshake.c   Certificate, ServerKeyExchange, CertificateStatus, ...
 *   x509.c        certificate facts through libcrypto
 *   x509_verify.c trust store and chain verification
 *   trust_memo.c  each chain's verdict, remembered for the run
 *   quic.c        QUIC packets (RFC 9001 / RFC 9369): Initials always,
 *                 Handshake and 1-RTT with a key log; quic_protect.c keys
 *                 and packet protection, quic_crypto.c CRYPTO reassembly,
 *                 quic_frames.c varints and frames skipped by layout
 *   keylog.c, crypt.c, decrypt.c   records opened with a key log
 *   app_data.c    decrypted application data to the HTTP parsers
 *   http.c, h2.c  HTTP/1.x (libhtp) and HTTP/2 (HPACK by libnghttp2)
 *   h3.c          HTTP/3 in QUIC streams (QPACK by libnghttp3)
 *   hsts.c        Strict-Transport-Security and Public-Key-Pins values
 */
#ifndef TLSGRADE_DISSECT_H
#define TLSGRADE_DISSECT_H

#include "capture/capture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Registry (registry.c): tables generated from the IANA registries.   */

enum tls_kx {
  TLS_KX_NULL,
  TLS_KX_RSA,
  TLS_KX_DH,
  TLS_KX_DHE,
  TLS_KX_ECDH,
  TLS_KX_ECDHE,
  TLS_KX_PSK,
  TLS_KX_DHE_PSK,
  TLS_KX_ECDHE_PSK,
  TLS_KX_RSA_PSK,
  TLS_KX_SRP,
  TLS_KX_KRB5,
  TLS_KX_GOST,
  TLS_KX_TLS13,
  TLS_KX_OTHER
};
enum tls_auth {
  TLS_AUTH_NULL,
  TLS_AUTH_RSA,
  TLS_AUTH_DSS,
  TLS_AUTH_ECDSA,
  TLS_AUTH_PSK,
  TLS_AUTH_ANON,
  TLS_AUTH_KRB5,
  TLS_AUTH_GOST,
  TLS_AUTH_TLS13,
  TLS_AUTH_OTHER
};

struct tls_suite_info {
  uint32_t id;        /* 16-bit TLS id, or 24-bit SSLv2 cipher kind */
  const char *name;   /* IANA name, e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" */
  uint8_t kx;         /* enum tls_kx */
  uint8_t auth;       /* enum tls_auth */
  const char *cipher; /* "AES_128_GCM", "RC4_128", "3DES_EDE_CBC", "NULL", ... */
  uint16_t bits;      /* effective key bits (3DES 112 is scored as 168 bucket) */
  uint8_t block_bits; /* 64 for 3DES/DES/IDEA/RC2, 128 for AES..., 0 stream */
  bool aead;
  bool forward_secret;
  bool export_grade;
  bool anonymous;
  bool scsv; /* signalling value, not a real suite */
  bool rc4;  /* an RC4 stream cipher (RFC 7465) */
  bool cbc;  /* a block cipher in CBC mode */
};

/* NULL when the id is not in the registry (show it as hex). */
const struct tls_suite_info *tls_suite_lookup(uint32_t id);
const struct tls_suite_info *tls_sslv2_suite_lookup(uint32_t id);
/* Names, NULL when unknown. */
const char *tls_group_name(uint16_t id); /* "x25519", "secp256r1", "X25519MLKEM768" */
uint16_t tls_group_bits(uint16_t id);    /* classical strength in bits, 0 unknown */
/* Is a group's key exchange post-quantum: ML-KEM (FIPS 203) alone or in a
 * hybrid, or the pre-standard Kyber the registry marks obsolete.  Unknown
 * ids and GREASE are TLS_GROUP_CLASSICAL. */
enum tls_group_pq { TLS_GROUP_CLASSICAL, TLS_GROUP_PQ, TLS_GROUP_PQ_OBSOLETE };
enum tls_group_pq tls_group_pq(uint16_t id);
const char *tls_sigscheme_name(uint16_t id); /* "rsa_pss_rsae_sha256", ... */
const char *tls_extension_name(uint16_t id); /* "server_name", ... */
const char *tls_alert_name(uint8_t desc);    /* "handshake_failure", ... */
/* A QUIC version's name (quic.c): "1", "2", "draft-29", "T051", "Q050", or
 * "0x%08x". */
#define QUIC_VERSION_NAME_LEN 16
/* Out-of-order QUIC CRYPTO pieces held per direction (quic.c), by default
 * (tls_limits.max_quic_pieces).  A real
 * Initial flight comes in a few CRYPTO frames; the bound keeps each
 * insertion's walk of the sorted list short (thousands of one-byte frames
 * cost linear time, not quadratic) and the per-piece overhead small. */
#define QUIC_HELD_PIECES 256
const char *quic_version_name(uint32_t version, char buf[QUIC_VERSION_NAME_LEN]);
bool tls_is_grease(uint16_t id); /* RFC 8701 */
/* Protocol versions as the wire carries them (RFC 8446 4.1.2 and B.1,
 * RFC 6101 E.2 for SSLv2's CLIENT-HELLO).  DTLS writes the one's
 * complement of the TLS version it mirrors (RFC 6347 4.1, RFC 9147 4):
 * DTLS 1.0 is TLS 1.1's, and DTLS 1.1 was never defined. */
enum tls_version {
  TLS_VERSION_SSL2 = 0x0002,
  TLS_VERSION_SSL3 = 0x0300,
  TLS_VERSION_TLS10 = 0x0301,
  TLS_VERSION_TLS11 = 0x0302,
  TLS_VERSION_TLS12 = 0x0303,
  TLS_VERSION_TLS13 = 0x0304,
  TLS_VERSION_DTLS10 = 0xfeff,
  TLS_VERSION_DTLS12 = 0xfefd,
  TLS_VERSION_DTLS13 = 0xfefc,
};
/* "SSLv2", "SSLv3", "TLSv1.0".."TLSv1.3", "DTLSv1.0".."DTLSv1.3"; NULL unknown */
const char *tls_version_name(uint16_t version);

/* ------------------------------------------------------------------ */
/* Facts of one connection                                             */

/* Where a fact was seen. frame == 0: not seen. */
struct tls_at {
  uint32_t file_index;
  uint64_t frame;
  cap_time_us ts;
};

/* A string from the wire, kept with its length, sanitised only at output. */
struct tls_str {
  uint8_t *p; /* owned, NUL-terminated for convenience, may contain NULs */
  size_t n;
};

struct tls_u16s {
  uint16_t *v; /* owned */
  size_t n;
};

/* RFC 9849 5: ECHClientHello.  An outer one carries an HPKE suite, the
 * config id and the encrypted inner hello; GREASE ECH (RFC 9849 6.2) has
 * the same shape with random values, so the bytes never tell the two
 * apart.  "inner" (type 1) only ever travels encrypted. */
struct tls_ech_offer {
  bool outer, inner; /* the type byte: 0 outer, 1 inner; neither: unknown type */
  uint8_t type;
  uint16_t kdf_id, aead_id; /* HpkeSymmetricCipherSuite (RFC 9180 7.2, 7.3) */
  uint8_t config_id;
  uint16_t enc_length, payload_length;
};

struct tls_client_hello {
  struct tls_at at;
  bool sslv2_format; /* SSLv2-compatible CLIENT-HELLO */
  uint16_t record_version;
  uint16_t legacy_version;
  uint8_t random[32];       /* names the connection in a key log */
  struct tls_u16s versions; /* supported_versions, GREASE kept */
  struct tls_u16s ciphers;  /* in wire order, GREASE and SCSVs kept */
  uint32_t *sslv2_ciphers;  /* SSLv2 cipher specs (3 bytes each) */
  size_t n_sslv2_ciphers;
  struct tls_str compression; /* method bytes */
  struct tls_u16s extensions; /* types in wire order */
  struct tls_str session_id;
  struct tls_str sni;   /* first host_name */
  struct tls_str *alpn; /* owned array */
  size_t n_alpn;
  struct tls_u16s groups;
  struct tls_str ec_point_formats;
  struct tls_u16s sig_algs;
  struct tls_u16s key_share_groups;
  bool fallback_scsv;    /* 0x5600 offered */
  bool empty_reneg_scsv; /* 0x00ff offered */
  bool reneg_info;       /* renegotiation_info extension */
  bool heartbeat;        /* heartbeat extension */
  uint8_t heartbeat_mode;
  bool status_request, sct, ems, etm, session_ticket, session_ticket_nonempty;
  bool psk, early_data, ech, esni, post_handshake_auth, padding;
  struct tls_ech_offer ech_offer; /* the encrypted_client_hello extension, when ech */
  char ja3[33];                   /* MD5 hex, "" without a hello */
};

struct tls_server_hello {
  struct tls_at at;
  bool sslv2_format;
  bool hello_retry; /* HelloRetryRequest (RFC 8446 4.1.3 random) */
  uint16_t record_version;
  uint16_t legacy_version;
  uint16_t selected_version; /* supported_versions, 0 without */
  uint8_t random[32];        /* TLS <= 1.2 key derivation needs it */
  uint16_t version;          /* negotiated: selected_version or legacy */
  uint32_t cipher;           /* 16-bit suite, or SSLv2 spec */
  uint8_t compression;
  struct tls_str session_id;
  struct tls_u16s extensions;
  uint16_t key_share_group; /* TLS 1.3 key_share / HRR selected group */
  /* RFC 9849 7.2.1: a HelloRetryRequest's encrypted_client_hello holds the
   * 8-byte confirmation a server that accepted ECH sends (checkable only
   * with the inner hello's random, so never verified here). */
  bool ech_confirmation;
  struct tls_str alpn;
  bool reneg_info; /* renegotiation_info in the answer */
  bool heartbeat;
  uint8_t heartbeat_mode;
  bool ems, etm, status_request, sct, session_ticket;
  char downgrade[12]; /* "DOWNGRD01"/"DOWNGRD00" sentinel, "" none */
  char ja3s[33];
};

/* Debian's weak keys (CVE-2008-0166): was the key looked up, and found? */
enum tls_weak_key {
  TLS_WEAK_KEY_UNCHECKED, /* not RSA, or no list for its size */
  TLS_WEAK_KEY_NOT_LISTED,
  TLS_WEAK_KEY_LISTED
};

enum tls_key_type {
  TLS_KEY_UNKNOWN,
  TLS_KEY_RSA,
  TLS_KEY_DSA,
  TLS_KEY_EC,
  TLS_KEY_ED25519,
  TLS_KEY_ED448,
  TLS_KEY_DH,
  TLS_KEY_OTHER
};

/* Facts of one certificate, through libcrypto (x509.c). */
#define TLS_CERT_SCT_LOGS 16

struct tls_cert {
  uint8_t *der; /* owned */
  size_t der_len;
  bool parsed;             /* libcrypto accepted it */
  const char *parse_error; /* static string when !parsed */
  char *subject;           /* RFC 2253 one-line, owned (raw, sanitise on output) */
  char *issuer;
  char *subject_cn; /* commonNames, escaped and joined (x509.c) */
  char *issuer_cn;
  char *subject_o; /* organizationNames, the same form */
  char *issuer_o;
  char **san; /* dNSName entries, owned */
  size_t n_san;
  uint8_t key_type; /* enum tls_key_type */
  int key_bits;
  char key_curve[32]; /* EC curve short name */
  char sig_alg[64];   /* OpenSSL long name, e.g. "sha256WithRSAEncryption" */
  char sig_oid[64];
  char not_before[32]; /* "YYYY-MM-DD HH:MM:SS" UTC */
  char not_after[32];
  cap_time_us not_before_us, not_after_us;
  char *serial_hex;
  char sha256[65];
  char spki_sha256[65]; /* SHA-256 of the SubjectPublicKeyInfo: the key */
  bool is_ca, self_signed, must_staple, has_sct_list;
  /* RFC 6962 3.3: the distinct log ids of the embedded SCTs, in list
   * order, at most TLS_CERT_SCT_LOGS (owned). */
  uint8_t (*sct_logs)[32];
  uint8_t n_sct_logs;
  bool rsa_exponent_one; /* RSA key with e = 1: no encryption at all */
  /* RSA: the last 80 bits of SHA-1("Modulus=<HEX>\n"), what Debian's
   * openssl-vulnkey looks up (x509.c), and the verdict of the weak-key
   * lists (weak_keys.c; set when read through a cache that has them). */
  uint8_t weak_key_fp[10];
  bool has_weak_key_fp;
  uint8_t weak_key; /* enum tls_weak_key */
  char **policies;  /* policy OIDs, owned */
  size_t n_policies;
  /* A certificate cache entry (x509_cache.c): the cache owns it, it never
   * changes once stored, and it lives as long as the cache. */
  bool cached;
  /* libcrypto's X509 of der (a reference this cert owns), kept from the
   * parse so that verification and chain completion never decode the
   * same DER again (OpenSSL 3 spends most of a decode on the public key);
   * NULL when not parsed.  Opaque outside x509*.c. */
  void *x509;
};

struct tls_kex {
  struct tls_at at;
  bool present;
  bool is_dh;           /* DHE params */
  bool is_ecdh;         /* ECDHE params */
  bool is_rsa;          /* temporary RSA key (export suites) */
  int rsa_bits;         /* its modulus bits */
  int dh_bits;          /* bits of the prime p, leading zeros ignored */
  const char *dh_group; /* "ffdhe2048", "rfc3526-2048", "oakley-1024", NULL */
  uint16_t curve;       /* named curve (ECDHE) */
  uint16_t sig_scheme;  /* TLS 1.2 signature scheme, 0 before */
};

struct tls_alert {
  struct tls_at at;
  int dir;        /* FLOW_C2S or FLOW_S2C */
  bool encrypted; /* after ChangeCipherSpec: level/desc unknown */
  bool decrypted; /* ... unless a key log opened it: then known */
  uint8_t level, desc;
};

struct tls_heartbeat {
  struct tls_at at;
  int dir;
  bool encrypted;
  uint8_t type;            /* 1 request, 2 response */
  uint16_t payload_length; /* declared */
  size_t record_length;
};

/* ---- Strict-Transport-Security and Public-Key-Pins (hsts.c) ---- */

/* RFC 6797 6.1.  invalid: why the header must be ignored (static). */
struct http_sts {
  bool valid;
  const char *invalid; /* "syntax", "duplicate_directive", "no_max_age", ... */
  uint64_t max_age;    /* seconds (saturated) */
  bool include_subdomains, preload;
};
void http_sts_parse(const uint8_t *p, size_t n, struct http_sts *out);

#define HTTP_PKP_MAX_PINS 8
/* RFC 7469 2.1: syntax only; whether a pin matches the chain (2.6) and a
 * backup pin exists (4.3) is judged against the certificates by grade/. */
struct http_pkp {
  bool valid;
  const char *invalid; /* "syntax", "bad_pin", "no_pins", "no_max_age", ... */
  uint64_t max_age;
  bool include_subdomains, report_uri;
  size_t n_pins, pins_dropped;
  uint8_t pins[HTTP_PKP_MAX_PINS][32]; /* pin-sha256 values */
};
void http_pkp_parse(const uint8_t *p, size_t n, struct http_pkp *out);

/* ---- Decryption with a key log (keylog.c, decrypt.c) ---- */

enum tls_decrypt_status {
  TLS_DECRYPT_NONE,        /* no key log given (or not TLS over TCP) */
  TLS_DECRYPT_NO_KEYS,     /* the key log has no secret for this connection */
  TLS_DECRYPT_UNSUPPORTED, /* secrets present, protection not supported */
  TLS_DECRYPT_OK,          /* keys installed, every record opened */
  TLS_DECRYPT_FAILED,      /* a record failed authentication: wrong keys */
};

struct tls_decryption {
  uint8_t status;          /* enum tls_decrypt_status */
  const char *why;         /* UNSUPPORTED / why decryption stopped (static) */
  struct tls_at failed_at; /* the record that did not authenticate */
  uint64_t records[2];     /* records opened per direction */
  unsigned early_skipped;  /* TLS 1.3 0-RTT records passed over */
};

/* One HTTP response read from decrypted application data. */
struct tls_http_response {
  struct tls_at at;     /* where its header section completed */
  uint8_t http_version; /* 1 (HTTP/1.x) or 2 */
  int status;
  bool has_sts, has_pkp;   /* the header was there (the first one counts) */
  struct tls_str sts, pkp; /* raw values, capped at TLS_HTTP_VALUE_MAX */
  struct http_sts sts_parsed;
  struct http_pkp pkp_parsed;
};

#define TLS_MAX_HTTP_RESPONSES 8
#define TLS_HTTP_VALUE_MAX 1024
/* HTTP inside a decrypted connection (owned by the session). */
struct tls_https {
  uint64_t responses; /* every response seen; the first kept in r[] */
  size_t n;
  struct tls_http_response r[TLS_MAX_HTTP_RESPONSES];
  const char *stopped;           /* why HTTP parsing stopped early, NULL */
  uint64_t stream_bytes_dropped; /* HTTP/3: stream bytes not read (past a hole, streams cap) */
};

#define TLS_MAX_ALERTS 16
#define TLS_MAX_HEARTBEATS 16
#define TLS_MAX_HISTORY 48         /* the default of tls_limits.max_history */
#define TLS_MAX_HISTORY_LIMIT 4096 /* the most it may be set to */

/* One plaintext message of a connection, in the order seen: its record's
 * content type (RFC 8446 B.1: 20 change_cipher_spec, 21 alert, 22
 * handshake, 24 heartbeat; 0 for an SSLv2 message) and, for a handshake
 * (or SSLv2) message, its type.  Protected records are not listed. */
struct tls_cert_request {
  struct tls_at at;
  struct tls_str types;     /* ClientCertificateType list */
  struct tls_u16s sig_algs; /* TLS 1.2 */
  size_t ca_names;          /* distinguished names listed */
};

struct tls_ocsp_dates {
  char this_update[32], next_update[32];
};

struct tls_msg {
  uint8_t dir; /* FLOW_C2S or FLOW_S2C */
  uint8_t content_type;
  uint8_t hs_type;
};

/* Everything learned about one connection.  Owned by the tls_conn. */
struct tls_session {
  bool is_tls;           /* saw at least one TLS/SSL message */
  bool roles_swapped;    /* the flow's "server" sent the ClientHello */
  const char *transport; /* "tcp" / "udp" */
  bool quic;
  uint32_t quic_version;        /* the server's, else the client's (0: none) */
  uint32_t quic_unsupported;    /* a Google QUIC version seen and not read (no TLS) */
  bool webrtc;                  /* DTLS demultiplexed from STUN/RTP (RFC 7983) */
  uint64_t quic_crypto_refused; /* out-of-order QUIC CRYPTO pieces not held (per-direction
                                   caps; the budget's refusals are in cap_buffer_total) */
  const char *starttls;         /* "smtp", "imap", ... NULL */
  bool has_client_hello, has_server_hello;
  struct tls_client_hello ch;
  /* After a HelloRetryRequest (rare: made then, owned, NULL before): the
   * request and the second ClientHello.  has_ set together with them. */
  struct tls_client_hello *ch2;
  bool has_ch2;
  struct tls_server_hello sh;
  bool has_hrr;
  struct tls_server_hello *hrr;
  /* Server chain, wire order, all from the Certificate message at chain_at:
   * cache entries (cert->cached, shared with every connection showing the
   * same certificate) or, when one could not be cached, the session's own.
   * The array is owned. */
  const struct tls_cert **chain;
  size_t chain_len;
  struct tls_at chain_at;
  size_t client_chain_len; /* client certificates seen (not kept) */
  struct tls_kex kex;
  bool ocsp_stapled;
  struct tls_at ocsp_at;
  int ocsp_cert_status;     /* 0 good, 1 revoked, 2 unknown, -1 none */
  int ocsp_response_status; /* OCSPResponseStatus (0 successful), -1 unparsed */
  /* "YYYY-MM-DD HH:MM:SS" UTC of the staple (NULL: no staple read; ""
   * unknown): owned, made with the staple, so that the many connections
   * without one do not carry them. */
  struct tls_ocsp_dates *ocsp_dates;
  /* A CertificateRequest (RFC 5246 7.4.4): owned, NULL when none came, as
   * for most connections. */
  struct tls_cert_request *cert_request;
  bool new_session_ticket;
  struct tls_at ticket_at;
  uint32_t ticket_lifetime_hint; /* RFC 5077 3.3, seconds */
  size_t ticket_length;
  bool resumed; /* abbreviated handshake / PSK accepted */
  /* Why the server's hello (or HelloRetryRequest) is no evidence of its
   * configuration: it came before any ClientHello of the connection, or
   * chose a version, suite, compression or group that hello did not offer
   * (handshake.c).  Static text, NULL when it answered what was offered. */
  const char *violation;
  struct tls_at violation_at;
  bool ccs_seen[2];
  bool established; /* both sides finished (encrypted data flowing) */
  uint64_t app_data_bytes[2];
  /* Room for TLS_MAX_ALERTS (heartbeats: TLS_MAX_HEARTBEATS), made at the
   * first one: most connections have none, and a tap keeps thousands of
   * them open.  Owned; NULL while the count is 0. */
  struct tls_alert *alerts;
  size_t n_alerts;
  size_t alerts_dropped; /* past the cap, or out of memory */
  struct tls_heartbeat *heartbeats;
  size_t n_heartbeats;
  unsigned renegotiations;          /* handshake records after the first Finished */
  bool secure_reneg;                /* server answered renegotiation_info / SCSV */
  uint16_t version;                 /* negotiated (ServerHello), 0 unknown */
  bool encrypted[2];                /* direction switched to protected records */
  uint64_t records[2];              /* records seen per direction */
  unsigned cap_handshake;           /* handshake messages beyond max_handshake_bytes */
  unsigned cap_buffer_total;        /* buffers not grown: all connections' budget spent */
  unsigned cap_dtls_pieces;         /* DTLS fragments not held: max_dtls_pieces reached */
  unsigned cap_chain;               /* certificates beyond the chain caps */
  unsigned cap_starttls;            /* 1: clear text past max_starttls_bytes, not read on */
  unsigned cap_h3_streams;          /* 1: an HTTP/3 stream past max_h3_streams, not read */
  unsigned cap_h3_section;          /* 1: a field section past max_h3_section stopped HTTP/3 */
  bool gap[2];                      /* bytes were missing in this direction */
  struct tls_decryption decryption; /* with a key log */
  struct tls_https *https;          /* HTTP read from decrypted data, owned, NULL none */
  const char *malformed;            /* static reason, NULL when well-formed */
  struct tls_at malformed_at;
  char ja4[40];
  bool evicted; /* the flow was evicted (table full) before the connection ended:
                 * the rest of it was not read (tls_conn_evicted) */
  /* The first tls_limits.max_history plaintext messages (Zeek's
   * ssl_history is spelled from them); history_dropped counts those past
   * the cap. */
  struct tls_msg *history; /* owned; grows by doubling up to max_history */
  uint16_t n_history, history_cap;
  unsigned history_dropped;
};

/* ------------------------------------------------------------------ */
/* Certificates (x509.c), through libcrypto only                       */

/* Fill cert's facts from cert->der/der_len (which it does not change).
 * A certificate libcrypto refuses gets parsed = false and parse_error. */
void x509_cert_parse(struct tls_cert *cert);
/* to (zeroed, or cleared) gets from's DER and a reference to its decoded
 * form; false when out of memory. */
bool x509_cert_copy_der(struct tls_cert *to, const struct tls_cert *from);
/* Free everything the cert owns (der included) and zero it. */
void x509_cert_clear(struct tls_cert *cert);

/* Certificates (and OCSP staples) already read (x509_cache.c).  One cache
 * is shared by all the threads of a run: a mutex guards its slots and its
 * OCSP memo, a certificate is read outside the lock, and an entry once
 * stored is never changed or freed before x509_cache_free, so it is used
 * without the lock.  Set the weak-key lists before any thread uses it.
 * Holds max_entries certificates; past that they are read but not
 * remembered, and x509_cache_refused counts those reads. */
struct x509_cache;
struct x509_cache *x509_cache_new(size_t max_entries);
void x509_cache_free(struct x509_cache *cache);
size_t x509_cache_refused(struct x509_cache *cache); /* cache may be NULL: 0 */
/* The certificate of DER der[0..len), read through the cache (which may be
 * NULL) and looked up in the weak-key lists when the cache has them (the
 * verdict is cached with the facts).  A certificate seen before is read
 * once: the answer is its cache entry (cached), to be shared, never
 * changed, and used no longer than the cache lives.  One the cache has no
 * room for is the caller's.  Either way x509_cert_release lets it go.  NULL
 * when memory ran out. */
struct tls_cert *x509_cert_read_cached(struct x509_cache *cache, const uint8_t *der, size_t len);
/* Free cert unless it is a cache entry. */
void x509_cert_release(const struct tls_cert *cert);
/* What a stapled OCSP response said (see struct tls_session). */
struct tls_ocsp_facts {
  int cert_status, response_status;
  char this_update[32], next_update[32];
};
/* A server staples the same response for hours: remember the last few.
 * get is false when this DER was not seen (or cache is NULL). */
bool x509_cache_ocsp_get(struct x509_cache *cache, const uint8_t *der, size_t len,
                         struct tls_ocsp_facts *out);
void x509_cache_ocsp_put(struct x509_cache *cache, const uint8_t *der, size_t len,
                         const struct tls_ocsp_facts *facts);

/* Debian's weak-key lists (weak_keys.c): files blacklist.RSA-<bits> of the
 * openssl-blacklist package, one line per key, the last 20 hex digits of
 * SHA-1("Modulus=<HEX>\n"), '#' comments.  Loaded once into one sorted
 * array per key size (at most max_entries keys in all), then shared
 * read-only by every thread. */
struct x509_weak_keys;
struct x509_weak_keys *x509_weak_keys_new(size_t max_entries);
void x509_weak_keys_free(struct x509_weak_keys *keys);
/* PATH: a blacklist.RSA-<bits> file, or a directory: its blacklist.RSA-*
 * files.  -1 with a one-line reason naming the file and line. */
int x509_weak_keys_load(struct x509_weak_keys *keys, const char *path, char *err, size_t errlen);
size_t x509_weak_keys_count(const struct x509_weak_keys *keys); /* distinct keys */
bool x509_weak_keys_cover(const struct x509_weak_keys *keys, int rsa_bits);
/* enum tls_weak_key for a parsed certificate (keys may be NULL). */
uint8_t x509_weak_keys_lookup(const struct x509_weak_keys *keys, const struct tls_cert *cert);
/* Look certificates up in these lists (borrowed; they outlive the cache). */
void x509_cache_set_weak_keys(struct x509_cache *cache, const struct x509_weak_keys *keys);

/* Chain verification (x509_verify.c): the trust store and the verdict. */
struct x509_trust_opts {
  const char *ca_file; /* NULL: system default bundle */
  const char *ca_path; /* NULL: system default directory */
};

struct x509_trust {
  bool checked;                /* a verdict was reached (a chain was there) */
  bool trusted;                /* chain verifies to a trusted root at `at` */
  bool trusted_but_time;       /* it would, but for a validity period (expired /
                                  not yet valid): trust and time are told apart */
  int error;                   /* X509_V_ERR_* of libcrypto, 0 when trusted */
  char reason[160];            /* libcrypto's text for error */
  bool expired;                /* leaf notAfter < at */
  bool not_yet_valid;          /* leaf notBefore > at */
  bool self_signed;            /* leaf is self-signed */
  bool hostname_checked;       /* a hostname (SNI) was given */
  bool hostname_match;         /* leaf matches it (SAN, else CN) */
  bool chain_complete;         /* the chain verified without certificates the
                                  server did not send (trusted roots aside) */
  bool chain_in_order;         /* each certificate is signed by the next one */
  size_t chain_len_used;       /* certificates in the verified path */
  char anchor_spki_sha256[65]; /* trusted: the anchor's key (SHA-256 of its
                                  SubjectPublicKeyInfo), "" otherwise */
};

/* Verify the server chain (wire order, chain[0] = leaf) as of packet time
 * `at`, for `hostname` (may be NULL).  Returns 0, or -1 when the trust
 * store could not be loaded (message in out->reason). */
int x509_trust_check(const struct tls_cert *chain, size_t n, const char *hostname, cap_time_us at,
                     const struct x509_trust_opts *opts, struct x509_trust *out);

/* A trust store loaded once and shared (threads may share it while
 * checking; open and close it outside them).  NULL when it cannot be
 * loaded: why in reason. */
struct x509_store;
struct x509_store *x509_store_open(const struct x509_trust_opts *opts, char *reason,
                                   size_t reason_len);
void x509_store_close(struct x509_store *store);
/* x509_trust_check() against an open store, the chain given as pointers
 * (a session's); always returns 0. */
int x509_trust_check_store(const struct x509_store *store, const struct tls_cert *const *chain,
                           size_t n, const char *hostname, cap_time_us at, struct x509_trust *out);

/* Intermediates from elsewhere (x509_verify.c): CA certificates
 * (basicConstraints CA:TRUE) seen in other chains or loaded from a bundle,
 * each with where it was found.  They only ever serve as untrusted
 * certificates to build a path from: the anchor still comes from the
 * store.  Not locked: fill it, then share it read-only. */
struct x509_pool;
struct x509_pool *x509_pool_new(void); /* NULL when out of memory */
void x509_pool_free(struct x509_pool *pool);
size_t x509_pool_count(const struct x509_pool *pool);
/* Keeps der if it is a CA certificate not in the pool yet (the first
 * `where` given stays); true when kept. */
bool x509_pool_add(struct x509_pool *pool, const uint8_t *der, size_t len, const char *where);
/* The same for a certificate the capture decoded already: its decoded form
 * is shared, not decoded again (its DER when it has none). */
bool x509_pool_add_cert(struct x509_pool *pool, const struct tls_cert *cert, const char *where);
/* Every certificate of a PEM file, or of the PEM files of a directory;
 * 0, or -1 with err set when nothing could be read. */
int x509_pool_load(struct x509_pool *pool, const char *path, char *err, size_t errlen);
/* What completing a chain found. */
struct x509_completion {
  const char *found_in;     /* the pool entry's `where` of the first certificate of
                               the path the server did not send; NULL: none */
  char missing_issuer[256]; /* issuer still missing: its name (RFC 2253), "" */
  char missing_aia[256];    /* and the AIA caIssuers URL naming it, "" */
  /* The certificates of the verified path below its anchor that the
   * server did not send (DER, owned: x509_completion_clear), for what is
   * decided about a chain's CAs besides trust (distrust). */
  uint8_t *added_der[4];
  size_t added_len[4];
  size_t n_added;
  /* The same verdict holds at any time in [same_from, same_until]: no
   * certificate that path building could consider (those sent, the pools',
   * the store's of each name the path looked up) becomes valid or expires
   * in between, a second apart from each boundary (libcrypto compares
   * seconds).  Lets a caller ask once per chain, not once per session. */
  cap_time_us same_from, same_until;
};
void x509_completion_clear(struct x509_completion *done);
/* x509_trust_check_store() with the pools' certificates as further
 * untrusted ones (pools[i] may be NULL). */
void x509_trust_complete(const struct x509_store *store, const struct x509_pool *const *pools,
                         size_t n_pools, const struct tls_cert *const *chain, size_t n,
                         const char *hostname, cap_time_us at, struct x509_trust *out,
                         struct x509_completion *done);

/* A memo of verdicts (trust_memo.c): x509_trust_check_store() asked once
 * per chain, hostname and set of certificates valid at `at`, then answered
 * from memory.  One per run, shared by its threads (it locks); bounded:
 * when full, verdicts are computed afresh. */
struct x509_trust_memo;
/* What the owner keeps with each verdict besides it: `size` bytes that
 * `derive` fills (zeroed first) from the chain and its fresh verdict, each
 * time a verdict is computed.  Opaque to the memo. */
struct x509_memo_payload {
  size_t size;
  void (*derive)(const struct tls_cert *const *chain, size_t n, const struct x509_trust *trust,
                 void *payload, void *arg);
  void *arg;
};
/* payload may be NULL (only verdicts); copied.  Remembers max_entries
 * verdicts at most.  NULL when out of memory. */
struct x509_trust_memo *x509_trust_memo_new(const struct x509_memo_payload *payload,
                                            size_t max_entries);
void x509_trust_memo_free(struct x509_trust_memo *memo);
/* Verdicts computed that the full memo could not keep (memo may be NULL). */
size_t x509_trust_memo_refused(struct x509_trust_memo *memo);
#define X509_TRUST_MEMO_DEFAULT 2048
/* The verdict on the chain as x509_trust_check_store() gives it, and into
 * payload (NULL, or the memo's payload size) what derive made of it. */
void x509_trust_memo_verdict(struct x509_trust_memo *memo, const struct x509_store *store,
                             const struct tls_cert *const *chain, size_t n, const char *hostname,
                             cap_time_us at, struct x509_trust *trust, void *payload);

/* ------------------------------------------------------------------ */
/* A connection's dissector                                            */

struct tls_limits {
  size_t max_handshake_bytes; /* per connection and direction */
  size_t max_chain_len;       /* certificates kept */
  size_t max_cert_bytes;      /* one certificate */
  size_t max_buffer_total;    /* record and handshake buffers, held QUIC CRYPTO pieces and DTLS
                                 fragments of all connections (a budget) */
  size_t max_quic_pieces;     /* out-of-order QUIC CRYPTO pieces per direction and space */
  size_t max_dtls_pieces;     /* DTLS fragments held ahead of a hole, per direction */
  size_t max_history;         /* plaintext messages remembered per connection (ssl_history),
                                 TLS_MAX_HISTORY_LIMIT at most */
  size_t max_starttls_bytes;  /* clear text scanned per direction for a STARTTLS switch */
  size_t max_h3_streams;      /* HTTP/3 streams followed per QUIC connection (key log) */
  size_t max_h3_section;      /* bytes of an HTTP/3 field section held per stream */
};

/* What the record and handshake buffers of all the connections one thread
 * dissects hold (record.c), with their held QUIC CRYPTO pieces
 * (quic_crypto.c) and DTLS fragments (dtls.c), against
 * tls_limits.max_buffer_total: half-done handshakes by the hundred
 * thousand cannot hold more.  A buffer that would grow past it is not
 * grown (that direction stops), a piece is not held; either is counted in
 * its session, cap_buffer_total. */
struct tls_budget {
  size_t held;
};
void tls_limits_default(struct tls_limits *lim);

/* A key log (NSS SSLKEYLOGFILE format): the secrets of the connections it
 * names.  Loaded before the capture is read; read-only (and shared by
 * threads) afterwards. */
struct tls_keylog;
struct tls_keylog_stats {
  size_t lines, secrets, ignored, bad;
  size_t refused;        /* secrets of connections past the cap (tls_keylog_set_max) */
  size_t first_bad_line; /* 1-based, 0 none */
};
struct tls_keylog *tls_keylog_new(void);
/* At most max_entries connections' secrets (default 1,000,000, about 290
 * bytes each); the secrets of more are refused and counted. */
void tls_keylog_set_max(struct tls_keylog *kl, size_t max_entries);
uint64_t tls_keylog_refused(const struct tls_keylog *kl); /* secrets refused so far */
/* Add the secrets of one file; returns -1 (why in err) when it cannot be
 * read.  Bad lines are counted in st, never fatal. */
int tls_keylog_load(struct tls_keylog *kl, const char *path, struct tls_keylog_stats *st, char *err,
                    size_t errlen);
/* One line of key log text: 1 a secret kept, 0 ignored (comment, other
 * label), -1 malformed. */
int tls_keylog_add_line(struct tls_keylog *kl, const char *line);
size_t tls_keylog_count(const struct tls_keylog *kl); /* connections with secrets */
void tls_keylog_free(struct tls_keylog *kl);

struct tls_conn;
/* transport_udp: datagrams (DTLS, QUIC) instead of a byte stream. */
struct tls_conn *tls_conn_new(const struct tls_limits *lim, bool transport_udp,
                              uint16_t server_port);
/* The flow's roles were guessed (no SYN): the dissector may swap them when
 * the first bytes it sees are a hello from the other side.  Read the result
 * in tls_session.roles_swapped. */
void tls_conn_roles_guessed(struct tls_conn *c);
/* Leave the session's JA4 empty: --handshakes prints it and grading's
 * client inventory lists clients by it; --flows needs none of its two
 * sorts and two SHA-256.  (JA3, a
 * client's identity for the server-preference check, is always made.) */
void tls_conn_skip_ja4(struct tls_conn *c);
/* SHA-256 fetched from the providers once for the run (NULL when
 * libcrypto has none): EVP_sha256() is looked up again at every
 * EVP_DigestInit_ex, under a lock the -j threads share. */
struct evp_md_st; /* EVP_MD, from <openssl/types.h> */
const struct evp_md_st *tls_sha256(void);
/* Read certificates through this cache (borrowed; may be NULL). */
void tls_conn_set_cert_cache(struct tls_conn *c, struct x509_cache *cache);
/* Decrypt with this key log (borrowed; NULL: never decrypt, the default,
 * which costs nothing per record). */
void tls_conn_set_keylog(struct tls_conn *c, const struct tls_keylog *kl);
void tls_conn_free(struct tls_conn *c);
/* Feed in-order bytes of one direction (arguments as capture delivers
 * them).  Returns true when the dissector needs no more payload bytes of
 * this direction: the caller may switch it to skip mode (record headers are
 * then followed from lengths alone). */
bool tls_conn_data(struct tls_conn *c, int dir, const uint8_t *data, size_t len, uint64_t gap_len,
                   unsigned flags, uint32_t file_index, uint64_t frame, cap_time_us ts);
/* Facts so far (complete after the flow ended). */
const struct tls_session *tls_conn_session(const struct tls_conn *c);
/* A server flight without a client side: the server sent handshake
 * messages on a connection where no ClientHello was seen (the capture
 * began mid-way, saw one direction only, or the packets were forged).
 * Nothing it shows is known to answer anyone. */
bool tls_session_unverified(const struct tls_session *s);
/* The fatal alert (in clear, or opened with a key log) with which the
 * client ended a handshake the server had answered, before it was
 * established; NULL when none. */
const struct tls_alert *tls_session_client_abort(const struct tls_session *s);
/* The flow was evicted from a full table: the session says so. */
void tls_conn_evicted(struct tls_conn *c);
/* True when dir (the flow's direction, as given to tls_conn_data) carries
 * protected records (after ChangeCipherSpec, or application data) and no
 * key log is loaded: only their 5-byte headers are read (alerts and
 * heartbeats excepted, a few bytes each). */
bool tls_conn_headers_only(const struct tls_conn *c, int dir);
/* Bytes of buffer the connection holds for records and handshake messages
 * still being put together (both directions), with its held QUIC CRYPTO
 * pieces and DTLS fragments: what it took from its budget. */
size_t tls_conn_buffer_bytes(const struct tls_conn *c);
/* The budget this connection's record and handshake buffers draw on (one
 * per thread); without one they are bounded per connection only. */
void tls_conn_set_budget(struct tls_conn *c, struct tls_budget *budget);

/* ------------------------------------------------------------------ */
/* Clear-text HTTP (http.c, libhtp)                                    */

/* What the first response of a plain-http flow said. */
struct http_facts {
  unsigned responses;
  struct tls_at at;    /* where the first response completed */
  int status;          /* its status code */
  char host[256];      /* the request's host (raw: sanitise on output) */
  char location[512];  /* Location header, "" none */
  bool redirect_https; /* 3xx to https:// */
};

struct http_conn;
bool http_looks_like_request(const uint8_t *p, size_t n);
struct http_conn *http_conn_new(void);
void http_conn_data(struct http_conn *h, int dir, const uint8_t *p, size_t n,
                    const struct tls_at *at);
const struct http_facts *http_conn_facts(const struct http_conn *h);
void http_conn_free(struct http_conn *h);

#endif
