#!/bin/sh
# tests/bench/run.sh - make bench: tlsgrade against the libpcap read floor
# and its peers, on the deterministic benchmark capture (kept outside the
# repo), warm page cache, median of RUNS runs.
#   BENCH_MB   size of the capture (default 300; 1024 for the README table)
#   BENCH_DIR  where it is generated (default /tmp/tlsgrade-bench)
#   RUNS       runs per tool (default 3)
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
