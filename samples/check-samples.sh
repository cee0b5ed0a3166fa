#!/bin/sh
# samples/check-samples.sh - check the bundled sample captures with tshark.
#
#   samples/check-samples.sh [DIR]      (default: the samples/ directory)
#
# For every *.pcap in DIR and in DIR/demo (the five-day demo, craft_demo.py):
#   - tshark -V must show no "Malformed" packet and `-z expert,error` no error;
#   - crafted captures (craft.py --list) are also read with IP and TCP checksum
#     validation on and must show no expert warning or error at all, and
#     craft.py must rebuild them byte for byte (the committed files are what
#     the script writes).  Real loopback captures are read without checksum
#     validation: the kernel leaves loopback checksums to offload.
#   - the file must be described in expected.json (the demo's under "demo"),
#     and every file that expected.json describes must exist; the demo's key
#     log must also be what craft_demo.py writes.
# Prints one line per file and a summary; exits 1 on any failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here}
command -v tshark >/dev/null || { echo "check-samples: tshark is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$here/craft.py" --list >"$work/crafted"
python3 "$here/craft_demo.py" --list >>"$work/crafted"
python3 "$here/craft.py" "$work/rebuilt" >/dev/null
python3 "$here/craft_demo.py" "$work/rebuilt" >/dev/null
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for f in d["samples"]: print(f["file"])
for f in d["demo"]["files"]: print(f)' \
  "$here/expected.json" >"$work/described"

failed=0 checked=0
fail() {
  echo "FAIL $1: $2"
  failed=$((failed + 1))
}

for pcap in "$dir"/*.pcap "$dir"/demo/*.pcap; do
  [ -e "$pcap" ] || continue
  name=${pcap#"$dir"/}
  checked=$((checked + 1))
  ok=1
  if grep -qx "$name" "$work/crafted"; then
    opts="-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE"
    level=warn
    if ! cmp -s "$pcap" "$work/rebuilt/$name"; then
      fail "$name" "differs from what craft.py writes (run samples/make-samples.sh --crafted-only)"
      ok=0
    fi
  else
    opts=
    level=error
  fi
  # shellcheck disable=SC2086
  if ! tshark -r "$pcap" -V $opts >"$work/verbose" 2>"$work/stderr"; then
    fail "$name" "tshark could not read it: $(head -1 "$work/stderr")"
    continue
  fi
  n=$(grep -c -i "malformed" "$work/verbose" || true)
  [ "$n" = 0 ] || { fail "$name" "$n malformed packet(s)"; ok=0; }
  # shellcheck disable=SC2086
  tshark -r "$pcap" -q -z "expert,$level" $opts 2>/dev/null |
    grep -E '^ +[0-9]+ ' >"$work/expert" || true
  if [ -s "$work/expert" ]; then
    fail "$name" "expert info at level $level or above:"
    sed 's/^/    /' "$work/expert"
    ok=0
  fi
  grep -qx "$name" "$work/described" || { fail "$name" "not described in expected.json"; ok=0; }
  [ $ok = 0 ] || echo "ok   $name ($(wc -c <"$pcap") bytes, $(grep -c '^Frame ' "$work/verbose") frames)"
done
while read -r name; do
  [ -e "$dir/$name" ] || fail "$name" "described in expected.json but missing"
done <"$work/described"
cmp -s "$dir/demo.keylog" "$work/rebuilt/demo.keylog" ||
  fail demo.keylog "differs from what craft_demo.py writes (run samples/make-samples.sh --crafted-only)"

echo "check-samples: $checked captures, $failed failure(s)"
[ $failed = 0 ]
