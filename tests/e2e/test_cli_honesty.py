"""No silent failure on the command line: a trust store, input, key log or
option that does not act says so (on stderr, and in the report when the
report is still written), and --fail-below names what failed.

Oracles: the pcap record layout walked here (the offset a truncated file
stops at), tshark (ClientHellos, SNI), samples/expected.json (hand-derived
grades)."""
import json
import os
import shutil
import struct
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade

TMP = tempfile.mkdtemp(prefix="tlsgrade-honesty-")
SAMPLES = os.path.join(TOP, "samples")
CA = ["--ca-file", os.path.join(SAMPLES, "certs", "root.pem")]


def sample(name):
    return os.path.join(SAMPLES, name)


def missing_trust_store(t):
    """--ca-path and --ca-file that are not there end the run (status 1)
    before any report: no server graded against an empty store."""
    for opt, path in (("--ca-path", "/nonexistent-dir"), ("--ca-file", "/nonexistent.pem")):
        rc, out, err = run_tlsgrade([opt, path, sample("a-grade.pcap")])
        t.eq(rc, 1, opt + " exit status: " + err)
        t.eq(out, "", opt + ": no report")
        t.check(opt + " " + path + ": No such file or directory" in err, opt + " message: " + err)
        t.check("system lib" not in err, opt + ": not OpenSSL's bare reason")
    rc, out, err = run_tlsgrade(["--ca-path", sample("a-grade.pcap"), sample("a-grade.pcap")])
    t.eq(rc, 1, "--ca-path FILE exit status")
    t.check("not a directory" in err, "--ca-path FILE: " + err)
    rc, out, err = run_tlsgrade(["--ca-file", SAMPLES, sample("a-grade.pcap")])
    t.eq(rc, 1, "--ca-file DIR exit status")
    t.check("a directory" in err, "--ca-file DIR: " + err)


def empty_stdin(t):
    """'-' with nothing piped in: an error, and no empty report after it."""
    rc, out, err = run_tlsgrade(["-"], stdin=b"")
    t.eq(rc, 1, "exit status: " + err)
    t.eq(out, "", "no report")
    t.check("stdin: empty" in err, "names the empty input: " + err)
    t.check("no report written" in err, "says no report was written: " + err)


def directory_skips(t):
    """A directory's files that are not captures are named, not dropped."""
    d = os.path.join(TMP, "dir")
    os.mkdir(d)
    shutil.copy(sample("a-grade.pcap"), d)
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not a capture\n")
    with open(os.path.join(d, "zz.keylog"), "w") as f:
        f.write("# nothing\n")
    rc, out, err = run_tlsgrade(["--no-color"] + CA + [d])
    t.eq(rc, 0, "exit status: " + err)
    t.check("2 file(s) not read" in err and "notes.txt" in err, "names what it skipped: " + err)
    t.check("a.example.test" in out, "the capture is graded")


def pcap_records(data):
    """(offset, length) of each record of a classic little-endian pcap."""
    off, recs = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        recs.append((off, 16 + incl))
        off += 16 + incl
    return recs


def truncated_warning_in_report(t):
    """A capture cut inside a record: the warning is in every format of the
    report, with the byte offset of the record it stopped at."""
    data = open(sample("a-grade.pcap"), "rb").read()
    t.eq(struct.unpack_from("<I", data, 0)[0], 0xa1b2c3d4, "little-endian pcap")
    recs = pcap_records(data)
    cut_at = recs[-3][0]  # the third-last record is cut in its payload
    path = os.path.join(TMP, "cut.pcap")
    with open(path, "wb") as f:
        f.write(data[:cut_at + 16 + 5])
    # libpcap stops where its read came up short: the end of the file
    want = "cut.pcap: read stopped at byte offset %d after %d packets" % (cut_at + 21,
                                                                           len(recs) - 3)
    rc, out, err = run_tlsgrade(["--no-color"] + CA + [path])
    t.eq(rc, 1, "exit status: the input was incomplete")
    head = out.split("HOST (SNI)")[0]
    t.check("warning: " in head and want in head, "text header has the warning: " + head)
    rc, out, err = run_tlsgrade(["--format", "json"] + CA + [path])
    doc = json.loads(out)
    t.eq(doc["stats"]["warnings"], 1, "the count stays")
    t.eq(len(doc.get("warnings", [])), 1, "JSON warnings array")
    t.check(want in doc.get("warnings", [""])[0], "JSON warning text")
    rc, out, err = run_tlsgrade(["--format", "html"] + CA + [path])
    t.check("<dt>Warning</dt><dd>" in out and want in out, "HTML header has the warning")
    rc, out, err = run_tlsgrade(["--format", "json"] + CA + [sample("a-grade.pcap")])
    t.check("warnings" not in json.loads(out), "a whole capture: no warnings array")


def client_hellos(path):
    p = subprocess.run(["tshark", "-r", path, "-Y", "tls.handshake.type == 1", "-T", "fields",
                        "-e", "frame.number"], capture_output=True, check=True)
    return len(p.stdout.split())


def keylog_matched_nothing(t):
    """A key log of other connections: said on stderr and in the report,
    and hsts is unknown because of it, not "without a key log"."""
    pcap = sample("3des-tls12.pcap")
    n = client_hellos(pcap)
    t.check(n > 0, "the capture has ClientHellos")
    want = "the key log given opened none of the %d TLS connection(s)" % n
    rc, out, err = run_tlsgrade(["--format", "json", "--keylog", sample("a-grade.keylog"), pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.check(want in err, "stderr: " + err)
    doc = json.loads(out)
    t.check(any(want in w for w in doc.get("warnings", [])), "JSON warnings")
    hsts = [c for c in doc["servers"][0]["checks"] if c["id"] == "hsts"][0]
    t.eq(hsts["status"], "unknown", "hsts unknown")
    t.check("opened none of this server's connections" in hsts.get("reason", ""),
            "hsts reason: %r" % hsts.get("reason"))
    rc, out, err = run_tlsgrade(["--format", "json", "--keylog", sample("a-grade.keylog"),
                                 sample("a-grade.pcap")])
    t.check("opened none" not in err, "a matching key log: no warning: " + err)


def conflicting_options(t):
    """An option the run would ignore is a usage error (status 2)."""
    pcap = sample("a-grade.pcap")
    for args in (["--handshakes", "--format", "html"], ["--handshakes", "--format", "text"],
                 ["--summary", "--format", "json"], ["--summary", "--format", "html"],
                 ["--summary", "--handshakes"], ["--flows", "--keylog", sample("a-grade.keylog")],
                 ["--flows"] + CA, ["--flows", "--fail-below", "A"],
                 ["--handshakes", "--save-evidence", os.path.join(TMP, "ev.json")],
                 ["-Z", "nobody"], ["-s", "1500"], ["-p"]):
        rc, out, err = run_tlsgrade(args + [pcap])
        t.eq(rc, 2, "%s: exit status (%s)" % (" ".join(args), err.strip()))
        t.eq(out, "", "%s: nothing on stdout" % " ".join(args))
        t.check(err.startswith("tlsgrade: ") and "apply" in err,
                "%s says why: %s" % (" ".join(args), err))
    rc, out, err = run_tlsgrade(["--handshakes", "--format", "json", pcap])
    t.eq(rc, 0, "--handshakes --format json agrees")


def fail_below_names_servers(t):
    """Status 3, and each server below the grade on stderr: those the hand
    derived grades of samples/expected.json put below A-."""
    expected = json.load(open(sample("expected.json")))
    demo = [s for s in expected["samples"] if s["file"] == "demo-cloud-consoles.pcap"][0]
    order = ["A+", "A", "A-", "B", "C", "D", "E", "F", "T", "M"]
    below = [s for s in demo["servers"] if order.index(s["grade"]) > order.index("A-")]
    rc, out, err = run_tlsgrade(["--no-color", "--summary", "--fail-below", "A-"] + CA +
                                [sample("demo-cloud-consoles.pcap")])
    t.eq(rc, 3, "exit status")
    lines = [l for l in err.splitlines() if l.startswith("tlsgrade: --fail-below A-: ")]
    t.eq(len(lines), len(below), "one line per failing server: " + err)
    for s in below:
        want = "--fail-below A-: %s %s:%d grades %s" % (s["sni"], s["ip"], s["port"], s["grade"])
        t.check(any(want in l for l in lines), "names " + want)


def fail_below_no_server(t):
    """No TLS at all under --fail-below: its own status (4), not 0."""
    pcap = os.path.join(TMP, "no-tls.pcap")
    subprocess.run(["tshark", "-r", sample("a-grade.pcap"), "-Y", "tcp.len==0", "-w", pcap],
                   check=True, capture_output=True)
    rc, out, err = run_tlsgrade(["--no-color", "--fail-below", "A", pcap])
    t.eq(rc, 4, "exit status: " + err)
    t.check("no TLS server was graded" in err, "says why: " + err)
    t.check("no TLS server seen" in out, "the report is still written")
    rc, out, err = run_tlsgrade(["--no-color", pcap])
    t.eq(rc, 0, "without --fail-below: 0")


def main():
    t = Suite()
    for fn in (missing_trust_store, empty_stdin, directory_skips, truncated_warning_in_report,
               keylog_matched_nothing, conflicting_options, fail_below_names_servers,
               fail_below_no_server):
        t.run(fn)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
