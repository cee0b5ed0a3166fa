/*
 * tests/fuzz/fuzz.h - the entry points of the fuzz targets.
 *
 * Each tests/fuzz/fuzz_NAME.c holds its target's logic in fuzz_NAME_one();
 * built with -DFUZZ_LIBFUZZER it also defines LLVMFuzzerTestOneInput (run.sh
 * does that, with clang).  tests/unit/test_fuzz_regressions.c #includes the
 * .c files without it and replays tests/fuzz/regressions/NAME/ through the
 * same functions under the regular build.
 *
 * Every target returns 0; a finding is a sanitizer report, a leak, a trap
 * on a broken invariant, a timeout or a memory blow-up.
 */
#ifndef TLSGRADE_FUZZ_H
#define TLSGRADE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int fuzz_pcap_one(const uint8_t *data, size_t size);
int fuzz_tls_stream_one(const uint8_t *data, size_t size);
int fuzz_handshake_one(const uint8_t *data, size_t size);
int fuzz_quic_one(const uint8_t *data, size_t size);
int fuzz_x509_one(const uint8_t *data, size_t size);
int fuzz_evidence_one(const uint8_t *data, size_t size);
int fuzz_flows_one(const uint8_t *data, size_t size);

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif

/* A broken invariant of the code under test: crash loudly, so that
 * libFuzzer keeps the input and the replay test fails. */
#define FUZZ_INVARIANT(cond)                                                                       \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      __builtin_trap();                                                                            \
  } while (0)

#endif
