/*
 * pipeline/workers.c - -j N: N threads, each with a flow table, counters
 * and (grading) an evidence store of its own, folded back into the run
 * when reading ends.  The certificate cache and the trust memo are the
 * run's, shared.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* What a worker thread owns. */
struct worker {
  /* Aligned, so the array's elements start on cache lines of their own:
   * one worker's counters never share a line with another's. */
  _Alignas(64) struct run run;
  struct pl_counters count;
  struct flow_table *ft;
};

static void worker_fold(struct run *run, struct worker *w) {
  pl_counters_add(run->count, &w->count);
  if (run->ev && w->run.ev && ev_merge_move(run->ev, w->run.ev) < 0)
    cap_message("out of memory merging the workers' evidence");
  ev_store_free(w->run.ev);
}

/* Worker i's run: the run's borrowed state, its own counters and store. */
static bool worker_start(struct worker *w, const struct run *run, const struct cap_limits *lim) {
  w->run = *run;
  w->run.count = &w->count;
  w->run.ev = run->ev ? ev_store_new() : NULL; /* --handshakes: none */
  if (w->run.ev) {
    ev_store_set_limit(w->run.ev, run->set->max_endpoints);
    ev_store_set_client_limit(w->run.ev, run->set->max_clients);
    ev_store_set_sent_chain_limits(w->run.ev, run->set->max_sent_chains, run->set->max_sent_certs);
    ev_store_set_chain_limits(w->run.ev, run->set->max_chain_cas, run->set->max_chain_pending);
  }
  struct cap_callbacks cb = pl_glue_callbacks(&w->run);
  w->ft = flow_table_new(lim, &w->count.cap, &cb, pl_use_ndpi(run->set));
  return w->ft && (!run->ev || w->run.ev);
}

/* Files, and a live interface (a handle each in one fanout group), are
 * read by the workers themselves (no hand-off); stdin goes through one
 * reader and the queues.  (-j never comes with --interval: the settings
 * refuse it.) */
static int read_with(struct run *run, struct worker *w, struct flow_table **tables,
                     struct cap_source *src, struct cap_decoder *dec, unsigned *warnings, char *err,
                     size_t errlen) {
  size_t n = run->set->jobs;
  if (cap_source_rereadable(src) || cap_source_members(src)) {
    struct cap_stats **own = calloc(n, sizeof(*own));
    if (!own) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    for (size_t i = 0; i < n; i++)
      own[i] = &w[i].count.cap;
    int rc = cap_source_members(src)
                 ? cap_dispatch_live(src, &run->set->limits, tables, own, n, warnings, err, errlen)
                 : cap_dispatch_files(src, dec, &run->set->limits, tables, own, n, &run->count->cap,
                                      warnings, err, errlen);
    free(own);
    return rc;
  }
  struct cap_dispatch *d = cap_dispatch_new(tables, n);
  if (!d) {
    snprintf(err, errlen, "cannot start %zu worker threads", n);
    return -1;
  }
  struct cap_sink sink = {d, cap_dispatch_packet, cap_dispatch_idle, NULL, NULL, NULL};
  int rc = cap_source_run_sink(src, dec, &sink, &run->count->cap, warnings, err, errlen);
  cap_dispatch_free(d); /* the workers finish what is queued */
  return rc;
}

int pl_read_threaded(struct run *run, struct cap_source *src, struct cap_decoder *dec,
                     unsigned *warnings, char *err, size_t errlen) {
  size_t n = run->set->jobs;
  struct worker *w = aligned_alloc(64, n * sizeof(*w));
  if (w)
    memset(w, 0, n * sizeof(*w));
  struct flow_table **tables = calloc(n, sizeof(*tables));
  struct cap_limits lim = run->set->limits;
  lim.max_flows = lim.max_flows / n ? lim.max_flows / n : 1;
  int rc = -1;
  bool ok = w && tables;
  for (size_t i = 0; ok && i < n; i++) {
    ok = worker_start(&w[i], run, &lim);
    tables[i] = w[i].ft;
  }
  if (ok)
    rc = read_with(run, w, tables, src, dec, warnings, err, errlen);
  else
    snprintf(err, errlen, "cannot start %zu worker threads", n);
  for (size_t i = 0; w && tables && i < n; i++) {
    flow_table_free(w[i].ft); /* ends the remaining flows, in this thread */
    worker_fold(run, &w[i]);
  }
  free(tables);
  free(w);
  return rc;
}
