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
 * The file is mapped a window at a time (WINDOW bytes, populated in one
 * call rather than faulted page by page), so peak memory stays flat
 * whatever the file's size; the lines ahead of the reader are prefetched,
 * as walking record headers is otherwise a chain of memory misses.
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

#define MAX_SNAPLEN 262144u /* libpcap's MAXIMUM_SNAPLEN: every link type we decode */
#define WINDOW (4u << 20)   /* > the largest record, header included */

struct cap_filemap {
  int fd;
  size_t size;
  size_t off;         /* next record header */
  const uint8_t *win; /* the mapped window, or NULL */
  size_t win_off, win_len;
  size_t page;
  size_t prefetched; /* file offset prefetched up to */
  struct cap_pcap_format fmt;
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

/* Bytes [off, off + len) of the file (within its size), mapped: the
 * window moves when they are not all in it.  NULL when mapping fails. */
static const uint8_t *span(struct cap_filemap *m, size_t off, size_t len) {
  if (m->win && off >= m->win_off && off + len <= m->win_off + m->win_len)
    return m->win + (off - m->win_off);
  if (m->win)
    munmap((void *)m->win, m->win_len);
  m->win_off = off / m->page * m->page;
  m->win_len = m->size - m->win_off < WINDOW ? m->size - m->win_off : WINDOW;
  void *w = mmap(NULL, m->win_len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, m->fd, (off_t)m->win_off);
  m->win = w == MAP_FAILED ? NULL : w;
  if (m->prefetched < m->win_off)
    m->prefetched = m->win_off;
  return m->win ? m->win + (off - m->win_off) : NULL;
}

bool cap_filemap_use_libpcap(void) {
  const char *r = getenv("TLSGRADE_READER");
  return r && strcmp(r, "libpcap") == 0;
}

bool cap_pcap_format_of(pcap_t *p, const uint8_t *head, struct cap_pcap_format *f) {
  uint32_t magic;
  memcpy(&magic, head, 4);
  memset(f, 0, sizeof(*f));
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
    f->nano = magic == 0xa1b23c4d;
  } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
    f->swapped = true;
    f->nano = magic == 0x4d3cb2a1;
  } else {
    return false; /* pcapng or a patched variant */
  }
  uint16_t major, minor;
  memcpy(&major, head + 4, 2);
  memcpy(&minor, head + 6, 2);
  if (f->swapped) {
    major = __builtin_bswap16(major);
    minor = __builtin_bswap16(minor);
  }
  /* libpcap agrees on the byte order, and no old-format length swap */
  if (major != 2 || minor < 4 || pcap_is_swapped(p) != (int)f->swapped || pcap_snapshot(p) <= 0)
    return false;
  f->snapshot = (uint32_t)pcap_snapshot(p);
  return true;
}

struct cap_filemap *cap_filemap_open(pcap_t *p, const char *path, const char *bpf) {
  if (cap_filemap_use_libpcap() || pcap_is_swapped(p) < 0)
    return NULL;
  struct cap_filemap *m = calloc(1, sizeof(*m));
  if (!m)
    return NULL;
  struct stat st;
  m->fd = open(path, O_RDONLY | O_CLOEXEC);
  long page = sysconf(_SC_PAGESIZE);
  m->page = page > 0 ? (size_t)page : 4096;
  const uint8_t *head = NULL;
  if (m->fd >= 0 && fstat(m->fd, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size >= CAP_PCAP_FILE_HEADER) {
    m->size = (size_t)st.st_size;
    head = span(m, 0, CAP_PCAP_FILE_HEADER);
  }
  bool ok = head && cap_pcap_format_of(p, head, &m->fmt);
  if (ok && bpf) {
    ok = pcap_compile(p, &m->prog, bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
    m->filtered = ok;
  }
  if (!ok) {
    cap_filemap_close(m);
    return NULL;
  }
  m->off = CAP_PCAP_FILE_HEADER;
  cap_filemap_guard(path);
  return m;
}

void cap_filemap_guard(const char *path) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, install_sigbus);
  g_mapped_name = path;
}

/* Ask for the lines ahead of off that the window holds. */
static void prefetch_ahead(struct cap_filemap *m, size_t off) {
  size_t end = off + CAP_PREFETCH_BYTES, win_end = m->win_off + m->win_len;
  if (end > win_end)
    end = win_end;
  for (; m->prefetched < end; m->prefetched += 64)
    __builtin_prefetch(m->win + (m->prefetched - m->win_off));
}

static int map_failed(struct cap_filemap *m, size_t at) {
  snprintf(m->err, sizeof(m->err), "cannot map the file at byte offset %zu: %s", at,
           strerror(errno));
  m->off = at;
  return -1;
}

int cap_pcap_record(const struct cap_pcap_format *f, const uint8_t *rec, size_t left,
                    struct cap_pcap_record *out, char *err, size_t errlen) {
  if (left == 0)
    return 0;
  if (left < CAP_PCAP_RECORD_HEADER) {
    snprintf(err, errlen, "truncated dump file; tried to read %u header bytes, only got %zu",
             CAP_PCAP_RECORD_HEADER, left);
    out->stop_at = left;
    return -1;
  }
  struct pcap_pkthdr *h = &out->hdr;
  uint32_t v[4];
  memcpy(v, rec, sizeof(v));
  for (int i = 0; f->swapped && i < 4; i++)
    v[i] = __builtin_bswap32(v[i]);
  h->ts.tv_sec = (int32_t)v[0];
  /* libpcap reads the fraction as a signed 32-bit number, and divides it so */
  h->ts.tv_usec = f->nano ? (int32_t)v[1] / 1000 : (int32_t)v[1];
  h->caplen = v[2];
  h->len = v[3];
  left -= CAP_PCAP_RECORD_HEADER;
  if (h->caplen > MAX_SNAPLEN) {
    if (h->caplen > f->snapshot)
      snprintf(err, errlen, "invalid packet capture length %u, bigger than snaplen of %u",
               h->caplen, f->snapshot);
    else
      snprintf(err, errlen, "invalid packet capture length %u, bigger than maximum of %u",
               h->caplen, MAX_SNAPLEN);
    out->stop_at = CAP_PCAP_RECORD_HEADER; /* libpcap's stream stops after the header */
    return -1;
  }
  uint32_t need = h->caplen > f->snapshot ? f->snapshot : h->caplen;
  if (left < need || left < h->caplen) { /* libpcap names the part it was reading */
    snprintf(err, errlen, "truncated dump file; tried to read %u captured bytes, only got %zu",
             left < need ? need : h->caplen, left);
    out->stop_at = CAP_PCAP_RECORD_HEADER + left;
    return -1;
  }
  out->size = CAP_PCAP_RECORD_HEADER + h->caplen;
  h->caplen = need; /* a record longer than the snapshot length is cut to it */
  return 1;
}

int cap_filemap_next(struct cap_filemap *m, struct pcap_pkthdr **hdr, const u_char **data) {
  for (;;) {
    size_t left = m->size - m->off;
    size_t head = left < CAP_PCAP_RECORD_HEADER ? left : CAP_PCAP_RECORD_HEADER;
    const uint8_t *rec = left ? span(m, m->off, head) : NULL;
    if (left && !rec)
      return map_failed(m, m->off);
    if (rec)
      prefetch_ahead(m, m->off);
    struct cap_pcap_record r;
    int rc = cap_pcap_record(&m->fmt, rec, left, &r, m->err, sizeof(m->err));
    if (rc <= 0) {
      if (rc < 0)
        m->off += r.stop_at; /* where libpcap's stream would be */
      return rc;
    }
    size_t at = m->off + CAP_PCAP_RECORD_HEADER;
    m->off += r.size;
    const uint8_t *bytes = span(m, at, r.hdr.caplen);
    if (!bytes)
      return map_failed(m, at);
    if (m->filtered && !pcap_offline_filter(&m->prog, &r.hdr, bytes))
      continue;
    m->hdr = r.hdr;
    *hdr = &m->hdr;
    *data = bytes;
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
  if (m->win)
    munmap((void *)m->win, m->win_len);
  if (m->fd >= 0)
    close(m->fd);
  free(m);
}

bool cap_filemap_whole_open(struct cap_filemap_whole *m, pcap_t *p, const char *path) {
  memset(m, 0, sizeof(*m));
  if (cap_filemap_use_libpcap())
    return false;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0)
    return false;
  void *base = MAP_FAILED;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= CAP_PCAP_FILE_HEADER)
    base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd); /* the mapping holds the file */
  if (base == MAP_FAILED)
    return false;
  m->base = base;
  m->size = (size_t)st.st_size;
  if (!cap_pcap_format_of(p, m->base, &m->fmt)) {
    cap_filemap_whole_close(m);
    return false;
  }
  madvise(base, m->size, MADV_SEQUENTIAL);
  long page = sysconf(_SC_PAGESIZE);
  m->page = page > 0 ? (size_t)page : 4096;
  return true;
}

void cap_filemap_whole_drop(struct cap_filemap_whole *m, size_t upto) {
  upto = upto / m->page * m->page;
  if (upto > m->dropped) {
    madvise((void *)(m->base + m->dropped), upto - m->dropped, MADV_DONTNEED);
    m->dropped = upto;
  }
}

void cap_filemap_whole_close(struct cap_filemap_whole *m) {
  if (m->base)
    munmap((void *)m->base, m->size);
  memset(m, 0, sizeof(*m));
}
