/*
 * pipeline/live.c - what a live capture (-i) adds to a run: the files it
 * will write checked before the interface opens, a progress line on a
 * terminal, the --interval reports, the names of the -w files the
 * evidence cites, and where everything was written at the end.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A file the run will create or overwrite (fopen "w", pcap_dump_open):
 * opened for writing without truncating it when it exists, else a fresh
 * file made and removed in its directory. */
static int probe_overwrite(const char *path, char *err, size_t errlen) {
  int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  if (errno != ENOENT) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  return pl_atomic_probe(path, err, errlen);
}

int pl_probe_outputs(const struct pl_settings *s) {
  char err[4200];
  if (pl_probe_evidence(s) < 0)
    return -1;
  if (s->output && s->interval && !pl_probe_atomic_output(s))
    return -1;
  if (s->output && !s->interval && probe_overwrite(s->output, err, sizeof(err)) < 0) {
    pl_say_cannot_write(s, "", err, errno);
    return -1;
  }
  if (s->live.write_path && probe_overwrite(s->live.write_path, err, sizeof(err)) < 0) {
    pl_say_cannot_write(s, "-w ", err, errno);
    return -1;
  }
  return 0;
}

/* -w rotation adds files while the capture runs: the names the evidence
 * and the report cite follow the source's.  Out of memory: the files
 * known so far (the report's sample names stay right, a frame of a newer
 * file cites "?"). */
void pl_sync_names(struct run *run) {
  size_t n = run->src ? cap_source_count(run->src) : run->n_files;
  if (n <= run->n_files)
    return;
  const char **names = realloc(run->file_names, n * sizeof(*names));
  if (!names)
    return;
  for (size_t i = run->n_files; i < n; i++)
    names[i] = cap_source_name(run->src, i);
  run->file_names = names;
  run->n_files = n;
}

/* One line on a terminal, rewritten in place: what the capture has seen. */
static void progress(struct run *run) {
  const struct pl_counters *c = run->count;
  uint64_t drops, ifdrops;
  cap_source_live_drops(run->src, &drops, &ifdrops);
  const char *what = "flows ended";
  uint64_t done = c->flows_printed;
  if (run->set->mode == PL_MODE_GRADE) {
    what = "servers";
    done = run->ev ? ev_count(run->ev) : 0;
  } else if (run->set->mode == PL_MODE_HANDSHAKES) {
    what = "handshakes";
    done = c->handshakes_printed;
  }
  fprintf(stderr, "\rtlsgrade: %llu packets, %llu flows, %llu %s, %llu dropped\033[K",
          (unsigned long long)c->cap.packets, (unsigned long long)c->cap.flows,
          (unsigned long long)done, what, (unsigned long long)(drops + ifdrops));
}

/* Each --interval report: its --fail-below (--profile) status is the final one's
 * business, said once at the end. */
static void interval_report(struct run *run) {
  const struct pl_settings *s = run->set;
  struct pl_settings quiet = *s;
  quiet.fail_below = NULL;
  quiet.profile = NULL;
  run->set = &quiet;
  pl_atomic_report(run, 0);
  run->set = s;
}

static void on_tick(void *ctx) {
  struct run *run = ctx;
  if (run->progress)
    progress(run);
  if (run->set->interval && ++run->ticks % run->ticks_per_report == 0)
    interval_report(run);
}

void pl_live_begin(struct run *run, struct cap_source *src) {
  const struct pl_settings *s = run->set;
  run->src = src;
  /* -j: the counters are the workers' while they run */
  run->progress = s->iface && s->jobs <= 1 && isatty(STDERR_FILENO);
  run->ticks_per_report = run->progress && s->interval ? (unsigned long long)s->interval : 1;
  long long seconds = run->progress ? 1 : s->interval;
  if (seconds)
    cap_source_set_tick(src, seconds * 1000000, on_tick, run);
}

void pl_live_end(struct run *run) {
  if (run->progress) { /* the last count stays on the screen */
    progress(run);
    fputc('\n', stderr);
  }
}

void pl_say_written(const struct run *run, bool evidence_saved) {
  const struct pl_settings *s = run->set;
  if (!s->iface)
    return;
  if (s->live.write_path && run->n_files > 1)
    cap_message("packets written to %s, %s1 ... %s%zu (%zu files)", s->live.write_path,
                s->live.write_path, s->live.write_path, run->n_files - 1, run->n_files);
  else if (s->live.write_path)
    cap_message("packets written to %s", s->live.write_path);
  if (s->save_evidence && evidence_saved)
    cap_message("evidence written to %s", s->save_evidence);
  if (s->output && run->reported)
    cap_message("report written to %s", s->output);
}
