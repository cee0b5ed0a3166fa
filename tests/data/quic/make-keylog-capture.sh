#!/bin/sh
# Rebuilds h3-keylog.pcap and h3-keylog.keys: three real QUIC v1
# connections on 127.0.0.1 (ngtcp2's gtlsserver and gtlsclient, Debian
# packages ngtcp2-server and ngtcp2-client), one per TLS 1.3 suite QUIC
# uses (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305), each fetching one
# file over HTTP/3, with the client's key log (GnuTLS writes SSLKEYLOGFILE).
# The server's certificate is samples/certs/a.pem.  Needs root (tcpdump).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
certs=$here/../../../samples/certs
tmp=$(mktemp -d)
trap 'kill $srv $dump 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir "$tmp/htdocs"
echo hello > "$tmp/htdocs/index.html"
port=44330
gtlsserver -q -d "$tmp/htdocs" 127.0.0.1 $port "$certs/a.key" "$certs/a.pem" >/dev/null 2>&1 &
srv=$!
tcpdump -i lo -U -s 0 -w "$tmp/q.pcap" udp port $port >/dev/null 2>&1 &
dump=$!
sleep 1
for suite in AES-128-GCM AES-256-GCM CHACHA20-POLY1305; do
  SSLKEYLOGFILE=$tmp/keys timeout 10 gtlsclient -q --exit-on-all-streams-close \
    --ciphers="NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+$suite" \
    127.0.0.1 $port https://127.0.0.1:$port/index.html >/dev/null 2>&1
  sleep 1
done
sleep 2
kill -INT $dump
wait $dump || true
cp "$tmp/q.pcap" "$here/h3-keylog.pcap"
cp "$tmp/keys" "$here/h3-keylog.keys"
