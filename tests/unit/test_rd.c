/*
 * tests/unit/test_rd.c - base/rd.h, the bounded reader.
 *
 * Expected values are the big-endian (network order) readings of the
 * bytes written out below, worked out by hand: 0x0102 for bytes 01 02 and
 * so on.  What is checked is the contract both layers rely on: a short
 * read sets the sticky err, empties the reader and yields zero (NULL, an
 * empty sub-reader); a peek reads without consuming under the same rules;
 * rd_done means consumed exactly without error.
 */
#include "base/rd.h"
#include "harness.h"

static const uint8_t BYTES[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a};

static void test_reads_in_order(void) {
  struct rd r = rd_make(BYTES, sizeof BYTES);
  CHECK_EQ_U(rd_u8(&r), 0x01);
  CHECK_EQ_U(rd_u16(&r), 0x0203);
  CHECK_EQ_U(rd_u24(&r), 0x040506);
  CHECK_EQ_U(rd_u32(&r), 0x0708090a);
  CHECK(!r.err);
  CHECK_EQ_U(r.n, 0);
  CHECK(rd_done(&r));
}

static void test_short_read_is_sticky(void) {
  struct rd r = rd_make(BYTES, 3);
  CHECK_EQ_U(rd_u16(&r), 0x0102);
  CHECK_EQ_U(rd_u16(&r), 0); /* one byte left: short */
  CHECK(r.err);
  CHECK_EQ_U(r.n, 0); /* emptied */
  CHECK(!rd_done(&r));
  CHECK_EQ_U(rd_u8(&r), 0); /* the error stays, even for a read that would fit before */
  CHECK(r.err);
  CHECK(rd_bytes(&r, 0) == NULL);
}

static void test_each_width_fails_short(void) {
  struct rd r8 = rd_make(BYTES, 0), r16 = rd_make(BYTES, 1), r24 = rd_make(BYTES, 2),
            r32 = rd_make(BYTES, 3);
  CHECK_EQ_U(rd_u8(&r8), 0);
  CHECK_EQ_U(rd_u16(&r16), 0);
  CHECK_EQ_U(rd_u24(&r24), 0);
  CHECK_EQ_U(rd_u32(&r32), 0);
  CHECK(r8.err && r16.err && r24.err && r32.err);
  CHECK(r16.n == 0 && r24.n == 0 && r32.n == 0);
}

static void test_skip_copy_bytes(void) {
  struct rd r = rd_make(BYTES, sizeof BYTES);
  rd_skip(&r, 2);
  uint8_t out[3] = {0xee, 0xee, 0xee};
  CHECK(rd_copy(&r, out, 3));
  CHECK(out[0] == 0x03 && out[1] == 0x04 && out[2] == 0x05);
  const uint8_t *at = rd_bytes(&r, 4);
  CHECK(at == BYTES + 5);
  CHECK_EQ_U(r.n, 1);
  uint8_t keep[2] = {0xee, 0xee};
  CHECK(!rd_copy(&r, keep, 2)); /* short: nothing copied */
  CHECK(keep[0] == 0xee && keep[1] == 0xee);
  CHECK(r.err);
  struct rd s = rd_make(BYTES, 2);
  rd_skip(&s, 3);
  CHECK(s.err && s.n == 0);
}

static void test_sub_readers(void) {
  struct rd r = rd_make(BYTES, sizeof BYTES);
  struct rd sub = rd_sub(&r, 4);
  CHECK(!sub.err && sub.n == 4 && sub.p == BYTES);
  CHECK_EQ_U(r.n, 6);
  CHECK_EQ_U(rd_u32(&sub), 0x01020304);
  CHECK(rd_done(&sub));
  CHECK_EQ_U(rd_u8(&sub), 0); /* a sub-reader ends at its own end */
  CHECK(sub.err);
  CHECK(!r.err); /* and its error is its own */
  struct rd too_long = rd_sub(&r, 7);
  CHECK(too_long.err && too_long.n == 0 && too_long.p == NULL);
  CHECK(r.err && r.n == 0);
}

static void test_vectors(void) {
  /* u8 length 2 + body, u16 length 1 + body, u24 length 0 */
  static const uint8_t v[] = {0x02, 0xaa, 0xbb, 0x00, 0x01, 0xcc, 0x00, 0x00, 0x00};
  struct rd r = rd_make(v, sizeof v);
  struct rd a = rd_vec8(&r);
  struct rd b = rd_vec16(&r);
  struct rd c = rd_vec24(&r);
  CHECK(a.n == 2 && a.p == v + 1 && !a.err);
  CHECK(b.n == 1 && b.p == v + 5 && !b.err);
  CHECK(c.n == 0 && !c.err);
  CHECK(rd_done(&r));
  /* a length beyond the end: empty sub-reader with err, parent failed */
  static const uint8_t lie[] = {0x00, 0x05, 0x01};
  struct rd l = rd_make(lie, sizeof lie);
  struct rd body = rd_vec16(&l);
  CHECK(body.err && body.n == 0);
  CHECK(l.err && l.n == 0);
}

static void test_peeks(void) {
  struct rd r = rd_make(BYTES, sizeof BYTES);
  rd_skip(&r, 1);
  CHECK_EQ_U(rd_peek_u8(&r, 0), 0x02);
  CHECK_EQ_U(rd_peek_u16(&r, 1), 0x0304);
  CHECK_EQ_U(rd_peek_u32(&r, 5), 0x0708090a); /* the last four bytes exactly */
  CHECK(rd_peek_bytes(&r, 8, 1) == BYTES + 9);
  CHECK(!r.err);
  CHECK_EQ_U(r.n, 9); /* nothing consumed */
  CHECK_EQ_U(rd_u8(&r), 0x02);
}

static void test_peek_short(void) {
  struct rd r = rd_make(BYTES, 4);
  CHECK_EQ_U(rd_peek_u16(&r, 3), 0); /* one byte short of the end */
  CHECK(r.err && r.n == 0);
  struct rd huge = rd_make(BYTES, 4);
  CHECK_EQ_U(rd_peek_u8(&huge, SIZE_MAX), 0); /* no wrap-around of at + k */
  CHECK(huge.err);
  struct rd wide = rd_make(BYTES, 4);
  CHECK(rd_peek_bytes(&wide, 1, SIZE_MAX) == NULL);
  CHECK(wide.err);
  struct rd past = rd_make(BYTES, 4);
  CHECK_EQ_U(rd_peek_u32(&past, 1), 0);
  CHECK(past.err);
  struct rd failed = rd_make(BYTES, 4);
  rd_skip(&failed, 5);
  CHECK_EQ_U(rd_peek_u8(&failed, 0), 0); /* a failed reader peeks nothing */
}

static void test_done_needs_exact(void) {
  struct rd r = rd_make(BYTES, 2);
  CHECK(!rd_done(&r));
  rd_skip(&r, 1);
  CHECK(!rd_done(&r));
  rd_skip(&r, 1);
  CHECK(rd_done(&r));
  struct rd empty = rd_make(NULL, 0);
  CHECK(rd_done(&empty));
  CHECK(rd_need(&empty, 0));
  CHECK(!rd_need(&empty, 1));
  CHECK(!rd_done(&empty));
}

int main(void) {
  RUN(test_reads_in_order);
  RUN(test_short_read_is_sticky);
  RUN(test_each_width_fails_short);
  RUN(test_skip_copy_bytes);
  RUN(test_sub_readers);
  RUN(test_vectors);
  RUN(test_peeks);
  RUN(test_peek_short);
  RUN(test_done_needs_exact);
  return harness_done();
}
