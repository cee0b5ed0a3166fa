/*
 * capture/dispatch.c - -j N for a live interface or stdin: one reading
 * thread decodes packets and hands each to one of N worker threads by a symmetric hash of its
 * addresses and ports, so both directions of a flow meet in the same worker and its flow table.
 * Each worker owns its flow table (and what hangs from it); only the queues are shared.
 *
 * A queue is a bounded single-producer single-consumer ring of packet
 * copies: head and tail are atomics, so the reader and a worker pass
 * packets without a lock.  The mutex and condition variables serve only to
 * sleep: a worker with nothing to do, or the reader when a worker falls
 * behind (back-pressure, never a silent drop).  Each side announces that
 * it sleeps (a *_waiting flag, set and read sequentially consistent) and
 * checks the ring again under the mutex before sleeping; the other side
 * publishes its index first, then reads the flag and signals under the
 * mutex, so a wake-up cannot be lost.  (Files that can be read twice are
 * read by every thread instead: team.c.)
 */
#include "capture/capture.h"
#include "capture/tuple_hash.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RING_SLOTS 2048 /* per worker */

struct slot {
  struct cap_packet pkt;
  bool expire_only;  /* no packet: age flows as of `now` */
  bool expire_first; /* age flows as of `now`, then take the packet */
  cap_time_us now;
  uint8_t *buf; /* copy of the packet bytes; owned, reused */
  size_t cap;
};

struct worker {
  pthread_t thread;
  struct flow_table *ft; /* borrowed: the caller owns it */
  pthread_mutex_t lock;
  pthread_cond_t not_empty, not_full;
  struct slot slots[RING_SLOTS];
  _Atomic bool closing;
  /* The reader's: the newest time of the packets handed to other workers
   * since this one's last packet (one thread ages every flow at every
   * packet; expiring at the newest of those times does the same). */
  cap_time_us others_ts;
  bool others_pending;
  /* The reader's line: what it filled (next) and made visible (head). */
  _Alignas(64) size_t next;
  _Atomic size_t head;
  _Atomic bool producer_waiting; /* signal only a thread that sleeps */
  /* The worker's line, apart, so that the two do not fight over one. */
  _Alignas(64) _Atomic size_t tail; /* next to take */
  _Atomic bool consumer_waiting;
};

/* Owns its workers and their queues. */
struct cap_dispatch {
  size_t n;
  struct worker *workers;
  bool started;
};

static size_t worker_of(const struct cap_dispatch *d, const struct cap_packet *pkt) {
  return shard_of_packet(pkt, d->n);
}

/* Copy the packet's bytes so the reader can go on; pointers are rebased. */
static bool copy_packet(struct slot *s, const struct cap_packet *pkt) {
  const uint8_t *lo = pkt->l3;
  size_t need = pkt->l3_len;
  bool payload_inside = pkt->payload >= pkt->l3 && pkt->payload + pkt->payload_len <= lo + need;
  if (!payload_inside)
    need += pkt->payload_len;
  if (need > s->cap) {
    uint8_t *b = realloc(s->buf, need);
    if (!b)
      return false;
    s->buf = b;
    s->cap = need;
  }
  s->pkt = *pkt;
  if (pkt->l3_len)
    memcpy(s->buf, lo, pkt->l3_len);
  s->pkt.l3 = s->buf;
  if (pkt->csum_deferred) /* the segment lies inside the datagram */
    s->pkt.csum_seg = s->buf + (pkt->csum_seg - lo);
  if (payload_inside) {
    s->pkt.payload = pkt->payload ? s->buf + (pkt->payload - lo) : NULL;
  } else {
    if (pkt->payload_len)
      memcpy(s->buf + pkt->l3_len, pkt->payload, pkt->payload_len);
    s->pkt.payload = s->buf + pkt->l3_len;
  }
  return true;
}

/* Take every queued slot at once, process them, give them back in one
 * go; sleep only when the ring is empty. */
static void *worker_main(void *arg) {
  struct worker *w = arg;
  for (;;) {
    size_t from = atomic_load_explicit(&w->tail, memory_order_relaxed);
    size_t to = atomic_load_explicit(&w->head, memory_order_acquire);
    if (from == to) {
      pthread_mutex_lock(&w->lock);
      atomic_store(&w->consumer_waiting, true);
      while (atomic_load(&w->head) == from && !atomic_load(&w->closing))
        pthread_cond_wait(&w->not_empty, &w->lock);
      atomic_store(&w->consumer_waiting, false);
      bool done = atomic_load(&w->head) == from && atomic_load(&w->closing);
      pthread_mutex_unlock(&w->lock);
      if (done)
        break;
      continue;
    }
    for (size_t i = from; i < to; i++) {
      struct slot *s = &w->slots[i % RING_SLOTS];
      if (s->expire_only || s->expire_first)
        flow_table_expire(w->ft, s->now);
      if (!s->expire_only)
        flow_table_packet(w->ft, &s->pkt);
    }
    atomic_store(&w->tail, to); /* seq_cst: ordered before the flag's load */
    if (atomic_load(&w->producer_waiting)) {
      pthread_mutex_lock(&w->lock);
      pthread_cond_signal(&w->not_full);
      pthread_mutex_unlock(&w->lock);
    }
  }
  /* The flows still open at the end of the capture are this worker's to
   * end too: in a capture cut out of a tap most are, and ending them (the
   * grading of their handshakes) one table after another in the main
   * thread made a third of a run serial. */
  flow_table_end_all(w->ft);
  return NULL;
}

struct cap_dispatch *cap_dispatch_new(struct flow_table **tables, size_t n) {
  struct cap_dispatch *d = calloc(1, sizeof(*d));
  if (!d || !(d->workers = calloc(n, sizeof(*d->workers)))) {
    free(d);
    return NULL;
  }
  d->n = n;
  for (size_t i = 0; i < n; i++) {
    struct worker *w = &d->workers[i];
    w->ft = tables[i];
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->not_empty, NULL);
    pthread_cond_init(&w->not_full, NULL);
  }
  for (size_t i = 0; i < n; i++) {
    if (pthread_create(&d->workers[i].thread, NULL, worker_main, &d->workers[i]) != 0) {
      d->n = i; /* the ones that started are joined by cap_dispatch_free */
      cap_dispatch_free(d);
      return NULL;
    }
  }
  d->started = true;
  return d;
}

/* A sleeping worker is woken once WAKE_BATCH packets wait for it (or on
 * flush: an idle source, a full ring, the end): waking it for every packet
 * cost the reader a futex call per packet.  Filled slots are made visible
 * PUBLISH_BATCH at a time: each publication is a full memory barrier. */
#define WAKE_BATCH 256
#define PUBLISH_BATCH 32

static void publish(struct worker *w, bool flush) {
  size_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
  if (w->next == head || (!flush && w->next - head < PUBLISH_BATCH))
    return;
  atomic_store(&w->head, w->next); /* seq_cst: ordered before the flag's load */
  if (atomic_load(&w->consumer_waiting) &&
      (flush || w->next - atomic_load_explicit(&w->tail, memory_order_relaxed) >= WAKE_BATCH)) {
    pthread_mutex_lock(&w->lock);
    pthread_cond_signal(&w->not_empty);
    pthread_mutex_unlock(&w->lock);
  }
}

/* Wait for room in w's ring; returns the slot to fill. */
static struct slot *reserve_slot(struct worker *w) {
  if (w->next - atomic_load_explicit(&w->tail, memory_order_acquire) >= RING_SLOTS) {
    publish(w, true); /* what it waits for must be able to run */
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->producer_waiting, true);
    while (w->next - atomic_load(&w->tail) >= RING_SLOTS)
      pthread_cond_wait(&w->not_full, &w->lock);
    atomic_store(&w->producer_waiting, false);
    pthread_mutex_unlock(&w->lock);
  }
  return &w->slots[w->next % RING_SLOTS];
}

void cap_dispatch_packet(void *ctx, const struct cap_packet *pkt) {
  struct cap_dispatch *d = ctx;
  struct worker *w = &d->workers[worker_of(d, pkt)];
  for (size_t i = 0; i < d->n; i++) {
    struct worker *o = &d->workers[i];
    if (o != w && (!o->others_pending || pkt->ts > o->others_ts))
      o->others_ts = pkt->ts, o->others_pending = true;
  }
  struct slot *s = reserve_slot(w); /* the reader's until published */
  if (copy_packet(s, pkt)) {
    s->expire_only = false;
    s->expire_first = w->others_pending;
    s->now = w->others_ts;
    w->others_pending = false;
    w->next++;
    publish(w, false);
  }
}

/* A slot without a packet: w ages its flows as of now, at once. */
static void push_expire(struct worker *w, cap_time_us now) {
  struct slot *s = reserve_slot(w);
  s->expire_only = true;
  s->expire_first = false;
  s->now = now;
  w->others_pending = false; /* now is the newest time it needs */
  w->next++;
  publish(w, true);
}

void cap_dispatch_idle(void *ctx, cap_time_us now) {
  struct cap_dispatch *d = ctx;
  for (size_t i = 0; i < d->n; i++)
    push_expire(&d->workers[i], now);
}

void cap_dispatch_free(struct cap_dispatch *d) {
  if (!d)
    return;
  /* The times a worker has not seen since its last packet, as one thread
   * would have aged its flows by them: the same flows end by timeout. */
  for (size_t i = 0; d->started && i < d->n; i++)
    if (d->workers[i].others_pending)
      push_expire(&d->workers[i], d->workers[i].others_ts);
  for (size_t i = 0; i < d->n; i++) {
    struct worker *w = &d->workers[i];
    publish(w, true);
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->closing, true);
    pthread_cond_signal(&w->not_empty);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
  }
  for (size_t i = 0; i < d->n; i++) {
    struct worker *w = &d->workers[i];
    for (size_t k = 0; k < RING_SLOTS; k++)
      free(w->slots[k].buf);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->not_empty);
    pthread_cond_destroy(&w->not_full);
  }
  free(d->workers);
  free(d);
}
