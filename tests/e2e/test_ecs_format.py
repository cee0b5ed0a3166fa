"""--format ecs writes Elastic Common Schema documents an ECS pipeline indexes
as they are.

Three oracles, none of them tlsgrade's output:
- the ECS 8.x field reference: every field written is an ECS field of the
  type ECS gives it (or under "tlsgrade", a custom namespace), categorisation
  fields hold allowed values;
- tshark (../shared/corpus/expected/*.tshark.tsv): a connection document's
  endpoints, time, JA3/JA3S, SNI, cipher, version and leaf certificate are
  the ones tshark decoded;
- samples/expected.json (grades derived by hand): the finding documents of a
  grading run name exactly the caps and warnings each server must fail.
"""
import datetime
import ipaddress
import json
import os
import re

from oracle import CORPUS, TOP, Suite, run_tlsgrade

# ECS 8.11 field reference: name -> type (keyword, long, boolean, date, ip;
# "[]" where ECS says the field holds an array of values).
ECS_FIELDS = {
    "@timestamp": "date", "message": "keyword", "ecs.version": "keyword",
    "event.kind": "keyword", "event.category": "keyword[]", "event.type": "keyword[]",
    "event.module": "keyword", "event.dataset": "keyword", "event.action": "keyword",
    "event.outcome": "keyword", "event.reason": "keyword",
    "observer.product": "keyword", "observer.version": "keyword",
    "network.transport": "keyword", "network.protocol": "keyword", "network.type": "keyword",
    "source.ip": "ip", "source.port": "long", "destination.ip": "ip", "destination.port": "long",
    "server.address": "keyword", "server.ip": "ip", "server.port": "long",
    "server.domain": "keyword",
    "tls.version": "keyword", "tls.version_protocol": "keyword", "tls.cipher": "keyword",
    "tls.curve": "keyword", "tls.established": "boolean", "tls.resumed": "boolean",
    "tls.next_protocol": "keyword", "tls.client.ja3": "keyword",
    "tls.client.server_name": "keyword", "tls.client.supported_ciphers": "keyword[]",
    "tls.server.ja3s": "keyword", "tls.server.hash.sha256": "keyword",
    "tls.server.subject": "keyword", "tls.server.issuer": "keyword",
    "tls.server.not_before": "date", "tls.server.not_after": "date",
    "tls.server.x509.subject.distinguished_name": "keyword",
    "tls.server.x509.subject.common_name": "keyword[]",
    "tls.server.x509.issuer.distinguished_name": "keyword",
    "tls.server.x509.issuer.common_name": "keyword[]",
    "tls.server.x509.serial_number": "keyword", "tls.server.x509.not_before": "date",
    "tls.server.x509.not_after": "date", "tls.server.x509.public_key_algorithm": "keyword",
    "tls.server.x509.public_key_size": "long", "tls.server.x509.public_key_curve": "keyword",
    "tls.server.x509.signature_algorithm": "keyword",
    "tls.server.x509.alternative_names": "keyword[]",
    "vulnerability.id": "keyword", "vulnerability.description": "keyword",
    "vulnerability.severity": "keyword", "vulnerability.category": "keyword[]",
    "vulnerability.scanner.vendor": "keyword",
}
ALLOWED = {  # ECS categorisation fields: allowed values
    "event.kind": {"alert", "asset", "enrichment", "event", "metric", "state",
                   "pipeline_error", "signal"},
    "event.category": {"api", "authentication", "configuration", "database", "driver", "email",
                       "file", "host", "iam", "intrusion_detection", "library", "malware",
                       "network", "package", "process", "registry", "session", "threat",
                       "vulnerability", "web"},
    "event.type": {"access", "admin", "allowed", "change", "connection", "creation", "deletion",
                   "denied", "device", "end", "error", "group", "indicator", "info",
                   "installation", "protocol", "start", "user"},
    "event.outcome": {"failure", "success", "unknown"},
    "network.type": {"ipv4", "ipv6"},
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
SAMPLES = os.path.join(TOP, "samples")
TSHARK_VERSIONS = {"0x0300": ("ssl", "3.0"), "0x0301": ("tls", "1.0"),
                   "0x0302": ("tls", "1.1"), "0x0303": ("tls", "1.2"), "0x0304": ("tls", "1.3")}


def leaves(doc, prefix=""):
    for k, v in doc.items():
        if isinstance(v, dict):
            yield from leaves(v, prefix + k + ".")
        else:
            yield prefix + k, v


def check_types(t, doc, what):
    for name, value in leaves(doc):
        if name.startswith("tlsgrade."):
            continue
        kind = ECS_FIELDS.get(name)
        if not t.check(kind is not None, "%s: %s is no ECS field" % (what, name)):
            continue
        values = value if kind.endswith("[]") else [value]
        t.check(isinstance(values, list), "%s %s: an array" % (what, name))
        for v in values:
            base = kind.rstrip("[]")
            if base == "long":
                t.check(isinstance(v, int) and not isinstance(v, bool), "%s %s long" % (what, name))
            elif base == "boolean":
                t.check(isinstance(v, bool), "%s %s boolean" % (what, name))
            elif base == "date":
                t.check(isinstance(v, str) and ISO.match(v), "%s %s date: %r" % (what, name, v))
            elif base == "ip":
                t.check(isinstance(v, str) and ipaddress.ip_address(v), "%s %s ip" % (what, name))
            else:
                t.check(isinstance(v, str), "%s %s keyword: %r" % (what, name, v))
            if name in ALLOWED:
                t.check(v in ALLOWED[name], "%s %s: %r not allowed" % (what, name, v))
    for name in ("@timestamp", "ecs.version", "event.kind", "event.category", "event.type"):
        t.check(name in dict(leaves(doc)), "%s: %s missing" % (what, name))
    t.check(doc.get("ecs", {}).get("version", "").startswith("8."), what + ": ECS 8.x")


def tshark_rows(name):
    rows, header = [], None
    for line in open(os.path.join(CORPUS, "expected", name + ".tshark.tsv"), encoding="utf-8"):
        if line.startswith("#"):
            continue
        cells = line.rstrip("\n").split("\t")
        if header is None:
            header = cells
        else:
            rows.append(dict(zip(header, cells)))
    return [r for r in rows if r["decrypted"] == "0"]


def iso(epoch_text):
    secs, _, frac = epoch_text.partition(".")
    t = datetime.datetime.fromtimestamp(int(secs), datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + (frac + "000000")[:6] + "Z"


def cert_time(text):  # tshark "YYYY-MM-DD HH:MM:SS" (UTC)
    return text.replace(" ", "T") + ".000000Z"


def compare_tshark(t, name):
    rc, out, err = run_tlsgrade(["--handshakes", "--format", "ecs",
                                 os.path.join(CORPUS, "pcaps", name)])
    t.check(rc == 0, "exit status %d: %s" % (rc, err[-200:]))
    docs = [json.loads(l) for l in out.splitlines()]
    rows = tshark_rows(name)
    for ch in [r for r in rows if r["msg"] == "client_hello"]:
        what = "%s %s:%s" % (name, ch["src"], ch["sport"])
        match = [d for d in docs if d["source"]["ip"] == ch["src"]
                 and d["source"]["port"] == int(ch["sport"])]
        if not t.check(len(match) == 1, what + ": one document"):
            continue
        d = match[0]
        check_types(t, d, what)
        t.eq(d["destination"], {"ip": ch["dst"], "port": int(ch["dport"])}, what + " destination")
        t.eq(d["@timestamp"], iso(ch["time"]), what + " @timestamp")
        t.eq(d["tls"]["client"].get("ja3"), ch["ja3"], what + " ja3")
        t.eq(d["tls"]["client"].get("server_name"), ch["sni"] or None, what + " server_name")
        sh = [r for r in rows if r["msg"] == "server_hello" and r["stream"] == ch["stream"]]
        if sh:
            version = sh[0]["versions"] or sh[0]["hs_version"]
            t.eq((d["tls"]["version_protocol"], d["tls"]["version"]),
                 TSHARK_VERSIONS[version], what + " version")
            t.eq(d["tls"]["cipher"], sh[0]["cipher_name"], what + " cipher")
            t.eq(d["tls"]["server"].get("ja3s"), sh[0]["ja3"], what + " ja3s")
        leaf = [r for r in rows if r["msg"] == "certificate" and r["stream"] == ch["stream"]
                and r["cert_idx"] == "0" and r["src"] == ch["dst"]]
        if leaf:
            server, cert = d["tls"]["server"], leaf[0]
            x = server["x509"]
            t.eq(server["hash"]["sha256"], cert["cert_sha256"].upper(), what + " sha256")
            t.eq(x["serial_number"], cert["cert_serial"].upper(), what + " serial")
            t.eq(x["public_key_size"], int(cert["cert_key_bits"]), what + " key size")
            t.eq(x["signature_algorithm"], cert["cert_sig_alg"], what + " signature")
            t.eq(x["not_before"], cert_time(cert["cert_not_before"]), what + " not_before")
            t.eq(x["not_after"], cert_time(cert["cert_not_after"]), what + " not_after")
            t.eq(x.get("alternative_names", []),
                 cert["cert_san"].split(",") if cert["cert_san"] else [], what + " SAN")
            t.eq(x["subject"].get("common_name"), [cert["cert_subject_cn"]], what + " CN")


def findings(t):
    """A grading run: connection documents as they end, then one finding per
    failed check; the caps and warnings are those expected.json requires."""
    rc, out, err = run_tlsgrade(["--format", "ecs", "--ca-file",
                                 os.path.join(SAMPLES, "certs", "root.pem"), SAMPLES],
                                timeout=300)
    t.check(rc == 0, "exit status %d: %s" % (rc, err[-200:]))
    docs = [json.loads(l) for l in out.splitlines()]
    kinds = [d["event"]["dataset"] for d in docs]
    t.check(kinds and kinds == sorted(kinds), "connections first, then findings")
    failed, grades = {}, {}
    for d in docs:
        check_types(t, d, d["event"]["dataset"])
        if d["event"]["dataset"] != "tlsgrade.finding":
            continue
        t.eq((d["event"]["kind"], d["event"]["category"]), ("state", ["vulnerability"]),
             "finding categorisation")
        s = d["server"]
        key = (s.get("domain", "-"), s["ip"], s["port"])
        grades[key] = d["tlsgrade"]["grade"]
        if d["tlsgrade"]["effect"] in ("cap", "trust", "name", "warning"):
            failed.setdefault(key, set()).add(d["vulnerability"]["id"])
    expected = json.load(open(os.path.join(SAMPLES, "expected.json")))
    for sample in expected["samples"]:
        for server in sample["servers"]:
            key = (server["sni"], server["ip"], server["port"])
            required = {c["id"] for c in server["caps"]} | {w["id"] for w in server["warnings"]}
            optional = {c["id"] for c in server.get("caps_optional", [])}
            got = failed.get(key, set())
            t.eq(sorted(required - got), [], "%r: findings missing" % (key,))
            t.eq(sorted(got - required - optional), [], "%r: unexpected findings" % (key,))
            if required:
                t.eq(grades.get(key), server["grade"], "%r: grade" % (key,))


def main():
    t = Suite()
    for name in ("zeek__tls1_1.pcap", "zeek__imap-starttls.pcap", "zeek__tls13-ech.pcap",
                 "zeek__certificate-request-failed.pcap", "arkime__openssl-ssl3.pcap",
                 "ndpi__tls_malicious_sha1.pcapng"):
        t.run(compare_tshark, name)
    t.run(findings)
    t.done()


main()
