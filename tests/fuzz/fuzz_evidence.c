/*
 * tests/fuzz/fuzz_evidence.c - the evidence reader and merge: bytes as an
 * evidence file (JSON), loaded, merged into a store that already holds
 * facts, graded, written back and read again.  Evidence files travel
 * between hosts (tlsgrade merge), so they are untrusted input too.
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
    struct ev_sample at = {(char *)"base.pcap", 1, 1700000000000000};
    ev_note(ep, &at, "version:TLSv1.2");
    ev_note(ep, &at, "sslv2:key:00");
  }
  if (base && ev_merge(base, in) == 0) {
    ev_derive_facts(base);
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
