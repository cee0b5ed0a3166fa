/*
 * tests/fuzz/fuzz_evidence.c - the evidence reader and merge: bytes as an
 * evidence file (JSON), loaded, merged into a store that already holds
 * facts, graded, written back and read again.  Evidence files travel
 * between hosts (tlsgrade merge), so they are untrusted input too.  Each
 * fact's family and arguments, read from its key once, must be what the
 * key says.
 */
#include "tests/fuzz/fuzz.h"
#include "grade/grade.h"

#include <stdlib.h>
#include <string.h>

static void grade_all(const struct ev_store *ev) {
  for (size_t i = 0; i < ev_count(ev); i++) {
    struct grade_result r;
    grade_endpoint(ev_endpoint_at(ev, i), &r);
    grade_periods(ev_endpoint_at(ev, i), &r);
  }
}

/* What a fact says (parsed once, as it was loaded, or copied with it by a
 * merge) is what its key says, and its name lies within its key. */
static void check_typed(const struct ev_store *ev) {
  for (size_t i = 0; i < ev_count(ev); i++) {
    size_t n;
    const struct ev_fact **facts = ev_sorted_facts(ev_endpoint_at(ev, i), &n);
    for (size_t k = 0; facts && k < n; k++) {
      const struct ev_fact *f = facts[k];
      struct ev_typed t;
      ev_key_parse(f->key, &t);
      FUZZ_INVARIANT(t.id == f->typed.id && t.version == f->typed.version &&
                     t.number == f->typed.number && t.name_at == f->typed.name_at &&
                     t.name_len == f->typed.name_len);
      FUZZ_INVARIANT((size_t)f->typed.name_at + f->typed.name_len <= strlen(f->key));
    }
    free(facts);
  }
}

int fuzz_evidence_one(const uint8_t *data, size_t size) {
  cJSON *j = cJSON_ParseWithLength((const char *)data, size);
  if (!j)
    return 0;
  char err[200];
  struct ev_store *in = ev_from_json(j, err, sizeof(err));
  cJSON_Delete(j);
  if (!in)
    return 0;
  struct ev_store *base = ev_store_new();
  struct ev_endpoint *ep = base ? ev_endpoint_get(base, "fuzz.example", "192.0.2.1", 443) : NULL;
  if (ep) {
    struct ev_sample at = {(char *)"base.pcap", 1, 1700000000000000, false};
    ev_note(ep, &at, "version:TLSv1.2");
    ev_note(ep, &at, "sslv2:key:00");
  }
  check_typed(in);
  if (base && ev_merge(base, in) == 0) {
    check_typed(base);
    ev_derive_facts(base, NULL);
    grade_all(base);
    /* What was read must survive a round trip. */
    cJSON *out = ev_to_json(in);
    struct ev_store *again = out ? ev_from_json(out, err, sizeof(err)) : NULL;
    FUZZ_INVARIANT(!out || again);
    FUZZ_INVARIANT(!again || ev_count(again) == ev_count(in));
    ev_store_free(again);
    cJSON_Delete(out);
  }
  ev_store_free(base);
  ev_store_free(in);
  return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_evidence_one(data, size);
}
#endif
