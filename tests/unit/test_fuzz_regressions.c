/*
 * tests/unit/test_fuzz_regressions.c - replay every file under
 * tests/fuzz/regressions/TARGET/ through the fuzz target's own entry point
 * (fuzz_TARGET_one, tests/fuzz/fuzz_TARGET.c, included here without
 * libFuzzer), under the regular build and SAN=1.
 *
 * Each file is an input a fuzzer found crashing, leaking or looping before
 * its fix, or a small interesting input kept so that every target's replay
 * exercises something.  A regression shows as a sanitizer report or trap
 * naming the file printed before it, or as a leak at exit under SAN=1.
 * Run from the repository root (the files are found relative to it).
 */
#include "tests/fuzz/fuzz_evidence.c"
#include "tests/fuzz/fuzz_flows.c"
#include "tests/fuzz/fuzz_handshake.c"
#include "tests/fuzz/fuzz_pcap.c"
#include "tests/fuzz/fuzz_quic.c"
#include "tests/fuzz/fuzz_tls_stream.c"
#include "tests/fuzz/fuzz_x509.c"
#include "tests/unit/harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#define REGRESSIONS "tests/fuzz/regressions"

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static uint8_t *read_whole(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap)
      break;
    uint8_t *bigger = realloc(buf, cap * 2);
    if (!bigger) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = bigger;
    cap *= 2;
  }
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/* Replay every regular file of REGRESSIONS/target; returns how many. */
static size_t replay(const char *target, int (*one)(const uint8_t *, size_t)) {
  char dir[256];
  snprintf(dir, sizeof dir, "%s/%s", REGRESSIONS, target);
  struct dirent **names = NULL;
  int n = scandir(dir, &names, NULL, by_name);
  CHECK(n >= 0);
  size_t replayed = 0;
  for (int i = 0; i < n; i++) {
    char path[512] = "";
    size_t len = 0;
    uint8_t *data = NULL;
    if (names[i]->d_name[0] != '.') {
      snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
      data = read_whole(path, &len);
      CHECK(data != NULL);
    }
    if (data) {
      /* Named first: a crash inside shows which input it was. */
      printf("replay %s (%zu bytes)\n", path, len);
      fflush(stdout);
      CHECK_EQ_U(one(data, len), 0);
      replayed++;
    }
    free(data);
    free(names[i]);
  }
  free(names);
  return replayed;
}

static void test_pcap(void) {
  CHECK(replay("pcap", fuzz_pcap_one) >= 3);
}

static void test_tls_stream(void) {
  CHECK(replay("tls_stream", fuzz_tls_stream_one) >= 3);
}

static void test_handshake(void) {
  CHECK(replay("handshake", fuzz_handshake_one) >= 3);
}

static void test_quic(void) {
  CHECK(replay("quic", fuzz_quic_one) >= 3);
}

static void test_x509(void) {
  CHECK(replay("x509", fuzz_x509_one) >= 3);
}

static void test_evidence(void) {
  CHECK(replay("evidence", fuzz_evidence_one) >= 3);
}

static void test_flows(void) {
  CHECK(replay("flows", fuzz_flows_one) >= 3);
}

/* The empty input and one byte, through every target. */
static void test_tiny_inputs(void) {
  static const uint8_t byte[1] = {0x16};
  int (*const targets[])(const uint8_t *, size_t) = {
      fuzz_pcap_one, fuzz_tls_stream_one, fuzz_handshake_one, fuzz_quic_one,
      fuzz_x509_one, fuzz_evidence_one,   fuzz_flows_one};
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
    CHECK_EQ_U(targets[i](byte, 0), 0);
    CHECK_EQ_U(targets[i](byte, 1), 0);
  }
}

int main(void) {
  RUN(test_pcap);
  RUN(test_evidence);
  RUN(test_tls_stream);
  RUN(test_handshake);
  RUN(test_quic);
  RUN(test_x509);
  RUN(test_flows);
  RUN(test_tiny_inputs);
  return harness_done();
}
