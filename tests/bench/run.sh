#!/bin/sh
# tests/bench/run.sh - make bench: time tlsgrade against the libpcap read
# floor on the deterministic benchmark capture (kept outside the repo).
#   BENCH_MB   size of the capture (default 300)
#   BENCH_DIR  where it is generated (default /tmp/tlsgrade-bench)
#   RUNS       runs per tool, median reported (default 3)
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

median() { # command...: prints the median wall time of $runs runs
  for i in $(seq "$runs"); do
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    awk "BEGIN { print $e - $s }"
  done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}

printf '%-40s %10s\n' "tool ($mb MB, median of $runs)" "seconds"
printf '%-40s %10s\n' "libpcap read floor" "$(median "$dir/floor" "$pcap")"
printf '%-40s %10s\n' "tlsgrade --flows" "$(median "$top/tlsgrade" --flows "$pcap")"
printf '%-40s %10s\n' "tlsgrade --flows --no-ndpi" \
  "$(median "$top/tlsgrade" --flows --no-ndpi "$pcap")"
