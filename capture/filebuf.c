/*
 * capture/filebuf.c - a classic pcap file read into reused buffers (the
 * name: file buffers).
 *
 * libpcap reads a file through stdio: the kernel copies every byte into
 * stdio's buffer, then fread copies each record into libpcap's.  Here the
 * kernel copies a run of the file into a buffer that is reused, and the
 * records are read where they lie in it.  Mapping the file instead cost
 * more: each page of a mapping is a miss in the page tables on its first
 * touch (under virtualisation a trap), about a fifth of a handshake-heavy
 * run, and with -j every page was touched by two threads.
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
 * One reader reads a window at a time (WINDOW bytes, from the record that
 * did not fit in the last), so peak memory stays flat whatever the file's
 * size; the -j team reads each part of a segment into a run of its own
 * (team.c).  The lines ahead of a walk are prefetched, as walking record
 * headers is otherwise a chain of memory misses.  A file that ends before
 * the size it had when it was opened shrank while being read: an error,
 * said so, as libpcap says a cut file is.
 */
#include "capture/filebuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SNAPLEN 262144u /* libpcap's MAXIMUM_SNAPLEN: every link type we decode */
#define WINDOW (1u << 20)   /* > the largest record, header included */

struct cap_filebuf {
  struct cap_filebuf_file file;
  size_t off;                 /* next record header */
  struct cap_filebuf_run win; /* the window */
  size_t prefetched;          /* file offset prefetched up to */
  struct bpf_program prog;
  bool filtered;
  struct pcap_pkthdr hdr;
  char err[PCAP_ERRBUF_SIZE];
};

/* Bytes [off, off + len) of the file (within its size): the window moves
 * to off when they are not all in it.  NULL (the error in m->err) when the
 * file cannot be read or shrank. */
static const uint8_t *span(struct cap_filebuf *m, size_t off, size_t len) {
  return cap_filebuf_read(&m->file, &m->win, off, off, len, off + WINDOW, m->err, sizeof(m->err));
}

bool cap_filebuf_use_libpcap(void) {
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

bool cap_filebuf_file_open(struct cap_filebuf_file *f, pcap_t *p, const char *path) {
  memset(f, 0, sizeof(*f));
  f->fd = -1;
  if (cap_filebuf_use_libpcap() || pcap_is_swapped(p) < 0)
    return false;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  uint8_t head[CAP_PCAP_FILE_HEADER];
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= CAP_PCAP_FILE_HEADER &&
      pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
      cap_pcap_format_of(p, head, &f->fmt)) {
    f->fd = fd;
    f->size = (size_t)st.st_size;
    return true;
  }
  if (fd >= 0)
    close(fd);
  return false;
}

void cap_filebuf_file_close(struct cap_filebuf_file *f) {
  if (f->fd >= 0)
    close(f->fd);
  memset(f, 0, sizeof(*f));
  f->fd = -1;
}

const uint8_t *cap_filebuf_read(const struct cap_filebuf_file *f, struct cap_filebuf_run *r,
                                size_t keep, size_t off, size_t len, size_t until, char *err,
                                size_t errlen) {
  if (r->buf && off >= r->off && off + len <= r->off + r->len)
    return r->buf + (off - r->off);
  if (!r->buf || keep < r->off || keep > r->off + r->len) {
    r->off = keep; /* nothing of it held: start again */
    r->len = 0;
  } else if (keep > r->off) { /* what is held from keep on moves to the front */
    r->len -= keep - r->off;
    memmove(r->buf, r->buf + (keep - r->off), r->len);
    r->off = keep;
  }
  size_t end = off + len > until ? off + len : until;
  if (end > f->size)
    end = f->size > off + len ? f->size : off + len;
  if (end - r->off > r->cap) {
    /* an eighth more than asked, not twice what was held: a -j part asks
     * for half a segment and a record more, and doubling made each of
     * its buffers a whole segment of fresh memory */
    size_t need = end - r->off, cap = need + need / 8;
    uint8_t *buf = realloc(r->buf, cap);
    if (!buf) {
      snprintf(err, errlen, "out of memory");
      return NULL;
    }
    r->buf = buf;
    r->cap = cap;
  }
  ssize_t n = 0;
  while (r->off + r->len < end) {
    n = pread(f->fd, r->buf + r->len, end - r->off - r->len, (off_t)(r->off + r->len));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    r->len += (size_t)n;
  }
  if (off + len <= r->off + r->len)
    return r->buf + (off - r->off);
  if (n < 0)
    snprintf(err, errlen, "cannot read the file at byte offset %zu: %s", r->off + r->len,
             strerror(errno));
  else
    snprintf(err, errlen,
             "the capture file shrank while it was being read (it ends at byte %zu, not %zu)",
             r->off + r->len, f->size);
  return NULL;
}

void cap_filebuf_run_free(struct cap_filebuf_run *r) {
  free(r->buf);
  memset(r, 0, sizeof(*r));
}

struct cap_filebuf *cap_filebuf_open(pcap_t *p, const char *path, const char *bpf) {
  struct cap_filebuf *m = calloc(1, sizeof(*m));
  if (!m)
    return NULL;
  bool ok = cap_filebuf_file_open(&m->file, p, path);
  if (ok && bpf) {
    ok = pcap_compile(p, &m->prog, bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
    m->filtered = ok;
  }
  if (!ok) {
    cap_filebuf_close(m);
    return NULL;
  }
  m->off = CAP_PCAP_FILE_HEADER;
  return m;
}

/* Ask for the lines ahead of off that the window holds. */
static void prefetch_ahead(struct cap_filebuf *m, size_t off) {
  size_t end = off + CAP_PREFETCH_BYTES, win_end = m->win.off + m->win.len;
  if (end > win_end)
    end = win_end;
  if (m->prefetched < m->win.off)
    m->prefetched = m->win.off;
  for (; m->prefetched < end; m->prefetched += 64)
    __builtin_prefetch(m->win.buf + (m->prefetched - m->win.off));
}

static int read_failed(struct cap_filebuf *m, size_t at) {
  m->off = at;
  return -1;
}

int cap_pcap_record(const struct cap_pcap_format *f, const uint8_t *rec, size_t left,
                    struct cap_pcap_record *out, char *err, size_t errlen) {
  if (left == 0)
    return 0;
  if (left < CAP_PCAP_RECORD_HEADER) {
    if (err)
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
    if (err && h->caplen > f->snapshot)
      snprintf(err, errlen, "invalid packet capture length %u, bigger than snaplen of %u",
               h->caplen, f->snapshot);
    else if (err)
      snprintf(err, errlen, "invalid packet capture length %u, bigger than maximum of %u",
               h->caplen, MAX_SNAPLEN);
    out->stop_at = CAP_PCAP_RECORD_HEADER; /* libpcap's stream stops after the header */
    return -1;
  }
  uint32_t need = h->caplen > f->snapshot ? f->snapshot : h->caplen;
  if (left < need || left < h->caplen) { /* libpcap names the part it was reading */
    if (err)
      snprintf(err, errlen, "truncated dump file; tried to read %u captured bytes, only got %zu",
               left < need ? need : h->caplen, left);
    out->stop_at = CAP_PCAP_RECORD_HEADER + left;
    return -1;
  }
  out->size = CAP_PCAP_RECORD_HEADER + h->caplen;
  h->caplen = need; /* a record longer than the snapshot length is cut to it */
  return 1;
}

int cap_filebuf_next(struct cap_filebuf *m, struct pcap_pkthdr **hdr, const u_char **data) {
  for (;;) {
    size_t left = m->file.size - m->off;
    size_t head = left < CAP_PCAP_RECORD_HEADER ? left : CAP_PCAP_RECORD_HEADER;
    const uint8_t *rec = left ? span(m, m->off, head) : NULL;
    if (left && !rec)
      return read_failed(m, m->off);
    if (rec)
      prefetch_ahead(m, m->off);
    struct cap_pcap_record r;
    int rc = cap_pcap_record(&m->file.fmt, rec, left, &r, m->err, sizeof(m->err));
    if (rc <= 0) {
      if (rc < 0)
        m->off += r.stop_at; /* where libpcap's stream would be */
      return rc;
    }
    size_t at = m->off + CAP_PCAP_RECORD_HEADER;
    m->off += r.size;
    const uint8_t *bytes = span(m, at, r.hdr.caplen);
    if (!bytes)
      return read_failed(m, at);
    if (m->filtered && !pcap_offline_filter(&m->prog, &r.hdr, bytes))
      continue;
    m->hdr = r.hdr;
    *hdr = &m->hdr;
    *data = bytes;
    return 1;
  }
}

const char *cap_filebuf_error(const struct cap_filebuf *m) {
  return m->err;
}

long cap_filebuf_offset(const struct cap_filebuf *m) {
  return (long)m->off;
}

void cap_filebuf_close(struct cap_filebuf *m) {
  if (!m)
    return;
  if (m->filtered)
    pcap_freecode(&m->prog);
  cap_filebuf_run_free(&m->win);
  cap_filebuf_file_close(&m->file);
  free(m);
}
