"""Check distrusted_ca: chains through CAs that browsers removed give T.

Expected values come from outside tlsgrade: the names and dates of the
sample certificates as openssl prints them (samples/certs/, made by
make-certs.sh), the CA names in real captures as tshark dissects them, the
Certificate frames tshark finds, and the rules written in
grade/distrust.tsv (whole organisation names; Entrust leaves issued after
2024-11-11; the Google sub-CA exempted from the Symantec distrust)."""
import calendar
import json
import os
import subprocess
import sys
import time

from oracle import CORPUS, TOP, Suite, run_tlsgrade

SAMPLES = os.path.join(TOP, "samples")
CERTS = os.path.join(SAMPLES, "certs")
CA = os.path.join(CERTS, "root.pem")
PCAPS = os.path.join(CORPUS, "pcaps")
ENTRUST_CUTOFF = calendar.timegm((2024, 11, 12, 0, 0, 0))  # after 2024-11-11 (Chrome 131)


def openssl(*args):
    return subprocess.run(["openssl"] + list(args), capture_output=True,
                          check=True).stdout.decode()


def issuer_of(name):
    return openssl("x509", "-noout", "-issuer", "-nameopt", "RFC2253", "-in",
                   os.path.join(CERTS, name + ".pem"))


def not_before(name):
    text = openssl("x509", "-noout", "-startdate", "-in", os.path.join(CERTS, name + ".pem"))
    return calendar.timegm(time.strptime(text.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z"))


def tshark(pcap, *fields):
    cmd = ["tshark", "-r", pcap, "-Y", "tls.handshake.certificate", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout.decode()
    return [line.split("\t") for line in out.splitlines()]


def certificate_frame(pcap, server_ip):
    rows = tshark(pcap, "frame.number", "ip.src")
    frames = [int(r[0]) for r in rows if r[1] == server_ip]
    return min(frames) if frames else None


def report(args):
    rc, out, err = run_tlsgrade(["--format", "json"] + args)
    return rc, (json.loads(out) if out else {"servers": []}), err


def distrust_check(server):
    return next(c for c in server["checks"] if c["id"] == "distrusted_ca")


def generated_table_is_current(t):
    p = subprocess.run([sys.executable, os.path.join(TOP, "grade", "gen-distrust.py"),
                        "--check"], capture_output=True)
    t.eq(p.returncode, 0, "grade/distrust_data.h matches distrust.tsv: %s" % p.stderr.decode())


def samples(t):
    pcaps = [os.path.join(SAMPLES, n) for n in ("distrust-symantec.pcap", "distrust-entrust.pcap")]
    rc, doc, err = report(["--ca-file", CA] + pcaps)
    t.eq(rc, 0, "exit status: " + err)
    by_host = {s["host"]: s for s in doc["servers"]}
    # (host, ip, pcap, leaf, event the rules give, word the reason must carry)
    cases = [("symantec.example.test", "10.1.22.1", pcaps[0], "symantec", "symantec", "Symantec"),
             ("notsymantec.example.test", "10.1.22.2", pcaps[0], "notsymantec", None, None),
             ("entrust-old.example.test", "10.1.23.1", pcaps[1], "entrust-old", "entrust", "Entrust"),
             ("entrust-new.example.test", "10.1.23.2", pcaps[1], "entrust-new", "entrust", "Entrust")]
    for host, ip, pcap, leaf, event, word in cases:
        issuer = issuer_of(leaf)
        if event == "symantec":
            t.check("O=Symantec Corporation" in issuer, "%s: openssl issuer %s" % (leaf, issuer))
        if event == "entrust":
            t.check("O=Entrust\\, Inc." in issuer, "%s: openssl issuer %s" % (leaf, issuer))
            if not_before(leaf) < ENTRUST_CUTOFF:
                event = None  # issued before Chrome 131's cutoff
        if host == "notsymantec.example.test":
            t.check("O=Not Symantec Testing" in issuer, "look-alike issuer %s" % issuer)
        s = by_host.get(host)
        if not t.check(s is not None, host + " graded"):
            continue
        c = distrust_check(s)
        frame = certificate_frame(pcap, ip)
        sample = "%s:%d" % (pcap, frame)
        if event:
            t.eq(s["grade"], "T", host + " grade")
            t.eq(c["status"], "fail", host + " distrusted_ca")
            t.check(word in c.get("reason", ""), "%s reason names the event: %r" % (host, c))
            t.eq([e["fact"] for e in c["evidence"]], ["distrust:" + event], host + " fact")
            t.eq(c["evidence"][0].get("sample"), sample, host + " evidence frame")
            cap = [x for x in s["caps"] if x["id"] == "distrusted_ca"]
            t.check(cap and cap[0]["grade"] == "T", host + " T cap listed")
            recs = [r["action"] for r in s["recommendations"] if r["check"] == "distrusted_ca"]
            t.eq(recs, ["Replace the certificate with one from a trusted CA."], "recommendation")
        else:
            t.eq(c["status"], "pass", host + " distrusted_ca")
            t.eq(c["evidence"][0].get("sample"), sample, host + " evidence frame")
            t.check(s["grade"] != "T", host + " not T: " + s["grade"])


def corpus(t):
    # zeek__dhe.pcap: a StartCom chain (tshark's names); arkime__openssl-ssl3:
    # Google Internet Authority G2 under GeoTrust Global CA, exempted.
    dhe = os.path.join(PCAPS, "zeek__dhe.pcap")
    names = ",".join(r[1] for r in tshark(dhe, "frame.number", "x509sat.printableString"))
    t.check("StartCom Ltd." in names.split(","), "tshark sees O=StartCom Ltd.: " + names)
    google = os.path.join(PCAPS, "arkime__openssl-ssl3.pcap")
    rows = tshark(google, "ip.src", "x509sat.printableString")
    gnames = [n for r in rows if r[0] == "74.125.228.238" for n in r[1].split(",")]
    t.check("GeoTrust Inc." in gnames and "Google Internet Authority G2" in gnames,
            "tshark sees the Google sub-CA under GeoTrust: %r" % gnames)
    rc, doc, err = report([dhe, google])
    t.eq(rc, 0, "exit status: " + err)
    by_ip = {s["ip"]: s for s in doc["servers"]}
    s = by_ip.get("162.219.2.166")
    if t.check(s is not None, "the StartCom server is graded"):
        c = distrust_check(s)
        t.eq(c["status"], "fail", "StartCom chain")
        t.eq([e["fact"] for e in c["evidence"]], ["distrust:wosign_startcom"], "StartCom event")
        t.eq(c["evidence"][0].get("sample"), "%s:%d" % (dhe, certificate_frame(dhe, "162.219.2.166")),
             "frame of the Certificate message")
    s = by_ip.get("74.125.228.238")
    if t.check(s is not None, "the Google server is graded"):
        t.eq(distrust_check(s)["status"], "pass", "Google's sub-CA is exempted")


def unknown_without_certificate(t):
    # tls13-localhost.pcap: one TLS 1.3 handshake, certificate encrypted.
    rc, doc, err = report(["--ca-file", CA, os.path.join(SAMPLES, "tls13-localhost.pcap")])
    t.eq(rc, 0, "exit status: " + err)
    for s in doc["servers"]:
        t.eq(distrust_check(s)["status"], "unknown", "no certificate seen")


def main():
    t = Suite()
    t.run(generated_table_is_current)
    t.run(samples)
    t.run(corpus)
    t.run(unknown_without_certificate)
    t.done()


main()
