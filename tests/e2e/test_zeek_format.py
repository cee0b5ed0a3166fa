"""--format zeek agrees with Zeek's own ssl.log and x509.log, field by field.

The oracle is Zeek's test baselines in ../shared/corpus/expected/ (TSV, with
ts and file ids masked).  For every capture that has one, each Zeek record
is matched to one of ours (ssl: by the connection's endpoints; x509: by the
certificate's fingerprint), and for every field of Zeek's #fields header:
a value Zeek logged must be the value we write, and a field Zeek left unset
("-") must be absent from ours.  ts and uid are not compared (Zeek's uid is
random, its baselines mask ts).  The exceptions are listed below, each with
why Zeek's answer is one tlsgrade cannot know or is Zeek's own quirk.
"""
import json
import os

from oracle import CORPUS, Suite, run_tlsgrade

SKIPPED = {"ts", "uid"}

# Fields Zeek writes that tlsgrade does not: it never emits them, so there
# is nothing to compare (the test still checks it never emits them).
NOT_WRITTEN = {
    # policy scripts, not the default ssl.log
    "requested_client_certificate_authorities", "ocsp_status", "subject", "issuer",
    "client_subject", "client_issuer",
    # x509.log: tlsgrade keeps dNSName SANs only (struct tls_cert)
    "san.uri", "san.email", "san.ip",
}

# (capture, log, field) -> why Zeek's value is not ours to match.
EXCEPTIONS = {
    ("zeek__ml-dsa-44-cert.pcap", "x509", "certificate.key_alg"):
        "Zeek's OpenSSL 3.5 names ML-DSA-44; Debian 12's OpenSSL 3.0 gives the OID",
    ("zeek__ml-dsa-44-cert.pcap", "x509", "certificate.sig_alg"):
        "Zeek's OpenSSL 3.5 names ML-DSA-44; Debian 12's OpenSSL 3.0 gives the OID",
    ("zeek__ml-dsa-44-cert.pcap", "x509", "certificate.key_type"):
        "an ML-DSA key is unknown to OpenSSL 3.0: no key type",
    ("zeek__ml-dsa-44-cert.pcap", "x509", "certificate.key_length"):
        "an ML-DSA key is unknown to OpenSSL 3.0: no length",
}


def zeek_log(path):
    """(field names, field types, rows as dicts) of a Zeek TSV log."""
    fields, types, rows = None, None, []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line.startswith("#types"):
            types = dict(zip(fields, line.split("\t")[1:]))
        elif line.startswith("#"):
            continue
        elif fields is None:  # a zeek-cut extract: the first line names the fields
            fields = line.split("\t")
        else:
            rows.append(dict(zip(fields, line.split("\t"))))
    return fields, types or {}, rows


def unescape(s):
    """Zeek's TSV writer escapes its separators as \\xNN."""
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1").decode("utf-8")


def zeek_value(text, ztype):
    """A TSV field as Zeek's JSON writer would write it; None when unset."""
    if text == "-":
        return None
    if ztype is None:  # zeek-cut extract: no #types line
        ztype = "port" if text.isdigit() else "string"
    if ztype.startswith("vector") or ztype.startswith("set"):
        return [] if text == "(empty)" else [unescape(x) for x in text.split(",")]
    if ztype == "bool":
        return text == "T"
    if ztype in ("count", "port", "int"):
        return int(text)
    if ztype == "time":
        return float(text)
    return unescape(text)


def ours(name):
    rc, out, err = run_tlsgrade(["--format", "zeek", os.path.join(CORPUS, "pcaps", name)])
    assert rc == 0, err
    return [json.loads(l) for l in out.splitlines()]


def compare_record(t, name, log, fields, types, z, o, what):
    for f in fields:
        if f in SKIPPED:
            continue
        want = zeek_value(z[f], types.get(f))
        got = o.get(f)
        why = EXCEPTIONS.get((name, log, f))
        if why:
            t.check(got != want, "%s %s: listed as an exception but agrees (%s)" % (what, f, why))
            continue
        if f in NOT_WRITTEN:
            t.check(f not in o, "%s %s: written, yet listed as not written" % (what, f))
            continue
        t.eq(got, want, "%s %s" % (what, f))


def compare_ssl(t, name):
    fields, types, rows = zeek_log(os.path.join(CORPUS, "expected", name + ".zeek-ssl.log"))
    records = [o for o in ours(name) if o.get("_path") == "ssl"]
    t.eq(len(records), len(rows), name + ": ssl records")
    for z in rows:
        key = {(z["id.orig_h"], int(z["id.orig_p"])), (z["id.resp_h"], int(z["id.resp_p"]))}
        what = "%s %s:%s" % (name, z["id.orig_h"], z["id.orig_p"])
        match = [o for o in records if {(o["id.orig_h"], o["id.orig_p"]),
                                        (o["id.resp_h"], o["id.resp_p"])} == key]
        if t.check(len(match) == 1, what + ": one ssl record"):
            compare_record(t, name, "ssl", fields, types, z, match[0], what)


def compare_x509(t, name):
    fields, types, rows = zeek_log(os.path.join(CORPUS, "expected", name + ".zeek-x509.log"))
    records = [o for o in ours(name) if o.get("_path") == "x509"]
    for z in rows:
        what = "%s %s" % (name, z["fingerprint"][:16])
        match = [o for o in records if o.get("fingerprint") == z["fingerprint"]]
        if t.check(len(match) >= 1, what + ": an x509 record"):
            compare_record(t, name, "x509", fields, types, z, match[0], what)


def record_shape(t):
    """Zeek's JSON log format: flat dotted keys, ts a number, a 'C' uid that
    is the same on a second run (made, not random)."""
    name = "zeek__tls1_1.pcap"
    first, second = ours(name), ours(name)
    t.eq([o["_path"] for o in first], ["ssl", "x509", "x509", "x509"], "records of " + name)
    ssl = first[0]
    t.check(isinstance(ssl["ts"], float), "ts is a float")
    t.check(isinstance(ssl["id.orig_p"], int), "id.orig_p is a number")
    t.check(ssl["uid"].startswith("C") and len(ssl["uid"]) == 18 and ssl["uid"].isalnum(),
            "uid like Zeek's: %r" % ssl["uid"])
    t.eq(second[0]["uid"], ssl["uid"], "uid made from the connection, not random")


def history_case(t):
    """Zeek's ssl_history: client-sent letters upper case, server-sent lower
    (main.zeek).  A ClientHello is always the client's and a ServerHello,
    Certificate status or HelloVerifyRequest always the server's, whichever
    end opened the connection (ndpi__dtls_certificate_fragments: the flow's
    first packet is the server's)."""
    pcaps = os.path.join(CORPUS, "pcaps")
    for name in sorted(os.listdir(pcaps)):
        rc, out, err = run_tlsgrade(["--format", "zeek", os.path.join(pcaps, name)])
        for o in (json.loads(l) for l in out.splitlines()):
            h = o.get("ssl_history", "")
            t.check("c" not in h and not any(x in h for x in "SUV"),
                    "%s %s: ssl_history %r" % (name, o.get("id.orig_p"), h))


def sslv2_cipher(t):
    """Zeek names SSL 2.0 cipher kinds SSLv20_CK_... (its consts.zeek); the
    corpus README: the client chose DES_192_EDE3_CBC_WITH_MD5."""
    ssl = [o for o in ours("zeek__ssl-v2.pcap") if o["_path"] == "ssl"]
    t.eq([(o.get("version"), o.get("cipher")) for o in ssl],
         [("SSLv2", "SSLv20_CK_DES_192_EDE3_CBC_WITH_MD5")], "SSLv2 record")


def history_cap(t):
    """A server flight of 60 unassigned handshake messages (type 99, Zeek's
    'z'): ssl_history keeps the first 48 plaintext messages and the report's
    limits count the 14 left out (62 messages in all)."""
    import tempfile
    import pcapgen
    conv = pcapgen.Conversation("10.9.0.1", 40000, "10.9.0.2", 443)
    conv.handshake()
    conv.client_sends(pcapgen.client_hello(sni=b"cap.test"))
    conv.server_sends(pcapgen.server_hello() + pcapgen.record(22, pcapgen.handshake(99, b"") * 60))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "cap.pcap")
        pcapgen.write_pcap(path, conv.frames)
        rc, out, err = run_tlsgrade(["--format", "zeek", path])
        ssl = [json.loads(l) for l in out.splitlines()]
        t.eq([o["ssl_history"] for o in ssl], ["Cs" + "z" * 46], "the first 48 letters")
        rc, out, err = run_tlsgrade(["--format", "json", path])
        limits = json.loads(out).get("limits", {})
        t.eq(limits.get("plaintext_messages_per_connection"), {"limit": 48, "hits": 14},
             "cap hits in the report")
        # --limit plaintext-messages: 5 keeps "Cs" and three of the 60, 100 keeps all 62.
        rc, out, err = run_tlsgrade(["--format", "zeek", "--limit", "plaintext-messages=5", path])
        t.eq(rc, 0, "exit status: " + err)
        t.eq([json.loads(l)["ssl_history"] for l in out.splitlines()], ["Cs" + "z" * 3],
             "plaintext-messages=5: five letters")
        rc, out, err = run_tlsgrade(["--format", "json", "--limit", "plaintext-messages=5", path])
        t.eq(json.loads(out).get("limits", {}).get("plaintext_messages_per_connection"),
             {"limit": 5, "hits": 57}, "plaintext-messages=5: 57 counted")
        rc, out, err = run_tlsgrade(["--format", "zeek", "--limit", "plaintext-messages=100", path])
        t.eq([json.loads(l)["ssl_history"] for l in out.splitlines()], ["Cs" + "z" * 60],
             "plaintext-messages=100: every letter")
        rc, out, err = run_tlsgrade(["--format", "json", "--limit", "plaintext-messages=100", path])
        t.eq(json.loads(out).get("limits", {}).get("plaintext_messages_per_connection"), None,
             "plaintext-messages=100: no hit, no row")


def main():
    t = Suite()
    t.run(record_shape)
    t.run(history_case)
    t.run(sslv2_cipher)
    t.run(history_cap)
    for f in sorted(os.listdir(os.path.join(CORPUS, "expected"))):
        if f.endswith(".zeek-ssl.log"):
            t.run(compare_ssl, f[:-len(".zeek-ssl.log")])
        if f.endswith(".zeek-x509.log"):
            t.run(compare_x509, f[:-len(".zeek-x509.log")])
    t.done()


main()
