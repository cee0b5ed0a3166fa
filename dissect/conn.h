/*
 * dissect/conn.h - the state of one connection's dissector (private).
 */
#ifndef TLSGRADE_DISSECT_CONN_H
#define TLSGRADE_DISSECT_CONN_H

#include "dissect/internal.h"

enum {
  TLS_CT_CHANGE_CIPHER_SPEC = 20,
  TLS_CT_ALERT = 21,
  TLS_CT_HANDSHAKE = 22,
  TLS_CT_APPLICATION_DATA = 23,
  TLS_CT_HEARTBEAT = 24,
};

/* Handshake message types (RFC 8446 4, RFC 5246 7.4). */
enum {
  TLS_HS_HELLO_REQUEST = 0,
  TLS_HS_CLIENT_HELLO = 1,
  TLS_HS_SERVER_HELLO = 2,
  TLS_HS_NEW_SESSION_TICKET = 4,
  TLS_HS_ENCRYPTED_EXTENSIONS = 8,
  TLS_HS_CERTIFICATE = 11,
  TLS_HS_SERVER_KEY_EXCHANGE = 12,
  TLS_HS_CERTIFICATE_REQUEST = 13,
  TLS_HS_SERVER_HELLO_DONE = 14,
  TLS_HS_FINISHED = 20,
  TLS_HS_CERTIFICATE_STATUS = 22,
  TLS_HS_KEY_UPDATE = 24,
};

/* RFC 5246 6.2.3: a protected record's fragment is at most 2^14 + 2048
 * bytes; a longer length is not TLS. */
#define TLS_MAX_RECORD (16384 + 2048)

enum tls_dir_mode {
  TLS_MODE_UNKNOWN,   /* nothing seen yet */
  TLS_MODE_PLAINTEXT, /* a STARTTLS protocol before the switch */
  TLS_MODE_TLS,       /* TLS records */
  TLS_MODE_SSLV2,     /* SSLv2 record format */
  TLS_MODE_NOT_TLS,   /* gave up: not TLS */
};

/* One direction.  Owns body and hs. */
struct tls_dir {
  enum tls_dir_mode mode;
  uint8_t lead[6]; /* first bytes, until there are enough to decide the mode */
  size_t lead_have;
  bool lost;        /* lost record sync (gap, garbage): stop parsing */
  bool encrypted;   /* records are protected from here on */
  bool hs_overflow; /* handshake cap hit: no more buffering */
  bool opened;      /* the record being routed was opened with a key log */
  uint8_t hdr[5];
  size_t hdr_have;
  uint8_t rec_type;
  uint16_t rec_version;
  size_t body_len, body_have;
  bool buffering; /* this record's body is copied */
  uint8_t *body;
  size_t body_cap;
  uint8_t *hs; /* handshake bytes not yet a whole message */
  size_t hs_len, hs_cap;
  uint64_t plaintext_seen; /* bytes scanned in plaintext mode */
  unsigned encrypted_hs;   /* protected handshake records seen */
  /* DTLS: the handshake message being reassembled from fragments; made
   * at a direction's first DTLS fragment (owned), so TCP connections do
   * not carry it. */
  struct tls_dtls_dir *dtls;
};

/* A DTLS direction's message reassembly (dtls.c). */
struct tls_dtls_dir {
  bool active;
  uint8_t type;
  uint16_t seq;
  int32_t last_done; /* highest message_seq delivered, -1 none */
  uint32_t len;      /* the message length its fragments claim */
  uint32_t have;     /* bytes [0, have) received, in buf */
  uint32_t cap;      /* buf's size: grows with what arrives, not the claim */
  uint8_t *buf;
  struct dtls_piece *pieces; /* fragments beyond have, sorted, owned */
  unsigned npieces;
  size_t charged; /* what buf and the pieces took from the budget */
};

struct quic_conn;
struct tls_clear;
struct tls_decrypt;
struct tls_app_data;

struct tls_conn {
  struct tls_limits lim;
  struct tls_session s;
  struct tls_dir dir[2];
  bool udp;
  uint16_t server_port;
  struct quic_conn *quic;
  struct x509_cache *cert_cache;   /* borrowed */
  struct tls_budget *budget;       /* borrowed, NULL: no shared bound */
  const struct tls_keylog *keylog; /* borrowed, NULL: no decryption */
  struct tls_decrypt *dec;         /* owned, made at the ServerHello with a key log */
  struct tls_app_data *app_data;   /* owned, made at the first decrypted application data */
  bool dtls;
  bool roles_guessed;      /* may swap on the first bytes */
  bool first_seen;         /* first payload already looked at */
  bool ssl2_done;          /* CLIENT-MASTER-KEY seen: the rest is encrypted */
  bool no_ja4;             /* tls_conn_skip_ja4 */
  bool webrtc;             /* a STUN message was seen: datagrams are demultiplexed */
  uint32_t webrtc_skipped; /* datagrams not DTLS in such a flow, before DTLS */
  bool began_clear;        /* a direction began in clear text: STARTTLS rules (starttls.c) */
  int8_t first_dir;        /* the direction that sent the first payload, -1 none yet */
  struct tls_clear *clear; /* owned: the clear-text exchange before a STARTTLS switch */
};

/* sniff.c - does r start like this?  r is a copy: nothing is consumed. */
/* A TLS record carrying handshake message hs_type (1 ClientHello, 2
 * ServerHello) in its first bytes. */
bool tls_sniff_hello(struct rd r, uint8_t hs_type);
/* Any TLS record header: a server that answers with an alert, a capture
 * that starts after the handshake. */
bool tls_sniff_record(struct rd r);
/* An SSLv2-format record carrying msg_type (1 CLIENT-HELLO, 4 SERVER-HELLO). */
bool tls_sniff_sslv2(struct rd r, uint8_t msg_type);
/* A DTLS handshake record; with _hello, whose first message is hs_type. */
bool tls_sniff_dtls(struct rd r);
bool tls_sniff_dtls_hello(struct rd r, uint8_t hs_type);
/* A STUN message (RFC 8489 5: first two bits zero, the magic cookie, a
 * length that fills the datagram in 4-byte units). */
bool tls_sniff_stun(struct rd r);
/* A QUIC long-header packet (RFC 9000 17.2). */
bool tls_sniff_quic_long_header(struct rd r);

/* conn.c */
void tls_dir_clear(struct tls_dir *d);

/* record.c - the record dispatcher: record headers, and where each
 * record's content goes (handshake parser, alerts, the decryptor, and the
 * plaintext it returns). */
void tls_records(struct tls_conn *c, int dir, const uint8_t *p, size_t n, const struct tls_at *at);
void tls_sslv2_records(struct tls_conn *c, int dir, const uint8_t *p, size_t n,
                       const struct tls_at *at);
/* Handshake messages without a record layer (QUIC CRYPTO frames). */
void tls_handshake_stream(struct tls_conn *c, int dir, const uint8_t *p, size_t n,
                          const struct tls_at *at);
void tls_alert(struct tls_conn *c, int dir, struct rd body, size_t len, bool encrypted,
               const struct tls_at *at);
/* An alert a key log opened: level and description known. */
void tls_alert_decrypted(struct tls_conn *c, int dir, struct rd body, const struct tls_at *at);
void tls_heartbeat(struct tls_conn *c, int dir, struct rd body, size_t len, bool encrypted,
                   const struct tls_at *at);
/* A whole handshake message from a TLS or DTLS record or a QUIC CRYPTO
 * frame: the parser reads it, then the key schedule learns what moved. */
void tls_deliver_handshake_message(struct tls_conn *c, int dir, uint8_t type, struct rd body,
                                   const struct tls_at *at);
/* A ChangeCipherSpec record: the same, for TLS <= 1.2 keys. */
void tls_deliver_change_cipher_spec(struct tls_conn *c, int dir);

/* dtls.c */
void tls_dtls_datagram(struct tls_conn *c, int dir, const uint8_t *p, size_t n,
                       const struct tls_at *at);
/* Frees d's DTLS buffers; their budget (d->dtls_charged) is the caller's
 * to give back. */
/* Free d's DTLS reassembly (its budget given back by the caller). */
void tls_dtls_clear(struct tls_dir *d);

/* app_data.c - decrypted application data: HTTP responses.  False once
 * nothing more is worth reading (not HTTP, parser gave up, enough read). */
bool tls_app_data_plaintext(struct tls_conn *c, int dir, const uint8_t *p, size_t n,
                            const struct tls_at *at);
void tls_app_data_free(struct tls_app_data *app);
/* The server's bytes of QUIC stream id (HTTP/3 when ALPN is h3).  False
 * once nothing more is worth reading. */
bool tls_app_data_quic_stream(struct tls_conn *c, uint64_t id, uint64_t off, const uint8_t *p,
                              size_t n, const struct tls_at *at);

/* handshake.c: the handshake parser.  It calls nothing that decrypts. */
/* Note a plaintext message in the session's history (struct tls_msg). */
void tls_history_add(struct tls_conn *c, int dir, uint8_t content_type, uint8_t hs_type);
void tls_handshake_message(struct tls_conn *c, int dir, uint8_t type, struct rd body,
                           const struct tls_at *at);
void tls_sslv2_message(struct tls_conn *c, int dir, struct rd body, const struct tls_at *at);
void tls_direction_encrypted(struct tls_conn *c, int dir);
/* True when the direction is protected from here on (TLS <= 1.2). */
bool tls_change_cipher_spec(struct tls_conn *c, int dir);
void tls_app_data(struct tls_conn *c, int dir, const struct tls_at *at);
void tls_encrypted_handshake(struct tls_conn *c, int dir, const struct tls_at *at);
void tls_set_malformed(struct tls_conn *c, const char *why, const struct tls_at *at);
void tls_session_clear(struct tls_session *s);

/* starttls.c */
/* Clear-text bytes of a connection that began in clear text: true when
 * the direction switches to TLS at p[*tls_from] (*tls_from may be n: the
 * next bytes).  Sets the direction's mode to TLS_MODE_NOT_TLS (both
 * directions') once no switch can follow. */
bool tls_starttls_scan(struct tls_conn *c, int dir, const uint8_t *p, size_t n, size_t *tls_from);
/* Bytes of dir were lost in clear text (see starttls.c for what survives). */
void tls_starttls_gap(struct tls_conn *c, int dir);
void tls_starttls_free(struct tls_clear *cl);

#endif
