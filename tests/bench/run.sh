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
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    awk "BEGIN { print $e - $s }"
  done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}

row() { # label command...
  printf '%-44s %10s\n' "$1" "$(shift; median "$@")"
}

printf '%-44s %10s\n' "tool ($mb MB, median of $runs, warm cache)" "seconds"
row "libpcap read floor (pcap_dispatch)" "$dir/floor" "$pcap"
row "tlsgrade --format json (grading)" "$top/tlsgrade" --format json "$pcap"
row "tlsgrade --format json --no-ndpi" "$top/tlsgrade" --format json --no-ndpi "$pcap"
row "tlsgrade --handshakes" "$top/tlsgrade" --handshakes "$pcap"
row "tlsgrade --flows" "$top/tlsgrade" --flows "$pcap"
# Peers, when installed (make deps does not install them: apt-get install
# ndpi-tools/libndpi-bin ssldump tshark).
if command -v ndpiReader >/dev/null; then
  row "ndpiReader -i FILE" ndpiReader -q -i "$pcap"
fi
if command -v ssldump >/dev/null; then
  row "ssldump -r FILE -n" ssldump -r "$pcap" -n
fi
if command -v tshark >/dev/null && [ "${BENCH_TSHARK:-1}" = 1 ]; then
  row "tshark (ServerHello fields)" tshark -r "$pcap" -Y tls.handshake.type==2 -T fields \
    -e tls.handshake.ciphersuite -e tls.handshake.version
fi
