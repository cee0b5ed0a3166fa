/*
 * capture/source.h - an input set as source.c opens it and read.c reads it;
 * private to capture/.
 */
#ifndef TLSGRADE_CAPTURE_SOURCE_H
#define TLSGRADE_CAPTURE_SOURCE_H

#include "capture/capture.h"

#include <pcap/pcap.h>
#include <signal.h>

/* Owns every string and the live handle. */
struct cap_source {
  char **names; /* file paths; "-" is stdin; for live, the interface */
  size_t count;
  char *bpf;
  bool live;
  pcap_t *live_handle;
  pcap_t *volatile reading; /* the handle being read, for cap_source_stop */
  volatile sig_atomic_t stop;
  /* A clone (cap_source_clone) also stops when its origin is told to, and
   * a quiet one leaves the warnings to the origin's reader. */
  const struct cap_source *origin;
  bool quiet;
  /* -j N -i: N handles in one PACKET_FANOUT group (fanout.c), each read
   * by its own thread; this source holds none of its own. */
  struct cap_source **members;
  size_t n_members;
  cap_time_us tick_interval, next_tick;
  void (*tick)(void *ctx);
  void *tick_ctx;
  void (*on_warning)(void *ctx, const char *text); /* cap_source_set_warning_hook */
  void *warning_ctx;
  /* -w (struct cap_live_options): names[] holds the files written, the
   * current one last. */
  char *write_path;
  uint64_t rotate_bytes;
  cap_time_us rotate_us;
  pcap_dumper_t *dumper;
  uint64_t dump_frames;        /* packets in the current file */
  bool dump_failed;            /* a file could not be written: the capture ended */
  cap_time_us dump_started_us; /* packet time of its first packet */
};

/* -w: the first file opened (begin), a packet written to the current file
 * (rotated first when due), the last file flushed and closed (end).  0,
 * or -1 with err (the file cannot be written). */
int source_dump_begin(struct cap_source *src, char *err, size_t errlen);
int source_dump(struct cap_source *src, const struct pcap_pkthdr *hdr, const u_char *data,
                char *err, size_t errlen);
int source_dump_end(struct cap_source *src, char *err, size_t errlen);

/* Input index (a file, or "-"), opened by libpcap with its link type
 * checked and the filter set; NULL with a message in err. */
pcap_t *source_open_input(const struct cap_source *src, size_t index, char *err, size_t errlen);

/* One activated live handle (link type checked, filter set, non-blocking);
 * NULL with a message in err. */
pcap_t *source_open_live(const struct cap_live_options *opt, char *err, size_t errlen);

#endif
