/*
 * tests/unit/test_chains.c - grade/chains.c's notes are bounded: distinct
 * CA certificates and distinct incomplete chains each stop at their cap
 * (grade.h: EV_CHAINS_MAX_CAS, EV_CHAINS_MAX_PENDING), the rest counted;
 * the same certificate or chain seen again costs nothing more.
 */
#include "grade/chains.h"
#include "tests/unit/harness.h"

/* A certificate with a made-up fingerprint: the notes key on it. */
static void fake_cert(struct tls_cert *c, uint8_t *der, unsigned i) {
  memset(c, 0, sizeof(*c));
  snprintf(c->sha256, sizeof(c->sha256), "%064x", i);
  der[0] = (uint8_t)i;
  c->der = der;
  c->der_len = 1;
}

static void cas_capped_and_counted(void) {
  struct ev_store *ev = ev_store_new();
  struct ev_sample at = {"x.pcap", 1, 1000, false};
  uint8_t der[1];
  struct tls_cert c;
  for (unsigned i = 0; i < EV_CHAINS_MAX_CAS + 5; i++) {
    fake_cert(&c, der, i);
    ev_chains_note_ca(ev, &c, &at);
    ev_chains_note_ca(ev, &c, &at); /* the same one again: not a new note */
  }
  uint64_t cas, pending;
  ev_chains_cap_hits(ev, &cas, &pending);
  CHECK_EQ_U(cas, 10); /* the 5 past the cap, each asked twice; none below it */
  CHECK_EQ_U(pending, 0);
  ev_store_free(ev);
}

static void pending_capped_and_counted(void) {
  struct ev_store *ev = ev_store_new();
  struct ev_endpoint *ep = ev_endpoint_get(ev, "a.example", "192.0.2.1", 443);
  struct ev_sample at = {"x.pcap", 1, 1000, false};
  uint8_t der[1];
  struct tls_cert c;
  const struct tls_cert *chain[1] = {&c};
  struct tls_session s;
  memset(&s, 0, sizeof(s));
  s.chain = chain;
  s.chain_len = 1;
  size_t refused = 0;
  for (unsigned i = 0; ep && i < EV_CHAINS_MAX_PENDING + 3; i++) {
    fake_cert(&c, der, i);
    refused += !ev_chains_note_pending(ev, ep, "a.example", &s, &at);
    CHECK(ev_chains_note_pending(ev, ep, "a.example", &s, &at) || i >= EV_CHAINS_MAX_PENDING);
  }
  uint64_t cas, pending;
  ev_chains_cap_hits(ev, &cas, &pending);
  CHECK_EQ_U(refused, 3);
  CHECK_EQ_U(pending, 6); /* the 3 chains past the cap, each asked twice */
  CHECK_EQ_U(cas, 0);
  /* Saved one endpoint at a time, the chains after them: the bytes of
   * the whole tree's text. */
  char *streamed = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&streamed, &len);
  CHECK(out && ev_write(ev, out) == 0);
  if (out)
    fclose(out);
  cJSON *j = ev_to_json(ev);
  char *whole = j ? cJSON_PrintUnformatted(j) : NULL;
  CHECK(whole && strstr(whole, "\"chains\"") && streamed && len == strlen(whole) + 1 &&
        strncmp(streamed, whole, strlen(whole)) == 0 && streamed[len - 1] == '\n');
  cJSON_Delete(j);
  free(whole);
  free(streamed);
  ev_store_free(ev);
}

int main(void) {
  RUN(cas_capped_and_counted);
  RUN(pending_capped_and_counted);
  return harness_done();
}
