#!/bin/sh
# tests/same-output.sh [REV]
#
# For changes that must not change behaviour (moves, renames, splits):
# builds REV (default HEAD) in build/same-output/REV, builds the working
# tree, runs both binaries over the same matrix and compares every output
# byte for byte (standard output, standard error and exit status):
#
#   each sample and each corpus capture: --handshakes, --flows, and the
#     JSON, text and HTML reports;
#   the samples and the corpus as one input each: the three reports,
#     -j 2, --handshakes and --flows;
#   key logs: samples/a-grade and the corpus capture that has one;
#   testssl.sh's recorded scans (tests/data/testssl): JSON and HTML;
#   --save-evidence of two halves of the samples, and merge of the two.
#
# Prints the commands whose output differs and exits 1; exits 0 when every
# output is the same.  Needs git and the build dependencies.
set -eu
# The report says when it was made: one fixed time, so that two builds'
# reports compare byte for byte.
export SOURCE_DATE_EPOCH=1700000000
cd "$(dirname "$0")/.."
top=$(pwd)
rev=${1:-HEAD}
sha=$(git rev-parse --verify "$rev^{commit}")
corpus=$top/../shared/corpus/pcaps
keys=$top/../shared/corpus/keys
base=$top/build/same-output/$sha

if [ ! -x "$base/src/tlsgrade" ]; then
  echo "same-output: building $rev ($sha)"
  rm -rf "$base"
  mkdir -p "$base/src"
  git archive "$sha" | tar -x -C "$base/src"
  make -s -C "$base/src" -j2 tlsgrade >"$base/build.log" 2>&1 ||
    { echo "same-output: $rev does not build: $base/build.log" >&2; exit 1; }
fi
make -s -j2 tlsgrade >/dev/null

# run BIN OUT: the whole matrix, one numbered result file per command.
run() {
  bin=$1 out=$2 n=0
  rm -rf "$out"
  mkdir -p "$out"
  scratch=$top/build/same-output/scratch
  rm -rf "$scratch"
  mkdir -p "$scratch"
  one() { # one command: its stdout, stderr and status, and the command line
    n=$((n + 1))
    {
      echo "\$ $*"
      set +e
      "$bin" "$@" >"$out/$n.stdout" 2>"$out/$n.stderr"
      echo "status $?"
      set -e
    } >"$out/$n.cmd"
  }
  ca="--ca-file samples/certs/root.pem"
  for f in samples/*.pcap "$corpus"/*.pcap "$corpus"/*.pcapng; do
    [ -f "$f" ] || continue
    one --handshakes "$f"
    one --flows "$f"
    one --format json $ca "$f"
    one --format text --no-color $ca "$f"
    one --format html $ca "$f"
  done
  for d in samples "$corpus"; do
    one --format json $ca "$d"
    one --format text --no-color $ca "$d"
    one --format html $ca "$d"
    one -j 2 --format json $ca "$d"
    one --handshakes "$d"
    one --flows "$d"
  done
  one --handshakes --keylog samples/a-grade.keylog samples/a-grade.pcap
  one --format json $ca --keylog samples/a-grade.keylog samples/a-grade.pcap
  for k in "$keys"/*.keylog; do
    [ -f "$k" ] || continue
    p=$corpus/$(basename "$k" .keylog)
    one --handshakes --keylog "$k" "$p"
    one --format json --keylog "$k" "$p"
  done
  # testssl.sh's recorded scans: a hundred and more clients on one server
  for g in tests/data/testssl/*.pcap.gz; do
    [ -f "$g" ] || continue
    p=$scratch/$(basename "$g" .gz)
    gzip -dc "$g" >"$p"
    one --format json --ca-file tests/data/testssl/pki/root.pem "$p"
    one --format html --ca-file tests/data/testssl/pki/root.pem "$p"
  done
  set -- samples/*.pcap
  half=$(($# / 2)) i=0 first="" second=""
  for f in "$@"; do
    i=$((i + 1))
    if [ $i -le $half ]; then first="$first $f"; else second="$second $f"; fi
  done
  one --format json $ca --save-evidence "$scratch/ev1.json" $first
  cp "$scratch/ev1.json" "$out/ev1.json"
  one --format json $ca --save-evidence "$scratch/ev2.json" $second
  cp "$scratch/ev2.json" "$out/ev2.json"
  one merge --format json "$scratch/ev1.json" "$scratch/ev2.json"
  one merge --format text --no-color "$scratch/ev1.json" "$scratch/ev2.json"
  echo "$n commands"
}

printf 'same-output: %s: ' "$rev"
run "$base/src/tlsgrade" "$top/build/same-output/before" >/dev/null
printf 'working tree: '
run "$top/tlsgrade" "$top/build/same-output/after"
bad=0
for f in "$top"/build/same-output/before/*; do
  g=$top/build/same-output/after/$(basename "$f")
  if ! cmp -s "$f" "$g"; then
    cmd=$f
    case "$f" in *.stdout|*.stderr) cmd=${f%.*}.cmd ;; esac
    echo "differs: $(basename "$f"): $(head -1 "$cmd")"
    bad=$((bad + 1))
  fi
done
if [ "$bad" -ne 0 ]; then
  echo "same-output: $bad output(s) differ from $rev (build/same-output/before and after)"
  exit 1
fi
echo "same-output: every output is the same as $rev's"
