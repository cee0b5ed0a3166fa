/*
 * capture/dispatch.c - -j N: one reading thread decodes packets and hands
 * each to one of N worker threads by a symmetric hash of its addresses and
 * ports, so both directions of a flow meet in the same worker and its flow
 * table.  Each worker owns its flow table (and what hangs from it); only
 * the queues are shared.
 *
 * A queue is a bounded ring of packet copies under a mutex: the reader
 * blocks when a worker falls behind (back-pressure, never a silent drop).
 */
#include "capture/capture.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RING_SLOTS 2048 /* per worker */

struct slot {
  struct cap_packet pkt;
  bool expire_only;  /* no packet: age flows as of `now` */
  cap_time_us now;
  uint8_t *buf;      /* copy of the packet bytes; owned, reused */
  size_t cap;
};

struct worker {
  pthread_t thread;
  struct flow_table *ft; /* borrowed: the caller owns it */
  pthread_mutex_t lock;
  pthread_cond_t not_empty, not_full;
  struct slot slots[RING_SLOTS];
  size_t head, tail; /* head: next to fill; tail: next to take */
  bool closing;
  bool consumer_waiting, producer_waiting; /* signal only a thread that sleeps */
};

/* Owns its workers and their queues. */
struct cap_dispatch {
  size_t n;
  struct worker *workers;
  bool started;
};

static uint32_t mix(uint32_t h, uint32_t v) {
  h ^= v;
  h *= 0x9e3779b1u;
  return h ^ (h >> 16);
}

static uint32_t side_hash(const struct cap_addr *a, uint16_t port) {
  uint32_t h = a->family;
  for (size_t i = 0; i < 16; i += 4) {
    uint32_t w;
    memcpy(&w, a->bytes + i, 4);
    h = mix(h, w);
  }
  return mix(h, port);
}

/* Both directions of a flow hash alike: the two sides are combined in a
 * way that does not depend on their order. */
static size_t worker_of(const struct cap_dispatch *d, const struct cap_packet *pkt) {
  uint32_t a = side_hash(&pkt->src, pkt->src_port), b = side_hash(&pkt->dst, pkt->dst_port);
  uint32_t h = mix(a ^ b, (a + b) ^ pkt->l4_proto);
  return h % d->n;
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
  if (payload_inside) {
    s->pkt.payload = pkt->payload ? s->buf + (pkt->payload - lo) : NULL;
  } else {
    if (pkt->payload_len)
      memcpy(s->buf + pkt->l3_len, pkt->payload, pkt->payload_len);
    s->pkt.payload = s->buf + pkt->l3_len;
  }
  return true;
}

/* Take every queued slot at once, process them without the lock, give
 * them back in one go: one lock round and at most one wake-up per batch. */
static void *worker_main(void *arg) {
  struct worker *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (w->head == w->tail && !w->closing) {
      w->consumer_waiting = true;
      pthread_cond_wait(&w->not_empty, &w->lock);
      w->consumer_waiting = false;
    }
    if (w->head == w->tail && w->closing)
      break;
    size_t from = w->tail, to = w->head;
    pthread_mutex_unlock(&w->lock);
    for (size_t i = from; i < to; i++) {
      struct slot *s = &w->slots[i % RING_SLOTS];
      if (s->expire_only)
        flow_table_expire(w->ft, s->now);
      else
        flow_table_packet(w->ft, &s->pkt);
    }
    pthread_mutex_lock(&w->lock);
    w->tail = to;
    if (w->producer_waiting)
      pthread_cond_signal(&w->not_full);
  }
  pthread_mutex_unlock(&w->lock);
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

/* Wait for room in w's ring; returns the slot to fill (lock held). */
static struct slot *reserve_slot(struct worker *w) {
  pthread_mutex_lock(&w->lock);
  while (w->head - w->tail >= RING_SLOTS) {
    w->producer_waiting = true;
    pthread_cond_wait(&w->not_full, &w->lock);
    w->producer_waiting = false;
  }
  return &w->slots[w->head % RING_SLOTS];
}

static void publish(struct worker *w) {
  w->head++;
  if (w->consumer_waiting)
    pthread_cond_signal(&w->not_empty);
  pthread_mutex_unlock(&w->lock);
}

void cap_dispatch_packet(void *ctx, const struct cap_packet *pkt) {
  struct cap_dispatch *d = ctx;
  struct worker *w = &d->workers[worker_of(d, pkt)];
  struct slot *s = reserve_slot(w);
  /* The slot is the reader's until published: copying under the lock is
   * safe and keeps the code simple; packets are small. */
  if (copy_packet(s, pkt)) {
    s->expire_only = false;
    publish(w);
  } else {
    pthread_mutex_unlock(&w->lock);
  }
}

void cap_dispatch_idle(void *ctx, cap_time_us now) {
  struct cap_dispatch *d = ctx;
  for (size_t i = 0; i < d->n; i++) {
    struct slot *s = reserve_slot(&d->workers[i]);
    s->expire_only = true;
    s->now = now;
    publish(&d->workers[i]);
  }
}

void cap_dispatch_free(struct cap_dispatch *d) {
  if (!d)
    return;
  for (size_t i = 0; i < d->n; i++) {
    struct worker *w = &d->workers[i];
    pthread_mutex_lock(&w->lock);
    w->closing = true;
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
