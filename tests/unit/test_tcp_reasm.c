/*
 * tests/unit/test_tcp_reasm.c - per-direction TCP reassembly.
 *
 * Expected values are worked out by hand from the segments each test sends
 * (sequence numbers, hole sizes, which copy comes first).
 */
#include "capture/capture.h"
#include "tests/unit/harness.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CALLS 4096
#define OUT_SIZE 32768

struct call {
  size_t len;
  uint64_t gap_len;
  unsigned flags;
  uint32_t file_index;
  uint64_t frame;
  cap_time_us ts;
  bool data_null;
};

/* Collects deliveries: bytes appended to `out`, each gap written as "<N>". */
struct collector {
  char out[OUT_SIZE];
  size_t out_len;
  struct call calls[MAX_CALLS];
  size_t ncalls;
  uint64_t delivered; /* sum of len over all calls */
  unsigned bad;       /* deliveries breaking the contract of tcp_deliver_fn */
};

static void append(struct collector *c, const char *bytes, size_t len) {
  if (c->out_len + len >= OUT_SIZE) {
    c->bad++;
    return;
  }
  memcpy(c->out + c->out_len, bytes, len);
  c->out_len += len;
  c->out[c->out_len] = '\0';
}

static void collect(void *ctx, const uint8_t *data, size_t len, uint64_t gap_len, unsigned flags,
                    uint32_t file_index, uint64_t frame, cap_time_us ts) {
  struct collector *c = ctx;
  char mark[32];

  if (c->ncalls < MAX_CALLS)
    c->calls[c->ncalls] = (struct call){len, gap_len, flags, file_index, frame, ts, data == NULL};
  c->ncalls++;
  c->delivered += len;
  if (!!(flags & TCP_DATA_GAP) != (gap_len != 0))
    c->bad++;
  if ((flags & TCP_DATA_SKIP) && data)
    c->bad++;
  if (!(flags & TCP_DATA_SKIP) && len && !data)
    c->bad++;
  if (len == 0 && !gap_len)
    c->bad++;
  if (gap_len) {
    snprintf(mark, sizeof mark, "<%llu>", (unsigned long long)gap_len);
    append(c, mark, strlen(mark));
  }
  if (data)
    append(c, (const char *)data, len);
}

struct env {
  struct tcp_stream s;
  struct cap_limits lim;
  struct collector c;
  size_t max_held_bytes, max_held_segments; /* highest seen after any call */
};

static struct env *env_new(size_t ooo_bytes, size_t ooo_segments) {
  struct env *e = calloc(1, sizeof *e);

  if (!e)
    abort();
  tcp_stream_init(&e->s);
  e->lim.tcp_ooo_bytes = ooo_bytes;
  e->lim.tcp_ooo_segments = ooo_segments;
  return e;
}

static void env_free(struct env *e) {
  tcp_stream_free(&e->s);
  free(e);
}

static void note_held(struct env *e) {
  if (e->s.held_bytes > e->max_held_bytes)
    e->max_held_bytes = e->s.held_bytes;
  if (e->s.held_segments > e->max_held_segments)
    e->max_held_segments = e->s.held_segments;
}

static void seg_in(struct env *e, uint32_t file_index, uint32_t seq, uint8_t flags,
                   const char *text, size_t len, uint64_t frame) {
  tcp_stream_segment(&e->s, &e->lim, seq, flags, (const uint8_t *)text, len, file_index, frame,
                     (cap_time_us)frame * 1000, collect, &e->c);
  note_held(e);
}

static void seg_n(struct env *e, uint32_t seq, uint8_t flags, const char *text, size_t len,
                  uint64_t frame) {
  seg_in(e, 0, seq, flags, text, len, frame);
}

static void seg(struct env *e, uint32_t seq, uint8_t flags, const char *text, uint64_t frame) {
  seg_n(e, seq, flags, text, strlen(text), frame);
}

static void ack(struct env *e, uint32_t ack_seq, uint64_t frame) {
  tcp_stream_ack(&e->s, ack_seq, 0, frame, (cap_time_us)frame * 1000, collect, &e->c);
  note_held(e);
}

static void flush(struct env *e) {
  tcp_stream_flush(&e->s, collect, &e->c);
}

enum { A = CAP_TCP_ACK, SYN = CAP_TCP_SYN, FIN = CAP_TCP_FIN | CAP_TCP_ACK, RST = CAP_TCP_RST };

/* ------------------------------------------------------------------ */

static void test_in_order(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 1000, SYN, "", 1);
  CHECK(e->s.base_known);
  CHECK(e->s.syn_seen);
  CHECK_EQ_U(e->s.next_seq, 1001);
  seg(e, 1001, A, "Hello, ", 2);
  seg(e, 1008, A, "world", 3);
  CHECK_STR(e->c.out, "Hello, world");
  CHECK_EQ_U(e->c.ncalls, 2);
  CHECK_EQ_U(e->c.calls[0].frame, 2);
  CHECK_EQ_U(e->c.calls[0].len, 7);
  CHECK_EQ_U(e->c.calls[0].flags, 0);
  CHECK_EQ_U(e->c.calls[0].ts, 2000);
  CHECK_EQ_U(e->c.calls[1].frame, 3);
  CHECK_EQ_U(e->c.calls[1].gap_len, 0);
  CHECK_EQ_U(e->s.next_seq, 1013);
  CHECK_EQ_U(e->s.count.stream_bytes, 12);
  CHECK_EQ_U(e->s.count.out_of_order, 0);
  CHECK_EQ_U(e->s.count.gaps, 0);
  CHECK_EQ_U(e->c.bad, 0);
  env_free(e);
}

static void test_data_on_syn(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 500, SYN, "xyz", 1); /* TCP Fast Open style: data after the SYN's number */
  seg(e, 504, A, "w", 2);
  CHECK_STR(e->c.out, "xyzw");
  CHECK_EQ_U(e->s.next_seq, 505);
  seg(e, 500, SYN, "xyz", 3); /* retransmitted SYN: no reset, data already seen */
  CHECK_EQ_U(e->s.next_seq, 505);
  CHECK_EQ_U(e->s.count.retransmits, 1);
  CHECK_STR(e->c.out, "xyzw");
  env_free(e);
}

/* Three segments in every order give the same bytes.  Each delivery carries
 * the frame that completed it: part k goes out when the last of parts 0..k
 * arrives, so with frames rising in arrival order it carries the highest
 * frame among parts 0..k (its own frame only when it was not held). */
static void test_out_of_order_permutations(void) {
  static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  static const char *const parts[3] = {"abcd", "efgh", "ijkl"};

  for (int p = 0; p < 6; p++) {
    struct env *e = env_new(65536, 64);
    uint64_t frame_of[3], completed_by[3];
    unsigned expect_ooo = 0;
    bool arrived[3] = {false, false, false};

    seg(e, 7000, SYN, "", 1);
    for (int i = 0; i < 3; i++) {
      int k = perms[p][i];
      for (int j = 0; j < k; j++)
        if (!arrived[j]) {
          expect_ooo++; /* a lower part is still missing: arrives ahead of a hole */
          break;
        }
      arrived[k] = true;
      frame_of[k] = 10 + (uint64_t)i;
      seg(e, 7001 + 4 * (uint32_t)k, A, parts[k], frame_of[k]);
    }
    CHECK_STR(e->c.out, "abcdefghijkl");
    CHECK_EQ_U(e->c.ncalls, 3);
    for (int k = 0; k < 3; k++) {
      completed_by[k] = frame_of[k];
      for (int j = 0; j < k; j++)
        if (frame_of[j] > completed_by[k])
          completed_by[k] = frame_of[j];
      CHECK_EQ_U(e->c.calls[k].frame, completed_by[k]);
      CHECK_EQ_U(e->c.calls[k].ts, completed_by[k] * 1000);
    }
    CHECK_EQ_U(e->s.count.out_of_order, expect_ooo);
    CHECK_EQ_U(e->s.count.stream_bytes, 12);
    CHECK_EQ_U(e->s.held_segments, 0);
    CHECK_EQ_U(e->s.held_bytes, 0);
    CHECK_EQ_U(e->s.next_seq, 7013);
    CHECK_EQ_U(e->c.bad, 0);
    env_free(e);
  }
}

static void test_retransmission(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, SYN, "", 1);
  seg(e, 1, A, "abcd", 2);
  seg(e, 5, A, "efgh", 3);
  seg(e, 1, A, "abcd", 4); /* below next_seq */
  CHECK_EQ_U(e->s.count.retransmits, 1);
  seg(e, 13, A, "mnop", 5); /* held: 9..13 missing */
  seg(e, 13, A, "mnop", 6); /* same bytes again */
  seg(e, 13, A, "mXop", 7); /* same range, other bytes: the first copy stays */
  CHECK_EQ_U(e->s.count.retransmits, 3);
  CHECK_EQ_U(e->s.count.overlap_conflicts, 1);
  CHECK_EQ_U(e->s.count.out_of_order, 1);
  CHECK_EQ_U(e->s.held_segments, 1);
  seg(e, 9, A, "ijkl", 8);
  CHECK_STR(e->c.out, "abcdefghijklmnop");
  /* mnop keeps the first copy's bytes (frame 5) but is delivered with
   * frame 8, whose ijkl filled the hole below it */
  CHECK_EQ_U(e->c.calls[e->c.ncalls - 1].frame, 8);
  CHECK_EQ_U(e->s.count.stream_bytes, 16);
  CHECK_EQ_U(e->s.count.overlaps, 0);
  env_free(e);
}

/* The front of a segment was delivered already: only its tail is new. */
static void test_overlap_with_delivered(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 99, SYN, "", 1);
  seg(e, 100, A, "abcdefgh", 2);
  seg(e, 104, A, "EFGHijkl", 3); /* differing old bytes cannot be compared: not kept */
  CHECK_STR(e->c.out, "abcdefghijkl");
  CHECK_EQ_U(e->s.count.overlaps, 1);
  CHECK_EQ_U(e->s.count.overlap_conflicts, 0);
  CHECK_EQ_U(e->s.count.retransmits, 0);
  CHECK_EQ_U(e->s.count.stream_bytes, 12);
  CHECK_EQ_U(e->c.calls[1].len, 4);
  CHECK_EQ_U(e->c.calls[1].frame, 3);
  env_free(e);
}

/* A new segment whose right side overlaps the left side of a held one. */
static void test_overlap_right_side(void) {
  for (int conflicting = 0; conflicting < 2; conflicting++) {
    struct env *e = env_new(65536, 64);

    seg(e, 0, A, "abcde", 1);  /* mid-stream start at 0 */
    seg(e, 10, A, "klmno", 2); /* held */
    seg(e, 5, A, conflicting ? "fghijXY" : "fghijkl", 3);
    CHECK_STR(e->c.out, "abcdefghijklmno");
    CHECK_EQ_U(e->s.count.overlaps, 1);
    CHECK_EQ_U(e->s.count.overlap_conflicts, conflicting);
    CHECK_EQ_U(e->s.count.out_of_order, 1);
    CHECK_EQ_U(e->s.count.stream_bytes, 15);
    CHECK_EQ_U(e->c.ncalls, 3);
    CHECK_EQ_U(e->c.calls[1].len, 5); /* fghij from frame 3 */
    CHECK_EQ_U(e->c.calls[1].frame, 3);
    CHECK_EQ_U(e->c.calls[2].frame, 3); /* klmno (held from frame 2), completed by frame 3 */
    env_free(e);
  }
}

/* A new segment whose left side overlaps the right side of a held one. */
static void test_overlap_left_side(void) {
  for (int conflicting = 0; conflicting < 2; conflicting++) {
    struct env *e = env_new(65536, 64);

    seg(e, 0, A, "abc", 1);
    seg(e, 5, A, "fghij", 2);                         /* held 5..10 */
    seg(e, 8, A, conflicting ? "XYKLM" : "ijKLM", 3); /* 8..10 seen, 10..13 new */
    CHECK_EQ_U(e->s.held_segments, 2);
    CHECK_EQ_U(e->s.held_bytes, 8);
    seg(e, 3, A, "de", 4);
    CHECK_STR(e->c.out, "abcdefghijKLM");
    CHECK_EQ_U(e->s.count.overlaps, 1);
    CHECK_EQ_U(e->s.count.overlap_conflicts, conflicting);
    CHECK_EQ_U(e->s.count.out_of_order, 2);
    CHECK_EQ_U(e->s.count.stream_bytes, 13);
    CHECK_EQ_U(e->c.ncalls, 4);
    CHECK_EQ_U(e->c.calls[1].frame, 4); /* de */
    CHECK_EQ_U(e->c.calls[2].frame, 4); /* fghij, held from frame 2: completed by de */
    CHECK_EQ_U(e->c.calls[3].frame, 4); /* KLM, held from frame 3: completed by de */
    CHECK_EQ_U(e->c.calls[3].len, 3);
    env_free(e);
  }
}

/* A held segment inside a new, longer one: the new one fills both sides. */
static void test_overlap_middle(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, A, "abc", 1);
  seg(e, 5, A, "fgh", 2);     /* held 5..8 */
  seg(e, 3, A, "deFGHij", 3); /* 3..10, differs inside 5..8 */
  CHECK_STR(e->c.out, "abcdefghij");
  CHECK_EQ_U(e->s.count.overlaps, 1);
  CHECK_EQ_U(e->s.count.overlap_conflicts, 1);
  CHECK_EQ_U(e->s.count.retransmits, 0);
  CHECK_EQ_U(e->s.count.stream_bytes, 10);
  CHECK_EQ_U(e->c.ncalls, 4);
  CHECK_EQ_U(e->c.calls[1].frame, 3); /* de */
  CHECK_EQ_U(e->c.calls[2].frame, 3); /* fgh, held from frame 2: completed by de */
  CHECK_EQ_U(e->c.calls[3].frame, 3); /* ij */
  CHECK_EQ_U(e->c.calls[3].len, 2);
  CHECK_EQ_U(e->s.held_segments, 0);
  env_free(e);
}

/* A new segment spanning two held ones and the holes around them. */
static void test_overlap_two_held(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, A, "ab", 1);
  seg(e, 4, A, "ef", 2);
  seg(e, 8, A, "ij", 3);
  seg(e, 3, A, "dEfgh", 4); /* 3..8: fills 3..4 and 6..8, E differs */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 1);
  CHECK_EQ_U(e->s.count.overlaps, 1);
  CHECK_EQ_U(e->s.held_segments, 4);
  CHECK_EQ_U(e->s.held_bytes, 7);
  seg(e, 2, A, "c", 5);
  CHECK_STR(e->c.out, "abcdefghij");
  CHECK_EQ_U(e->s.held_bytes, 0);
  env_free(e);
}

/* ISN 0xfffffff0: the data runs over 2^32 and on. */
static void test_wrap(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0xfffffff0u, SYN, "", 1);
  CHECK_EQ_U(e->s.next_seq, 0xfffffff1u);
  seg(e, 5, A, "KLMNO", 2);                /* after zero: held */
  seg(e, 0xfffffffbu, A, "ABCDEFGHIJ", 3); /* crosses zero: held */
  CHECK_EQ_U(e->s.held_segments, 2);
  CHECK_EQ_U(e->c.ncalls, 0);
  seg(e, 0xfffffff1u, A, "0123456789", 4);
  CHECK_STR(e->c.out, "0123456789ABCDEFGHIJKLMNO");
  CHECK_EQ_U(e->s.next_seq, 10);
  CHECK_EQ_U(e->s.count.out_of_order, 2);
  CHECK_EQ_U(e->s.count.stream_bytes, 25);
  seg(e, 0xfffffffbu, A, "ABCDEFGHIJ", 5); /* old, across the wrap */
  CHECK_EQ_U(e->s.count.retransmits, 1);
  ack(e, 20, 6); /* 10 bytes past the wrap never seen */
  CHECK_EQ_U(e->s.count.gap_bytes, 10);
  CHECK_EQ_U(e->s.next_seq, 20);
  seg(e, 20, A, "z", 7);
  CHECK_STR(e->c.out, "0123456789ABCDEFGHIJKLMNO<10>z");
  env_free(e);
}

static void test_no_syn_mid_stream(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 55, A, "", 1); /* pure ACK: does not fix the base */
  CHECK(!e->s.base_known);
  ack(e, 9999, 1); /* nothing to measure a gap against yet */
  CHECK_EQ_U(e->c.ncalls, 0);
  seg(e, 123456, A, "hello", 2);
  CHECK(e->s.base_known);
  CHECK(!e->s.syn_seen);
  CHECK_STR(e->c.out, "hello");
  CHECK_EQ_U(e->s.next_seq, 123461);
  seg(e, 999, SYN, "", 3); /* a late SYN does not reset the stream */
  CHECK_EQ_U(e->s.next_seq, 123461);
  seg(e, 123461, A, " there", 4);
  CHECK_STR(e->c.out, "hello there");
  CHECK_EQ_U(e->s.count.gaps, 0);
  CHECK_EQ_U(e->s.count.stream_bytes, 11);
  env_free(e);
}

static void test_base_from_syn_after_pure_ack(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 500, A, "", 1);
  seg(e, 1000, SYN, "", 2);
  CHECK_EQ_U(e->s.next_seq, 1001);
  seg(e, 1001, A, "ok", 3);
  CHECK_STR(e->c.out, "ok");
  CHECK_EQ_U(e->s.count.gaps, 0);
  env_free(e);
}

static void test_gap_by_ack(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, SYN, "", 1);
  seg(e, 1, A, "abcd", 2);
  /* 5..9 "efgh" lost from the capture */
  seg(e, 9, A, "ijkl", 3);
  CHECK_EQ_U(e->s.held_segments, 1);
  ack(e, 5, 4); /* nothing missing below 5 */
  CHECK_EQ_U(e->s.count.gaps, 0);
  ack(e, 9, 5); /* the peer got 5..9: lost here */
  CHECK_EQ_U(e->s.count.gaps, 1);
  CHECK_EQ_U(e->s.count.gap_bytes, 4);
  CHECK_EQ_U(e->c.ncalls, 2);
  CHECK_EQ_U(e->c.calls[1].gap_len, 4);
  CHECK_EQ_U(e->c.calls[1].flags, TCP_DATA_GAP);
  CHECK_EQ_U(e->c.calls[1].frame, 5); /* ijkl came in frame 3; the ACK completed it */
  CHECK_EQ_U(e->c.calls[1].ts, 5000);
  CHECK_EQ_U(e->c.calls[1].len, 4);
  seg(e, 13, A, "mnop", 6);
  CHECK_EQ_U(e->c.calls[2].gap_len, 0);
  CHECK_EQ_U(e->c.calls[2].flags, 0);
  CHECK_STR(e->c.out, "abcd<4>ijklmnop");
  /* an ACK beyond all data: a bare gap, reported with the ACK's frame */
  ack(e, 30, 7);
  CHECK_EQ_U(e->c.ncalls, 4);
  CHECK_EQ_U(e->c.calls[3].len, 0);
  CHECK(e->c.calls[3].data_null);
  CHECK_EQ_U(e->c.calls[3].gap_len, 13);
  CHECK_EQ_U(e->c.calls[3].frame, 7);
  CHECK_EQ_U(e->s.next_seq, 30);
  seg(e, 30, A, "zz", 8);
  CHECK_STR(e->c.out, "abcd<4>ijklmnop<13>zz");
  /* 2^31 + 1 ahead reads as behind: ignored */
  ack(e, 32u + 0x80000001u, 9);
  CHECK_EQ_U(e->s.next_seq, 32);
  CHECK_EQ_U(e->s.count.gaps, 2);
  CHECK_EQ_U(e->s.count.gap_bytes, 17);
  CHECK_EQ_U(e->s.count.stream_bytes, 14);
  CHECK_EQ_U(e->c.bad, 0);
  env_free(e);
}

/* An ACK past a hole and past held data: the held data comes out between
 * two gaps, all with the ACK's frame. */
static void test_gap_by_ack_across_held(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, A, "ab", 1);
  seg(e, 5, A, "fg", 2);
  ack(e, 10, 3);
  CHECK_STR(e->c.out, "ab<3>fg<3>");
  CHECK_EQ_U(e->c.calls[1].frame, 3); /* fg, held from frame 2 */
  CHECK_EQ_U(e->c.calls[2].frame, 3); /* the bare gap */
  CHECK_EQ_U(e->s.count.gaps, 2);
  CHECK_EQ_U(e->s.count.gap_bytes, 6);
  CHECK_EQ_U(e->s.next_seq, 10);
  env_free(e);
}

static void test_fin(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, SYN, "", 1);
  seg(e, 1, FIN, "abc", 2);
  CHECK(e->s.fin_seen);
  CHECK_EQ_U(e->s.fin_seq, 4);
  seg(e, 4, A, "def", 3); /* after the FIN: ignored */
  CHECK_STR(e->c.out, "abc");
  ack(e, 5, 4); /* acknowledges the FIN itself: no gap */
  CHECK_EQ_U(e->s.count.gaps, 0);
  CHECK_EQ_U(e->s.count.stream_bytes, 3);
  CHECK_EQ_U(e->s.next_seq, 4);
  env_free(e);
}

static void test_fin_after_hole(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, SYN, "", 1);
  seg(e, 1, A, "abc", 2);
  seg(e, 12, A, "xyz", 3); /* held, but will lie after the FIN */
  seg(e, 10, FIN, "", 4);  /* FIN at 10: 4..10 missing so far */
  CHECK_EQ_U(e->s.fin_seq, 10);
  CHECK_EQ_U(e->s.held_segments, 0);
  CHECK_EQ_U(e->s.held_bytes, 0);
  seg(e, 4, A, "defghijk", 5); /* 4..12: cut at the FIN */
  CHECK_STR(e->c.out, "abcdefghi");
  ack(e, 100, 6); /* past FIN + 1: not trusted */
  CHECK_EQ_U(e->s.count.gaps, 0);
  ack(e, 11, 7); /* FIN acknowledged: nothing missing */
  CHECK_EQ_U(e->s.count.gaps, 0);
  CHECK_EQ_U(e->s.next_seq, 10);
  env_free(e);
}

static void test_fin_acked_over_lost_data(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, SYN, "", 1);
  seg(e, 1, A, "abc", 2);
  seg(e, 7, FIN, "", 3); /* 4..7 lost */
  ack(e, 8, 4);
  CHECK_EQ_U(e->s.count.gaps, 1);
  CHECK_EQ_U(e->s.count.gap_bytes, 3);
  CHECK_STR(e->c.out, "abc<3>");
  CHECK_EQ_U(e->c.calls[1].frame, 4);
  CHECK_EQ_U(e->s.next_seq, 7);
  env_free(e);
}

static void test_rst(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, SYN, "", 1);
  seg(e, 1, A, "ab", 2);
  seg(e, 3, RST, "connection reset", 3); /* an RST's text is no stream data */
  CHECK(e->s.rst_seen);
  CHECK_STR(e->c.out, "ab");
  CHECK_EQ_U(e->s.next_seq, 3);
  CHECK_EQ_U(e->s.count.stream_bytes, 2);
  env_free(e);
}

/* The segment cap: the third held segment forces the stream past a hole. */
static void test_gap_by_segment_cap(void) {
  struct env *e = env_new(65536, 2);

  seg(e, 0, A, "a", 1);
  seg(e, 2, A, "c", 2);
  seg(e, 4, A, "e", 3);
  CHECK_EQ_U(e->s.count.cap_hits, 0);
  seg(e, 6, A, "g", 4); /* full: skip 1..2, deliver c, then hold g */
  CHECK_EQ_U(e->s.count.cap_hits, 1);
  CHECK_EQ_U(e->s.count.gaps, 1);
  CHECK_EQ_U(e->s.count.gap_bytes, 1);
  CHECK_STR(e->c.out, "a<1>c");
  CHECK_EQ_U(e->c.calls[1].frame, 4); /* c, held from frame 2: g forced the gap */
  CHECK_EQ_U(e->s.held_segments, 2);
  CHECK_EQ_U(e->s.count.out_of_order, 3);
  CHECK_EQ_U(e->max_held_segments, 2);
  flush(e);
  CHECK_STR(e->c.out, "a<1>c<1>e<1>g");
  /* end of stream: nothing completed them, each keeps its own frame */
  CHECK_EQ_U(e->c.calls[2].frame, 3); /* e */
  CHECK_EQ_U(e->c.calls[3].frame, 4); /* g */
  CHECK_EQ_U(e->s.count.gaps, 3);
  CHECK_EQ_U(e->s.count.gap_bytes, 3);
  CHECK_EQ_U(e->s.count.stream_bytes, 4);
  env_free(e);
}

/* The byte cap, including a segment below every held one and a segment
 * larger than the whole cap. */
static void test_gap_by_byte_cap(void) {
  struct env *e = env_new(8, 100);

  seg(e, 0, A, "ab", 1);
  seg(e, 4, A, "efgh", 2);
  seg(e, 10, A, "klmn", 3); /* 8 bytes held: the cap */
  seg(e, 16, A, "qr", 4);   /* skip 2..4, deliver efgh, hold qr */
  CHECK_STR(e->c.out, "ab<2>efgh");
  CHECK_EQ_U(e->s.count.cap_hits, 1);
  CHECK_EQ_U(e->s.held_bytes, 6);
  /* 9..17: j new, klmn already held, op new, q already held */
  seg(e, 9, A, "jklmnopq", 5);
  /* j fits (7 held); op does not: skip 8..9, deliver j klmn, then op qr */
  CHECK_STR(e->c.out, "ab<2>efgh<1>jklmnopqr");
  CHECK_EQ_U(e->s.count.overlaps, 1);
  CHECK_EQ_U(e->s.count.overlap_conflicts, 0);
  CHECK_EQ_U(e->s.count.cap_hits, 2);
  CHECK_EQ_U(e->s.count.gaps, 2);
  CHECK_EQ_U(e->s.count.gap_bytes, 3);
  CHECK_EQ_U(e->s.held_bytes, 0);
  CHECK_EQ_U(e->s.next_seq, 18);
  CHECK_EQ_U(e->max_held_bytes, 8);
  CHECK_EQ_U(e->c.ncalls, 6);
  CHECK_EQ_U(e->c.calls[1].frame, 4); /* efgh, held from frame 2: qr forced the gap */
  CHECK_EQ_U(e->c.calls[2].frame, 5); /* j, with the 1-byte gap */
  CHECK_EQ_U(e->c.calls[2].gap_len, 1);
  CHECK_EQ_U(e->c.calls[3].frame, 5); /* klmn, held from frame 3 */
  CHECK_EQ_U(e->c.calls[4].frame, 5); /* op */
  CHECK_EQ_U(e->c.calls[5].frame, 5); /* qr, held from frame 4 */
  env_free(e);
}

static void test_cap_piece_below_held(void) {
  struct env *e = env_new(65536, 1);

  seg(e, 0, A, "ab", 1);
  seg(e, 10, A, "x", 2);
  seg(e, 4, A, "e", 3); /* cap full: the stream continues at e, not past it */
  CHECK_STR(e->c.out, "ab<2>e");
  CHECK_EQ_U(e->s.count.cap_hits, 1);
  CHECK_EQ_U(e->s.held_segments, 1);
  CHECK_EQ_U(e->s.next_seq, 5);
  flush(e);
  CHECK_STR(e->c.out, "ab<2>e<5>x");
  env_free(e);
}

static void test_cap_segment_larger_than_cap(void) {
  struct env *e = env_new(4, 10);

  seg(e, 0, A, "ab", 1);
  seg(e, 10, A, "abcdefgh", 2); /* larger than the cap, nothing held */
  CHECK_STR(e->c.out, "ab<8>abcdefgh");
  CHECK_EQ_U(e->s.count.cap_hits, 1);
  CHECK_EQ_U(e->max_held_bytes, 0);
  CHECK_EQ_U(e->s.next_seq, 18);
  env_free(e);
}

static void test_flush_gaps(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, A, "ab", 1);
  seg(e, 8, A, "ij", 2);
  seg(e, 4, A, "ef", 3);
  flush(e);
  CHECK_STR(e->c.out, "ab<2>ef<2>ij");
  /* end of stream: held segments keep their own frames */
  CHECK_EQ_U(e->c.calls[1].frame, 3);
  CHECK_EQ_U(e->c.calls[1].flags, TCP_DATA_GAP);
  CHECK_EQ_U(e->c.calls[2].frame, 2);
  CHECK_EQ_U(e->s.count.gaps, 2);
  CHECK_EQ_U(e->s.count.gap_bytes, 4);
  CHECK_EQ_U(e->s.held_segments, 0);
  CHECK_EQ_U(e->s.held_bytes, 0);
  CHECK(e->s.held == NULL);
  flush(e); /* nothing left */
  CHECK_EQ_U(e->c.ncalls, 3);
  env_free(e);
}

static void test_free_without_delivery(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, A, "ab", 1);
  seg(e, 8, A, "ij", 2);
  seg(e, 4, A, "ef", 3);
  tcp_stream_free(&e->s);
  CHECK_EQ_U(e->c.ncalls, 1);
  CHECK_EQ_U(e->s.held_segments, 0);
  CHECK_EQ_U(e->s.held_bytes, 0);
  CHECK(e->s.held == NULL);
  env_free(e);
}

/* Modelled on a real capture: the second segment B (relative seq 1449..2504)
 * is captured in frame 10, before the first segment A (seq 1..1448) in frame
 * 11.  B is held; A fills the hole, so both come out with frame 11, as tshark
 * reports the message in the frame that completes it.  The two frames sit in
 * different capture files to show file_index follows the completing frame. */
static void test_held_completed_by_later_frame(void) {
  enum { A_LEN = 1448, B_LEN = 1056 };
  static char msg[A_LEN + B_LEN + 1];
  struct env *e = env_new(65536, 64);

  for (int i = 0; i < A_LEN + B_LEN; i++)
    msg[i] = (char)('A' + i % 26);
  seg(e, 0, SYN, "", 1);
  seg_in(e, 1, 1 + A_LEN, A, msg + A_LEN, B_LEN, 10); /* B first: held */
  CHECK_EQ_U(e->c.ncalls, 0);
  CHECK_EQ_U(e->s.held_segments, 1);
  CHECK_EQ_U(e->s.held_bytes, B_LEN);
  seg_in(e, 2, 1, A, msg, A_LEN, 11); /* A fills the hole */
  CHECK_STR(e->c.out, msg);
  CHECK_EQ_U(e->c.ncalls, 2);
  CHECK_EQ_U(e->c.calls[0].len, A_LEN);
  CHECK_EQ_U(e->c.calls[0].frame, 11);
  CHECK_EQ_U(e->c.calls[0].file_index, 2);
  CHECK_EQ_U(e->c.calls[0].ts, 11000);
  CHECK_EQ_U(e->c.calls[1].len, B_LEN);
  CHECK_EQ_U(e->c.calls[1].frame, 11);
  CHECK_EQ_U(e->c.calls[1].file_index, 2);
  CHECK_EQ_U(e->c.calls[1].ts, 11000);
  CHECK_EQ_U(e->c.calls[1].gap_len, 0);
  CHECK_EQ_U(e->s.count.out_of_order, 1);
  CHECK_EQ_U(e->s.count.gaps, 0);
  CHECK_EQ_U(e->s.held_segments, 0);
  CHECK_EQ_U(e->s.next_seq, 1 + A_LEN + B_LEN);
  CHECK_EQ_U(e->c.bad, 0);
  env_free(e);
}

/* Deterministic pseudo-random traffic: a message cut into segments, sent in
 * a shuffled order with duplicates and overlapping resends, under small caps.
 * Every delivered byte must sit at its place in the message. */
static void test_caps_random(void) {
  enum { MSG = 3000 };
  static char msg[MSG];
  uint32_t rng = 12345, isn = 0xffffff00u;

  for (int i = 0; i < MSG; i++)
    msg[i] = (char)('a' + i % 26);
  for (int round = 0; round < 20; round++) {
    struct env *e = env_new(64, 4);
    uint64_t pos = 0, sent_frames = 0;
    unsigned wrong = 0;

    seg(e, isn, SYN, "", ++sent_frames);
    for (int n = 0; n < 400; n++) {
      rng = rng * 1103515245u + 12345u;
      uint32_t start = (rng >> 8) % (MSG - 40);
      if (n % 3 == 0)
        start = (uint32_t)(e->s.next_seq - isn - 1) % (MSG - 40); /* keep it moving */
      size_t len = 1 + (rng >> 20) % 40;
      seg_n(e, isn + 1 + start, A, msg + start, len, ++sent_frames);
      CHECK(e->s.held_bytes <= 64);
      CHECK(e->s.held_segments <= 4);
    }
    flush(e);
    /* replay the deliveries: gap_len moves the cursor, bytes must match */
    size_t out_at = 0;
    for (size_t i = 0; i < e->c.ncalls && i < MAX_CALLS; i++) {
      const struct call *call = &e->c.calls[i];
      if (call->gap_len) {
        char mark[32];
        snprintf(mark, sizeof mark, "<%llu>", (unsigned long long)call->gap_len);
        out_at += strlen(mark);
        pos += call->gap_len;
      }
      if (pos + call->len > MSG || memcmp(e->c.out + out_at, msg + pos, call->len) != 0)
        wrong++;
      out_at += call->len;
      pos += call->len;
    }
    CHECK_EQ_U(wrong, 0);
    CHECK(e->c.ncalls <= MAX_CALLS); /* else the replay above was partial */
    CHECK_EQ_U(e->s.count.stream_bytes + e->s.count.gap_bytes, e->s.next_seq - isn - 1);
    CHECK_EQ_U(e->c.delivered, e->s.count.stream_bytes);
    CHECK(e->s.count.cap_hits > 0);
    CHECK(e->s.count.retransmits > 0);
    CHECK(e->s.count.overlaps > 0);
    CHECK_EQ_U(e->s.count.overlap_conflicts, 0); /* every copy carried the same bytes */
    CHECK(e->max_held_bytes <= 64);
    CHECK(e->max_held_segments <= 4);
    CHECK_EQ_U(e->c.bad, 0);
    env_free(e);
  }
}

/* The same traffic in normal and in skip mode: same counters, no bytes. */
static void run_mixed(struct env *e) {
  seg(e, 0, SYN, "", 1);
  seg(e, 1, A, "abcd", 2);
  seg(e, 9, A, "ijkl", 3);         /* held */
  seg(e, 9, A, "ijkl", 4);         /* retransmit of held */
  seg(e, 1, A, "abcd", 5);         /* retransmit of delivered */
  seg(e, 3, A, "cdefgh", 6);       /* overlap with delivered, fills the hole */
  seg(e, 20, A, "uvwx", 7);        /* held */
  seg(e, 18, A, "stUV", 8);        /* overlap with held (right side) */
  ack(e, 18, 9);                   /* 13..18 lost */
  seg(e, 30, A, "0123456789", 10); /* held: 10 bytes, cap is 12 */
  seg(e, 40, A, "abcdefgh", 11);   /* cap: gap 24..30 */
  flush(e);
}

static void test_skip_mode(void) {
  struct env *normal = env_new(12, 10), *skip = env_new(12, 10);

  skip->s.skip = true;
  run_mixed(normal);
  run_mixed(skip);
  CHECK_STR(normal->c.out, "abcdefghijkl<5>stuvwx<6>0123456789abcdefgh");
  CHECK_STR(skip->c.out, "<5><6>");
  CHECK_EQ_U(normal->s.count.stream_bytes, 36);
  CHECK_EQ_U(normal->s.count.gaps, 2);
  CHECK_EQ_U(normal->s.count.gap_bytes, 11);
  CHECK_EQ_U(normal->s.count.retransmits, 2);
  CHECK_EQ_U(normal->s.count.overlaps, 2);
  CHECK_EQ_U(normal->s.count.out_of_order, 5);
  CHECK_EQ_U(normal->s.count.cap_hits, 1);
  CHECK_EQ_U(normal->s.count.overlap_conflicts, 1); /* UV vs uv */
  CHECK_EQ_U(skip->s.count.stream_bytes, normal->s.count.stream_bytes);
  CHECK_EQ_U(skip->s.count.gaps, normal->s.count.gaps);
  CHECK_EQ_U(skip->s.count.gap_bytes, normal->s.count.gap_bytes);
  CHECK_EQ_U(skip->s.count.retransmits, normal->s.count.retransmits);
  CHECK_EQ_U(skip->s.count.overlaps, normal->s.count.overlaps);
  CHECK_EQ_U(skip->s.count.out_of_order, normal->s.count.out_of_order);
  CHECK_EQ_U(skip->s.count.cap_hits, normal->s.count.cap_hits);
  CHECK_EQ_U(skip->s.next_seq, normal->s.next_seq);
  CHECK_EQ_U(skip->c.ncalls, normal->c.ncalls);
  CHECK_EQ_U(skip->c.delivered, 36);
  for (size_t i = 0; i < skip->c.ncalls; i++) {
    CHECK(skip->c.calls[i].data_null);
    CHECK(skip->c.calls[i].len == 0 || (skip->c.calls[i].flags & TCP_DATA_SKIP));
    CHECK_EQ_U(skip->c.calls[i].frame, normal->c.calls[i].frame);
    CHECK_EQ_U(skip->c.calls[i].len, normal->c.calls[i].len);
    CHECK_EQ_U(skip->c.calls[i].gap_len, normal->c.calls[i].gap_len);
  }
  CHECK_EQ_U(skip->c.bad, 0);
  CHECK_EQ_U(normal->c.bad, 0);
  env_free(normal);
  env_free(skip);
}

/* Skip mode switched on while bytes are held: they come out counted only. */
static void test_skip_switched_on(void) {
  struct env *e = env_new(65536, 64);

  seg(e, 0, A, "ab", 1);
  seg(e, 4, A, "ef", 2);
  e->s.skip = true;
  seg(e, 2, A, "cd", 3);
  CHECK_STR(e->c.out, "ab");
  CHECK_EQ_U(e->c.ncalls, 3);
  CHECK(e->c.calls[1].data_null);
  CHECK_EQ_U(e->c.calls[1].flags, TCP_DATA_SKIP);
  CHECK(e->c.calls[2].data_null);
  CHECK_EQ_U(e->c.calls[2].frame, 3); /* ef, held from frame 2: completed by cd */
  CHECK_EQ_U(e->s.count.stream_bytes, 6);
  CHECK_EQ_U(e->c.bad, 0);
  env_free(e);
}

/* A copy of delivered bytes is compared with the ring of recent ones. */
static void test_delivered_copy_compared(void) {
  struct env *e = env_new(65536, 64);

  e->lim.tcp_recent_bytes = 8;
  seg(e, 0, SYN, "", 1);
  seg(e, 1, A, "hello", 2);
  seg(e, 1, A, "hello", 3); /* the same bytes: no conflict */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 0);
  seg(e, 1, A, "jello", 4); /* wholly behind next_seq, one byte differs */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 1);
  seg(e, 3, A, "lXo world", 5); /* the front 3 are behind next_seq: 'X' differs */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 2);
  CHECK_STR(e->c.out, "hello world"); /* the first copies won */
  /* the ring holds the last 8 bytes, "lo world" (seq 4..11): 1..3 are gone */
  seg(e, 1, A, "jel", 6);
  CHECK_EQ_U(e->s.count.overlap_conflicts, 2);
  CHECK_EQ_U(e->s.count.uncompared, 1);
  seg(e, 2, A, "elX", 7); /* 'X' at seq 4 is held and differs from 'l' */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 3);
  CHECK_EQ_U(e->s.count.uncompared, 1);
  env_free(e);
}

/* The ring starts small and grows with what is delivered, keeping the
 * bytes it held in order: a copy of bytes delivered before it grew is
 * still compared, byte for byte, and the ring never passes the limit. */
static void test_delivered_copy_ring_grows(void) {
  struct env *e = env_new(65536, 64);
  char first[200], second[600];

  memset(first, 'a', sizeof first);
  memset(second, 'b', sizeof second);
  e->lim.tcp_recent_bytes = 1024;
  seg(e, 0, SYN, "", 1);
  seg_n(e, 1, A, first, sizeof first, 2);
  CHECK(e->s.recent_cap < 1024);              /* a small ring for 200 bytes */
  seg_n(e, 201, A, second, sizeof second, 3); /* 800 delivered: the ring grows */
  CHECK(e->s.recent_cap >= 800 && e->s.recent_cap <= 1024);
  first[150] = 'X';
  seg_n(e, 1, A, first, sizeof first, 4); /* byte 151, kept across the growth, differs */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 1);
  first[150] = 'a';
  seg_n(e, 1, A, first, sizeof first, 5); /* the same bytes: no conflict */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 1);
  seg_n(e, 801, A, second, sizeof second, 6); /* 1400 delivered: the ring stops at 1024 */
  CHECK_EQ_U(e->s.recent_cap, 1024);
  seg_n(e, 1, A, first, 10, 7); /* bytes 1..10 are gone: not compared */
  CHECK_EQ_U(e->s.count.uncompared, 1);
  second[599] = 'X';
  seg_n(e, 801, A, second, sizeof second, 8); /* the last byte delivered differs */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 2);
  env_free(e);
}

static void test_delivered_copy_ring_frozen(void) {
  struct env *e = env_new(65536, 64);

  e->lim.tcp_recent_bytes = 64;
  seg(e, 0, SYN, "", 1);
  seg(e, 1, A, "hello", 2);
  e->s.recent_frozen = true; /* the consumer reads record headers only */
  seg(e, 6, A, " world", 3);
  seg(e, 1, A, "jello", 4); /* still held */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 1);
  seg(e, 6, A, " worlX", 5); /* delivered while frozen: not held */
  CHECK_EQ_U(e->s.count.overlap_conflicts, 1);
  CHECK_EQ_U(e->s.count.uncompared, 1);
  /* without a ring (tcp_recent_bytes 0) nothing is compared */
  env_free(e);
  e = env_new(65536, 64);
  seg(e, 0, SYN, "", 1);
  seg(e, 1, A, "hello", 2);
  seg(e, 1, A, "jello", 3);
  CHECK_EQ_U(e->s.count.overlap_conflicts, 0);
  CHECK_EQ_U(e->s.count.uncompared, 1);
  env_free(e);
}

/* Two directions after a handshake: client ISN 100, server ISN 900; both
 * SYNs with or without the window scale option (shift 7). */
static void rst_streams(struct tcp_stream *client, struct tcp_stream *server, bool scaled) {
  struct cap_packet syn = {.tcp_flags = CAP_TCP_SYN, .tcp_seq = 100, .tcp_window = 65535};
  struct cap_packet syn_ack = {
      .tcp_flags = CAP_TCP_SYN | CAP_TCP_ACK, .tcp_seq = 900, .tcp_ack = 101, .tcp_window = 65535};
  struct cap_packet ack = {.tcp_flags = CAP_TCP_ACK, .tcp_seq = 101, .tcp_ack = 901};

  tcp_stream_init(client);
  tcp_stream_init(server);
  syn.tcp_wscale_sent = syn_ack.tcp_wscale_sent = scaled;
  syn.tcp_wscale = syn_ack.tcp_wscale = 7;
  ack.tcp_window = 1000; /* 1000 << 7 = 128000 when scaled */
  tcp_stream_segment(client, NULL, 100, CAP_TCP_SYN, NULL, 0, 0, 1, 0, NULL, NULL);
  tcp_stream_note_receiver(client, &syn);
  tcp_stream_segment(server, NULL, 900, CAP_TCP_SYN | CAP_TCP_ACK, NULL, 0, 0, 2, 0, NULL, NULL);
  tcp_stream_note_receiver(server, &syn_ack);
  tcp_stream_note_receiver(client, &ack);
}

static void test_rst_window(void) {
  struct tcp_stream client, server;

  rst_streams(&client, &server, false);
  /* a server RST: the client's window is [901, 901 + 1000) */
  CHECK(tcp_rst_acceptable(&server, &client, 901, CAP_TCP_RST, 0));
  CHECK(tcp_rst_acceptable(&server, &client, 901 + 999, CAP_TCP_RST, 0));
  CHECK(!tcp_rst_acceptable(&server, &client, 901 + 1000, CAP_TCP_RST, 0));
  CHECK(!tcp_rst_acceptable(&server, &client, 900, CAP_TCP_RST, 0));
  CHECK(!tcp_rst_acceptable(&server, &client, 901 + 1000000000u, CAP_TCP_RST, 0));
  /* scaled by 2^7 (RFC 7323 2.2): [901, 901 + 128000) */
  rst_streams(&client, &server, true);
  CHECK(tcp_rst_acceptable(&server, &client, 901 + 127999, CAP_TCP_RST, 0));
  CHECK(!tcp_rst_acceptable(&server, &client, 901 + 128000, CAP_TCP_RST, 0));
  /* a client RST: the server's last window came in its SYN-ACK, never
   * scaled: [101, 101 + 65535) */
  CHECK(tcp_rst_acceptable(&client, &server, 101 + 65534, CAP_TCP_RST, 0));
  CHECK(!tcp_rst_acceptable(&client, &server, 101 + 65535, CAP_TCP_RST, 0));
}

static void test_rst_without_syn(void) {
  struct tcp_stream client, server;
  struct cap_packet ack = {.tcp_flags = CAP_TCP_ACK, .tcp_ack = 5000, .tcp_window = 1000};

  /* mid-stream, no SYN seen: one server byte at 4000, then the client's
   * ACK of 4001 with a window of 1000 whose scale is unknown */
  tcp_stream_init(&client);
  tcp_stream_init(&server);
  CHECK(tcp_rst_acceptable(&server, &client, 123, CAP_TCP_RST, 0)); /* nothing to judge by */
  tcp_stream_segment(&server, NULL, 4000, CAP_TCP_ACK, (const uint8_t *)"x", 1, 0, 1, 0, NULL,
                     NULL);
  CHECK(tcp_rst_acceptable(&server, &client, 4001, CAP_TCP_RST, 0)); /* next expected */
  CHECK(!tcp_rst_acceptable(&server, &client, 4002, CAP_TCP_RST, 0));
  ack.tcp_ack = 4001;
  tcp_stream_note_receiver(&client, &ack);
  /* the unscaled window, the least it can mean: [4001, 5001) */
  CHECK(tcp_rst_acceptable(&server, &client, 5000, CAP_TCP_RST, 0));
  CHECK(!tcp_rst_acceptable(&server, &client, 5001, CAP_TCP_RST, 0));
  tcp_stream_free(&server);
}

static void test_rst_answering_syn(void) {
  struct tcp_stream client, server;

  tcp_stream_init(&client);
  tcp_stream_init(&server);
  tcp_stream_segment(&client, NULL, 100, CAP_TCP_SYN, NULL, 0, 0, 1, 0, NULL, NULL);
  /* RFC 793 3.4, SYN-SENT: acceptable when its ACK acknowledges the SYN */
  CHECK(tcp_rst_acceptable(&server, &client, 0, CAP_TCP_RST | CAP_TCP_ACK, 101));
  CHECK(!tcp_rst_acceptable(&server, &client, 0, CAP_TCP_RST | CAP_TCP_ACK, 5000));
  CHECK(!tcp_rst_acceptable(&server, &client, 0, CAP_TCP_RST, 101));
}

int main(void) {
  RUN(test_in_order);
  RUN(test_data_on_syn);
  RUN(test_out_of_order_permutations);
  RUN(test_retransmission);
  RUN(test_overlap_with_delivered);
  RUN(test_overlap_right_side);
  RUN(test_overlap_left_side);
  RUN(test_overlap_middle);
  RUN(test_overlap_two_held);
  RUN(test_wrap);
  RUN(test_no_syn_mid_stream);
  RUN(test_base_from_syn_after_pure_ack);
  RUN(test_gap_by_ack);
  RUN(test_gap_by_ack_across_held);
  RUN(test_fin);
  RUN(test_fin_after_hole);
  RUN(test_fin_acked_over_lost_data);
  RUN(test_rst);
  RUN(test_gap_by_segment_cap);
  RUN(test_gap_by_byte_cap);
  RUN(test_cap_piece_below_held);
  RUN(test_cap_segment_larger_than_cap);
  RUN(test_flush_gaps);
  RUN(test_free_without_delivery);
  RUN(test_held_completed_by_later_frame);
  RUN(test_caps_random);
  RUN(test_skip_mode);
  RUN(test_skip_switched_on);
  RUN(test_delivered_copy_compared);
  RUN(test_delivered_copy_ring_frozen);
  RUN(test_delivered_copy_ring_grows);
  RUN(test_rst_window);
  RUN(test_rst_without_syn);
  RUN(test_rst_answering_syn);
  return harness_done();
}
