/*
 * capture/source.c - the inputs: capture files, directories, stdin, live
 * interfaces, named, opened and checked (read.c reads them).  Several
 * inputs are read in order as one continuous capture: the flow table lives
 * across them, so a connection split by `tcpdump -C` or `-G` rotation is
 * reassembled whole.
 */
#include "capture/capture.h"
#include "capture/source.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void set_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
  snprintf(err, errlen, fmt, a, b);
}

static int add_name(struct cap_source *src, const char *name) {
  char **n = realloc(src->names, (src->count + 1) * sizeof(*n));
  if (!n)
    return -1;
  src->names = n;
  if (!(n[src->count] = strdup(name)))
    return -1;
  src->count++;
  return 0;
}

/* pcap (either byte order, micro or nano) or pcapng section header. */
static bool has_capture_magic(const char *path) {
  static const uint32_t magics[] = {0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a};
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  unsigned char b[4];
  bool ok = false;
  if (fread(b, 1, 4, f) == 4) {
    uint32_t m = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
      ok = ok || m == magics[i];
  }
  fclose(f);
  return ok;
}

static int version_order(const struct dirent **a, const struct dirent **b) {
  return strverscmp((*a)->d_name, (*b)->d_name);
}

/* A directory contributes its capture files (by magic number) in version
 * order, so trace.pcap2 comes before trace.pcap10. */
static int add_directory(struct cap_source *src, const char *dir, char *err, size_t errlen) {
  struct dirent **list = NULL;
  int n = scandir(dir, &list, NULL, version_order);
  if (n < 0) {
    set_err(err, errlen, "%s: %s", dir, strerror(errno));
    return -1;
  }
  size_t before = src->count, skipped = 0;
  char first_skipped[256] = "";
  int rc = 0;
  for (int i = 0; i < n; i++) {
    char *path = NULL;
    struct stat st;
    if (rc == 0 && list[i]->d_name[0] != '.' &&
        asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", list[i]->d_name) >=
            0 &&
        stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      if (!has_capture_magic(path)) { /* said below: a file left out is never silent */
        if (!skipped++)
          snprintf(first_skipped, sizeof(first_skipped), "%s", list[i]->d_name);
      } else if (add_name(src, path) < 0) {
        rc = -1;
      }
    }
    free(path);
    free(list[i]);
  }
  free(list);
  if (rc == 0 && src->count == before) {
    set_err(err, errlen, "%s: directory holds no pcap or pcapng file%s", dir, "");
    rc = -1;
  } else if (rc == 0 && skipped) {
    cap_message("%s: %zu file(s) not read: not pcap or pcapng captures (first: %s)", dir, skipped,
                first_skipped);
  }
  return rc;
}

static pcap_t *open_file(const char *name, char *err, size_t errlen) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *p;
  if (strcmp(name, "-") == 0) {
    int c = getc(stdin); /* nothing at all is not a truncated capture */
    if (c == EOF) {
      set_err(err, errlen, "%s: %s", "stdin", "empty: no capture was piped in");
      return NULL;
    }
    ungetc(c, stdin);
    p = pcap_fopen_offline_with_tstamp_precision(stdin, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  } else {
    /* libpcap reads a file through stdio, whose default buffer (a page)
     * would cost a read system call every few packets: a larger one,
     * given before the first read, cuts them to one per megabyte. */
    FILE *f = fopen(name, "rb");
    if (!f) {
      set_err(err, errlen, "%s: %s", name, strerror(errno));
      return NULL;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!p)
      fclose(f);
  }
  if (p)
    return p;
  const char *cause = errbuf;
  if (strstr(errbuf, "unknown file format") || strstr(errbuf, "bad dump file format"))
    cause = "not a pcap or pcapng capture file";
  else if (strstr(errbuf, "truncated dump file") || strstr(errbuf, "only got"))
    cause = "truncated in the file header: not a complete capture file";
  set_err(err, errlen, "%s: %s", strcmp(name, "-") == 0 ? "stdin" : name, cause);
  return NULL;
}

static int check_linktype(pcap_t *p, const char *name, char *err, size_t errlen) {
  int dlt = pcap_datalink(p);
  if (cap_linktype_supported(dlt))
    return 0;
  char what[96];
  const char *dname = pcap_datalink_val_to_name(dlt);
  snprintf(what, sizeof(what), "unsupported link-layer type %d (%s)", dlt,
           dname ? dname : "unknown");
  set_err(err, errlen, "%s: %s", name, what);
  return -1;
}

static int apply_filter(pcap_t *p, const char *bpf, const char *name, char *err, size_t errlen) {
  if (!bpf)
    return 0;
  struct bpf_program prog;
  if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
    char what[PCAP_ERRBUF_SIZE + 64];
    snprintf(what, sizeof(what), "invalid BPF filter '%s': %s", bpf, pcap_geterr(p));
    set_err(err, errlen, "%s: %s", name, what);
    return -1;
  }
  int rc = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (rc < 0) {
    set_err(err, errlen, "%s: cannot set filter: %s", name, pcap_geterr(p));
    return -1;
  }
  return 0;
}

/* Open every regular file once now, so that a bad input is reported before
 * any output is written. */
static int validate_file(const char *path, const char *bpf, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
    set_err(err, errlen, "%s: %s", path, "empty file: not a capture");
    return -1;
  }
  pcap_t *p = open_file(path, err, errlen);
  if (!p)
    return -1;
  int rc = check_linktype(p, path, err, errlen);
  if (rc == 0)
    rc = apply_filter(p, bpf, path, err, errlen);
  pcap_close(p);
  return rc;
}

struct cap_source *cap_source_files(char *const *paths, size_t npaths, const char *bpf, char *err,
                                    size_t errlen) {
  struct cap_source *src = calloc(1, sizeof(*src));
  if (!src || (bpf && !(src->bpf = strdup(bpf)))) {
    set_err(err, errlen, "%s%s", "out of memory", "");
    cap_source_free(src);
    return NULL;
  }
  for (size_t i = 0; i < npaths; i++) {
    struct stat st;
    int rc;
    if (strcmp(paths[i], "-") == 0) {
      rc = add_name(src, "-");
    } else if (stat(paths[i], &st) != 0) {
      set_err(err, errlen, "%s: %s", paths[i], strerror(errno));
      rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
      rc = add_directory(src, paths[i], err, errlen);
    } else {
      rc = add_name(src, paths[i]);
    }
    if (rc < 0) {
      if (!err[0])
        set_err(err, errlen, "%s: %s", paths[i], "out of memory");
      cap_source_free(src);
      return NULL;
    }
  }
  for (size_t i = 0; i < src->count; i++) {
    if (strcmp(src->names[i], "-") != 0 && validate_file(src->names[i], bpf, err, errlen) < 0) {
      cap_source_free(src);
      return NULL;
    }
  }
  return src;
}

static const char *activate_cause(int rc, pcap_t *p) {
  switch (rc) {
  case PCAP_ERROR_NO_SUCH_DEVICE:
    return "no such interface";
  case PCAP_ERROR_PERM_DENIED:
    return "permission denied (capturing needs root or CAP_NET_RAW)";
  case PCAP_ERROR_IFACE_NOT_UP:
    return "interface is not up";
  case PCAP_ERROR_PROMISC_PERM_DENIED:
    return "no permission to put the interface in promiscuous mode";
  default:
    return pcap_geterr(p);
  }
}

/* One activated live handle: link type checked, filter set, non-blocking. */
pcap_t *source_open_live(const struct cap_live_options *opt, char *err, size_t errlen) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *p = pcap_create(opt->iface, errbuf);
  if (!p) {
    set_err(err, errlen, "%s: %s", opt->iface, errbuf);
    return NULL;
  }
  pcap_set_snaplen(p, opt->snaplen > 0 ? opt->snaplen : 262144);
  pcap_set_promisc(p, opt->promisc);
  pcap_set_timeout(p, 100);
  /* Immediate mode makes libpcap fall back to TPACKET_V2, one ring slot
   * per packet and a wake-up for each: a tap at 100 Mbit/s already lost
   * packets.  Without it, TPACKET_V3 hands over blocks of packets, filled
   * or 100 ms old (the timeout above), and the ring holds a burst. */
  pcap_set_immediate_mode(p, opt->immediate);
  pcap_set_buffer_size(p, opt->buffer_size > 0 ? opt->buffer_size : CAP_LIVE_BUFFER_DEFAULT);
  int rc = pcap_activate(p);
  if (rc < 0) {
    set_err(err, errlen, "%s: %s", opt->iface, activate_cause(rc, p));
    pcap_close(p);
    return NULL;
  }
  if (rc > 0)
    cap_message("warning: %s: %s", opt->iface, pcap_geterr(p));
  if (check_linktype(p, opt->iface, err, errlen) < 0 ||
      apply_filter(p, opt->bpf, opt->iface, err, errlen) < 0) {
    pcap_close(p);
    return NULL;
  }
  char nb_err[PCAP_ERRBUF_SIZE];
  if (pcap_setnonblock(p, 1, nb_err) < 0)
    cap_message("warning: %s: cannot read non-blocking: %s", opt->iface, nb_err);
  return p;
}

struct cap_source *cap_source_live(const struct cap_live_options *opt, char *err, size_t errlen) {
  struct cap_source *src = calloc(1, sizeof(*src));
  /* With -w the evidence cites the written files, which hold the frames. */
  if (!src || add_name(src, opt->write_path ? opt->write_path : opt->iface) < 0 ||
      (opt->write_path && !(src->write_path = strdup(opt->write_path)))) {
    set_err(err, errlen, "%s: %s", opt->iface, "out of memory");
    cap_source_free(src);
    return NULL;
  }
  src->live = true;
  src->rotate_bytes = opt->rotate_bytes;
  src->rotate_us = opt->rotate_us;
  if (!(src->live_handle = source_open_live(opt, err, errlen))) {
    cap_source_free(src);
    return NULL;
  }
  return src;
}

void cap_source_free(struct cap_source *src) {
  if (!src)
    return;
  for (size_t i = 0; i < src->count; i++)
    free(src->names[i]);
  free(src->names);
  free(src->bpf);
  free(src->write_path);
  if (src->dumper)
    pcap_dump_close(src->dumper);
  if (src->live_handle)
    pcap_close(src->live_handle);
  for (size_t i = 0; i < src->n_members; i++)
    cap_source_free(src->members[i]);
  free(src->members);
  free(src);
}

void cap_source_live_drops(const struct cap_source *src, uint64_t *drops, uint64_t *ifdrops) {
  struct pcap_stat ps;
  *drops = *ifdrops = 0;
  if (src->live_handle && pcap_stats(src->live_handle, &ps) == 0) {
    *drops = ps.ps_drop;
    *ifdrops = ps.ps_ifdrop;
  }
}

/* The current -w file (the last name), as the capture's user. */
static int dump_open(struct cap_source *src, char *err, size_t errlen) {
  const char *name = src->names[src->count - 1];
  src->dumper = pcap_dump_open(src->live_handle, name);
  src->dump_frames = 0;
  if (!src->dumper) {
    set_err(err, errlen, "-w %s: %s", name, pcap_geterr(src->live_handle));
    return -1;
  }
  return 0;
}

int source_dump_begin(struct cap_source *src, char *err, size_t errlen) {
  return src->write_path && !src->dumper ? dump_open(src, err, errlen) : 0;
}

/* tcpdump -C and -G: a new file before the packet that would make the
 * current one pass rotate_bytes, or that comes rotate_us after its first
 * packet; never an empty file, and at most CAP_WRITE_MAX_FILES. */
static bool rotation_due(struct cap_source *src, const struct pcap_pkthdr *hdr, cap_time_us ts) {
  if (!src->dump_frames || src->count >= CAP_WRITE_MAX_FILES)
    return false;
  int64_t size = pcap_dump_ftell64(src->dumper);
  return (src->rotate_bytes && size >= 0 &&
          (uint64_t)size + 16 + hdr->caplen > src->rotate_bytes) || /* 16: a record's header */
         (src->rotate_us && ts - src->dump_started_us >= src->rotate_us);
}

int source_dump(struct cap_source *src, const struct pcap_pkthdr *hdr, const u_char *data,
                char *err, size_t errlen) {
  if (!src->dumper)
    return 0;
  cap_time_us ts = cap_packet_time(&hdr->ts);
  if (rotation_due(src, hdr, ts)) {
    bool flushed = pcap_dump_flush(src->dumper) == 0;
    pcap_dump_close(src->dumper);
    src->dumper = NULL;
    char *name = NULL;
    if (!flushed) {
      set_err(err, errlen, "-w %s: %s", src->names[src->count - 1], strerror(errno));
      return -1;
    }
    if (asprintf(&name, "%s%zu", src->write_path, src->count) < 0 || add_name(src, name) < 0) {
      free(name);
      set_err(err, errlen, "-w %s: %s", src->write_path, "out of memory");
      return -1;
    }
    free(name);
    if (dump_open(src, err, errlen) < 0)
      return -1;
  }
  if (!src->dump_frames)
    src->dump_started_us = ts;
  pcap_dump((u_char *)src->dumper, hdr, data);
  src->dump_frames++;
  return 0;
}

int source_dump_end(struct cap_source *src, char *err, size_t errlen) {
  if (!src->dumper)
    return 0;
  int rc = pcap_dump_flush(src->dumper);
  if (rc != 0)
    set_err(err, errlen, "-w %s: %s", src->names[src->count - 1], strerror(errno));
  pcap_dump_close(src->dumper);
  src->dumper = NULL;
  return rc;
}

bool cap_source_rereadable(const struct cap_source *src) {
  if (src->live)
    return false;
  for (size_t i = 0; i < src->count; i++)
    if (strcmp(src->names[i], "-") == 0)
      return false;
  return true;
}

struct cap_source *cap_source_clone(const struct cap_source *src, bool quiet, char *err,
                                    size_t errlen) {
  struct cap_source *c = calloc(1, sizeof(*c));
  bool ok = c && cap_source_rereadable(src) && (!src->bpf || (c->bpf = strdup(src->bpf)));
  for (size_t i = 0; ok && i < src->count; i++)
    ok = add_name(c, src->names[i]) == 0;
  if (!ok) {
    set_err(err, errlen, "%s%s",
            c && !cap_source_rereadable(src) ? "input cannot be read twice" : "out of memory", "");
    cap_source_free(c);
    return NULL;
  }
  c->origin = src;
  c->quiet = quiet;
  return c;
}

size_t cap_source_count(const struct cap_source *src) {
  return src->count;
}

const char *cap_source_name(const struct cap_source *src, size_t index) {
  if (index >= src->count)
    return "";
  return strcmp(src->names[index], "-") == 0 ? "stdin" : src->names[index];
}

bool cap_source_filtered(const struct cap_source *src) {
  return src->bpf != NULL;
}

pcap_t *source_open_input(const struct cap_source *src, size_t index, char *err, size_t errlen) {
  pcap_t *p = open_file(src->names[index], err, errlen);
  if (!p)
    return NULL;
  if (check_linktype(p, cap_source_name(src, index), err, errlen) < 0 ||
      apply_filter(p, src->bpf, cap_source_name(src, index), err, errlen) < 0) {
    pcap_close(p);
    return NULL;
  }
  return p;
}
