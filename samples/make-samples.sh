#!/bin/sh
# samples/make-samples.sh - rebuild the bundled sample captures.
#
# Each sample is a real exchange between openssl s_server and s_client on
# 127.0.0.1, recorded with tcpdump on the loopback interface.  Needs root
# (tcpdump) and openssl.  Usage: samples/make-samples.sh [OUTDIR]
set -eu
out=${1:-$(cd "$(dirname "$0")" && pwd)}
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

# A self-signed key and certificate per run: only the handshake shape matters.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 365 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

port=24430
record() { # NAME "server options" "client options"
  name=$1 sopts=$2 copts=$3
  port=$((port + 1))
  tcpdump -i lo -U --immediate-mode -s 0 -w "$work/$name.pcap" "tcp port $port" 2>"$work/tcpdump.log" &
  dump=$!
  while ! grep -q "listening on" "$work/tcpdump.log"; do sleep 0.1; done
  # shellcheck disable=SC2086
  openssl s_server -accept "127.0.0.1:$port" -cert "$work/cert.pem" -key "$work/key.pem" \
    -naccept 1 -quiet $sopts >/dev/null 2>&1 </dev/null &
  server=$!
  sleep 0.5
  # shellcheck disable=SC2086
  printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client \
    -connect "127.0.0.1:$port" -servername localhost -quiet -no_ign_eof $copts \
    >/dev/null 2>&1 || true
  wait "$server" 2>/dev/null || true
  sleep 0.3
  kill -TERM "$dump"; wait "$dump" 2>/dev/null || true
  cp "$work/$name.pcap" "$out/$name.pcap"
  echo "wrote $out/$name.pcap"
}

record tls13-localhost "" "-tls1_3"
record tls12-ecdhe-localhost "-tls1_2" "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"
