/*
 * capture/team.c - -j N for files that can be read twice (no stdin, no live
 * interface): every thread reads the capture, and each keeps its share of
 * the flows (tuple_hash.h, as the hand-off rings of dispatch.c).
 */
#include "capture/capture.h"
#include "capture/filebuf.h"
#include "capture/tuple_hash.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Handing packets from one reader to the workers cost the reader about as
 * much as doing all the work itself (a copy of every packet, and waking a
 * sleeping core each batch).  A file can be read by every thread instead:
 * reading and decoding a packet only to drop it costs a small fraction of
 * grading it, and nothing is shared until the end. */
struct team;

struct file_reader {
  _Alignas(64) pthread_t thread; /* readers' fields apart, cache line wise */
  size_t index, n;
  struct team *team;       /* NULL: every reader reads every record */
  struct cap_source *src;  /* a clone, except thread 0's */
  struct cap_decoder *dec; /* every reader decodes the frames no peek can place */
  struct cap_decoder *own; /* this reader's own frames */
  struct flow_table *ft;
  struct cap_stats *stats; /* the capture's (thread 0) or scratch */
  struct cap_stats scratch;
  unsigned warnings;
  int rc;
  char err[512];
};

/* A plain TCP/UDP frame is placed by its addresses and ports without being
 * decoded: only its owner decodes it (and counts what its decoder counts).
 * Fragments and the like are decoded by every reader (the same sequence,
 * so the same reassembly), placed by the decoded packet, and counted by
 * reader 0. */
/* The reader (of n) whose frame this is, by a peek; -1 when only decoding
 * can tell. */
static long peek_shard(int dlt, const uint8_t *frame, size_t caplen, size_t n) {
  struct cap_tuple t;
  if (!cap_peek_tuple(dlt, frame, caplen, &t))
    return -1;
  return (long)shard_of_tuple(&t.src, t.src_port, &t.dst, t.dst_port, t.proto, n);
}

static int shard_route(void *ctx, int dlt, const uint8_t *frame, size_t caplen) {
  struct file_reader *r = ctx;
  long shard = peek_shard(dlt, frame, caplen, r->n);
  if (shard < 0)
    return CAP_ROUTE_SHARED;
  return (size_t)shard == r->index ? CAP_ROUTE_OWN : CAP_ROUTE_NONE;
}

static void shard_packet(void *ctx, const struct cap_packet *pkt) {
  struct file_reader *r = ctx;
  if (shard_of_packet(pkt, r->n) == r->index)
    flow_table_packet(r->ft, pkt);
  else
    flow_table_expire(r->ft, pkt->ts); /* the time one thread would see */
}

static void shard_idle(void *ctx, cap_time_us now) {
  struct file_reader *r = ctx;
  flow_table_expire(r->ft, now);
}

/* ---- a pcap file shared out by byte ranges ---- */

/* Even reading every record header only to skip it costs a core about a
 * fifth of a second per gigabyte (the memory of the whole file passes
 * through it), which every reader above pays.  A classic pcap file is read
 * as a team instead, a segment at a time:
 *  1. each reader reads one part of the segment into its part's buffer
 *     (filebuf.c; the buffer is reused, three segments on) and walks it:
 *     reader 0 from the
 *     segment's start, reader k from the first offset past its share
 *     where SYNC_RECORDS well-formed records follow one another, up to
 *     where the next part begins.  It notes each record's offset, time
 *     and owner (by the same peek and hash as above).
 *  2. once every reader has walked, each checks that each part starts
 *     exactly where the previous one ended (a guessed start that was not a
 *     record boundary fails this, and reader 0 walks the rest of the
 *     segment again), then goes through all the parts in order: it decodes
 *     its own records, decodes the unplaceable ones (fragments...) as every
 *     reader does, and ages its flows by the times of the others.
 * A reader walks its part of the next segment before it goes through this
 * one, says so, and waits for the others' walks only when it is done with
 * this segment: a reader whose share of a segment was lighter goes on to
 * the next one instead of waiting, and the work evens out over two
 * segments rather than one.  So a segment's parts can be walked while the
 * slowest reader still goes through the one two before: the parts are kept
 * for three segments.  What each reader decodes, and in which order, is
 * what it decoded when it read every record. */
#define SEGMENT (2u << 20)
#define MAX_TEAM 64 /* readers that share a file; more read every record */
#define SYNC_RECORDS 4
#define SEGMENTS_KEPT 3 /* walked, being gone through, and the slowest's */
#define SHARED_SHARD UINT16_MAX

struct entry {
  size_t off; /* of the record header */
  cap_time_us ts;
  uint32_t caplen, len;
  uint16_t shard; /* a reader, or SHARED_SHARD */
};

struct part {
  _Alignas(64) struct entry *e; /* each walker's part on lines of its own */
  size_t n, cap;
  struct cap_filebuf_run run; /* its bytes: every record of it, whole */
  size_t start, end;          /* offsets of its first record, and just past its last */
  uint64_t bytes;             /* wire lengths */
  bool synced;                /* a start was found */
  bool failed;                /* stopped on a bad record: err, stop_at */
  char err[PCAP_ERRBUF_SIZE];
  size_t stop_at;
};

struct team {
  size_t n;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  size_t arrived;
  unsigned long generation;
  bool aborted;
  /* the file being read */
  long file; /* its index, -1 none yet */
  /* [index % 2]: a reader may still read file i's decision after the
   * barrier while a faster one decides file i + 1 (never i + 2: that one's
   * barrier waits for the slow reader). */
  bool together[2];
  struct cap_filebuf_file in;
  int dlt;
  struct part *parts[SEGMENTS_KEPT]; /* [segment % SEGMENTS_KEPT][reader] */
  struct part repair[SEGMENTS_KEPT]; /* reader 0's walk after a wrong guess */
  bool stop[SEGMENTS_KEPT];          /* reader 0's reading of the stop request */
};

static void team_abort(struct team *t) {
  if (!t)
    return;
  pthread_mutex_lock(&t->lock);
  t->aborted = true;
  pthread_cond_broadcast(&t->cond);
  pthread_mutex_unlock(&t->lock);
}

/* A barrier in two halves: arriving says "done with what came before",
 * and returns a ticket; waiting on it returns once every reader has
 * arrived, false when a reader is gone first.  Every reader arrives at one
 * generation before any arrives at the next. */
static unsigned long team_arrive(struct team *t) {
  pthread_mutex_lock(&t->lock);
  unsigned long gen = t->generation;
  if (!t->aborted && ++t->arrived == t->n) {
    t->arrived = 0;
    t->generation++;
    pthread_cond_broadcast(&t->cond);
  }
  pthread_mutex_unlock(&t->lock);
  return gen;
}

static bool team_wait_for(struct team *t, unsigned long ticket) {
  pthread_mutex_lock(&t->lock);
  while (ticket == t->generation && !t->aborted)
    pthread_cond_wait(&t->cond, &t->lock);
  bool ok = ticket != t->generation; /* complete, even if a reader left since */
  pthread_mutex_unlock(&t->lock);
  return ok;
}

/* Every reader arrives before any leaves; false when a reader is gone. */
static bool team_wait(struct team *t) {
  return team_wait_for(t, team_arrive(t));
}

static struct team *team_new(size_t n) {
  struct team *t = aligned_alloc(64, sizeof(*t)); /* its parts are line aligned */
  if (!t)
    return NULL;
  memset(t, 0, sizeof(*t));
  t->n = n;
  t->file = -1;
  t->in.fd = -1;
  bool ok = true;
  for (int b = 0; b < SEGMENTS_KEPT; b++) {
    if ((t->parts[b] = aligned_alloc(64, n * sizeof(struct part))))
      memset(t->parts[b], 0, n * sizeof(struct part));
    ok = ok && t->parts[b];
  }
  if (!ok) {
    for (int b = 0; b < SEGMENTS_KEPT; b++)
      free(t->parts[b]);
    free(t);
    return NULL;
  }
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->cond, NULL);
  return t;
}

static void team_free(struct team *t) {
  if (!t)
    return;
  cap_filebuf_file_close(&t->in);
  for (int b = 0; b < SEGMENTS_KEPT; b++) {
    for (size_t k = 0; k < t->n; k++) {
      free(t->parts[b][k].e);
      cap_filebuf_run_free(&t->parts[b][k].run);
    }
    free(t->parts[b]);
    free(t->repair[b].e);
    cap_filebuf_run_free(&t->repair[b].run);
  }
  pthread_mutex_destroy(&t->lock);
  pthread_cond_destroy(&t->cond);
  free(t);
}

/* Bytes [off, off + len) of the file in pt's run, which keeps every byte
 * from `from` (where its walk began) on, reading up to `until` at once;
 * NULL (pt failed, the reason in pt->err) when the file cannot be read. */
static const uint8_t *part_bytes(const struct team *t, struct part *pt, size_t from, size_t off,
                                 size_t len, size_t until) {
  const uint8_t *p =
      cap_filebuf_read(&t->in, &pt->run, from, off, len, until, pt->err, sizeof(pt->err));
  if (!p) {
    pt->failed = true;
    pt->stop_at = off;
  }
  return p;
}

/* Could a record header start at off?  SYNC_RECORDS records that parse,
 * each no longer than the snapshot length nor its wire length, with a
 * valid fraction of a second.  Only a guess: the barrier's check decides.
 * False also when the file cannot be read (pt failed). */
static bool plausible_at(const struct team *t, struct part *pt, size_t from, size_t off,
                         size_t until) {
  for (int i = 0; i < SYNC_RECORDS; i++) {
    if (off >= t->in.size)
      return i > 0; /* the file's end after whole records */
    struct cap_pcap_record rec;
    size_t left = t->in.size - off;
    const uint8_t *p = part_bytes(
        t, pt, from, off, left < CAP_PCAP_RECORD_HEADER ? left : CAP_PCAP_RECORD_HEADER, until);
    if (!p || cap_pcap_record(&t->in.fmt, p, left, &rec, NULL, 0) != 1)
      return false; /* also when less than a record header is left */
    uint32_t frac;
    memcpy(&frac, p + 4, 4);
    if (t->in.fmt.swapped)
      frac = __builtin_bswap32(frac);
    if (rec.hdr.caplen > rec.hdr.len || frac >= (t->in.fmt.nano ? 1000000000u : 1000000u) ||
        rec.size - CAP_PCAP_RECORD_HEADER > t->in.fmt.snapshot)
      return false;
    off += rec.size;
  }
  return true;
}

static bool add_entry(struct part *pt, const struct entry *e) {
  if (pt->n == pt->cap) {
    size_t cap = pt->cap ? pt->cap * 2 : 4096;
    struct entry *grown = realloc(pt->e, cap * sizeof(*grown));
    if (!grown)
      return false;
    pt->e = grown;
    pt->cap = cap;
  }
  pt->e[pt->n++] = *e;
  return true;
}

/* Walk the records from `from` (exact: a known boundary; else find one)
 * that start before `bound`, reading each whole into pt's run. */
static void walk_part(const struct team *t, struct part *pt, size_t from, size_t bound,
                      bool exact) {
  pt->n = 0;
  pt->bytes = 0;
  pt->failed = false;
  pt->synced = true;
  size_t off = from;
  while (!exact && off < bound && off < t->in.size && !plausible_at(t, pt, from, off, bound))
    if (pt->failed)
      break;
    else
      off++;
  if (pt->failed) {
    pt->start = pt->end = off;
    return;
  }
  if (!exact && (off >= bound || off >= t->in.size)) {
    pt->synced = off >= t->in.size; /* nothing starts in its share: empty, at the end */
    pt->start = pt->end = off;
    return;
  }
  pt->start = off;
  size_t prefetched = off;
  while (off < bound) {
    struct cap_pcap_record rec;
    size_t left = t->in.size - off;
    const uint8_t *p =
        left ? part_bytes(t, pt, from, off,
                          left < CAP_PCAP_RECORD_HEADER ? left : CAP_PCAP_RECORD_HEADER, bound)
             : NULL;
    if (left && !p)
      break;
    int rc = cap_pcap_record(&t->in.fmt, p, left, &rec, pt->err, sizeof(pt->err));
    if (rc == 0)
      break;
    if (rc < 0) {
      pt->failed = true;
      pt->stop_at = off + rec.stop_at;
      break;
    }
    if (!(p = part_bytes(t, pt, from, off, rec.size, bound)))
      break;
    size_t held = pt->run.off + pt->run.len;
    for (size_t ahead = off + CAP_PREFETCH_BYTES; prefetched < ahead && prefetched < held;
         prefetched += 64)
      __builtin_prefetch(pt->run.buf + (prefetched - pt->run.off));
    long shard = peek_shard(t->dlt, p + CAP_PCAP_RECORD_HEADER, rec.hdr.caplen, t->n);
    struct entry e = {off, cap_packet_time(&rec.hdr.ts), rec.hdr.caplen, rec.hdr.len,
                      shard < 0 ? SHARED_SHARD : (uint16_t)shard};
    if (!add_entry(pt, &e)) {
      pt->failed = true;
      snprintf(pt->err, sizeof(pt->err), "out of memory");
      pt->stop_at = off;
      break;
    }
    pt->bytes += rec.hdr.len;
    off += rec.size;
  }
  pt->end = off;
}

/* The parts that hold the segment, in order: how many, after reader 0 has
 * walked again what a wrong guess spoiled.  The same answer in every
 * reader (it reads only what the barrier published). */
static size_t good_parts(const struct team *t, struct part *parts) {
  size_t k = 1;
  for (; k < t->n; k++) {
    const struct part *prev = &parts[k - 1];
    if (prev->failed || prev->end >= t->in.size)
      break; /* the segment (and the file) ends in prev */
    if (!parts[k].synced || parts[k].start != prev->end)
      break;
  }
  return k;
}

/* A reader's own records are a part's every n-th or so, walked a while ago
 * (or by another reader): the first lines of the one OWN_AHEAD records on
 * are asked for, which decoding and the TLS record walk start with.  Two
 * lines made -j 2 a tenth faster on the tap-like benchmark. */
#define OWN_AHEAD 8
#define OWN_LINES 2

static void process_part(struct file_reader *r, const struct team *t, const struct part *pt,
                         uint32_t index, uint64_t frame, struct cap_decoder *dec) {
  for (size_t i = 0; i < pt->n; i++) {
    const struct entry *e = &pt->e[i];
    if (i + OWN_AHEAD < pt->n) {
      const struct entry *ahead = &pt->e[i + OWN_AHEAD];
      if (ahead->shard == r->index || ahead->shard == SHARED_SHARD)
        for (size_t line = 0; line < OWN_LINES; line++)
          __builtin_prefetch(pt->run.buf + (ahead->off - pt->run.off) + line * 64);
    }
    if (e->shard != r->index && e->shard != SHARED_SHARD) {
      flow_table_expire(r->ft, e->ts); /* the time one thread would see */
      continue;
    }
    struct cap_packet pkt = {0};
    pkt.file_index = index;
    pkt.frame = frame + i + 1;
    pkt.ts = e->ts;
    pkt.wire_len = e->len;
    pkt.cap_len = e->caplen;
    struct cap_decoder *d = e->shard == SHARED_SHARD ? dec : r->own;
    const uint8_t *data = pt->run.buf + (e->off - pt->run.off) + CAP_PCAP_RECORD_HEADER;
    if (cap_decode(d, t->dlt, data, e->caplen, &pkt) == 1)
      shard_packet(r, &pkt);
  }
}

/* Decide (the first reader to arrive) whether this file is read as a team:
 * a pcap 2.4 file (filebuf.c reads it), and no BPF filter (libpcap's filter would
 * have to run in every part).  1 together, 0 apart (the same for every
 * reader), -1 when a reader is gone. */
static int team_begin(struct team *t, struct cap_source *src, pcap_t *p, uint32_t index) {
  pthread_mutex_lock(&t->lock);
  if (t->file != (long)index) {
    cap_filebuf_file_close(&t->in);           /* the previous file's: every reader has left it */
    for (int b = 0; b < SEGMENTS_KEPT; b++) { /* what the parts hold is of that file */
      for (size_t k = 0; k < t->n; k++)
        t->parts[b][k].run.len = 0;
      t->repair[b].run.len = 0;
    }
    t->file = index;
    t->together[index % 2] =
        !cap_source_filtered(src) && cap_filebuf_file_open(&t->in, p, cap_source_name(src, index));
    t->dlt = pcap_datalink(p);
  }
  pthread_mutex_unlock(&t->lock);
  if (!team_wait(t))
    return -1;
  return t->together[index % 2] ? 1 : 0;
}

/* This reader's part of segment s, which starts at start. */
static void walk_segment(struct file_reader *r, struct team *t, struct cap_source *src, size_t s,
                         size_t start) {
  size_t share = SEGMENT / t->n;
  size_t from = start + r->index * share;
  size_t bound = r->index + 1 < t->n ? from + share : start + SEGMENT;
  walk_part(t, &t->parts[s % SEGMENTS_KEPT][r->index], from, bound, r->index == 0);
  if (r->index == 0)
    t->stop[s % SEGMENTS_KEPT] = cap_source_stopping(src);
}

/* Segment s's parts, in order, into seq, once every reader has walked it
 * (which reader 0 completes after a wrong guess): how many, 0 when a
 * reader is gone.  The parts stay as their walkers left them until their
 * buffer's next walk, so every reader finds the same good ones. */
static size_t segment_parts(struct file_reader *r, struct team *t, size_t s, size_t start,
                            const struct part **seq) {
  struct part *parts = t->parts[s % SEGMENTS_KEPT];
  size_t good = good_parts(t, parts);
  for (size_t k = 0; k < good; k++)
    seq[k] = &parts[k];
  const struct part *last = seq[good - 1];
  if (good < t->n && !last->failed && last->end < t->in.size) {
    /* a guessed start was wrong: reader 0 walks the rest again */
    struct part *repair = &t->repair[s % SEGMENTS_KEPT];
    if (r->index == 0)
      walk_part(t, repair, last->end, start + SEGMENT, true);
    if (!team_wait(t))
      return 0;
    seq[good++] = repair;
  }
  return good;
}

/* The earliest and latest packet time of a part into stats (read.c keeps
 * them one record at a time); before its packets are counted. */
static void part_period(const struct part *pt, struct cap_stats *stats) {
  for (size_t i = 0; i < pt->n; i++) {
    bool none = !stats->packets && !i;
    if (none || pt->e[i].ts < stats->first_ts)
      stats->first_ts = pt->e[i].ts;
    if (none || pt->e[i].ts > stats->last_ts)
      stats->last_ts = pt->e[i].ts;
  }
}

static int team_whole_file(void *ctx, struct cap_source *src, pcap_t *p, uint32_t index,
                           struct cap_decoder *dec, struct cap_stats *stats) {
  struct file_reader *r = ctx;
  struct team *t = r->team;
  int together = team_begin(t, src, p, index);
  if (together <= 0)
    return together;
  /* [s % SEGMENTS_KEPT]: where segment s starts, the same in every reader */
  size_t starts[SEGMENTS_KEPT] = {CAP_PCAP_FILE_HEADER};
  uint64_t frame = 0;
  int rc = 1;
  walk_segment(r, t, src, 0, starts[0]);
  if (!team_wait(t))
    return -1;
  for (size_t s = 0;; s++) {
    const struct part *seq[MAX_TEAM + 1];
    size_t good = segment_parts(r, t, s, starts[s % SEGMENTS_KEPT], seq);
    if (!good)
      return -1;
    const struct part *last = seq[good - 1];
    bool done = last->failed || last->end >= t->in.size || t->stop[s % SEGMENTS_KEPT];
    unsigned long walked = 0;
    if (!done) {
      starts[(s + 1) % SEGMENTS_KEPT] = last->end;
      walk_segment(r, t, src, s + 1, last->end);
      walked = team_arrive(t);
    }
    for (size_t k = 0; k < good; k++) {
      process_part(r, t, seq[k], index, frame, dec);
      frame += seq[k]->n;
      if (r->index == 0) {
        part_period(seq[k], stats);
        stats->packets += seq[k]->n;
        stats->bytes += seq[k]->bytes;
      }
    }
    if (last->failed) {
      cap_source_read_warning(src, index, (long)last->stop_at, frame, last->err);
      rc = -1;
    }
    if (done)
      break;
    if (!team_wait_for(t, walked))
      return -1;
  }
  return team_wait(t) ? rc : -1; /* nobody reads the parts after this */
}

static void *file_reader_main(void *arg) {
  struct file_reader *r = arg;
  struct cap_sink sink = {r,           shard_packet, shard_idle,
                          shard_route, r->own,       r->team ? team_whole_file : NULL};
  r->rc =
      cap_source_run_sink(r->src, r->dec, &sink, r->stats, &r->warnings, r->err, sizeof(r->err));
  team_abort(r->team); /* a reader that is done no longer waits for, nor is waited for */
  flow_table_end_all(r->ft);
  return NULL;
}

int cap_dispatch_files(struct cap_source *src, struct cap_decoder *dec,
                       const struct cap_limits *lim, struct flow_table **tables,
                       struct cap_stats **own_stats, size_t n, struct cap_stats *stats,
                       unsigned *warnings, char *err, size_t errlen) {
  struct file_reader *r = aligned_alloc(64, n * sizeof(*r));
  if (r)
    memset(r, 0, n * sizeof(*r));
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = 0;
  size_t started = 0;
  struct team *team = n <= MAX_TEAM ? team_new(n) : NULL; /* NULL: all read all */
  for (size_t i = 0; i < n; i++) {
    r[i].team = team;
    r[i].index = i;
    r[i].n = n;
    r[i].ft = tables[i];
    r[i].stats = i ? &r[i].scratch : stats;
    r[i].src = i ? cap_source_clone(src, true, r[i].err, sizeof(r[i].err)) : src;
    r[i].dec = i ? cap_decoder_new(lim, r[i].stats) : dec;
    r[i].own = cap_decoder_new(lim, own_stats[i]);
    if (!r[i].src || !r[i].dec || !r[i].own) {
      snprintf(err, errlen, "cannot start reader %zu: %s", i,
               r[i].err[0] ? r[i].err : "out of memory");
      rc = -1;
      break;
    }
    cap_decoder_defer_checksums(r[i].dec, true); /* summed by the packet's owner */
    cap_decoder_defer_checksums(r[i].own, true);
  }
  for (size_t i = 1; rc == 0 && i < n; i++, started++)
    if (pthread_create(&r[i].thread, NULL, file_reader_main, &r[i]) != 0) {
      snprintf(err, errlen, "cannot start %zu reader threads", n);
      cap_source_stop(src); /* the ones started stop at their next packet */
      team_abort(team);     /* or barrier */
      rc = -1;
      break;
    }
  if (rc == 0) {
    file_reader_main(&r[0]);
    *warnings += r[0].warnings;
    if (r[0].rc < 0) {
      snprintf(err, errlen, "%s", r[0].err);
      rc = -1;
    }
  }
  for (size_t i = 1; i <= started; i++) {
    pthread_join(r[i].thread, NULL);
    if (rc == 0 && r[i].rc < 0) { /* a file that changed or vanished under it */
      snprintf(err, errlen, "%s", r[i].err);
      rc = -1;
    }
  }
  team_free(team);
  for (size_t i = 0; i < n; i++) {
    cap_decoder_free(r[i].own);
    if (i > 0) {
      cap_decoder_free(r[i].dec);
      cap_source_free(r[i].src);
    }
  }
  free(r);
  return rc;
}
