"""Servers seen only in ClientHellos: folded, and the endpoint cap.

Built here: N connections to distinct SNI names that the server never
answers, and one normal handshake (ServerHello, the sample chain for a name
it covers, ECDHE).  What is expected comes from the construction: the
generator knows every name and how many connections it sent to each.

- The normal server is graded and listed; the N names are not graded but
  folded into one count (JSON "hello_only", one line of text and HTML)
  with the ten most seen names (most connections first, then by name).
- --limit endpoints=K keeps K hello-only endpoints and counts the
  connections of the rest in limits.endpoints.hits; the answered server
  after the flood is still graded (its class has its own room).
- A name seen in ClientHellos and answered later becomes a normal endpoint.
- Saved evidence merges to the same fold in either order, keeps the cap's
  hits, and merge applies the cap it is given.

Each connection is closed by a client RST and the next one starts 200 s
later (past the 120 s a closed flow is kept): connections reach the
evidence in capture order, so which names a cap keeps is known."""
import json
import os
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, server_hello, server_hello_done,
                     server_key_exchange_ecdhe, tcp_frame, write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-hello-")
CERTS = os.path.join(TOP, "samples", "certs")
T0 = 1768435200.0  # 2026-01-15, inside the sample certificates' validity
GAP = 200.0


def der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def served_name():
    """A DNS name of the sample leaf's subjectAltName (read with openssl)."""
    out = subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, "a.pem"), "-noout", "-ext",
                          "subjectAltName"], check=True, capture_output=True, text=True).stdout
    names = [p.strip()[4:] for p in out.splitlines()[1].split(",") if p.strip().startswith("DNS:")]
    return names[0]


class Capture:
    def __init__(self):
        self.frames = []
        self.t = T0
        self.k = 0

    def _conv(self):
        self.k += 1
        self.t += GAP
        return Conversation("10.%d.%d.%d" % (40 + (self.k >> 16), (self.k >> 8) & 255,
                                             self.k & 255), 40000, "10.50.0.1", 443, self.t)

    def _close(self, conv):
        conv._add(tcp_frame(conv.c, conv.cp, conv.s, conv.sp, conv.cseq, conv.sseq, 0x14))
        self.frames += conv.frames

    def hello(self, sni):
        conv = self._conv()
        conv.handshake()
        conv.client_sends(client_hello(sni=sni.encode(), ciphers=(0xc02f,), groups=(0x001d,)))
        self._close(conv)

    def answered(self, sni, full=True):
        conv = self._conv()
        conv.handshake()
        conv.client_sends(client_hello(sni=sni.encode(), ciphers=(0xc02f,), groups=(0x001d,)))
        flight = server_hello(cipher=0xc02f)
        if full:
            flight += (certificate([der("a.pem"), der("int.pem")]) +
                       server_key_exchange_ecdhe(0x001d) + server_hello_done())
        conv.server_sends(flight)
        self._close(conv)

    def write(self, name):
        path = os.path.join(TMP, name)
        write_pcap(path, self.frames)
        return path


def flood_names(n):
    """name -> connections: 1 to 4, so that the top ten is decided by count."""
    return {"f%03d.flood.test" % i: 1 + (i * 7) % 4 for i in range(n)}


def top_ten(counts):
    return [(h, c) for h, c in sorted(counts.items(), key=lambda hc: (-hc[1], hc[0]))][:10]


def report(t, args):
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file",
                                 os.path.join(CERTS, "root.pem")] + args)
    t.eq(rc, 0, "exit status: " + err)
    return json.loads(out) if rc == 0 else {}


def flood_capture(counts, graded):
    cap = Capture()
    for host, c in counts.items():
        for _ in range(c):
            cap.hello(host)
    cap.answered(graded)
    return cap


def folded(t):
    n, graded = 40, served_name()
    counts = flood_names(n)
    pcap = flood_capture(counts, graded).write("flood.pcap")
    r = report(t, [pcap])
    servers = [(s.get("host"), s.get("grade")) for s in r.get("servers", [])]
    t.eq([h for h, _ in servers], [graded], "only the answered server is listed")
    t.check(servers and servers[0][1] not in (None, "-"), "and graded: %r" % servers)
    hello = r.get("hello_only", {})
    t.eq(hello.get("servers"), n, "every unanswered name folded")
    t.eq(hello.get("connections"), sum(counts.values()), "their connections")
    t.eq([(e.get("host"), e.get("connections")) for e in hello.get("most_seen", [])],
         top_ten(counts), "the ten most seen, most first, then by name")
    t.eq(r.get("limits", {}).get("endpoints", {}).get("hits"), 0, "no cap hit")
    rc, text, err = run_tlsgrade(["--ca-file", os.path.join(CERTS, "root.pem"), pcap])
    t.check("%d servers seen only in ClientHellos" % n in text, "the text report's line")
    quiet = [h for h in counts if h not in dict(top_ten(counts))]
    t.check(not any(h in text for h in quiet), "names past the ten are not in the text report")
    t.eq(text.count("\n== "), 1, "one server section")
    rc, html, err = run_tlsgrade(["--format", "html", pcap])
    t.check("%d servers seen only in ClientHellos" % n in html, "the HTML report's line")
    t.eq(html.count("<section id=\"srv-"), 1, "one server section in HTML")


def capped(t):
    """40 names of 2 connections each, then the answered server: with room
    for 15 hello-only endpoints the first 15 names are kept, the other 25
    names' 50 connections are counted, and the answered server is graded."""
    n, k, graded = 40, 15, served_name()
    counts = {"f%03d.flood.test" % i: 2 for i in range(n)}
    pcap = flood_capture(counts, graded).write("capped.pcap")
    r = report(t, ["--limit", "endpoints=%d" % k, pcap])
    t.eq(r.get("limits", {}).get("endpoints"), {"limit": k, "hits": 2 * (n - k)},
         "the cap and the connections it dropped")
    hello = r.get("hello_only", {})
    t.eq((hello.get("servers"), hello.get("connections")), (k, 2 * k), "the first names kept")
    t.eq([e.get("host") for e in hello.get("most_seen", [])],
         ["f%03d.flood.test" % i for i in range(10)], "ties by name")
    servers = [(s.get("host"), s.get("grade")) for s in r.get("servers", [])]
    t.eq([h for h, _ in servers], [graded], "the answered server after the flood is kept")
    t.check(servers and servers[0][1] not in (None, "-"), "and graded: %r" % servers)


def answered_later(t):
    """late.test: two ClientHellos alone, five other names, then late.test
    answered.  It is a normal endpoint, not folded; with room for one
    endpoint of each class, its hello takes the hello-only room (the five
    names are dropped: 5 hits) and its answer the answered room."""
    cap = Capture()
    cap.hello("late.test")
    cap.hello("late.test")
    for i in range(5):
        cap.hello("other%d.test" % i)
    cap.answered("late.test", full=False)
    pcap = cap.write("late.pcap")
    r = report(t, [pcap])
    t.eq([s.get("host") for s in r.get("servers", [])], ["late.test"], "listed once answered")
    hello = r.get("hello_only", {})
    t.eq(hello.get("servers"), 5, "the five others folded")
    t.check("late.test" not in json.dumps(hello), "late.test is not folded")
    r = report(t, ["--limit", "endpoints=1", pcap])
    t.eq([s.get("host") for s in r.get("servers", [])], ["late.test"], "at the cap too")
    t.eq(r.get("limits", {}).get("endpoints", {}).get("hits"), 5, "the five others dropped")
    t.eq(r.get("hello_only"), None, "no hello-only endpoint left")


def merged(t):
    n, graded = 40, served_name()
    counts = flood_names(n)
    # A name's connections alternate between the two files: most names
    # are in both, and merging must add their counts.
    a, b = Capture(), Capture()
    for host, c in counts.items():
        for j in range(c):
            (a if j % 2 == 0 else b).hello(host)
    a.answered(graded)
    paths = []
    for name, part in (("a", a), ("b", b)):
        ev = os.path.join(TMP, name + ".evidence.json")
        report(t, ["--save-evidence", ev, part.write(name + ".pcap")])
        paths.append(ev)
    ab = merge(t, paths)
    ba = merge(t, paths[::-1])
    want = (n, sum(counts.values()), top_ten(counts))
    for name, r in (("a+b", ab), ("b+a", ba)):
        hello = r.get("hello_only", {})
        t.eq((hello.get("servers"), hello.get("connections"),
              [(e.get("host"), e.get("connections")) for e in hello.get("most_seen", [])]),
             want, name + ": the same fold as the whole capture")
        t.eq([s.get("host") for s in r.get("servers", [])], [graded], name + ": the server")
    # A capped run saves its hits; merge keeps them, and applies its own cap.
    ev = os.path.join(TMP, "capped.evidence.json")
    whole = flood_capture(counts, graded).write("whole.pcap")
    report(t, ["--limit", "endpoints=15", "--save-evidence", ev, whole])
    dropped = sum(c for h, c in counts.items() if int(h[1:4]) >= 15)
    r = merge(t, [ev])
    t.eq(r.get("limits", {}).get("endpoints", {}).get("hits"), dropped, "saved hits merged")
    t.eq(r.get("hello_only", {}).get("servers"), 15, "the 15 kept")
    r = merge(t, paths, ["--limit", "endpoints=10"])
    hello = r.get("hello_only", {})
    kept = sum(e.get("connections", 0) for e in hello.get("most_seen", []))
    t.eq(hello.get("servers"), 10, "merge applies its cap")
    t.eq(r.get("limits", {}).get("endpoints", {}).get("hits"), sum(counts.values()) - kept,
         "merge counts the connections it dropped")


def merge(t, paths, extra=()):
    rc, out, err = run_tlsgrade(["merge", "--format", "json"] + list(extra) + paths)
    t.eq(rc, 0, "merge exit status: " + err)
    return json.loads(out) if rc == 0 else {}


def main():
    t = Suite()
    t.run(folded)
    t.run(capped)
    t.run(answered_later)
    t.run(merged)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
