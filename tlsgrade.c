/*
 * tlsgrade.c - the command line: options, wiring, signals, exit status.
 * The only file that knows every layer.
 *
 *   tlsgrade [options] PCAP|DIR|- ...   grade every server seen (default)
 *   tlsgrade --handshakes ...           one JSON line per TLS connection
 *   tlsgrade --flows ...                one JSON line per flow
 *   tlsgrade merge EVIDENCE...          grade saved evidence
 */
#include "capture/capture.h"
#include "dissect/dissect.h"
#include "grade/grade.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_BELOW = 3 };
enum mode { MODE_GRADE, MODE_FLOWS, MODE_HANDSHAKES };
enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_HTML };

struct options {
  enum mode mode;
  enum format format;
  bool merge;
  const char *iface;
  const char *bpf;
  const char *output;
  const char *save_evidence;
  const char *fail_below;
  const char *ca_file, *ca_path;
  const char **weak_keys; /* --weak-keys paths (into argv) */
  size_t n_weak_keys;
  size_t max_weak_keys;  /* --limit weak-keys */
  const char *drop_user; /* -Z: live capture runs as this user (root: keep) */
  long long interval;    /* --interval: rewrite the report every N seconds */
  long long jobs;        /* -j: worker threads (1: everything in this thread) */
  int color;             /* -1 auto (a TTY), 0 off */
  bool summary_only;
  struct cap_live_options live;
  struct cap_limits limits;
  struct tls_limits tls_limits;
  bool no_ndpi;
  char **keylog_files; /* --keylog, in order (argv strings) */
  size_t n_keylog_files;
};

/* Per run: where records go, what the dissector and grader accumulate. */
struct run {
  const struct options *opt;
  FILE *out;
  struct cap_stats *stats;
  uint64_t flows_printed, handshakes_printed, tls_connections;
  uint64_t cap_handshake, cap_chain;
  const char **file_names; /* by file_index */
  size_t n_files;
  struct ev_store *ev;                      /* MODE_GRADE */
  struct x509_cache *certs;                 /* certificates already read */
  struct x509_store *trust;                 /* MODE_GRADE, NULL when not loaded */
  const struct x509_weak_keys *weak_keys;   /* NULL: none given */
  const struct tls_keylog *keylog;          /* --keylog, NULL without */
  uint64_t decrypt[TLS_DECRYPT_FAILED + 1]; /* connections by decryption status */
};

static struct cap_source *volatile g_running_source; /* for the signal handler */
static volatile sig_atomic_t g_stop_requested;       /* a signal came, maybe early */

static void on_signal(int sig) {
  (void)sig;
  g_stop_requested = 1;
  if (g_running_source)
    cap_source_stop(g_running_source);
}

static void usage(FILE *f) {
  fprintf(f, "usage: tlsgrade [options] PCAP|DIR|- ...\n"
             "       tlsgrade [options] -i IFACE [-f BPF]\n"
             "       tlsgrade merge [options] EVIDENCE.json ...\n"
             "\n"
             "  --format text|json|html   report format (default text)\n"
             "  -o FILE                   write the report to FILE\n"
             "  --no-color                no colour in the text report\n"
             "  --summary                 text report: the summary table only\n"
             "  --fail-below GRADE        exit status 3 when a server grades below GRADE\n"
             "  --save-evidence FILE      save the evidence (for tlsgrade merge)\n"
             "  --interval SECONDS        rewrite the report (-o) and evidence atomically\n"
             "                            every SECONDS while capturing live\n"
             "  --ca-file FILE            trust anchors (PEM) instead of the system store\n"
             "  --ca-path DIR             trust anchors directory (c_rehash layout)\n"
             "  --weak-keys PATH          Debian weak-key list: a blacklist.RSA-<bits> file or a\n"
             "                            directory of them (openssl-blacklist); repeatable\n"
             "  --keylog FILE             decrypt with this key log (SSLKEYLOGFILE format);\n"
             "                            may be given several times\n"
             "  --handshakes              one JSON line per TLS connection (like Zeek's ssl.log)\n"
             "  --flows                   one JSON line per flow, then a stats line\n"
             "  -i IFACE                  capture live from IFACE (Ctrl-C ends and reports)\n"
             "  -Z USER                   after opening IFACE, run as USER (default nobody\n"
             "                            when started as root; -Z root keeps root)\n"
             "  -f BPF                    capture filter (files and live)\n"
             "  -s SNAPLEN                live snapshot length (default 262144)\n"
             "  -B KIB                    live capture buffer size in KiB\n"
             "  -p, --no-promisc          do not put the interface in promiscuous mode\n"
             "  --max-flows N             flow table size (oldest flows evicted beyond)\n"
             "  --limit NAME=N            set a cap (README: Limits), e.g. tcp-ooo-bytes=65536\n"
             "  --idle-timeout S          end a flow after S seconds without packets\n"
             "  --no-ndpi                 --flows: do not classify flows with nDPI\n"
             "  -j N                      N threads (a pcap file shared out by byte ranges,\n"
             "                            flows by address; grading and report too)\n"
             "  -h, --help                this help\n"
             "  -V, --version             print the version\n");
}

static int parse_number(const char *s, const char *what, long long min, long long max,
                        long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) {
    fprintf(stderr, "tlsgrade: %s: invalid value '%s' (expected %lld..%lld)\n", what, s, min, max);
    return -1;
  }
  *out = v;
  return 0;
}

enum {
  OPT_FLOWS = 256,
  OPT_HANDSHAKES,
  OPT_MAX_FLOWS,
  OPT_IDLE,
  OPT_NO_NDPI,
  OPT_FORMAT,
  OPT_LIMIT,
  OPT_NO_COLOR,
  OPT_SUMMARY,
  OPT_FAIL_BELOW,
  OPT_SAVE_EVIDENCE,
  OPT_CA_FILE,
  OPT_CA_PATH,
  OPT_INTERVAL,
  OPT_WEAK_KEYS,
  OPT_KEYLOG
};

static int parse_format(const char *s, enum format *f) {
  if (strcmp(s, "text") == 0)
    *f = FORMAT_TEXT;
  else if (strcmp(s, "json") == 0)
    *f = FORMAT_JSON;
  else if (strcmp(s, "html") == 0)
    *f = FORMAT_HTML;
  else {
    fprintf(stderr, "tlsgrade: --format: '%s' is not text, json or html\n", s);
    return -1;
  }
  return 0;
}

static bool valid_grade(const char *g) {
  static const char *const ok[] = {"A+", "A", "A-", "B", "C", "D", "E", "F"};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    if (strcmp(g, ok[i]) == 0)
      return true;
  return false;
}

/* --limit NAME=N: every cap is configurable (README "Limits"). */
static int parse_limit(const char *arg, struct options *opt) {
  static const struct {
    const char *name;
    size_t offset; /* into struct options */
    long long min, max;
  } caps[] = {
      {"flows", offsetof(struct options, limits.max_flows), 1, 100000000},
      {"tcp-ooo-bytes", offsetof(struct options, limits.tcp_ooo_bytes), 0, 1LL << 32},
      {"tcp-ooo-segments", offsetof(struct options, limits.tcp_ooo_segments), 0, 1 << 24},
      {"reassembly-bytes", offsetof(struct options, limits.reasm_total_bytes), 0, 1LL << 40},
      {"fragment-datagrams", offsetof(struct options, limits.frag_datagrams), 0, 1 << 24},
      {"fragment-bytes", offsetof(struct options, limits.frag_bytes), 0, 1LL << 36},
      {"handshake-bytes", offsetof(struct options, tls_limits.max_handshake_bytes), 1024, 1 << 28},
      {"chain-certs", offsetof(struct options, tls_limits.max_chain_len), 1, 1024},
      {"cert-bytes", offsetof(struct options, tls_limits.max_cert_bytes), 1024, 1 << 26},
      {"weak-keys", offsetof(struct options, max_weak_keys), 0, 1LL << 30},
  };
  const char *eq = strchr(arg, '=');
  for (size_t i = 0; eq && i < sizeof(caps) / sizeof(caps[0]); i++) {
    if (strlen(caps[i].name) != (size_t)(eq - arg) || strncmp(arg, caps[i].name, eq - arg) != 0)
      continue;
    long long v;
    if (parse_number(eq + 1, caps[i].name, caps[i].min, caps[i].max, &v) < 0)
      return -1;
    *(size_t *)((char *)opt + caps[i].offset) = (size_t)v;
    return 0;
  }
  fprintf(stderr,
          "tlsgrade: --limit: '%s' is not NAME=N with NAME one of flows, "
          "tcp-ooo-bytes, tcp-ooo-segments, reassembly-bytes, fragment-datagrams, "
          "fragment-bytes, handshake-bytes, chain-certs, cert-bytes, weak-keys\n",
          arg);
  return -1;
}

static int parse_one(int c, struct options *opt) {
  long long v;
  switch (c) {
  case OPT_FLOWS:
    opt->mode = MODE_FLOWS;
    break;
  case OPT_HANDSHAKES:
    opt->mode = MODE_HANDSHAKES;
    break;
  case OPT_FORMAT:
    return parse_format(optarg, &opt->format);
  case OPT_NO_COLOR:
    opt->color = 0;
    break;
  case OPT_SUMMARY:
    opt->summary_only = true;
    break;
  case OPT_SAVE_EVIDENCE:
    opt->save_evidence = optarg;
    break;
  case OPT_CA_FILE:
    opt->ca_file = optarg;
    break;
  case OPT_CA_PATH:
    opt->ca_path = optarg;
    break;
  case OPT_WEAK_KEYS:
    opt->weak_keys[opt->n_weak_keys++] = optarg;
    break;
  case OPT_NO_NDPI:
    opt->no_ndpi = true;
    break;
  case OPT_KEYLOG: {
    char **files = realloc(opt->keylog_files, (opt->n_keylog_files + 1) * sizeof(*files));
    if (!files) {
      fprintf(stderr, "tlsgrade: out of memory\n");
      return -1;
    }
    files[opt->n_keylog_files++] = optarg;
    opt->keylog_files = files;
    break;
  }
  case 'i':
    opt->iface = optarg;
    break;
  case 'f':
    opt->bpf = optarg;
    break;
  case 'o':
    opt->output = optarg;
    break;
  case 'Z':
    opt->drop_user = optarg;
    break;
  case 'j':
    if (parse_number(optarg, "-j", 1, 64, &v) < 0)
      return -1;
    opt->jobs = v;
    break;
  case 'p':
    opt->live.promisc = false;
    break;
  case OPT_FAIL_BELOW:
    if (!valid_grade(optarg)) {
      fprintf(stderr, "tlsgrade: --fail-below: '%s' is not a grade (A+, A, A-, B..F)\n", optarg);
      return -1;
    }
    opt->fail_below = optarg;
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
  case OPT_INTERVAL:
    if (parse_number(optarg, "--interval", 1, 86400 * 7, &v) < 0)
      return -1;
    opt->interval = v;
    break;
  case OPT_LIMIT:
    return parse_limit(optarg, opt);
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
  return 0;
}

static int parse_options(int argc, char **argv, struct options *opt) {
  static const struct option longopts[] = {
      {"flows", no_argument, NULL, OPT_FLOWS},
      {"handshakes", no_argument, NULL, OPT_HANDSHAKES},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"no-color", no_argument, NULL, OPT_NO_COLOR},
      {"summary", no_argument, NULL, OPT_SUMMARY},
      {"fail-below", required_argument, NULL, OPT_FAIL_BELOW},
      {"save-evidence", required_argument, NULL, OPT_SAVE_EVIDENCE},
      {"interval", required_argument, NULL, OPT_INTERVAL},
      {"ca-file", required_argument, NULL, OPT_CA_FILE},
      {"ca-path", required_argument, NULL, OPT_CA_PATH},
      {"weak-keys", required_argument, NULL, OPT_WEAK_KEYS},
      {"interface", required_argument, NULL, 'i'},
      {"filter", required_argument, NULL, 'f'},
      {"snaplen", required_argument, NULL, 's'},
      {"buffer-size", required_argument, NULL, 'B'},
      {"no-promisc", no_argument, NULL, 'p'},
      {"output", required_argument, NULL, 'o'},
      {"user", required_argument, NULL, 'Z'},
      {"jobs", required_argument, NULL, 'j'},
      {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
      {"limit", required_argument, NULL, OPT_LIMIT},
      {"idle-timeout", required_argument, NULL, OPT_IDLE},
      {"no-ndpi", no_argument, NULL, OPT_NO_NDPI},
      {"keylog", required_argument, NULL, OPT_KEYLOG},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "i:f:s:B:po:Z:j:hV", longopts, NULL)) != -1)
    if (parse_one(c, opt) < 0)
      return -1;
  if (opt->iface && optind < argc) {
    fprintf(stderr, "tlsgrade: give either -i IFACE or capture files, not both\n");
    return -1;
  }
  if (!opt->iface && optind >= argc) {
    fprintf(stderr, "tlsgrade: no input: give %s\n",
            opt->merge ? "evidence files" : "capture files, a directory, '-' or -i IFACE");
    usage(stderr);
    return -1;
  }
  if (opt->interval && opt->jobs > 1) {
    fprintf(stderr, "tlsgrade: --interval works with one thread only (no -j)\n");
    return -1;
  }
  if (opt->interval && (!opt->iface || !opt->output || opt->mode != MODE_GRADE)) {
    fprintf(stderr, "tlsgrade: --interval needs a live capture (-i) and a report file (-o)\n");
    return -1;
  }
  if (opt->merge && opt->n_keylog_files) {
    fprintf(stderr, "tlsgrade: merge: --keylog applies to captures, not to evidence\n");
    return -1;
  }
  if (opt->merge && (opt->iface || opt->mode != MODE_GRADE)) {
    fprintf(stderr, "tlsgrade: merge grades evidence files only\n");
    return -1;
  }
  if (opt->merge && opt->n_weak_keys) {
    fprintf(stderr, "tlsgrade: --weak-keys applies when certificates are read (captures), "
                    "not to merge: the evidence already holds the verdicts\n");
    return -1;
  }
  return 0;
}

/* ---- --flows ---- */

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
  static const char *const names[] = {"closed", "idle", "evicted", "port_reused", "end_of_input"};
  return names[why];
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
  cJSON_AddItemToObject(o, "overlap_conflicts", pair(c->overlap_conflicts, s->overlap_conflicts));
  add_time(o, "first_ts", f->first_ts);
  add_time(o, "last_ts", f->last_ts);
  cJSON_AddStringToObject(o, "end", end_reason_name(why));
  cJSON_AddBoolToObject(o, "roles_from_syn", f->roles_from_syn);
  return o;
}

static void print_json_line(FILE *out, cJSON *o) {
  char *s = cJSON_PrintUnformatted(o);
  if (s) {
    fprintf(out, "%s\n", s); /* one call: lines of -j workers never interleave */
    free(s);
  }
  cJSON_Delete(o);
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
  if (st->ndpi_unavailable)
    cJSON_AddNumberToObject(s, "ndpi_unavailable", (double)st->ndpi_unavailable);
  cJSON_AddNumberToObject(s, "warnings", warnings);
  return s;
}

/* Every cap, its setting and how often it was hit (architecture: limits). */
static cJSON *limits_json(const struct options *opt, const struct cap_stats *st,
                          const struct run *run) {
  cJSON *l = cJSON_CreateObject();
  struct {
    const char *name;
    double limit, hits;
  } rows[] = {
      {"flows", (double)opt->limits.max_flows, (double)st->evictions},
      {"tcp_out_of_order_bytes_per_stream", (double)opt->limits.tcp_ooo_bytes,
       (double)st->cap_tcp_ooo},
      {"tcp_out_of_order_bytes_all_streams", (double)opt->limits.reasm_total_bytes,
       (double)st->cap_reasm_total},
      {"ip_fragment_datagrams_and_bytes", (double)opt->limits.frag_datagrams, (double)st->cap_frag},
      {"ip_fragment_timeout_s", (double)(opt->limits.frag_timeout / 1000000),
       (double)st->frag_timeouts},
      {"handshake_bytes_per_direction", (double)opt->tls_limits.max_handshake_bytes,
       (double)run->cap_handshake},
      {"certificates_per_chain", (double)opt->tls_limits.max_chain_len, (double)run->cap_chain},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    cJSON *o = cJSON_AddObjectToObject(l, rows[i].name);
    cJSON_AddNumberToObject(o, "limit", rows[i].limit);
    cJSON_AddNumberToObject(o, "hits", rows[i].hits);
  }
  return l;
}

/* ---- flow callbacks ---- */

/* What tlsgrade keeps per flow (flow->user). */
struct conn_state {
  struct tls_conn *tls;
  struct http_conn *http; /* clear-text HTTP, when the client spoke it */
  bool http_checked;
  bool accounted; /* its session is already in the evidence */
};

static void on_flow_end_json(struct run *run, struct flow *f, enum flow_end_reason why) {
  print_json_line(run->out, flow_json(f, why));
  run->flows_printed++;
}

/* The dissector's state is made at a flow's first payload: a flood of
 * SYNs costs flow entries only. */
static struct conn_state *conn_state_for(struct run *run, struct flow *f) {
  if (f->user)
    return f->user;
  struct conn_state *cs = calloc(1, sizeof(*cs));
  if (!cs)
    return NULL;
  cs->tls = tls_conn_new(&run->opt->tls_limits, f->l4_proto == 17, f->server_port);
  if (!cs->tls) {
    free(cs);
    return NULL;
  }
  if (!f->roles_from_syn)
    tls_conn_roles_guessed(cs->tls);
  tls_conn_set_cert_cache(cs->tls, run->certs);
  if (run->opt->mode != MODE_HANDSHAKES)
    tls_conn_skip_ja4(cs->tls); /* printed by --handshakes only */
  if (run->keylog)
    tls_conn_set_keylog(cs->tls, run->keylog);
  f->user = cs;
  return cs;
}

static void on_flow_data_tls(void *ctx, struct flow *f, int dir, const uint8_t *data, size_t len,
                             uint64_t gap_len, unsigned flags, uint32_t file_index, uint64_t frame,
                             cap_time_us ts) {
  struct run *run = ctx;
  struct conn_state *cs = conn_state_for(run, f);
  if (!cs || !cs->tls) /* released when the flow closed: late packets add nothing */
    return;
  if (run->opt->mode == MODE_GRADE && !cs->http_checked && dir == FLOW_C2S && data && len) {
    cs->http_checked = true;
    if (f->l4_proto == 6 && http_looks_like_request(data, len))
      cs->http = http_conn_new();
  }
  if (cs->http && data) {
    struct tls_at at = {file_index, frame, ts};
    http_conn_data(cs->http, dir, data, len, &at);
  }
  if (tls_conn_data(cs->tls, dir, data, len, gap_len, flags, file_index, frame, ts) && !cs->http)
    flow_set_skip(f, dir, true);
  else if (!cs->http)
    flow_set_headers_only(f, dir, tls_conn_headers_only(cs->tls, dir));
}

static void session_done(struct run *run, struct flow *f, const struct tls_session *s) {
  run->cap_handshake += s->cap_handshake;
  run->cap_chain += s->cap_chain;
  if (s->is_tls)
    run->tls_connections++;
  if (s->decryption.status <= TLS_DECRYPT_FAILED)
    run->decrypt[s->decryption.status]++;
  if (run->opt->mode == MODE_HANDSHAKES) {
    char client[CAP_ENDPOINT_STRLEN], server[CAP_ENDPOINT_STRLEN];
    cap_endpoint_str(&f->client_addr, f->client_port, client, sizeof(client));
    cap_endpoint_str(&f->server_addr, f->server_port, server, sizeof(server));
    struct report_conn conn = {NULL,
                               s->roles_swapped ? server : client,
                               s->roles_swapped ? client : server,
                               run->file_names,
                               run->n_files,
                               run->trust,
                               run->ev};
    cJSON *o = report_handshake_json(s, &conn);
    if (o) {
      print_json_line(run->out, o);
      run->handshakes_printed++;
    }
    return;
  }
  const struct cap_addr *addr = s->roles_swapped ? &f->client_addr : &f->server_addr;
  uint16_t port = s->roles_swapped ? f->client_port : f->server_port;
  char ip[CAP_ENDPOINT_STRLEN];
  cap_endpoint_str(addr, 0, ip, sizeof(ip));
  char *colon = strrchr(ip, ':'); /* drop ":0", and the brackets of IPv6 */
  if (colon)
    *colon = '\0';
  const char *bare = ip;
  if (ip[0] == '[') {
    bare = ip + 1;
    ip[strlen(ip) - 1] = '\0';
  }
  struct ev_conn conn = {bare, port, run->file_names, run->n_files, run->trust};
  ev_add_session(run->ev, s, &conn);
  struct conn_state *cs = f->user;
  if (cs && cs->http)
    ev_add_http(run->ev, http_conn_facts(cs->http), &conn);
}

static void on_flow_end(void *ctx, struct flow *f, enum flow_end_reason why) {
  struct run *run = ctx;
  run->stats->cap_tcp_ooo += f->tcp[0].count.cap_hits + f->tcp[1].count.cap_hits;
  if (run->opt->mode == MODE_FLOWS) {
    on_flow_end_json(run, f, why);
    return;
  }
  struct conn_state *cs = f->user;
  if (!cs)
    return;
  if (!cs->accounted)
    session_done(run, f, tls_conn_session(cs->tls));
  tls_conn_free(cs->tls);
  http_conn_free(cs->http);
  free(cs);
  f->user = NULL;
}

/* A closed connection is graded (or printed) at once, so periodic reports
 * see it, and its dissector state is released: the flow lingers for late
 * packets (close timeout) that add nothing, and a capture spanning less
 * than that timeout would otherwise keep every connection's state to the
 * end.  Data still held behind a hole may yet be delivered by a
 * retransmission: such a connection keeps its state until the flow ends. */
static void on_flow_closing(void *ctx, struct flow *f) {
  struct run *run = ctx;
  struct conn_state *cs = f->user;
  if (!cs || cs->accounted || run->opt->mode == MODE_FLOWS || f->tcp[0].held_bytes ||
      f->tcp[1].held_bytes)
    return;
  session_done(run, f, tls_conn_session(cs->tls));
  cs->accounted = true;
  tls_conn_free(cs->tls);
  http_conn_free(cs->http);
  cs->tls = NULL;
  cs->http = NULL;
  flow_set_skip(f, FLOW_C2S, true);
  flow_set_skip(f, FLOW_S2C, true);
}

/* ---- grading and reports ---- */

static int compare_results(const void *a, const void *b) {
  const struct grade_result *x = *(const struct grade_result *const *)a;
  const struct grade_result *y = *(const struct grade_result *const *)b;
  int c = grade_letter_cmp(y->letter, x->letter); /* worst first */
  if (!c)
    c = strcmp(x->ep->host, y->ep->host);
  return c ? c : (x > y) - (x < y); /* then the store's order: qsort need not be stable */
}

/* Grade every endpoint and write the report; returns the exit status. */
static int write_report(const struct options *opt, FILE *out, const struct ev_store *ev,
                        const char *const *inputs, size_t n_inputs, cJSON *limits, cJSON *stats) {
  ev_derive_facts((struct ev_store *)ev); /* derived facts are never saved */
  size_t most = ev_count(ev) ? ev_count(ev) : 1;
  struct grade_result *r = calloc(most, sizeof(*r));
  const struct ev_endpoint **eps = calloc(most, sizeof(*eps));
  /* The report's order: pointers sorted, so no 5 kB result moves. */
  const struct grade_result **order = calloc(most, sizeof(*order));
  if (!r || !eps || !order) {
    free(r);
    free(eps);
    free(order);
    return EXIT_RUNTIME;
  }
  size_t n = 0;
  for (size_t i = 0; i < ev_count(ev); i++) {
    const struct ev_endpoint *ep = ev_endpoint_at(ev, i);
    if (ev_find(ep, "handshakes")) /* else a plain-http endpoint: its facts went to its TLS ones */
      eps[n++] = ep;
  }
  grade_endpoints(eps, n, r, (unsigned)opt->jobs);
  free(eps);
  for (size_t i = 0; i < n; i++)
    order[i] = &r[i];
  qsort(order, n, sizeof(*order), compare_results);
  struct report_meta meta = {inputs, n_inputs, limits, stats, (unsigned)opt->jobs};
  if (opt->format == FORMAT_JSON) {
    report_json(out, order, n, &meta);
  } else if (opt->format == FORMAT_HTML) {
    report_html(out, order, n, &meta);
  } else {
    bool color = opt->color < 0 ? (out == stdout && isatty(STDOUT_FILENO)) : opt->color > 0;
    report_text(out, order, n, &meta, color, !opt->summary_only);
  }
  int status = EXIT_OK;
  for (size_t i = 0; opt->fail_below && i < n; i++)
    if (r[i].graded && grade_letter_cmp(r[i].letter, opt->fail_below) > 0)
      status = EXIT_BELOW;
  free(order);
  free(r);
  return status;
}

static FILE *open_output(const struct options *opt) {
  if (!opt->output)
    return stdout;
  FILE *out = fopen(opt->output, "w");
  if (!out && errno == EACCES && opt->iface && getuid() != 0)
    fprintf(stderr,
            "tlsgrade: %s: %s (the capture runs as uid %u after -Z; write the "
            "report where that user may, or use -Z root)\n",
            opt->output, strerror(errno), (unsigned)getuid());
  else if (!out)
    fprintf(stderr, "tlsgrade: %s: %s\n", opt->output, strerror(errno));
  return out;
}

static int close_output(const struct options *opt, FILE *out, int status) {
  if (out != stdout && fclose(out) != 0) {
    fprintf(stderr, "tlsgrade: %s: %s\n", opt->output, strerror(errno));
    return EXIT_RUNTIME;
  }
  if (out == stdout && fflush(stdout) != 0)
    return EXIT_RUNTIME;
  return status;
}

static int save_evidence(const struct options *opt, const struct ev_store *ev) {
  char err[512];
  if (opt->save_evidence && ev_save(ev, opt->save_evidence, err, sizeof(err)) < 0) {
    fprintf(stderr, "tlsgrade: --save-evidence: %s\n", err);
    return -1;
  }
  return 0;
}

static int run_merge(const struct options *opt, char **files, size_t n) {
  char err[1024];
  struct ev_store *all = ev_store_new();
  for (size_t i = 0; all && i < n; i++) {
    struct ev_store *one = ev_load(files[i], err, sizeof(err));
    if (!one) {
      fprintf(stderr, "tlsgrade: %s\n", err);
      ev_store_free(all);
      return EXIT_RUNTIME;
    }
    int rc = ev_merge(all, one);
    ev_store_free(one);
    if (rc < 0) {
      fprintf(stderr, "tlsgrade: out of memory merging %s\n", files[i]);
      ev_store_free(all);
      return EXIT_RUNTIME;
    }
  }
  FILE *out = open_output(opt);
  int status = EXIT_RUNTIME;
  if (all && out && save_evidence(opt, all) == 0)
    status = write_report(opt, out, all, (const char *const *)files, n, NULL, NULL);
  if (out)
    status = close_output(opt, out, status);
  ev_store_free(all);
  return status;
}

static struct cap_source *open_source(const struct options *opt, char **inputs, size_t n) {
  char err[1024] = "";
  struct cap_source *src;
  if (opt->iface) {
    struct cap_live_options live = opt->live;
    live.iface = opt->iface;
    live.bpf = opt->bpf;
    src = cap_source_live(&live, err, sizeof(err));
  } else {
    src = cap_source_files(inputs, n, opt->bpf, err, sizeof(err));
  }
  if (!src)
    fprintf(stderr, "tlsgrade: %s\n", err);
  else if (opt->iface)
    fprintf(stderr, "tlsgrade: listening on %s%s%s (Ctrl-C to stop and report)\n", opt->iface,
            opt->bpf ? ", filter " : "", opt->bpf ? opt->bpf : "");
  return src;
}

/* With --keylog: how many connections each decryption outcome had. */
static void add_decrypt_stats(cJSON *stats, const struct run *run) {
  if (!run->keylog)
    return;
  cJSON *d = cJSON_AddObjectToObject(stats, "decryption");
  cJSON_AddNumberToObject(d, "keylog_connections", (double)tls_keylog_count(run->keylog));
  cJSON_AddNumberToObject(d, "decrypted", (double)run->decrypt[TLS_DECRYPT_OK]);
  cJSON_AddNumberToObject(d, "failed", (double)run->decrypt[TLS_DECRYPT_FAILED]);
  cJSON_AddNumberToObject(d, "no_keys", (double)run->decrypt[TLS_DECRYPT_NO_KEYS]);
  cJSON_AddNumberToObject(d, "unsupported", (double)run->decrypt[TLS_DECRYPT_UNSUPPORTED]);
}

/* Every --keylog file into one table; an unreadable file is an error, a
 * bad line only a warning (the rest of the file still counts). */
static struct tls_keylog *load_keylogs(const struct options *opt) {
  struct tls_keylog *kl = tls_keylog_new();
  if (!kl) {
    fprintf(stderr, "tlsgrade: out of memory\n");
    return NULL;
  }
  for (size_t i = 0; i < opt->n_keylog_files; i++) {
    struct tls_keylog_stats st;
    char err[1024];
    if (tls_keylog_load(kl, opt->keylog_files[i], &st, err, sizeof(err)) < 0) {
      fprintf(stderr, "tlsgrade: --keylog: %s\n", err);
      tls_keylog_free(kl);
      return NULL;
    }
    if (st.bad)
      fprintf(stderr,
              "tlsgrade: --keylog: %s: %zu line(s) not in key log format (first: line "
              "%zu), ignored\n",
              opt->keylog_files[i], st.bad, st.first_bad_line);
    if (!st.secrets)
      fprintf(stderr,
              "tlsgrade: --keylog: %s: no usable secret (CLIENT_RANDOM or TLS 1.3 "
              "traffic secrets)\n",
              opt->keylog_files[i]);
  }
  return kl;
}

/* --interval: grade what has ended so far and replace the report file in
 * one rename, so a reader never sees half a report. */
static int atomic_report(struct run *run, unsigned warnings) {
  const struct options *opt = run->opt;
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", opt->output);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    fprintf(stderr, "tlsgrade: %s: %s\n", tmp, strerror(errno));
    return EXIT_RUNTIME;
  }
  cJSON *stats = stats_json(run->stats, run->n_files, warnings);
  cJSON_AddNumberToObject(stats, "tls_connections", (double)run->tls_connections);
  add_decrypt_stats(stats, run);
  cJSON *limits = limits_json(opt, run->stats, run);
  int status = write_report(opt, f, run->ev, run->file_names, run->n_files, limits, stats);
  cJSON_Delete(stats);
  cJSON_Delete(limits);
  if (fclose(f) != 0 || rename(tmp, opt->output) != 0) {
    fprintf(stderr, "tlsgrade: %s: %s\n", opt->output, strerror(errno));
    status = EXIT_RUNTIME;
  }
  if (save_evidence(opt, run->ev) < 0)
    status = EXIT_RUNTIME;
  return status;
}

static void interval_report(void *ctx) {
  atomic_report(ctx, 0);
}

/* ---- -j N ---- */

/* What a worker thread owns: its own run (evidence, counters, flow
 * statistics; the certificate cache and trust memo are shared) and flow
 * table. */
struct worker_run {
  /* Aligned, so the array's elements start on cache lines of their own:
   * one worker's counters never share a line with another's. */
  _Alignas(64) struct run run;
  struct cap_stats stats;
  struct flow_table *ft;
};

static void add_stats(struct cap_stats *into, const struct cap_stats *from) {
  /* every field of struct cap_stats is a uint64_t counter */
  uint64_t *dst = (uint64_t *)(void *)into;
  const uint64_t *src = (const uint64_t *)(const void *)from;
  for (size_t i = 0; i < sizeof(*into) / sizeof(uint64_t); i++)
    dst[i] += src[i];
}

static void worker_fold(struct run *run, struct worker_run *w) {
  add_stats(run->stats, &w->stats);
  run->flows_printed += w->run.flows_printed;
  run->handshakes_printed += w->run.handshakes_printed;
  run->tls_connections += w->run.tls_connections;
  run->cap_handshake += w->run.cap_handshake;
  run->cap_chain += w->run.cap_chain;
  for (size_t i = 0; i <= TLS_DECRYPT_FAILED; i++)
    run->decrypt[i] += w->run.decrypt[i];
  if (run->ev && w->run.ev && ev_merge_move(run->ev, w->run.ev) < 0)
    fprintf(stderr, "tlsgrade: out of memory merging the workers' evidence\n");
  ev_store_free(w->run.ev);
}

/* nDPI's label is printed by --flows only: the dissector finds TLS on any
 * port by its records, clear-text HTTP by its request line and STARTTLS by
 * the protocol's own commands.  Grading and --handshakes skip nDPI, which
 * cost a tenth of a grading run (about 90 thousand instructions per
 * ClientHello it classified). */
static bool use_ndpi(const struct options *opt) {
  return !opt->no_ndpi && opt->mode == MODE_FLOWS;
}

static int read_threaded(struct run *run, struct cap_source *src, struct cap_decoder *dec,
                         const struct cap_callbacks *cb_template, unsigned *warnings, char *err,
                         size_t errlen) {
  const struct options *opt = run->opt;
  size_t n = (size_t)opt->jobs;
  struct worker_run *w = aligned_alloc(64, n * sizeof(*w));
  if (w)
    memset(w, 0, n * sizeof(*w));
  struct flow_table **tables = calloc(n, sizeof(*tables));
  struct cap_limits lim = opt->limits;
  lim.max_flows = lim.max_flows / n ? lim.max_flows / n : 1;
  int rc = -1;
  bool ok = w && tables;
  for (size_t i = 0; ok && i < n; i++) {
    w[i].run = *run;
    w[i].run.stats = &w[i].stats;
    w[i].run.flows_printed = w[i].run.handshakes_printed = w[i].run.tls_connections = 0;
    w[i].run.cap_handshake = w[i].run.cap_chain = 0;
    memset(w[i].run.decrypt, 0, sizeof(w[i].run.decrypt));
    w[i].run.ev = run->ev ? ev_store_new() : NULL;
    if (w[i].run.ev) /* one memo of trust verdicts and one certificate cache */
      ev_share_memo(w[i].run.ev, run->ev);
    w[i].run.certs = run->certs;
    struct cap_callbacks cb = *cb_template;
    cb.ctx = &w[i].run;
    tables[i] = w[i].ft = flow_table_new(&lim, &w[i].stats, &cb, use_ndpi(opt));
    ok = tables[i] && (!run->ev || w[i].run.ev);
  }
  /* Files are read by the workers themselves (no hand-off); a live
   * interface or stdin goes through one reader and the queues.  (-j never
   * comes with --interval: the options refuse it.) */
  struct cap_dispatch *d = NULL;
  if (ok && cap_source_rereadable(src)) {
    struct cap_stats **own = calloc(n, sizeof(*own));
    for (size_t i = 0; own && i < n; i++)
      own[i] = &w[i].stats;
    rc = own ? cap_dispatch_files(src, dec, &opt->limits, tables, own, n, run->stats, warnings, err,
                                  errlen)
             : (snprintf(err, errlen, "out of memory"), -1);
    free(own);
  } else if (ok && (d = cap_dispatch_new(tables, n))) {
    struct cap_sink sink = {d, cap_dispatch_packet, cap_dispatch_idle, NULL, NULL, NULL};
    rc = cap_source_run_sink(src, dec, &sink, run->stats, warnings, err, errlen);
    cap_dispatch_free(d); /* the workers finish what is queued */
  } else {
    snprintf(err, errlen, "cannot start %zu worker threads", n);
  }
  for (size_t i = 0; w && tables && i < n; i++) {
    flow_table_free(w[i].ft); /* ends the remaining flows, in this thread */
    worker_fold(run, &w[i]);
  }
  free(tables);
  free(w);
  return rc;
}

/* Read every packet; flows end (and are reported or graded) as they go. */
static int read_all(struct run *run, struct cap_source *src, unsigned *warnings) {
  const struct options *opt = run->opt;
  struct cap_callbacks cb = {.ctx = run, .flow_end = on_flow_end};
  if (opt->mode != MODE_FLOWS) {
    cb.flow_data = on_flow_data_tls;
    cb.flow_closing = on_flow_closing;
  }
  struct cap_decoder *dec = cap_decoder_new(&opt->limits, run->stats);
  if (dec) /* summed by the flow table, which knows the bulk it may skip */
    cap_decoder_defer_checksums(dec, true);
  struct flow_table *ft =
      opt->jobs > 1 ? NULL : flow_table_new(&opt->limits, run->stats, &cb, use_ndpi(opt));
  int status = EXIT_OK;
  char err[1024];
  if (opt->interval)
    cap_source_set_tick(src, opt->interval * 1000000, interval_report, run);
  if (!dec || (!ft && opt->jobs <= 1)) {
    fprintf(stderr, "tlsgrade: out of memory\n");
    status = EXIT_RUNTIME;
  } else {
    g_running_source = src;
    if (g_stop_requested) /* the signal came before the source was running */
      cap_source_stop(src);
    int rc = opt->jobs > 1 ? read_threaded(run, src, dec, &cb, warnings, err, sizeof(err))
                           : cap_source_run(src, dec, ft, run->stats, warnings, err, sizeof(err));
    if (rc < 0) {
      fprintf(stderr, "tlsgrade: %s\n", err);
      status = EXIT_RUNTIME;
    }
    g_running_source = NULL;
    if (*warnings && status == EXIT_OK)
      status = EXIT_RUNTIME; /* the input was incomplete: say so in the status too */
  }
  flow_table_free(ft); /* ends the remaining flows */
  cap_decoder_free(dec);
  return status;
}

/* --weak-keys: every list loaded before the first packet; NULL without
 * one, and *failed on a bad list (the message names file and line). */
static struct x509_weak_keys *load_weak_keys(const struct options *opt, bool *failed) {
  *failed = false;
  if (!opt->n_weak_keys)
    return NULL;
  struct x509_weak_keys *keys = x509_weak_keys_new(opt->max_weak_keys);
  char err[1024] = "out of memory";
  for (size_t i = 0; keys && i < opt->n_weak_keys; i++)
    if (x509_weak_keys_load(keys, opt->weak_keys[i], err, sizeof(err)) < 0) {
      x509_weak_keys_free(keys);
      keys = NULL;
    }
  if (!keys) {
    fprintf(stderr, "tlsgrade: --weak-keys: %s\n", err);
    *failed = true;
  }
  return keys;
}

static struct x509_store *open_trust(const struct options *opt) {
  char reason[256];
  struct x509_trust_opts t = {opt->ca_file, opt->ca_path};
  struct x509_store *store = x509_store_open(&t, reason, sizeof(reason));
  if (!store)
    fprintf(stderr, "tlsgrade: trust store: %s\n", reason);
  return store;
}

/* Like tcpdump -Z: the interface is open, nothing has been read; from here
 * on the process parses strangers' bytes without root. */
static int drop_privileges(const char *user) {
  if (geteuid() != 0 || strcmp(user, "root") == 0)
    return 0;
  struct passwd *pw = getpwnam(user);
  if (!pw) {
    fprintf(stderr, "tlsgrade: -Z %s: no such user\n", user);
    return -1;
  }
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
      setuid(pw->pw_uid) != 0) {
    fprintf(stderr, "tlsgrade: -Z %s: cannot drop privileges: %s\n", user, strerror(errno));
    return -1;
  }
  if (setuid(0) == 0) {
    fprintf(stderr, "tlsgrade: -Z %s: root could be regained; refusing to go on\n", user);
    return -1;
  }
  return 0;
}

/* --interval writes FILE.tmp then renames it: make sure that will work,
 * without creating FILE (a reader must never see it empty). */
static FILE *probe_atomic_output(const struct options *opt) {
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", opt->output);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    fprintf(stderr, "tlsgrade: %s: %s\n", tmp, strerror(errno));
    return NULL;
  }
  fclose(f);
  unlink(tmp);
  return stdout; /* nothing else goes to stdout in this mode */
}

static int run_capture_with(const struct options *opt, char **inputs, size_t ninputs,
                            const struct tls_keylog *keylog) {
  struct x509_store *trust = NULL;
  if (opt->mode != MODE_FLOWS && !(trust = open_trust(opt)) && (opt->ca_file || opt->ca_path))
    return EXIT_RUNTIME; /* a trust store asked for by name must load */
  bool bad_weak_keys;
  struct x509_weak_keys *weak_keys = load_weak_keys(opt, &bad_weak_keys);
  if (bad_weak_keys) {
    x509_store_close(trust);
    return EXIT_RUNTIME;
  }
  struct cap_source *src = open_source(opt, inputs, ninputs);
  if (src && opt->iface && drop_privileges(opt->drop_user ? opt->drop_user : "nobody") < 0) {
    cap_source_free(src);
    x509_store_close(trust);
    x509_weak_keys_free(weak_keys);
    return EXIT_RUNTIME;
  }
  /* With --interval the report is only ever replaced whole (temp file and
   * rename); check now, as the capture's user, that it can be. */
  FILE *out = src && opt->interval ? probe_atomic_output(opt) : src ? open_output(opt) : NULL;
  if (!src || !out) {
    cap_source_free(src);
    x509_store_close(trust);
    x509_weak_keys_free(weak_keys);
    return EXIT_RUNTIME;
  }
  struct cap_stats stats = {0};
  struct run run = {.opt = opt,
                    .out = out,
                    .stats = &stats,
                    .trust = trust,
                    .weak_keys = weak_keys,
                    .keylog = keylog};
  run.certs = x509_cache_new(4096);
  x509_cache_set_weak_keys(run.certs, weak_keys);
  run.n_files = cap_source_count(src);
  run.file_names = calloc(run.n_files ? run.n_files : 1, sizeof(*run.file_names));
  for (size_t i = 0; run.file_names && i < run.n_files; i++)
    run.file_names[i] = cap_source_name(src, i);
  unsigned warnings = 0;
  int status = EXIT_RUNTIME;
  if (opt->mode != MODE_FLOWS && !(run.ev = ev_store_new())) /* evidence, or a memo */
    fprintf(stderr, "tlsgrade: out of memory\n");
  else
    status = read_all(&run, src, &warnings);
  cJSON *stats_j = stats_json(&stats, run.n_files, warnings);
  cJSON_AddNumberToObject(stats_j, "tls_connections", (double)run.tls_connections);
  add_decrypt_stats(stats_j, &run);
  if (run.decrypt[TLS_DECRYPT_FAILED])
    fprintf(stderr,
            "tlsgrade: --keylog: decryption failed on %llu connection(s): their key "
            "log secrets do not match\n",
            (unsigned long long)run.decrypt[TLS_DECRYPT_FAILED]);
  if (opt->mode == MODE_FLOWS) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "stats", stats_j);
    print_json_line(out, o);
    stats_j = NULL;
  } else if (opt->mode == MODE_HANDSHAKES && run.handshakes_printed == 0) {
    fprintf(stderr, "tlsgrade: no TLS handshake in the input\n");
  } else if (opt->mode == MODE_GRADE && run.ev && opt->interval) {
    int rs = atomic_report(&run, warnings);
    if (rs != EXIT_OK && status == EXIT_OK)
      status = rs;
  } else if (opt->mode == MODE_GRADE && run.ev) {
    cJSON *limits = limits_json(opt, &stats, &run);
    if (save_evidence(opt, run.ev) < 0)
      status = EXIT_RUNTIME;
    int rs = write_report(opt, out, run.ev, run.file_names, run.n_files, limits, stats_j);
    if (rs != EXIT_OK && status == EXIT_OK)
      status = rs;
    cJSON_Delete(limits);
  }
  cJSON_Delete(stats_j);
  status = close_output(opt, out, status);
  ev_store_free(run.ev);
  x509_cache_free(run.certs);
  x509_store_close(trust);
  x509_weak_keys_free(weak_keys);
  free(run.file_names);
  cap_source_free(src);
  return status;
}

static int run_capture(const struct options *opt, char **inputs, size_t ninputs) {
  struct tls_keylog *keylog = NULL;
  if (opt->n_keylog_files && opt->mode != MODE_FLOWS && !(keylog = load_keylogs(opt)))
    return EXIT_RUNTIME;
  int status = run_capture_with(opt, inputs, ninputs, keylog);
  tls_keylog_free(keylog);
  return status;
}

int main(int argc, char **argv) {
  struct options opt = {0};
  opt.color = -1;
  opt.live.snaplen = 262144;
  opt.live.promisc = true;
  opt.live.immediate = true;
  cap_limits_default(&opt.limits);
  tls_limits_default(&opt.tls_limits);
  opt.max_weak_keys = 4000000;                                  /* 10 bytes each: 40 MB */
  opt.weak_keys = calloc((size_t)argc, sizeof(*opt.weak_keys)); /* at most one per argument */
  if (!opt.weak_keys) {
    fprintf(stderr, "tlsgrade: out of memory\n");
    return EXIT_RUNTIME;
  }
  if (argc > 1 && strcmp(argv[1], "merge") == 0) { /* tlsgrade merge ... */
    opt.merge = true;
    argv[1] = argv[0];
    argc--, argv++;
  }
  if (parse_options(argc, argv, &opt) < 0) {
    free(opt.weak_keys);
    free(opt.keylog_files);
    return EXIT_USAGE;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int status = opt.merge ? run_merge(&opt, argv + optind, (size_t)(argc - optind))
                         : run_capture(&opt, argv + optind, (size_t)(argc - optind));
  free(opt.weak_keys);
  free(opt.keylog_files);
  return status;
}
