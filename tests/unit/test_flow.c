/*
 * Unit tests of capture/flow.c: roles, direction, timeouts on packet time,
 * eviction order, port reuse, delivery to the consumer.
 */
#include "capture/capture.h"
#include "tests/unit/harness.h"

#include <stdlib.h>

#define SEC INT64_C(1000000)

struct ended {
  uint16_t client_port, server_port;
  enum flow_end_reason why;
  uint64_t c2s_bytes, s2c_bytes;
};

struct recorder {
  int started;
  int continuations; /* flows started as the rest of an evicted one */
  struct ended ended[16];
  int n_ended;
  char data[2][256];
  size_t data_len[2];
  uint64_t last_frame[2];
};

static void on_start(void *ctx, struct flow *flow) {
  struct recorder *r = ctx;
  r->started++;
  r->continuations += flow->continues_evicted;
}

static void on_data(void *ctx, struct flow *flow, int dir, const uint8_t *data, size_t len,
                    uint64_t gap_len, unsigned flags, uint32_t file_index, uint64_t frame,
                    cap_time_us ts) {
  struct recorder *r = ctx;
  (void)flow, (void)gap_len, (void)flags, (void)file_index, (void)ts;
  if (data && r->data_len[dir] + len <= sizeof(r->data[dir])) {
    memcpy(r->data[dir] + r->data_len[dir], data, len);
    r->data_len[dir] += len;
  }
  r->last_frame[dir] = frame;
}

static void on_end(void *ctx, struct flow *flow, enum flow_end_reason why) {
  struct recorder *r = ctx;
  if (r->n_ended < 16) {
    struct ended *e = &r->ended[r->n_ended++];
    e->client_port = flow->client_port;
    e->server_port = flow->server_port;
    e->why = why;
    e->c2s_bytes = flow->tcp[FLOW_C2S].count.stream_bytes + flow->udp_bytes[FLOW_C2S];
    e->s2c_bytes = flow->tcp[FLOW_S2C].count.stream_bytes + flow->udp_bytes[FLOW_S2C];
  }
}

struct fixture {
  struct recorder rec;
  struct cap_stats stats;
  struct cap_limits lim;
  struct flow_table *ft;
  uint64_t frame;
};

static void setup(struct fixture *fx, size_t max_flows) {
  memset(fx, 0, sizeof(*fx));
  cap_limits_default(&fx->lim);
  fx->lim.max_flows = max_flows;
  struct cap_callbacks cb = {
      .ctx = &fx->rec, .flow_start = on_start, .flow_data = on_data, .flow_end = on_end};
  fx->ft = flow_table_new(&fx->lim, &fx->stats, &cb, false);
}

/* A TCP packet 10.0.0.a:sport -> 10.0.0.b:dport at time ts seconds. */
static struct cap_packet tcp_of(struct fixture *fx, uint8_t a, uint16_t sport, uint8_t b,
                                uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
                                const char *payload, int64_t ts) {
  struct cap_packet p = {0};
  p.frame = ++fx->frame;
  p.ts = ts * SEC;
  p.src.family = p.dst.family = 4;
  p.src.bytes[0] = p.dst.bytes[0] = 10;
  p.src.bytes[3] = a;
  p.dst.bytes[3] = b;
  p.l4_proto = 6;
  p.src_port = sport;
  p.dst_port = dport;
  p.tcp_flags = flags;
  p.tcp_seq = seq;
  p.tcp_ack = ack;
  p.payload = (const uint8_t *)payload;
  p.payload_len = p.payload_wire_len = payload ? strlen(payload) : 0;
  p.wire_len = (uint32_t)(54 + p.payload_len);
  p.l3_len = 40 + p.payload_len;
  p.tcp_window = 65535;
  return p;
}

static void tcp(struct fixture *fx, uint8_t a, uint16_t sport, uint8_t b, uint16_t dport,
                uint8_t flags, uint32_t seq, uint32_t ack, const char *payload, int64_t ts) {
  struct cap_packet p = tcp_of(fx, a, sport, b, dport, flags, seq, ack, payload, ts);
  flow_table_packet(fx->ft, &p);
}

/* The same with the decoder's checksum verdict (CAP_CSUM_*). */
static void tcp_csum(struct fixture *fx, uint8_t a, uint16_t sport, uint8_t b, uint16_t dport,
                     uint8_t flags, uint32_t seq, uint32_t ack, const char *payload, int verdict) {
  struct cap_packet p = tcp_of(fx, a, sport, b, dport, flags, seq, ack, payload, 1);
  p.csum_verdict = (uint8_t)verdict;
  flow_table_packet(fx->ft, &p);
}

/* Client 10.0.0.1:40000 (ISN 100) and server 10.0.0.2:443 (ISN 900),
 * every checksum good. */
static void handshake(struct fixture *fx) {
  tcp_csum(fx, 1, 40000, 2, 443, CAP_TCP_SYN, 100, 0, NULL, CAP_CSUM_GOOD);
  tcp_csum(fx, 2, 443, 1, 40000, CAP_TCP_SYN | CAP_TCP_ACK, 900, 101, NULL, CAP_CSUM_GOOD);
  tcp_csum(fx, 1, 40000, 2, 443, CAP_TCP_ACK, 101, 901, NULL, CAP_CSUM_GOOD);
}

static void bad_checksum_loses_to_good(void) {
  struct fixture fx;
  setup(&fx, 100);
  handshake(&fx);
  /* a forged first data segment: the SYN-ACK's good checksum came first */
  tcp_csum(&fx, 2, 443, 1, 40000, CAP_TCP_ACK, 901, 101, "FORGED", CAP_CSUM_BAD);
  tcp_csum(&fx, 2, 443, 1, 40000, CAP_TCP_ACK, 901, 101, "real!!", CAP_CSUM_GOOD);
  CHECK_EQ_U(fx.stats.tcp_bad_checksum_dropped, 1);
  CHECK_EQ_U(fx.rec.data_len[FLOW_S2C], 6);
  CHECK(memcmp(fx.rec.data[FLOW_S2C], "real!!", 6) == 0);
  CHECK_EQ_U(fx.rec.last_frame[FLOW_S2C], 5);
  flow_table_free(fx.ft);
  CHECK_EQ_U(fx.rec.ended[0].s2c_bytes, 6);
}

static void offload_direction_keeps_bad_checksums(void) {
  struct fixture fx;
  setup(&fx, 100);
  /* the server's packets, SYN-ACK included, all fail: offload on its host */
  tcp_csum(&fx, 1, 40000, 2, 443, CAP_TCP_SYN, 100, 0, NULL, CAP_CSUM_GOOD);
  tcp_csum(&fx, 2, 443, 1, 40000, CAP_TCP_SYN | CAP_TCP_ACK, 900, 101, NULL, CAP_CSUM_BAD);
  tcp_csum(&fx, 2, 443, 1, 40000, CAP_TCP_ACK, 901, 101, "hello", CAP_CSUM_BAD);
  /* the client's direction had a good one: its bad segment goes */
  tcp_csum(&fx, 1, 40000, 2, 443, CAP_TCP_ACK, 101, 906, "evil", CAP_CSUM_BAD);
  CHECK_EQ_U(fx.stats.tcp_bad_checksum_dropped, 1);
  CHECK(fx.rec.data_len[FLOW_S2C] == 5 && memcmp(fx.rec.data[FLOW_S2C], "hello", 5) == 0);
  CHECK_EQ_U(fx.rec.data_len[FLOW_C2S], 0);
  flow_table_free(fx.ft);
}

static void offload_sized_segment_kept(void) {
  struct fixture fx;
  setup(&fx, 100);
  struct cap_packet syn = tcp_of(&fx, 1, 40000, 2, 443, CAP_TCP_SYN, 100, 0, NULL, 1);
  syn.csum_verdict = CAP_CSUM_GOOD;
  syn.tcp_mss = 4; /* the client takes segments of 4 bytes at most */
  flow_table_packet(fx.ft, &syn);
  tcp_csum(&fx, 2, 443, 1, 40000, CAP_TCP_SYN | CAP_TCP_ACK, 900, 101, NULL, CAP_CSUM_GOOD);
  /* 6 bytes in one segment were never on the wire as one: receive offload */
  tcp_csum(&fx, 2, 443, 1, 40000, CAP_TCP_ACK, 901, 101, "glued!", CAP_CSUM_BAD);
  /* 4 bytes could have been: dropped */
  tcp_csum(&fx, 2, 443, 1, 40000, CAP_TCP_ACK, 907, 101, "evil", CAP_CSUM_BAD);
  CHECK_EQ_U(fx.stats.tcp_bad_checksum_dropped, 1);
  CHECK(fx.rec.data_len[FLOW_S2C] == 6 && memcmp(fx.rec.data[FLOW_S2C], "glued!", 6) == 0);
  flow_table_free(fx.ft);
}

static void rst_outside_window_ignored(void) {
  struct fixture fx;
  setup(&fx, 100);
  handshake(&fx);
  tcp(&fx, 1, 40000, 2, 443, CAP_TCP_ACK, 101, 901, "hello", 1);
  /* the client's window is [901, 901 + 65535): 2^30 ahead is far out */
  tcp(&fx, 2, 443, 1, 40000, CAP_TCP_RST | CAP_TCP_ACK, 901 + (1u << 30), 106, NULL, 2);
  tcp(&fx, 2, 443, 1, 40000, CAP_TCP_RST | CAP_TCP_ACK, 901 + 65535, 106, NULL, 2);
  CHECK_EQ_U(fx.stats.tcp_rst_ignored, 2);
  tcp(&fx, 2, 443, 1, 40000, CAP_TCP_ACK, 901, 106, "world", 3);
  CHECK(fx.rec.data_len[FLOW_S2C] == 5 && memcmp(fx.rec.data[FLOW_S2C], "world", 5) == 0);
  /* the last byte of the window is in it */
  tcp(&fx, 2, 443, 1, 40000, CAP_TCP_RST | CAP_TCP_ACK, 901 + 65534, 106, NULL, 4);
  CHECK_EQ_U(fx.stats.tcp_rst_ignored, 2);
  tcp(&fx, 5, 40005, 2, 443, CAP_TCP_SYN, 1, 0, NULL, 4 + 120);
  CHECK_EQ_U(fx.rec.n_ended, 1);
  CHECK_EQ_U(fx.rec.ended[0].why, FLOW_END_CLOSED);
  flow_table_free(fx.ft);
}

static void syn_sender_is_client(void) {
  struct fixture fx;
  setup(&fx, 100);
  /* The SYN comes from port 443: the SYN rule beats the port rule. */
  tcp(&fx, 1, 443, 2, 50000, CAP_TCP_SYN, 100, 0, NULL, 1);
  tcp(&fx, 2, 50000, 1, 443, CAP_TCP_SYN | CAP_TCP_ACK, 900, 101, NULL, 1);
  tcp(&fx, 1, 443, 2, 50000, CAP_TCP_ACK, 101, 901, "hello", 1);
  tcp(&fx, 2, 50000, 1, 443, CAP_TCP_ACK, 901, 106, "hi", 1);
  CHECK_EQ_U(flow_table_count(fx.ft), 1);
  flow_table_free(fx.ft);
  CHECK_EQ_U(fx.rec.n_ended, 1);
  CHECK_EQ_U(fx.rec.ended[0].client_port, 443);
  CHECK_EQ_U(fx.rec.ended[0].server_port, 50000);
  CHECK_EQ_U(fx.rec.ended[0].why, FLOW_END_EOF);
  CHECK_EQ_U(fx.rec.ended[0].c2s_bytes, 5);
  CHECK_EQ_U(fx.rec.ended[0].s2c_bytes, 2);
  CHECK(memcmp(fx.rec.data[FLOW_C2S], "hello", 5) == 0);
  CHECK(memcmp(fx.rec.data[FLOW_S2C], "hi", 2) == 0);
  CHECK_EQ_U(fx.rec.last_frame[FLOW_C2S], 3);
}

static void syn_ack_receiver_is_client(void) {
  struct fixture fx;
  setup(&fx, 100);
  tcp(&fx, 2, 8443, 1, 40000, CAP_TCP_SYN | CAP_TCP_ACK, 900, 101, NULL, 1);
  flow_table_free(fx.ft);
  CHECK_EQ_U(fx.rec.ended[0].client_port, 40000);
}

static void without_syn_higher_port_is_client(void) {
  struct fixture fx;
  setup(&fx, 100);
  tcp(&fx, 1, 443, 2, 51000, CAP_TCP_ACK, 5000, 7000, "data", 1);
  tcp(&fx, 2, 51000, 1, 443, CAP_TCP_ACK, 7000, 5004, "more", 2);
  flow_table_free(fx.ft);
  CHECK_EQ_U(fx.rec.n_ended, 1);
  CHECK_EQ_U(fx.rec.ended[0].client_port, 51000);
  CHECK_EQ_U(fx.rec.ended[0].c2s_bytes, 4);
  CHECK_EQ_U(fx.rec.ended[0].s2c_bytes, 4);
}

static void idle_timeout_on_packet_time(void) {
  struct fixture fx;
  setup(&fx, 100);
  tcp(&fx, 1, 40000, 2, 443, CAP_TCP_SYN, 1, 0, NULL, 1000);
  /* Another flow 299 s later: the first is still alive. */
  tcp(&fx, 3, 40001, 2, 443, CAP_TCP_SYN, 1, 0, NULL, 1299);
  CHECK_EQ_U(fx.rec.n_ended, 0);
  /* 300 s after the first flow's last packet it ends as idle. */
  tcp(&fx, 3, 40001, 2, 443, CAP_TCP_ACK, 2, 0, NULL, 1300);
  CHECK_EQ_U(fx.rec.n_ended, 1);
  CHECK_EQ_U(fx.rec.ended[0].client_port, 40000);
  CHECK_EQ_U(fx.rec.ended[0].why, FLOW_END_IDLE);
  CHECK_EQ_U(fx.stats.flows_timed_out, 1);
  flow_table_free(fx.ft);
  CHECK_EQ_U(fx.rec.n_ended, 2);
}

static void close_timeout_after_rst(void) {
  struct fixture fx;
  setup(&fx, 100);
  tcp(&fx, 1, 40000, 2, 443, CAP_TCP_SYN, 1, 0, NULL, 10);
  tcp(&fx, 2, 443, 1, 40000, CAP_TCP_RST | CAP_TCP_ACK, 0, 2, NULL, 11);
  /* A late packet within the close delay stays on the same flow. */
  tcp(&fx, 1, 40000, 2, 443, CAP_TCP_ACK, 2, 1, NULL, 20);
  CHECK_EQ_U(fx.stats.flows, 1);
  /* Time passes (on another flow's packets): the closed flow ends. */
  tcp(&fx, 5, 40005, 2, 443, CAP_TCP_SYN, 1, 0, NULL, 11 + 120);
  CHECK_EQ_U(fx.rec.n_ended, 1);
  CHECK_EQ_U(fx.rec.ended[0].why, FLOW_END_CLOSED);
  CHECK_EQ_U(fx.stats.flows_timed_out, 0);
  flow_table_free(fx.ft);
}

static void eviction_takes_least_recently_active(void) {
  struct fixture fx;
  setup(&fx, 2);
  tcp(&fx, 1, 40001, 9, 443, CAP_TCP_SYN, 1, 0, NULL, 1);
  tcp(&fx, 2, 40002, 9, 443, CAP_TCP_SYN, 1, 0, NULL, 2);
  tcp(&fx, 1, 40001, 9, 443, CAP_TCP_ACK, 2, 0, "x", 3); /* flow 1 active again */
  tcp(&fx, 3, 40003, 9, 443, CAP_TCP_SYN, 1, 0, NULL, 4);
  CHECK_EQ_U(flow_table_count(fx.ft), 2);
  CHECK_EQ_U(fx.stats.evictions, 1);
  CHECK_EQ_U(fx.rec.n_ended, 1);
  CHECK_EQ_U(fx.rec.ended[0].client_port, 40002);
  CHECK_EQ_U(fx.rec.ended[0].why, FLOW_END_EVICTED);
  flow_table_free(fx.ft);
  CHECK_EQ_U(fx.rec.n_ended, 3);
}

/* A flow evicted with payload: its later packets make a flow marked as
 * its rest; a flow evicted before any payload, or a new SYN on the same
 * addresses and ports, is a beginning. */
static void rest_of_evicted_flow_is_marked(void) {
  struct fixture fx;
  setup(&fx, 1);
  tcp(&fx, 1, 40001, 9, 443, CAP_TCP_SYN, 1, 0, NULL, 1);
  tcp(&fx, 1, 40001, 9, 443, CAP_TCP_ACK, 2, 0, "hello", 2);
  tcp(&fx, 3, 40003, 9, 443, CAP_TCP_SYN, 1, 0, NULL, 3);      /* evicts 40001 */
  tcp(&fx, 9, 443, 1, 40001, CAP_TCP_ACK, 50, 7, "answer", 4); /* evicts 40003 */
  CHECK_EQ_U(fx.stats.evictions, 2);
  CHECK_EQ_U(fx.rec.continuations, 1);
  CHECK_EQ_U(fx.stats.evicted_continuations, 1);
  tcp(&fx, 9, 443, 3, 40003, CAP_TCP_SYN | CAP_TCP_ACK, 70, 2, NULL, 5); /* no payload before */
  CHECK_EQ_U(fx.rec.continuations, 1);
  /* 40003's flow evicted the rest of 40001, which had payload: its next
   * packet is the rest of that rest. */
  tcp(&fx, 1, 40001, 9, 443, CAP_TCP_ACK, 7, 56, "more", 6);
  CHECK_EQ_U(fx.rec.continuations, 2);
  tcp(&fx, 3, 40003, 9, 443, CAP_TCP_SYN, 1000, 0, NULL, 7);
  tcp(&fx, 1, 40001, 9, 443, CAP_TCP_SYN, 5000, 0, NULL, 8); /* a new connection */
  CHECK_EQ_U(fx.rec.continuations, 2);
  CHECK_EQ_U(fx.stats.cap_evicted_keys, 0);
  flow_table_free(fx.ft);
}

static void new_syn_after_close_is_a_new_flow(void) {
  struct fixture fx;
  setup(&fx, 100);
  tcp(&fx, 1, 40000, 2, 443, CAP_TCP_SYN, 100, 0, NULL, 1);
  tcp(&fx, 1, 40000, 2, 443, CAP_TCP_ACK, 101, 1, "abc", 1);
  tcp(&fx, 1, 40000, 2, 443, CAP_TCP_FIN | CAP_TCP_ACK, 104, 1, NULL, 2);
  tcp(&fx, 2, 443, 1, 40000, CAP_TCP_FIN | CAP_TCP_ACK, 1, 105, NULL, 2);
  tcp(&fx, 1, 40000, 2, 443, CAP_TCP_SYN, 5000, 0, NULL, 3);
  CHECK_EQ_U(fx.stats.flows, 2);
  CHECK_EQ_U(fx.rec.n_ended, 1);
  CHECK_EQ_U(fx.rec.ended[0].why, FLOW_END_REUSED);
  CHECK_EQ_U(fx.rec.ended[0].c2s_bytes, 3);
  /* A retransmitted SYN (same sequence number) is not a new flow. */
  tcp(&fx, 1, 40000, 2, 443, CAP_TCP_SYN, 5000, 0, NULL, 4);
  CHECK_EQ_U(fx.stats.flows, 2);
  flow_table_free(fx.ft);
}

static void udp_datagrams_delivered_per_direction(void) {
  struct fixture fx;
  setup(&fx, 100);
  struct cap_packet p = {0};
  p.ts = SEC;
  p.src.family = p.dst.family = 6;
  p.src.bytes[15] = 1;
  p.dst.bytes[15] = 2;
  p.l4_proto = 17;
  p.src_port = 55555;
  p.dst_port = 443;
  p.payload = (const uint8_t *)"quic";
  p.payload_len = p.payload_wire_len = 4;
  p.frame = 1;
  flow_table_packet(fx.ft, &p);
  struct cap_packet q = p;
  q.src = p.dst;
  q.dst = p.src;
  q.src_port = 443;
  q.dst_port = 55555;
  q.payload = (const uint8_t *)"answer";
  q.payload_len = q.payload_wire_len = 6;
  q.frame = 2;
  flow_table_packet(fx.ft, &q);
  flow_table_free(fx.ft);
  CHECK_EQ_U(fx.rec.n_ended, 1);
  CHECK_EQ_U(fx.rec.ended[0].client_port, 55555);
  CHECK_EQ_U(fx.rec.ended[0].c2s_bytes, 4);
  CHECK_EQ_U(fx.rec.ended[0].s2c_bytes, 6);
  CHECK(memcmp(fx.rec.data[FLOW_S2C], "answer", 6) == 0);
}

static void endpoint_strings(void) {
  char buf[CAP_ENDPOINT_STRLEN];
  struct cap_addr a = {4, {192, 0, 2, 7}};
  cap_endpoint_str(&a, 443, buf, sizeof(buf));
  CHECK_STR(buf, "192.0.2.7:443");
  struct cap_addr b = {6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
  cap_endpoint_str(&b, 8443, buf, sizeof(buf));
  CHECK_STR(buf, "[2001:db8::1]:8443");
}

int main(void) {
  RUN(syn_sender_is_client);
  RUN(syn_ack_receiver_is_client);
  RUN(without_syn_higher_port_is_client);
  RUN(idle_timeout_on_packet_time);
  RUN(close_timeout_after_rst);
  RUN(eviction_takes_least_recently_active);
  RUN(rest_of_evicted_flow_is_marked);
  RUN(new_syn_after_close_is_a_new_flow);
  RUN(udp_datagrams_delivered_per_direction);
  RUN(endpoint_strings);
  RUN(bad_checksum_loses_to_good);
  RUN(offload_direction_keeps_bad_checksums);
  RUN(offload_sized_segment_kept);
  RUN(rst_outside_window_ignored);
  return harness_done();
}
