#!/bin/sh
# tests/data/x509/extract-corpus.sh - copy a few server certificates out of
# the shared capture corpus as DER files for tests/unit/test_x509.c.
#
#   tests/data/x509/extract-corpus.sh [CORPUS_PCAP_DIR]
#
# tshark prints each Certificate message's certificates as hex, one field
# per certificate, comma-separated; the certificate at position IDX of the
# message completed in frame FRAME is written to CAPTURE-IDX.der (CAPTURE is
# the capture's name without its extension).  The expected values the test
# checks come from expected/CAPTURE.tshark.tsv, not from these files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pcaps=${1:-/work/shared/corpus/pcaps}

extract() { # capture frame idx [proto: tls (default) or dtls]
  hex=$(tshark -n -r "$pcaps/$1" -Y "frame.number == $2" -T fields \
          -e "${4:-tls}.handshake.certificate" 2>/dev/null | head -n 1 |
        cut -d, -f $(($3 + 1)))
  [ -n "$hex" ] || { echo "no certificate $3 in frame $2 of $1" >&2; exit 1; }
  out="$here/${1%.*}-$3.der"
  printf '%s' "$hex" | xxd -r -p >"$out"
  echo "$out"
}

extract zeek__signed_certificate_timestamp.pcap 9 0      # RSA-2048, sha256WithRSA
extract ndpi__tls_malicious_sha1.pcapng 8 0              # RSA-2048, recent, SCTs
extract ndpi__tls_1.2_unidirectional_server.pcapng 6 0   # ECDSA P-256 key
extract ndpi__dtls_certificate_fragments.pcap 25 0 dtls  # self-signed ECDSA (WebRTC)
extract zeek__pop3-starttls.pcap 13 0                    # md5WithRSAEncryption
extract zeek__ocsp-stapling.pcap 10 0                    # sha1WithRSAEncryption, EV
extract zeek__imap-starttls.pcap 19 2                    # self-signed root CA
extract suricata__tls-pre-1970.pcap 6 0                  # notBefore 1969-12-31
extract zeek__cert-no-cn.pcap 6 0                        # subject without CN
extract zeek__ml-dsa-44-cert.pcap 5 0                    # ML-DSA-44 key/signature
extract suricata__tls_DER-incomplete-content.pcap 6 0    # truncated DER
