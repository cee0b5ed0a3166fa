"""The per-server detail of the text report, and the JSON it matches: the
certificate chain as sent, the protocols and suites seen, the checks by
outcome with undecided ones folded, at 80 columns.

What is expected comes from elsewhere: the certificates tshark extracts
from the capture's Certificate message, decoded by `openssl x509`; the
ServerHello frames and suites tshark dissects; the check ids and statuses
of the JSON report (for the folding); crafted captures (pcapgen) whose
chains are known by construction (for the caps)."""
import json
import os
import re
import shutil
import tempfile

from certs_seen import openssl_fields, sent_chain, tshark
from certs_seen import suites_seen as tshark_suites
from leaves import sample_der
from oracle import TOP, Suite, run_tlsgrade
from pcapgen import Conversation, certificate, client_hello, server_hello, server_hello_done, \
    write_pcap

SAMPLES = os.path.join(TOP, "samples")
ROOT = os.path.join(SAMPLES, "certs", "root.pem")
TMP = tempfile.mkdtemp(prefix="tlsgrade-detail-")
WIDTH = 80


def server_block(text, host):
    """The detail block of host in a text report (from its == line)."""
    m = re.search(r"^== %s .*?(?=^== |\Z)" % re.escape(host), text, re.M | re.S)
    return m.group(0) if m else ""


def check_chain(t, pcap, host, extra=()):
    """The chain block of host, in text and JSON, against openssl."""
    want = [openssl_fields(d) for d in sent_chain(pcap)]
    rc, out, err = run_tlsgrade(["--ca-file", ROOT, "--format", "json", pcap] + list(extra))
    t.eq(rc, 0, "graded " + pcap + ": " + err)
    servers = [s for s in json.loads(out)["servers"] if s["host"] == host] if rc == 0 else []
    chains = servers[0].get("certificate_chains", []) if servers else []
    t.eq(len(chains), 1, "%s: one chain in the JSON" % host)
    certs = chains[0]["certificates"] if chains else []
    t.eq(len(certs), len(want), "%s: every certificate sent" % host)
    t.eq(chains[0].get("length") if chains else None, len(want), "%s: the chain's length" % host)
    for i, (got, w) in enumerate(zip(certs, want)):
        t.eq(got.get("sha256"), w["sha256"], "%s [%d] in the order sent: SHA-256" % (host, i))
        t.eq(got.get("subject"), w["subject"], "%s [%d] subject" % (host, i))
        t.eq(got.get("issuer"), w["issuer"], "%s [%d] issuer" % (host, i))
        t.eq(got.get("san", []), w["san"], "%s [%d] SAN" % (host, i))
        t.eq(got.get("not_before"), w["notBefore"], "%s [%d] notBefore" % (host, i))
        t.eq(got.get("not_after"), w["notAfter"], "%s [%d] notAfter" % (host, i))
        t.check(got.get("key", "").endswith(" " + w["bits"]), "%s [%d] key bits %s: %r" %
                (host, i, w["bits"], got.get("key")))
        t.eq(got.get("signature"), w["sig"], "%s [%d] signature" % (host, i))
    rc, text, err = run_tlsgrade(["--ca-file", ROOT, "--no-color", pcap] + list(extra))
    block = server_block(text, host)
    lines = [l.strip() for l in block.splitlines()]
    at = 0  # each certificate's lines follow the previous one's: the order sent
    for i, w in enumerate(want):
        expect = ["[%d] subject %s" % (i, w["subject"])]
        if w["san"]:
            expect.append("SAN     " + ", ".join(w["san"]))
        expect += ["issuer  " + w["issuer"],
                   "valid   %s UTC .. %s UTC" % (w["notBefore"], w["notAfter"]),
                   "sha256  " + w["sha256"]]
        for e in expect:
            found = [k for k in range(at, len(lines)) if lines[k] == e]
            t.check(found, "%s text: %r after line %d" % (host, e, at))
            at = found[0] if found else at
    t.check(re.search(r"trust: [^)]*\(decided with --ca-file %s\)" % re.escape(ROOT),
                      " ".join(block.split())), "%s text: the trust store named" % host)
    return block


def chain_blocks(t):
    check_chain(t, os.path.join(SAMPLES, "expired-leaf.pcap"), "expired.example.test")
    check_chain(t, os.path.join(SAMPLES, "sha1-intermediate.pcap"), "sha1int.example.test")
    check_chain(t, os.path.join(SAMPLES, "a-grade.pcap"), "a.example.test",
                ["--keylog", os.path.join(SAMPLES, "a-grade.keylog")])


def expired_dates(t):
    """'expired or not yet valid' names the dates of the certificate out of
    its validity, as openssl reads them."""
    for sample, host, cert in (("expired-leaf.pcap", "expired.example.test", "expired.pem"),
                               ("not-yet-valid-leaf.pcap", "notyet.example.test", "notyet.pem")):
        w = openssl_fields(sample_der(cert))
        rc, text, err = run_tlsgrade(["--ca-file", ROOT, "--no-color",
                                      os.path.join(SAMPLES, sample)])
        block = server_block(text, host)
        m = re.search(r"^     FAIL  expired .*?(?=^           evidence|^     \S)", block,
                      re.M | re.S)
        words = " ".join(m.group(0).split()) if m else ""
        t.check("certificate [0] valid %s UTC .. %s UTC" % (w["notBefore"], w["notAfter"])
                in words, "%s: the failed check shows the dates: %r" % (host, words))


def merged_evidence(t):
    """Saved and merged evidence still has the chain, its sightings added."""
    pcap = os.path.join(SAMPLES, "expired-leaf.pcap")
    a, b = os.path.join(TMP, "a.json"), os.path.join(TMP, "b.json")
    for path in (a, b):
        rc, _, err = run_tlsgrade(["--ca-file", ROOT, "--save-evidence", path, pcap])
        t.eq(rc, 0, "evidence saved: " + err)
    rc, out, err = run_tlsgrade(["merge", "--format", "json", a, b])
    t.eq(rc, 0, "merged: " + err)
    servers = json.loads(out)["servers"] if rc == 0 else []
    chains = servers[0].get("certificate_chains", []) if servers else []
    want = [openssl_fields(d)["sha256"] for d in sent_chain(pcap)]
    t.eq([c["sha256"] for c in chains[0]["certificates"]] if chains else [], want,
         "the merged chain, in the order sent")
    frame = tshark(["-r", pcap, "-Y", "tls.handshake.type==11", "-T", "fields", "-e",
                    "frame.number"]).split()[0]
    t.eq(chains[0].get("count") if chains else None, 2, "seen once in each file")
    t.eq(chains[0].get("sample") if chains else None, "%s:%s" % (pcap, frame),
         "the Certificate message's frame")
    rc, text, err = run_tlsgrade(["merge", "--no-color", a, b])
    t.check("sha256  " + want[0] in text and "certificate chain as sent: 2 certificates, seen 2 "
            "times" in " ".join(text.split()), "the merged text report shows the chain")


def suites_seen(t):
    """Suites with their counts and first frames, in JSON and text."""
    pcap = os.path.join(SAMPLES, "demo-cloud-consoles.pcap")
    want = tshark_suites(pcap)
    rc, out, err = run_tlsgrade(["--format", "json", pcap])
    t.eq(rc, 0, "graded: " + err)
    rc, text, err = run_tlsgrade(["--no-color", pcap])
    servers = json.loads(out)["servers"]
    t.check(len(want) >= 4, "tshark sees the consoles: %r" % list(want))
    for s in servers:
        key = (s["host"], s["ip"], s["port"])
        w = want.get(key, {})
        got = {c["value"]: [c["count"], int(c["sample"].rsplit(":", 1)[1])] for c in s["ciphers"]}
        t.eq(got, w, "%s: suites, counts and first frames" % (key,))
        block = server_block(text, s["host"])
        for name, (count, frame) in w.items():
            t.check(re.search(r"^     %s +%d  frame %d$" % (name, count, frame), block, re.M),
                    "%s text: %s %d frame %d" % (s["host"], name, count, frame))


def unknown_folding(t):
    """Undecided checks: one line per reason group, naming them all;
    --verbose: one line each."""
    pcap = os.path.join(SAMPLES, "expired-leaf.pcap")
    rc, out, err = run_tlsgrade(["--ca-file", ROOT, "--format", "json", pcap])
    checks = json.loads(out)["servers"][0]["checks"]
    unknown = [c["id"] for c in checks if c["status"] == "unknown"]
    t.check(len(unknown) > 10, "the sample leaves many checks undecided: %d" % len(unknown))
    rc, text, err = run_tlsgrade(["--ca-file", ROOT, "--no-color", pcap])
    block = server_block(text, "expired.example.test")
    for cid in unknown:
        t.check(not re.search(r"^\s*\?\s+%s\s" % cid, block, re.M),
                "no line of its own for %s" % cid)
    folded = re.findall(r"^     \? (\d+) checks?, (.*?)(?=^     \S|^   \S)", block, re.M | re.S)
    named = []
    for count, rest in folded:
        ids = " ".join(rest.split()).rsplit(": ", 1)[-1].split(", ")
        t.eq(len(ids), int(count), "a folded line counts the checks it names")
        named += ids
    t.eq(sorted(named), sorted(unknown), "the folded lines name every undecided check once")
    t.check(len(folded) < len(unknown) // 2, "folded: %d lines for %d checks" %
            (len(folded), len(unknown)))
    rc, text, err = run_tlsgrade(["--ca-file", ROOT, "--no-color", "--verbose", pcap])
    block = server_block(text, "expired.example.test")
    for cid in unknown:
        t.check(re.search(r"^\s*\?\s+%s\s" % cid, block, re.M), "--verbose: %s on its own" % cid)
    rc, _, err = run_tlsgrade(["--verbose", "--format", "json", pcap])
    t.eq(rc, 2, "--verbose with --format json is a usage error: " + err)


def width(t):
    """At 80 columns: every detail line fits, but one word that cannot be
    cut (a digest, a key, a file name); the id column fits the longest id."""
    rc, text, err = run_tlsgrade(["--ca-file", ROOT, "--keylog",
                                  os.path.join(SAMPLES, "a-grade.keylog"), "--no-color",
                                  SAMPLES])
    detail = text[text.index("\n== "):]
    wide = [l for l in detail.splitlines()
            if len(l) > WIDTH and not l.startswith("== ") and len(l.split()) > 1 and
            not re.match(r"^ +\S+ {2}\S+$", l)]
    t.check(not wide, "%d detail lines wider than %d columns could wrap, e.g. %r" %
            (len(wide), WIDTH, wide[:3]))
    for block in re.findall(r"^== .*?(?=^== |\Z)", detail, re.M | re.S):
        rows = re.findall(r"^     (?:pass|FAIL)  (\S+)( +)\S", block, re.M)
        if not rows:
            continue
        longest = max(len(cid) for cid, _ in rows)
        t.check(all(len(cid) + len(gap) == longest + 1 for cid, gap in rows),
                "one title column after the longest id: %r" % block.splitlines()[0])
    t.check(re.search(r"^     (pass|FAIL)  reneg_insecure +\S", detail, re.M),
            "reneg_insecure in its column")


def change_width(t):
    """The demo's configuration change (samples/expected.json "demo":
    delta goes from F to A on day 3): the change and its evidence lines
    fit in 80 columns and still say both grades and both frames' files."""
    demo = json.load(open(os.path.join(SAMPLES, "expected.json")))["demo"]
    delta = [v for v in demo["servers"] if "change" in v][0]
    rc, text, err = run_tlsgrade(["--ca-file", ROOT, "--keylog",
                                  os.path.join(SAMPLES, demo["keylog"]), "--no-color",
                                  os.path.join(SAMPLES, "demo")])
    t.eq(rc, 0, "graded: " + err)
    lines = text.splitlines()
    at = [i for i, l in enumerate(lines) if "configuration changed at" in l]
    if not t.eq(len(at), 1, "one server changed"):
        return
    block = []
    for l in lines[at[0]:]:
        if block and re.match(r"^   \S", l):
            break
        block.append(l)
    t.eq([l for l in block if len(l) > WIDTH], [], "change lines wider than %d" % WIDTH)
    words = " ".join(" ".join(block).split())
    t.check("configuration changed at %s" % delta["change"]["date"] in words, words)
    before, after = delta["periods"][0]["grade"], delta["periods"][1]["grade"]
    t.check("grade %s before, %s after" % (before, after) in words, "both grades: " + words)
    t.check(re.search(r"evidence: \S*day[12]\.pcap:\d+ before, \S*%s:\d+ after" %
                      re.escape(os.path.basename(delta["change"]["file"])), words),
            "both frames: " + words)


def chains_capped(t):
    """At most 4 chains per server, at most 4 certificates each, kept in
    the evidence; the rest counted."""
    der = [sample_der(n) for n in ("a.pem", "int.pem", "root.pem", "alpha.pem", "bravo.pem",
                                   "charlie.pem", "delta.pem")]
    frames = []
    # six distinct chains (leaf a.pem, then one other certificate), then one of seven
    for i in range(6):
        conv = Conversation("10.9.9.100", 52000 + i, "10.9.9.1", 443, 1768435200.0 + i)
        conv.handshake()
        conv.client_sends(client_hello(sni=b"cap.example.test"))
        conv.server_sends(server_hello() + certificate([der[0], der[1 + i]]) +
                          server_hello_done())
        frames += conv.frames
    conv = Conversation("10.9.9.100", 52100, "10.9.9.2", 443, 1768435300.0)
    conv.handshake()
    conv.client_sends(client_hello(sni=b"long.example.test"))
    conv.server_sends(server_hello() + certificate(der) + server_hello_done())
    frames += conv.frames
    pcap = os.path.join(TMP, "caps.pcap")
    write_pcap(pcap, frames)
    evidence = os.path.join(TMP, "caps.json")
    rc, out, err = run_tlsgrade(["--format", "json", "--save-evidence", evidence, pcap])
    t.eq(rc, 0, "graded: " + err)
    servers = {s["host"]: s for s in json.loads(out)["servers"]} if rc == 0 else {}
    cap = servers.get("cap.example.test", {})
    t.eq(len(cap.get("certificate_chains", [])), 4, "4 of the 6 chains kept")
    t.eq(cap.get("certificate_trust", {}).get("chains_not_kept"), 2, "2 sightings counted")
    long = servers.get("long.example.test", {}).get("certificate_chains", [{}])[0]
    t.eq(long.get("length"), 7, "the chain's length as sent")
    t.eq(len(long.get("certificates", [])), 4, "its first 4 certificates kept")
    # merging the evidence with itself keeps the cap
    rc, out, err = run_tlsgrade(["merge", "--format", "json", evidence, evidence])
    servers = {s["host"]: s for s in json.loads(out)["servers"]} if rc == 0 else {}
    cap = servers.get("cap.example.test", {})
    t.eq(len(cap.get("certificate_chains", [])), 4, "merged: still 4 chains")
    t.eq(cap.get("certificate_trust", {}).get("chains_not_kept"), 4, "merged: 4 sightings")
    rc, text, err = run_tlsgrade(["--no-color", pcap])
    t.check("... 3 more certificates sent, not kept in the evidence (at most 4)" in text,
            "the text says what was not kept")
    t.eq(json.loads(out).get("limits", {}).get("certificate_chains_per_endpoint"),
         {"limit": 4, "hits": 4}, "merged: the limits row counts the sightings not kept")
    # --limit sent-chains / sent-chain-certs lower both caps, counted in limits
    rc, out, err = run_tlsgrade(["--format", "json", "--limit", "sent-chains=2", "--limit",
                                 "sent-chain-certs=1", pcap])
    t.eq(rc, 0, "graded with lower caps: " + err)
    report = json.loads(out) if rc == 0 else {}
    servers = {s["host"]: s for s in report.get("servers", [])}
    cap = servers.get("cap.example.test", {})
    t.eq(len(cap.get("certificate_chains", [])), 2, "sent-chains=2: 2 of the 6 chains kept")
    t.eq(cap.get("certificate_trust", {}).get("chains_not_kept"), 4, "4 sightings counted")
    t.eq(report.get("limits", {}).get("certificate_chains_per_endpoint"), {"limit": 2, "hits": 4},
         "the limits row")
    long = servers.get("long.example.test", {}).get("certificate_chains", [{}])[0]
    t.eq(len(long.get("certificates", [])), 1, "sent-chain-certs=1: its first certificate kept")
    rc, _, err = run_tlsgrade(["--limit", "sent-chains=5", pcap])
    t.eq(rc, 2, "sent-chains above 4 is a usage error: " + err)


def main():
    t = Suite()
    t.run(chain_blocks)
    t.run(expired_dates)
    t.run(merged_evidence)
    t.run(suites_seen)
    t.run(unknown_folding)
    t.run(width)
    t.run(change_width)
    t.run(chains_capped)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
