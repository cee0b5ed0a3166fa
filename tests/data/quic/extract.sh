#!/bin/sh
# tests/data/quic/extract.sh - copy the UDP payloads of the corpus QUIC
# captures into NAME.udp files for tests/unit/test_quic.c.
#
#   tests/data/quic/extract.sh [CORPUS_PCAP_DIR]
#
# Run once from anywhere (needs tshark); the output is committed so the unit
# test does not need tshark.  One datagram a line: "frame dir hex", dir 0 for
# the sender of the capture's first datagram (the client in every capture
# used here), 1 for the other side.  The payloads come from tshark's
# udp.payload field, not from tlsgrade; the values the test checks come from
# corpus/expected/*.tshark.tsv.
set -eu
pcaps=${1:-/work/shared/corpus/pcaps}
out=$(cd "$(dirname "$0")" && pwd)

for pair in \
  v2:ndpi__quic-v2.pcapng \
  chromium:zeek__chromium-dpd-custom-port-4433.pcap \
  ooo:arkime__quicietfooo.pcap \
  retry:suricata__quic-retry.pcap \
  q33:ndpi__quic-33.pcapng; do
  name=${pair%%:*} pcap=${pair#*:}
  tshark -r "$pcaps/$pcap" -Y udp -T fields -e frame.number -e udp.srcport \
    -e udp.payload 2>/dev/null |
    awk -F '\t' 'NR == 1 { client = $2 }
                 $3 != "" { print $1, ($2 == client ? 0 : 1), $3 }' \
      >"$out/$name.udp"
done
