/*
 * pipeline/evidence_dir.c - evidence as files in a directory: sensors
 * write `--save-evidence DIR/` snapshots under names of their own, a
 * central host merges the directory (`tlsgrade merge DIR` or a glob).
 *
 * A live capture with --interval writes, each interval, the evidence of
 * the connections that ended in that interval only: merging every
 * snapshot of a directory gives the whole capture's evidence (merge sums
 * counts, so cumulative snapshots would count a connection once per
 * interval).  Any other run writes one snapshot with all it saw.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool pl_evidence_is_dir(const char *path) {
  struct stat st;
  size_t n = path ? strlen(path) : 0;
  return n && (path[n - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)));
}

/* DIR/SENSOR-YYYYMMDDTHHMMSSZ-PID-SEQ.json: the sensor (--sensor or the
 * host name, reduced to [A-Za-z0-9._-]) tells the files of several
 * sensors apart, the process and a sequence number those of one. */
int pl_evidence_snapshot_name(const struct pl_settings *s, char *out, size_t len) {
  static _Atomic unsigned seq;
  char sensor[64] = "", host[256] = "";
  const char *from = s->sensor;
  if (!from && gethostname(host, sizeof host - 1) == 0)
    from = host;
  size_t j = 0;
  for (const char *p = from ? from : ""; *p && j + 1 < sizeof sensor; p++)
    sensor[j++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                 (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'
                             ? *p
                             : '_');
  sensor[j] = '\0';
  time_t now = time(NULL);
  struct tm tm;
  char when[32] = "0";
  if (gmtime_r(&now, &tm))
    strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
  size_t n = strlen(s->save_evidence);
  const char *sep = n && s->save_evidence[n - 1] == '/' ? "" : "/";
  int w = snprintf(out, len, "%s%s%s-%s-%ld-%u.json", s->save_evidence, sep,
                   sensor[0] ? sensor : "tlsgrade", when, (long)getpid(), seq++);
  return w > 0 && (size_t)w < len ? 0 : -1;
}

/* ---- merge's inputs ---- */

struct names {
  char **v;
  size_t n, cap;
};

static int add_name(struct names *l, const char *name) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    char **v = realloc(l->v, cap * sizeof(*v));
    if (!v)
      return -1;
    l->v = v;
    l->cap = cap;
  }
  return (l->v[l->n] = strdup(name)) ? (int)++l->n : -1;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's regular files named *.json, in name order (the snapshots'
 * names sort by time within a sensor; merge does not depend on order). */
static int add_dir(struct names *l, const char *dir, char *err, size_t errlen) {
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(err, errlen, "%s: %s", dir, strerror(errno));
    return -1;
  }
  size_t first = l->n;
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0 || e->d_name[0] == '.')
      continue;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && add_name(l, path) < 0)
      rc = -1;
  }
  closedir(d);
  if (rc < 0) {
    snprintf(err, errlen, "out of memory listing %s", dir);
    return -1;
  }
  if (l->n == first) {
    snprintf(err, errlen, "%s: no evidence file (*.json) in this directory", dir);
    return -1;
  }
  qsort(l->v + first, l->n - first, sizeof(*l->v), by_name);
  return 0;
}

static int add_glob(struct names *l, const char *pattern, char *err, size_t errlen) {
  glob_t g;
  int rc = glob(pattern, GLOB_ERR, NULL, &g);
  if (rc == GLOB_NOMATCH) {
    snprintf(err, errlen, "%s: no file matches", pattern);
    return -1;
  }
  for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
    if (add_name(l, g.gl_pathv[i]) < 0)
      rc = -1;
  globfree(&g);
  if (rc != 0)
    snprintf(err, errlen, "%s: cannot expand", pattern);
  return rc ? -1 : 0;
}

void pl_free_names(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    free(v[i]);
  free(v);
}

/* Each argument: a directory (its *.json files), a pattern that names no
 * file itself (a glob, expanded here when the shell did not: a quoted
 * pattern of more files than a command line holds), or a file. */
int pl_expand_evidence(char *const *args, size_t n, char ***out, size_t *n_out, char *err,
                       size_t errlen) {
  struct names l = {0};
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    bool exists = stat(args[i], &st) == 0;
    int rc = exists && S_ISDIR(st.st_mode)        ? add_dir(&l, args[i], err, errlen)
             : !exists && strpbrk(args[i], "*?[") ? add_glob(&l, args[i], err, errlen)
             : add_name(&l, args[i]) < 0          ? (snprintf(err, errlen, "out of memory"), -1)
                                                  : 0;
    if (rc < 0) {
      pl_free_names(l.v, l.n);
      return -1;
    }
  }
  *out = l.v;
  *n_out = l.n;
  return 0;
}
