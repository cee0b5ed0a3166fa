"""Files tlsgrade writes, and what it prints, cannot be turned against its user.

- A symlink planted at the temporary name of a file replaced whole
  (FILE.tmp of --save-evidence, and of -o with --interval) is not
  followed: its target keeps its bytes.
- After -Z, a --save-evidence path the capture's user cannot write is
  refused at the start.
- Saved evidence whose ip is not an address is refused by merge.
- File names in messages, and host names in the text and HTML reports,
  show control characters, escape sequences and bidirectional controls
  escaped.
- Counts in evidence stop at 10^18, the bound merge reads: merge reads
  back what it writes, and a count there costs no loop.
- SIGHUP ends a live capture with its report, like SIGTERM; SIGINT while
  grading a large evidence set ends the run within a second or two.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import hashlib
import time
import unicodedata

from oracle import TLSGRADE, TOP, Suite, run_tlsgrade
from pcapgen import Conversation, client_hello, server_hello, write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-safety-")
os.chmod(TMP, 0o755)  # a live capture runs as nobody (-Z) below it
SAMPLE = os.path.join(TOP, "samples", "a-grade.pcap")
PRECIOUS = b"root's file: must never be written through a planted link\n"


def fresh_dir(name, mode=0o755):
    d = os.path.join(TMP, name)
    os.makedirs(d)
    os.chmod(d, mode)
    return d


def plant(path):
    """A symlink at path to a file of known bytes; returns the target."""
    target = path + ".target"
    with open(target, "wb") as f:
        f.write(PRECIOUS)
    os.symlink(target, path)
    return target


def wait_for(proc, text, timeout=15):
    """Read proc's stderr until a line containing text appears."""
    end = time.time() + timeout
    while time.time() < end:
        line = proc.stderr.readline()
        if not line:
            return False
        if text.encode() in line:
            return True
    return False


def evidence_temp_link(t):
    """--save-evidence FILE with FILE.tmp a symlink to another file."""
    d = fresh_dir("ev-link")
    evidence = os.path.join(d, "ev.json")
    target = plant(evidence + ".tmp")
    rc, out, err = run_tlsgrade(["--save-evidence", evidence, SAMPLE])
    t.eq(rc, 0, "exit status: " + err)
    t.check(open(target, "rb").read() == PRECIOUS, "the link's target is unchanged")
    t.check(os.path.isfile(evidence) and not os.path.islink(evidence), "FILE is a file")
    t.eq(json.load(open(evidence)).get("tlsgrade_evidence"), 2, "FILE holds the evidence")
    mask = os.umask(0o22)
    os.umask(mask)
    t.eq(oct(os.stat(evidence).st_mode & 0o777), oct(0o666 & ~mask), "fopen's mode (POSIX)")
    t.eq(sorted(os.listdir(d)), ["ev.json", "ev.json.tmp", "ev.json.tmp.target"],
         "no temporary file left behind")


def interval_temp_link(t):
    """-o FILE --interval, run as root (-Z root), with FILE.tmp a symlink:
    neither the check at start nor a rewrite writes through it."""
    if os.getuid() != 0:
        t.check(False, "live capture needs root")
        return
    d = fresh_dir("interval-link")
    report = os.path.join(d, "r.json")
    target = plant(report + ".tmp")
    proc = subprocess.Popen([TLSGRADE, "-i", "lo", "-f", "tcp port 9", "-Z", "root", "--format",
                             "json", "-o", report, "--interval", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        t.check(wait_for(proc, "listening on"), "started")
        end = time.time() + 10
        while time.time() < end and not os.path.exists(report):
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    t.eq(proc.returncode, 0, "exit status: " + err.decode())
    t.check(open(target, "rb").read() == PRECIOUS, "the link's target is unchanged")
    t.check(os.path.isfile(report) and not os.path.islink(report), "FILE is a file")
    t.eq(json.load(open(report)).get("servers"), [], "FILE holds the report")
    t.eq(sorted(os.listdir(d)), ["r.json", "r.json.tmp", "r.json.tmp.target"],
         "no temporary file left behind")


def evidence_probed_at_start(t):
    """A live capture as root drops to nobody (-Z's default) before the first
    packet; --save-evidence in a directory only root may write is refused
    at the start, with a message naming the file and -Z, not after the
    whole capture."""
    if os.getuid() != 0:
        t.check(False, "live capture needs root")
        return
    d = fresh_dir("root-only", 0o700)
    evidence = os.path.join(d, "ev.json")
    proc = subprocess.Popen([TLSGRADE, "-i", "lo", "-f", "tcp port 9", "--save-evidence", evidence],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        t.check(False, "still capturing 10 s later")
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    err = err.decode()
    t.eq(proc.returncode, 1, "exit status: " + err)
    t.check("ev.json" in err and "-Z" in err, "the message names the file and -Z: " + err)
    t.eq(os.listdir(d), [], "nothing left in the directory")


def evidence_file(path, endpoints):
    """A saved evidence file as README "Evidence and merging" describes it
    (format version 2)."""
    with open(path, "w") as f:
        json.dump({"tlsgrade_evidence": 2, "endpoints": endpoints}, f)
    return path


def fact(key, n=1, t=1700000000000000):
    return {"k": key, "n": n, "first_us": t, "last_us": t, "file": "x.pcap", "frame": 1,
            "ts_us": t}


def merge_escape_in_ip(t):
    """merge of evidence whose ip holds a terminal escape: refused with a
    message (an ip is an address), nothing of it reaches the terminal."""
    d = fresh_dir("escape-ip")
    bad = evidence_file(os.path.join(d, "bad.json"), [
        {"host": "h.example", "ip": "\x1b[31m1.2.3.4", "port": 443,
         "facts": [fact("handshakes"), fact("server_hello"), fact("version:TLSv1.2")]}])
    rc, out, err = run_tlsgrade(["merge", "--no-color", bad])
    t.eq(rc, 1, "exit status: " + err)
    t.check("bad.json" in err, "the message names the file: " + err)
    t.check("\x1b" not in out + err, "no escape on the terminal (%d)" % (out + err).count("\x1b"))
    # The same ip on a chain waiting for its intermediate: merge would make
    # the endpoint from it.
    saved = os.path.join(d, "chain.json")
    run_tlsgrade(["--save-evidence", saved, os.path.join(TOP, "samples", "incomplete-chain.pcap")])
    doc = json.load(open(saved))
    for p in doc.get("chains", {}).get("pending", []):
        p["ip"] = "\x1b[31m" + p["ip"]
    with open(saved, "w") as f:
        json.dump(doc, f)
    rc, out, err = run_tlsgrade(["merge", "--no-color", "--ca-file",
                                 os.path.join(TOP, "samples", "certs", "root.pem"), saved])
    t.eq(rc, 1, "exit status (chain's ip): " + err)
    t.check("\x1b" not in out + err, "no escape on the terminal (%d)" % (out + err).count("\x1b"))


def handshake_pcap(path, sni):
    conv = Conversation("10.9.8.7", 51000, "10.9.8.1", 443)
    conv.handshake()
    conv.client_sends(client_hello(sni=sni))
    conv.server_sends(server_hello())
    write_pcap(path, conv.frames)
    return path


def controls(text):
    """Characters no terminal should get from a name: C0 but newline, DEL,
    C1, and Unicode's explicit bidirectional formatting characters (UAX #9
    section 2: LRE RLE PDF LRO RLO, LRI RLI FSI PDI) and marks."""
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f or
            unicodedata.bidirectional(c) in ("LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI",
                                             "FSI", "PDI") or c in "\u200e\u200f\u061c"]


def escape_in_file_names(t):
    """A capture file named with escape sequences: the warning about it
    (cut short, in a directory) and the error (not a capture) show the
    name's control characters escaped."""
    d = fresh_dir("names")
    name = "\x1b]0;pwned\x07\x1b[2Jcut\u202e.pcap"
    pcap = handshake_pcap(os.path.join(d, name), b"cut.example")
    data = open(pcap, "rb").read()
    with open(pcap, "wb") as f:
        f.write(data[:-7])  # the last record cut short
    rc, out, err = run_tlsgrade(["--no-color", d])
    t.eq(rc, 1, "exit status (input cut short): " + err)
    t.check("read stopped" in err, "the warning is given: %r" % err)
    t.eq(controls(err), [], "no control character in the warning")
    t.check("\\x1b]0;pwned\\x07" in err, "the name shown escaped: %r" % err)
    t.check("\\u202e" in err, "the bidi override shown escaped: %r" % err)
    other = os.path.join(d, "\x1b[31mnot-a-capture.pcap")
    with open(other, "wb") as f:
        f.write(b"hello, this is text\n")
    rc, out, err = run_tlsgrade([other])
    t.eq(rc, 1, "exit status (not a capture): " + err)
    t.eq(controls(err), [], "no control character in the error")
    t.check("\\x1b[31mnot-a-capture.pcap" in err, "the name shown escaped: %r" % err)


def bidi_host(t):
    """A host name with U+202E (RIGHT-TO-LEFT OVERRIDE) and U+2066 (LEFT-TO-RIGHT
    ISOLATE): the text and HTML reports show them escaped, like controls."""
    d = fresh_dir("bidi")
    sni = "evil\u202egro.example\u2066x".encode()
    pcap = handshake_pcap(os.path.join(d, "bidi.pcap"), sni)
    rc, out, err = run_tlsgrade(["--no-color", pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.eq(controls(out), [], "no bidi control in the text report")
    t.check("evil\\u202egro.example\\u2066x" in out, "the host shown escaped")
    page = os.path.join(d, "r.html")
    rc, out, err = run_tlsgrade(["--format", "html", "-o", page, pcap])
    t.eq(rc, 0, "exit status: " + err)
    body = open(page, "rb").read().decode("utf-8")
    t.eq(controls(body), [], "no bidi control in the HTML page")
    lowered = body.lower()
    t.check("&#x202e" not in lowered and "&#8238" not in lowered and "&rlo" not in lowered,
            "nor as a character reference (which is the character)")
    t.check("evil\\u202egro.example\\u2066x" in body, "the host shown escaped")


COUNT_BOUND = 10 ** 18  # README "Limits": counts in evidence stop there


def merged_counts_saturate(t):
    """Two files each counting a fact 6e17 times: the merged file says
    10^18 (the bound), not the sum, and merge reads it back."""
    d = fresh_dir("counts")
    halves = [evidence_file(os.path.join(d, "half%d.json" % i), [
        {"host": "h.example", "ip": "192.0.2.1", "port": 443,
         "facts": [fact("handshakes", 6 * 10 ** 17), fact("server_hello", 6 * 10 ** 17)]}])
        for i in (1, 2)]
    merged = os.path.join(d, "merged.json")
    rc, out, err = run_tlsgrade(["merge", "--save-evidence", merged] + halves)
    t.eq(rc, 0, "exit status: " + err)
    doc = json.load(open(merged))
    counts = [f["n"] for e in doc["endpoints"] for f in e["facts"]]
    t.eq(counts, [COUNT_BOUND, COUNT_BOUND], "the counts stop at the bound")
    rc, out, err = run_tlsgrade(["merge", "--format", "json", merged])
    t.eq(rc, 0, "merge reads its own output: " + err)
    rc, out, err = run_tlsgrade(["merge", "--save-evidence", os.path.join(d, "again.json"),
                                 merged, merged])
    t.eq(rc, 0, "and merges it with itself: " + err)


def waiting_chain_sessions(t):
    """A chain waiting for its intermediate, sent by 10^18 sessions (the
    bound, as a file may say): merge adds its trust facts with that count,
    in a moment."""
    d = fresh_dir("sessions")
    saved = os.path.join(d, "ev.json")
    rc, out, err = run_tlsgrade(["--save-evidence", saved,
                                 os.path.join(TOP, "samples", "incomplete-chain.pcap")])
    doc = json.load(open(saved))
    pending = doc.get("chains", {}).get("pending", [])
    t.eq(len(pending), 1, "one chain waits")
    for p in pending:
        p["sessions"] = COUNT_BOUND
    with open(saved, "w") as f:
        json.dump(doc, f)
    start = time.time()
    rc, out, err = run_tlsgrade(["merge", "--format", "json", "--ca-file",
                                 os.path.join(TOP, "samples", "certs", "root.pem"), saved],
                                timeout=30)
    t.check(time.time() - start < 30, "done in %.1f s" % (time.time() - start))
    t.eq(rc, 0, "exit status: " + err)
    counts = [e["count"] for s in json.loads(out)["servers"] for c in s["checks"]
              if c["id"] == "untrusted" for e in c["evidence"]]
    t.eq(counts, [COUNT_BOUND], "the trust fact counts every session")


def sighup_writes_report(t):
    """SIGHUP (the terminal closed) ends a live capture like SIGTERM: the
    report and the evidence are written, exit status 0."""
    if os.getuid() != 0:
        t.check(False, "live capture needs root")
        return
    d = fresh_dir("hup", 0o777)
    report, evidence = os.path.join(d, "r.json"), os.path.join(d, "ev.json")
    proc = subprocess.Popen([TLSGRADE, "-i", "lo", "-f", "tcp port 9", "--format", "json", "-o",
                             report, "--save-evidence", evidence],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        t.check(wait_for(proc, "listening on"), "started")
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGHUP)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    t.eq(proc.returncode, 0, "exit status after SIGHUP: " + err.decode())
    try:
        t.eq(json.load(open(report)).get("servers"), [], "the report is written")
        t.eq(json.load(open(evidence)).get("tlsgrade_evidence"), 2, "the evidence is written")
    except (OSError, ValueError) as e:
        t.check(False, "report and evidence: %r" % e)


def many_endpoints(path, n_endpoints, n_offers):
    """Evidence of n_endpoints servers, each having answered n_offers
    distinct client offers (what a busy server shows over a day)."""
    base = ["handshakes", "server_hello", "established", "version:TLSv1.2",
            "suite:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "kx:ecdh:x25519:256"]
    offers = [hashlib.md5(b"%d" % i).hexdigest() for i in range(n_offers)]
    endpoints = []
    for e in range(n_endpoints):
        facts = [fact(k) for k in base]
        facts += [fact("answer:%s:TLSv1.2:0xc02f" % o, t=1700000000000000 + i)
                  for i, o in enumerate(offers)]
        endpoints.append({"host": "s%d.example" % e, "ip": "10.1.%d.%d" % (e >> 8, e & 255),
                          "port": 443, "facts": facts})
    return evidence_file(path, endpoints)


def sigint_while_grading(t):
    """SIGINT while merge grades a large evidence set: it stops within a
    couple of seconds, writes no report, says so and exits 1.  (The report
    file is opened once the evidence is loaded: grading starts then.)"""
    d = fresh_dir("grading")
    evidence = many_endpoints(os.path.join(d, "big.json"), 60, 3000)
    report = os.path.join(d, "r.txt")
    proc = subprocess.Popen([TLSGRADE, "merge", "-o", report, evidence],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    end = time.time() + 60
    while time.time() < end and not os.path.exists(report) and proc.poll() is None:
        time.sleep(0.02)
    t.check(proc.poll() is None, "still running when grading starts")
    proc.send_signal(signal.SIGINT)
    sent = time.time()
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    took = time.time() - sent
    t.check(took < 2.5, "ended %.1f s after SIGINT" % took)
    t.eq(proc.returncode, 1, "exit status: " + err.decode())
    t.check(b"signal" in err, "says why: %r" % err)
    t.eq(os.path.getsize(report), 0, "no report (not half of one)")


def main():
    t = Suite()
    t.run(evidence_temp_link)
    t.run(interval_temp_link)
    t.run(evidence_probed_at_start)
    t.run(merge_escape_in_ip)
    t.run(escape_in_file_names)
    t.run(bidi_host)
    t.run(merged_counts_saturate)
    t.run(waiting_chain_sessions)
    t.run(sighup_writes_report)
    t.run(sigint_while_grading)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
