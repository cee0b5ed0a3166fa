/*
 * tlsgrade.c - the command line: options, wiring, signals, exit status.
 * The only file that knows every layer.
 */
#include "capture/capture.h"
#include "dissect/dissect.h"
#include "grade/grade.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TLSGRADE_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };
enum mode { MODE_SUMMARY, MODE_FLOWS, MODE_HANDSHAKES };

struct options {
  enum mode mode;
  const char *iface;
  const char *bpf;
  const char *output;
  struct cap_live_options live;
  struct cap_limits limits;
  struct tls_limits tls_limits;
  bool no_ndpi;
};

/* Per run: where flow records go. */
struct run {
  const struct options *opt;
  FILE *out;
  struct cap_source *src;
  uint64_t flows_printed;
  uint64_t handshakes_printed;
  const char **file_names; /* by file_index */
  size_t n_files;
};

static struct cap_source *volatile g_running_source; /* for the signal handler */

static void on_signal(int sig) {
  (void)sig;
  if (g_running_source)
    cap_source_stop(g_running_source);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: tlsgrade [options] PCAP|DIR|- ...\n"
          "       tlsgrade [options] -i IFACE [-f BPF]\n"
          "\n"
          "  --handshakes        one JSON line per TLS connection (like Zeek's ssl.log)\n"
          "  --flows             one JSON line per flow, then a stats line\n"
          "  -i IFACE            capture live from IFACE (stop with Ctrl-C)\n"
          "  -f BPF              capture filter (files and live)\n"
          "  -s SNAPLEN          live snapshot length (default 262144)\n"
          "  -B KIB              live capture buffer size in KiB\n"
          "  -p, --no-promisc    do not put the interface in promiscuous mode\n"
          "  -o FILE             write the output to FILE\n"
          "  --max-flows N       flow table size (oldest flows evicted beyond)\n"
          "  --idle-timeout S    end a flow after S seconds without packets\n"
          "  --no-ndpi           do not classify flows with nDPI\n"
          "  -h, --help          this help\n"
          "  -V, --version       print the version\n");
}

static int parse_number(const char *s, const char *what, long long min, long long max,
                        long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) {
    fprintf(stderr, "tlsgrade: %s: invalid value '%s' (expected %lld..%lld)\n", what, s, min,
            max);
    return -1;
  }
  *out = v;
  return 0;
}

enum { OPT_FLOWS = 256, OPT_HANDSHAKES, OPT_MAX_FLOWS, OPT_IDLE, OPT_NO_NDPI };

static int parse_options(int argc, char **argv, struct options *opt) {
  static const struct option longopts[] = {
      {"flows", no_argument, NULL, OPT_FLOWS},
      {"handshakes", no_argument, NULL, OPT_HANDSHAKES},
      {"interface", required_argument, NULL, 'i'},
      {"filter", required_argument, NULL, 'f'},
      {"snaplen", required_argument, NULL, 's'},
      {"buffer-size", required_argument, NULL, 'B'},
      {"no-promisc", no_argument, NULL, 'p'},
      {"output", required_argument, NULL, 'o'},
      {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
      {"idle-timeout", required_argument, NULL, OPT_IDLE},
      {"no-ndpi", no_argument, NULL, OPT_NO_NDPI},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  long long v;
  int c;
  while ((c = getopt_long(argc, argv, "i:f:s:B:po:hV", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_FLOWS:
      opt->mode = MODE_FLOWS;
      break;
    case OPT_HANDSHAKES:
      opt->mode = MODE_HANDSHAKES;
      break;
    case 'i':
      opt->iface = optarg;
      break;
    case 'f':
      opt->bpf = optarg;
      break;
    case 's':
      if (parse_number(optarg, "-s", 64, 262144, &v) < 0)
        return -1;
      opt->live.snaplen = (int)v;
      break;
    case 'B':
      if (parse_number(optarg, "-B", 1, 4 * 1024 * 1024, &v) < 0)
        return -1;
      opt->live.buffer_size = (int)(v * 1024);
      break;
    case 'p':
      opt->live.promisc = false;
      break;
    case 'o':
      opt->output = optarg;
      break;
    case OPT_MAX_FLOWS:
      if (parse_number(optarg, "--max-flows", 1, 100000000, &v) < 0)
        return -1;
      opt->limits.max_flows = (size_t)v;
      break;
    case OPT_IDLE:
      if (parse_number(optarg, "--idle-timeout", 1, 86400 * 365, &v) < 0)
        return -1;
      opt->limits.idle_timeout = v * 1000000;
      break;
    case OPT_NO_NDPI:
      opt->no_ndpi = true;
      break;
    case 'h':
      usage(stdout);
      exit(EXIT_OK);
    case 'V':
      printf("tlsgrade %s\n", TLSGRADE_VERSION);
      exit(EXIT_OK);
    default:
      usage(stderr);
      return -1;
    }
  }
  if (opt->iface && optind < argc) {
    fprintf(stderr, "tlsgrade: give either -i IFACE or capture files, not both\n");
    return -1;
  }
  if (!opt->iface && optind >= argc) {
    fprintf(stderr, "tlsgrade: no input: give capture files, a directory, '-' or -i IFACE\n");
    usage(stderr);
    return -1;
  }
  return 0;
}

/* ---- --flows: one JSON object per flow ---- */

static cJSON *pair(uint64_t c2s, uint64_t s2c) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "c2s", (double)c2s);
  cJSON_AddNumberToObject(o, "s2c", (double)s2c);
  return o;
}

static void add_time(cJSON *o, const char *key, cap_time_us ts) {
  char buf[CAP_TIME_STRLEN];
  cap_time_str(ts, buf, sizeof(buf));
  cJSON_AddStringToObject(o, key, buf);
}

static const char *end_reason_name(enum flow_end_reason why) {
  switch (why) {
  case FLOW_END_CLOSED:
    return "closed";
  case FLOW_END_IDLE:
    return "idle";
  case FLOW_END_EVICTED:
    return "evicted";
  case FLOW_END_REUSED:
    return "port_reused";
  case FLOW_END_EOF:
    break;
  }
  return "end_of_input";
}

static cJSON *flow_json(const struct flow *f, enum flow_end_reason why) {
  char buf[CAP_ENDPOINT_STRLEN];
  cJSON *o = cJSON_CreateObject();
  cap_endpoint_str(&f->client_addr, f->client_port, buf, sizeof(buf));
  cJSON_AddStringToObject(o, "client", buf);
  cap_endpoint_str(&f->server_addr, f->server_port, buf, sizeof(buf));
  cJSON_AddStringToObject(o, "server", buf);
  cJSON_AddStringToObject(o, "l4", f->l4_proto == 6 ? "tcp" : "udp");
  cJSON_AddStringToObject(o, "app", f->app);
  const struct tcp_counters *c = &f->tcp[FLOW_C2S].count, *s = &f->tcp[FLOW_S2C].count;
  cJSON_AddItemToObject(o, "packets", pair(f->dir[0].packets, f->dir[1].packets));
  cJSON_AddItemToObject(o, "bytes", pair(f->dir[0].bytes, f->dir[1].bytes));
  if (f->l4_proto == 6)
    cJSON_AddItemToObject(o, "stream_bytes", pair(c->stream_bytes, s->stream_bytes));
  else
    cJSON_AddItemToObject(o, "stream_bytes", pair(f->udp_bytes[0], f->udp_bytes[1]));
  cJSON_AddItemToObject(o, "gaps", pair(c->gaps, s->gaps));
  cJSON_AddItemToObject(o, "gap_bytes", pair(c->gap_bytes, s->gap_bytes));
  cJSON_AddItemToObject(o, "out_of_order", pair(c->out_of_order, s->out_of_order));
  cJSON_AddItemToObject(o, "retransmits", pair(c->retransmits, s->retransmits));
  cJSON_AddItemToObject(o, "overlaps", pair(c->overlaps, s->overlaps));
  cJSON_AddItemToObject(o, "overlap_conflicts",
                        pair(c->overlap_conflicts, s->overlap_conflicts));
  add_time(o, "first_ts", f->first_ts);
  add_time(o, "last_ts", f->last_ts);
  cJSON_AddStringToObject(o, "end", end_reason_name(why));
  cJSON_AddBoolToObject(o, "roles_from_syn", f->roles_from_syn);
  return o;
}

static void print_json_line(FILE *out, cJSON *o) {
  char *s = cJSON_PrintUnformatted(o);
  if (s) {
    fputs(s, out);
    fputc('\n', out);
    free(s);
  }
  cJSON_Delete(o);
}

static void on_flow_end_json(void *ctx, struct flow *f, enum flow_end_reason why) {
  struct run *run = ctx;
  print_json_line(run->out, flow_json(f, why));
  run->flows_printed++;
}

/* ---- default summary (until grading exists): one line per flow ---- */

static void on_flow_end_text(void *ctx, struct flow *f, enum flow_end_reason why) {
  struct run *run = ctx;
  char client[CAP_ENDPOINT_STRLEN], server[CAP_ENDPOINT_STRLEN], first[CAP_TIME_STRLEN];
  (void)why;
  if (run->flows_printed++ == 0)
    fprintf(run->out, "%-26s %-47s %-47s %-4s %-16s %9s %12s %12s\n", "first seen", "client",
            "server", "l4", "app", "packets", "c2s bytes", "s2c bytes");
  cap_endpoint_str(&f->client_addr, f->client_port, client, sizeof(client));
  cap_endpoint_str(&f->server_addr, f->server_port, server, sizeof(server));
  cap_time_str(f->first_ts, first, sizeof(first));
  const struct tcp_counters *c = &f->tcp[FLOW_C2S].count, *s = &f->tcp[FLOW_S2C].count;
  uint64_t c2s = f->l4_proto == 6 ? c->stream_bytes : f->udp_bytes[0];
  uint64_t s2c = f->l4_proto == 6 ? s->stream_bytes : f->udp_bytes[1];
  fprintf(run->out, "%-26.26s %-47s %-47s %-4s %-16.16s %9" PRIu64 " %12" PRIu64 " %12" PRIu64
          "%s\n",
          first, client, server, f->l4_proto == 6 ? "tcp" : "udp", f->app,
          f->dir[0].packets + f->dir[1].packets, c2s, s2c,
          c->gaps + s->gaps ? "  (gaps)" : "");
}

static cJSON *stats_json(const struct cap_stats *st, size_t inputs, unsigned warnings) {
  cJSON *s = cJSON_CreateObject();
  cJSON_AddNumberToObject(s, "inputs", (double)inputs);
  cJSON_AddNumberToObject(s, "packets", (double)st->packets);
  cJSON_AddNumberToObject(s, "bytes", (double)st->bytes);
  cJSON_AddNumberToObject(s, "ip_packets", (double)st->ip_packets);
  cJSON_AddNumberToObject(s, "non_ip", (double)st->non_ip);
  cJSON_AddNumberToObject(s, "other_l4", (double)st->other_l4);
  cJSON_AddNumberToObject(s, "malformed", (double)st->malformed);
  cJSON_AddNumberToObject(s, "truncated_by_snaplen", (double)st->truncated);
  cJSON_AddNumberToObject(s, "bad_ip_checksums", (double)st->bad_checksum_ip);
  cJSON_AddNumberToObject(s, "bad_l4_checksums", (double)st->bad_checksum_l4);
  cJSON_AddNumberToObject(s, "fragments", (double)st->fragments);
  cJSON_AddNumberToObject(s, "reassembled_datagrams", (double)st->reassembled);
  cJSON_AddNumberToObject(s, "flows", (double)st->flows);
  cJSON_AddNumberToObject(s, "flows_timed_out", (double)st->flows_timed_out);
  cJSON_AddNumberToObject(s, "evictions", (double)st->evictions);
  cJSON *caps = cJSON_AddObjectToObject(s, "cap_hits");
  cJSON_AddNumberToObject(caps, "tcp_out_of_order", (double)st->cap_tcp_ooo);
  cJSON_AddNumberToObject(caps, "ip_fragments", (double)st->cap_frag);
  cJSON_AddNumberToObject(caps, "fragment_timeouts", (double)st->frag_timeouts);
  cJSON_AddNumberToObject(caps, "flow_evictions", (double)st->evictions);
  cJSON_AddNumberToObject(s, "pcap_drops", (double)st->pcap_drops);
  cJSON_AddNumberToObject(s, "pcap_ifdrops", (double)st->pcap_ifdrops);
  cJSON_AddNumberToObject(s, "warnings", warnings);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "stats", s);
  return o;
}

static void add_tcp_cap_hits(struct cap_stats *st, struct flow *f) {
  st->cap_tcp_ooo += f->tcp[0].count.cap_hits + f->tcp[1].count.cap_hits;
}

struct wiring {
  struct run *run;
  struct cap_stats *stats;
  void (*end)(void *ctx, struct flow *f, enum flow_end_reason why);
};

static void on_flow_end(void *ctx, struct flow *f, enum flow_end_reason why) {
  struct wiring *w = ctx;
  add_tcp_cap_hits(w->stats, f);
  w->end(w->run, f, why);
}

/* ---- --handshakes: capture -> dissect -> one JSON line per connection ---- */

static void on_flow_start_tls(void *ctx, struct flow *f) {
  struct wiring *w = ctx;
  f->user = tls_conn_new(&w->run->opt->tls_limits, f->l4_proto == 17, f->server_port, NULL);
  if (f->user && !f->roles_from_syn)
    tls_conn_roles_guessed(f->user);
}

static void on_flow_data_tls(void *ctx, struct flow *f, int dir, const uint8_t *data, size_t len,
                             uint64_t gap_len, unsigned flags, uint32_t file_index,
                             uint64_t frame, cap_time_us ts) {
  (void)ctx;
  if (f->user && tls_conn_data(f->user, dir, data, len, gap_len, flags, file_index, frame, ts))
    flow_set_skip(f, dir, true);
}

static void on_flow_end_handshake(void *ctx, struct flow *f, enum flow_end_reason why) {
  struct run *run = ctx;
  (void)why;
  if (!f->user)
    return;
  char client[CAP_ENDPOINT_STRLEN], server[CAP_ENDPOINT_STRLEN];
  cap_endpoint_str(&f->client_addr, f->client_port, client, sizeof(client));
  cap_endpoint_str(&f->server_addr, f->server_port, server, sizeof(server));
  const struct tls_session *session = tls_conn_session(f->user);
  struct report_conn conn = {NULL, client, server, run->file_names, run->n_files};
  if (session->roles_swapped) {
    conn.client = server;
    conn.server = client;
  }
  cJSON *o = report_handshake_json(session, &conn);
  if (o) {
    print_json_line(run->out, o);
    run->handshakes_printed++;
  }
  tls_conn_free(f->user);
  f->user = NULL;
}

static int run_capture(const struct options *opt, char **inputs, size_t ninputs) {
  char err[1024] = "";
  struct cap_source *src;
  if (opt->iface) {
    struct cap_live_options live = opt->live;
    live.iface = opt->iface;
    live.bpf = opt->bpf;
    src = cap_source_live(&live, err, sizeof(err));
  } else {
    src = cap_source_files(inputs, ninputs, opt->bpf, err, sizeof(err));
  }
  if (!src) {
    fprintf(stderr, "tlsgrade: %s\n", err);
    return EXIT_RUNTIME;
  }
  if (opt->iface)
    fprintf(stderr, "tlsgrade: listening on %s%s%s (Ctrl-C to stop and report)\n", opt->iface,
            opt->bpf ? ", filter " : "", opt->bpf ? opt->bpf : "");
  FILE *out = stdout;
  if (opt->output && !(out = fopen(opt->output, "w"))) {
    fprintf(stderr, "tlsgrade: %s: %s\n", opt->output, strerror(errno));
    cap_source_free(src);
    return EXIT_RUNTIME;
  }
  struct cap_stats stats = {0};
  struct run run = {.opt = opt, .out = out, .src = src};
  run.n_files = cap_source_count(src);
  run.file_names = calloc(run.n_files ? run.n_files : 1, sizeof(*run.file_names));
  for (size_t i = 0; run.file_names && i < run.n_files; i++)
    run.file_names[i] = cap_source_name(src, i);
  struct wiring w = {&run, &stats, on_flow_end_text};
  struct cap_callbacks cb = {.ctx = &w, .flow_end = on_flow_end};
  if (opt->mode == MODE_FLOWS) {
    w.end = on_flow_end_json;
  } else if (opt->mode == MODE_HANDSHAKES) {
    w.end = on_flow_end_handshake;
    cb.flow_start = on_flow_start_tls;
    cb.flow_data = on_flow_data_tls;
  }
  struct cap_decoder *dec = cap_decoder_new(&opt->limits, &stats);
  struct flow_table *ft = flow_table_new(&opt->limits, &stats, &cb, !opt->no_ndpi);
  int status = EXIT_OK;
  unsigned warnings = 0;
  if (!dec || !ft) {
    fprintf(stderr, "tlsgrade: out of memory\n");
    status = EXIT_RUNTIME;
  } else {
    g_running_source = src;
    if (cap_source_run(src, dec, ft, &stats, &warnings, err, sizeof(err)) < 0) {
      fprintf(stderr, "tlsgrade: %s\n", err);
      status = EXIT_RUNTIME;
    }
    g_running_source = NULL;
    if (warnings && status == EXIT_OK)
      status = EXIT_RUNTIME; /* the input was incomplete: say so in the status too */
  }
  flow_table_free(ft); /* ends the remaining flows: they are printed */
  cap_decoder_free(dec);
  if (opt->mode == MODE_FLOWS) {
    print_json_line(out, stats_json(&stats, cap_source_count(src), warnings));
  } else if (opt->mode == MODE_HANDSHAKES) {
    if (run.handshakes_printed == 0)
      fprintf(stderr, "tlsgrade: no TLS handshake in the input\n");
  } else {
    if (run.flows_printed == 0)
      fprintf(out, "no TCP or UDP flows in the input\n");
    fprintf(out,
            "\n%" PRIu64 " packets, %" PRIu64 " flows in %zu input%s; %u warning%s\n",
            stats.packets, stats.flows, cap_source_count(src),
            cap_source_count(src) == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
  }
  if (out != stdout && fclose(out) != 0) {
    fprintf(stderr, "tlsgrade: %s: %s\n", opt->output, strerror(errno));
    status = EXIT_RUNTIME;
  } else if (out == stdout && fflush(stdout) != 0) {
    status = EXIT_RUNTIME;
  }
  free(run.file_names);
  cap_source_free(src);
  return status;
}

int main(int argc, char **argv) {
  struct options opt = {0};
  opt.live.snaplen = 262144;
  opt.live.promisc = true;
  opt.live.immediate = true;
  cap_limits_default(&opt.limits);
  tls_limits_default(&opt.tls_limits);
  if (parse_options(argc, argv, &opt) < 0)
    return EXIT_USAGE;
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return run_capture(&opt, argv + optind, (size_t)(argc - optind));
}
