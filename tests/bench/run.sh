#!/bin/sh
# tests/bench/run.sh - make bench: tlsgrade against the libpcap read floor
# and its peers, on the deterministic benchmark capture (kept outside the
# repo), warm page cache, median of RUNS runs.
#   BENCH_MB   size of the capture (default 300; 1024 for the README table)
#   BENCH_DIR  where it is generated (default /tmp/tlsgrade-bench)
#   RUNS       runs per tool (default 3)
#   BENCH_TAP  0 skips the second workload (tap-like mix), the RSS-against-
#              size table and the memory per open flow
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
mb=${BENCH_MB:-300}
dir=${BENCH_DIR:-/tmp/tlsgrade-bench}
runs=${RUNS:-3}
gen=$top/../shared/bench/make-bench-pcap
pcap=$dir/bench-$mb.pcap
mkdir -p "$dir"
if [ ! -s "$pcap" ]; then
  [ -x "$gen" ] || { echo "bench: $gen not found" >&2; exit 1; }
  echo "bench: generating $pcap ($mb MB)"
  "$gen" "$pcap" "$mb" >/dev/null
fi
cc -O2 -o "$dir/floor" "$top/tests/bench/floor.c" $(pkg-config --cflags --libs libpcap)
cat "$pcap" >/dev/null # warm the page cache

set -- "libpcap floor (pcap_dispatch)" "$dir/floor" "$pcap" \
  ";;" "tlsgrade --format json" "$top/tlsgrade" --format json "$pcap" \
  ";;" "tlsgrade --format json -j 2" "$top/tlsgrade" --format json -j 2 "$pcap" \
  ";;" "two one-thread runs at once" --pair "$top/tlsgrade" --format json "$pcap" \
  ";;" "tlsgrade --handshakes" "$top/tlsgrade" --handshakes "$pcap"
# Peers, when installed (apt-get install libndpi-bin ssldump tshark).
if command -v ndpiReader >/dev/null; then
  set -- "$@" ";;" "ndpiReader -i FILE" ndpiReader -q -i "$pcap"
fi
if command -v ssldump >/dev/null; then
  set -- "$@" ";;" "ssldump -r FILE -n" ssldump -r "$pcap" -n
fi
if command -v tshark >/dev/null && [ "${BENCH_TSHARK:-1}" = 1 ]; then
  set -- "$@" ";;" "tshark -Y tls.handshake (fields)" tshark -r "$pcap" \
    -Y "tls.handshake.type==2" -T fields -e tls.handshake.ciphersuite
fi
python3 "$top/tests/bench/table.py" "$pcap" "$runs" -- "$@"

# What two cores give this machine for work that shares nothing: a shell
# loop alone and two at once (a VM whose host is busy gives less than two).
python3 - "$runs" <<'PY'
import statistics, subprocess, sys, time
loop = ["sh", "-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done"]
def wall(copies):
    start = time.perf_counter()
    for p in [subprocess.Popen(loop) for _ in range(copies)]:
        p.wait()
    return time.perf_counter() - start
alone, pair = [], []
for _ in range(int(sys.argv[1])):
    alone.append(wall(1))
    pair.append(wall(2))
a, p = statistics.median(alone), statistics.median(pair)
print("machine: a CPU-bound shell loop %.2f s alone, two at once %.2f s: two cores give %.2f times one"
      % (a, p, 2 * a / p))
PY

# The second workload: a tap-like mix (about 200 flows open at once, HTTP,
# DNS, retransmissions), same size.  Skip with BENCH_TAP=0.
[ "${BENCH_TAP:-1}" = 1 ] || exit 0
tapgen=$top/../shared/bench/gen-bench.py
tap() { # tap SIZE_MB -> path (generated once)
  f=$dir/tap-$1.pcap
  [ -s "$f" ] || python3 "$tapgen" --size-mb "$1" -o "$f" >/dev/null
  echo "$f"
}
echo
echo "bench: tap-like mix (../shared/bench/gen-bench.py)"
tappcap=$(tap "$mb")
cat "$tappcap" >/dev/null
python3 "$top/tests/bench/table.py" "$tappcap" "$runs" -- \
  "libpcap floor (pcap_dispatch)" "$dir/floor" "$tappcap" \
  ";;" "tlsgrade --format json" "$top/tlsgrade" --format json "$tappcap" \
  ";;" "tlsgrade --format json -j 2" "$top/tlsgrade" --format json -j 2 "$tappcap" \
  ";;" "two one-thread runs at once" --pair "$top/tlsgrade" --format json "$tappcap"

# Peak RSS against capture size, for the same number of flows open at once.
echo
echo "bench: peak RSS of tlsgrade --format json against capture size (tap-like mix)"
for size in 50 $([ "$mb" != 50 ] && echo "$mb"); do
  f=$(tap "$size")
  python3 - "$top/tlsgrade" "$f" <<'PY'
import os, subprocess, sys
proc = subprocess.Popen([sys.argv[1], "--format", "json", sys.argv[2]],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print("%-40s %8.0f MB %8.0f MB peak RSS" % (os.path.basename(sys.argv[2]),
      os.path.getsize(sys.argv[2]) / 1e6, usage.ru_maxrss / 1024.0))
PY
done

# Bytes per concurrent flow, from two numbers of open flows.
echo
echo "bench: memory per open flow (tests/bench/flowmem.py)"
python3 "$top/tests/bench/flowmem.py" "$top/tlsgrade"
