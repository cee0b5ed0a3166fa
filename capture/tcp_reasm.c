/*
 * capture/tcp_reasm.c - per-direction TCP reassembly.
 *
 * Turns the segments of one direction into in-order bytes.  Sequence numbers
 * are compared modulo 2^32 (RFC 793 section 3.3), so a stream may cross the
 * wrap.  Segments ahead of a hole are held, sorted by sequence number, up to
 * the per-direction caps in struct cap_limits; when the caps are full, or the
 * peer acknowledges bytes the capture never saw, the stream continues past
 * the hole and the consumer is told how many bytes are missing.  Where copies
 * of the same bytes disagree the first copy wins (RFC 793 leaves the choice
 * open); disagreements are counted.  A retransmission of bytes already
 * delivered is compared with the last delivered bytes, kept in a small
 * ring per direction (tcp_recent_bytes, and recent_total_bytes for all
 * streams, counted by the flow table): a copy that differs is a conflict
 * even when the other copy was delivered long ago; one older than the
 * ring is counted as not compared, never guessed at.
 *
 * Invariants between calls: every held segment starts strictly after
 * next_seq (one that starts at next_seq is delivered at once), held
 * segments do not overlap, and held_bytes / held_segments stay within the
 * caps.
 */
#include "capture/capture.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest segment we accept; more than any IP datagram carries.  Keeps every
 * offset within a segment far below 2^31, where sequence arithmetic works. */
#define TCP_MAX_SEGMENT ((size_t)1 << 30)

/* One held out-of-order segment.  Owned by its tcp_stream (the `held` list);
 * freed when delivered, by tcp_stream_flush or by tcp_stream_free. */
struct tcp_seg {
  uint32_t seq;
  size_t len;
  uint32_t file_index;
  uint64_t frame;
  cap_time_us ts;
  struct tcp_seg *next; /* next higher sequence number */
  bool has_bytes;       /* false: a length-only record (skip mode) */
  uint8_t bytes[];      /* exactly len bytes when has_bytes */
};

/* Where deliveries go, and the packet that caused them. */
struct sink {
  tcp_deliver_fn fn;
  void *ctx;
};

struct seg_origin {
  uint32_t file_index;
  uint64_t frame;
  cap_time_us ts;
};

/* a - b in sequence space: positive when a is after b. */
static int32_t seq_diff(uint32_t a, uint32_t b) {
  uint32_t d = a - b;
  return d <= INT32_MAX ? (int32_t)d : -(int32_t)(UINT32_MAX - d) - 1;
}

static uint32_t seq_add(uint32_t seq, size_t n) {
  return seq + (uint32_t)n;
}

/* ---- the ring of recently delivered bytes ---- */

/* Delivered bytes at next_seq go into the ring, unless it is frozen (the
 * consumer reads only record headers now: what it already graded stays
 * comparable).  Bytes counted only, or after a hole, start it afresh. */
/* Room for want bytes, up to recent_max: the held bytes move to the
 * start of a larger ring, oldest first.  Without memory the ring stays. */
static void recent_grow(struct tcp_stream *s, size_t want) {
  size_t cap = s->recent_cap;
  while (cap < want && cap < s->recent_max)
    cap *= 2;
  if (cap > s->recent_max)
    cap = s->recent_max;
  if (cap <= s->recent_cap)
    return;
  uint8_t *ring = malloc(cap);
  if (!ring)
    return;
  size_t start = (s->recent_end + s->recent_cap - s->recent_len) % s->recent_cap;
  size_t first = s->recent_cap - start < s->recent_len ? s->recent_cap - start : s->recent_len;
  memcpy(ring, s->recent + start, first);
  memcpy(ring + first, s->recent, s->recent_len - first);
  free(s->recent);
  s->recent = ring;
  s->recent_cap = cap;
  s->recent_end = s->recent_len % cap;
}

static void recent_push(struct tcp_stream *s, const uint8_t *data, size_t len) {
  if (!s->recent || s->recent_frozen)
    return;
  if (!data || s->recent_next != s->next_seq)
    s->recent_len = 0;
  s->recent_next = seq_add(s->next_seq, len);
  if (!data)
    return;
  if (s->recent_len + len > s->recent_cap && s->recent_cap < s->recent_max)
    recent_grow(s, s->recent_len + len);
  if (len >= s->recent_cap) {
    memcpy(s->recent, data + len - s->recent_cap, s->recent_cap);
    s->recent_end = 0;
    s->recent_len = s->recent_cap;
    return;
  }
  size_t first = s->recent_cap - s->recent_end;
  if (first > len)
    first = len;
  memcpy(s->recent + s->recent_end, data, first);
  memcpy(s->recent, data + first, len - first);
  s->recent_end = (s->recent_end + len) % s->recent_cap;
  s->recent_len = s->recent_len + len > s->recent_cap ? s->recent_cap : s->recent_len + len;
}

/* The smallest ring made; it doubles as bytes are delivered, so a ring is
 * about the size of what its stream delivered, up to the limit. */
#define RECENT_FIRST_BYTES 64

/* Keep the ring as the limits say (up to `cap` bytes, 0: no new ring, and
 * one made stops growing); none in skip mode.  A ring is made at the first
 * bytes to deliver. */
static void recent_setup(struct tcp_stream *s, size_t cap) {
  if (s->skip) {
    free(s->recent);
    s->recent = NULL;
    s->recent_cap = s->recent_len = s->recent_end = s->recent_max = 0;
    return;
  }
  if (s->recent) {
    s->recent_max = cap > s->recent_cap ? cap : s->recent_cap;
    return;
  }
  if (cap == 0)
    return;
  size_t first = cap < RECENT_FIRST_BYTES ? cap : RECENT_FIRST_BYTES;
  s->recent = malloc(first);
  if (s->recent) /* without memory: nothing compared, as beyond the cap */
    s->recent_cap = first;
  s->recent_max = s->recent ? cap : 0;
  s->recent_len = s->recent_end = 0;
}

/* A copy of delivered bytes [seq, seq + len): compare the part the ring
 * still holds.  True when a held byte differs; *unheld when some bytes
 * were not held (too old, or delivered while the ring was frozen). */
static bool recent_differs(const struct tcp_stream *s, uint32_t seq, const uint8_t *data,
                           size_t len, bool *unheld) {
  int64_t start = seq_diff(seq, s->recent_next); /* ring: [-recent_len, 0) */
  int64_t end = start + (int64_t)len;
  int64_t lo = start > -(int64_t)s->recent_len ? start : -(int64_t)s->recent_len;
  int64_t hi = end < 0 ? end : 0;

  *unheld = lo != start || hi != end;
  if (lo >= hi) {
    *unheld = true;
    return false;
  }
  size_t at = (s->recent_end + s->recent_cap - (size_t)-lo) % s->recent_cap;
  for (int64_t i = lo; i < hi; i++) {
    if (data[i - start] != s->recent[at])
      return true;
    at = at + 1 == s->recent_cap ? 0 : at + 1;
  }
  return false;
}

/* Bytes [seq, seq + len) were delivered already: count whether this copy
 * agrees (RFC 793 leaves open which copy a receiver keeps; when they
 * differ, what was graded may not be what the endpoint took). */
static void compare_delivered(struct tcp_stream *s, uint32_t seq, const uint8_t *data, size_t len) {
  bool unheld = true;

  if (!data || s->skip || len == 0)
    return;
  if (s->recent && s->recent_len && recent_differs(s, seq, data, len, &unheld))
    s->count.overlap_conflicts++;
  else if (unheld)
    s->count.uncompared++;
}

/* Hand len in-order bytes to the consumer.  *gap is the hole length pending
 * before them (0 for none); it is consumed by this delivery. */
static void emit(struct tcp_stream *s, const struct sink *out, const uint8_t *data, size_t len,
                 uint64_t *gap, const struct seg_origin *from) {
  unsigned flags = *gap ? TCP_DATA_GAP : 0;
  uint64_t gap_len = *gap;

  if (s->skip || !data) {
    flags |= TCP_DATA_SKIP;
    data = NULL;
  }
  recent_push(s, data, len);
  s->next_seq = seq_add(s->next_seq, len);
  s->count.stream_bytes += len;
  *gap = 0;
  if (out->fn)
    out->fn(out->ctx, data, len, gap_len, flags, from->file_index, from->frame, from->ts);
}

/* A hole reported with no bytes right after it. */
static void emit_bare_gap(const struct sink *out, uint64_t *gap, const struct seg_origin *from) {
  uint64_t gap_len = *gap;

  *gap = 0;
  if (gap_len && out->fn)
    out->fn(out->ctx, NULL, 0, gap_len, TCP_DATA_GAP, from->file_index, from->frame, from->ts);
}

static void unlink_first(struct tcp_stream *s) {
  struct tcp_seg *seg = s->held;

  s->held = seg->next;
  s->held_bytes -= seg->len;
  s->held_segments--;
}

/* Deliver the held segments that have become contiguous.  They carry the
 * frame that completed them (`by`: the segment or ACK that filled the hole,
 * as tshark reports a reassembled message), or their own frame when the
 * stream ends (`by` NULL).  A pending *gap goes with the first of them. */
static void drain_held(struct tcp_stream *s, const struct sink *out, uint64_t *gap,
                       const struct seg_origin *by) {
  while (s->held && s->held->seq == s->next_seq) {
    struct tcp_seg *seg = s->held;
    struct seg_origin from = {seg->file_index, seg->frame, seg->ts};
    if (by)
      from = *by;

    unlink_first(s);
    emit(s, out, seg->has_bytes ? seg->bytes : NULL, seg->len, gap, &from);
    free(seg);
  }
}

/* Continue the stream at `to`, counting the bytes jumped over.  Returns the
 * hole length (0 when `to` is not ahead of next_seq). */
static uint64_t skip_to(struct tcp_stream *s, uint32_t to) {
  int32_t hole = seq_diff(to, s->next_seq);

  if (hole <= 0)
    return 0;
  s->next_seq = to;
  s->count.gaps++;
  s->count.gap_bytes += (uint64_t)hole;
  return (uint64_t)hole;
}

/* Keep a segment ahead of a hole, if the caps allow.  In skip mode only its
 * length is kept. */
static bool hold(struct tcp_stream *s, const struct cap_limits *lim, uint32_t seq,
                 const uint8_t *data, size_t len, const struct seg_origin *from) {
  size_t max_bytes = lim ? lim->tcp_ooo_bytes : 0;
  size_t max_segments = lim ? lim->tcp_ooo_segments : 0;
  bool copy = data && !s->skip;
  struct tcp_seg *seg, **pos;

  if (s->held_segments >= max_segments || s->held_bytes > max_bytes ||
      len > max_bytes - s->held_bytes)
    return false;
  seg = malloc(sizeof *seg + (copy ? len : 0));
  if (!seg)
    return false; /* treated like a full cap: the stream continues past the hole */
  seg->seq = seq;
  seg->len = len;
  seg->file_index = from->file_index;
  seg->frame = from->frame;
  seg->ts = from->ts;
  seg->has_bytes = copy;
  if (copy)
    memcpy(seg->bytes, data, len);
  for (pos = &s->held; *pos && seq_diff((*pos)->seq, seq) < 0; pos = &(*pos)->next)
    ;
  seg->next = *pos;
  *pos = seg;
  s->held_bytes += len;
  s->held_segments++;
  return true;
}

/* Place bytes that no copy covers yet: deliver them when they are next,
 * else hold them; when the caps refuse, continue past the first hole (to
 * the lowest held segment or to these bytes, whichever comes first) until
 * they can be held or delivered. */
static void place_piece(struct tcp_stream *s, const struct cap_limits *lim, const struct sink *out,
                        uint32_t seq, const uint8_t *data, size_t len,
                        const struct seg_origin *from, bool *refused) {
  uint64_t gap = 0;

  for (;;) {
    int32_t ahead = seq_diff(seq, s->next_seq);

    if (ahead < 0)
      return; /* cannot happen: pieces never overlap what was delivered */
    if (ahead == 0) {
      emit(s, out, data, len, &gap, from);
      drain_held(s, out, &gap, from);
      return;
    }
    if (hold(s, lim, seq, data, len, from))
      return;
    if (!*refused) {
      s->count.cap_hits++;
      *refused = true;
    }
    uint32_t to = seq;
    if (s->held && seq_diff(s->held->seq, seq) < 0)
      to = s->held->seq;
    gap = skip_to(s, to);
    drain_held(s, out, &gap, from);
  }
}

/* The first run of bytes in [*pos, len) of a segment at `seq` that no held
 * segment covers: moves *pos to its start and returns its length (0: none). */
static size_t uncovered_run(const struct tcp_stream *s, uint32_t seq, size_t len, size_t *pos) {
  const struct tcp_seg *seg;

  for (seg = s->held; seg && *pos < len; seg = seg->next) {
    int64_t start = seq_diff(seg->seq, seq);
    int64_t end = start + (int64_t)seg->len;

    if (end <= (int64_t)*pos)
      continue;
    if (start > (int64_t)*pos)
      return (size_t)(start < (int64_t)len ? start : (int64_t)len) - *pos;
    *pos = (size_t)end;
  }
  return *pos < len ? len - *pos : 0;
}

/* How much of a segment at `seq` the held segments already cover, and
 * whether any covered byte differs from the held copy. */
static size_t covered_bytes(const struct tcp_stream *s, uint32_t seq, const uint8_t *data,
                            size_t len, bool *conflict) {
  const struct tcp_seg *seg;
  size_t covered = 0;

  *conflict = false;
  for (seg = s->held; seg; seg = seg->next) {
    int64_t start = seq_diff(seg->seq, seq);
    int64_t end = start + (int64_t)seg->len;
    int64_t lo = start > 0 ? start : 0;
    int64_t hi = end < (int64_t)len ? end : (int64_t)len;

    if (start >= (int64_t)len)
      break;
    if (lo >= hi)
      continue;
    covered += (size_t)(hi - lo);
    if (data && seg->has_bytes &&
        memcmp(data + lo, seg->bytes + (lo - start), (size_t)(hi - lo)) != 0)
      *conflict = true;
  }
  return covered;
}

/* Bytes at seq..seq+len with seq at or after next_seq; `overlapped` when
 * their front was already delivered and cut off. */
static void take_new(struct tcp_stream *s, const struct cap_limits *lim, const struct sink *out,
                     uint32_t seq, const uint8_t *data, size_t len, const struct seg_origin *from,
                     bool overlapped) {
  bool conflict, refused = false;
  size_t covered = covered_bytes(s, seq, data, len, &conflict);
  size_t pos = 0, run;

  if (covered == len && !overlapped) {
    s->count.retransmits++;
    s->count.overlap_conflicts += conflict;
    return;
  }
  if (overlapped || covered) {
    s->count.overlaps++;
    s->count.overlap_conflicts += conflict;
  }
  if (seq != s->next_seq)
    s->count.out_of_order++;
  for (;;) {
    /* placing a run may have moved next_seq over bytes of this segment */
    int32_t done = seq_diff(s->next_seq, seq);
    if (done > 0 && (size_t)done > pos)
      pos = (size_t)done;
    run = uncovered_run(s, seq, len, &pos);
    if (!run)
      return;
    place_piece(s, lim, out, seq_add(seq, pos), data ? data + pos : NULL, run, from, &refused);
    pos += run;
  }
}

/* Payload of one segment, once the stream has a base. */
static void take_data(struct tcp_stream *s, const struct cap_limits *lim, const struct sink *out,
                      uint32_t seq, const uint8_t *data, size_t len,
                      const struct seg_origin *from) {
  int64_t behind = -(int64_t)seq_diff(seq, s->next_seq);
  uint64_t no_gap = 0;

  if (behind >= (int64_t)len) {
    s->count.retransmits++;
    compare_delivered(s, seq, data, len);
    return;
  }
  if (behind > 0) {
    compare_delivered(s, seq, data, (size_t)behind);
    seq = s->next_seq;
    if (data)
      data += behind;
    len -= (size_t)behind;
  }
  if (!s->held && seq == s->next_seq) {
    /* the common case: next in line, nothing held */
    if (behind > 0)
      s->count.overlaps++;
    emit(s, out, data, len, &no_gap, from);
    return;
  }
  take_new(s, lim, out, seq, data, len, from, behind > 0);
}

/* The first FIN fixes the end of the stream; held bytes beyond it go. */
static void note_fin(struct tcp_stream *s, uint32_t fin_seq) {
  struct tcp_seg **pos = &s->held;

  if (s->fin_seen)
    return;
  s->fin_seen = true;
  s->fin_seq = fin_seq;
  while (*pos) {
    struct tcp_seg *seg = *pos;
    int64_t start = seq_diff(seg->seq, fin_seq);

    if (start >= 0) {
      *pos = seg->next;
      s->held_bytes -= seg->len;
      s->held_segments--;
      free(seg);
      continue;
    }
    if (start + (int64_t)seg->len > 0) {
      s->held_bytes -= seg->len - (size_t)-start;
      seg->len = (size_t)-start;
    }
    pos = &seg->next;
  }
}

/* Length of a segment at seq once the bytes at and after the FIN are cut. */
static size_t clip_to_fin(const struct tcp_stream *s, uint32_t seq, size_t len) {
  int64_t start;

  if (!s->fin_seen)
    return len;
  start = seq_diff(seq, s->fin_seq);
  if (start >= 0)
    return 0;
  if (start + (int64_t)len > 0)
    return (size_t)-start;
  return len;
}

void tcp_stream_init(struct tcp_stream *s) {
  memset(s, 0, sizeof *s);
}

void tcp_stream_set_skip(struct tcp_stream *s, bool skip) {
  s->skip = skip;
  recent_setup(s, 0); /* in skip mode: frees the ring */
}

void tcp_stream_free(struct tcp_stream *s) {
  tcp_stream_set_skip(s, true);
  while (s->held) {
    struct tcp_seg *seg = s->held;

    unlink_first(s);
    free(seg);
  }
}

/* Nothing delivered or skipped yet: the start may still move. */
static bool untouched(const struct tcp_stream *s) {
  return s->base_known && s->count.stream_bytes == 0 && s->count.gaps == 0;
}

static void note_alt_start(struct tcp_stream *s, uint32_t start) {
  for (uint8_t i = 0; i < s->n_alt_start; i++)
    if (s->alt_start[i] == start)
      return;
  if (s->n_alt_start < TCP_ALT_STARTS) /* more: a fixed bound, the first kept */
    s->alt_start[s->n_alt_start++] = start;
}

/* Does seq confirm another SYN's start?  Then the stream starts there, and
 * the start it had becomes the other one. */
static bool move_start(struct tcp_stream *s, uint32_t seq) {
  if (seq == s->next_seq || !untouched(s))
    return false;
  for (uint8_t i = 0; i < s->n_alt_start; i++)
    if (s->alt_start[i] == seq) {
      s->alt_start[i] = s->next_seq;
      s->next_seq = seq;
      return true;
    }
  return false;
}

void tcp_stream_segment(struct tcp_stream *s, const struct cap_limits *lim, uint32_t seq,
                        uint8_t flags, const uint8_t *data, size_t len, uint32_t file_index,
                        uint64_t frame, cap_time_us ts, tcp_deliver_fn fn, void *ctx) {
  struct sink out = {fn, ctx};
  struct seg_origin from = {file_index, frame, ts};

  if (flags & CAP_TCP_RST) {
    /* an RST's payload, if any, is a diagnostic, not stream data
     * (RFC 1122 section 4.2.2.12) */
    s->rst_seen = true;
    return;
  }
  if (len > TCP_MAX_SEGMENT)
    len = TCP_MAX_SEGMENT;
  if (flags & CAP_TCP_SYN) {
    /* the SYN occupies one sequence number; its data follows it */
    seq = seq_add(seq, 1);
    if (!s->base_known) {
      s->next_seq = seq;
      s->base_known = true;
    } else if (seq != s->next_seq && untouched(s)) {
      note_alt_start(s, seq);
    }
    s->syn_seen = true;
  }
  if (!s->base_known && len > 0) {
    /* capture started mid-stream */
    s->next_seq = seq;
    s->base_known = true;
  }
  if (flags & CAP_TCP_FIN)
    note_fin(s, seq_add(seq, len));
  len = clip_to_fin(s, seq, len);
  if (len == 0 || !s->base_known)
    return;
  move_start(s, seq); /* data at another SYN's start confirms it */
  if (lim)
    recent_setup(s, data ? lim->tcp_recent_bytes : 0);
  take_data(s, lim, &out, seq, data, len, &from);
}

void tcp_stream_ack(struct tcp_stream *s, uint32_t ack, uint32_t file_index, uint64_t frame,
                    cap_time_us ts, tcp_deliver_fn fn, void *ctx) {
  struct sink out = {fn, ctx};
  struct seg_origin from = {file_index, frame, ts};
  uint32_t target = ack;

  if (!s->base_known)
    return;
  if (move_start(s, ack)) { /* the peer acknowledged another SYN's start */
    uint64_t none = 0;
    drain_held(s, &out, &none, &from);
    s->n_alt_start = 0; /* confirmed: data can no longer move it */
    return;
  }
  if (ack == s->next_seq && untouched(s))
    s->n_alt_start = 0; /* the peer confirmed this start */
  if (s->fin_seen) {
    int32_t past_fin = seq_diff(ack, s->fin_seq);

    if (past_fin > 1)
      return; /* acknowledges more than was ever sent: not trusted */
    if (past_fin == 1)
      target = s->fin_seq; /* the FIN's own sequence number is no data */
  }
  while (seq_diff(target, s->next_seq) > 0) {
    uint32_t to = target;
    uint64_t gap;

    if (s->held && seq_diff(s->held->seq, target) < 0)
      to = s->held->seq;
    gap = skip_to(s, to);
    drain_held(s, &out, &gap, &from);
    emit_bare_gap(&out, &gap, &from);
  }
}

void tcp_stream_flush(struct tcp_stream *s, tcp_deliver_fn fn, void *ctx) {
  struct sink out = {fn, ctx};

  while (s->held) {
    uint64_t gap = skip_to(s, s->held->seq);

    drain_held(s, &out, &gap, NULL);
  }
}

void tcp_stream_note_receiver(struct tcp_stream *s, const struct cap_packet *pkt) {
  if (pkt->tcp_flags & CAP_TCP_SYN) {
    s->wscale_sent = pkt->tcp_wscale_sent;
    s->wscale = pkt->tcp_wscale;
    s->mss = pkt->tcp_mss;
  }
  if (!(pkt->tcp_flags & CAP_TCP_ACK))
    return;
  /* a retransmission may carry an older acknowledgment: keep the newest */
  if (s->acked && seq_diff(pkt->tcp_ack, s->last_ack) < 0)
    return;
  s->acked = true;
  s->last_ack = pkt->tcp_ack;
  s->window = pkt->tcp_window;
  s->window_from_syn = (pkt->tcp_flags & CAP_TCP_SYN) != 0;
}

/* A RST ends a connection only when its sequence number is in the
 * receiver's window (RFC 793 3.4; RFC 5961 3.2 narrows that to exactly
 * RCV.NXT, and answers the rest of the window with a challenge ACK).  A
 * RST far outside it is dropped by every receiver, so believing it would
 * let a forged RST hide the real handshake that follows.  From the
 * capture we accept:
 *  - seq equal to the next byte the sender's stream was expected to send
 *    (RCV.NXT as far as the capture knows, also without any ACK seen);
 *  - seq in [last ACK of the receiver, + its advertised window).  The
 *    window is scaled (RFC 7323 2.2) only when both SYNs were seen with the
 *    option, and never in a SYN; with a SYN unseen the scale is unknown and
 *    the unscaled window, the smallest it can mean, is used;
 *  - with the receiver's ACK never seen: a RST|ACK acknowledging exactly its
 *    SYN (the SYN-SENT rule of RFC 793 3.4), or anything when the capture
 *    knows neither side's sequence numbers (nothing to judge by). */
bool tcp_rst_acceptable(const struct tcp_stream *sender, const struct tcp_stream *receiver,
                        uint32_t seq, uint8_t flags, uint32_t ack) {
  if (sender->base_known && seq == sender->next_seq)
    return true;
  if (!receiver->acked) {
    if (receiver->syn_seen)
      return (flags & CAP_TCP_ACK) && ack == receiver->next_seq;
    return !sender->base_known && !receiver->base_known;
  }
  unsigned shift = 0;
  if (sender->wscale_sent && receiver->wscale_sent && sender->syn_seen && receiver->syn_seen &&
      !receiver->window_from_syn)
    shift = receiver->wscale;
  int32_t offset = seq_diff(seq, receiver->last_ack);
  return offset == 0 || (offset > 0 && (uint64_t)offset < ((uint64_t)receiver->window << shift));
}
