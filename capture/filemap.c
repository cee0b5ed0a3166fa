/*
 * capture/filemap.c - a classic pcap file read in place.
 *
 * libpcap reads a file through stdio: the kernel copies every byte into
 * stdio's buffer, then fread copies each record into libpcap's.  Mapping
 * the file lets the page cache be read where it lies.  That halves what
 * reading costs one thread, and with -j each thread walks every record
 * header and reads only its own packets.
 *
 * libpcap still opens and checks the file and compiles any filter; only
 * the record walk is done here.  It follows libpcap's rules for a pcap
 * 2.4 file record by record (pcap-savefile(5)):
 *  - a record header cut short is an error, and none at all is the end;
 *  - a captured length above the maximum snapshot length is an error;
 *  - a record longer than the file's snapshot length is cut to it;
 *  - a nanosecond file's fractions become microseconds;
 *  - a byte-swapped file has its header fields swapped.
 * The error texts are libpcap's, so a truncated file is reported the
 * same way on either path.  Anything else (pcapng, the old 2.2 and 2.3
 * formats whose lengths may be swapped, the patched variants, stdin, pipes)
 * stays with libpcap.  TLSGRADE_READER=libpcap forces libpcap everywhere.
 *
 * Peak memory stays flat: the pages behind the reader are dropped from
 * the mapping (they stay in the page cache) every few megabytes.
 */
#include "capture/filemap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_HEADER 24
#define RECORD_HEADER 16
#define MAX_SNAPLEN 262144u /* libpcap's MAXIMUM_SNAPLEN: every link type we decode */
#define DROP_EVERY (8u << 20)

struct cap_filemap {
  const uint8_t *base;
  size_t size;
  size_t off;     /* next record header */
  size_t page;
  size_t dropped; /* pages before this are out of the mapping */
  bool swapped, nano;
  uint32_t snapshot;
  struct bpf_program prog;
  bool filtered;
  struct pcap_pkthdr hdr;
  char err[PCAP_ERRBUF_SIZE];
};

/* A mapped file that shrinks under the reader faults with SIGBUS on the
 * pages that are gone.  There is no sound way to go on (the packet being
 * dissected is half read), so the process says what happened and exits
 * with the runtime-error status instead of dying unexplained. */
static _Thread_local const char *volatile g_mapped_name; /* the faulting thread's */

static void on_sigbus(int sig) {
  (void)sig;
  static const char a[] = "tlsgrade: ", b[] = ": the capture file shrank while it was being "
                                              "read; no report\n";
  const char *name = g_mapped_name ? g_mapped_name : "input";
  ssize_t rc = write(STDERR_FILENO, a, sizeof(a) - 1);
  rc = write(STDERR_FILENO, name, strlen(name));
  rc = write(STDERR_FILENO, b, sizeof(b) - 1);
  (void)rc;
  _exit(1);
}

static void install_sigbus(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_sigbus;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, NULL);
}

static uint32_t u32(const struct cap_filemap *m, size_t at) {
  uint32_t v;
  memcpy(&v, m->base + at, 4);
  return m->swapped ? __builtin_bswap32(v) : v;
}

static bool use_libpcap_only(void) {
  const char *r = getenv("TLSGRADE_READER");
  return r && strcmp(r, "libpcap") == 0;
}

struct cap_filemap *cap_filemap_open(pcap_t *p, const char *path, const char *bpf) {
  if (use_libpcap_only() || pcap_is_swapped(p) < 0)
    return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < FILE_HEADER) {
    close(fd);
    return NULL;
  }
  void *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (base == MAP_FAILED)
    return NULL;
  struct cap_filemap *m = calloc(1, sizeof(*m));
  if (!m) {
    munmap(base, (size_t)st.st_size);
    return NULL;
  }
  m->base = base;
  m->size = (size_t)st.st_size;
  m->off = FILE_HEADER;
  uint32_t magic;
  memcpy(&magic, m->base, 4);
  bool ok = true;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
    m->nano = magic == 0xa1b23c4d;
  } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
    m->swapped = true;
    m->nano = magic == 0x4d3cb2a1;
  } else {
    ok = false; /* pcapng or a patched variant */
  }
  if (ok) {
    uint16_t major, minor;
    memcpy(&major, m->base + 4, 2);
    memcpy(&minor, m->base + 6, 2);
    if (m->swapped) {
      major = __builtin_bswap16(major);
      minor = __builtin_bswap16(minor);
    }
    /* libpcap agrees on the byte order, and no old-format length swap */
    ok = major == 2 && minor >= 4 && pcap_is_swapped(p) == (int)m->swapped &&
         pcap_snapshot(p) > 0;
  }
  if (ok && bpf) {
    ok = pcap_compile(p, &m->prog, bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
    m->filtered = ok;
  }
  if (!ok) {
    cap_filemap_close(m);
    return NULL;
  }
  m->snapshot = (uint32_t)pcap_snapshot(p);
  long page = sysconf(_SC_PAGESIZE);
  m->page = page > 0 ? (size_t)page : 4096;
  madvise(base, m->size, MADV_SEQUENTIAL);
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, install_sigbus);
  g_mapped_name = path;
  return m;
}

/* Give the pages wholly behind `upto` back (they stay in the page cache):
 * the mapping's resident size stays a few megabytes whatever the file's. */
static void drop_behind(struct cap_filemap *m, size_t upto) {
  size_t end = upto / m->page * m->page;
  if (end < m->dropped + DROP_EVERY)
    return;
  madvise((void *)(m->base + m->dropped), end - m->dropped, MADV_DONTNEED);
  m->dropped = end;
}

static int fail(struct cap_filemap *m, const char *fmt, uint32_t want, size_t got) {
  snprintf(m->err, sizeof(m->err), fmt, want, got);
  m->off = m->size; /* the read position, as libpcap's stream would have it */
  return -1;
}

int cap_filemap_next(struct cap_filemap *m, struct pcap_pkthdr **hdr, const u_char **data) {
  for (;;) {
    size_t left = m->size - m->off;
    if (left == 0)
      return 0;
    if (left < RECORD_HEADER)
      return fail(m, "truncated dump file; tried to read %u header bytes, only got %zu",
                  RECORD_HEADER, left);
    drop_behind(m, m->off);
    struct pcap_pkthdr *h = &m->hdr;
    h->ts.tv_sec = (int32_t)u32(m, m->off);
    uint32_t frac = u32(m, m->off + 4);
    h->ts.tv_usec = (int32_t)(m->nano ? frac / 1000 : frac);
    h->caplen = u32(m, m->off + 8);
    h->len = u32(m, m->off + 12);
    m->off += RECORD_HEADER;
    left -= RECORD_HEADER;
    if (h->caplen > MAX_SNAPLEN) {
      if (h->caplen > m->snapshot)
        snprintf(m->err, sizeof(m->err),
                 "invalid packet capture length %u, bigger than snaplen of %u", h->caplen,
                 m->snapshot);
      else
        snprintf(m->err, sizeof(m->err),
                 "invalid packet capture length %u, bigger than maximum of %u", h->caplen,
                 MAX_SNAPLEN);
      return -1;
    }
    const uint8_t *at = m->base + m->off;
    if (h->caplen > m->snapshot) { /* kept to the snapshot length, the rest skipped */
      if (left < m->snapshot)
        return fail(m, "truncated dump file; tried to read %u captured bytes, only got %zu",
                    m->snapshot, left);
      if (left < h->caplen)
        return fail(m, "truncated dump file; tried to read %u captured bytes, only got %zu",
                    h->caplen, left);
      m->off += h->caplen;
      h->caplen = m->snapshot;
    } else {
      if (left < h->caplen)
        return fail(m, "truncated dump file; tried to read %u captured bytes, only got %zu",
                    h->caplen, left);
      m->off += h->caplen;
    }
    if (m->filtered && !pcap_offline_filter(&m->prog, h, at))
      continue;
    *hdr = h;
    *data = at;
    return 1;
  }
}

const char *cap_filemap_error(const struct cap_filemap *m) {
  return m->err;
}

long cap_filemap_offset(const struct cap_filemap *m) {
  return (long)m->off;
}

void cap_filemap_close(struct cap_filemap *m) {
  if (!m)
    return;
  if (m->filtered)
    pcap_freecode(&m->prog);
  munmap((void *)m->base, m->size);
  free(m);
}
