"""cert_lifetime: the leaf's validity period (notBefore through notAfter,
inclusive) against the CA/Browser Forum maximum in force at its notBefore:
825 days from 2018-03-01 (ballot 193), 398 from 2020-09-01 (SC22), 200
from 2026-03-15, 100 from 2027-03-15, 47 from 2029-03-15 (SC-081).

Each leaf is made here with `openssl ca -startdate -enddate`, signed by the
samples' intermediate, and shown in a crafted TLS 1.2 handshake; the
expected verdict of each is worked out from those dates and the ballots,
one second on either side of each limit."""
import calendar
import json
import os
import shutil
import tempfile

from leaves import issue_leaf, sample_der
from oracle import Suite, run_tlsgrade
from pcapgen import Conversation, certificate, client_hello, server_hello, server_hello_done, \
    write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-lifetime-")
DAY = 86400

# (name, notBefore, validity in seconds, expected status, the limit that decides)
CASES = [
    ("y2019-825", "2019-06-01", 825 * DAY, "pass", 825),
    ("y2019-826", "2019-06-01", 826 * DAY, "fail", 825),
    ("y2025-398", "2025-06-01", 398 * DAY, "pass", 398),
    ("y2025-398s", "2025-06-01", 398 * DAY + 1, "fail", 398),
    ("y2026-0314", "2026-03-14", 398 * DAY, "pass", 398),   # the day before SC-081's first step
    ("y2026-200", "2026-03-15", 200 * DAY, "pass", 200),
    ("y2026-201", "2026-03-15", 201 * DAY, "fail", 200),
    ("y2027-100", "2027-04-01", 100 * DAY, "pass", 100),
    ("y2027-101", "2027-04-01", 100 * DAY + 1, "fail", 100),
    ("y2029-47", "2029-03-15", 47 * DAY, "pass", 47),
    ("y2029-48", "2029-03-15", 48 * DAY, "fail", 47),
    ("y2017", "2017-01-01", 1000 * DAY, "unknown", 0),     # before any maximum judged here
]


def each_class(t):
    frames, port, names = [], 51000, {}
    for i, (name, nb, seconds, _, _) in enumerate(CASES):
        conv = Conversation("10.8.8.100", port + i, "10.8.8.%d" % (i + 1), 443, 1768435200.0 + i)
        conv.handshake()
        conv.client_sends(client_hello(sni=b"%s.example.test" % name.encode()))
        start = calendar.timegm(tuple(int(x) for x in nb.split("-")) + (0, 0, 0))
        leaf = issue_leaf(TMP, name, start, seconds)
        conv.server_sends(server_hello() + certificate([leaf, sample_der("int.pem")]) +
                          server_hello_done())
        frames += conv.frames
        names["%s.example.test" % name] = (nb, seconds)
    pcap = os.path.join(TMP, "lifetime.pcap")
    write_pcap(pcap, frames)
    rc, out, err = run_tlsgrade(["--format", "json", pcap])
    t.eq(rc, 0, "graded: " + err)
    got = {}
    for s in json.loads(out)["servers"] if rc == 0 else []:
        c = next((c for c in s["checks"] if c["id"] == "cert_lifetime"), None)
        got[s["host"]] = c
    for name, nb, seconds, want, limit in CASES:
        c = got.get("%s.example.test" % name)
        t.check(c is not None, "%s: a cert_lifetime check" % name)
        if not c:
            continue
        t.eq(c["status"], want, "%s (%s, %d s, limit %d days)" % (name, nb, seconds, limit))
        if want != "unknown":
            key = c["evidence"][0]["fact"] if c.get("evidence") else ""
            days = -(-seconds // DAY)
            t.check(key.startswith("cert_lifetime:%s.." % nb) and key.endswith(":%d" % days),
                    "%s: the evidence names the notBefore date and %d days: %r" % (name, days, key))
        t.eq(c.get("effect"), "info", "%s: beside the grade, never changing it" % name)


def main():
    t = Suite()
    t.run(each_class)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
