#!/bin/sh
# tests/fuzz/run.sh - build the libFuzzer targets into build/fuzz/ and run
# each for FUZZ_SECONDS seconds (make fuzz FUZZ_SECONDS=N; default 300).
#
#   FUZZ_SECONDS   run time per target (default 300: the coverage of every
#                  target still grows after a minute, see README.md)
#   FUZZ_TARGETS   which targets (default: all seven)
#   FUZZ_TIMEOUT   seconds one input may take before it is a finding (2;
#                  fuzz_flows 30: it generates up to 8192 flows; inputs
#                  slower than 1 s are counted as "slow" either way)
#   FUZZ_BUILD=0   do not rebuild (another run.sh just did)
#   FUZZ_OUT       where binaries, corpora, logs and artifacts go (build/fuzz)
#   CC_FUZZ        the compiler (default clang; libFuzzer needs clang)
#   FUZZ_PCAP_NDPI=1  fuzz_pcap with nDPI on (slow; see fuzz_pcap.c)
#
# The library's sources (every layer below the command line) are compiled with
# -fsanitize=fuzzer-no-link,address,undefined, each target links them with
# -fsanitize=fuzzer.  Inputs: build/fuzz/corpus/TARGET (grows, kept between
# runs), build/fuzz/seeds/TARGET (tests/fuzz/make-seeds.sh, made when
# missing) and tests/fuzz/regressions/TARGET.  A crash, leak, timeout or
# memory blow-up leaves its input in build/fuzz/artifacts/TARGET/; copy it to
# tests/fuzz/regressions/TARGET/ once fixed (tests/unit/test_fuzz_regressions.c
# replays them under make test).  Exit status 1 when any target found one.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
seconds=${FUZZ_SECONDS:-300}
targets=${FUZZ_TARGETS:-pcap flows tls_stream handshake quic x509 evidence}
timeout=${FUZZ_TIMEOUT:-2}
cc=${CC_FUZZ:-clang}
out=${FUZZ_OUT:-build/fuzz}
# the library's dependencies, as the Makefile names them
pkgs=$(sed -n 's/^PKGS *:= *//p' Makefile)
: "${pkgs:=libpcap libndpi libcjson libcrypto}"
command -v "$cc" >/dev/null || { echo "fuzz: $cc not found (libFuzzer needs clang)" >&2; exit 1; }
pkg-config --exists $pkgs || { echo "fuzz: missing build dependencies (make deps)" >&2; exit 1; }

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer $san
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
  $(pkg-config --cflags $pkgs) -I."
libs="$(pkg-config --libs $pkgs) -lpthread"

build() {
  mkdir -p "$out/obj"
  # A header change rebuilds every object (struct layouts must agree); the
  # stamp is taken before compiling, so edits made meanwhile count next time.
  stamp=$out/obj/.stamp
  if [ ! -f "$stamp" ] || [ -n "$(find base capture dissect grade pipeline -name '*.h' -newer "$stamp" 2>/dev/null | head -n 1)" ]; then
    rm -f "$out"/obj/*.o
  fi
  touch "$stamp.new"
  objs=""
  for src in base/*.c capture/*.c dissect/*.c grade/*.c pipeline/*.c; do
    [ -f "$src" ] || continue # a layer without .c files (base/: headers only)
    obj=$out/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')
    objs="$objs $obj"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
      $cc $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || return 1
    fi
  done
  mv "$stamp.new" "$stamp"
  for t in $targets; do
    echo "fuzz: building $out/fuzz_$t"
    $cc $cflags -fsanitize=fuzzer -DFUZZ_LIBFUZZER "tests/fuzz/fuzz_$t.c" $objs \
      -o "$out/fuzz_$t" $libs || return 1
  done
}

mkdir -p "$out"
if [ "${FUZZ_BUILD:-1}" != 0 ]; then
  # two run.sh at once (one per core) must not compile over each other
  exec 9>"$out/.build.lock"
  command -v flock >/dev/null && flock 9
  build || { echo "fuzz: build failed" >&2; exit 1; }
  exec 9>&-
fi
if [ ! -d "$out/seeds" ]; then
  tests/fuzz/make-seeds.sh "$out/seeds" ||
    echo "fuzz: no seeds (make-seeds.sh failed); running from the regressions only" >&2
fi

max_len() {
  case $1 in
  pcap) echo 262144 ;;
  tls_stream) echo 131072 ;;
  handshake | quic) echo 65536 ;;
  evidence) echo 262144 ;;
  flows) echo 1024 ;; # parameters, suites and an extension blob
  *) echo 16384 ;;
  esac
}

# One input's time bound: a multi-flow input must take linear time, and a
# cost that grows with the square of the flows shows as a timeout.
time_bound() {
  case $1 in
  flows) echo "${FUZZ_TIMEOUT:-30}" ;;
  *) echo "$timeout" ;;
  esac
}

status=0
summary=""
for t in $targets; do
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$out/logs" "tests/fuzz/regressions/$t"
  dirs="$out/corpus/$t"
  [ -d "$out/seeds/$t" ] && dirs="$dirs $out/seeds/$t"
  dirs="$dirs tests/fuzz/regressions/$t"
  log=$out/logs/$t.log
  echo "fuzz: running fuzz_$t for ${seconds}s (log: $log)"
  # shellcheck disable=SC2086
  "$out/fuzz_$t" -max_total_time="$seconds" -timeout="$(time_bound "$t")" -report_slow_units=1 \
    -rss_limit_mb=2048 -malloc_limit_mb=64 -max_len="$(max_len "$t")" -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t/" $dirs >"$log" 2>&1
  rc=$?
  done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1)
  cov=$(echo "$done_line" | grep -oE 'cov: [0-9]+ ft: [0-9]+')
  corp=$(echo "$done_line" | grep -oE 'corp: [0-9]+/[0-9]+[A-Za-z]*')
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | grep -oE '[0-9]+$')
  eps=$(grep -E '^stat::average_exec_per_sec' "$log" | grep -oE '[0-9]+$')
  slow=$(grep -c 'Slowest unit' "$log")
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FINDING (exit $rc): $(grep -m1 -E 'ERROR: |SUMMARY: |Test unit written' "$log" |
      head -n 1)"
    grep -E 'Test unit written|^artifact_prefix' "$log" | tail -n 2
    status=1
  fi
  line="fuzz_$t: ${seconds}s, ${runs:-?} execs, ${eps:-?} exec/s, ${cov:-cov: ?}, ${corp:-corp: ?}, slow(>1s) ${slow}: $result"
  echo "$line"
  summary="$summary$line
"
done
echo
echo "fuzz summary:"
printf '%s' "$summary"
exit $status
