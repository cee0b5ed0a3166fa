"""Chains completed passively (issue 14): a leaf sent without its
intermediate is incomplete (chain_incomplete, capped at B), not untrusted
(T), when that intermediate is known - sent in another connection to the
same server or to another server, in another input file, or given with
--intermediates - and untrusted, naming the missing issuer and the leaf's
AIA caIssuers URL, when it is known nowhere.

Expected values come from outside tlsgrade: the certificates of
samples/certs (names as openssl prints them), the frame numbers of the
captures built here (counted from how they are built: three handshake
frames, the ClientHello, then the server's flight), and the grading
reference (chain_incomplete caps at B; an untrusted chain is T)."""
import json
import os
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, server_hello, server_hello_done,
                     write_pcap)

CERTS = os.path.join(TOP, "samples", "certs")
ROOT_ONLY = ["--ca-file", os.path.join(CERTS, "root-ca.pem")]
T0 = 1767225600.0  # 2026-01-01: within the sample certificates' validity
TMP = tempfile.mkdtemp(prefix="tlsgrade-chains-")
AIA_URL = "http://ca.example.test/int.der"


def openssl(*args):
    return subprocess.run(["openssl"] + list(args), capture_output=True, check=True).stdout


def der(pem_path):
    return openssl("x509", "-in", pem_path, "-outform", "DER")


def name_rfc2253(pem_path, which):
    out = openssl("x509", "-noout", "-" + which, "-nameopt", "RFC2253", "-in", pem_path)
    return out.decode().strip().split("=", 1)[1]


def make_aia_leaf():
    """A leaf issued by the sample intermediate, with an AIA caIssuers URL."""
    key, csr, pem = (os.path.join(TMP, "aia" + e) for e in (".key", ".csr", ".pem"))
    ext = os.path.join(TMP, "aia.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints = critical, CA:FALSE\nsubjectAltName = DNS:aia.example.test\n"
                "authorityInfoAccess = caIssuers;URI:%s\n" % AIA_URL)
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-subj",
            "/O=tlsgrade samples/CN=aia.example.test", "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", os.path.join(CERTS, "int.pem"), "-CAkey",
            os.path.join(CERTS, "int.key"), "-set_serial", "7", "-days", "7300", "-extfile", ext,
            "-out", pem)
    return pem


def make_forged_intermediate():
    """A CA certificate with the sample intermediate's name and not its key."""
    key, pem = os.path.join(TMP, "forged.key"), os.path.join(TMP, "forged.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-subj",
            "/O=tlsgrade samples/CN=tlsgrade Sample Intermediate CA", "-days", "7300",
            "-addext", "basicConstraints=critical,CA:TRUE", "-out", pem)
    return pem


def connection(frames, server, sni, chain, t0, cport=40000):
    """One TLS 1.2 connection: 3 handshake frames, the ClientHello, then the
    server's flight (ServerHello, Certificate, ServerHelloDone) in one frame:
    the Certificate message is in the 5th frame of the connection."""
    conv = Conversation("10.1.1.1", cport, server, 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(sni=sni))
    conv.server_sends(server_hello() + certificate(chain) + server_hello_done())
    frames += conv.frames


def capture(name, conns):
    frames = []
    for i, (server, sni, chain) in enumerate(conns):
        connection(frames, server, sni, chain, T0 + 10 * i, 40000 + i)
    path = os.path.join(TMP, name)
    write_pcap(path, frames)
    return path


def grade(args):
    rc, out, err = run_tlsgrade(["--format", "json"] + ROOT_ONLY + args)
    doc = json.loads(out) if out.strip() else {"servers": []}
    return rc, {s["host"]: s for s in doc["servers"]}, err


def check_of(server, cid):
    return next(c for c in server["checks"] if c["id"] == cid)


def incomplete_found(t, server, fact, sample):
    """The server is capped at B by chain_incomplete, the finding names
    where the intermediate was found and the frame of the incomplete
    Certificate; trust itself passes."""
    t.eq(server["grade"], "B", "%s: graded B (chain_incomplete caps at B)" % server["host"])
    t.eq(check_of(server, "untrusted")["status"], "pass", "trusted on the completed chain")
    ci = check_of(server, "chain_incomplete")
    t.eq(ci["status"], "fail", "chain_incomplete fails")
    ev = ci["evidence"][0] if ci["evidence"] else {}
    t.eq(ev.get("fact"), fact, "where the intermediate was found")
    t.eq(ev.get("sample"), sample, "the incomplete Certificate message")


A, INT = der(os.path.join(CERTS, "a.pem")), der(os.path.join(CERTS, "int.pem"))
TLS10 = der(os.path.join(CERTS, "tls10.pem"))


def complete_grades_better(t):
    """The baseline: the same server with its whole chain grades above B,
    so a B below is the chain_incomplete cap."""
    pcap = capture("complete.pcap", [("10.0.0.1", b"a.example.test", [A, INT])])
    rc, servers, err = grade([pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.check(servers["a.example.test"]["grade"] in ("A+", "A", "A-"),
            "the complete chain grades A: %s" % servers["a.example.test"]["grade"])


def same_server_later(t):
    """The leaf alone first (frame 5), the same server's full chain later
    (frame 10): incomplete, not untrusted."""
    pcap = capture("same.pcap", [("10.0.0.1", b"a.example.test", [A]),
                                 ("10.0.0.1", b"a.example.test", [A, INT])])
    rc, servers, err = grade([pcap])
    t.eq(rc, 0, "exit status: " + err)
    incomplete_found(t, servers["a.example.test"], "chain:incomplete_from:%s:10" % pcap,
                     "%s:5" % pcap)


def other_server(t):
    """The intermediate sent by another server (frame 10) completes the
    first server's chain (frame 5)."""
    pcap = capture("other.pcap", [("10.0.0.1", b"a.example.test", [A]),
                                  ("10.0.0.2", b"tls10.example.test", [TLS10, INT])])
    rc, servers, err = grade([pcap])
    t.eq(rc, 0, "exit status: " + err)
    incomplete_found(t, servers["a.example.test"], "chain:incomplete_from:%s:10" % pcap,
                     "%s:5" % pcap)
    t.eq(servers["tls10.example.test"]["grade"] != "B", True, "the other server is complete")


def other_file(t, jobs):
    """The intermediate in another input file, with -j 1 and -j 2: the same
    finding, the same report."""
    first = capture("first.pcap", [("10.0.0.1", b"a.example.test", [A])])
    second = capture("second.pcap", [("10.0.0.2", b"tls10.example.test", [TLS10, INT])])
    rc, servers, err = grade(["-j", jobs, first, second])
    t.eq(rc, 0, "exit status: " + err)
    incomplete_found(t, servers["a.example.test"], "chain:incomplete_from:%s:5" % second,
                     "%s:5" % first)


def jobs_agree(t):
    """-j 2 reports every server as -j 1 does, whichever worker saw the
    intermediate first."""
    first = capture("first.pcap", [("10.0.0.1", b"a.example.test", [A]),
                                   ("10.0.0.3", b"tls10.example.test", [TLS10])])
    second = capture("second.pcap", [("10.0.0.2", b"tls10.example.test", [TLS10, INT]),
                                     ("10.0.0.1", b"a.example.test", [A, INT])])
    reports = []
    for jobs in ("1", "2"):
        rc, out, err = run_tlsgrade(["--format", "json", "-j", jobs] + ROOT_ONLY + [first, second])
        t.eq(rc, 0, "exit status -j %s: %s" % (jobs, err))
        reports.append(json.dumps(json.loads(out)["servers"], sort_keys=True))
    t.check(reports[0] == reports[1], "-j 2 gives the servers -j 1 gives")


def saved_and_merged(t):
    """Saved evidence holds the decided facts: a merge grades as the run."""
    pcap = capture("same.pcap", [("10.0.0.1", b"a.example.test", [A]),
                                 ("10.0.0.1", b"a.example.test", [A, INT])])
    saved = os.path.join(TMP, "evidence.json")
    rc, _, err = grade(["--save-evidence", saved, pcap])
    t.eq(rc, 0, "exit status: " + err)
    rc, out, err = run_tlsgrade(["merge", "--format", "json"] + ROOT_ONLY + [saved])
    t.eq(rc, 0, "merge exit status: " + err)
    s = {x["host"]: x for x in json.loads(out)["servers"]}["a.example.test"]
    incomplete_found(t, s, "chain:incomplete_from:%s:10" % pcap, "%s:5" % pcap)


def same_digest_other_fields(t):
    """A certificate is shown as each server's evidence has it: two
    endpoints of one evidence file whose chains name the same certificate
    digest but a different subject (saved evidence is read as given) each
    show their own subject; a third with the first one's fields shows
    those."""
    pcap = capture("digest.pcap", [("10.0.0.1", b"a.example.test", [A, INT])])
    saved = os.path.join(TMP, "digest-evidence.json")
    rc, _, err = grade(["--save-evidence", saved, pcap])
    t.eq(rc, 0, "exit status: " + err)
    doc = json.load(open(saved))
    a = doc["endpoints"][0]
    subject = [f["k"] for f in a["facts"] if f["k"].startswith("sent_cert:") and
               f["k"].split(":")[2:4] == ["0", "subject"]]
    t.eq(len(subject), 1, "one subject of the leaf in the evidence")
    prefix = ":".join(subject[0].split(":")[:4]) + ":"
    forged = json.loads(json.dumps(a))
    forged["host"], forged["ip"] = "b.example.test", "10.0.0.2"
    for f in forged["facts"]:
        if f["k"] == subject[0]:
            f["k"] = prefix + "CN=forged.example.test"
    again = json.loads(json.dumps(a))
    again["host"], again["ip"] = "c.example.test", "10.0.0.3"
    doc["endpoints"] = [a, forged, again]
    path = os.path.join(TMP, "digest-forged.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    rc, out, err = run_tlsgrade(["merge", "--format", "json"] + ROOT_ONLY + [path])
    t.eq(rc, 0, "merge exit status: " + err)
    servers = {x["host"]: x for x in json.loads(out)["servers"]}
    want = {"a.example.test": subject[0][len(prefix):], "b.example.test": "CN=forged.example.test",
            "c.example.test": subject[0][len(prefix):]}
    for host, name in want.items():
        chains = servers[host]["certificate_chains"] if host in servers else []
        leaf = chains[0]["certificates"][0] if chains and chains[0]["certificates"] else {}
        t.eq(leaf.get("subject"), name, host + ": the leaf's subject as its evidence has it")
    t.check(subject[0][len(prefix):].startswith("CN=a.example.test"), "the sample leaf's subject")


def merged_files(t):
    """Evidence saved from two captures, one with the leaf alone and one
    with the intermediate sent by another server: merged, the chain is
    completed (B, chain_incomplete, found in the second file), as a run
    over both captures says; the first file merged alone leaves it
    untrusted, naming the missing issuer.  Merged evidence saved again
    keeps the chain waiting for the next merge."""
    first = capture("first.pcap", [("10.0.0.1", b"a.example.test", [A])])
    second = capture("second.pcap", [("10.0.0.2", b"tls10.example.test", [TLS10, INT])])
    saved = []
    for pcap in (first, second):
        saved.append(pcap + ".evidence.json")
        rc, _, err = grade(["--save-evidence", saved[-1], pcap])
        t.eq(rc, 0, "exit status: " + err)

    def merge(files, extra=()):
        rc, out, err = run_tlsgrade(["merge", "--format", "json"] + ROOT_ONLY + list(extra) + files)
        t.eq(rc, 0, "merge exit status: " + err)
        return {x["host"]: x for x in json.loads(out)["servers"]}

    alone = merge(saved[:1])["a.example.test"]
    t.eq(alone["grade"], "T", "the first file alone: untrusted")
    why = check_of(alone, "untrusted")["evidence"][0]["fact"]
    t.check(name_rfc2253(os.path.join(CERTS, "int.pem"), "subject") in why and
            "seen nowhere" in why, "the missing issuer is named: " + why)
    both = merge(saved)
    incomplete_found(t, both["a.example.test"], "chain:incomplete_from:%s:5" % second,
                     "%s:5" % first)
    again = os.path.join(TMP, "merged-first.json")
    merge(saved[:1], ["--save-evidence", again])
    incomplete_found(t, merge([again, saved[1]])["a.example.test"],
                     "chain:incomplete_from:%s:5" % second, "%s:5" % first)


def bundle(t, kind):
    """--intermediates FILE or DIR completes the leaf sent alone."""
    pcap = capture("alone.pcap", [("10.0.0.1", b"a.example.test", [A])])
    path = os.path.join(CERTS, "int.pem")
    if kind == "dir":
        path = os.path.join(TMP, "bundle")
        os.makedirs(path, exist_ok=True)
        shutil.copy(os.path.join(CERTS, "int.pem"), path)
        shutil.copy(os.path.join(CERTS, "int-store.pem"), path)
    rc, servers, err = grade(["--intermediates", path, pcap])
    t.eq(rc, 0, "exit status: " + err)
    where = path if kind == "file" else os.path.join(path, "int.pem")
    incomplete_found(t, servers["a.example.test"], "chain:incomplete_from:" + where,
                     "%s:5" % pcap)


def unreadable_bundle(t):
    pcap = capture("alone.pcap", [("10.0.0.1", b"a.example.test", [A])])
    for bad in (os.path.join(TMP, "missing.pem"), os.path.join(CERTS, "int.key")):
        rc, _, err = grade(["--intermediates", bad, pcap])
        t.eq(rc, 1, "exit status 1 for %s" % bad)
        t.check("--intermediates" in err and bad in err, "says why: %r" % err[-200:])


def nowhere(t):
    """No source: untrusted (T), naming the missing issuer (the leaf's
    issuer name) and the leaf's AIA caIssuers URL."""
    leaf = make_aia_leaf()
    pcap = capture("nowhere.pcap", [("10.0.0.3", b"aia.example.test", [der(leaf)])])
    rc, servers, err = grade([pcap])
    t.eq(rc, 0, "exit status: " + err)
    s = servers["aia.example.test"]
    t.eq(s["grade"], "T", "untrusted: T")
    un = check_of(s, "untrusted")
    t.eq(un["status"], "fail", "untrusted fails")
    fact = un["evidence"][0]["fact"] if un["evidence"] else ""
    issuer = name_rfc2253(leaf, "issuer")
    t.check(issuer in fact, "names the missing issuer %r: %r" % (issuer, fact))
    t.check(AIA_URL in fact, "names the AIA caIssuers URL: %r" % fact)
    t.eq(un["evidence"][0]["sample"] if un["evidence"] else "", "%s:5" % pcap, "frame")
    t.eq(check_of(s, "chain_incomplete")["status"], "unknown", "incomplete is not decided")


def forged_intermediate(t):
    """A CA certificate with the intermediate's name but another key, sent
    by another server, completes nothing: still T."""
    forged = der(make_forged_intermediate())
    pcap = capture("forged.pcap", [("10.0.0.1", b"a.example.test", [A]),
                                   ("10.0.0.9", b"forged.example.test", [forged])])
    rc, servers, err = grade([pcap])
    t.eq(rc, 0, "exit status: " + err)
    s = servers["a.example.test"]
    t.eq(s["grade"], "T", "still untrusted")
    t.eq(check_of(s, "untrusted")["status"], "fail", "untrusted fails")


def distrusted_when_completed(t):
    """A completed chain is still judged on its CAs: a Symantec-issued
    leaf (issuer O=Symantec Corporation, grade/distrust.tsv) completed by
    an intermediate another server sent is distrusted (T), not B."""
    sym, int_sym = (der(os.path.join(CERTS, n + ".pem")) for n in ("symantec", "int-symantec"))
    pcap = capture("symantec.pcap", [("10.0.0.5", b"symantec.example.test", [sym]),
                                     ("10.0.0.6", b"other.example.test", [TLS10, INT, int_sym])])
    rc, servers, err = grade([pcap])
    t.eq(rc, 0, "exit status: " + err)
    s = servers["symantec.example.test"]
    t.eq(check_of(s, "untrusted")["status"], "pass", "the chain completes")
    t.eq(check_of(s, "distrusted_ca")["status"], "fail", "distrusted")
    t.eq(s["grade"], "T", "T")


def never_a_root(t):
    """A server that sends the intermediate does not make it an anchor:
    with a store without the root, both stay untrusted."""
    pcap = capture("noroot.pcap", [("10.0.0.1", b"a.example.test", [A]),
                                   ("10.0.0.1", b"a.example.test", [A, INT])])
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file",
                                 os.path.join(CERTS, "selfsigned.pem"), pcap])
    t.eq(rc, 0, "exit status: " + err)
    s = {x["host"]: x for x in json.loads(out)["servers"]}["a.example.test"]
    t.eq(s["grade"], "T", "untrusted without the root")


LEAVES = [der(os.path.join(CERTS, n + ".pem")) for n in ("a", "alpha", "bravo", "charlie", "delta")]


def limits_of(args):
    rc, out, err = run_tlsgrade(["--format", "json"] + ROOT_ONLY + args)
    doc = json.loads(out) if out.strip() else {}
    return rc, doc.get("limits", {}), {s["host"]: s["grade"] for s in doc.get("servers", [])}, err


def memo_limits(t):
    """Five connections to one address, each with its own leaf of the
    sample intermediate and its own name: six distinct certificates and
    five distinct chain verdicts.  At cert-cache=3 the cache keeps the
    first three certificates read (a, int, alpha) and reads the other
    three leaves without keeping them: 3 counted.  At trust-verdicts=2 the
    memo keeps two verdicts; each graded connection asks for its chain's
    verdict twice (its facts, then its chain notes: grade/cert_facts.c),
    so the three not kept are computed twice each: 6 counted.  Neither
    changes a grade; by default neither is hit."""
    pcap = capture("memo.pcap", [("10.0.0.9", b"m%d.example.test" % i, [leaf, INT])
                                 for i, leaf in enumerate(LEAVES)])
    rc, lim, grades, err = limits_of([pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.eq(len(grades), 5, "five names graded")
    t.eq(lim.get("certificates_remembered"), {"limit": 4096, "hits": 0}, "default: cache")
    t.eq(lim.get("trust_verdicts_remembered"), {"limit": 2048, "hits": 0}, "default: memo")
    rc, small, small_grades, err = limits_of(["--limit", "cert-cache=3", "--limit",
                                              "trust-verdicts=2", pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.eq(small.get("certificates_remembered"), {"limit": 3, "hits": 3}, "three leaves not kept")
    t.eq(small.get("trust_verdicts_remembered"), {"limit": 2, "hits": 6},
         "three verdicts computed twice each")
    t.eq(small_grades, grades, "the same grades")


def chain_limits(t):
    """The capture of other_server: one CA certificate sent (the
    intermediate, once), one incomplete chain waiting for it.  At
    intermediates=0 the intermediate is not remembered (1 counted) and at
    pending-chains=0 the chain is not kept waiting (1 counted): either way
    the chain keeps its own verdict, untrusted (T).  By default it is
    completed (B) and nothing is counted."""
    pcap = capture("other.pcap", [("10.0.0.1", b"a.example.test", [A]),
                                  ("10.0.0.2", b"tls10.example.test", [TLS10, INT])])
    rc, lim, grades, err = limits_of([pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.eq(grades.get("a.example.test"), "B", "default: completed")
    t.eq(lim.get("intermediates_remembered"), {"limit": 4096, "hits": 0}, "default: CAs")
    t.eq(lim.get("incomplete_chains_pending"), {"limit": 4096, "hits": 0}, "default: chains")
    rc, lim, grades, err = limits_of(["--limit", "intermediates=0", pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.eq(grades.get("a.example.test"), "T", "intermediates=0: untrusted")
    t.eq(lim.get("intermediates_remembered"), {"limit": 0, "hits": 1}, "the intermediate refused")
    rc, lim, grades, err = limits_of(["--limit", "pending-chains=0", pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.eq(grades.get("a.example.test"), "T", "pending-chains=0: untrusted")
    t.eq(lim.get("incomplete_chains_pending"), {"limit": 0, "hits": 1}, "the chain refused")


def main():
    t = Suite()
    t.run(complete_grades_better)
    t.run(same_server_later)
    t.run(other_server)
    t.run(other_file, "1")
    t.run(other_file, "2")
    t.run(jobs_agree)
    t.run(saved_and_merged)
    t.run(same_digest_other_fields)
    t.run(merged_files)
    t.run(bundle, "file")
    t.run(bundle, "dir")
    t.run(unreadable_bundle)
    t.run(nowhere)
    t.run(forged_intermediate)
    t.run(distrusted_when_completed)
    t.run(never_a_root)
    t.run(memo_limits)
    t.run(chain_limits)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
