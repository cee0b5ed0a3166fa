"""A signal while `tlsgrade merge` derives the facts that need every
endpoint (DROWN: each SSLv2 key is looked for on every endpoint) abandons
the report at once, as it does while grading (README "Partial results"):
exit status 1, nothing written.  The text summary keeps the report small,
so that the run's time is reading and grading, not writing.

Saved evidence (format 2, README "Saved evidence") is built here: N
endpoints with a handshake, V of them with an SSLv2 key of their own.  The
derivation is n log n (test_drown_scale.py), so N is large enough that the
run takes seconds: loading, deriving and grading each look at the flag.
The run is timed once to its end; a second run gets SIGINT at 50% of that
time and must end before 75% of it (it ended at the full time when only
grading looked at the flag).  Ratios, not seconds: the machine's speed
cancels out."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

from oracle import TLSGRADE, Suite

SAN = os.environ.get("SAN") == "1"
TMP = tempfile.mkdtemp(prefix="tlsgrade-stop-derive-")


def evidence(path, n, v):
    at = {"n": 1, "first_us": 1700000000000000, "last_us": 1700000000000000}
    eps = []
    for i in range(n):
        keys = ["handshakes", "server_hello"]
        if i < v:
            keys += ["version:SSLv2", "sslv2:key:%064x" % i]
        eps.append({"host": "h%d.example" % i, "ip": "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255,
                                                                    i & 255),
                    "port": 443, "facts": [dict(at, k=k) for k in keys]})
    with open(path, "w") as f:
        json.dump({"tlsgrade_evidence": 2, "endpoints": eps}, f)


def merge(path, out, interrupt_after=None):
    """Run merge; returns (exit status, seconds from start to exit)."""
    start = time.monotonic()
    with open(out, "wb") as f:
        p = subprocess.Popen([TLSGRADE, "merge", "--summary", "-o", out, path],
                             stdout=f, stderr=subprocess.PIPE)
        if interrupt_after is not None:
            time.sleep(interrupt_after)
            p.send_signal(signal.SIGINT)
        p.communicate(timeout=600)
    return p.returncode, time.monotonic() - start


def sigint_during_derivation(t):
    n, v = (8000, 150) if SAN else (30000, 400)
    path = os.path.join(TMP, "evidence.json")
    evidence(path, n, v)
    out = os.path.join(TMP, "report.json")
    rc, full = merge(path, out)
    t.eq(rc, 0, "the whole run")
    with open(out) as f:
        head = f.readline() + f.readline()
    t.check(re.search(r"^  servers +%d," % n, head, re.M), "every endpoint in the report: %r" % head)
    rc, stopped = merge(path, out, interrupt_after=0.5 * full)
    print("  full run %.2f s, interrupted at %.2f s, ended at %.2f s" % (full, 0.5 * full, stopped))
    t.eq(rc, 1, "exit status after SIGINT")
    # Under SAN=1 reading the evidence file (one cJSON parse, not
    # interruptible: README "Limits") takes most of the run: the signal is
    # honoured (status, no report), the time not bounded.
    t.check(SAN or stopped < 0.75 * full, "ended before 75%% of the full run: %.2f of %.2f s" %
            (stopped, full))
    t.eq(os.path.getsize(out), 0, "no report written")


def main():
    t = Suite()
    t.run(sigint_during_derivation)
    t.done()


main()
