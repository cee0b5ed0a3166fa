/*
 * grade/cert_sent.c - the certificate chain as the server sent it, kept in
 * the evidence so that a report read from saved or merged evidence can
 * still show it: per chain one SENT_CHAIN fact (its sightings and frame)
 * and per certificate a few SENT_CERT facts (fact_table.h), each a short
 * sanitised field that libcrypto decoded once (dissect/x509.c).
 *
 * The fields are noted at the chain's first sighting on an endpoint only:
 * they are the chain's, so their sightings are the chain's, and saved
 * evidence writes them so (ev_sent_chain_of).  Formatting them again for
 * every handshake was a tenth of a one-thread run on handshake-heavy
 * captures.
 */
#include "base/hash.h"
#include "grade/evidence.h"
#include "grade/facts.h"

#include <stdio.h>
#include <string.h>

/* src into dst (cap bytes with its NUL) as valid UTF-8 without control
 * characters (a '?' for each byte that is neither), cut at a character
 * with "..." when it does not fit: a key's text is printed by every format. */
static void clean(char *dst, size_t cap, const char *src) {
  size_t plain = 0; /* printable ASCII, the usual case: as it is when it fits */
  while ((uint8_t)src[plain] >= 0x20 && (uint8_t)src[plain] < 0x7f)
    plain++;
  if (!src[plain] && plain < cap) {
    memcpy(dst, src, plain + 1);
    return;
  }
  size_t o = 0, kept = 0, n = plain + strlen(src + plain); /* kept: what stays, "..." after it */
  for (size_t i = 0; i < n;) {
    uint32_t cp = (uint8_t)src[i];
    size_t k = cp && cp < 0x80 ? 1 : cap_utf8_seq((const uint8_t *)src + i, n - i, &cp);
    bool ok = k > 0 && cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0);
    size_t take = ok ? k : 1;
    if (o + take + 1 > cap) {
      memcpy(dst + kept, "...", 3);
      o = kept + 3;
      break;
    }
    if (ok)
      memcpy(dst + o, src + i, k);
    else
      dst[o] = '?';
    o += take;
    if (o + 4 <= cap)
      kept = o;
    i += k ? k : 1;
  }
  dst[o] = '\0';
}

/* The dNSName entries joined by ", ", and "(+N more)" for those that did
 * not fit in EV_SENT_VALUE bytes. */
static void san_list(char *out, size_t cap, const struct tls_cert *cert) {
  size_t o = 0, i = 0;
  out[0] = '\0';
  for (; i < cert->n_san; i++) {
    char name[EV_SENT_VALUE];
    clean(name, sizeof name, cert->san[i]);
    size_t need = strlen(name) + (i ? 2 : 0);
    if (o + need + 16 > cap) /* "(+NNN more)" must still fit */
      break;
    o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", name);
  }
  if (i < cert->n_san)
    snprintf(out + o, cap - o, "%s(+%zu more)", o ? " " : "", cert->n_san - i);
}

/* The chain's ID: FNV-1a over its certificates' SHA-256 digests in the
 * order sent, 16 hex digits; the same chain sent again has the same ID, a
 * chain differing in any certificate or its order (almost surely) another.
 * Only the report tells chains apart by it: a collision, which a server
 * would have to grind its own certificates for, merges two chains' lines,
 * never a fact that grades.  (SHA-256 here cost a fifth of the run on
 * handshake-heavy captures: libcrypto fetches the digest every call.) */
static void chain_id(const struct tls_session *s, char id[EV_SENT_ID_LEN + 1]) {
  uint64_t h = HASH_FNV_OFFSET;
  for (size_t i = 0; i < s->chain_len; i++)
    h = hash_str(h ^ 0xff, s->chain[i]->sha256);
  snprintf(id, EV_SENT_ID_LEN + 1, "%016llx", (unsigned long long)h);
}

/* s at *at in name (cut where it would overflow, as snprintf cuts). */
static void put(char *name, size_t *at, const char *s) {
  size_t n = strlen(s);
  if (n > EV_KEY_MAX - 1 - *at)
    n = EV_KEY_MAX - 1 - *at;
  memcpy(name + *at, s, n);
  *at += n;
}

/* "ID:INDEX:FIELD:VALUE", put together by hand: snprintf was a tenth of
 * a session's evidence, a chain being a dozen fields. */
static void add_field(struct ev_endpoint *ep, const struct ev_sample *at, const char *id,
                      size_t index, const char *field, const char *value) {
  char name[EV_KEY_MAX], digits[24];
  size_t len = 0, d = sizeof digits;
  digits[--d] = '\0';
  do
    digits[--d] = (char)('0' + index % 10);
  while ((index /= 10) && d > 0);
  put(name, &len, id);
  put(name, &len, ":");
  put(name, &len, digits + d);
  put(name, &len, ":");
  put(name, &len, field);
  put(name, &len, ":");
  put(name, &len, value);
  name[len] = '\0';
  ev_add_name(ep, at, EV_SENT_CERT, name);
}

static const char *key_type_name(uint8_t type) {
  static const char *const types[] = {"unknown", "RSA",   "DSA", "EC",
                                      "Ed25519", "Ed448", "DH",  "other"};
  return types[type < 8 ? type : 0];
}

static void cert_fields(struct ev_endpoint *ep, const struct ev_sample *at, const char *id,
                        size_t index, const struct tls_cert *cert) {
  char value[EV_SENT_VALUE];
  add_field(ep, at, id, index, "sha256", cert->sha256);
  if (!cert->parsed) {
    clean(value, sizeof value, cert->parse_error ? cert->parse_error : "unreadable");
    add_field(ep, at, id, index, "unreadable", value);
    return;
  }
  clean(value, sizeof value, cert->subject ? cert->subject : "");
  add_field(ep, at, id, index, "subject", value);
  if (cert->n_san) {
    san_list(value, sizeof value, cert);
    add_field(ep, at, id, index, "san", value);
  }
  clean(value, sizeof value, cert->issuer ? cert->issuer : "");
  add_field(ep, at, id, index, "issuer", value);
  if (cert->not_before[0] && cert->not_after[0]) {
    snprintf(value, sizeof value, "%.19s..%.19s", cert->not_before, cert->not_after);
    add_field(ep, at, id, index, "valid", value);
  }
  char curve[40];
  clean(curve, sizeof curve, cert->key_curve);
  snprintf(value, sizeof value, "%s %d%s%s", key_type_name(cert->key_type), cert->key_bits,
           curve[0] ? " " : "", curve);
  add_field(ep, at, id, index, "key", value);
  clean(value, sizeof value, cert->sig_alg);
  add_field(ep, at, id, index, "sig", value);
}

void ev_sent_chain_facts(struct ev_endpoint *ep, const struct tls_session *s,
                         const struct ev_sample *at) {
  char id[EV_SENT_ID_LEN + 1], key[EV_KEY_MAX];
  struct ev_typed typed;
  if (!s->chain_len)
    return;
  chain_id(s, id);
  if (!ev_key_make(EV_SENT_CHAIN, &(struct ev_args){.name = id, .number = s->chain_len}, key,
                   &typed))
    return;
  bool noted = ev_find(ep, key) != NULL; /* and its certificates' fields with it */
  ev_fact_add(ep, key, &typed, 1, at->aborted ? 1 : 0, at->ts, at->ts, at);
  for (size_t i = 0; !noted && i < s->chain_len && i < ep->max_sent_certs; i++)
    cert_fields(ep, at, id, i, s->chain[i]);
}

const struct ev_fact *ev_sent_chain_of(const struct ev_endpoint *ep, const struct ev_fact *cert) {
  if (cert->typed.id != EV_SENT_CERT)
    return NULL;
  size_t n;
  const struct ev_fact *const *chains = ev_facts_of(ep, EV_SENT_CHAIN, &n);
  for (size_t i = 0; i < n; i++)
    if (chains[i]->typed.id == EV_SENT_CHAIN && chains[i]->typed.name_len == EV_SENT_ID_LEN &&
        memcmp(chains[i]->key + chains[i]->typed.name_at, cert->key + cert->typed.name_at,
               EV_SENT_ID_LEN) == 0)
      return chains[i];
  return NULL;
}

void ev_trust_store_fact(struct ev_endpoint *ep, const struct ev_conn *c,
                         const struct ev_sample *at) {
  char file[EV_SENT_VALUE], dir[EV_SENT_VALUE], name[2 * EV_SENT_VALUE + 16];
  clean(file, sizeof file, c->trust_file ? c->trust_file : "");
  clean(dir, sizeof dir, c->trust_dir ? c->trust_dir : "");
  if (!file[0] && !dir[0])
    snprintf(name, sizeof name, "system");
  else
    snprintf(name, sizeof name, "%s%s%s%s%s", file[0] ? "file:" : "", file,
             file[0] && dir[0] ? "," : "", dir[0] ? "dir:" : "", dir);
  ev_add_name(ep, at, EV_TRUST_STORE, name);
}
