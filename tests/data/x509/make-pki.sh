#!/bin/sh
# tests/data/x509/make-pki.sh - the small test PKI of tests/unit/test_x509.c.
#
#   tests/data/x509/make-pki.sh        (re)writes tests/data/x509/pki-*
#
# Every validity period is fixed here (openssl ca -startdate/-enddate), so
# the test can pass explicit verification times and never reads the clock.
# The private keys are thrown away: the test only verifies.
#
#   pki-root.pem         "tlsgrade Test Root CA", RSA-2048, sha256WithRSA,
#                        2020-01-01 .. 2040-01-01, CA, self-signed
#   pki-inter.der        "tlsgrade Test Intermediate CA", EC secp384r1,
#                        signed by the root, 2020-01-01 .. 2035-01-01, CA
#   pki-leaf.der         www.example.test, EC prime256v1, ecdsa-with-SHA384
#                        by the intermediate, 2024-01-01 .. 2026-01-01,
#                        SAN www.example.test + example.test, must-staple,
#                        policies 2.23.140.1.2.1 and 1.3.6.1.4.1.55555.1.2,
#                        serial C0FFEE01
#   pki-expired.der      expired.example.test, RSA-2048, by the intermediate,
#                        2020-06-01 .. 2021-06-01
#   pki-future.der       future.example.test, by the intermediate,
#                        2050-01-01 .. 2051-01-01 (GeneralizedTime)
#   pki-self.der         self.example.test, Ed25519, self-signed,
#                        2024-01-01 .. 2034-01-01
#   pki-self.pem         the same in PEM (a trust anchor of its own)
#   pki-multicn.der      O=tlsgrade tests, CN=first.example.test,
#                        CN=second, with comma; Ed448, by the intermediate,
#                        2024-01-01 .. 2026-01-01
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

mkdir certs
: >index.txt
cat >ca.cnf <<'CNF'
[ca]
default_ca = test_ca
[test_ca]
database = index.txt
serial = serial
new_certs_dir = certs
policy = any
unique_subject = no
copy_extensions = none
default_md = sha256
[any]
commonName = optional
organizationName = optional
[root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:www.example.test, DNS:example.test
tlsfeature = status_request
certificatePolicies = 2.23.140.1.2.1, 1.3.6.1.4.1.55555.1.2
[plain]
basicConstraints = critical, CA:false
extendedKeyUsage = serverAuth
subjectAltName = DNS:$ENV::SAN_HOST
[self]
basicConstraints = critical, CA:false
subjectAltName = DNS:self.example.test
CNF

# sign NAME SUBJECT KEYSPEC ISSUER(-: self) EXT START END SERIAL [MD]
sign() {
  openssl genpkey $3 -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  echo "$8" >serial
  if [ "$4" = - ]; then
    set -- "$@" -selfsign -keyfile "$1.key"
  else
    set -- "$@" -cert "$4.pem" -keyfile "$4.key"
  fi
  name=$1 ext=$5 start=$6 end=$7 md=${9:-sha256}
  shift 9
  openssl ca -batch -notext -config ca.cnf -preserveDN -md "$md" \
    -extensions "$ext" -startdate "$start" -enddate "$end" \
    -in "$name.csr" -out "$name.pem" "$@" 2>ca.log || { cat ca.log >&2; exit 1; }
}

export SAN_HOST=unused # read by the [plain] section of ca.cnf
RSA="-algorithm RSA -pkeyopt rsa_keygen_bits:2048"
ec() { echo "-algorithm EC -pkeyopt ec_paramgen_curve:$1"; }

sign root "/O=tlsgrade tests/CN=tlsgrade Test Root CA" "$RSA" - root \
  20200101000000Z 20400101000000Z 01 sha256
sign inter "/O=tlsgrade tests/CN=tlsgrade Test Intermediate CA" "$(ec secp384r1)" \
  root inter 20200101000000Z 20350101000000Z 02 sha256
sign leaf "/O=tlsgrade tests/CN=www.example.test" "$(ec prime256v1)" inter leaf \
  20240101000000Z 20260101000000Z C0FFEE01 sha384
SAN_HOST=expired.example.test
sign expired "/CN=expired.example.test" "$RSA" inter plain \
  20200601000000Z 20210601000000Z 03 sha384
SAN_HOST=future.example.test
sign future "/CN=future.example.test" "$(ec prime256v1)" inter \
  plain 20500101000000Z 20510101000000Z 04 sha384
sign self "/CN=self.example.test" "-algorithm ED25519" - self \
  20240101000000Z 20340101000000Z 05 default
SAN_HOST=first.example.test
sign multicn \
  "/O=tlsgrade tests/CN=first.example.test/CN=second, with comma" "-algorithm ED448" inter \
  plain 20240101000000Z 20260101000000Z 06 sha384

openssl x509 -in root.pem -out "$here/pki-root.pem"
# A store that also holds the intermediate: a server sending only its leaf
# then verifies, but its chain is incomplete (the store filled the gap).
{ openssl x509 -in root.pem; openssl x509 -in inter.pem; } > "$here/pki-root-and-inter.pem"
openssl x509 -in self.pem -out "$here/pki-self.pem"
for name in root inter leaf expired future self multicn; do
  openssl x509 -in "$name.pem" -outform DER -out "$here/pki-$name.der"
done
ls "$here"/pki-*
