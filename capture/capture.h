/*
 * capture/capture.h - the one public header of the capture layer.
 *
 * capture turns packets (pcap/pcapng files, a live interface) into ordered
 * bytes per connection and direction.  It knows nothing of TLS.
 *
 *   source.c     inputs: files, directories, stdin, live interfaces
 *   read.c       the loop that reads them into a decoder and a sink
 *   filebuf.c    a classic pcap file read into reused buffers, as libpcap would
 *   decode.c     link layer -> IPv4/IPv6 -> TCP/UDP; the -j routing peek
 *   ipv6_ext.c   the IPv6 extension header walk
 *   tunnel.c     tunnel headers: VXLAN, GENEVE, GRE, ERSPAN, MPLS, PPPoE, GTP-U
 *   frag.c       IP fragment reassembly
 *   csum.h       the Internet checksum
 *   flow.c       bidirectional flow table, timeouts, eviction, nDPI glue
 *   tcp_reasm.c  per-direction TCP reassembly
 *   tuple_hash.h the symmetric flow hash: table buckets and the -j thread
 *   dispatch.c   -j for a live interface or stdin: rings to worker threads
 *   team.c       -j for files: every thread reads, each keeps its flows
 *   text.c       addresses and packet times as text
 * The other .h files are private to capture/.
 */
#ifndef TLSGRADE_CAPTURE_H
#define TLSGRADE_CAPTURE_H

#include "base/list.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Addresses and time (text.c)                                        */

struct cap_addr {
  uint8_t family;    /* 4 or 6 */
  uint8_t bytes[16]; /* IPv4 in the first 4 bytes, rest zero */
};

static inline bool cap_addr_eq(const struct cap_addr *a, const struct cap_addr *b) {
  return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

/* Microseconds since the epoch (packet time, never the wall clock). */
typedef int64_t cap_time_us;

/* "ip:port", IPv6 as "[addr]:port".  buf should hold CAP_ENDPOINT_STRLEN. */
#define CAP_ENDPOINT_STRLEN 56
void cap_endpoint_str(const struct cap_addr *addr, uint16_t port, char *buf, size_t buflen);
/* ISO-8601 UTC with microseconds, e.g. "2014-04-08T10:02:03.123456Z". */
#define CAP_TIME_STRLEN 40
void cap_time_str(cap_time_us ts, char *buf, size_t buflen);

/* Untrusted text for a terminal: file names, interface names, strings
 * from the wire.  Length of the valid UTF-8 sequence at p (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF) and its code point in
 * *cp, or 0 when invalid; reads no byte past a NUL. */
size_t cap_utf8_seq(const uint8_t *p, size_t n, uint32_t *cp);
/* The Unicode Bidi_Control characters (PropList.txt: U+061C, U+200E,
 * U+200F, U+202A..U+202E, U+2066..U+2069): they can show a name
 * reversed, so no report shows them as they are. */
bool cap_bidi_control(uint32_t cp);
/* s to out with control characters, escape sequences and bidirectional
 * controls made visible: C0 and DEL as \xNN, C1 and Bidi_Control as
 * \uNNNN, bytes that are not UTF-8 as \xNN; the rest as it is. */
void cap_term_puts(FILE *out, const char *s);
/* "tlsgrade: ", the formatted message through cap_term_puts and a
 * newline, on standard error: every message that may name a file. */
void cap_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------ */
/* Encapsulations (decode.c, tunnel.c; text.c writes them)             */

/* The tunnels a packet is read out of, each a layer. */
enum cap_encap_kind {
  CAP_ENCAP_VXLAN,   /* RFC 7348, UDP port 4789 */
  CAP_ENCAP_GENEVE,  /* RFC 8926, UDP port 6081 */
  CAP_ENCAP_GRE,     /* RFC 2784/2890 carrying Ethernet, IP or MPLS */
  CAP_ENCAP_ERSPAN1, /* GRE 0x88BE without a sequence number: no header */
  CAP_ENCAP_ERSPAN2, /* GRE 0x88BE */
  CAP_ENCAP_ERSPAN3, /* GRE 0x22EB */
  CAP_ENCAP_MPLS,    /* RFC 3032, a whole label stack */
  CAP_ENCAP_PPPOE,   /* RFC 2516 session stage */
  CAP_ENCAP_GTPU,    /* 3GPP TS 29.281, UDP port 2152 */
  CAP_ENCAP_KINDS
};

/* Layers read at most (cap_limits.encap_depth, never more than this); a
 * packet in more is dropped (decap_too_deep). */
#define CAP_ENCAP_MAX 8

/* What a tenant id is: the innermost VXLAN or GENEVE network identifier
 * or GRE key of the layers (tenant >> 32). */
enum { CAP_TENANT_NONE, CAP_TENANT_VXLAN_VNI, CAP_TENANT_GENEVE_VNI, CAP_TENANT_GRE_KEY };

/* The layers, outermost first.  The tenant keys flows with the inner
 * addresses, so that tenants with overlapping address spaces stay apart:
 * its type << 32 | its value, 0 for none. */
struct cap_encap {
  uint8_t depth;
  uint8_t kind[CAP_ENCAP_MAX]; /* enum cap_encap_kind, [0, depth) */
  uint8_t tenant_layer;        /* the layer the tenant id came from */
  uint64_t tenant;
};

/* The layers as text, e.g. "erspan2>vxlan:vni=7"; "" for none. */
#define CAP_ENCAP_STRLEN 128
void cap_encap_str(const struct cap_encap *e, char *buf, size_t buflen);
/* A kind's name as cap_encap_str writes it ("vxlan", "erspan2", ...). */
const char *cap_encap_name(unsigned kind);

/* ------------------------------------------------------------------ */
/* Limits and counters                                                 */

/* Every cap is configurable; every hit is counted in cap_stats. */
struct cap_limits {
  size_t max_flows;          /* flow table size; oldest flow evicted beyond */
  size_t tcp_ooo_bytes;      /* out-of-order bytes held per TCP direction */
  size_t tcp_ooo_segments;   /* out-of-order segments held per TCP direction */
  size_t reasm_total_bytes;  /* out-of-order bytes held by all streams together */
  size_t tcp_recent_bytes;   /* delivered bytes kept per TCP direction to compare
                                retransmissions with (0: none) */
  size_t recent_total_bytes; /* those bytes, all streams together */
  size_t frag_datagrams;     /* IP datagrams under reassembly at once */
  size_t frag_bytes;         /* bytes held in fragments, all datagrams together */
  size_t frag_pieces;        /* disjoint pieces held per datagram */
  cap_time_us frag_timeout;  /* a datagram not completed in this time is dropped */
  cap_time_us idle_timeout;  /* flow without packets this long ends */
  cap_time_us close_timeout; /* flow ends this long after RST or both FINs */
  unsigned ndpi_max_packets; /* nDPI sees at most this many packets per flow */
  size_t evicted_keys;       /* evicted flows remembered, so their later packets are
                                known for the rest of a connection (0: none) */
  size_t encap_depth;        /* tunnel layers read around a packet, CAP_ENCAP_MAX at most */
};
void cap_limits_default(struct cap_limits *lim);

struct cap_stats {
  uint64_t packets;          /* records read from the sources */
  uint64_t bytes;            /* their original (wire) length */
  uint64_t ip_packets;       /* IPv4/IPv6 packets decoded */
  uint64_t non_ip;           /* link frames that carry no IP (ARP, ...) */
  uint64_t other_l4;         /* IP packets that are neither TCP nor UDP */
  uint64_t malformed;        /* headers that lie (lengths, versions, ...) */
  uint64_t truncated;        /* cut by the snapshot length (caplen < len) */
  uint64_t bad_checksum_ip;  /* IPv4 header checksums that do not verify */
  uint64_t bad_checksum_l4;  /* TCP/UDP checksums that do not verify */
  uint64_t fragments;        /* IP fragments seen */
  uint64_t reassembled;      /* IP datagrams rebuilt from fragments */
  uint64_t flows;            /* flows created */
  uint64_t flows_timed_out;  /* flows ended by the idle timeout */
  uint64_t evictions;        /* flows ended because the table was full */
  uint64_t pcap_drops;       /* pcap_stats ps_drop (live) */
  uint64_t pcap_ifdrops;     /* pcap_stats ps_ifdrop (live) */
  uint64_t ndpi_unavailable; /* nDPI could not be set up: flows left "Unknown" */
  /* cap hits */
  uint64_t cap_tcp_ooo;      /* out-of-order data refused: per-stream cap */
  uint64_t cap_reasm_total;  /* out-of-order data refused: all streams' cap */
  uint64_t cap_frag;         /* fragments dropped: fragment caps */
  uint64_t cap_frag_pieces;  /* of those, by frag_pieces */
  uint64_t frag_timeouts;    /* datagrams never completed */
  uint64_t cap_recent_total; /* segments delivered with no ring to compare copies
                              * against: recent_total_bytes reached */
  /* segments the endpoints would not have accepted (flow.c) */
  uint64_t tcp_bad_checksum_dropped; /* bad TCP checksum in a direction that had good ones */
  uint64_t tcp_rst_ignored;          /* RSTs outside the receiver's window (RFC 5961 3.2) */
  /* flows that are the rest of an evicted one (flow.c) */
  uint64_t evicted_continuations; /* flows made by the later packets of an evicted flow */
  uint64_t cap_evicted_keys;      /* evicted flows forgotten before their rest came:
                                     evicted_keys reached (or a slot reused) */
  /* tunnels (decode.c) */
  uint64_t decap[CAP_ENCAP_KINDS]; /* tunnel headers read, by kind */
  uint64_t decap_too_deep;         /* packets in more than encap_depth layers: dropped */
  uint64_t decap_malformed;        /* tunnel headers that lie: packet dropped */
  /* The earliest and latest packet time read (the capture period), set
   * once packets > 0: inputs need not be in time order. */
  cap_time_us first_ts, last_ts;
};

/* ------------------------------------------------------------------ */
/* Decoded packets (decode.c)                                          */

enum {
  CAP_TCP_FIN = 0x01,
  CAP_TCP_SYN = 0x02,
  CAP_TCP_RST = 0x04,
  CAP_TCP_PSH = 0x08,
  CAP_TCP_ACK = 0x10,
  CAP_TCP_URG = 0x20
};

/* One decoded packet.  Pointers point into the frame or into the decoder's
 * reassembly buffer; they stay valid until the next cap_decode() call. */
struct cap_packet {
  uint32_t file_index; /* which input (0-based) */
  uint64_t frame;      /* 1-based frame number within that input */
  cap_time_us ts;
  uint32_t wire_len; /* original length of the frame */
  uint32_t cap_len;  /* captured length */

  const uint8_t *l3; /* IP header (for nDPI) */
  size_t l3_len;     /* captured bytes from l3 on (whole datagram) */
  struct cap_addr src, dst;
  uint8_t l4_proto; /* 6 TCP, 17 UDP, other values: no ports */
  uint16_t src_port, dst_port;
  uint32_t tcp_seq, tcp_ack;
  uint8_t tcp_flags;       /* CAP_TCP_* */
  uint16_t tcp_window;     /* the advertised window, unscaled */
  bool tcp_wscale_sent;    /* a SYN with the window scale option (RFC 7323 2.2) */
  uint8_t tcp_wscale;      /* its shift count, at most 14 (RFC 7323 2.3) */
  uint16_t tcp_mss;        /* a SYN's maximum segment size option, 0 none */
  uint8_t csum_verdict;    /* CAP_CSUM_*: what the decoder found, when it summed */
  const uint8_t *payload;  /* L4 payload actually captured */
  size_t payload_len;      /* captured payload bytes */
  size_t payload_wire_len; /* payload length the headers announce */
  bool truncated;          /* payload_len < payload_wire_len (snaplen) */
  bool reassembled;        /* rebuilt from IP fragments */
  struct cap_encap encap;  /* the tunnels around src..dst (depth 0: none) */
  /* The TCP/UDP checksum, when the decoder left it to the packet's
   * consumer (cap_decoder_defer_checksums): the segment (inside l3) and
   * the pseudo-header's destination. */
  bool csum_deferred;
  const uint8_t *csum_seg;
  size_t csum_len;
  struct cap_addr csum_dst;
};

/* A TCP/UDP checksum as the decoder left it: summed and right, summed and
 * wrong, or not summed (deferred, or cut by the snapshot length). */
enum { CAP_CSUM_UNCHECKED = 0, CAP_CSUM_GOOD, CAP_CSUM_BAD };

/* Link types (DLT_* values as in pcap/dlt.h). */
enum {
  CAP_DLT_NULL = 0,
  CAP_DLT_EN10MB = 1,
  CAP_DLT_RAW = 12,
  CAP_DLT_LOOP = 108,
  CAP_DLT_LINUX_SLL = 113,
  CAP_DLT_IPV4 = 228,
  CAP_DLT_IPV6 = 229,
  CAP_DLT_LINUX_SLL2 = 276
};
bool cap_linktype_supported(int dlt);

struct cap_decoder; /* fragment reassembly state; owned by the caller */
struct cap_decoder *cap_decoder_new(const struct cap_limits *lim, struct cap_stats *stats);
void cap_decoder_free(struct cap_decoder *dec);
/* Leave TCP/UDP checksums to whoever takes the packet (-j: the workers,
 * which have the cores to spare; the reader is the serial part). */
void cap_decoder_defer_checksums(struct cap_decoder *dec, bool defer);
/* A deferred checksum: false when it does not verify (count it in
 * bad_checksum_l4); true when it verifies or was not deferred. */
bool cap_packet_checksum_ok(const struct cap_packet *pkt);

/* Addresses, ports and protocol of a frame, read without decoding it. */
struct cap_tuple {
  struct cap_addr src, dst;
  uint16_t src_port, dst_port;
  uint8_t proto;
};
/* True for a TCP or UDP packet that is no fragment and has no IPv6
 * extension header: *t is then what cap_decode would give, should it take
 * the packet (it may still find it malformed).  False when only cap_decode
 * can tell (fragments, other protocols, short or odd headers, a UDP tunnel's
 * port: the flow is the inner packet's). */
bool cap_peek_tuple(int dlt, const uint8_t *frame, size_t caplen, struct cap_tuple *t);

/* Decode one frame.  Returns 1 when *out holds an IP packet with a TCP/UDP
 * (or other) payload, 0 when the frame yields nothing (non-IP, a fragment
 * held for reassembly, malformed: counted in stats).  out->file_index,
 * frame, ts, wire_len and cap_len are filled by the caller beforehand. */
int cap_decode(struct cap_decoder *dec, int dlt, const uint8_t *frame, size_t caplen,
               struct cap_packet *out);

/* ------------------------------------------------------------------ */
/* TCP reassembly (tcp_reasm.c)                                        */

/* What a delivery carries. */
enum {
  TCP_DATA_GAP = 0x01,  /* bytes are missing before this delivery (data may be
                           NULL and len 0 for a gap reported at the end) */
  TCP_DATA_SKIP = 0x02, /* data is NULL: skip mode, len bytes were counted only */
};

/* In-order bytes: data[0..len), completed by frame `frame` at time `ts`.
 * gap_len is the number of bytes missing before data (0 without a gap). */
typedef void (*tcp_deliver_fn)(void *ctx, const uint8_t *data, size_t len, uint64_t gap_len,
                               unsigned flags, uint32_t file_index, uint64_t frame, cap_time_us ts);

struct tcp_seg; /* private: one held out-of-order segment */

/* Per-direction counters, shown by --flows. */
struct tcp_counters {
  uint64_t stream_bytes;      /* payload delivered in order, each byte once */
  uint64_t gaps;              /* holes the stream continued past */
  uint64_t gap_bytes;         /* bytes in those holes */
  uint64_t out_of_order;      /* segments that arrived ahead of a hole */
  uint64_t retransmits;       /* segments entirely already seen */
  uint64_t overlaps;          /* segments partly already seen */
  uint64_t overlap_conflicts; /* overlaps whose bytes differ from the first copy */
  uint64_t cap_hits;          /* segments refused by the out-of-order cap */
  uint64_t uncompared;        /* retransmitted bytes behind the delivered point that
                                 were no longer kept (tcp_recent_bytes): not compared */
};

#define TCP_ALT_STARTS 4 /* other SYN starts remembered per direction */

/* One direction of a TCP connection.  Owns its held segments. */
struct tcp_stream {
  bool base_known; /* next_seq is meaningful */
  bool syn_seen;
  bool fin_seen;
  bool rst_seen;
  bool skip;            /* consumer asked for counting only */
  uint32_t next_seq;    /* sequence number of the next byte to deliver */
  uint32_t fin_seq;     /* sequence number of FIN, when fin_seen */
  struct tcp_seg *held; /* out-of-order segments, sorted by sequence */
  size_t held_bytes;
  size_t held_segments;
  /* The last recent_len delivered bytes, ending before recent_next, in a
   * ring of recent_cap bytes (recent_end: where the next byte goes); owned.
   * The ring grows with what is delivered, up to recent_max (a stream that
   * delivered one ClientHello holds that much, not tcp_recent_bytes).
   * Frozen while the consumer reads only record headers. */
  uint8_t *recent;
  size_t recent_cap, recent_len, recent_end, recent_max;
  uint32_t recent_next;
  bool recent_frozen;
  struct tcp_counters count;
  /* What this direction's sender said as a receiver, in its ACKs and SYN:
   * the window a RST sent to it must fall in (RFC 5961 3.2). */
  bool acked;           /* last_ack and window hold values */
  bool window_from_syn; /* that window came in a SYN, so is never scaled */
  bool wscale_sent;     /* its SYN carried the window scale option */
  uint8_t wscale;       /* the shift it announced */
  uint16_t mss;         /* the maximum segment size its SYN announced, 0 none */
  uint16_t window;      /* the latest window it advertised, unscaled */
  uint32_t last_ack;    /* the highest acknowledgment number it sent */
  /* Other starts announced by SYNs before a byte was delivered: several
   * SYN-ACKs (middleboxes, load balancers, SYN cookies retried) or SYNs
   * with new initial sequence numbers.  The first data, or the peer's
   * acknowledgment, that lands on one of them moves next_seq there. */
  uint32_t alt_start[TCP_ALT_STARTS];
  uint8_t n_alt_start;
};

void tcp_stream_init(struct tcp_stream *s);
void tcp_stream_free(struct tcp_stream *s);
/* Feed one segment of this direction.  `lim` gives the out-of-order caps
 * and how many delivered bytes to keep for comparing retransmissions;
 * delivered bytes go to fn(ctx, ...).  A SYN sets the initial sequence
 * number; without one, the first segment seen starts the stream. */
void tcp_stream_segment(struct tcp_stream *s, const struct cap_limits *lim, uint32_t seq,
                        uint8_t flags, const uint8_t *data, size_t len, uint32_t file_index,
                        uint64_t frame, cap_time_us ts, tcp_deliver_fn fn, void *ctx);
/* The peer acknowledged `ack`: bytes below it that we never saw are lost
 * from the capture; declare the gap and deliver what is held beyond it. */
void tcp_stream_ack(struct tcp_stream *s, uint32_t ack, uint32_t file_index, uint64_t frame,
                    cap_time_us ts, tcp_deliver_fn fn, void *ctx);
/* Remember the window and acknowledgment a packet of this direction
 * advertises (and a SYN's window scale option). */
void tcp_stream_note_receiver(struct tcp_stream *s, const struct cap_packet *pkt);
/* Would the receiver accept a RST of `sender` at seq (with its flags and
 * ack)?  Only when seq lies in the receiver's window (RFC 793 3.4, RFC 5961
 * 3.2); see tcp_reasm.c for what counts as the window when the capture
 * did not see it all. */
bool tcp_rst_acceptable(const struct tcp_stream *sender, const struct tcp_stream *receiver,
                        uint32_t seq, uint8_t flags, uint32_t ack);
/* Counting only from now on (or not): the ring of delivered bytes goes. */
void tcp_stream_set_skip(struct tcp_stream *s, bool skip);
/* End of the stream (flow ends): deliver everything still held, with gaps. */
void tcp_stream_flush(struct tcp_stream *s, tcp_deliver_fn fn, void *ctx);

/* ------------------------------------------------------------------ */
/* Flows (flow.c)                                                      */

enum { FLOW_C2S = 0, FLOW_S2C = 1 };

enum flow_end_reason {
  FLOW_END_CLOSED,  /* FIN/RST, then close_timeout */
  FLOW_END_IDLE,    /* idle_timeout */
  FLOW_END_EVICTED, /* table full */
  FLOW_END_REUSED,  /* a new SYN on the same 5-tuple */
  FLOW_END_EOF,     /* end of input */
};

struct flow_dir_stats {
  uint64_t packets;
  uint64_t bytes; /* on the wire */
};

struct ndpi_flow_struct;

/* One bidirectional flow.  Owned by the flow table. */
struct flow {
  struct cap_addr client_addr, server_addr;
  uint16_t client_port, server_port;
  uint8_t l4_proto;
  /* The tunnels of its first packet; encap.tenant is part of the key. */
  struct cap_encap encap;
  bool roles_from_syn;   /* client known from a SYN (else port rule) */
  bool closing;          /* RST or both FINs seen */
  bool client_isn_known; /* client_isn holds the SYN's sequence number */
  uint32_t client_isn;   /* to tell a port reuse from a SYN retransmit */
  uint64_t id;           /* creation order, 0-based */
  cap_time_us first_ts, last_ts, close_ts;
  struct flow_dir_stats dir[2];
  struct tcp_stream tcp[2]; /* TCP only */
  uint64_t udp_bytes[2];    /* UDP payload bytes delivered */
  char *app; /* nDPI protocol name ("TLS", "HTTP"; NULL: "Unknown"), owned: most flows
              * (grading never runs nDPI) carry no name */
  struct ndpi_flow_struct *ndpi; /* from the first payload until detection ends */
  bool ndpi_done;                /* detection ended (or never started) */
  unsigned ndpi_packets;
  void *user;             /* the consumer's per-flow state */
  bool headers_only[2];   /* the consumer reads only record headers of
                           * this direction's payload from here on */
  bool csum_good_seen[2]; /* a segment of this direction had a good checksum */
  bool continues_evicted; /* made by later packets of a flow evicted with payload: the
                           * connection's beginning was in that flow, not here */
  /* private to flow.c */
  struct flow *hash_next;
  struct list_node lru_link;   /* on the table's list by last activity */
  struct list_node close_link; /* on its list of closing flows */
  uint32_t hash;
};

/* What the consumer (dissect, or the --flows printer) hears. */
struct cap_callbacks {
  void *ctx;
  /* a new flow; may set flow->user */
  void (*flow_start)(void *ctx, struct flow *flow);
  /* in-order TCP bytes or one UDP datagram (flags 0), per direction */
  void (*flow_data)(void *ctx, struct flow *flow, int dir, const uint8_t *data, size_t len,
                    uint64_t gap_len, unsigned flags, uint32_t file_index, uint64_t frame,
                    cap_time_us ts);
  /* both sides closed (FIN/RST): the connection is over, though its flow
   * lingers close_timeout for late packets (may be NULL) */
  void (*flow_closing)(void *ctx, struct flow *flow);
  /* the flow ends; last call for it; must release flow->user */
  void (*flow_end)(void *ctx, struct flow *flow, enum flow_end_reason why);
};

struct flow_table;
struct flow_table *flow_table_new(const struct cap_limits *lim, struct cap_stats *stats,
                                  const struct cap_callbacks *cb, bool use_ndpi);
void flow_table_free(struct flow_table *ft); /* ends remaining flows (FLOW_END_EOF) */
/* End every remaining flow (FLOW_END_EOF) now, keeping the table. */
void flow_table_end_all(struct flow_table *ft);
/* Account one decoded packet: find/create its flow, classify, reassemble,
 * deliver; expire flows whose timeouts passed at packet time pkt->ts. */
void flow_table_packet(struct flow_table *ft, const struct cap_packet *pkt);
/* Expire flows as of time `now` (also called at the end of each input). */
void flow_table_expire(struct flow_table *ft, cap_time_us now);
size_t flow_table_count(const struct flow_table *ft);
/* The consumer may switch a direction to counting-only. */
void flow_set_skip(struct flow *flow, int dir, bool skip);
/* Or say that it reads only a few header bytes of each packet's payload:
 * the payload's checksum is then not summed (it is only counted, never
 * acted on, and summing would read every byte of the bulk of a capture). */
void flow_set_headers_only(struct flow *flow, int dir, bool headers_only);

/* ------------------------------------------------------------------ */
/* Sources (source.c, read.c)                                          */

/* The live ring when -B does not say: a tap's burst, not libpcap's 2 MB. */
#define CAP_LIVE_BUFFER_DEFAULT (128 * 1024 * 1024)

struct cap_live_options {
  const char *iface;
  const char *bpf; /* may be NULL */
  int snaplen;     /* default 262144 */
  int buffer_size; /* bytes; 0 = CAP_LIVE_BUFFER_DEFAULT */
  bool promisc;
  bool immediate; /* a wake-up per packet (off by default: source.c) */
  /* -w: every packet read is also written (pcap_dump) to this file, opened
   * at the first cap_source_run (after a privilege drop, as tcpdump's);
   * the evidence then cites the written file and its frame numbers.  With
   * rotate_bytes or rotate_us a new file is begun when the current one
   * would pass that size or has that age (tcpdump -C, -G): FILE, then
   * FILE1, FILE2, ... (tcpdump -C's names). */
  const char *write_path;
  uint64_t rotate_bytes;
  cap_time_us rotate_us;
};
/* At most this many files written by one -w run; the last keeps growing. */
#define CAP_WRITE_MAX_FILES 100000

struct cap_source;
/* Files: each path is a pcap/pcapng file, a directory (its capture files in
 * version order), or "-" for stdin.  Opens nothing yet except checking the
 * paths.  On error returns NULL and writes a one-line message to err. */
struct cap_source *cap_source_files(char *const *paths, size_t npaths, const char *bpf, char *err,
                                    size_t errlen);
struct cap_source *cap_source_live(const struct cap_live_options *opt, char *err, size_t errlen);
/* -j N -i: N handles joined in one PACKET_FANOUT group (fanout.c; n <= 1:
 * cap_source_live).  Read them with cap_dispatch_live. */
struct cap_source *cap_source_live_group(const struct cap_live_options *opt, size_t n, char *err,
                                         size_t errlen);
size_t cap_source_members(const struct cap_source *src); /* 0: not a group */
void cap_source_free(struct cap_source *src);
size_t cap_source_count(const struct cap_source *src); /* inputs (-w: the files written so far) */
/* A live source's packets dropped so far by the kernel and the interface
 * (pcap_stats); 0 when not live or not known. */
void cap_source_live_drops(const struct cap_source *src, uint64_t *drops, uint64_t *ifdrops);
/* A record's time (struct timeval from libpcap) in microseconds. */
struct timeval;
cap_time_us cap_packet_time(const struct timeval *tv);
/* A BPF filter applies. */
bool cap_source_filtered(const struct cap_source *src);
/* Told to stop (cap_source_stop, on it or its origin). */
bool cap_source_stopping(const struct cap_source *src);
/* The warning of a read that stopped early (nothing from a quiet clone). */
void cap_source_read_warning(const struct cap_source *src, uint32_t index, long off,
                             uint64_t frames, const char *why);
/* Also hand each such warning's text (without "warning: ") to fn, from
 * the thread that prints it, so a report can carry it. */
void cap_source_set_warning_hook(struct cap_source *src, void (*fn)(void *ctx, const char *text),
                                 void *ctx);
/* Files only, none of them stdin: they can be read more than once. */
bool cap_source_rereadable(const struct cap_source *src);
/* Another reader of the same files, from their first packet: it stops when
 * src is told to stop (cap_source_stop); a quiet one prints no warning
 * (the origin's reader prints them).  NULL (message in err) when src is
 * not rereadable or memory is short. */
struct cap_source *cap_source_clone(const struct cap_source *src, bool quiet, char *err,
                                    size_t errlen);
const char *cap_source_name(const struct cap_source *src, size_t index);

/* Read every packet through the decoder into the flow table.  Returns 0 when
 * all inputs were read, -1 on a fatal error (message in err).  Warnings (a
 * truncated file: what was read is kept) are printed to stderr with the file
 * name and offset, and counted in *warnings. */
int cap_source_run(struct cap_source *src, struct cap_decoder *dec, struct flow_table *ft,
                   struct cap_stats *stats, unsigned *warnings, char *err, size_t errlen);
/* Where decoded packets go: a flow table in this thread (cap_source_run),
 * or worker threads (cap_dispatch below). */
struct pcap; /* libpcap's pcap_t */
struct cap_sink {
  void *ctx;
  void (*packet)(void *ctx, const struct cap_packet *pkt);
  void (*idle)(void *ctx, cap_time_us now); /* live, nothing to read: age flows */
  /* Optional, before decoding (cap_dispatch_files): CAP_ROUTE_SHARED
   * decodes the frame with the reader's decoder, CAP_ROUTE_OWN with
   * own_dec, CAP_ROUTE_NONE passes only its time to idle. */
  int (*route)(void *ctx, int dlt, const uint8_t *frame, size_t caplen);
  struct cap_decoder *own_dec;
  /* Optional (cap_dispatch_files): take a whole input (opened and checked
   * as p): 1 read, -1 read up to an error (warning printed), 0 not taken. */
  int (*whole_file)(void *ctx, struct cap_source *src, struct pcap *p, uint32_t index,
                    struct cap_decoder *dec, struct cap_stats *stats);
};
enum { CAP_ROUTE_SHARED, CAP_ROUTE_OWN, CAP_ROUTE_NONE };
int cap_source_run_sink(struct cap_source *src, struct cap_decoder *dec,
                        const struct cap_sink *sink, struct cap_stats *stats, unsigned *warnings,
                        char *err, size_t errlen);

/* ---- -j N: packets shared out to worker threads (dispatch.c, team.c) ---- */

/* One worker thread per flow table (borrowed: each used by its worker only
 * until cap_dispatch_free returns).  Both directions of a flow go to the
 * same worker.  NULL when threads cannot be started. */
struct cap_dispatch;
struct cap_dispatch *cap_dispatch_new(struct flow_table **tables, size_t n);
/* A cap_sink's functions, ctx = the dispatch. */
void cap_dispatch_packet(void *ctx, const struct cap_packet *pkt);
void cap_dispatch_idle(void *ctx, cap_time_us now);
/* Let the workers finish every queued packet, then stop them. */
void cap_dispatch_free(struct cap_dispatch *d);
/* Rereadable files (no hand-off at all; team.c): n threads, this one included,
 * each read every packet of src with their own decoder and keep the
 * packets whose flow hashes to them (the same hash as cap_dispatch); the
 * others only age their flows, as one thread would.  Thread 0 is the
 * caller's: it reads with dec and counts the frames in stats and its
 * warnings; a frame only its owner decodes is counted in own_stats[i] of
 * that owner (say, each table's); the flow tables count their own.  Each thread ends its
 * remaining flows.  Returns as cap_source_run. */
/* A group's handles, each by a thread of its own straight into tables[i]
 * (own_stats[i] counts its packets and drops); returns as cap_source_run. */
int cap_dispatch_live(struct cap_source *src, const struct cap_limits *lim,
                      struct flow_table **tables, struct cap_stats **own_stats, size_t n,
                      unsigned *warnings, char *err, size_t errlen);
int cap_dispatch_files(struct cap_source *src, struct cap_decoder *dec,
                       const struct cap_limits *lim, struct flow_table **tables,
                       struct cap_stats **own_stats, size_t n, struct cap_stats *stats,
                       unsigned *warnings, char *err, size_t errlen);

/* Ask a running cap_source_run to return (signal-safe). */
void cap_source_stop(struct cap_source *src);
/* Call fn(ctx) every interval_us of wall-clock time while reading (from the
 * reading thread, between packets).  interval_us 0: never. */
void cap_source_set_tick(struct cap_source *src, cap_time_us interval_us, void (*fn)(void *ctx),
                         void *ctx);

#endif
