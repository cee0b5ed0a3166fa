/*
 * grade/report_cbom.c - --format cbom: a CycloneDX 1.6 cryptographic bill
 * of materials of what the capture shows was negotiated, from each
 * server's evidence:
 *
 *   a protocol asset per server and version, with the suites negotiated
 *     under it (the answers to offers, fact ANSWER) and references to the
 *     groups and certificates seen;
 *   an algorithm asset per bulk cipher, key-exchange group, DH size and
 *     certificate key;
 *   a certificate asset per leaf certificate (by its SHA-256; the evidence
 *     keeps no subject), and the leaf's public key as related material.
 *
 * Each asset is written once however many servers share it (bom-refs
 * remembered in a hash set: linear in the assets).  Nothing is written
 * for what was offered but not chosen.
 */
#include "base/hash.h"
#include "grade/grade.h"
#include "grade/report.h"

#include <stdlib.h>
#include <string.h>

/* The bom-refs written so far. */
struct ref_set {
  char **slot; /* open addressing, owned strings */
  size_t n, cap;
};

/* true when ref is new (and now remembered), false when already written
 * (or out of memory: the asset is then left out rather than duplicated). */
static bool ref_new(struct ref_set *set, const char *ref) {
  if (2 * (set->n + 1) > set->cap) {
    size_t cap = set->cap ? 2 * set->cap : 64;
    char **slot = calloc(cap, sizeof(*slot));
    if (!slot)
      return false;
    for (size_t i = 0; i < set->cap; i++) {
      if (!set->slot[i])
        continue;
      size_t k = hash_range(hash_str(HASH_FNV_OFFSET, set->slot[i]), cap);
      while (slot[k])
        k = (k + 1) % cap;
      slot[k] = set->slot[i];
    }
    free(set->slot);
    set->slot = slot;
    set->cap = cap;
  }
  size_t k = hash_range(hash_str(HASH_FNV_OFFSET, ref), set->cap);
  for (; set->slot[k]; k = (k + 1) % set->cap)
    if (strcmp(set->slot[k], ref) == 0)
      return false;
  if (!(set->slot[k] = strdup(ref)))
    return false;
  set->n++;
  return true;
}

static void ref_set_free(struct ref_set *set) {
  for (size_t i = 0; i < set->cap; i++)
    free(set->slot[i]);
  free(set->slot);
}

struct bom {
  cJSON *components;
  struct ref_set refs;
};

/* A new cryptographic-asset component of the given type, or NULL when
 * its bom-ref was written already. */
static cJSON *asset(struct bom *b, const char *ref, const char *name, const char *asset_type,
                    cJSON **props) {
  if (!ref_new(&b->refs, ref))
    return NULL;
  cJSON *c = cJSON_CreateObject();
  cJSON_AddStringToObject(c, "type", "cryptographic-asset");
  cJSON_AddStringToObject(c, "bom-ref", ref);
  cJSON_AddStringToObject(c, "name", name);
  cJSON *crypto = cJSON_AddObjectToObject(c, "cryptoProperties");
  cJSON_AddStringToObject(crypto, "assetType", asset_type);
  *props = crypto;
  cJSON_AddItemToArray(b->components, c);
  return c;
}

static void add_strings(cJSON *o, const char *key, const char *a, const char *b) {
  cJSON *list = cJSON_AddArrayToObject(o, key);
  cJSON_AddItemToArray(list, cJSON_CreateString(a));
  if (b)
    cJSON_AddItemToArray(list, cJSON_CreateString(b));
}

/* NIST's post-quantum security categories (FIPS 203 for ML-KEM; AES-128,
 * -192 and -256 define categories 1, 3 and 5). */
static int nist_level(const char *name, int bits) {
  if (strstr(name, "MLKEM1024"))
    return 5;
  if (strstr(name, "MLKEM768"))
    return 3;
  if (strstr(name, "MLKEM512"))
    return 1;
  if (strncmp(name, "AES", 3) == 0)
    return bits >= 256 ? 5 : bits >= 192 ? 3 : bits >= 128 ? 1 : 0;
  return 0;
}

/* An algorithm asset; its bom-ref is "algorithm:NAME". */
static void algorithm(struct bom *b, const char *name, const char *primitive, const char *mode,
                      const char *param, int bits, const char *fn1, const char *fn2) {
  char ref[160];
  snprintf(ref, sizeof(ref), "algorithm:%s", name);
  cJSON *crypto;
  if (!asset(b, ref, name, "algorithm", &crypto))
    return;
  cJSON *p = cJSON_AddObjectToObject(crypto, "algorithmProperties");
  cJSON_AddStringToObject(p, "primitive", primitive);
  if (param)
    cJSON_AddStringToObject(p, "parameterSetIdentifier", param);
  if (mode)
    cJSON_AddStringToObject(p, "mode", mode);
  cJSON_AddStringToObject(p, "executionEnvironment", "unknown");
  cJSON_AddStringToObject(p, "implementationPlatform", "unknown");
  if (bits > 0)
    cJSON_AddItemToObject(p, "classicalSecurityLevel", report_int_item(bits));
  cJSON_AddItemToObject(p, "nistQuantumSecurityLevel", report_int_item(nist_level(name, bits)));
  add_strings(p, "cryptoFunctions", fn1, fn2);
}

/* A suite's bulk cipher ("AES_128_GCM" becomes "AES-128-GCM"), written as
 * an algorithm asset; its bom-ref into ref. */
static void bulk_cipher(struct bom *b, const struct tls_suite_info *info, char ref[160]) {
  char name[64];
  snprintf(name, sizeof(name), "%s", info->cipher ? info->cipher : "unknown");
  for (char *p = name; *p; p++)
    if (*p == '_')
      *p = '-';
  const char *primitive = info->aead ? "ae"
                          : info->rc4 || !info->block_bits
                              ? (strcmp(name, "NULL") == 0 ? "other" : "stream-cipher")
                              : "block-cipher";
  const char *mode = strstr(name, "GCM")   ? "gcm"
                     : strstr(name, "CCM") ? "ccm"
                     : info->cbc           ? "cbc"
                                           : NULL;
  algorithm(b, name, primitive, mode, NULL, info->bits, "encrypt", "decrypt");
  snprintf(ref, 160, "algorithm:%s", name);
}

static void add_suite(struct bom *b, cJSON *suites, uint16_t version, uint64_t id) {
  const struct tls_suite_info *info = version == TLS_VERSION_SSL2
                                          ? tls_sslv2_suite_lookup((uint32_t)id)
                                          : tls_suite_lookup((uint32_t)id);
  cJSON *s = cJSON_CreateObject();
  char hex[24];
  snprintf(hex, sizeof(hex), "0x%04llx", (unsigned long long)id);
  cJSON_AddStringToObject(s, "name", info ? info->name : hex);
  if (info && !info->scsv) {
    char ref[160];
    bulk_cipher(b, info, ref);
    add_strings(s, "algorithms", ref, NULL);
  }
  char hi[8], lo[8]; /* CycloneDX: "0xC0", "0x2F" */
  snprintf(hi, sizeof(hi), "0x%02llX", (unsigned long long)(id >> 8 & 0xff));
  snprintf(lo, sizeof(lo), "0x%02llX", (unsigned long long)(id & 0xff));
  if (version != TLS_VERSION_SSL2)
    add_strings(s, "identifiers", hi, lo);
  cJSON_AddItemToArray(suites, s);
}

/* The leaf certificates, and (when the server showed one leaf) its key as
 * related material whose algorithm is the key's type and size. */
static void certificates(struct bom *b, const struct ev_endpoint *ep, cJSON *refs) {
  size_t n_leaf, n_type, n_key;
  const struct ev_fact *const *leaf = ev_facts_of(ep, EV_CERT_LEAF, &n_leaf);
  char key_ref[160] = "";
  const struct ev_fact *const *types = ev_facts_of(ep, EV_CERT_KEY_TYPE, &n_type);
  const struct ev_fact *const *keys = ev_facts_of(ep, EV_CERT_KEY, &n_key);
  if (n_leaf == 1 && n_type == 1 && n_key == 1) {
    char alg[64], alg_ref[160], upper[16];
    snprintf(upper, sizeof(upper), "%.*s", (int)types[0]->typed.name_len, ev_fact_name(types[0]));
    for (char *p = upper; *p; p++)
      *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    snprintf(alg, sizeof(alg), "%s-%llu", upper, (unsigned long long)types[0]->typed.number);
    algorithm(b, alg, "signature", NULL, NULL, 0, "sign", "verify");
    snprintf(alg_ref, sizeof(alg_ref), "algorithm:%s", alg);
    snprintf(key_ref, sizeof(key_ref), "key:%s", ev_fact_name(keys[0]));
    cJSON *crypto;
    if (asset(b, key_ref, alg, "related-crypto-material", &crypto)) {
      cJSON *m = cJSON_AddObjectToObject(crypto, "relatedCryptoMaterialProperties");
      cJSON_AddStringToObject(m, "type", "public-key");
      cJSON_AddStringToObject(m, "id", ev_fact_name(keys[0])); /* SHA-256 of its SPKI */
      cJSON_AddStringToObject(m, "algorithmRef", alg_ref);
      cJSON_AddItemToObject(m, "size", report_int_item((long long)types[0]->typed.number));
    }
  }
  for (size_t i = 0; i < n_leaf; i++) {
    char ref[160];
    const char *sha256 = ev_fact_name(leaf[i]);
    snprintf(ref, sizeof(ref), "certificate:%s", sha256);
    cJSON_AddItemToArray(refs, cJSON_CreateString(ref));
    cJSON *crypto;
    cJSON *c = asset(b, ref, ref, "certificate", &crypto);
    if (!c)
      continue;
    cJSON *hash = cJSON_CreateObject();
    cJSON_AddStringToObject(hash, "alg", "SHA-256");
    cJSON_AddStringToObject(hash, "content", sha256);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "hashes"), hash);
    cJSON *p = cJSON_AddObjectToObject(crypto, "certificateProperties");
    cJSON_AddStringToObject(p, "certificateFormat", "X.509");
    if (key_ref[0])
      cJSON_AddStringToObject(p, "subjectPublicKeyRef", key_ref);
  }
}

/* The groups, DH sizes and certificates of the server, as assets, and
 * their references into refs (the protocol assets' cryptoRefArray). */
static void server_material(struct bom *b, const struct ev_endpoint *ep, cJSON *refs) {
  size_t n;
  char ref[160], name[96], param[24];
  const struct ev_fact *const *kx = ev_facts_of(ep, EV_KX_ECDH, &n);
  for (size_t i = 0; i < n; i++) {
    if (kx[i]->typed.id != EV_KX_ECDH)
      continue;
    snprintf(name, sizeof(name), "%.*s", (int)kx[i]->typed.name_len, ev_fact_name(kx[i]));
    snprintf(param, sizeof(param), "%llu", (unsigned long long)kx[i]->typed.number);
    bool kem = strstr(name, "MLKEM") || strstr(name, "Kyber");
    algorithm(b, name, kem ? "kem" : "key-agree", NULL, param, 0, kem ? "encapsulate" : "keygen",
              kem ? "decapsulate" : NULL);
    snprintf(ref, sizeof(ref), "algorithm:%s", name);
    cJSON_AddItemToArray(refs, cJSON_CreateString(ref));
  }
  const struct ev_fact *const *dh = ev_facts_of(ep, EV_KX_DH, &n);
  for (size_t i = 0; i < n; i++) {
    if (dh[i]->typed.id != EV_KX_DH)
      continue;
    snprintf(name, sizeof(name), "FFDH-%llu", (unsigned long long)dh[i]->typed.number);
    snprintf(param, sizeof(param), "%llu", (unsigned long long)dh[i]->typed.number);
    algorithm(b, name, "key-agree", NULL, param, 0, "keygen", NULL);
    snprintf(ref, sizeof(ref), "algorithm:%s", name);
    cJSON_AddItemToArray(refs, cJSON_CreateString(ref));
  }
  certificates(b, ep, refs);
}

/* CycloneDX protocolProperties.type and version: "tls" and "1.2". */
static void protocol_version(uint16_t v, const char **type, char version[16]) {
  const char *name = tls_version_name(v);
  const char *digits = name ? strchr(name, 'v') : NULL;
  *type = name && strncmp(name, "DTLS", 4) == 0 ? "other" : "tls";
  snprintf(version, 16, "%s", digits ? digits + 1 : "unknown");
}

/* One protocol asset per version the server negotiated, its suites those
 * it chose under that version (resumptions keep an earlier choice and are
 * not answers). */
static void server_protocols(struct bom *b, const struct grade_result *r) {
  const struct ev_endpoint *ep = r->ep;
  cJSON *material = cJSON_CreateArray();
  server_material(b, ep, material);
  size_t n_versions, n_answers;
  const struct ev_fact *const *versions = ev_facts_of(ep, EV_VERSION, &n_versions);
  const struct ev_fact *const *answers = ev_facts_of(ep, EV_ANSWER, &n_answers);
  for (size_t i = 0; i < n_versions; i++) {
    uint16_t v = versions[i]->typed.version;
    const char *type;
    char version[16], ref[EV_KEY_MAX + 96], name[EV_KEY_MAX + 64];
    protocol_version(v, &type, version);
    snprintf(ref, sizeof(ref), "protocol:%s/%s@%s/%s:%u", type, version, ep->host, ep->ip,
             ep->port);
    snprintf(name, sizeof(name), "%s %s:%u", ev_fact_name(versions[i]), ep->ip, ep->port);
    cJSON *crypto;
    cJSON *c = asset(b, ref, name, "protocol", &crypto);
    if (!c)
      continue;
    cJSON *p = cJSON_AddObjectToObject(crypto, "protocolProperties");
    cJSON_AddStringToObject(p, "type", type);
    cJSON_AddStringToObject(p, "version", version);
    cJSON *suites = cJSON_AddArrayToObject(p, "cipherSuites");
    uint64_t seen[64];
    size_t n_seen = 0;
    for (size_t k = 0; k < n_answers && n_seen < 64; k++) {
      const struct ev_typed *t = &answers[k]->typed;
      if (t->id != EV_ANSWER || t->version != v || t->number == EV_ANSWER_REFUSED)
        continue;
      bool again = false;
      for (size_t j = 0; j < n_seen; j++)
        again = again || seen[j] == t->number;
      if (!again) {
        seen[n_seen++] = t->number;
        add_suite(b, suites, v, t->number);
      }
    }
    cJSON_AddItemToObject(p, "cryptoRefArray", cJSON_Duplicate(material, true));
    cJSON *props = cJSON_AddArrayToObject(c, "properties");
    const char *kv[][2] = {
        {"tlsgrade:host", ep->host}, {"tlsgrade:ip", ep->ip}, {"tlsgrade:grade", r->letter}};
    for (size_t k = 0; k < 3; k++) {
      cJSON *prop = cJSON_CreateObject();
      cJSON_AddStringToObject(prop, "name", kv[k][0]);
      cJSON_AddStringToObject(prop, "value", kv[k][1]);
      cJSON_AddItemToArray(props, prop);
    }
    char port[8];
    snprintf(port, sizeof(port), "%u", ep->port);
    cJSON *prop = cJSON_CreateObject();
    cJSON_AddStringToObject(prop, "name", "tlsgrade:port");
    cJSON_AddStringToObject(prop, "value", port);
    cJSON_AddItemToArray(props, prop);
  }
  cJSON_Delete(material);
}

void report_cbom(FILE *out, const struct grade_result *const *r, size_t n) {
  struct bom b = {cJSON_CreateArray(), {NULL, 0, 0}};
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json");
  cJSON_AddStringToObject(o, "bomFormat", "CycloneDX");
  cJSON_AddStringToObject(o, "specVersion", "1.6");
  cJSON_AddItemToObject(o, "version", report_int_item(1));
  cJSON *tool = cJSON_CreateObject();
  cJSON_AddStringToObject(tool, "type", "application");
  cJSON_AddStringToObject(tool, "name", "tlsgrade");
  cJSON_AddStringToObject(tool, "version", TLSGRADE_VERSION);
  cJSON *tools = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "metadata"), "tools");
  cJSON_AddItemToArray(cJSON_AddArrayToObject(tools, "components"), tool);
  for (size_t i = 0; i < n; i++)
    if (r[i]->graded)
      server_protocols(&b, r[i]);
  cJSON_AddItemToObject(o, "components", b.components);
  char *text = cJSON_Print(o);
  if (text)
    fprintf(out, "%s\n", text);
  free(text);
  cJSON_Delete(o);
  ref_set_free(&b.refs);
}
