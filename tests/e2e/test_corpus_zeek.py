"""Connections agree with Zeek's ssl.log where the corpus has one.

Zeek's own test baselines (../shared/corpus/expected/*.zeek-ssl.log) are an
oracle independent of tshark: negotiated version, suite, curve, SNI,
resumption, whether the handshake was established, the last alert, the
server chain's SHA-256 fingerprints and the OCSP status.  STARTTLS
connections must also name the protocol that switched to TLS (each capture's
description in ../shared/corpus/manifest.tsv).
"""
import csv
import json
import os

from oracle import CORPUS, Suite, endpoint, run_tlsgrade

ZEEK_VERSIONS = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLSv10": "TLSv1.0", "TLSv11": "TLSv1.1",
                 "TLSv12": "TLSv1.2", "TLSv13": "TLSv1.3", "DTLSv10": "DTLSv1.0",
                 "DTLSv12": "DTLSv1.2", "DTLSv13": "DTLSv1.3"}

STARTTLS = {  # capture -> protocol (manifest: "what it shows")
    "zeek__imap-starttls.pcap": "imap", "zeek__pop3-starttls.pcap": "pop3",
    "zeek__xmpp-starttls.pcap": "xmpp", "zeek__ftp-auth-tls.pcap": "ftp",
    "ndpi__ftp-start-tls.pcap": "ftp", "suricata__smtp-startssl.pcap": "smtp",
    "zeek__psql-aws-ssl-require-15432.pcap": "postgresql", "arkime__ldap-ssl.pcap": "ldap",
}


def zeek_rows(path):
    fields, rows = None, []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line.startswith("#"):
            continue
        elif fields is None:  # a zeek-cut extract: the first line names the fields
            fields = line.split("\t")
        else:
            rows.append(dict(zip(fields, line.split("\t"))))
    return rows


def compare(t, name):
    rc, out, err = run_tlsgrade(["--handshakes", os.path.join(CORPUS, "pcaps", name)])
    ours = [json.loads(l) for l in out.splitlines()]
    for z in zeek_rows(os.path.join(CORPUS, "expected", name + ".zeek-ssl.log")):
        client = endpoint(z["id.orig_h"], z["id.orig_p"])
        server = endpoint(z["id.resp_h"], z["id.resp_p"])
        what = "%s %s->%s" % (name, client, server)
        match = [o for o in ours if {o["client"], o["server"]} == {client, server}]
        if not t.check(len(match) == 1, what + ": one --handshakes line"):
            continue
        o = match[0]
        t.eq(o.get("version"), ZEEK_VERSIONS.get(z["version"]), what + " version")
        t.eq(o.get("cipher"), z["cipher"], what + " cipher")
        if z.get("curve") not in (None, "-"):
            t.eq(o.get("group"), z["curve"], what + " curve")
        if z.get("server_name") not in (None, "-"):
            t.eq(o.get("sni"), z["server_name"], what + " sni")
        if "resumed" in z:
            t.eq(o.get("resumed"), z["resumed"] == "T", what + " resumed")
        if "established" in z:
            t.eq(o.get("established"), z["established"] == "T", what + " established")
        if z.get("last_alert") not in (None, "-"):
            named = [a.get("desc_name") for a in o.get("alerts", []) if not a["encrypted"]]
            t.eq(named[-1:], [z["last_alert"]], what + " last alert")
        if z.get("cert_chain_fps") not in (None, "-", "(empty)"):
            t.eq(",".join(c.get("sha256", "") for c in o.get("cert_chain", [])),
                 z["cert_chain_fps"], what + " chain fingerprints")
        if z.get("ocsp_status") not in (None, "-"):
            t.eq(o.get("ocsp_status"), z["ocsp_status"], what + " ocsp status")


def starttls(t, name, proto):
    rc, out, err = run_tlsgrade(["--handshakes", os.path.join(CORPUS, "pcaps", name)])
    ours = [json.loads(l) for l in out.splitlines()]
    t.eq([o.get("starttls") for o in ours if o.get("version")], [proto], name + " starttls")


def main():
    t = Suite()
    for f in sorted(os.listdir(os.path.join(CORPUS, "expected"))):
        if f.endswith(".zeek-ssl.log"):
            t.run(compare, f[:-len(".zeek-ssl.log")])
    for name, proto in sorted(STARTTLS.items()):
        t.run(starttls, name, proto)
    t.done()


main()
