"""The JSON report and saved evidence against their JSON Schemas
(grade/report.schema.json, grade/evidence.schema.json; draft 2020-12,
checked with python3-jsonschema).

Every object the schemas describe fully has "additionalProperties": false,
so a member the code writes and the schema does not list fails here:
  - the JSON report of every sample, of the samples with -j 2 and a key
    log, of every corpus capture (and its key log when it has one) and of
    the corpus with -j 2;
  - the evidence saved from two halves of the samples, and the report of
    their merge;
  - a crafted capture with what the samples lack: a configuration change,
    a protocol violation, a server seen only in a ClientHello, a server
    flight without a ClientHello, and a file name that is not UTF-8.  The test asserts that those members are present (it knows what
    it built), so their part of the schema is exercised.
The schema is strict: without one of its properties, or with an unknown
member added to a report, validation fails."""
import copy
import glob
import json
import os
import shutil
import subprocess
import tempfile

import jsonschema

from oracle import CORPUS, TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, server_hello, server_hello_done,
                     write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-schema-")
SAMPLES = os.path.join(TOP, "samples")
CERTS = os.path.join(SAMPLES, "certs")
CA = ["--ca-file", os.path.join(CERTS, "root.pem")]
V = jsonschema.Draft202012Validator
T0 = 1768435200.0  # 2026-01-15 00:00:00 UTC, inside the sample certificates' validity


def schema(name):
    with open(os.path.join(TOP, "grade", name)) as f:
        s = json.load(f)
    V.check_schema(s)
    return s


REPORT = schema("report.schema.json")
EVIDENCE = schema("evidence.schema.json")


def errors(doc, sch):
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message[:200])
            for e in V(sch).iter_errors(doc)]


def valid_report(t, args, what):
    rc, out, err = run_tlsgrade(["--format", "json"] + args)
    # 1: a warning (an input cut short), the report written all the same
    if not t.check(rc in (0, 1) and out, what + ": exit status %d: %s" % (rc, err[-300:])):
        return None
    doc = json.loads(out)
    t.eq(errors(doc, REPORT)[:3], [], what + ": report valid")
    return doc


def samples(t):
    pcaps = sorted(glob.glob(os.path.join(SAMPLES, "*.pcap")))
    t.check(len(pcaps) >= 40, "samples found: %d" % len(pcaps))
    for p in pcaps:
        valid_report(t, CA + [p], os.path.basename(p))
    doc = valid_report(t, CA + ["-j", "2", "--keylog", os.path.join(SAMPLES, "a-grade.keylog"),
                                SAMPLES], "samples -j 2 --keylog")
    t.check(doc and "decryption" in doc["stats"], "key log: decryption counts present")


def corpus(t):
    pcaps = sorted(glob.glob(os.path.join(CORPUS, "pcaps", "*.pcap*")))
    t.check(len(pcaps) >= 40, "corpus captures found: %d" % len(pcaps))
    for p in pcaps:
        valid_report(t, CA + [p], os.path.basename(p))
    for k in sorted(glob.glob(os.path.join(CORPUS, "keys", "*.keylog"))):
        p = os.path.join(CORPUS, "pcaps", os.path.basename(k)[:-len(".keylog")])
        valid_report(t, ["--keylog", k, p], os.path.basename(k))
    doc = valid_report(t, CA + ["-j", "2", os.path.join(CORPUS, "pcaps")], "corpus -j 2")
    t.check(doc and doc.get("unverified") and doc.get("hello_only") and doc.get("warnings"),
            "corpus: unverified, hello_only and warnings present")


def evidence(t):
    pcaps = sorted(glob.glob(os.path.join(SAMPLES, "*.pcap")))
    halves = (pcaps[:len(pcaps) // 2], pcaps[len(pcaps) // 2:])
    files = []
    for i, half in enumerate(halves):
        ev = os.path.join(TMP, "ev%d.json" % i)
        valid_report(t, CA + ["--save-evidence", ev] + half, "half %d" % i)
        with open(ev) as f:
            doc = json.load(f)
        t.eq(errors(doc, EVIDENCE)[:3], [], "evidence %d valid" % i)
        files.append(ev)
    t.check(any("chains" in json.load(open(f)) for f in files), "a chain waits in the evidence")
    rc, out, err = run_tlsgrade(["merge", "--format", "json"] + files)
    t.eq(rc, 0, "merge: " + err)
    if rc == 0:
        t.eq(errors(json.loads(out), REPORT)[:3], [], "merged report valid")


def der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def crafted_frames():
    frames = []
    # 10.7.7.7: an RSA-1024 leaf, and an hour later an RSA-2048 one: a change.
    for n, (t0, leaf) in enumerate(((T0, "rsa1024.pem"), (T0 + 3600, "a.pem"))):
        conv = Conversation("10.7.7.100", 50001 + n, "10.7.7.7", 443, t0)
        conv.handshake()
        conv.client_sends(client_hello(sni=b"changed.example", ciphers=(0xc02f,)))
        conv.server_sends(server_hello(cipher=0xc02f) +
                          certificate([der(leaf), der("int.pem")]) + server_hello_done())
        frames += conv.frames
    # 10.7.7.8 chooses a suite the client did not offer: a protocol violation.
    conv = Conversation("10.7.7.100", 50011, "10.7.7.8", 443, T0 + 10)
    conv.handshake()
    conv.client_sends(client_hello(sni=b"violation.example", ciphers=(0xc02f,)))
    conv.server_sends(server_hello(cipher=0xc030) + certificate([der("a.pem"), der("int.pem")]) +
                      server_hello_done())
    frames += conv.frames
    # 10.7.7.9 never answers: seen only in a ClientHello.
    conv = Conversation("10.7.7.100", 50021, "10.7.7.9", 443, T0 + 20)
    conv.handshake()
    conv.client_sends(client_hello(sni=b"silent.example"))
    frames += conv.frames
    # 10.7.7.10 sends a flight on a connection without a ClientHello.
    conv = Conversation("10.7.7.100", 50031, "10.7.7.10", 443, T0 + 30)
    conv.handshake()
    conv.server_sends(server_hello(cipher=0xc02f) + certificate([der("a.pem"), der("int.pem")]) +
                      server_hello_done())
    frames += conv.frames
    return sorted(frames, key=lambda f: f[0])


def crafted(t):
    pcap = os.path.join(os.fsencode(TMP), b"odd-\xe9.pcap")  # Latin-1: not UTF-8
    write_pcap(pcap, crafted_frames())
    doc = valid_report(t, CA + [pcap], "crafted")
    if not doc:
        return
    by_ip = {s["ip"]: s for s in doc["servers"]}
    changed = by_ip.get("10.7.7.7", {})
    t.check("configuration_change" in changed, "10.7.7.7: configuration_change present")
    t.check(any(e.get("sample_invalid_utf8") for c in changed.get("checks", [])
                for e in c["evidence"]), "evidence: sample_invalid_utf8")
    t.eq([n["kind"] for n in by_ip.get("10.7.7.8", {}).get("notices", [])], ["violation"],
         "10.7.7.8: a violation notice")
    t.eq([s["ip"] for s in doc.get("hello_only", {}).get("most_seen", [])], ["10.7.7.9"],
         "hello_only: 10.7.7.9")
    t.eq([s["ip"] for s in doc.get("unverified", [])], ["10.7.7.10"], "unverified: 10.7.7.10")


def strict(t):
    """The schema catches what it does not describe."""
    rc, out, _ = run_tlsgrade(["--format", "json"] + CA + [os.path.join(SAMPLES, "a-grade.pcap")])
    doc = json.loads(out)
    t.eq(errors(doc, REPORT), [], "a-grade valid")
    for where, member in (("server", "grade_trust_ignored"), ("check", "title"),
                          ("evidence_fact", "first"), ("listed_fact", "value")):
        less = copy.deepcopy(REPORT)
        del less["$defs"][where]["properties"][member]
        t.check(errors(doc, less), "without %s.%s in the schema the report fails" % (where, member))
    less = copy.deepcopy(REPORT)
    del less["properties"]["stats"]["properties"]["tls_connections"]
    t.check(errors(doc, less), "without stats.tls_connections in the schema the report fails")
    more = copy.deepcopy(doc)
    more["servers"][0]["certificate_chain"] = []
    t.check(errors(more, REPORT), "an undocumented server member fails")
    more = copy.deepcopy(doc)
    more["servers"][0]["checks"][0]["evidence"].append({"fact": "x", "count": 1})
    t.check(errors(more, REPORT), "an evidence fact without first and last fails")


def main():
    t = Suite()
    t.run(strict)
    t.run(samples)
    t.run(corpus)
    t.run(evidence)
    t.run(crafted)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
