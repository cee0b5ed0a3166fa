"""Evidence as the unit of scale-out: `--save-evidence DIR/` writes
snapshots under names of their own, `tlsgrade merge` reads directories and
patterns, and the README's GNU parallel recipe (one run per capture, one
merge) gives the report of one run over all captures.

The oracle is tlsgrade's own single run over the same captures: merge is
documented as commutative and associative, so the split and the whole must
agree server by server and check by check (grades of the samples are
hand-checked by test_samples.py).  A live capture with --interval into a
directory must write only what ended in each interval: the connections made
are counted by the test, and the snapshots' handshake counts must add up to
them, not to a multiple."""
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from oracle import TLSGRADE, TOP, Suite, free_port, openssl_handshakes, run_tlsgrade

TMP = tempfile.mkdtemp(prefix="tlsgrade-scale-")
SAMPLES = os.path.join(TOP, "samples")
TRUST = ["--ca-file", os.path.join(SAMPLES, "certs", "root.pem")]
KEYS = ["--keylog", os.path.join(SAMPLES, "a-grade.keylog")]


def servers(doc):
    return {(s["host"], s["ip"], s["port"]):
            (s["grade"], tuple((c["id"], c["status"]) for c in s["checks"]))
            for s in doc.get("servers", [])}


def report(args):
    """args may start with the merge command, which must come first."""
    lead = args[:1] if args[:1] == ["merge"] else []
    rc, out, err = run_tlsgrade(lead + ["--format", "json"] + args[len(lead):])
    return rc, (json.loads(out) if rc in (0, 3) and out.startswith("{") else {}), err


def snapshots_and_patterns(t):
    ev = os.path.join(TMP, "ev") + "/"
    os.makedirs(ev)
    caps = sorted(glob.glob(os.path.join(SAMPLES, "*.pcap")))[:6]
    for c in caps:
        rc, _, err = report(TRUST + ["--save-evidence", ev, "-o", os.devnull, c])
        t.eq(rc, 0, "saved into the directory: " + err)
    files = sorted(os.listdir(ev))
    t.eq(len(files), len(caps), "a snapshot per run, none overwritten: %r" % files)
    t.check(all(f.endswith(".json") for f in files), "named *.json")
    rc, by_dir, err = report(["merge"] + TRUST + [ev])
    t.eq(rc, 0, "merge DIR: " + err)
    rc, by_files, err = report(["merge"] + TRUST + [os.path.join(ev, f) for f in files])
    t.eq(rc, 0, "merge FILES: " + err)
    rc, by_glob, err = report(["merge"] + TRUST + [os.path.join(ev, "*.json")])
    t.eq(rc, 0, "merge 'DIR/*.json' (quoted: expanded by tlsgrade): " + err)
    t.check(servers(by_dir) and servers(by_dir) == servers(by_files) == servers(by_glob),
            "directory, files and pattern merge the same")
    rc, whole, err = report(TRUST + caps)
    t.eq(servers(by_dir), servers(whole), "the snapshots merged grade as one run over all")

    empty = os.path.join(TMP, "empty")
    os.makedirs(empty)
    rc, _, err = run_tlsgrade(["merge", empty])
    t.check(rc == 1 and "no evidence file" in err, "an empty directory: exit 1: %r" % err)
    rc, _, err = run_tlsgrade(["merge", os.path.join(TMP, "nothing-*.json")])
    t.check(rc == 1 and "no file matches" in err, "a pattern matching nothing: %r" % err)
    rc, _, err = run_tlsgrade(["--save-evidence", os.path.join(TMP, "missing") + "/", caps[0]])
    t.check(rc == 1 and "missing" in err, "a snapshot directory that does not exist: %r" % err)


def parallel_recipe(t):
    """The README's recipe with local job slots: every sample graded by its
    own process, one merge."""
    if not shutil.which("parallel"):
        t.check(False, "GNU parallel is not installed (make deps)")
        return
    ev = os.path.join(TMP, "par") + "/"
    os.makedirs(ev)
    caps = sorted(glob.glob(os.path.join(SAMPLES, "*.pcap")))
    p = subprocess.run(["parallel", "-S", ":", "-j", "2", TLSGRADE] + TRUST + KEYS +
                       ["--save-evidence", ev, "-o", os.devnull, "{}", ":::"] + caps,
                       capture_output=True, text=True, timeout=600)
    t.eq(p.returncode, 0, "parallel ran every capture: " + p.stderr[-500:])
    t.eq(len(os.listdir(ev)), len(caps), "a snapshot per capture")
    rc, merged, err = report(["merge"] + TRUST + [ev])
    t.eq(rc, 0, "merge: " + err)
    rc, whole, err = report(TRUST + KEYS + [SAMPLES])
    t.eq(rc, 0, "one run: " + err)
    a, b = servers(merged), servers(whole)
    t.check(len(a) > 40, "the samples' servers are there: %d" % len(a))
    t.check(a == b, "merged evidence grades like one run: %r" %
            sorted((k, a.get(k, ("-",))[0], b.get(k, ("-",))[0])
                   for k in set(a) | set(b) if a.get(k) != b.get(k))[:5])


def live_snapshots(t):
    """--interval into a directory: a snapshot per interval holding what
    ended in it; merged, they are the capture's evidence."""
    if os.getuid() != 0:
        t.check(False, "live capture needs root")
        return
    d = tempfile.mkdtemp(prefix="tlsgrade-scale-live-")
    os.chmod(d, 0o777)
    ev = os.path.join(d, "ev") + "/"
    os.makedirs(ev)
    os.chmod(ev, 0o777)
    rep = os.path.join(d, "r.json")
    port = free_port()
    proc = subprocess.Popen([TLSGRADE, "-i", "lo", "-f", "tcp port %d" % port, "--format", "json",
                             "-o", rep, "--interval", "1", "--save-evidence", ev],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    made = 0
    try:
        line = proc.stderr.readline()
        t.check(b"listening on" in line, "started: %r" % line)
        made = openssl_handshakes(d, port, 3, 2.2)  # each in an interval of its own
        time.sleep(2.2)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    t.eq(proc.returncode, 0, "exit status after SIGINT: " + err.decode())
    t.eq(made, 3, "three handshakes made")
    snaps = sorted(os.listdir(ev))
    t.check(len(snaps) >= 2, "a snapshot per interval with news: %r" % snaps)
    total = 0
    for f in snaps:
        doc = json.load(open(os.path.join(ev, f)))
        for e in doc.get("endpoints", []):
            if e.get("port") == port:
                total += sum(x.get("n", 0) for x in e.get("facts", []) if x.get("k") == "handshakes")
    t.eq(total, made, "the snapshots count each handshake once")
    rc, merged, err = report(["merge", ev])
    final = json.load(open(rep)) if os.path.exists(rep) else {}
    t.eq(rc, 0, "merge of the snapshots: " + err)
    pick = lambda doc: {k: v for k, v in servers(doc).items() if k[2] == port}
    t.check(pick(final) and pick(merged) == pick(final),
            "merged snapshots grade like the live run's last report")
    shutil.rmtree(d, ignore_errors=True)


def main():
    t = Suite()
    t.run(snapshots_and_patterns)
    t.run(parallel_recipe)
    t.run(live_snapshots)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
