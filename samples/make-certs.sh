#!/bin/sh
# samples/make-certs.sh - generate the fixed sample PKI in samples/certs/.
#
# The certificates, keys, DH groups and OCSP responses are generated ONCE
# and committed: the expected grades (samples/expected.json) depend on their
# exact properties, and the crafted captures embed their DER bytes.  Running
# this again replaces every key, so the captures must then be rebuilt too
# (samples/make-samples.sh).  Needs only openssl (3.0 or later).
#
# Usage: samples/make-certs.sh [--force] [OUTDIR]   (default samples/certs)
#
# Without --force, an existing PKI is kept: only certificates that are
# missing (those of samples added since) are made, with the CAs already
# there, so no committed key or capture changes.
#
# Layout (all RSA, PEM; NAME.pem certificate, NAME.key PKCS#8 key):
#   root            "tlsgrade Sample Root CA", self-signed, SHA-256
#   int             "tlsgrade Sample Intermediate CA", SHA-256, by root
#   int-store       "tlsgrade Sample Store-Known Intermediate CA", by root;
#                   the one intermediate that is also in the trust bundle
#                   (it stands for an intermediate the local store knows)
#   int-sha1        "tlsgrade Sample SHA-1 Intermediate CA", sha1WithRSA, by root
#   int-symantec, int-entrust, int-notsymantec   intermediates by root that
#                   carry the names of distrusted CAs (Symantec, Entrust)
#                   and a look-alike that must not match (distrusted_ca)
#   root.pem        THE CA BUNDLE for --ca-file: root, then int-store
#   <leaf>.pem      one leaf per sample server (table in samples/README.md);
#                   every leaf has its own key, except where noted (DROWN)
#   dh512.pem dh768.pem dh1024.pem   DH groups (PKCS#3) for DHE samples
#   export512.key   the 512-bit RSA key of the RSA_EXPORT ServerKeyExchange
#   ocsp.der ocsp-revoked.der        OCSP responses stapled by s_server
#
# CAs are valid 2020-01-01..2045-01-01, leaves 2025-01-01..2045-01-01 unless
# a sample needs otherwise (expired: 2020..2021; not yet valid: 2044..2045).
set -eu
force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/certs}
add_only=0
if [ -e "$out/root.pem" ] && [ $force = 0 ]; then
  echo "make-certs: $out/root.pem exists; keeping the committed PKI, adding what is missing" \
    "(--force replaces it all)"
  add_only=1
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/new"
: >"$work/index.txt"
cat >"$work/ca.cnf" <<EOF
[ ca ]
default_ca = sample_ca
[ sample_ca ]
database        = $work/index.txt
new_certs_dir   = $work/new
rand_serial     = yes
default_md      = sha256
policy          = policy_any
unique_subject  = no
email_in_dn     = no
copy_extensions = none
[ policy_any ]
commonName      = supplied
EOF

CA_START=200101000000Z
CA_END=450101000000Z
START=250101000000Z
END=450101000000Z

# have NAME: in add-only mode, NAME.pem exists and is kept
have() {
  [ $add_only = 1 ] && [ -e "$out/$1.pem" ]
}

# key NAME BITS
key() {
  openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$out/$1.key" 2>/dev/null
}

# ext NAME TEXT: an extension section called "ext" for NAME
ext() {
  printf '[ ext ]\n%s\n' "$2" >"$work/$1.ext"
}

# sign NAME SUBJECT ISSUER MD START END  (ISSUER "self": self-signed)
sign() {
  name=$1 subj=$2 issuer=$3 md=$4 from=$5 to=$6
  openssl req -new -key "$out/$name.key" -subj "$subj" -out "$work/$name.csr" 2>/dev/null
  issuer_pem=$out/$issuer.pem
  # once the bundle replaced root.pem, the root alone is root-ca.pem
  if [ "$issuer" = root ] && [ -e "$out/root-ca.pem" ]; then issuer_pem=$out/root-ca.pem; fi
  if [ "$issuer" = self ]; then
    set -- -selfsign -keyfile "$out/$name.key"
  else
    set -- -cert "$issuer_pem" -keyfile "$out/$issuer.key"
  fi
  openssl ca -batch -config "$work/ca.cnf" "$@" -md "$md" -preserveDN -notext \
    -startdate "$from" -enddate "$to" -extfile "$work/$name.ext" -extensions ext \
    -in "$work/$name.csr" -out "$out/$name.pem" 2>"$work/ca.log" || {
    cat "$work/ca.log" >&2
    exit 1
  }
}

CA_EXT='basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash'
INT_EXT='basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always'

# ---- CAs ---------------------------------------------------------------
if [ $add_only = 0 ]; then
  key root 2048
  ext root "$CA_EXT"
  sign root "/O=tlsgrade samples/CN=tlsgrade Sample Root CA" self sha256 $CA_START $CA_END

  for ca in int int-store int-sha1; do key $ca 2048; ext $ca "$INT_EXT"; done
  sign int "/O=tlsgrade samples/CN=tlsgrade Sample Intermediate CA" root sha256 $CA_START $CA_END
  sign int-store "/O=tlsgrade samples/CN=tlsgrade Sample Store-Known Intermediate CA" root \
    sha256 $CA_START $CA_END
  sign int-sha1 "/O=tlsgrade samples/CN=tlsgrade Sample SHA-1 Intermediate CA" root sha1 \
    $CA_START $CA_END
fi

# intermediate NAME SUBJECT: a SHA-256 intermediate signed by the root
intermediate() {
  have "$1" && return 0
  key "$1" 2048
  ext "$1" "$INT_EXT"
  sign "$1" "$2" root sha256 $CA_START $CA_END
}
# Names of distrusted CAs (grade/distrust.tsv) on intermediates of the sample
# root, so that the chain is trusted and only distrusted_ca can give T; and a
# company whose name merely contains one of them.
intermediate int-symantec \
  "/C=US/O=Symantec Corporation/OU=Symantec Trust Network/CN=Symantec Class 3 Secure Server CA - G4"
intermediate int-entrust \
  "/C=US/O=Entrust, Inc./OU=(c) 2012 Entrust, Inc. - for authorized use only/CN=Entrust Certification Authority - L1K"
intermediate int-notsymantec "/O=Not Symantec Testing/CN=Not Symantec Testing CA"

# ---- leaves ------------------------------------------------------------
# leaf NAME "SANS" [ISSUER [BITS [MD [START [END [EXTRA-EXT [SUBJECT]]]]]]]
# SANS: space-separated DNS names; the first one is also the CN.
leaf() {
  have "$1" && return 0
  lname=$1 sans=$2 lissuer=${3:-int} bits=${4:-2048} lmd=${5:-sha256}
  lfrom=${6:-$START} lto=${7:-$END} extra=${8:-}
  cn=${sans%% *}
  subject=${9:-/O=tlsgrade samples/CN=$cn}
  san=$(for n in $sans; do printf 'DNS:%s,' "$n"; done)
  key "$lname" "$bits"
  if [ "$lissuer" = self ]; then aki=''; else aki='authorityKeyIdentifier = keyid:always'; fi
  ext "$lname" "basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
$aki
subjectAltName = ${san%,}
$extra"
  sign "$lname" "$subject" "$lissuer" "$lmd" "$lfrom" "$lto"
}

OCSP_AIA='authorityInfoAccess = OCSP;URI:http://ocsp.example.test/'
EV_POLICY='certificatePolicies = 2.23.140.1.1'

# Real exchanges (openssl s_server on 127.0.0.1)
leaf localhost "localhost"
leaf a "a.example.test"
leaf tls10 "tls10.example.test"
leaf rsakx "rsakx.example.test"
leaf cbc "cbc.example.test"
leaf 3des "3des.example.test"
leaf dhe1024 "dhe1024.example.test"
leaf rsa1024 "rsa1024.example.test" int 1024
leaf rsa512 "rsa512.example.test" int 512
leaf md5 "md5.example.test" int 2048 md5
leaf sha1int "sha1int.example.test" int-sha1
leaf expired "expired.example.test" int 2048 sha256 200101000000Z 210101000000Z
leaf notyet "notyet.example.test" int 2048 sha256 440101000000Z 450101000000Z
leaf selfsigned "selfsigned.example.test" self
leaf mismatch "www.example.org example.org"
leaf incomplete "incomplete.example.test" int-store
leaf tls12only "tls12only.example.test"
leaf sentinel "sentinel.example.test"
leaf ev "ev.example.test" int 2048 sha256 $START $END "$EV_POLICY" \
  "/jurisdictionC=US/businessCategory=Private Organization/serialNumber=EV-0001/C=US/O=EV Sample Inc/CN=ev.example.test"
leaf ocsp "ocsp.example.test" int 2048 sha256 $START $END "$OCSP_AIA"
leaf ocsp-revoked "ocsp-revoked.example.test" int 2048 sha256 $START $END "$OCSP_AIA"
leaf pq "pq.example.test"  # a Chromium client: post-quantum key share, GREASE ECH

# Crafted captures (samples/craft.py).  sslv2: signed by the root directly
# (an SSLv2 SERVER-HELLO carries one certificate), and shared on purpose by
# the TLS server drown.example.test (DROWN: same RSA key).
leaf sslv2 "sslv2.example.test drown.example.test" root
for n in ssl3cbc ssl3rc4 ssl3only export rc4 rc4only rc4tls10 dhe512 dhe768 deflate \
  heartbleed noreneg reneg scsv noscsv anon null tls10best ticketbleed; do
  leaf "$n" "$n.example.test"
done

# The cloud-console demo (samples/demo-cloud-consoles.pcap)
leaf alpha "console.alpha.example" int-sha1 2048 sha1
leaf bravo "console.bravo.example"
leaf charlie "console.charlie.example" int 2048 sha256 $START $END "$EV_POLICY" \
  "/jurisdictionC=US/businessCategory=Private Organization/serialNumber=EV-0003/C=US/O=Charlie Cloud Inc/CN=console.charlie.example"
leaf delta "console.delta.example"

# distrusted_ca samples (samples/distrust-*.pcap): Entrust is distrusted for
# leaves issued after 2024-11-11 (Chrome 131), so one leaf from before
leaf symantec "symantec.example.test" int-symantec
leaf notsymantec "notsymantec.example.test" int-notsymantec
leaf entrust-old "entrust-old.example.test" int-entrust 2048 sha256 241101000000Z $END
leaf entrust-new "entrust-new.example.test" int-entrust

if [ $add_only = 1 ]; then
  chmod 644 "$out"/*.key "$out"/*.pem
  openssl verify -CAfile "$out/root-ca.pem" -untrusted "$out/int-symantec.pem" \
    "$out/symantec.pem" >/dev/null
  echo "make-certs: added what was missing in $out"
  exit 0
fi

# ---- trust bundle ------------------------------------------------------
cat "$out/root.pem" "$out/int-store.pem" >"$work/bundle.pem"
mv "$work/bundle.pem" "$out/root.pem.new"
# root.pem must stay the root's own certificate for "openssl ca" above; the
# bundle replaces it only now, and the root alone is kept as root-ca.pem.
cp "$out/root.pem" "$out/root-ca.pem"
mv "$out/root.pem.new" "$out/root.pem"

# ---- DH groups and the export key -----------------------------------------
for bits in 512 768 1024; do
  openssl dhparam -out "$out/dh$bits.pem" $bits 2>/dev/null
done
key export512 512

# ---- OCSP responses (good, revoked), signed by the intermediate itself ------
openssl ca -config "$work/ca.cnf" -cert "$out/int.pem" -keyfile "$out/int.key" \
  -revoke "$out/ocsp-revoked.pem" -crl_reason keyCompromise 2>"$work/ca.log" || {
  cat "$work/ca.log" >&2
  exit 1
}
for name in ocsp ocsp-revoked; do
  openssl ocsp -issuer "$out/int.pem" -cert "$out/$name.pem" -no_nonce \
    -reqout "$work/$name.req" >/dev/null 2>&1
  openssl ocsp -index "$work/index.txt" -rsigner "$out/int.pem" -rkey "$out/int.key" \
    -CA "$out/int.pem" -reqin "$work/$name.req" -respout "$out/$name.der" -ndays 7000 \
    >/dev/null 2>&1
done

# Test keys: readable by everyone, as a git checkout makes them anyway.
chmod 644 "$out"/*.key "$out"/*.pem "$out"/*.der

# ---- self-check ------------------------------------------------------------
openssl verify -CAfile "$out/root-ca.pem" -untrusted "$out/int.pem" "$out/a.pem" >/dev/null
openssl verify -CAfile "$out/root.pem" "$out/incomplete.pem" >/dev/null
openssl ocsp -respin "$out/ocsp-revoked.der" -resp_text -noverify 2>/dev/null | grep -q 'Cert Status: revoked'
echo "make-certs: wrote $(find "$out" -type f | wc -l) files in $out"
