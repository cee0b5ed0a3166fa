"""DROWN (grading reference 2) is derived across endpoints: a key that any
endpoint used for SSLv2 breaks every endpoint whose certificate has that
key.  The derivation sorts the SSLv2 keys once and looks each certificate
key up in them (n log n); it used to look every SSLv2 key up on every
endpoint, which is quadratic.

Saved evidence (format 2) is built here: N endpoints; the first half used
SSLv2 with KEYS keys each; in the second half, endpoint j shows in its
certificate the first key of SSLv2 endpoint j - N/2 when j is odd, and a
key no endpoint used for SSLv2 when it is even.  Expected from that
construction: the drown check fails on every SSLv2 endpoint and on every
odd endpoint of the second half, and on no even one.

The size makes the old derivation's cost (N/2 * KEYS SSLv2 keys, each
looked up on N endpoints: 1.6 * 10^9 look-ups, some ten minutes) far exceed the
run's timeout (120 s), while the merge itself, linear, takes seconds."""
import json
import os
import shutil
import tempfile

from oracle import Suite, run_tlsgrade

SAN = os.environ.get("SAN") == "1"
TMP = tempfile.mkdtemp(prefix="tlsgrade-drown-scale-")
N, KEYS = (4000, 50) if SAN else (8000, 50)


def key(i, k):
    return "%060x%04x" % (i, k)


def evidence(path):
    at = {"n": 1, "first_us": 1700000000000000, "last_us": 1700000000000000}
    eps = []
    for i in range(N):
        keys = ["handshakes", "server_hello"]
        if i < N // 2:
            keys += ["version:SSLv2"] + ["sslv2:key:" + key(i, k) for k in range(KEYS)]
        elif i % 2:
            keys += ["version:TLSv1.2", "cert:key:" + key(i - N // 2, 0)]
        else:
            keys += ["version:TLSv1.2", "cert:key:" + key(i, 9999)]
        eps.append({"host": "h%d.example" % i,
                    "ip": "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255),
                    "port": 443, "facts": [dict(at, k=k) for k in keys]})
    with open(path, "w") as f:
        json.dump({"tlsgrade_evidence": 2, "endpoints": eps}, f)


def drown_at_scale(t):
    path = os.path.join(TMP, "evidence.json")
    evidence(path)
    rc, out, err = run_tlsgrade(["merge", "--format", "json", path], timeout=120)
    t.eq(rc, 0, "exit status: " + err[-300:])
    servers = json.loads(out)["servers"] if rc == 0 else []
    t.eq(len(servers), N, "every endpoint graded")
    failed = set()
    for s in servers:
        if any(c["id"] == "drown" and c["status"] == "fail" for c in s["checks"]):
            failed.add(int(s["host"][1:].split(".")[0]))
    want = set(range(N // 2)) | {j for j in range(N // 2, N) if j % 2}
    t.eq(len(failed), len(want), "DROWN endpoints")
    t.check(failed == want, "the SSLv2 endpoints and the odd ones of the second half")


def main():
    t = Suite()
    t.run(drown_at_scale)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
