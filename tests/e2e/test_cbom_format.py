"""--format cbom is a CycloneDX 1.6 cryptographic bill of materials of what
was negotiated.

Oracles: the published CycloneDX 1.6 JSON schema (vendored in
tests/data/cyclonedx with its licence, validated with python3-jsonschema),
and tshark (../shared/corpus/expected/*.tshark.tsv): each server's protocol
assets hold exactly the versions and suites its ServerHellos chose, its
references name the groups and leaf certificates tshark decoded.
"""
import copy
import json
import os
import warnings

from oracle import CORPUS, TOP, Suite, run_tlsgrade

warnings.simplefilter("ignore", DeprecationWarning)  # RefResolver, kept for older jsonschema
import jsonschema  # noqa: E402  (python3-jsonschema)

SCHEMAS = os.path.join(TOP, "tests", "data", "cyclonedx")
VERSIONS = {"0x0300": ("tls", "3.0"), "0x0301": ("tls", "1.0"), "0x0302": ("tls", "1.1"),
            "0x0303": ("tls", "1.2"), "0x0304": ("tls", "1.3")}
GROUPS = {"0x0017": "secp256r1", "0x0018": "secp384r1", "0x0019": "secp521r1",
          "0x001d": "x25519", "0x001e": "x448", "0x11ec": "X25519MLKEM768"}


def validator():
    def load(name):
        return json.load(open(os.path.join(SCHEMAS, name), encoding="utf-8"))
    bom = load("bom-1.6.SNAPSHOT.schema.json")
    store = {"http://cyclonedx.org/schema/" + n: load(n)
             for n in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json")}
    resolver = jsonschema.RefResolver.from_schema(bom, store=store)
    return jsonschema.Draft7Validator(bom, resolver=resolver)


def cbom(args):
    rc, out, err = run_tlsgrade(["--format", "cbom"] + args, timeout=300)
    return rc, json.loads(out) if out.strip() else None, err


def valid(t, v, doc, what):
    errors = list(v.iter_errors(doc))
    for e in errors[:5]:
        print("  schema:", what, list(e.path), e.message[:200])
    t.eq(len(errors), 0, what + ": schema errors")


def schema(t, v):
    """The samples and the whole corpus; the validator refuses a broken BOM."""
    for args in (["--ca-file", os.path.join(TOP, "samples", "certs", "root.pem"),
                  os.path.join(TOP, "samples")], [os.path.join(CORPUS, "pcaps")]):
        rc, doc, err = cbom(args)  # 1: the corpus holds a damaged file (its README)
        t.check(rc in (0, 1) and doc, "exit status %d: %s" % (rc, err[-200:]))
        valid(t, v, doc, args[-1])
        t.eq((doc["bomFormat"], doc["specVersion"]), ("CycloneDX", "1.6"), "CycloneDX 1.6")
        refs = [c["bom-ref"] for c in doc["components"]]
        t.eq(len(refs), len(set(refs)), "each asset once")
        for c in doc["components"]:
            for r in c["cryptoProperties"].get("protocolProperties", {}).get("cryptoRefArray", []):
                t.check(r in refs, "reference %s names an asset" % r)
        broken = copy.deepcopy(doc)
        broken["components"][0]["cryptoProperties"]["assetType"] = "spell"
        t.check(list(v.iter_errors(broken)), "a wrong assetType is refused")


def tshark_expected(name):
    """{(server ip, port): (set of (type, version, suite), groups, leaves)}."""
    rows, header = [], None
    for line in open(os.path.join(CORPUS, "expected", name + ".tshark.tsv"), encoding="utf-8"):
        if line.startswith("#"):
            continue
        cells = line.rstrip("\n").split("\t")
        if header is None:
            header = cells
        elif dict(zip(header, cells))["decrypted"] == "0":
            rows.append(dict(zip(header, cells)))
    out = {}
    for sh in [r for r in rows if r["msg"] == "server_hello"]:
        key = (sh["src"], int(sh["sport"]))
        suites, groups, leaves = out.setdefault(key, (set(), set(), set()))
        suites.add(VERSIONS[sh["versions"] or sh["hs_version"]] + (sh["cipher_name"],))
        # a TLS 1.3 ServerHello's key_share group is in its "groups" column
        group = sh["groups"] or sh["key_share"] or next((r["ske_curve"] for r in rows if r["stream"] == sh["stream"]
                                         and r["msg"] == "server_key_exchange"
                                         and r["ske_curve"]), "")
        if group:
            groups.add(GROUPS[group])
        leaves |= {r["cert_sha256"] for r in rows if r["stream"] == sh["stream"]
                   and r["msg"] == "certificate" and r["cert_idx"] == "0" and r["src"] == sh["src"]}
    return out


def compare_tshark(t, v, name):
    rc, doc, err = cbom([os.path.join(CORPUS, "pcaps", name)])
    t.check(rc == 0 and doc, "exit status %d: %s" % (rc, err[-200:]))
    valid(t, v, doc, name)
    got = {}
    for c in doc["components"]:
        p = c["cryptoProperties"].get("protocolProperties")
        if not p:
            continue
        props = {x["name"]: x["value"] for x in c["properties"]}
        key = (props["tlsgrade:ip"], int(props["tlsgrade:port"]))
        suites, groups, leaves = got.setdefault(key, (set(), set(), set()))
        suites |= {(p["type"], p["version"], s["name"]) for s in p["cipherSuites"]}
        for r in p.get("cryptoRefArray", []):
            kind, _, value = r.partition(":")
            if kind == "certificate":
                leaves.add(value)
            elif not value.startswith("FFDH-"):
                groups.add(value)
    t.eq(got, tshark_expected(name), name)


def usage(t):
    """A CBOM is made of graded evidence: not of --handshakes or --flows."""
    for mode in ("--handshakes", "--flows"):
        rc, out, err = run_tlsgrade([mode, "--format", "cbom", os.path.join(CORPUS, "pcaps")])
        t.eq((rc, out), (2, ""), mode + " --format cbom: a usage error")


def main():
    t = Suite()
    v = validator()
    t.run(usage)
    t.run(schema, v)
    for name in ("zeek__tls1_1.pcap", "zeek__imap-starttls.pcap", "zeek__tls13-ech.pcap",
                 "arkime__openssl-tls1_2-tls1.pcap", "zeek__dhe.pcap",
                 "ndpi__tls_malicious_sha1.pcapng", "zeek__certificate-request-failed.pcap"):
        t.run(compare_tshark, v, name)
    t.done()


main()
