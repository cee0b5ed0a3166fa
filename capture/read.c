/*
 * capture/read.c - the inputs read packet by packet: each record decoded
 * and handed to a sink (a flow table in this thread, or -j's threads),
 * files read into buffers where filebuf.c can (libpcap otherwise), a
 * live interface polled so that ticks and timeouts run while it is quiet,
 * and a stop request (a signal) honoured between packets.
 */
#include "capture/capture.h"
#include "capture/filebuf.h"
#include "capture/source.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* Called from a signal handler: pcap_breakloop is documented as safe there. */
void cap_source_stop(struct cap_source *src) {
  src->stop = 1;
  pcap_t *p = src->reading;
  if (p)
    pcap_breakloop(p);
}

static cap_time_us wall_now(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (cap_time_us)tv.tv_sec * 1000000 + tv.tv_usec;
}

void cap_source_set_tick(struct cap_source *src, cap_time_us interval_us, void (*fn)(void *ctx),
                         void *ctx) {
  src->tick_interval = interval_us;
  src->tick = fn;
  src->tick_ctx = ctx;
  src->next_tick = wall_now() + interval_us;
}

static void maybe_tick(struct cap_source *src) {
  if (!src->tick || src->tick_interval <= 0)
    return;
  cap_time_us now = wall_now();
  if (now < src->next_tick)
    return;
  src->next_tick = now + src->tick_interval;
  src->tick(src->tick_ctx);
}

/* Packet time in microseconds.  A pcapng timestamp (64 bits of units plus
 * a signed if_tsoffset) can be far beyond what int64 microseconds hold:
 * saturate, with headroom for the timeouts added to packet times. */
cap_time_us cap_packet_time(const struct timeval *tv) {
  const int64_t max_sec = INT64_MAX / 1000000 / 2;
  int64_t sec = tv->tv_sec;
  if (sec > max_sec)
    sec = max_sec;
  else if (sec < -max_sec)
    sec = -max_sec;
  return (cap_time_us)sec * 1000000 + tv->tv_usec;
}

/* A live handle is non-blocking: wait at most 100 ms for packets, so ticks
 * and timeouts run on an idle interface too (libpcap's own timeout is not
 * honoured in immediate mode on every platform). */
static void wait_readable(pcap_t *p) {
  int fd = pcap_get_selectable_fd(p);
  if (fd < 0) {
    usleep(10000);
    return;
  }
  struct pollfd pfd = {fd, POLLIN, 0};
  poll(&pfd, 1, 100);
}

bool cap_source_stopping(const struct cap_source *src) {
  return src->stop || (src->origin && src->origin->stop);
}

void cap_source_set_warning_hook(struct cap_source *src, void (*fn)(void *ctx, const char *text),
                                 void *ctx) {
  src->on_warning = fn;
  src->warning_ctx = ctx;
}

void cap_source_read_warning(const struct cap_source *src, uint32_t index, long off,
                             uint64_t frames, const char *why) {
  if (src->quiet)
    return;
  const char *name = cap_source_name(src, index);
  char where[64] = "";
  if (off >= 0)
    snprintf(where, sizeof(where), " at byte offset %ld", off);
  char text[1024];
  snprintf(text, sizeof(text),
           "%s: read stopped%s after %llu packets: %s; the packets before it "
           "are kept",
           name, where, (unsigned long long)frames, why);
  cap_message("warning: %s", text);
  if (src->on_warning)
    src->on_warning(src->warning_ctx, text);
}

/* Read one input to its end.  Returns 0, or -1 when it stopped early on a
 * read error (a truncated file: what was read is kept, a warning names the
 * file and the offset). */
static int read_input(struct cap_source *src, pcap_t *p, struct cap_filebuf *fb, uint32_t index,
                      struct cap_decoder *dec, const struct cap_sink *sink,
                      struct cap_stats *stats) {
  int dlt = pcap_datalink(p);
  uint64_t frame = 0;
  struct pcap_pkthdr *hdr;
  const u_char *data;
  src->reading = p;
  while (!cap_source_stopping(src)) {
    int rc = fb ? cap_filebuf_next(fb, &hdr, &data) : pcap_next_ex(p, &hdr, &data);
    if (fb && rc == 0)
      rc = PCAP_ERROR_BREAK; /* the end of the file */
    maybe_tick(src);
    if (rc == 0) {     /* live, nothing to read: age flows by the clock, wait */
      if (src->dumper) /* -w: what was read is in the file while the capture is quiet */
        pcap_dump_flush(src->dumper);
      sink->idle(sink->ctx, wall_now());
      wait_readable(p);
      continue;
    }
    if (rc == PCAP_ERROR_BREAK)
      break;
    if (rc < 0) {
      FILE *f = src->live || fb ? NULL : pcap_file(p);
      long off = fb ? cap_filebuf_offset(fb) : f ? ftell(f) : -1;
      cap_source_read_warning(src, index, off, frame, fb ? cap_filebuf_error(fb) : pcap_geterr(p));
      src->reading = NULL;
      return -1;
    }
    frame++;
    if (src->dumper) { /* -w: the evidence cites the written file's frame */
      char err[PCAP_ERRBUF_SIZE + 4200];
      if (source_dump(src, hdr, data, err, sizeof(err)) < 0) {
        cap_message("warning: %s: the capture ends here", err);
        if (src->on_warning)
          src->on_warning(src->warning_ctx, err);
        src->dump_failed = true;
        break;
      }
      index = (uint32_t)(src->count - 1);
      frame = src->dump_frames;
    }
    cap_time_us ts = cap_packet_time(&hdr->ts);
    if (!stats->packets || ts < stats->first_ts)
      stats->first_ts = ts;
    if (!stats->packets || ts > stats->last_ts)
      stats->last_ts = ts;
    stats->packets++;
    stats->bytes += hdr->len;
    struct cap_decoder *d = dec;
    if (sink->route) {
      int route = sink->route(sink->ctx, dlt, data, hdr->caplen);
      if (route == CAP_ROUTE_NONE) {
        sink->idle(sink->ctx, cap_packet_time(&hdr->ts));
        continue;
      }
      if (route == CAP_ROUTE_OWN)
        d = sink->own_dec;
    }
    struct cap_packet pkt = {0};
    pkt.file_index = index;
    pkt.frame = frame;
    pkt.ts = ts;
    pkt.wire_len = hdr->len;
    pkt.cap_len = hdr->caplen;
    if (cap_decode(d, dlt, data, hdr->caplen, &pkt) == 1)
      sink->packet(sink->ctx, &pkt);
  }
  src->reading = NULL;
  return 0;
}

static void table_packet(void *ctx, const struct cap_packet *pkt) {
  flow_table_packet(ctx, pkt);
}

static void table_idle(void *ctx, cap_time_us now) {
  flow_table_expire(ctx, now);
}

int cap_source_run(struct cap_source *src, struct cap_decoder *dec, struct flow_table *ft,
                   struct cap_stats *stats, unsigned *warnings, char *err, size_t errlen) {
  struct cap_sink sink = {ft, table_packet, table_idle, NULL, NULL, NULL};
  return cap_source_run_sink(src, dec, &sink, stats, warnings, err, errlen);
}

int cap_source_run_sink(struct cap_source *src, struct cap_decoder *dec,
                        const struct cap_sink *sink, struct cap_stats *stats, unsigned *warnings,
                        char *err, size_t errlen) {
  if (src->live) {
    if (source_dump_begin(src, err, errlen) < 0)
      return -1;
    read_input(src, src->live_handle, NULL, 0, dec, sink, stats);
    if (src->dump_failed)
      (*warnings)++;
    if (source_dump_end(src, err, errlen) < 0) {
      cap_message("warning: %s", err);
      if (src->on_warning)
        src->on_warning(src->warning_ctx, err);
      (*warnings)++;
    }
    struct pcap_stat ps;
    if (pcap_stats(src->live_handle, &ps) == 0) {
      stats->pcap_drops += ps.ps_drop;
      stats->pcap_ifdrops += ps.ps_ifdrop;
    }
    return 0;
  }
  for (size_t i = 0; i < src->count && !cap_source_stopping(src); i++) {
    pcap_t *p = source_open_input(src, i, err, errlen);
    if (!p)
      return -1;
    if (sink->whole_file) {
      int taken = sink->whole_file(sink->ctx, src, p, (uint32_t)i, dec, stats);
      if (taken != 0) {
        if (taken < 0)
          (*warnings)++;
        pcap_close(p);
        continue;
      }
    }
    struct cap_filebuf *fb =
        strcmp(src->names[i], "-") == 0 ? NULL : cap_filebuf_open(p, src->names[i], src->bpf);
    if (read_input(src, p, fb, (uint32_t)i, dec, sink, stats) < 0)
      (*warnings)++;
    cap_filebuf_close(fb);
    pcap_close(p);
  }
  return 0;
}
