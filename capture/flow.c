/*
 * capture/flow.c - bidirectional flow table, timeouts, eviction, nDPI glue.
 *
 * Flows are kept in a chained hash table keyed by a symmetric hash of the
 * 5-tuple, and on two lists ordered by time: every flow on the LRU list
 * (oldest activity first: idle timeout and eviction take its head), and
 * closing flows (RST or both FINs) on a second list ordered by the time they
 * closed.  Both timeouts are driven by packet time, so a capture file from
 * 2015 ages its flows as it did then.
 */
#include "capture/capture.h"
#include "capture/tuple_hash.h"
#include "base/dl.h"

#include <ndpi_api.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SECOND_US INT64_C(1000000)

void cap_limits_default(struct cap_limits *lim) {
  memset(lim, 0, sizeof(*lim));
  lim->max_flows = 500000;
  lim->tcp_ooo_bytes = 256 * 1024;
  lim->tcp_ooo_segments = 1024;
  lim->reasm_total_bytes = 256 * 1024 * 1024;
  lim->tcp_recent_bytes = 4096;
  lim->recent_total_bytes = 64 * 1024 * 1024;
  lim->frag_datagrams = 4096;
  lim->frag_bytes = 16 * 1024 * 1024;
  lim->frag_pieces = 64;
  lim->frag_timeout = 30 * SECOND_US;
  lim->idle_timeout = 300 * SECOND_US;
  lim->close_timeout = 120 * SECOND_US;
  lim->ndpi_max_packets = 8;
  lim->evicted_keys = 65536;
  lim->encap_depth = CAP_ENCAP_MAX;
}

struct flow_table {
  struct cap_limits lim;
  struct cap_stats *stats;
  struct cap_callbacks cb;
  struct flow **buckets;
  size_t nbuckets; /* power of two */
  size_t count;
  uint64_t next_id;
  struct list lru;                           /* every flow, least recently active first */
  struct list close;                         /* closing flows, earliest close first */
  struct ndpi_detection_module_struct *ndpi; /* NULL without nDPI (or not yet made) */
  bool use_ndpi;                             /* make it at the first payload */
  size_t held_total;                         /* out-of-order bytes held by every stream */
  size_t recent_total;                       /* delivered bytes kept by every stream */
  struct evicted_key *evicted;               /* lim.evicted_keys slots, made at the first */
};

/* A flow evicted with payload (its addresses, ports, protocol, when): the
 * connection goes on, and its later packets must not make a flow that
 * looks like a whole connection of its own. */
struct evicted_key {
  struct cap_addr client_addr, server_addr;
  uint16_t client_port, server_port;
  uint8_t l4_proto;
  bool used;
  cap_time_us ts;
};

/* ---- hashing ---- */

/* Symmetric: both directions of a flow hash alike.  The upper half: a
 * product's high bits are its well-mixed ones (base/hash.h). */
static uint32_t packet_hash(const struct cap_packet *pkt) {
  uint64_t tuple = tuple_hash(&pkt->src, pkt->src_port, &pkt->dst, pkt->dst_port, pkt->l4_proto);
  return (uint32_t)(tuple_hash_tenant(tuple, pkt->encap.tenant) >> 32);
}

/* Direction of pkt on flow: FLOW_C2S, FLOW_S2C, or -1 when not this flow. */
static int packet_dir(const struct flow *flow, const struct cap_packet *pkt) {
  if (flow->l4_proto != pkt->l4_proto || flow->encap.tenant != pkt->encap.tenant)
    return -1;
  if (flow->client_port == pkt->src_port && flow->server_port == pkt->dst_port &&
      cap_addr_eq(&flow->client_addr, &pkt->src) && cap_addr_eq(&flow->server_addr, &pkt->dst))
    return FLOW_C2S;
  if (flow->server_port == pkt->src_port && flow->client_port == pkt->dst_port &&
      cap_addr_eq(&flow->server_addr, &pkt->src) && cap_addr_eq(&flow->client_addr, &pkt->dst))
    return FLOW_S2C;
  return -1;
}

/* ---- lists ---- */

/* The least recently active flow, NULL when there is none. */
static struct flow *lru_oldest(const struct flow_table *ft) {
  return ft->lru.first ? list_entry(ft->lru.first, struct flow, lru_link) : NULL;
}

/* The closing flow that closed first, NULL when there is none. */
static struct flow *first_closed(const struct flow_table *ft) {
  return ft->close.first ? list_entry(ft->close.first, struct flow, close_link) : NULL;
}

/* ---- table ---- */

struct flow_table *flow_table_new(const struct cap_limits *lim, struct cap_stats *stats,
                                  const struct cap_callbacks *cb, bool use_ndpi) {
  struct flow_table *ft = calloc(1, sizeof(*ft));
  if (!ft)
    return NULL;
  ft->lim = *lim;
  if (ft->lim.max_flows < 1)
    ft->lim.max_flows = 1;
  ft->stats = stats;
  ft->cb = *cb;
  ft->nbuckets = 4096;
  ft->buckets = calloc(ft->nbuckets, sizeof(*ft->buckets));
  if (!ft->buckets) {
    free(ft);
    return NULL;
  }
  ft->use_ndpi = use_ndpi;
  return ft;
}

/* nDPI's module is made at the first packet it is to see, in the thread
 * that owns the table: its set-up (about 50 million instructions) then runs
 * in each worker at once instead of one table after another before the
 * capture is read, and not at all for a capture without payload.  Without
 * memory for it, flows are left "Unknown" (counted in stats). */
/* One table at a time: nDPI 4.2 initialises libgcrypt in there, which
 * aborts the process when two threads do it at once (-j). */
static pthread_mutex_t ndpi_init_lock = PTHREAD_MUTEX_INITIALIZER;

/* nDPI only names the flows of --flows: linked, its library (22,000
 * relocations) cost every start about 2 ms, and a run over a large
 * capture starts twice (tlsgrade.c, heap_in_huge_pages).  Loaded by the
 * first table that needs it, under ndpi_init_lock; every table that uses
 * the functions took that lock once after they were set. */
#define NDPI_LIBRARY "libndpi.so.4.2" /* Debian 12: libndpi4.2 */
static struct {
  int state; /* 0 not tried, 1 loaded, -1 cannot be */
  __typeof__(ndpi_init_detection_module) *init_detection_module;
  __typeof__(ndpi_set_protocol_detection_bitmask2) *set_protocol_detection_bitmask2;
  __typeof__(ndpi_finalize_initialization) *finalize_initialization;
  __typeof__(ndpi_exit_detection_module) *exit_detection_module;
  __typeof__(ndpi_protocol2name) *protocol2name;
  __typeof__(ndpi_detection_giveup) *detection_giveup;
  __typeof__(ndpi_free_flow) *free_flow;
  __typeof__(ndpi_flow_malloc) *flow_malloc;
  __typeof__(ndpi_detection_process_packet) *detection_process_packet;
} nd;

static bool ndpi_load(void) {
  const struct dl_function fns[] = {
      {"ndpi_init_detection_module", (void **)&nd.init_detection_module},
      {"ndpi_set_protocol_detection_bitmask2", (void **)&nd.set_protocol_detection_bitmask2},
      {"ndpi_finalize_initialization", (void **)&nd.finalize_initialization},
      {"ndpi_exit_detection_module", (void **)&nd.exit_detection_module},
      {"ndpi_protocol2name", (void **)&nd.protocol2name},
      {"ndpi_detection_giveup", (void **)&nd.detection_giveup},
      {"ndpi_free_flow", (void **)&nd.free_flow},
      {"ndpi_flow_malloc", (void **)&nd.flow_malloc},
      {"ndpi_detection_process_packet", (void **)&nd.detection_process_packet},
  };
  if (nd.state)
    return nd.state > 0;
  char why[256];
  int rc = dl_functions(NDPI_LIBRARY, fns, sizeof(fns) / sizeof(fns[0]), why, sizeof why);
  if (rc != DL_LOADED)
    cap_message("nDPI cannot be %s, flows are left \"Unknown\": %s",
                rc == DL_NO_LIBRARY ? "loaded" : "used", why);
  nd.state = rc == DL_LOADED ? 1 : -1;
  return nd.state > 0;
}

static bool ndpi_ready(struct flow_table *ft) {
  if (ft->ndpi || !ft->use_ndpi)
    return ft->ndpi != NULL;
  ft->use_ndpi = false; /* one attempt */
  pthread_mutex_lock(&ndpi_init_lock);
  ft->ndpi = ndpi_load() ? nd.init_detection_module(ndpi_no_prefs) : NULL;
  if (ft->ndpi) {
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    nd.set_protocol_detection_bitmask2(ft->ndpi, &all);
    nd.finalize_initialization(ft->ndpi);
  }
  pthread_mutex_unlock(&ndpi_init_lock);
  if (!ft->ndpi)
    ft->stats->ndpi_unavailable++;
  return ft->ndpi != NULL;
}

size_t flow_table_count(const struct flow_table *ft) {
  return ft->count;
}

static void grow(struct flow_table *ft) {
  size_t n = ft->nbuckets * 2;
  struct flow **nb = calloc(n, sizeof(*nb));
  if (!nb)
    return; /* keep the longer chains; still correct */
  for (size_t i = 0; i < ft->nbuckets; i++) {
    struct flow *f = ft->buckets[i];
    while (f) {
      struct flow *next = f->hash_next;
      f->hash_next = nb[f->hash & (n - 1)];
      nb[f->hash & (n - 1)] = f;
      f = next;
    }
  }
  free(ft->buckets);
  ft->buckets = nb;
  ft->nbuckets = n;
}

/* The flow's nDPI protocol name, kept (out of memory: stays unknown). */
static void set_app(struct flow_table *ft, struct flow *flow, ndpi_protocol p) {
  char name[64];
  nd.protocol2name(ft->ndpi, p, name, sizeof(name));
  free(flow->app);
  flow->app = strdup(name);
}

static void ndpi_finish(struct flow_table *ft, struct flow *flow, bool give_up) {
  flow->ndpi_done = true;
  if (!flow->ndpi)
    return;
  if (give_up) {
    uint8_t guessed = 0;
    ndpi_protocol p = nd.detection_giveup(ft->ndpi, flow->ndpi, 1, &guessed);
    set_app(ft, flow, p);
  }
  nd.free_flow(flow->ndpi);
  flow->ndpi = NULL;
}

/* nDPI's per-flow state (over a kilobyte) is allocated at the first
 * payload: a SYN flood costs flow entries, not detection state. */
static void ndpi_feed(struct flow_table *ft, struct flow *flow, const struct cap_packet *pkt) {
  /* Bare ACKs teach nDPI nothing once the handshake is behind it (it never
   * sees the SYNs: its state starts at the first payload). */
  if (flow->ndpi_done || pkt->payload_len == 0 || !ndpi_ready(ft))
    return;
  if (!flow->ndpi) {
    flow->ndpi = nd.flow_malloc(SIZEOF_FLOW_STRUCT);
    if (!flow->ndpi) {
      flow->ndpi_done = true;
      return;
    }
    memset(flow->ndpi, 0, SIZEOF_FLOW_STRUCT);
  }
  unsigned short len = pkt->l3_len > 0xffff ? 0xffff : (unsigned short)pkt->l3_len;
  ndpi_protocol p =
      nd.detection_process_packet(ft->ndpi, flow->ndpi, pkt->l3, len, (uint64_t)(pkt->ts / 1000));
  flow->ndpi_packets++;
  bool detected =
      p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN;
  if (detected) {
    /* The label is all we use (--flows, STARTTLS): nDPI's extra dissection
     * (certificates, JA3) repeats what dissect/ does and cost a third of a
     * TLS flow's time, so stop at the first answer. */
    set_app(ft, flow, p);
    ndpi_finish(ft, flow, false);
  }
  if (flow->ndpi && flow->ndpi_packets >= ft->lim.ndpi_max_packets)
    ndpi_finish(ft, flow, !detected);
}

struct deliver_ctx {
  struct flow_table *ft;
  struct flow *flow;
  int dir;
};

static void deliver(void *ctx, const uint8_t *data, size_t len, uint64_t gap_len, unsigned flags,
                    uint32_t file_index, uint64_t frame, cap_time_us ts) {
  struct deliver_ctx *d = ctx;
  if (d->ft->cb.flow_data)
    d->ft->cb.flow_data(d->ft->cb.ctx, d->flow, d->dir, data, len, gap_len, flags, file_index,
                        frame, ts);
}

/* ---- evicted flows ---- */

/* One slot per hash (lim.evicted_keys of them, made at the first eviction
 * that needs one): a flow evicted with payload overwrites what the slot
 * held, counted when that was still waiting for its rest. */
static void remember_evicted(struct flow_table *ft, const struct flow *flow) {
  bool payload = flow->tcp[0].count.stream_bytes || flow->tcp[1].count.stream_bytes ||
                 flow->udp_bytes[0] || flow->udp_bytes[1];
  if (!payload)
    return;
  if (!ft->lim.evicted_keys ||
      (!ft->evicted && !(ft->evicted = calloc(ft->lim.evicted_keys, sizeof(*ft->evicted))))) {
    ft->stats->cap_evicted_keys++;
    return;
  }
  struct evicted_key *k = &ft->evicted[flow->hash % ft->lim.evicted_keys];
  if (k->used && k->ts + ft->lim.idle_timeout > flow->last_ts)
    ft->stats->cap_evicted_keys++;
  *k = (struct evicted_key){flow->client_addr, flow->server_addr, flow->client_port,
                            flow->server_port, flow->l4_proto,    true,
                            flow->last_ts};
}

/* Is pkt a later packet of a flow evicted less than an idle timeout ago?
 * A SYN (no ACK) starts a new connection instead.  Either way the slot is
 * done with. */
static bool continues_evicted(struct flow_table *ft, const struct cap_packet *pkt, uint32_t hash) {
  if (!ft->evicted)
    return false;
  struct evicted_key *k = &ft->evicted[hash % ft->lim.evicted_keys];
  if (!k->used || k->l4_proto != pkt->l4_proto)
    return false;
  bool forward = k->client_port == pkt->src_port && k->server_port == pkt->dst_port &&
                 cap_addr_eq(&k->client_addr, &pkt->src) && cap_addr_eq(&k->server_addr, &pkt->dst);
  bool back = k->server_port == pkt->src_port && k->client_port == pkt->dst_port &&
              cap_addr_eq(&k->server_addr, &pkt->src) && cap_addr_eq(&k->client_addr, &pkt->dst);
  if (!forward && !back)
    return false;
  k->used = false;
  bool syn = pkt->l4_proto == 6 && (pkt->tcp_flags & (CAP_TCP_SYN | CAP_TCP_ACK)) == CAP_TCP_SYN;
  return !syn && pkt->ts < k->ts + ft->lim.idle_timeout;
}

static void flow_end(struct flow_table *ft, struct flow *flow, enum flow_end_reason why) {
  ft->held_total -= flow->tcp[0].held_bytes + flow->tcp[1].held_bytes;
  ft->recent_total -= flow->tcp[0].recent_cap + flow->tcp[1].recent_cap;
  if (flow->l4_proto == 6) {
    for (int dir = 0; dir < 2; dir++) {
      struct deliver_ctx d = {ft, flow, dir};
      tcp_stream_flush(&flow->tcp[dir], deliver, &d);
    }
  }
  ndpi_finish(ft, flow, true);
  if (why == FLOW_END_EVICTED)
    remember_evicted(ft, flow);
  if (ft->cb.flow_end)
    ft->cb.flow_end(ft->cb.ctx, flow, why);
  struct flow **pp = &ft->buckets[flow->hash & (ft->nbuckets - 1)];
  while (*pp && *pp != flow)
    pp = &(*pp)->hash_next;
  if (*pp)
    *pp = flow->hash_next;
  list_remove(&ft->lru, &flow->lru_link);
  if (list_linked(&ft->close, &flow->close_link))
    list_remove(&ft->close, &flow->close_link);
  for (int dir = 0; dir < 2; dir++)
    tcp_stream_free(&flow->tcp[dir]);
  ft->count--;
  free(flow->app);
  free(flow);
}

void flow_table_expire(struct flow_table *ft, cap_time_us now) {
  struct flow *f;
  while ((f = first_closed(ft)) && f->close_ts + ft->lim.close_timeout <= now)
    flow_end(ft, f, FLOW_END_CLOSED);
  while ((f = lru_oldest(ft)) && f->last_ts + ft->lim.idle_timeout <= now) {
    ft->stats->flows_timed_out++;
    flow_end(ft, f, FLOW_END_IDLE);
  }
}

void flow_table_end_all(struct flow_table *ft) {
  while (ft && !list_empty(&ft->lru))
    flow_end(ft, lru_oldest(ft), FLOW_END_EOF);
}

void flow_table_free(struct flow_table *ft) {
  if (!ft)
    return;
  flow_table_end_all(ft);
  if (ft->ndpi)
    nd.exit_detection_module(ft->ndpi);
  free(ft->evicted);
  free(ft->buckets);
  free(ft);
}

/* Roles: the SYN sender is the client; a SYN-ACK's receiver is; else the
 * side with the higher port (ties: the first sender). */
static void set_roles(struct flow *flow, const struct cap_packet *pkt) {
  bool src_is_client;
  uint8_t syn_ack = pkt->tcp_flags & (CAP_TCP_SYN | CAP_TCP_ACK);
  if (pkt->l4_proto == 6 && syn_ack == CAP_TCP_SYN) {
    src_is_client = true;
    flow->roles_from_syn = true;
  } else if (pkt->l4_proto == 6 && syn_ack == (CAP_TCP_SYN | CAP_TCP_ACK)) {
    src_is_client = false;
    flow->roles_from_syn = true;
  } else {
    src_is_client = pkt->src_port >= pkt->dst_port;
  }
  flow->client_addr = src_is_client ? pkt->src : pkt->dst;
  flow->server_addr = src_is_client ? pkt->dst : pkt->src;
  flow->client_port = src_is_client ? pkt->src_port : pkt->dst_port;
  flow->server_port = src_is_client ? pkt->dst_port : pkt->src_port;
}

static struct flow *flow_create(struct flow_table *ft, const struct cap_packet *pkt,
                                uint32_t hash) {
  if (ft->count >= ft->lim.max_flows && !list_empty(&ft->lru)) {
    ft->stats->evictions++;
    flow_end(ft, lru_oldest(ft), FLOW_END_EVICTED);
  }
  struct flow *flow = calloc(1, sizeof(*flow));
  if (!flow)
    return NULL;
  set_roles(flow, pkt);
  flow->l4_proto = pkt->l4_proto;
  flow->encap = pkt->encap;
  flow->id = ft->next_id++;
  flow->first_ts = flow->last_ts = pkt->ts;
  flow->hash = hash;
  tcp_stream_init(&flow->tcp[0]);
  tcp_stream_init(&flow->tcp[1]);
  if (continues_evicted(ft, pkt, hash)) {
    flow->continues_evicted = true;
    ft->stats->evicted_continuations++;
  }
  if (ft->count >= ft->nbuckets)
    grow(ft);
  size_t b = hash & (ft->nbuckets - 1);
  flow->hash_next = ft->buckets[b];
  ft->buckets[b] = flow;
  list_push_back(&ft->lru, &flow->lru_link);
  ft->count++;
  ft->stats->flows++;
  if (ft->cb.flow_start)
    ft->cb.flow_start(ft->cb.ctx, flow);
  return flow;
}

/* A SYN (no ACK) from the client on a flow that has closed, or with another
 * initial sequence number, starts a new connection on the same 5-tuple. */
static bool is_port_reuse(const struct flow *flow, const struct cap_packet *pkt, int dir) {
  if (pkt->l4_proto != 6 || (pkt->tcp_flags & (CAP_TCP_SYN | CAP_TCP_ACK)) != CAP_TCP_SYN)
    return false;
  if (flow->closing)
    return true;
  return dir == FLOW_C2S && flow->client_isn_known && flow->client_isn != pkt->tcp_seq &&
         flow->tcp[FLOW_C2S].count.stream_bytes > 0;
}

/* The limits for a segment of this direction.  Over the all-streams cap,
 * a stream may hold nothing more: what it would hold is released past a
 * gap instead, and counted.  Over the cap of delivered bytes kept for
 * comparing retransmissions, no new ring is made (its retransmissions then
 * count as not compared). */
static const struct cap_limits *stream_limits(const struct flow_table *ft, const struct flow *flow,
                                              int dir, struct cap_limits *tight) {
  bool held_over = ft->held_total >= ft->lim.reasm_total_bytes;
  bool recent_over = ft->recent_total >= ft->lim.recent_total_bytes;
  if (!held_over && !recent_over)
    return &ft->lim;
  *tight = ft->lim;
  if (held_over)
    tight->tcp_ooo_bytes = flow->tcp[dir].held_bytes;
  if (recent_over)
    tight->tcp_recent_bytes = 0; /* no new ring; one made stays */
  return tight;
}

static void tcp_packet(struct flow_table *ft, struct flow *flow, int dir,
                       const struct cap_packet *pkt) {
  if ((pkt->tcp_flags & CAP_TCP_RST) &&
      !tcp_rst_acceptable(&flow->tcp[dir], &flow->tcp[!dir], pkt->tcp_seq, pkt->tcp_flags,
                          pkt->tcp_ack)) {
    ft->stats->tcp_rst_ignored++; /* the receiver drops it: the flow goes on */
    return;
  }
  tcp_stream_note_receiver(&flow->tcp[dir], pkt);
  if ((pkt->tcp_flags & (CAP_TCP_SYN | CAP_TCP_ACK)) == CAP_TCP_SYN && dir == FLOW_C2S) {
    flow->client_isn = pkt->tcp_seq;
    flow->client_isn_known = true;
  }
  struct deliver_ctx d = {ft, flow, dir};
  size_t held_before = flow->tcp[0].held_bytes + flow->tcp[1].held_bytes;
  size_t recent_before = flow->tcp[0].recent_cap + flow->tcp[1].recent_cap;
  struct cap_limits tight;
  const struct cap_limits *lim = stream_limits(ft, flow, dir, &tight);
  bool over = ft->held_total >= ft->lim.reasm_total_bytes;
  if (lim->tcp_recent_bytes == 0 && ft->lim.tcp_recent_bytes && !flow->tcp[dir].recent &&
      pkt->payload_len)
    ft->stats->cap_recent_total++; /* its later copies cannot be compared */
  uint64_t refused_before = flow->tcp[dir].count.cap_hits;
  tcp_stream_segment(&flow->tcp[dir], lim, pkt->tcp_seq, pkt->tcp_flags, pkt->payload,
                     pkt->payload_len, pkt->file_index, pkt->frame, pkt->ts, deliver, &d);
  if (over && flow->tcp[dir].count.cap_hits > refused_before)
    ft->stats->cap_reasm_total++;
  if (pkt->tcp_flags & CAP_TCP_ACK) {
    struct deliver_ctx o = {ft, flow, !dir};
    tcp_stream_ack(&flow->tcp[!dir], pkt->tcp_ack, pkt->file_index, pkt->frame, pkt->ts, deliver,
                   &o);
  }
  ft->held_total += flow->tcp[0].held_bytes + flow->tcp[1].held_bytes;
  ft->held_total -= held_before;
  bool closed = (pkt->tcp_flags & CAP_TCP_RST) || (flow->tcp[0].fin_seen && flow->tcp[1].fin_seen);
  if (closed && !flow->closing) {
    flow->closing = true;
    flow->close_ts = pkt->ts;
    list_push_back(&ft->close, &flow->close_link);
    if (ft->cb.flow_closing)
      ft->cb.flow_closing(ft->cb.ctx, flow); /* may free the rings (skip) */
  }
  ft->recent_total += flow->tcp[0].recent_cap + flow->tcp[1].recent_cap;
  ft->recent_total -= recent_before;
}

/* The checksum of a packet: summed here when the decoder deferred it,
 * unless the payload goes to a direction in skip or headers-only mode: that
 * data is walked by record headers only, and summing it would read every
 * byte of the bulk of a capture (such a segment is taken unverified). */
static int checksum_verdict(struct flow_table *ft, const struct flow *flow, int dir,
                            const struct cap_packet *pkt) {
  if (!pkt->csum_deferred)
    return pkt->csum_verdict;
  if (flow && pkt->l4_proto == 6 && pkt->payload_len &&
      (flow->tcp[dir].skip || flow->headers_only[dir]))
    return CAP_CSUM_UNCHECKED;
  if (cap_packet_checksum_ok(pkt))
    return CAP_CSUM_GOOD;
  ft->stats->bad_checksum_l4++;
  return CAP_CSUM_BAD;
}

/* Longer than one segment on the wire: more than the receiver's announced
 * MSS (RFC 9293 3.7.1: a sender never sends more), or, with its SYN unseen,
 * an IP datagram beyond Ethernet's 1500 bytes.  Such a segment was glued
 * together or is yet to be cut by the capture host's network card
 * (segmentation offload on send, receive offload on receive), so its
 * checksum is not the one the wire carried. */
static bool offload_sized(const struct flow *flow, int dir, const struct cap_packet *pkt) {
  uint16_t mss = flow->tcp[!dir].mss;
  if (mss)
    return pkt->payload_wire_len > mss;
  return pkt->l3_len > 1500;
}

/* A TCP segment the receiver would have dropped for its checksum.  Its
 * bytes must not win over the real ones: a forged ServerHello with a bad
 * checksum sent just before the real one, at the same sequence number, is
 * dropped by the client, and would otherwise be graded as the server's.
 * But a capture taken on a host with checksum offload records the packets
 * that host sends with wrong checksums, and those packets are real.  So a
 * direction whose segments never had a good checksum keeps its bad ones
 * (offload); once one good checksum was seen in a direction (the SYN and
 * SYN-ACK count, so a forged first data segment is caught too), a bad one
 * is dropped and counted, unless it is longer than a segment on the wire
 * can be (offload_sized: the capture host's offload made it). */
static bool checksum_rejects(struct flow_table *ft, struct flow *flow, int dir, int verdict,
                             const struct cap_packet *pkt) {
  /* A pure ACK does not count: on loopback and with checksum offload the
   * kernel writes some of those whole while every data segment carries a
   * partial checksum. */
  bool pure_ack =
      !pkt->payload_len && !(pkt->tcp_flags & (CAP_TCP_SYN | CAP_TCP_FIN | CAP_TCP_RST));
  if (verdict == CAP_CSUM_GOOD && !pure_ack)
    flow->csum_good_seen[dir] = true;
  if (verdict != CAP_CSUM_BAD || flow->l4_proto != 6 || !flow->csum_good_seen[dir] ||
      offload_sized(flow, dir, pkt))
    return false;
  ft->stats->tcp_bad_checksum_dropped++;
  return true;
}

void flow_table_packet(struct flow_table *ft, const struct cap_packet *pkt) {
  flow_table_expire(ft, pkt->ts);
  if (pkt->l4_proto != 6 && pkt->l4_proto != 17) {
    checksum_verdict(ft, NULL, 0, pkt);
    return;
  }
  uint32_t hash = packet_hash(pkt);
  struct flow *flow = ft->buckets[hash & (ft->nbuckets - 1)];
  int dir = -1;
  for (; flow; flow = flow->hash_next)
    if (flow->hash == hash && (dir = packet_dir(flow, pkt)) >= 0)
      break;
  int verdict = checksum_verdict(ft, flow, dir, pkt);
  if (flow && checksum_rejects(ft, flow, dir, verdict, pkt)) {
    flow->dir[dir].packets++; /* it was on the wire, as tshark counts */
    flow->dir[dir].bytes += pkt->wire_len;
    return;
  }
  if (flow && is_port_reuse(flow, pkt, dir)) {
    flow_end(ft, flow, FLOW_END_REUSED);
    flow = NULL;
  }
  if (!flow) {
    flow = flow_create(ft, pkt, hash);
    if (!flow)
      return;
    dir = packet_dir(flow, pkt);
    checksum_rejects(ft, flow, dir, verdict, pkt); /* a new direction keeps it */
  }
  if (pkt->ts > flow->last_ts)
    flow->last_ts = pkt->ts;
  list_remove(&ft->lru, &flow->lru_link); /* now the most recently active */
  list_push_back(&ft->lru, &flow->lru_link);
  flow->dir[dir].packets++;
  flow->dir[dir].bytes += pkt->wire_len;
  ndpi_feed(ft, flow, pkt);
  if (pkt->l4_proto == 6) {
    tcp_packet(ft, flow, dir, pkt);
  } else if (pkt->payload_len > 0 || pkt->payload_wire_len == 0) {
    flow->udp_bytes[dir] += pkt->payload_len;
    if (ft->cb.flow_data)
      ft->cb.flow_data(ft->cb.ctx, flow, dir, pkt->payload, pkt->payload_len, 0, 0, pkt->file_index,
                       pkt->frame, pkt->ts);
  }
}

void flow_set_headers_only(struct flow *flow, int dir, bool headers_only) {
  if (dir == FLOW_C2S || dir == FLOW_S2C) {
    flow->headers_only[dir] = headers_only;
    flow->tcp[dir].recent_frozen = headers_only; /* keep what was read whole */
  }
}

void flow_set_skip(struct flow *flow, int dir, bool skip) {
  if (dir == FLOW_C2S || dir == FLOW_S2C)
    tcp_stream_set_skip(&flow->tcp[dir], skip);
}
