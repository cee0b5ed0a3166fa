/*
 * grade/grade.h - the one public header of grading and reports.
 *
 *   sanitize.c    every attacker-chosen string passes here, per format
 *   hs_json.c     --handshakes: one JSON object per TLS connection
 *   hs_zeek.c     --format zeek: Zeek's ssl.log and x509.log records
 *   hs_ecs.c      --format ecs: an Elastic Common Schema document per connection
 *   fact_table.h  the fact vocabulary: every family's prefix, argument, meaning
 *   vocab.c       a fact's key from its family and arguments, and back; facts by family
 *   evidence.c    facts per server endpoint; merge; the endpoint cap
 *   evidence_json.c  saved evidence: save, load
 *   facts.c       what one TLS connection proves (session -> facts)
 *   cert_facts.c  what its certificates prove: leaf, trust verdict, chain notes
 *   chains.c      chains completed from every intermediate of the run
 *   checks.c      one check per rule of the rating guide: pass/fail/unknown
 *   score.c       SSL Labs numeric score, caps, letters, recommendations
 *   profiles.c    compliance profiles (Mozilla, NIST, BSI) from the facts
 *   report_*.c    text, JSON and HTML reports; ECS findings, CycloneDX CBOM
 */
#ifndef TLSGRADE_GRADE_H
#define TLSGRADE_GRADE_H

#include "dissect/dissect.h"

#include <cjson/cJSON.h>
#include <signal.h>

#define TLSGRADE_VERSION "0.2.0"
#include <stdio.h>

/* ---- sanitising (sanitize.c) ---- */

/* Wire bytes as a valid UTF-8 string for JSON (cJSON escapes control
 * characters): invalid sequences become U+FFFD and *replaced is set.
 * Returns a malloc'd string (caller frees), NULL when out of memory. */
char *report_utf8(const uint8_t *p, size_t n, bool *replaced);
/* Add p[0..n) to obj under key, sanitised; adds "<key>_invalid_utf8":
 * true when bytes were replaced. */
void report_add_wire_string(cJSON *obj, const char *key, const uint8_t *p, size_t n);
/* The same as an array item (no flag: an array has no place for one). */
void report_add_wire_item(cJSON *array, const uint8_t *p, size_t n);

/* ---- --handshakes (hs_json.c) ---- */

/* Who talked: filled by the caller from the flow. */
struct report_conn {
  const char *file;   /* input name of the first fact's file */
  const char *client; /* "ip:port" */
  const char *server;
  const char **files; /* input names by file_index */
  size_t n_files;
  const struct x509_store *trust; /* NULL: no trust verdict in the output */
  struct x509_trust_memo *memo;   /* ev_trust_memo_new()'s (may be NULL) */
};

/* One JSON object (Zeek ssl.log-like) for a connection's session; NULL when
 * the connection showed no TLS.  Caller owns the result. */
cJSON *report_handshake_json(const struct tls_session *s, const struct report_conn *conn);
/* --format zeek (hs_zeek.c): an array of the connection's records in Zeek's
 * JSON log format, its ssl.log record then one x509.log record per server
 * certificate, each naming its log in "_path"; NULL as above. */
cJSON *report_handshake_zeek(const struct tls_session *s, const struct report_conn *conn);
/* --format ecs (hs_ecs.c): the connection as one Elastic Common Schema
 * document; NULL when it showed no hello. */
cJSON *report_handshake_ecs(const struct tls_session *s, const struct report_conn *conn);

/* ---- evidence (evidence.c) ---- */

/* Where a fact was seen: which input and frame, at what packet time. */
struct ev_sample {
  char *file; /* in an endpoint's strings when a fact's; else the caller's */
  uint64_t frame;
  cap_time_us ts;
  bool aborted; /* a sighting in a handshake its client aborted (facts.c) */
};

/* ---- the fact vocabulary (fact_table.h, vocab.c) ---- */

/* How a family's argument is printed after its prefix. */
enum ev_arg_kind {
  EV_ARG_NONE,         /* "handshakes": the key is the prefix */
  EV_ARG_VERSION,      /* "version:TLSv1.2": a version by dissect's name, or "unknown" */
  EV_ARG_NUMBER,       /* "cipher_bits:128": decimal bits or seconds */
  EV_ARG_INT,          /* "http:no_redirect:301": a signed decimal (libhtp says -1 invalid) */
  EV_ARG_NAME,         /* "suite:TLS_AES_128_GCM_SHA256": the rest of the key */
  EV_ARG_HEX,          /* "cert:leaf:5b1e...": a hex digest, the rest of the key */
  EV_ARG_NAME_NUMBER,  /* "kx:ecdh:x25519:256": a name, ':', a number */
  EV_ARG_VERSION_NAME, /* "refused:TLSv1.2:handshake_failure": a version, ':', a name */
  EV_ARG_ANSWER        /* "answer:OFFER:TLSv1.2:0xc02f", "answer:OFFER:refused" */
};

enum ev_fact_id {
#define FACT(id, prefix, arg, saved, meaning) EV_##id,
#include "grade/fact_table.h"
#undef FACT
  EV_N_FACTS,
  EV_OTHER = EV_N_FACTS /* a key of no family (hand-made evidence, tests) */
};

#define EV_KEY_MAX 256 /* a key is cut at 255 bytes */
/* Counts in evidence (a fact's sightings, a waiting chain's sessions, cap
 * hits) stop at 10^18: a sum beyond it, of merged files say, stays there
 * rather than wrap, and one bound serves reading and writing, so merge
 * reads back every file it writes.  (10^18 is exact as a JSON double.) */
#define EV_COUNT_MAX 1000000000000000000ULL
static inline uint64_t ev_count_add(uint64_t count, uint64_t more) {
  return more > EV_COUNT_MAX - count ? EV_COUNT_MAX : count + more; /* count <= EV_COUNT_MAX */
}
#define EV_ANSWER_REFUSED UINT64_MAX /* ANSWER's number: the offer was refused */

/* What a fact's key says, typed: kept with the fact when it is made, or
 * parsed once from its key (ev_key_parse) when it arrives as text. */
struct ev_typed {
  uint16_t id;      /* enum ev_fact_id */
  uint16_t version; /* VERSION, VERSION_NAME, ANSWER: the wire version, 0 unknown */
  uint8_t name_at;  /* NAME, HEX, NAME_NUMBER, VERSION_NAME, ANSWER (the offer), VERSION */
  uint8_t name_len; /* (the version's name): key[name_at .. name_at + name_len) */
  uint64_t number;  /* NUMBER, NAME_NUMBER; INT (as int64_t); ANSWER: the suite, or
                       EV_ANSWER_REFUSED */
};

/* A fact's arguments when it is made (those its kind has; the rest 0). */
struct ev_args {
  uint16_t version;
  uint64_t number;
  const char *name; /* ANSWER: the offer digest (facts.c) */
};

const char *ev_fact_prefix(enum ev_fact_id id); /* NULL for EV_OTHER */
enum ev_arg_kind ev_fact_kind(enum ev_fact_id id);
const char *ev_fact_meaning(enum ev_fact_id id);
bool ev_fact_saved(enum ev_fact_id id); /* false: derived at grading time */
/* The key of family id with arguments a (NULL: none), cut at EV_KEY_MAX - 1
 * bytes, and what it says.  false when id is no family. */
bool ev_key_make(enum ev_fact_id id, const struct ev_args *a, char key[EV_KEY_MAX],
                 struct ev_typed *t);
/* What a key given as text says: its family and arguments, parsed against
 * the table; EV_OTHER when no family prints such a key. */
void ev_key_parse(const char *key, struct ev_typed *t);

/* One fact about an endpoint ("version:TLSv1.2", "suite:0xc02f", ...) with
 * how often, when first and last, and the earliest sample. */
struct ev_fact {
  char *key; /* in its endpoint's strings */
  uint64_t count;
  uint64_t aborted; /* of those, sightings in handshakes their client aborted */
  cap_time_us first_ts, last_ts;
  struct ev_sample sample; /* the earliest sighting (ties: file, frame) */
  struct ev_typed typed;   /* its family and arguments */
};

/* A fact's name argument (typed.name_at): NUL-terminated where the name
 * ends the key (NAME, HEX, VERSION, VERSION_NAME); typed.name_len long in
 * any case. */
static inline const char *ev_fact_name(const struct ev_fact *f) {
  return f->key + f->typed.name_at;
}
/* Was f seen outside handshakes their client aborted?  Only such a fact
 * may pass a check or raise a score: one seen in aborted handshakes alone
 * may still fail a check (README "What counts as evidence"). */
static inline bool ev_fact_accepted(const struct ev_fact *f) {
  return f->count > f->aborted;
}
/* Is f's name argument s? */
bool ev_fact_name_is(const struct ev_fact *f, const char *s);
/* f's argument printed as its key prints it ("TLSv1.2", "x25519:256"; "" none). */
void ev_fact_argument(const struct ev_fact *f, char out[EV_KEY_MAX]);

struct ev_strings;

/* Chains as sent (cert_sent.c, README "Limits"): an endpoint keeps the
 * fields of at most EV_SENT_CERTS certificates of at most EV_SENT_CHAINS
 * distinct chains, each value cut at EV_SENT_VALUE bytes: some 4 kB at
 * most, under 1 kB for one chain of three.  The two counts are the most
 * --limit sent-chains and sent-chain-certs may set (their defaults);
 * ev_store_set_sent_chain_limits lowers them for a store's endpoints. */
#define EV_SENT_CHAINS 4
#define EV_SENT_CERTS 4
#define EV_SENT_VALUE 120
/* A chain's ID in keys: 16 hex digits. */
#define EV_SENT_ID_LEN 16

/* A server endpoint: (SNI host or "-", server IP, port).  Owns its facts,
 * and the strings they and it hold (packed in chunks: ev_strings). */
struct ev_endpoint {
  char *host; /* sanitised UTF-8 */
  char *ip;
  uint16_t port;
  /* Its class under the endpoint cap: false while it holds only what
   * ClientHellos gave (ev_hello_only), true once a server's answer (or
   * any other evidence) came for it. */
  bool answered;
  struct ev_fact *facts; /* open-addressing table, nslots entries */
  size_t nslots, nfacts;
  const struct ev_fact **sorted; /* cache: facts by key, NULL when stale */
  unsigned holds;                /* EV_HOLDS_*: kinds of key ev_derive_facts looks for */
  struct ev_strings *strings;    /* owned: host, ip, keys, sample files */
  char *last_file;               /* in strings: the sample file most recently kept */
  /* The chains as sent (SENT_CHAIN, SENT_CERT) it keeps facts of, by ID:
   * at most EV_SENT_CHAINS, the rest counted (SENT_CHAINS_OVER_CAP). */
  uint64_t sent_chains[EV_SENT_CHAINS];
  uint8_t n_sent_chains;
  uint8_t max_sent_chains, max_sent_certs; /* its store's caps when it was made */
};

/* Noted as keys arrive, so that finding the few endpoints that hold them
 * does not sort every endpoint's facts on one thread. */
#define EV_HOLDS_HTTP 1u      /* "http:..." */
#define EV_HOLDS_SSLV2_KEY 2u /* "sslv2:key:..." */

struct ev_store;
struct ev_store *ev_store_new(void);
void ev_store_free(struct ev_store *ev);
size_t ev_count(const struct ev_store *ev);
/* Endpoints sorted by host, ip, port (stable output). */
const struct ev_endpoint *ev_endpoint_at(const struct ev_store *ev, size_t i);

/* The endpoint cap (--limit endpoints, README "Limits"): a store holds at
 * most N answered endpoints and, apart from them, at most N endpoints seen
 * only in ClientHellos, so that a flood of names nobody answers never
 * keeps out a server answered later.  Evidence that would make a new
 * endpoint of a full class (a new endpoint, or a hello-only endpoint's
 * first answer) is dropped whole, its connections counted; an endpoint
 * held keeps receiving evidence of its class.  A new store's N is
 * EV_ENDPOINTS_DEFAULT; a loaded one (ev_from_json) holds its whole file,
 * and merging into a store applies that store's N. */
/* 250,000 of each: a hello-only endpoint costs about 430 bytes (110 MB
 * at the cap); an answered one a few kB held and 3 kB more while graded
 * (about 2 GB at the cap, the order of the flow table's own worst case). */
#define EV_ENDPOINTS_DEFAULT 250000
void ev_store_set_limit(struct ev_store *ev, size_t max_endpoints);
/* Connections whose evidence the cap dropped (saved and merged with the
 * evidence). */
uint64_t ev_endpoint_cap_hits(const struct ev_store *ev);
/* The client inventory's cap (--limit clients, clients.c): at most N
 * clients (address and JA4) and, apart, at most N per-server rows (server,
 * JA4, what it got); a connection that would add one to a full table is
 * not listed there and is counted.  A new store's N is
 * EV_CLIENTS_DEFAULT; a loaded one holds its whole file. */
#define EV_CLIENTS_DEFAULT 100000
void ev_store_set_client_limit(struct ev_store *ev, size_t max_clients);
/* The chains as sent an endpoint made from now on keeps (--limit
 * sent-chains, sent-chain-certs; each at most its EV_SENT_* default), and
 * the sightings of chains not kept, summed over the store's endpoints. */
void ev_store_set_sent_chain_limits(struct ev_store *ev, size_t chains, size_t certs);
uint64_t ev_sent_chain_hits(const struct ev_store *ev);
/* Connections the client cap left out of the inventory: hits[0] those
 * of a new client, hits[1] those of a new per-server row (saved and merged
 * with the evidence). */
void ev_client_cap_hits(const struct ev_store *ev, uint64_t hits[2]);
/* Endpoints of the hello-only class held. */
size_t ev_hello_count(const struct ev_store *ev);
/* The endpoint (host, ip, port) for evidence of a connection: found, or
 * made (promoted to answered) when the cap allows; NULL when the cap
 * refused it (counted) or out of memory.  answered: the connection gives
 * more than its ClientHello. */
struct ev_endpoint *ev_endpoint_for(struct ev_store *ev, const char *host, const char *ip,
                                    uint16_t port, bool answered);
/* ev_endpoint_for(..., true). */
struct ev_endpoint *ev_endpoint_get(struct ev_store *ev, const char *host, const char *ip,
                                    uint16_t port);
/* Did ep's evidence come from ClientHellos alone (facts HANDSHAKES and
 * EVICTED_UNANSWERED only)?  Such an endpoint decides no check: reports
 * fold it into one line rather than grade it. */
bool ev_hello_only(const struct ev_endpoint *ep);
/* Record one sighting of the fact of family id with arguments a (NULL:
 * none) at `at`, the packet that showed it: its time widens the fact's
 * first/last, so it is required (never NULL; a fact without a time has no
 * place in the store). */
void ev_add(struct ev_endpoint *ep, const struct ev_sample *at, enum ev_fact_id id,
            const struct ev_args *a) __attribute__((nonnull(1, 2)));
/* The same, `count` sightings at once (all of them at `at`). */
void ev_add_times(struct ev_endpoint *ep, const struct ev_sample *at, enum ev_fact_id id,
                  const struct ev_args *a, uint64_t count) __attribute__((nonnull(1, 2)));
static inline void ev_add_version(struct ev_endpoint *ep, const struct ev_sample *at,
                                  enum ev_fact_id id, uint16_t version) {
  ev_add(ep, at, id, &(const struct ev_args){.version = version});
}
static inline void ev_add_number(struct ev_endpoint *ep, const struct ev_sample *at,
                                 enum ev_fact_id id, uint64_t number) {
  ev_add(ep, at, id, &(const struct ev_args){.number = number});
}
static inline void ev_add_name(struct ev_endpoint *ep, const struct ev_sample *at,
                               enum ev_fact_id id, const char *name) {
  ev_add(ep, at, id, &(const struct ev_args){.name = name});
}
/* The same for a key given as text (formatted like printf): evidence that
 * is not made from a session (tests); its family is parsed from the key. */
void ev_note(struct ev_endpoint *ep, const struct ev_sample *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), nonnull(1, 2, 3)));
const struct ev_fact *ev_find(const struct ev_endpoint *ep, const char *key);
/* The fact of family id with arguments a (NULL: none), NULL when absent. */
const struct ev_fact *ev_find_id(const struct ev_endpoint *ep, enum ev_fact_id id,
                                 const struct ev_args *a);
/* The facts whose key starts with id's prefix, in key order, as
 * ev_facts_with; a family whose prefix another's key extends ("rc4:" and
 * "rc4:despite_alternatives") shares the view: check typed.id. */
const struct ev_fact *const *ev_facts_of(const struct ev_endpoint *ep, enum ev_fact_id id,
                                         size_t *n);
/* The first fact of family id in key order, NULL none. */
const struct ev_fact *ev_first_of(const struct ev_endpoint *ep, enum ev_fact_id id);
/* The facts whose key starts with prefix, in key order: *n of them from the
 * returned pointer, a view into ep's sorted cache that stays valid until a
 * fact is added to ep (no copy).  The index under ev_facts_of: facts are
 * read by family, never by a prefix of their printed key. */
const struct ev_fact *const *ev_facts_with(const struct ev_endpoint *ep, const char *prefix,
                                           size_t *n);
/* Facts sorted by key, for iteration (array owned by the caller: free()). */
const struct ev_fact **ev_sorted_facts(const struct ev_endpoint *ep, size_t *n);
/* into += from (commutative and associative). Returns 0, -1 out of memory. */
int ev_merge(struct ev_store *into, const struct ev_store *from);
/* The same result, from's endpoints and facts moved rather than copied
 * (-j: the workers' evidence); from is left empty, or holding what was not
 * moved when memory ran out (-1).  Free it either way. */
int ev_merge_move(struct ev_store *into, struct ev_store *from);
/* A store holding one endpoint: ep's facts seen before t (after: seen at or
 * after t).  Caller frees. */
struct ev_store *ev_period(const struct ev_endpoint *ep, cap_time_us t, bool after);
/* Versioned JSON: {"tlsgrade_evidence": 1, "endpoints": [...]} */
cJSON *ev_to_json(const struct ev_store *ev);
struct ev_store *ev_from_json(const cJSON *json, char *err, size_t errlen);
/* ev_to_json's text and a newline to out (the caller makes the file: see
 * pipeline/atomic.c); 0, or -1 out of memory or a write error. */
int ev_write(const struct ev_store *ev, FILE *out);
struct ev_store *ev_load(const char *path, char *err, size_t errlen);

/* The verdict on a server chain (cert_facts.c).  Verifying a chain costs
 * milliseconds and the same chain is seen on most connections to a
 * server: the run keeps one memo of verdicts (dissect.h's
 * x509_trust_memo), made by ev_trust_memo_new() so that it keeps each
 * chain's distrust events too (not evidence: never saved or merged). */
struct distrust_event; /* grade/distrust.h */
/* One distrust event that a chain matched, and the certificate that
 * matched it (an index into the chain, or its length for the anchor). */
struct distrust_hit {
  const struct distrust_event *event;
  size_t cert;
};
#define EV_DISTRUST_HITS 8
/* What the memo keeps of a chain: its trust verdict, and the distrust
 * events its CAs fall under (matched against the verified anchor too). */
struct ev_chain_verdict {
  struct x509_trust trust;
  struct distrust_hit distrust[EV_DISTRUST_HITS];
  size_t n_distrust;
};
/* A memo for ev_chain_verdict of max_entries verdicts (free it with
 * x509_trust_memo_free); NULL when out of memory.  Threads may share it. */
struct x509_trust_memo *ev_trust_memo_new(size_t max_entries);
/* The verdict on a session's server chain for its SNI at time `at`, from
 * the memo when the same question was asked before.  memo: from
 * ev_trust_memo_new(), or NULL (verified afresh). */
void ev_chain_verdict(struct x509_trust_memo *memo, const struct tls_session *s,
                      const struct x509_store *trust, cap_time_us at, struct ev_chain_verdict *v);
/* Its trust part only. */
void ev_trust_verdict(struct x509_trust_memo *memo, const struct tls_session *s,
                      const struct x509_store *trust, cap_time_us at, struct x509_trust *t);

/* ---- facts of one connection (facts.c) ---- */

struct ev_conn {
  const char *server_ip; /* without port */
  uint16_t server_port;
  const char *const *files; /* input names by file_index */
  size_t n_files;
  const struct x509_store *trust; /* NULL: trust not decided */
  struct x509_trust_memo *memo;   /* ev_trust_memo_new()'s (may be NULL) */
  /* The trust store's names (--ca-file, --ca-path; both NULL: the
   * system's), for the fact that says which store decided (TRUST_STORE). */
  const char *trust_file, *trust_dir;
  const char *client_ip; /* NULL: the session's client is not inventoried */
};
void ev_add_session(struct ev_store *ev, const struct tls_session *s, const struct ev_conn *c);
/* A session whose flow was evicted after its ClientHello and before any
 * answer of the server (ServerHello or alert): true when s is one.  Its
 * endpoint then learns only that (EV_EVICTED_UNANSWERED), never a refusal
 * or "never answered"; give such a session here instead of
 * ev_add_session. */
bool ev_session_evicted_unanswered(const struct tls_session *s);
void ev_add_evicted(struct ev_store *ev, const struct tls_session *s, const struct ev_conn *c);
/* What the first response of a clear-text HTTP flow said (host from the
 * request). */
void ev_add_http(struct ev_store *ev, const struct http_facts *h, const struct ev_conn *c);
/* Facts that need every endpoint (DROWN: the same key speaking SSLv2
 * elsewhere); call once all evidence is in, before grading.  Once *stop
 * (NULL: never) is set it returns false at once, the facts incomplete. */
bool ev_derive_facts(struct ev_store *ev, const volatile sig_atomic_t *stop);
/* Chains that did not verify for want of an issuer, completed with the CA
 * certificates sent anywhere in the evidence and those of bundle (may be
 * NULL): their trust facts (chains.c).  Call once all evidence is in,
 * after saving (saved evidence keeps the chains waiting, so that a merge
 * with other evidence can complete them) and before grading, with the
 * store the sessions were checked against.  The chains it decides leave
 * the store's notes. */
void ev_complete_chains(struct ev_store *ev, const struct x509_store *trust,
                        const struct x509_pool *bundle);
/* Does a chain still wait for ev_complete_chains? */
bool ev_chains_waiting(const struct ev_store *ev);
/* How many CA certificates and incomplete chains ev_complete_chains could
 * not be told of: their caps (distinct ones, EV_CHAINS_MAX_* unless
 * ev_store_set_chain_limits said otherwise) were reached. */
#define EV_CHAINS_MAX_CAS 4096
#define EV_CHAINS_MAX_PENDING 4096
void ev_chains_cap_hits(const struct ev_store *ev, uint64_t *cas, uint64_t *pending);
/* Set the two caps of a store before anything is noted in it (a store
 * whose notes began keeps the caps it began with). */
void ev_store_set_chain_limits(struct ev_store *ev, size_t max_cas, size_t max_pending);
void ev_store_chain_limits(const struct ev_store *ev, size_t *max_cas, size_t *max_pending);

/* ---- checks, score, letters (checks.c, score.c) ---- */

enum check_status { CHECK_UNKNOWN, CHECK_PASS, CHECK_FAIL };

/* What a failed check does to the grade. */
enum check_effect {
  EFFECT_NONE,    /* informational */
  EFFECT_CAP,     /* caps the letter at `cap` */
  EFFECT_WARN,    /* a warning: A becomes A- */
  EFFECT_TRUST,   /* T */
  EFFECT_NAME,    /* M */
  EFFECT_NO_APLUS /* blocks A+ only */
};

/* One check of a server, 52 of them in each grade result: kept small
 * (56 bytes), its title and recommendation are its rule's (check_title,
 * check_recommendation). */
struct check_result {
  const char *id;                    /* the rating guide's id: "ssl3", "no_fs", ... */
  const char *reason;                /* why it failed / passed, plain words */
  const struct ev_fact *evidence[4]; /* facts that decided it */
  enum check_status status : 8;
  enum check_effect effect : 8;
  char cap;           /* 'A'..'F' for EFFECT_CAP */
  uint8_t n_evidence; /* of evidence[] */
  uint8_t rule;       /* its rule in checks.c's table */
  int16_t severity;   /* for ordering recommendations: higher first */
};

/* A check's title, and what to do about its failure (NULL: nothing). */
const char *check_title(const struct check_result *c);
const char *check_recommendation(const struct check_result *c);

#define GRADE_MAX_CHECKS 52

struct grade_result {
  const struct ev_endpoint *ep;
  bool graded; /* a ServerHello was seen: there is something to grade */
  const char *no_grade_reason;
  int protocol, key_exchange, cipher, total; /* -1 unknown */
  char letter[4];                            /* "A+", "A", "A-", "B".."F", "T", "M", "-" */
  bool no_sni_folded; /* grade_endpoints: a `-` endpoint folded (report_no_sni_folded) */
  char letter_trust_ignored[4];
  char floor[4]; /* the letter if every unknown cap-check failed */
  struct check_result checks[GRADE_MAX_CHECKS];
  size_t n_checks, n_decided;
  const char *best_version, *worst_version;
  /* The server changed its configuration during the capture (score.c
   * change_point): each period graded alone (facts seen in both periods
   * count in both). */
  bool changed;
  cap_time_us changed_at;
  struct ev_sample change_before, change_after; /* the frames that disagree */
  char change_reason[96];
  char before[4], after[4];
};

void grade_endpoint(const struct ev_endpoint *ep, struct grade_result *out);
/* After grade_endpoint: grade each period when the configuration changed. */
void grade_periods(const struct ev_endpoint *ep, struct grade_result *out);
/* Both for eps[i] into out[i], i < n, on up to `jobs` threads (this one
 * included): out[i] is a result malloc'd by the thread that grades it, NULL
 * when it was not graded; the caller frees each.  An endpoint's lazily
 * sorted facts are touched by the one thread that grades it.  Once *stop
 * (NULL: never) is set, or a result cannot be allocated, no further
 * endpoint is begun. */
enum { GRADE_ALL = 0, GRADE_STOPPED = 1, GRADE_NO_MEMORY = -1 };
int grade_endpoints(const struct ev_endpoint *const *eps, size_t n, struct grade_result **out,
                    unsigned jobs, const volatile sig_atomic_t *stop);
/* Letter order: returns <0 when a is better than b. */
int grade_letter_cmp(const char *a, const char *b);

/* ---- compliance profiles (profiles.c, grade/profiles.tsv) ---- */

/* A profile's verdict on a server: it negotiated something the profile
 * forbids; nothing forbidden was seen but some items are undecided; or
 * every item was decided pass. */
enum grade_profile_verdict { GRADE_PROFILE_FAILS, GRADE_PROFILE_MEETS_SEEN, GRADE_PROFILE_MEETS };

/* One item of a profile (allowed versions, suites, groups, certificate
 * key, ...): pass, fail or unknown, why, and the facts that decided it. */
struct grade_profile_item {
  const char *id; /* "versions", "suites", "groups", "cert_key", or a check id */
  enum check_status status;
  const char *reason;
  const struct ev_fact *evidence[2];
  size_t n_evidence;
};

#define GRADE_PROFILE_ITEMS 12
struct grade_profile_result {
  const char *id, *title, *source; /* from grade/profiles.tsv */
  enum grade_profile_verdict verdict;
  struct grade_profile_item items[GRADE_PROFILE_ITEMS];
  size_t n_items;
};

/* How many profiles there are; the id of profile i (i < that), NULL past
 * the end. */
size_t grade_profile_count(void);
const char *grade_profile_id(size_t i);
/* Profile i on graded server r (after grade_endpoint: some items repeat
 * its checks).  False when i is past the end. */
bool grade_profile(const struct grade_result *r, size_t i, struct grade_profile_result *out);
/* The index of the profile named id, or -1. */
int grade_profile_find(const char *id);
/* "fails", "meets what was seen", "meets". */
const char *grade_profile_verdict_name(enum grade_profile_verdict v);
/* The first failed item's first evidence ("suite:TLS_RSA_...: file:frame"
 * in the text report), NULL when nothing failed. */
const struct grade_profile_item *grade_profile_failed_item(const struct grade_profile_result *p);
/* Every profile's verdict on r as one HTML table (report_profiles.c);
 * nothing for a server that was not graded. */
void report_profiles_html(FILE *out, const struct grade_result *r);

/* ---- reports (report_text.c, report_json.c, report_html.c) ---- */

/* Endpoints seen only in ClientHellos (ev_hello_only): they decide no
 * check, so reports fold them into one section, how many and those with
 * the most connections, instead of 48 unknown checks each. */
#define REPORT_HELLO_TOP 10
struct report_hello_only {
  size_t servers;
  uint64_t connections; /* their ClientHellos */
  uint64_t evicted;     /* of those, flows evicted before any answer (flow table full) */
  /* The REPORT_HELLO_TOP with most connections, most first; ties in the
   * order they were added (the store's: host, ip, port). */
  const struct ev_endpoint *top[REPORT_HELLO_TOP];
  size_t n_top;
};
/* Count the hello-only endpoint ep in h (zeroed first). */
void report_hello_only_add(struct report_hello_only *h, const struct ev_endpoint *ep);
/* ep's connections (its HANDSHAKES count). */
uint64_t report_connections(const struct ev_endpoint *ep);

struct report_meta {
  const char *const *inputs;
  size_t n_inputs;
  const cJSON *limits; /* borrowed, may be NULL */
  const cJSON *stats;  /* borrowed, may be NULL */
  unsigned jobs;       /* threads that may render servers (JSON); 0 or 1: this one */
  /* Addresses whose handshake messages came on connections without a
   * ClientHello (fact UNVERIFIED): listed, never graded.  Borrowed. */
  const struct ev_endpoint *const *unverified;
  size_t n_unverified;
  /* What the run warned of on stderr (an input cut short, a key log that
   * opened nothing), repeated in the report's header.  Borrowed. */
  const char *const *warnings;
  size_t n_warnings;
  const struct report_hello_only *hello_only; /* NULL: none */
  /* Once *stop (NULL: never) is set, no further server is rendered and
   * the report ends there, cut short. */
  const volatile sig_atomic_t *stop;
  /* HTML: a server's past grades (--history), written inside its section
   * by the caller's function; NULL: none. */
  void (*past_html)(void *ctx, FILE *out, const struct ev_endpoint *ep);
  void *past_ctx;
  /* The header (text; JSON "report"): when the report was made (0: not
   * said), the trust store the chains were verified against (--ca-file,
   * --ca-path, else the system's when trust_loaded, else none), the key
   * logs given, and whether the evidence came from saved files (merge:
   * no packet was read).  The capture period and the decryption counts
   * are read from stats ("first_packet", "last_packet", "decryption"). */
  cap_time_us generated;
  const char *ca_file, *ca_path;
  bool trust_loaded;
  bool from_evidence;
  const char *const *keylogs;
  size_t n_keylogs;
  /* Text: the summary's width in columns (0: REPORT_COLUMNS). */
  unsigned columns;
  bool verbose; /* text: every undecided check on its own line (--verbose) */
  /* The evidence whose client inventory the reports list (clients.c);
   * NULL: none. */
  const struct ev_store *evidence;
};
/* The text summary's width when no terminal says otherwise: pipes and
 * files get the same report wherever they are made. */
#define REPORT_COLUMNS 80
#define REPORT_COLUMNS_MIN 64

/* r[0..n): the servers in report order (pointers: sorting thousands of
 * results moves no 3 kB structs).  detail: each server's checks and
 * evidence after the summary table. */
void report_text(FILE *out, const struct grade_result *const *r, size_t n,
                 const struct report_meta *m, bool color, bool detail);
void report_json(FILE *out, const struct grade_result *const *r, size_t n,
                 const struct report_meta *m);
void report_html(FILE *out, const struct grade_result *const *r, size_t n,
                 const struct report_meta *m);
/* The client inventory (report_clients.c) in JSON: the member "clients"
 * and its comma, everything listed: the clients by address and JA4, worst
 * first, then per server (in r's order) the clients that connected and
 * what each got.  (Text and HTML: report.h.) */
#define REPORT_CLIENTS_TOP 20
void report_clients_json(FILE *out, const struct grade_result *const *r, size_t n,
                         const struct report_meta *m);
/* Connections without SNI (the `-` endpoint of an address, and the
 * address evidence named servers there inherit: address_facts.c).  Is r
 * a `-` endpoint folded under its address (a named server there sent the
 * same certificate, or it saw none, and every check that failed on it and
 * changes a grade failed on a named server of the address too: decided by
 * grade_endpoints)?  Then its letter would say nothing the named servers'
 * do not: text and HTML
 * show no letter for it, only report_no_sni_line; JSON keeps it with
 * "folded_under_address": true; the exit statuses (--fail-below,
 * --profile), --history, ECS findings and the text header's server count
 * leave it out. */
bool report_no_sni_folded(const struct grade_result *r);
/* --format ecs (report_ecs.c): one ECS document per failed check per
 * server (not a folded `-` endpoint), one per line. */
void report_ecs(FILE *out, const struct grade_result *const *r, size_t n);
/* --format cbom (report_cbom.c): a CycloneDX 1.6 cryptographic bill of
 * materials of what the servers negotiated. */
void report_cbom(FILE *out, const struct grade_result *const *r, size_t n);

#endif
