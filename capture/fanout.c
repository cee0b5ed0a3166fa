/*
 * capture/fanout.c - -j N -i IFACE: N libpcap handles on the interface
 * joined in one PACKET_FANOUT group, each read by a thread that owns its
 * flow table.  The kernel spreads packets over the sockets by a hash of
 * the flow that is the same for both directions (the flow dissector's
 * hash orders the addresses and ports), after reassembling IP fragments
 * (PACKET_FANOUT_FLAG_DEFRAG), so every packet of a connection reaches
 * the same thread and no thread hands packets to another: the one-reader
 * hand-off used 1.8-2.5 times the CPU of one thread and lost as much.
 *
 * The hash is of the outermost headers: a tunnel whose two directions
 * differ outside (VXLAN's source port is a hash of the inner flow made by
 * each end) may split a connection; README says to read tunnels with one
 * thread.
 */
#include "source.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PACKET_FANOUT_FLAG_UNIQUEID
#define PACKET_FANOUT_FLAG_UNIQUEID 0x2000
#endif

/* Join p to the group: the first handle asks the kernel for an id no
 * other socket uses (another process's group of the same id and mode would
 * otherwise share our packets), the others join that id. */
static int join(pcap_t *p, uint16_t *group, bool first, char *err, size_t errlen) {
  int fd = pcap_fileno(p);
  /* The 32-bit option: the group id below, the mode and flags above (the
   * flags' top bit does not fit a signed shift). */
  uint32_t mode = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG;
  uint32_t arg =
      (first ? 0u : *group) | ((mode | (first ? PACKET_FANOUT_FLAG_UNIQUEID : 0u)) << 16);
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0) {
    snprintf(err, errlen, "PACKET_FANOUT: %s", strerror(errno));
    return -1;
  }
  if (first) {
    int got = 0;
    socklen_t len = sizeof got;
    if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &got, &len) < 0) {
      snprintf(err, errlen, "PACKET_FANOUT: %s", strerror(errno));
      return -1;
    }
    *group = (uint16_t)(got & 0xffff);
  }
  return 0;
}

struct cap_source *cap_source_live_group(const struct cap_live_options *opt, size_t n, char *err,
                                         size_t errlen) {
  if (n <= 1)
    return cap_source_live(opt, err, errlen);
  struct cap_source *src = calloc(1, sizeof(*src));
  if (!src || !(src->members = calloc(n, sizeof(*src->members))) ||
      !(src->names = calloc(1, sizeof(*src->names))) || !(src->names[0] = strdup(opt->iface))) {
    snprintf(err, errlen, "%s: out of memory", opt->iface);
    cap_source_free(src);
    return NULL;
  }
  src->count = 1;
  src->live = true;
  uint16_t group = 0;
  char why[256];
  for (size_t i = 0; i < n; i++) {
    struct cap_source *m = cap_source_live(opt, err, errlen);
    if (!m) {
      cap_source_free(src);
      return NULL;
    }
    m->origin = src; /* stopping the group stops each */
    src->members[src->n_members++] = m;
    if (join(m->live_handle, &group, i == 0, why, sizeof why) < 0) {
      snprintf(err, errlen, "%s: -j %zu: %s", opt->iface, n, why);
      cap_source_free(src);
      return NULL;
    }
  }
  return src;
}

size_t cap_source_members(const struct cap_source *src) {
  return src->n_members;
}

/* One member's thread: its own decoder, straight into its flow table. */
struct member_reader {
  _Alignas(64) struct cap_source *src;
  struct flow_table *ft;
  struct cap_stats *stats;
  const struct cap_limits *lim;
  pthread_t thread;
  unsigned warnings;
  int rc;
  char err[512];
};

static void *member_main(void *arg) {
  struct member_reader *r = arg;
  struct cap_decoder *dec = cap_decoder_new(r->lim, r->stats);
  if (!dec) {
    snprintf(r->err, sizeof r->err, "out of memory");
    r->rc = -1;
    return NULL;
  }
  r->rc = cap_source_run(r->src, dec, r->ft, r->stats, &r->warnings, r->err, sizeof r->err);
  cap_decoder_free(dec);
  return NULL;
}

int cap_dispatch_live(struct cap_source *src, const struct cap_limits *lim,
                      struct flow_table **tables, struct cap_stats **own_stats, size_t n,
                      unsigned *warnings, char *err, size_t errlen) {
  if (src->n_members != n) {
    snprintf(err, errlen, "%zu capture handles for %zu threads", src->n_members, n);
    return -1;
  }
  struct member_reader *r = aligned_alloc(64, n * sizeof(*r));
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  memset(r, 0, n * sizeof(*r));
  size_t started = 0;
  int rc = 0;
  /* (No tick: --interval never comes with -j, the settings refuse it.) */
  for (size_t i = 0; i < n; i++)
    r[i] = (struct member_reader){
        .src = src->members[i], .ft = tables[i], .stats = own_stats[i], .lim = lim};
  for (size_t i = 1; i < n; i++, started++)
    if (pthread_create(&r[i].thread, NULL, member_main, &r[i]) != 0) {
      snprintf(err, errlen, "cannot start %zu reader threads", n);
      cap_source_stop(src); /* the ones started stop within a poll */
      rc = -1;
      break;
    }
  if (rc == 0)
    member_main(&r[0]);
  for (size_t i = 1; i <= started; i++)
    pthread_join(r[i].thread, NULL);
  for (size_t i = 0; i < n; i++) {
    *warnings += r[i].warnings;
    if (rc == 0 && r[i].rc < 0) {
      snprintf(err, errlen, "%s", r[i].err);
      rc = -1;
    }
  }
  free(r);
  return rc;
}
