/*
 * grade/report_json_pool.c - the JSON report's servers, rendered by
 * several threads (report_meta.jobs) and written in report order.  What a
 * server's element holds is report_json.c's business; this file only
 * hands servers to renderers and writes their texts.
 *
 * Servers are claimed one at a time from a shared counter by the helper
 * threads and by the writing thread, each rendering with its own scratch
 * into a ring of texts (AHEAD_PER_JOB per thread); the writing thread
 * writes them in order and, while the next one is not ready, renders the
 * next unclaimed server itself.  The output is what one thread writes, the
 * work spreads by itself however long each server takes, and memory stays
 * the ring's texts.  The ring is short: when the writing thread waits for
 * a core (the client inventory's thread has one), a ring of 512 let the
 * helpers run 110 to 250 servers ahead, each text (~30 kB on the
 * handshake-heavy benchmark) fresh memory.
 * A written text's buffer goes back to the pool for the next claim: a
 * fresh buffer of tens of kilobytes per server made every claim cost a
 * large allocation (and glibc's consolidation of the small blocks a
 * server's cJSON tree had freed), and every write a free into another
 * thread's arena.
 */
#include "grade/report_json.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Server i's text (len bytes) as an element of the "servers" array. */
static void write_server(FILE *out, const char *text, size_t len, size_t i, size_t n) {
  fwrite(text, 1, len, out);
  fputs(i + 1 < n ? ",\n" : "\n", out);
}

#define MAX_JOBS 64
#define AHEAD_PER_JOB 4
#define AHEAD (AHEAD_PER_JOB * MAX_JOBS) /* the ring's room; `ahead` of it used */

struct render_pool {
  const struct grade_result *const *r;
  size_t n;                          /* cut to `next` when *stop is set */
  const volatile sig_atomic_t *stop; /* NULL: never */
  pthread_mutex_t lock;
  pthread_cond_t changed;        /* a text is ready, or room was made */
  size_t next;                   /* the next server to claim */
  size_t written;                /* servers written so far */
  size_t ahead;                  /* texts rendered and not yet written, at most */
  struct json_text texts[AHEAD]; /* [i % AHEAD]: server i's text, once ready */
  bool ready[AHEAD];
  struct json_text spare[AHEAD]; /* written texts' buffers, n_spare of them */
  size_t n_spare;
};

struct renderer {
  pthread_t thread;
  struct json_out *j; /* NULL: out of memory, its servers are left out */
  struct render_pool *pool;
};

/* Render server i into a text of its own; spare is consumed. */
static struct json_text render_one(struct renderer *w, size_t i, struct json_text spare) {
  return report_json_render(w->j, w->pool->r[i], spare);
}

/* Claim a server and a spare buffer (under lock); false when none is left
 * or the ring is full. */
static bool claim(struct render_pool *p, size_t *i, struct json_text *spare) {
  if (p->stop && *p->stop && p->n > p->next)
    p->n = p->next; /* a signal: the servers claimed are written, no more */
  if (p->next >= p->n || p->next >= p->written + p->ahead)
    return false;
  *i = p->next++;
  *spare = p->n_spare ? p->spare[--p->n_spare] : (struct json_text){NULL, 0, 0};
  return true;
}

static void publish_text(struct render_pool *p, size_t i, struct json_text text) {
  p->texts[i % AHEAD] = text;
  p->ready[i % AHEAD] = true;
  pthread_cond_broadcast(&p->changed);
}

static void *render_helper(void *arg) {
  struct renderer *w = arg;
  struct render_pool *p = w->pool;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    size_t i;
    struct json_text spare;
    if (claim(p, &i, &spare)) {
      pthread_mutex_unlock(&p->lock);
      struct json_text text = render_one(w, i, spare);
      pthread_mutex_lock(&p->lock);
      publish_text(p, i, text);
    } else if (p->next >= p->n) {
      break;
    } else {
      pthread_cond_wait(&p->changed, &p->lock); /* the ring is full: the writer is behind */
    }
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static void write_pooled(FILE *out, struct render_pool *p, struct renderer *self) {
  pthread_mutex_lock(&p->lock);
  while (p->written < p->n) {
    size_t w = p->written, i;
    struct json_text spare;
    if (p->ready[w % AHEAD]) {
      struct json_text text = p->texts[w % AHEAD];
      p->ready[w % AHEAD] = false;
      pthread_mutex_unlock(&p->lock);
      if (text.s)
        write_server(out, text.s, text.len, w, p->n);
      pthread_mutex_lock(&p->lock);
      if (text.s && p->n_spare < p->ahead)
        p->spare[p->n_spare++] = text;
      else
        free(text.s);
      p->written++;
      pthread_cond_broadcast(&p->changed); /* room for the helpers */
    } else if (claim(p, &i, &spare)) {
      pthread_mutex_unlock(&p->lock);
      struct json_text text = render_one(self, i, spare);
      pthread_mutex_lock(&p->lock);
      publish_text(p, i, text);
    } else if (p->written < p->n) { /* claim may have cut n */
      pthread_cond_wait(&p->changed, &p->lock);
    }
  }
  pthread_mutex_unlock(&p->lock);
}

unsigned report_json_threads(unsigned jobs, size_t n) {
  if (jobs > MAX_JOBS)
    jobs = MAX_JOBS;
  return jobs < 1 || n < 256 ? 1 : jobs;
}

void report_json_servers(FILE *out, const struct grade_result *const *r, size_t n, unsigned jobs,
                         const volatile sig_atomic_t *stop) {
  jobs = report_json_threads(jobs, n);
  if (jobs == 1) { /* written as rendered, no copy */
    struct json_out *j = report_json_scratch_new();
    for (size_t i = 0; j && i < n && !(stop && *stop); i++) {
      const char *text = report_json_server(j, r[i]);
      if (text)
        write_server(out, text, strlen(text), i, n);
      report_json_server_done(j);
    }
    report_json_scratch_free(j);
    return;
  }
  struct render_pool *p = calloc(1, sizeof(*p));
  struct renderer *w = calloc(jobs, sizeof(*w));
  if (!p || !w) {
    free(p);
    free(w);
    report_json_servers(out, r, n, 1, stop);
    return;
  }
  p->r = r;
  p->n = n;
  p->ahead = AHEAD_PER_JOB * (size_t)jobs;
  p->stop = stop;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->changed, NULL);
  bool started[MAX_JOBS] = {false};
  for (unsigned k = 0; k < jobs; k++) {
    w[k].j = report_json_scratch_new();
    w[k].pool = p;
    if (k > 0) /* no helper: this thread renders it all */
      started[k] = pthread_create(&w[k].thread, NULL, render_helper, &w[k]) == 0;
  }
  write_pooled(out, p, &w[0]);
  for (unsigned k = 0; k < jobs; k++) {
    if (started[k])
      pthread_join(w[k].thread, NULL);
    report_json_scratch_free(w[k].j);
  }
  for (size_t k = 0; k < p->n_spare; k++)
    free(p->spare[k].s);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->changed);
  free(p);
  free(w);
}
