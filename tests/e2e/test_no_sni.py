"""Connections without SNI and the named servers of their address (issue 20).

A hello without SNI is answered before the server can know a name.  An
SSL 2.0 CLIENT-HELLO has no field for one and an SSL 3.0 ClientHello no
extensions (RFC 6101 5.6.1.2), so what the address answered them is what
any SSL 2.0 or 3.0 client of a named server there gets: the named server
inherits it as address evidence, labelled as coming from a connection
without SNI, unless the certificates both showed differ (another back end).
The `-` endpoint is folded under its address (no letter of its own) when a
named server there sent its certificate, or it saw none.

Built here with pcapgen (every byte from the RFCs: the SSL 2.0 messages as
the SSL 2.0 specification lays them out, RFC 6101 appendix E): what is
expected comes from the construction (which connection carried SNI, which
frame holds the refusal, the certificates' SHA-256 from hashlib).  Also
the testssl.sh recordings of tests/data/testssl/: testssl's SSLv2, SSLv3
and TLS 1.0 probes carry no SNI, and its other connections do.

- SSL 3.0 refused without SNI, TLS 1.2 served with SNI: the named server's
  ssl3 (and poodle) pass on the refusal's frame, via no-sni; so after
  --save-evidence of each half and `tlsgrade merge`, and with -j 2;
- SSL 2.0 answered without SNI, TLS 1.3 (certificate hidden) with SNI:
  ssl2 and drown fail on the SERVER-HELLO's frame, via no-sni;
- another certificate without SNI: nothing inherited, a notice naming that
  certificate, and the `-` endpoint keeps its own letter;
- text, HTML and JSON: the folded `-` endpoint has no summary row and no
  letter of its own shown; JSON keeps it, "folded_under_address": true.
"""
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, record, server_hello,
                     server_hello_done, server_key_exchange_ecdhe, write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-nosni-")
CERTS = os.path.join(TOP, "samples", "certs")
TESTSSL = os.path.join(TOP, "tests", "data", "testssl")
T0 = 1768435200.0  # 2026-01-15, inside the sample certificates' validity
SSL3, TLS12, TLS13 = 0x0300, 0x0303, 0x0304
CLIENT = "10.9.0.10"

# Summary rows whole: host names are not shortened beyond 80 columns.
os.environ["COLUMNS"] = "200"


def der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def ssl2(body):
    """An SSL 2.0 record with a two-byte header: length | 0x8000."""
    return struct.pack("!H", 0x8000 | len(body)) + body


# SSL 2.0 cipher kinds: RC4_128_WITH_MD5, DES_192_EDE3_CBC_WITH_MD5.
SSL2_SPECS = b"\x01\x00\x80\x07\x00\xc0"


def ssl2_client_hello():
    """CLIENT-HELLO (1): version 0x0002, cipher-specs, session-id and
    challenge lengths, the specs, a 16-byte challenge.  No field for a name."""
    challenge = bytes(range(16))
    return ssl2(b"\x01" + struct.pack("!HHHH", 0x0002, len(SSL2_SPECS), 0, len(challenge)) +
                SSL2_SPECS + challenge)


def ssl2_server_hello(cert):
    """SERVER-HELLO (4): session-id-hit 0, certificate type X.509 (1), version
    0x0002, certificate, cipher-specs and connection-id lengths, then them."""
    conn_id = bytes(range(16, 32))
    return ssl2(b"\x04\x00\x01" + struct.pack("!HHHH", 0x0002, len(cert), len(SSL2_SPECS),
                                               len(conn_id)) + cert + SSL2_SPECS + conn_id)


class Capture:
    """Connections one after another; remembers the frame number (1-based,
    in file order) of the messages a test cites."""

    def __init__(self):
        self.frames, self.port, self.t = [], 40000, T0

    def conn(self, server):
        self.port += 1
        self.t += 1.0
        return Conversation(CLIENT, self.port, server, 443, t0=self.t)

    def add(self, c):
        self.frames += c.frames

    def frame_of(self, c, index):
        """The file frame of c's frame number `index` (0-based, in c)."""
        return sorted(self.frames, key=lambda x: x[0]).index(c.frames[index]) + 1

    def write(self, name):
        path = os.path.join(TMP, name)
        write_pcap(path, self.frames)
        return path


def refused_ssl3(cap, server):
    """A hello without SNI whose best version is SSL 3.0, refused with a
    fatal handshake_failure alert (RFC 6101 5.4: level 2, description 40).
    Returns the file frame of the alert (after add)."""
    c = cap.conn(server)
    c.handshake()
    c.client_sends(client_hello(ciphers=(0x002f, 0x000a), version=SSL3))
    c.server_sends(record(0x15, b"\x02\x28", SSL3))
    cap.add(c)
    return cap.frame_of(c, len(c.frames) - 1)


def tls12(cap, server, sni, cert, **hello):
    """A TLS 1.2 ECDHE handshake: ServerHello, Certificate, ServerKeyExchange,
    ServerHelloDone (RFC 5246 7.3)."""
    c = cap.conn(server)
    c.handshake()
    c.client_sends(client_hello(sni=sni, ciphers=(0xc02f,), groups=(23,),
                                sig_algs=(0x0401,), **hello))
    c.server_sends(server_hello(cipher=0xc02f) + certificate([cert]) +
                   server_key_exchange_ecdhe(23) + server_hello_done())
    cap.add(c)


def tls13(cap, server, sni):
    """A TLS 1.3 ServerHello (RFC 8446 4.1.3): the certificate is encrypted."""
    c = cap.conn(server)
    c.handshake()
    c.client_sends(client_hello(sni=sni, ciphers=(0x1301,), groups=(29,), versions=(TLS13,),
                                key_shares=(29,), sig_algs=(0x0804,)))
    c.server_sends(server_hello(cipher=0x1301, selected_version=TLS13, key_share=29))
    cap.add(c)


def grade(paths, *extra, fmt="json"):
    rc, out, err = run_tlsgrade(["--format", fmt] + list(extra) + list(paths))
    if rc != 0:
        raise RuntimeError("tlsgrade exit status %d: %s" % (rc, err[-300:]))
    return json.loads(out) if fmt == "json" else out


def server(report, host, ip):
    found = [s for s in report["servers"] if s["host"] == host and s["ip"] == ip]
    return found[0] if len(found) == 1 else None


def check(s, cid):
    return next(c for c in s["checks"] if c["id"] == cid)


def summary_rows(text):
    """The summary table's rows: (host, server, grade)."""
    lines = text.split("\n\n")[1].splitlines()[1:]
    return [tuple(line.split()[:3]) for line in lines if line.strip()]


def expect_address_evidence(t, s, cid, status, fact, sample, what):
    """Check cid of server s decided `status` by `fact` at `sample`, via no-sni."""
    c = check(s, cid)
    t.eq(c["status"], status, "%s: %s" % (what, cid))
    ev = [e for e in c.get("evidence", []) if e["fact"] == fact]
    if t.check(ev, "%s: %s cites %s (has %s)" % (what, cid, fact,
                                                 [e["fact"] for e in c.get("evidence", [])])):
        t.eq(ev[0].get("via"), "no-sni", "%s: %s evidence labelled" % (what, cid))
        t.eq(ev[0].get("sample"), sample, "%s: %s evidence frame" % (what, cid))


def ssl3_refused_without_sni(t):
    """SSL 3.0 refused to a hello without SNI, TLS 1.2 served to a.example.test."""
    ip = "10.9.1.1"
    cap = Capture()
    alert = refused_ssl3(cap, ip)
    no_sni = cap.write("ssl3-nosni.pcap")
    named_cap = Capture()
    named_cap.t, named_cap.port = cap.t + 10, cap.port + 10  # another connection
    tls12(named_cap, ip, b"a.example.test", der("a.pem"))
    named = named_cap.write("ssl3-named.pcap")
    both = Capture()
    both.frames = cap.frames + named_cap.frames
    path = both.write("ssl3-both.pcap")
    fact = "derived:no_sni:refused:SSLv3:handshake_failure"
    sample = "%s:%d" % (path, alert)
    for extra in ([], ["-j", "2"]):
        r = grade([path], *extra)
        s = server(r, "a.example.test", ip)
        if not t.check(s, "a.example.test graded %s" % extra):
            continue
        what = "one run %s" % extra
        expect_address_evidence(t, s, "ssl3", "pass", fact, sample, what)
        expect_address_evidence(t, s, "poodle", "pass", fact, sample, what)
        dash = server(r, "-", ip)
        t.check(dash and dash.get("folded_under_address") is True,
                "%s: the `-` endpoint is folded (JSON keeps it, marked)" % what)
    # Each half saved alone, merged: the address evidence is derived at grading.
    saved = []
    for p in (no_sni, named):
        ev = p + ".evidence.json"
        rc, _, err = run_tlsgrade(["--save-evidence", ev, "-o", os.devnull, p])
        t.eq(rc, 0, "save evidence of %s: %s" % (p, err[-200:]))
        saved.append(ev)
    rc, out, err = run_tlsgrade(["merge", "--format", "json"] + saved)
    if t.eq(rc, 0, "merge: %s" % err[-200:]):
        s = server(json.loads(out), "a.example.test", ip)
        if t.check(s, "merged: a.example.test graded"):
            expect_address_evidence(t, s, "ssl3", "pass", fact, "%s:%d" % (no_sni, alert),
                                    "merged")
    # Text and HTML: no row, no section, no letter for `-`; the fold line.
    text = grade([path], fmt="text")
    rows = summary_rows(text)
    t.check(not [row for row in rows if row[0] == "-"], "text: no summary row for `-`: %s" % rows)
    t.check(re.search(r"CONNECTIONS WITHOUT SNI.*\n +%s:443 +connections without SNI: 1;"
                      r" refused: SSLv3 \(handshake_failure\)" % re.escape(ip), text),
            "text: the fold line under its address")
    t.check("\n== -  " not in text, "text: no detail section with a letter for `-`")
    # A passed check shows its evidence with --verbose (wrapped at 80 columns).
    verbose = " ".join(grade([path], "--verbose", fmt="text").split())
    t.check("%s [via a connection without SNI]" % fact in verbose, "text: evidence labelled")
    html = grade([path], fmt="html")
    t.check(not re.search(r"<tr><td[^>]*><a href=\"#srv-\d+\">-</a>", html), "HTML: no row for `-`")
    t.check(re.search(r"<h2 id=\"no-sni\">.*<code class=\"addr\">%s:443</code>: connections without SNI: 1"
                      % re.escape(ip), html, re.S), "HTML: the fold line under its address")
    t.check("%s</code> (via a connection without SNI)" % fact in html, "HTML: evidence labelled")


def ssl2_answered_without_sni(t):
    """SSL 2.0 answered without SNI (no name possible), TLS 1.3 with SNI."""
    ip = "10.9.2.1"
    cap = Capture()
    c = cap.conn(ip)
    c.handshake()
    c.client_sends(ssl2_client_hello())
    c.server_sends(ssl2_server_hello(der("a.pem")))
    cap.add(c)
    hello = cap.frame_of(c, len(c.frames) - 1)
    tls13(cap, ip, b"a.example.test")
    path = cap.write("ssl2.pcap")
    r = grade([path])
    s = server(r, "a.example.test", ip)
    if not t.check(s, "a.example.test graded"):
        return
    sample = "%s:%d" % (path, hello)
    fact = "derived:no_sni:version:SSLv2"
    expect_address_evidence(t, s, "ssl2", "fail", fact, sample, "ssl2")
    expect_address_evidence(t, s, "drown", "fail", fact, sample, "drown")
    t.eq(s["grade"], "F", "SSL 2.0 at the address caps the named server at F")
    t.check(check(s, "tls10_11")["status"] == "unknown", "nothing else is inherited")


def other_certificate_without_sni(t):
    """Without SNI the address sends another certificate: another back end."""
    ip = "10.9.3.1"
    cap = Capture()
    refused_ssl3(cap, ip)
    tls12(cap, ip, None, der("bravo.pem"))
    tls12(cap, ip, None, der("bravo.pem"))
    tls12(cap, ip, b"a.example.test", der("a.pem"))
    path = cap.write("other-cert.pcap")
    r = grade([path])
    s, dash = server(r, "a.example.test", ip), server(r, "-", ip)
    if not t.check(s and dash, "both endpoints reported"):
        return
    t.eq(check(s, "ssl3")["status"], "unknown", "no inheritance across certificates")
    t.eq(check(dash, "ssl3")["status"], "pass", "the `-` endpoint's own refusal")
    bravo = hashlib.sha256(der("bravo.pem")).hexdigest()
    notes = [n for n in s.get("notices", []) if n["kind"] == "no_sni_cert_differs"]
    t.check(notes and notes[0]["what"] == bravo and notes[0]["handshakes"] == 2,
            "a notice names the certificate the 2 connections without SNI got: %s" % notes)
    t.check("folded_under_address" not in dash, "the `-` endpoint is not folded")
    text = grade([path], fmt="text")
    t.check("-" in [row[0] for row in summary_rows(text)], "text: `-` keeps its own row")
    t.check(re.search(r"notice: connections without SNI to this address got a certificate this "
                      r"server never sent.*: %s" % bravo, text), "text: the notice")


def own_weakness_not_folded(t):
    """A NULL-cipher suite (TLS_RSA_WITH_NULL_SHA, RFC 5246 A.5: weak_cipher,
    which caps at F) negotiated without SNI, with the certificate the named
    server sends: NULL is no address evidence (only SSL 2.0/3.0 and
    refusals are), and the named server (TLS 1.2 ECDHE-GCM, trusted chain)
    does not share it, so the `-` endpoint is a server of its own: its F is
    shown, and --fail-below names it."""
    ip = "10.9.4.1"
    chain = [der("a.pem"), der("int.pem")]  # openssl verify: OK against root.pem
    cap = Capture()
    c = cap.conn(ip)
    c.handshake()
    c.client_sends(client_hello(ciphers=(0x0002,)))
    c.server_sends(server_hello(cipher=0x0002) + certificate(chain) + server_hello_done())
    cap.add(c)
    c = cap.conn(ip)
    c.handshake()
    c.client_sends(client_hello(sni=b"a.example.test", ciphers=(0xc02f,), groups=(23,),
                                sig_algs=(0x0401,)))
    c.server_sends(server_hello(cipher=0xc02f) + certificate(chain) +
                   server_key_exchange_ecdhe(23) + server_hello_done())
    cap.add(c)
    path = cap.write("null-nosni.pcap")
    ca = ["--ca-file", os.path.join(CERTS, "root.pem")]
    r = grade([path], *ca)
    dash = server(r, "-", ip)
    if not t.check(dash is not None, "a `-` endpoint"):
        return
    t.check(dash.get("folded_under_address") is None, "`-` not folded: NULL is its own")
    t.eq(check(dash, "weak_cipher")["status"], "fail", "the NULL suite, without SNI")
    t.eq(dash["grade"], "F", "its letter")
    rc, _, err = run_tlsgrade(["--fail-below", "C", "-o", os.devnull] + ca + [path])
    t.eq(rc, 3, "--fail-below C: the `-` endpoint fails: " + err)
    t.check("- %s:443 grades F" % ip in err, "--fail-below names it: %r" % err)
    rows = summary_rows(grade([path], "--summary", *ca, fmt="text"))
    t.check([row for row in rows if row[0] == "-" and row[2] == "F"], "its F row: %s" % rows)


def folded_left_out(t):
    """TLS 1.0 (ECDHE-RSA-AES128-SHA, tls10_11: caps at B) negotiated both
    without SNI and with it, one certificate: every failure of the `-`
    endpoint is its named server's too, so it is folded, and the exit
    statuses, the history, the ECS findings and the header's count leave
    it out."""
    ip = "10.9.4.2"
    chain = [der("a.pem"), der("int.pem")]  # openssl verify: OK against root.pem
    cap = Capture()
    for sni in (None, b"a.example.test"):
        c = cap.conn(ip)
        c.handshake()
        c.client_sends(client_hello(sni=sni, version=0x0301, ciphers=(0xc013,), groups=(23,)))
        c.server_sends(server_hello(cipher=0xc013, version=0x0301) + certificate(chain) +
                       server_key_exchange_ecdhe(23) + server_hello_done())
        cap.add(c)
    path = cap.write("tls10-both.pcap")
    ca = ["--ca-file", os.path.join(CERTS, "root.pem")]
    r = grade([path], *ca)
    dash, named = server(r, "-", ip), server(r, "a.example.test", ip)
    if not t.check(dash and named and dash.get("folded_under_address") is True, "`-` folded"):
        return
    t.eq(check(dash, "tls10_11")["status"], "fail", "TLS 1.0 without SNI")
    t.eq(check(named, "tls10_11")["status"], "fail", "TLS 1.0 with SNI")
    rc, _, err = run_tlsgrade(["--fail-below", "A", "-o", os.devnull] + ca + [path])
    t.eq(rc, 3, "--fail-below A: the named server fails: " + err)
    t.check("a.example.test %s:443" % ip in err and " - %s" % ip not in err,
            "--fail-below names the named server only: %r" % err)
    rc, _, err = run_tlsgrade(["--profile", "mozilla-intermediate", "-o", os.devnull] + ca +
                              [path])
    t.check(" - %s" % ip not in err, "--profile names no `-` endpoint: %r" % err)
    rc, out, err = run_tlsgrade(["--format", "ecs"] + ca + [path])
    docs = [json.loads(line) for line in out.splitlines() if line.strip()]
    t.eq(rc, 0, "ecs: " + err)
    t.eq([d["vulnerability"]["id"] for d in docs if d["event"]["dataset"] == "tlsgrade.finding" and
          "domain" not in d["server"]], [],
         "no ECS finding of the `-` endpoint")
    db = os.path.join(TMP, "history.db")
    rc, _, err = run_tlsgrade(["--history", db, "-o", os.devnull] + ca + [path])
    t.eq(rc, 0, "--history: " + err)
    con = sqlite3.connect(db)
    hosts = [row[0] for row in con.execute("SELECT host FROM tlsgrade_grades")]
    con.close()
    t.eq(hosts, ["a.example.test"], "the history holds the named server only")
    text = grade([path], *ca, fmt="text")
    t.check(re.search(r"^  servers +1,", text, re.M), "the header counts one server: " +
            text[:200])


def testssl_recordings(t):
    """testssl.sh scans: its SSLv2/SSLv3/TLS 1.0 probes carry no SNI, the rest
    do, against one certificate: every `-` endpoint is folded, never a letter
    beside its named server (mismatch: it was A beside M)."""
    manifest = json.load(open(os.path.join(TESTSSL, "manifest.json")))
    for name, srv in sorted(manifest["servers"].items()):
        pcap = os.path.join(TMP, name + ".pcap")
        with gzip.open(os.path.join(TESTSSL, name + ".pcap.gz"), "rb") as g, \
                open(pcap, "wb") as o:
            shutil.copyfileobj(g, o)
        ca = ["--ca-file", os.path.join(TESTSSL, "pki", "root.pem")]
        r = grade([pcap], *ca)
        ours = [s for s in r["servers"] if s["port"] == srv["port"]]
        named = [s for s in ours if s["host"] == srv["host"]]
        dash = [s for s in ours if s["host"] == "-"]
        if not t.check(named and dash, "%s: named and `-` endpoints" % name):
            continue
        t.check(dash[0].get("folded_under_address") is True, "%s: `-` folded in JSON" % name)
        rows = summary_rows(grade([pcap], "--summary", *ca, fmt="text"))
        t.check([row for row in rows if row[0] == srv["host"]] and
                not [row for row in rows if row[0] == "-"],
                "%s: text summary shows the named server, no `-` row: %s" % (name, rows))
        html = grade([pcap], *ca, fmt="html")
        t.check(not re.search(r"<tr><td[^>]*><a href=\"#srv-\d+\">-</a>", html),
                "%s: HTML summary has no `-` row" % name)
        # testssl's findings: SSLv2 and SSLv3 not offered; the named server
        # learns it from the probes without SNI.
        for cid in ("ssl2", "ssl3"):
            c = check(named[0], cid)
            t.check(c["status"] == "pass" and c["evidence"][0].get("via") == "no-sni",
                    "%s: %s pass from address evidence: %s" % (name, cid, c["status"]))


if __name__ == "__main__":
    suite = Suite()
    suite.run(ssl3_refused_without_sni)
    suite.run(ssl2_answered_without_sni)
    suite.run(other_certificate_without_sni)
    suite.run(own_weakness_not_folded)
    suite.run(folded_left_out)
    suite.run(testssl_recordings)
    shutil.rmtree(TMP, ignore_errors=True)
    suite.done()
