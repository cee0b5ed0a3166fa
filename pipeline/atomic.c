/*
 * pipeline/atomic.c - files replaced whole (the --interval report, saved
 * evidence): written under a fresh name in the same directory, synced,
 * then renamed over the file, so a reader sees the old file or the new
 * one, never half of one.
 *
 * The fresh name comes from mkstemp (O_CREAT|O_EXCL, a random suffix):
 * a user who may write the directory cannot plant a symlink at a name we
 * will open (a root run would write through it), and O_EXCL never
 * follows one.  rename() replaces a symlink at the final name itself,
 * not its target.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The mode fopen(path, "w") would give a new file (0666 less the umask):
 * mkstemp makes 0600, and a report is often read by another user.  The
 * umask can only be read by setting it; files are replaced from the thread
 * that runs the pipeline while no -j worker runs. */
static mode_t created_mode(void) {
  mode_t mask = umask(077);
  umask(mask);
  return 0666 & ~mask;
}

FILE *pl_atomic_open(struct pl_atomic *a, const char *path, char *err, size_t errlen) {
  static const char suffix[] = ".tmp.XXXXXX";
  size_t n = strlen(path);
  a->path = path;
  a->f = NULL;
  a->tmp = malloc(n + sizeof(suffix));
  if (!a->tmp) {
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  memcpy(a->tmp, path, n);
  memcpy(a->tmp + n, suffix, sizeof(suffix));
  int fd = mkstemp(a->tmp);
  if (fd < 0 || fchmod(fd, created_mode()) != 0 || !(a->f = fdopen(fd, "w"))) {
    int errnum = errno;
    snprintf(err, errlen, "%s: %s", path, strerror(errnum));
    if (fd >= 0) {
      close(fd);
      unlink(a->tmp);
    }
    free(a->tmp);
    a->tmp = NULL;
    errno = errnum; /* for the caller's advice (pl_probe_evidence) */
    return NULL;
  }
  return a->f;
}

void pl_atomic_abort(struct pl_atomic *a) {
  if (a->f)
    fclose(a->f);
  if (a->tmp)
    unlink(a->tmp);
  free(a->tmp);
  a->f = NULL;
  a->tmp = NULL;
}

int pl_atomic_commit(struct pl_atomic *a, char *err, size_t errlen) {
  /* On disk before the rename: after a crash the name holds the old file
   * or the whole new one. */
  int rc = fflush(a->f) == 0 && fsync(fileno(a->f)) == 0 ? 0 : -1;
  if (fclose(a->f) != 0)
    rc = -1;
  a->f = NULL;
  if (rc == 0)
    rc = rename(a->tmp, a->path);
  if (rc != 0) {
    snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
    unlink(a->tmp);
  }
  free(a->tmp);
  a->tmp = NULL;
  return rc;
}

int pl_atomic_probe(const char *path, char *err, size_t errlen) {
  struct pl_atomic a;
  if (!pl_atomic_open(&a, path, err, errlen))
    return -1;
  pl_atomic_abort(&a);
  return 0;
}
