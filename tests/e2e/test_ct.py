"""ct: the SCTs a leaf embeds (RFC 6962 3.3) against Chrome's CT policy:
SCTs from 2 distinct logs for a certificate of at most 180 days, 3 beyond.
Too few fail only when clients asked for SCTs in the handshake (TLS 1.2
extension 18) and the server sent none there nor an OCSP staple: SCTs may
come that way instead.

Each leaf is made here with `openssl ca`, its SCT list extension written
byte by byte from RFC 6962 3.2-3.3 (the signatures are not checked by
anyone passive), with log ids of grade/ct_logs.tsv's source list (Chromium
log_list.json 81.5) and one id of no log; each is shown in a crafted TLS
1.2 handshake.  The expected verdicts follow from the counts and dates."""
import base64
import calendar
import json
import os
import shutil
import struct
import subprocess
import tempfile

from leaves import issue_leaf, sample_der
from oracle import TOP, Suite, run_tlsgrade
from pcapgen import Conversation, certificate, client_hello, server_hello, server_hello_done, \
    write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-ct-")
DAY = 86400
START = calendar.timegm((2026, 1, 5, 0, 0, 0))  # every leaf's notBefore
ARGON = base64.b64decode("DleUvPOuqT4zGyyZB7P3kN+bwj1xMiXdIaklrGHFTiE=")  # Google Argon2026h1
OAK = base64.b64decode("GYbUxyiqb/66A294Kk0BkarOLXIxD67OXXBBLSVMx9Q=")    # Let's Encrypt Oak2026h1
TIGER = base64.b64decode("FoMtq/CpJQ8P8DqlRf/Iv8gj0IdL9gQpJ/jnHzMT9fo=")  # Sectigo Tiger2026h1
NOLOG = bytes(range(32))                                                  # listed nowhere
SCT_EXT = struct.pack("!HH", 18, 0)  # signed_certificate_timestamp, empty (RFC 6962 3.3.1)


def sct(log_id):
    """SignedCertificateTimestamp v1: version, log id, timestamp, no
    extensions, digitally-signed (sha256, ecdsa, 70 bytes)."""
    body = (b"\x00" + log_id + struct.pack("!Q", 1767225600000) + struct.pack("!H", 0) +
            b"\x04\x03" + struct.pack("!H", 70) + bytes(70))
    return struct.pack("!H", len(body)) + body


def sct_ext_der(logs):
    """The extension value: an OCTET STRING holding the TLS-encoded list."""
    lst = b"".join(sct(l) for l in logs)
    tls = struct.pack("!H", len(lst)) + lst
    return b"\x04" + (bytes([len(tls)]) if len(tls) < 128 else b"\x82" + struct.pack("!H", len(tls))) + tls


# name, days, embedded logs (None: no SCT list), client asks (ext 18), server
# answers ext 18, expected status, the cert_ct fact's have/need:days
CASES = [
    ("two-logs", 90, [ARGON, OAK], True, False, "pass", "2/2:90"),
    ("same-log-twice", 90, [ARGON, ARGON], True, False, "fail", "1/2:90"),
    ("long-two", 200, [ARGON, OAK], True, False, "fail", "2/3:200"),
    ("long-three", 200, [ARGON, OAK, NOLOG], True, False, "pass", "3/3:200"),
    ("few-but-sent", 90, [ARGON], True, True, "unknown", "1/2:90"),
    ("few-not-asked", 90, [ARGON], False, False, "unknown", "1/2:90"),
    ("no-list", 90, None, True, False, "fail", "0/2:90"),
]


def policy(t):
    frames = []
    for i, (name, days, logs, asks, answers, _, _) in enumerate(CASES):
        conv = Conversation("10.9.9.100", 52000 + i, "10.9.9.%d" % (i + 1), 443,
                            1767830400.0 + i)  # 2026-01-08, inside every leaf's validity
        conv.handshake()
        conv.client_sends(client_hello(sni=b"%s.example.test" % name.encode(),
                                       extra_exts=SCT_EXT if asks else b""))
        scts = "" if logs is None else "1.3.6.1.4.1.11129.2.4.2=DER:%s\n" % sct_ext_der(logs).hex()
        leaf = issue_leaf(TMP, name, START, days * DAY, scts)
        conv.server_sends(server_hello(extra_exts=SCT_EXT if answers else b"") +
                          certificate([leaf, sample_der("int.pem")]) + server_hello_done())
        frames += conv.frames
    pcap = os.path.join(TMP, "ct.pcap")
    write_pcap(pcap, frames)
    ev = os.path.join(TMP, "ev.json")
    rc, out, err = run_tlsgrade(["--format", "json", "--save-evidence", ev, pcap])
    t.eq(rc, 0, "graded: " + err)
    got = {s["host"]: next((c for c in s["checks"] if c["id"] == "ct"), None)
           for s in (json.loads(out)["servers"] if rc == 0 else [])}
    for name, days, logs, asks, answers, want, fact in CASES:
        c = got.get("%s.example.test" % name)
        t.check(c is not None, "%s: a ct check" % name)
        if c:
            t.eq(c["status"], want, "%s: %s" % (name, c.get("reason")))
            if want != "unknown":
                t.eq(c["evidence"][0]["fact"], "cert_ct:" + fact, "%s: the evidence" % name)
    keys = {}
    for e in json.load(open(ev))["endpoints"] if os.path.exists(ev) else []:
        keys[e["host"]] = {f["k"] for f in e["facts"]}
    three = keys.get("long-three.example.test", set())
    t.check({"cert_ct_log:Google Argon2026h1", "cert_ct_log:Let's Encrypt Oak2026h1",
             "cert_ct_log:unknown " + base64.b64encode(NOLOG).decode()} <= three,
            "the logs named from grade/ct_logs.tsv, an unknown one by its id: %r" %
            sorted(k for k in three if k.startswith("cert_ct")))
    t.check("ct:tls_sent" in keys.get("few-but-sent.example.test", set()),
            "extension 18 answered: ct:tls_sent")


def generated_table_current(t):
    r = subprocess.run(["python3", os.path.join(TOP, "grade", "gen-ct-logs.py"), "--check"],
                       capture_output=True, text=True)
    t.eq(r.returncode, 0, "grade/ct_logs_data.h is generated from grade/ct_logs.tsv: " + r.stderr)


def main():
    t = Suite()
    t.run(policy)
    t.run(generated_table_current)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
