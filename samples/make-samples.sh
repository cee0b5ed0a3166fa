#!/bin/sh
# samples/make-samples.sh - rebuild every bundled sample capture.
#
#   samples/make-samples.sh [--real-only | --crafted-only] [OUTDIR]
#
# Two kinds of samples (table: samples/README.md; grades: samples/expected.json):
#
# - real exchanges: openssl s_server and s_client on 127.0.0.1, recorded with
#   tcpdump on the loopback interface.  Needs root (tcpdump) and openssl 3.
#   Every server scenario has its own fixed port (expected.json names it) and
#   its own pcap; several s_client runs talk to it in turn when the grade
#   needs more than one handshake (e.g. a TLS 1.3 and a TLS 1.2 client).
# - crafted captures (samples/craft.py, Python 3 standard library only) for
#   what OpenSSL 3 can no longer produce (SSLv2, SSLv3, export, RC4, 3DES,
#   small DH groups, compression, Heartbleed, insecure renegotiation, ...),
#   and the five-day cloud-console demo (samples/craft_demo.py: demo/ and
#   demo.keylog).  They are byte-for-byte reproducible and need no privileges.
#
# Certificates come from samples/certs/, generated once by make-certs.sh and
# committed (they are created here only when missing).  In the default mode
# (both kinds) samples/check-samples.sh then checks every pcap with tshark.
set -eu
mode=all
case ${1:-} in
--real-only) mode=real; shift ;;
--crafted-only) mode=crafted; shift ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
certs=$here/certs
mkdir -p "$out"
[ -e "$certs/root.pem" ] || "$here/make-certs.sh"

if [ $mode != real ]; then
  python3 "$here/craft.py" "$out"
  python3 "$here/craft_demo.py" "$out" # demo/day1..5.pcap and demo.keylog
fi
if [ $mode = crafted ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "make-samples: the real exchanges need root for tcpdump; skipped (crafted ones written)" >&2
  exit 0
fi

failures=0
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

# Wait until something listens on 127.0.0.1:PORT (at most 10 s).
wait_listen() {
  tries=0
  until ss -Hltn "sport = :$1" | grep -q .; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || { echo "make-samples: nothing listens on port $1" >&2; return 1; }
    sleep 0.1
  done
}

# record NAME PORT SNI CERT CHAIN "server options" "client options" ...
#   CERT: basename in samples/certs (CERT.pem, CERT.key); CHAIN: basename of
#   the intermediate the server sends, or "-" to send the leaf alone.
#   One s_client run per remaining argument, in order, on the same server.
record() {
  name=$1 port=$2 sni=$3 cert=$4 chain=$5 sopts=$6
  shift 6
  : >"$work/tcpdump.log"
  tcpdump -i lo -U --immediate-mode -s 0 -w "$work/$name.pcap" "tcp port $port" \
    2>"$work/tcpdump.log" &
  dump=$!
  while ! grep -q "listening on" "$work/tcpdump.log"; do sleep 0.1; done
  chainopt=
  [ "$chain" = - ] || chainopt="-cert_chain $certs/$chain.pem"
  # The server answers GET /index.html with that file as a complete HTTP
  # response (s_server -HTTP) and closes; a-grade's response carries HSTS,
  # and its clients write a key log (a-grade.keylog) that can decrypt it.
  www=$work/www-$name
  mkdir -p "$www"
  hsts=
  keylog=
  if [ "$name" = a-grade ]; then
    hsts='Strict-Transport-Security: max-age=31536000\r\n'
    keylog="-keylogfile $out/$name.keylog"
    rm -f "$out/$name.keylog"
  fi
  # shellcheck disable=SC2059
  printf "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n${hsts}Content-Length: 3\r\n\r\nok\n" \
    >"$www/index.html"
  # shellcheck disable=SC2086
  (cd "$www" && exec openssl s_server -accept "127.0.0.1:$port" -cert "$certs/$cert.pem" \
    -key "$certs/$cert.key" $chainopt -naccept $# -quiet -HTTP $sopts \
    >/dev/null 2>"$work/server.log" </dev/null) &
  server=$!
  wait_listen "$port"
  n=0
  for copts in "$@"; do
    n=$((n + 1))
    # -quiet implies -ign_eof: the client reads until the server closes.
    # shellcheck disable=SC2086
    printf 'GET /index.html HTTP/1.0\r\nHost: %s\r\n\r\n' "$sni" |
      timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$sni" \
        -quiet $keylog $copts >"$work/client.out" 2>"$work/client.log" || true
    grep -q '^ok' "$work/client.out" || {
      echo "make-samples: $name: client $n ($copts) got no response:" >&2
      cat "$work/client.log" >&2
      failures=$((failures + 1))
    }
    sleep 0.2
  done
  # s_server leaves after its last connection; do not wait for ever.
  tries=0
  while kill -0 "$server" 2>/dev/null && [ $tries -lt 30 ]; do
    sleep 0.1
    tries=$((tries + 1))
  done
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  sleep 0.3
  kill -TERM "$dump"
  wait "$dump" 2>/dev/null || true
  cp "$work/$name.pcap" "$out/$name.pcap"
  echo "wrote $out/$name.pcap ($n connections)"
}

# record_chromium NAME PORT SNI CERT CHAIN: one headless Chromium visit of
#   https://SNI:PORT/index.html (SNI mapped to 127.0.0.1, certificate errors
#   ignored: the handshake is what is recorded).  Chromium offers the hybrid
#   X25519MLKEM768 with a key share and a GREASE Encrypted Client Hello; the
#   OpenSSL 3.0 server, without ML-KEM, answers x25519.  Chromium may open a
#   second connection (favicon): the server accepts until it is stopped.
record_chromium() {
  name=$1 port=$2 sni=$3 cert=$4 chain=$5
  command -v chromium >/dev/null || {
    echo "make-samples: $name: chromium is not installed" >&2
    failures=$((failures + 1))
    return
  }
  : >"$work/tcpdump.log"
  tcpdump -i lo -U --immediate-mode -s 0 -w "$work/$name.pcap" "tcp port $port" \
    2>"$work/tcpdump.log" &
  dump=$!
  while ! grep -q "listening on" "$work/tcpdump.log"; do sleep 0.1; done
  www=$work/www-$name
  mkdir -p "$www"
  printf "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n" \
    >"$www/index.html"
  (cd "$www" && exec openssl s_server -accept "127.0.0.1:$port" -cert "$certs/$cert.pem" \
    -key "$certs/$cert.key" -cert_chain "$certs/$chain.pem" -quiet -HTTP \
    >/dev/null 2>"$work/server.log" </dev/null) &
  server=$!
  wait_listen "$port"
  timeout 60 chromium --headless=new --no-sandbox --disable-gpu --ignore-certificate-errors \
    --host-resolver-rules="MAP $sni 127.0.0.1" --user-data-dir="$work/chromium-$name" \
    --no-first-run --disable-background-networking --disable-component-update \
    --dump-dom "https://$sni:$port/index.html" >"$work/client.out" 2>"$work/client.log" || true
  grep -q 'ok' "$work/client.out" || {
    echo "make-samples: $name: chromium got no response" >&2
    failures=$((failures + 1))
  }
  sleep 1
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  sleep 0.3
  kill -TERM "$dump"
  wait "$dump" 2>/dev/null || true
  cp "$work/$name.pcap" "$out/$name.pcap"
  echo "wrote $out/$name.pcap (chromium)"
}

# Client option sets used below.
T13=""                                                  # default: offers 1.3 and 1.2
T13_128="-ciphersuites TLS_AES_128_GCM_SHA256"          # 1.3, AES-128
T12="-tls1_2"                                           # 1.2 only, default list
T12_128="-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"   # 1.2 only, AES-128-GCM
L0="-cipher DEFAULT@SECLEVEL=0"                         # accept weak keys/signatures
T12_128_L0="-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"

# name                     port  SNI                      cert    chain  server options / clients
record tls13-localhost       24431 localhost               localhost int "" "-tls1_3"
record tls12-ecdhe-localhost 24432 localhost               localhost int "-tls1_2" "$T12_128"
record a-grade               24433 a.example.test          a       int  "" \
  "$T13" "$T13_128" "$T12" "$T12_128"
record tls10-accepted        24434 tls10.example.test      tls10   int  "-cipher DEFAULT@SECLEVEL=0" \
  "$T13" "$T12_128" "-tls1 -cipher DEFAULT@SECLEVEL=0"
record rsa-kx-no-fs          24435 rsakx.example.test      rsakx   int \
  "-no_tls1_3 -cipher AES128-GCM-SHA256" "$T13" "$T12"
record cbc-only-no-aead      24436 cbc.example.test        cbc     int \
  "-no_tls1_3 -cipher ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA" \
  "$T13" "-tls1_2 -cipher ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256"
record dhe-1024              24438 dhe1024.example.test    dhe1024 int \
  "-dhparam $certs/dh1024.pem -cipher DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0" \
  "$T13" "-tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"
record rsa-1024-cert         24439 rsa1024.example.test    rsa1024 int  "-cipher DEFAULT@SECLEVEL=0" \
  "$L0" "$T12_128_L0"
record rsa-512-cert          24440 rsa512.example.test     rsa512  int  "-tls1_2 -cipher DEFAULT@SECLEVEL=0" \
  "$T12_128_L0"
record md5-signed-leaf       24441 md5.example.test        md5     int  "-cipher DEFAULT@SECLEVEL=0" \
  "$L0" "$T12_128_L0"
record sha1-intermediate     24442 sha1int.example.test    sha1int int-sha1 "-cipher DEFAULT@SECLEVEL=0" \
  "$L0" "$T12_128_L0"
record expired-leaf          24443 expired.example.test    expired int  "" "$T13" "$T12_128"
record not-yet-valid-leaf    24444 notyet.example.test     notyet  int  "" "$T13" "$T12_128"
record self-signed-leaf      24445 selfsigned.example.test selfsigned - "" "$T13" "$T12_128"
record hostname-mismatch     24446 mismatch.example.test   mismatch int "" "$T13" "$T12_128"
record incomplete-chain      24447 incomplete.example.test incomplete - "" "$T13" "$T12_128"
record tls12-no-tls13        24448 tls12only.example.test  tls12only int "-no_tls1_3" \
  "$T13" "-cipher ECDHE-RSA-AES128-GCM-SHA256"
record tls13-downgrade-sentinel 24449 sentinel.example.test sentinel int "" "$T12" "$T12_128"
record ev-certificate        24450 ev.example.test         ev      int  "" "$T13" "$T12" "$T12_128"
record ocsp-stapled          24451 ocsp.example.test       ocsp    int  "-status_file $certs/ocsp.der" \
  "$T13 -status" "$T12_128 -status"
record ocsp-revoked          24452 ocsp-revoked.example.test ocsp-revoked int \
  "-status_file $certs/ocsp-revoked.der" "$T13 -status" "$T12_128 -status"
record_chromium pq-chromium    24453 pq.example.test         pq      int

if [ $failures != 0 ]; then
  echo "make-samples: $failures client run(s) failed" >&2
  exit 1
fi
if [ $mode = all ] && command -v tshark >/dev/null; then
  "$here/check-samples.sh" "$out"
fi
