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
};

/* Input index (a file, or "-"), opened by libpcap with its link type
 * checked and the filter set; NULL with a message in err. */
pcap_t *source_open_input(const struct cap_source *src, size_t index, char *err, size_t errlen);

/* One activated live handle (link type checked, filter set, non-blocking);
 * NULL with a message in err. */
pcap_t *source_open_live(const struct cap_live_options *opt, char *err, size_t errlen);

#endif
