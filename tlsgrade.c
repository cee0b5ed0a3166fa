/*
 * tlsgrade.c - the command line: options and usage, signals, privilege
 * drop, main.  It fills a struct pl_settings and hands the run to
 * pipeline/ (pipeline/pipeline.h), which knows the layers below.
 *
 *   tlsgrade [options] PCAP|DIR|- ...   grade every server seen (default)
 *   tlsgrade --handshakes ...           one JSON line per TLS connection
 *   tlsgrade --flows ...                one JSON line per flow
 *   tlsgrade merge EVIDENCE...          grade saved evidence
 *   tlsgrade history DB [HOST]          each server's grades over time
 */
#include "pipeline/pipeline.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* What the command line gathers: the run's settings, and the arrays its
 * --weak-keys and --keylog options fill (the settings point at them). */
struct cli {
  struct pl_settings set;
  bool merge;                /* tlsgrade merge EVIDENCE... */
  bool history;              /* tlsgrade history DB [HOST] */
  const char *history_db;    /* --history DB */
  const char **weak_keys;    /* --weak-keys paths (into argv) */
  const char **keylog_files; /* --keylog, in order (into argv) */
  const char *drop_user;     /* -Z: live capture runs as this user (root: keep) */
  bool format_given;         /* --format was on the command line */
  bool live_tuned;           /* -s, -B or -p was */
};

/* The one stop flag of the process: set by SIGINT, SIGTERM and SIGHUP. */
static struct pl_stop g_stop;

static void on_signal(int sig) {
  (void)sig;
  pl_stop_request(&g_stop);
}

static void usage(FILE *f) {
  fprintf(f, "usage: tlsgrade [options] PCAP|DIR|- ...\n"
             "       tlsgrade [options] -i IFACE [-f BPF]\n"
             "       tlsgrade merge [options] EVIDENCE.json ...\n"
             "       tlsgrade history [--format F] [-o FILE] DB [HOST|IP]\n"
             "\n"
             "  --format FORMAT           report format: text (default), json, html, cbom\n"
             "                            (CycloneDX 1.6 CBOM); ecs (an ECS document per\n"
             "                            connection, then per failed check); zeek (Zeek's\n"
             "                            ssl.log and x509.log records per connection)\n"
             "  -o FILE                   write the report to FILE\n"
             "  --no-color                no colour in the text report\n"
             "  --summary                 text report: the summary table only\n"
             "  --verbose                 text report: each undecided check on its own line\n"
             "                            (default: one line per reason)\n"
             "  --fail-below GRADE        exit status 3 when a server grades below GRADE\n"
             "  --profile NAME            exit status 3 when a server fails profile NAME:\n"
             "                            mozilla-modern, mozilla-intermediate, mozilla-old,\n"
             "                            nist-800-52r2, bsi-tr-02102-2\n"
             "  --save-evidence FILE      save the evidence (for tlsgrade merge)\n"
             "  --history DB              append each report's grades to DB: an SQLite file,\n"
             "                            or a postgresql:// URL (tlsgrade history reads it)\n"
             "  --sensor NAME             the name --history records (default: host name)\n"
             "  --interval SECONDS        rewrite the report (-o) and evidence atomically\n"
             "                            every SECONDS while capturing live\n"
             "  --ca-file FILE            trust anchors (PEM) instead of the system store\n"
             "  --ca-path DIR             trust anchors directory (c_rehash layout)\n"
             "  --intermediates FILE|DIR  intermediate CA certificates (PEM) to complete the\n"
             "                            chains servers send incomplete; never trusted as roots\n"
             "  --weak-keys PATH          Debian weak-key list: a blacklist.RSA-<bits> file or a\n"
             "                            directory of them (openssl-blacklist); repeatable\n"
             "  --keylog FILE             decrypt with this key log (SSLKEYLOGFILE format);\n"
             "                            may be given several times\n"
             "  --handshakes              one JSON line per TLS connection (like Zeek's ssl.log)\n"
             "  --flows                   one JSON line per flow, then a stats line\n"
             "  -i IFACE                  capture live from IFACE (Ctrl-C ends and reports)\n"
             "  -Z USER                   after opening IFACE, run as USER (default nobody\n"
             "                            when started as root; -Z root keeps root)\n"
             "  -w FILE                   live: also write the packets read to FILE (pcap); the\n"
             "                            evidence then cites FILE and its frame numbers\n"
             "  -C MB                     with -w: a new file (FILE1, FILE2, ...) before FILE\n"
             "                            would pass MB million bytes (tcpdump -C)\n"
             "  -G SECONDS                with -w: a new file when a packet comes SECONDS after\n"
             "                            the current file's first (tcpdump -G, named as -C)\n"
             "  -f BPF                    capture filter (files and live)\n"
             "  -s SNAPLEN                live snapshot length (default 262144)\n"
             "  -B KIB                    live capture ring size in KiB (default 131072)\n"
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
  OPT_VERBOSE,
  OPT_FAIL_BELOW,
  OPT_PROFILE,
  OPT_SAVE_EVIDENCE,
  OPT_CA_FILE,
  OPT_CA_PATH,
  OPT_INTERMEDIATES,
  OPT_INTERVAL,
  OPT_WEAK_KEYS,
  OPT_KEYLOG,
  OPT_HISTORY,
  OPT_SENSOR
};

static int parse_format(const char *s, enum pl_format *f) {
  if (strcmp(s, "text") == 0)
    *f = PL_FORMAT_TEXT;
  else if (strcmp(s, "json") == 0)
    *f = PL_FORMAT_JSON;
  else if (strcmp(s, "html") == 0)
    *f = PL_FORMAT_HTML;
  else if (strcmp(s, "zeek") == 0)
    *f = PL_FORMAT_ZEEK;
  else if (strcmp(s, "ecs") == 0)
    *f = PL_FORMAT_ECS;
  else if (strcmp(s, "cbom") == 0)
    *f = PL_FORMAT_CBOM;
  else {
    fprintf(stderr, "tlsgrade: --format: '%s' is not text, json, html, zeek, ecs or cbom\n", s);
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
static int parse_limit(const char *arg, struct pl_settings *opt) {
  static const struct {
    const char *name;
    size_t offset; /* into struct pl_settings */
    long long min, max;
  } caps[] = {
      {"flows", offsetof(struct pl_settings, limits.max_flows), 1, 100000000},
      {"tcp-ooo-bytes", offsetof(struct pl_settings, limits.tcp_ooo_bytes), 0, 1LL << 32},
      {"tcp-ooo-segments", offsetof(struct pl_settings, limits.tcp_ooo_segments), 0, 1 << 24},
      {"tcp-compare-bytes", offsetof(struct pl_settings, limits.tcp_recent_bytes), 0, 1 << 24},
      {"compare-bytes", offsetof(struct pl_settings, limits.recent_total_bytes), 0, 1LL << 36},
      {"reassembly-bytes", offsetof(struct pl_settings, limits.reasm_total_bytes), 0, 1LL << 40},
      {"fragment-datagrams", offsetof(struct pl_settings, limits.frag_datagrams), 0, 1 << 24},
      {"fragment-bytes", offsetof(struct pl_settings, limits.frag_bytes), 0, 1LL << 36},
      {"fragment-pieces", offsetof(struct pl_settings, limits.frag_pieces), 1, 1 << 16},
      {"handshake-bytes", offsetof(struct pl_settings, tls_limits.max_handshake_bytes), 1024,
       1 << 28},
      {"handshake-buffers", offsetof(struct pl_settings, tls_limits.max_buffer_total), 0,
       1LL << 40},
      {"quic-crypto-pieces", offsetof(struct pl_settings, tls_limits.max_quic_pieces), 0, 1 << 16},
      {"dtls-pieces", offsetof(struct pl_settings, tls_limits.max_dtls_pieces), 0, 1 << 16},
      {"chain-certs", offsetof(struct pl_settings, tls_limits.max_chain_len), 1, 1024},
      {"cert-bytes", offsetof(struct pl_settings, tls_limits.max_cert_bytes), 1024, 1 << 26},
      {"weak-keys", offsetof(struct pl_settings, max_weak_keys), 0, 1LL << 30},
      {"keylog-entries", offsetof(struct pl_settings, max_keylog_entries), 0, 1LL << 31},
      {"evicted-flows", offsetof(struct pl_settings, limits.evicted_keys), 0, 1 << 22},
      {"endpoints", offsetof(struct pl_settings, max_endpoints), 1, 1LL << 30},
      {"clients", offsetof(struct pl_settings, max_clients), 0, 1LL << 30},
      {"sent-chains", offsetof(struct pl_settings, max_sent_chains), 0, EV_SENT_CHAINS},
      {"sent-chain-certs", offsetof(struct pl_settings, max_sent_certs), 0, EV_SENT_CERTS},
      {"tunnel-layers", offsetof(struct pl_settings, limits.encap_depth), 0, CAP_ENCAP_MAX},
      {"plaintext-messages", offsetof(struct pl_settings, tls_limits.max_history), 0,
       TLS_MAX_HISTORY_LIMIT},
      {"starttls-bytes", offsetof(struct pl_settings, tls_limits.max_starttls_bytes), 0, 1LL << 30},
      {"cert-cache", offsetof(struct pl_settings, cert_cache_entries), 0, 1 << 22},
      {"trust-verdicts", offsetof(struct pl_settings, trust_memo_entries), 0, 1 << 22},
      {"http3-streams", offsetof(struct pl_settings, tls_limits.max_h3_streams), 0, 1024},
      {"http3-section-bytes", offsetof(struct pl_settings, tls_limits.max_h3_section), 0, 1 << 24},
      {"intermediates", offsetof(struct pl_settings, max_chain_cas), 0, 1 << 22},
      {"pending-chains", offsetof(struct pl_settings, max_chain_pending), 0, 1 << 22},
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
          "tcp-ooo-bytes, tcp-ooo-segments, tcp-compare-bytes, compare-bytes, reassembly-bytes, "
          "fragment-datagrams, "
          "fragment-bytes, fragment-pieces, handshake-bytes, handshake-buffers, "
          "quic-crypto-pieces, dtls-pieces, chain-certs, cert-bytes, weak-keys, "
          "keylog-entries, evicted-flows, endpoints, tunnel-layers, "
          "plaintext-messages, starttls-bytes, cert-cache, trust-verdicts, "
          "intermediates, pending-chains, http3-streams, http3-section-bytes, clients, "
          "sent-chains, sent-chain-certs\n",
          arg);
  return -1;
}

static int parse_one(int c, struct cli *cli) {
  struct pl_settings *opt = &cli->set;
  long long v;
  switch (c) {
  case OPT_FLOWS:
    opt->mode = PL_MODE_FLOWS;
    break;
  case OPT_HANDSHAKES:
    opt->mode = PL_MODE_HANDSHAKES;
    break;
  case OPT_FORMAT: /* zeek's records are per connection: --handshakes */
    cli->format_given = true;
    if (parse_format(optarg, &opt->format) < 0)
      return -1;
    if (opt->format == PL_FORMAT_ZEEK && opt->mode == PL_MODE_GRADE)
      opt->mode = PL_MODE_HANDSHAKES;
    return 0;
  case OPT_NO_COLOR:
    opt->color = 0;
    break;
  case OPT_SUMMARY:
    opt->summary_only = true;
    break;
  case OPT_VERBOSE:
    opt->verbose = true;
    break;
  case OPT_SAVE_EVIDENCE:
    opt->save_evidence = optarg;
    break;
  case OPT_HISTORY:
    cli->history_db = optarg;
    break;
  case OPT_SENSOR:
    opt->sensor = optarg;
    break;
  case OPT_CA_FILE:
    opt->ca_file = optarg;
    break;
  case OPT_CA_PATH:
    opt->ca_path = optarg;
    break;
  case OPT_INTERMEDIATES:
    opt->intermediates = optarg;
    break;
  case OPT_WEAK_KEYS:
    cli->weak_keys[opt->n_weak_keys++] = optarg;
    break;
  case OPT_NO_NDPI:
    opt->no_ndpi = true;
    break;
  case OPT_KEYLOG: {
    const char **files = realloc(cli->keylog_files, (opt->n_keylog_files + 1) * sizeof(*files));
    if (!files) {
      fprintf(stderr, "tlsgrade: out of memory\n");
      return -1;
    }
    files[opt->n_keylog_files++] = optarg;
    cli->keylog_files = files;
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
    cli->drop_user = optarg;
    break;
  case 'w':
    opt->live.write_path = optarg;
    break;
  case 'C':
    if (parse_number(optarg, "-C", 1, 1000000, &v) < 0)
      return -1;
    opt->live.rotate_bytes = (uint64_t)v * 1000000;
    break;
  case 'G':
    if (parse_number(optarg, "-G", 1, 86400 * 365, &v) < 0)
      return -1;
    opt->live.rotate_us = v * 1000000;
    break;
  case 'j':
    if (parse_number(optarg, "-j", 1, 64, &v) < 0)
      return -1;
    opt->jobs = (unsigned)v;
    break;
  case 'p':
    opt->live.promisc = false;
    cli->live_tuned = true;
    break;
  case OPT_FAIL_BELOW:
    if (!valid_grade(optarg)) {
      fprintf(stderr, "tlsgrade: --fail-below: '%s' is not a grade (A+, A, A-, B..F)\n", optarg);
      return -1;
    }
    opt->fail_below = optarg;
    break;
  case OPT_PROFILE:
    if (grade_profile_find(optarg) < 0) {
      fprintf(stderr, "tlsgrade: --profile: '%s' is not a profile (", optarg);
      for (size_t i = 0; grade_profile_id(i); i++)
        fprintf(stderr, "%s%s", i ? ", " : "", grade_profile_id(i));
      fputs(")\n", stderr);
      return -1;
    }
    opt->profile = optarg;
    break;
  case 's':
    if (parse_number(optarg, "-s", 64, 262144, &v) < 0)
      return -1;
    opt->live.snaplen = (int)v;
    cli->live_tuned = true;
    break;
  case 'B':
    if (parse_number(optarg, "-B", 1, 4 * 1024 * 1024, &v) < 0)
      return -1;
    opt->live.buffer_size = (int)(v * 1024);
    cli->live_tuned = true;
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
    exit(PL_EXIT_OK);
  case 'V':
    printf("tlsgrade %s\n", TLSGRADE_VERSION);
    exit(PL_EXIT_OK);
  default:
    usage(stderr);
    return -1;
  }
  return 0;
}

/* An option the run would ignore is a usage error: whoever gave it
 * expects it to act.  Returns the message, or NULL when they agree. */
static const char *conflict(const struct cli *cli) {
  const struct pl_settings *o = &cli->set;
  bool lines = o->mode != PL_MODE_GRADE; /* --flows, --handshakes: JSON lines, no report */
  bool per_connection =
      o->format == PL_FORMAT_JSON || o->format == PL_FORMAT_ZEEK || o->format == PL_FORMAT_ECS;
  if (lines && cli->format_given && !per_connection)
    return "--flows and --handshakes write JSON lines: --format text or html does not apply";
  if (o->summary_only && (lines || o->format != PL_FORMAT_TEXT))
    return "--summary shortens the text report: it does not apply to --format json or html, "
           "--flows or --handshakes";
  if (o->verbose && (lines || o->format != PL_FORMAT_TEXT || o->summary_only))
    return "--verbose lists every undecided check in the text report's detail: it does not "
           "apply to --summary, --format json or html, --flows or --handshakes";
  if (lines && (o->fail_below || o->profile))
    return "--fail-below and --profile need grades: they do not apply to --flows or --handshakes";
  if (lines && o->save_evidence)
    return "--save-evidence saves what grading gathers: it does not apply to --flows or "
           "--handshakes";
  if (o->mode == PL_MODE_FLOWS &&
      (o->n_keylog_files || o->ca_file || o->ca_path || o->intermediates || o->n_weak_keys))
    return "--flows reads no handshake: --keylog, --ca-file, --ca-path, --intermediates and "
           "--weak-keys do not apply";
  if (!o->iface && (cli->drop_user || cli->live_tuned || o->live.write_path))
    return "-Z, -s, -B, -p and -w apply to a live capture (-i IFACE)";
  if (!o->live.write_path && (o->live.rotate_bytes || o->live.rotate_us))
    return "-C and -G rotate the files of -w FILE: give -w";
  if (o->live.write_path && o->jobs > 1)
    return "-w works with one thread only (no -j)";
  return NULL;
}

/* tlsgrade history DB [HOST]: the output options only. */
static int history_options(int argc, struct cli *cli) {
  const struct pl_settings *opt = &cli->set;
  int left = argc - optind;
  if (left < 1 || left > 2) {
    fprintf(stderr, "tlsgrade: history: give the history (an SQLite file or a postgresql:// "
                    "URL) and at most one server name or address\n");
    return -1;
  }
  if (opt->iface || opt->mode != PL_MODE_GRADE || cli->history_db || opt->n_keylog_files ||
      opt->n_weak_keys || opt->save_evidence || opt->fail_below || opt->profile || opt->interval) {
    fprintf(stderr, "tlsgrade: history takes --format, -o and --no-color only\n");
    return -1;
  }
  return 0;
}

static int parse_options(int argc, char **argv, struct cli *cli) {
  struct pl_settings *opt = &cli->set;
  static const struct option longopts[] = {
      {"flows", no_argument, NULL, OPT_FLOWS},
      {"handshakes", no_argument, NULL, OPT_HANDSHAKES},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"no-color", no_argument, NULL, OPT_NO_COLOR},
      {"summary", no_argument, NULL, OPT_SUMMARY},
      {"verbose", no_argument, NULL, OPT_VERBOSE},
      {"fail-below", required_argument, NULL, OPT_FAIL_BELOW},
      {"profile", required_argument, NULL, OPT_PROFILE},
      {"save-evidence", required_argument, NULL, OPT_SAVE_EVIDENCE},
      {"interval", required_argument, NULL, OPT_INTERVAL},
      {"ca-file", required_argument, NULL, OPT_CA_FILE},
      {"ca-path", required_argument, NULL, OPT_CA_PATH},
      {"intermediates", required_argument, NULL, OPT_INTERMEDIATES},
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
      {"history", required_argument, NULL, OPT_HISTORY},
      {"sensor", required_argument, NULL, OPT_SENSOR},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "i:f:s:B:po:Z:j:w:C:G:hV", longopts, NULL)) != -1)
    if (parse_one(c, cli) < 0)
      return -1;
  if (opt->iface && optind < argc) {
    fprintf(stderr, "tlsgrade: give either -i IFACE or capture files, not both\n");
    return -1;
  }
  if (cli->history)
    return history_options(argc, cli);
  if (!opt->iface && optind >= argc) {
    fprintf(stderr, "tlsgrade: no input: give %s\n",
            cli->merge ? "evidence files" : "capture files, a directory, '-' or -i IFACE");
    usage(stderr);
    return -1;
  }
  const char *why = conflict(cli);
  if (why) {
    fprintf(stderr, "tlsgrade: %s\n", why);
    return -1;
  }
  if (opt->interval && opt->jobs > 1) {
    fprintf(stderr, "tlsgrade: --interval works with one thread only (no -j)\n");
    return -1;
  }
  if (opt->interval && (!opt->iface || !opt->output || opt->mode != PL_MODE_GRADE)) {
    fprintf(stderr, "tlsgrade: --interval needs a live capture (-i) and a report file (-o)\n");
    return -1;
  }
  bool siem = opt->format == PL_FORMAT_ZEEK || opt->format == PL_FORMAT_ECS;
  if ((opt->mode == PL_MODE_FLOWS && (siem || opt->format == PL_FORMAT_CBOM)) ||
      (opt->mode == PL_MODE_HANDSHAKES && opt->format == PL_FORMAT_CBOM)) {
    fprintf(stderr, "tlsgrade: --format zeek and ecs are per connection, cbom a grading report: "
                    "not with --flows (nor cbom with --handshakes)\n");
    return -1;
  }
  if (cli->history_db && opt->mode != PL_MODE_GRADE) {
    fprintf(stderr, "tlsgrade: --history records graded reports, not --flows or --handshakes\n");
    return -1;
  }
  if (cli->merge && opt->n_keylog_files) {
    fprintf(stderr, "tlsgrade: merge: --keylog applies to captures, not to evidence\n");
    return -1;
  }
  if (cli->merge && (opt->iface || opt->mode != PL_MODE_GRADE)) {
    fprintf(stderr, "tlsgrade: merge grades evidence files only\n");
    return -1;
  }
  if (cli->merge && opt->n_weak_keys) {
    fprintf(stderr, "tlsgrade: --weak-keys applies when certificates are read (captures), "
                    "not to merge: the evidence already holds the verdicts\n");
    return -1;
  }
  return 0;
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

/* Run fn as user's effective ids (its groups too), then back to root: the
 * files a live capture writes after -Z are checked before the interface
 * is opened, by the kernel's own rules. */
static int as_user(const struct passwd *pw, int (*fn)(const struct pl_settings *),
                   const struct pl_settings *set) {
  long most = sysconf(_SC_NGROUPS_MAX);
  most = most > 0 ? most : 65536;
  gid_t *saved = calloc((size_t)most, sizeof(*saved)),
        *theirs = calloc((size_t)most, sizeof(*theirs));
  int n_saved = saved ? getgroups((int)most, saved) : -1, n_theirs = (int)most;
  gid_t egid = getegid();
  int rc = -1;
  if (!theirs || n_saved < 0 || getgrouplist(pw->pw_name, pw->pw_gid, theirs, &n_theirs) < 0 ||
      setgroups((size_t)n_theirs, theirs) != 0 || setegid(pw->pw_gid) != 0 ||
      seteuid(pw->pw_uid) != 0)
    fprintf(stderr, "tlsgrade: -Z %s: cannot check the output files as that user: %s\n",
            pw->pw_name, strerror(errno));
  else
    rc = fn(set);
  if (seteuid(0) != 0 || setegid(egid) != 0 ||
      (n_saved >= 0 && setgroups((size_t)n_saved, saved) != 0)) {
    fprintf(stderr, "tlsgrade: -Z %s: cannot return to root: %s\n", pw->pw_name, strerror(errno));
    rc = -1;
  }
  free(saved);
  free(theirs);
  return rc;
}

/* Before the interface is opened: -Z's user exists, and the files the
 * capture writes after the drop (-o, --save-evidence, -w) can be written
 * by it.  0, or the exit status. */
static int check_live_outputs(const struct cli *cli) {
  const char *user = cli->drop_user ? cli->drop_user : "nobody";
  if (geteuid() != 0 || strcmp(user, "root") == 0)
    return pl_probe_outputs(&cli->set) < 0 ? PL_EXIT_RUNTIME : 0;
  struct passwd *pw = getpwnam(user);
  if (!pw) {
    fprintf(stderr,
            "tlsgrade: -Z %s: no such user (name an existing user to capture as, or -Z "
            "root to keep root)\n",
            user);
    return PL_EXIT_USAGE;
  }
  return as_user(pw, pl_probe_outputs, &cli->set) < 0 ? PL_EXIT_RUNTIME : 0;
}

static int drop_to_user(void *ctx) {
  const struct cli *cli = ctx;
  return drop_privileges(cli->drop_user ? cli->drop_user : "nobody");
}

static void cli_free(struct cli *cli) {
  free(cli->weak_keys);
  free(cli->keylog_files);
}

/* The heap in transparent huge pages.  A run grows the heap by tens of
 * megabytes (the evidence of thousands of servers, their report), and each
 * fresh 4 kB page costs a fault on its first touch, under virtualisation a
 * trap: a quarter of a one-thread run on the benchmark capture.  glibc
 * does it when told at start (GLIBC_TUNABLES), so a run that reads much
 * starts itself again once with it (about 12 ms, its libraries loaded
 * again, which a run on less than some 64 MB does not win back).  Not
 * when the tunables name the huge pages already (the user's choice:
 * glibc.malloc.hugetlb=0 keeps 4 kB pages), not with privileges (glibc
 * ignores them then), not under a memory checker (valgrind, sanitizers);
 * and when it cannot, it goes on as it is. */
#define HEAP_TUNABLES "glibc.malloc.hugetlb=1"
#define HEAP_THREADS "glibc.malloc.top_pad=67108864" /* as mallopt in main, from the start */
#define HEAP_MARK "TLSGRADE_HEAP_TUNED"
#define HEAP_SMALL_INPUT (64u << 20) /* bytes of files: not worth starting again */

/* Does the run read much: a live interface, standard input, a directory,
 * or files of HEAP_SMALL_INPUT bytes and more (each name as given; merge's
 * evidence files too). */
static bool reads_much(const struct pl_settings *set, char *const *inputs, size_t n) {
  if (set->iface)
    return true;
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (strcmp(inputs[i], "-") == 0 || stat(inputs[i], &st) != 0 || !S_ISREG(st.st_mode))
      return true; /* stdin, a directory, a pattern: how much is not known */
    bytes += (uint64_t)st.st_size;
  }
  return bytes >= HEAP_SMALL_INPUT;
}

static void heap_in_huge_pages(char **argv, bool threads) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  const char *tun = getenv("GLIBC_TUNABLES"), *pre = getenv("LD_PRELOAD");
  if (getauxval(AT_SECURE) || (tun && strstr(tun, "glibc.malloc.hugetlb")) ||
      (pre && strstr(pre, "vgpreload")))
    return;
  char *before = tun ? strdup(tun) : NULL;
  char value[4096];
  int n = snprintf(value, sizeof(value), "%s%s" HEAP_TUNABLES "%s", tun ? tun : "",
                   tun && *tun ? ":" : "", threads ? ":" HEAP_THREADS : "");
  if ((!tun || before) && n > 0 && (size_t)n < sizeof(value) &&
      setenv("GLIBC_TUNABLES", value, 1) == 0 && setenv(HEAP_MARK, "1", 1) == 0)
    execv("/proc/self/exe", argv);
  /* not started again: the environment as it was */
  if (before)
    setenv("GLIBC_TUNABLES", before, 1);
  else
    unsetenv("GLIBC_TUNABLES");
  unsetenv(HEAP_MARK);
  free(before);
#else
  (void)argv, (void)threads;
#endif
}

int main(int argc, char **argv) {
  /* as given: the subcommands' names are taken out below, getopt reorders */
  char **given = calloc((size_t)argc + 1, sizeof(*given));
  if (given)
    memcpy(given, argv, (size_t)argc * sizeof(*argv));
  bool again = getenv(HEAP_MARK) != NULL; /* started again by heap_in_huge_pages */
  if (again)
    unsetenv(HEAP_MARK); /* nothing of it for what this starts */
  struct cli cli = {0};
  pl_settings_default(&cli.set);
  /* at most one per argument */
  cli.weak_keys = calloc((size_t)argc, sizeof(*cli.weak_keys));
  if (!cli.weak_keys) {
    fprintf(stderr, "tlsgrade: out of memory\n");
    free(given);
    return PL_EXIT_RUNTIME;
  }
  if (argc > 1 && strcmp(argv[1], "merge") == 0) { /* tlsgrade merge ... */
    cli.merge = true;
    argv[1] = argv[0];
    argc--, argv++;
  } else if (argc > 1 && strcmp(argv[1], "history") == 0) { /* tlsgrade history DB [HOST] */
    cli.history = true;
    argv[1] = argv[0];
    argc--, argv++;
  }
  if (parse_options(argc, argv, &cli) < 0) {
    cli_free(&cli);
    free(given);
    return PL_EXIT_USAGE;
  }
  if (given && !again && !cli.history &&
      reads_much(&cli.set, argv + optind, (size_t)(argc - optind)))
    heap_in_huge_pages(given, cli.set.jobs > 1);
  free(given);
  /* With threads, the heaps grow 64 MB at a time (in huge pages as a
   * whole; grown in small steps, each step was pages of 4 kB again, and
   * -j 2 took a quarter longer).  A second start has it from the start
   * (its tunables), which counts too; here for a run that did not start
   * again.  Not for one thread: a larger step costs it a fifth more
   * memory under a flood of small endpoints. */
  if (cli.set.jobs > 1)
    mallopt(M_TOP_PAD, 64 << 20);
  cli.set.weak_keys = cli.weak_keys;
  cli.set.keylog_files = cli.keylog_files;
  cli.set.stop = &g_stop;
  cli.set.source_opened = drop_to_user;
  cli.set.source_opened_ctx = &cli;
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  /* SIGHUP too: a capture whose terminal or session closes still writes
   * its report and evidence (there is no configuration to reload).  One
   * handler at a time: they share the stop. */
  const int stops[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
    sigaddset(&sa.sa_mask, stops[i]);
  for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
    sigaction(stops[i], &sa, NULL);
  int early = cli.set.iface && !cli.merge ? check_live_outputs(&cli) : 0;
  if (early) {
    cli_free(&cli);
    return early;
  }
  char *const *inputs = argv + optind;
  size_t n_inputs = (size_t)(argc - optind);
  if (cli.history) {
    int status = pl_run_history(&cli.set, inputs[0], n_inputs > 1 ? inputs[1] : NULL);
    cli_free(&cli);
    return status;
  }
  if (cli.history_db) { /* opened now: before a live capture's -Z */
    char err[1024];
    cli.set.history = pl_history_open(cli.history_db, cli.set.sensor, true, err, sizeof err);
    if (!cli.set.history) {
      fprintf(stderr, "tlsgrade: %s\n", err);
      cli_free(&cli);
      return PL_EXIT_RUNTIME;
    }
    cli.set.history_kind = cli.merge          ? "merge"
                           : cli.set.interval ? "interval"
                           : cli.set.iface    ? "live"
                                              : "capture";
  }
  int status = cli.merge ? pl_run_merge(&cli.set, inputs, n_inputs)
                         : pl_run_capture(&cli.set, inputs, n_inputs, NULL);
  pl_history_close(cli.set.history);
  cli_free(&cli);
  return status;
}
