"""The client inventory: every client by address and JA4, what it offered
and got, worst first; per server the JA4s that connected and what each got.

Crafted capture (pcapgen: hellos by hand), one client per finding:
- 10.9.0.14 SSL 3.0 with an export RC4 suite (RFC 6101; TLS_RSA_EXPORT_WITH_RC4_40_MD5,
  RFC 4346 A.5)
- 10.9.0.15 TLS_RSA_WITH_NULL_SHA (RFC 5246 A.5)
- 10.9.0.12 TLS_RSA_WITH_RC4_128_SHA (RFC 7465), no server_name
- 10.9.0.11 TLS 1.0 (RFC 8996) with TLS_RSA_WITH_AES_128_CBC_SHA
- 10.9.0.13 TLS_RSA_WITH_3DES_EDE_CBC_SHA (64-bit block)
- 10.9.0.17 TLS 1.2 ECDHE-GCM over x25519, no post-quantum group offered
- 10.9.0.16 TLS 1.3 with X25519MLKEM768 (0x11EC): no finding
and a real one, samples/tls10-accepted.pcap (openssl s_client -tls1,
-tls1_2 and default against one s_server): the TLS 1.0 client beside two
modern ones.

Every frame is the one tshark shows: a finding about what the client offered
cites its ClientHello, one about what it got the ServerHello.  tshark 4.0
(Debian 12) has no JA4 field: JA4 is computed here from the hello fields
tshark reads, per the JA4 specification (FoxIO-LLC/ja4, technical_details).
"""
import hashlib
import json
import os
import re
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, client_hello, server_hello, server_hello_done,
                     server_key_exchange_ecdhe, write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-clients-")
SERVER = "10.9.0.1"
SUITES = {  # IANA names (RFC 5246 A.5, RFC 4346 A.5, RFC 5289, RFC 8446 B.4)
    0x0002: "TLS_RSA_WITH_NULL_SHA", 0x0003: "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
    0x0005: "TLS_RSA_WITH_RC4_128_SHA", 0x000a: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    0x002f: "TLS_RSA_WITH_AES_128_CBC_SHA", 0xc02f: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0x1301: "TLS_AES_128_GCM_SHA256",
}
VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1.0", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2",
            0x0304: "TLSv1.3"}
# The report's order of findings, worst first (grade/clients.h).
KINDS = ["ssl2_3", "export", "null_cipher", "rc4", "tls10_11", "block64", "no_fs_offered",
         "no_aead_offered", "no_pq_offered", "no_sni"]
OFFERED = {"no_fs_offered", "no_aead_offered", "no_pq_offered", "no_sni"}

# ip: (hello kwargs, server hello kwargs, ECDHE group or None, findings expected)
CLIENTS = {
    "10.9.0.11": (dict(version=0x0301, ciphers=(0x002f,)), dict(cipher=0x002f, version=0x0301),
                  None, {"tls10_11", "no_fs_offered", "no_aead_offered", "no_pq_offered"}),
    "10.9.0.12": (dict(ciphers=(0x0005,), sni=None), dict(cipher=0x0005), None,
                  {"rc4", "no_fs_offered", "no_aead_offered", "no_pq_offered", "no_sni"}),
    "10.9.0.13": (dict(ciphers=(0x000a,)), dict(cipher=0x000a), None,
                  {"block64", "no_fs_offered", "no_aead_offered", "no_pq_offered"}),
    "10.9.0.14": (dict(version=0x0300, ciphers=(0x0003,)), dict(cipher=0x0003, version=0x0300),
                  None, {"ssl2_3", "export", "rc4", "no_fs_offered", "no_aead_offered",
                         "no_pq_offered"}),
    "10.9.0.15": (dict(ciphers=(0x0002,)), dict(cipher=0x0002), None,
                  {"null_cipher", "no_fs_offered", "no_aead_offered", "no_pq_offered"}),
    "10.9.0.16": (dict(ciphers=(0x1301,), groups=(0x11ec, 0x001d), versions=(0x0304, 0x0303),
                       key_shares=(0x11ec,), sig_algs=(0x0403, 0x0804)),
                  dict(cipher=0x1301, selected_version=0x0304, key_share=0x11ec), None, set()),
    "10.9.0.17": (dict(ciphers=(0xc02f,), groups=(0x001d,), sig_algs=(0x0401,)),
                  dict(cipher=0xc02f), 0x001d, {"no_pq_offered"}),
}


def capture(name, ips, t0=1700000000.0, snis=None, port=40000):
    """One handshake per client address in ips, to shop.example (or
    snis[i], a name each, sent by every client)."""
    frames = []
    for i, ip in enumerate(ips):
        hello, answer, group, _ = CLIENTS[ip]
        hello = dict({"sni": b"shop.example"}, **hello)
        if snis:
            hello["sni"] = snis[i]
        conv = Conversation(ip, port + i, SERVER, 443, t0=t0 + i)
        conv.handshake()
        conv.client_sends(client_hello(**hello))
        flight = server_hello(**answer)
        if group:
            flight += server_key_exchange_ecdhe(group) + server_hello_done()
        conv.server_sends(flight)
        frames += conv.frames
    path = os.path.join(TMP, name + ".pcap")
    write_pcap(path, frames)
    return path


def tshark(path, filt, fields):
    out = subprocess.run(["tshark", "-r", path, "-Y", filt, "-T", "fields", "-E", "separator=|"] +
                         sum((["-e", f] for f in fields), []),
                         capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


def hexes(field):
    return [int(x, 16) for x in field.split(",") if x]


def grease(v):
    return (v & 0x0f0f) == 0x0a0a and (v >> 8) == (v & 0xff)


def ja4(version, sv, sni, alpn, ciphers, exts, sig_algs):
    """JA4 (FoxIO-LLC/ja4 technical_details) of a TCP ClientHello from its fields."""
    codes = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2"}
    sv = [v for v in sv if not grease(v)]
    ver = codes.get(max(sv) if sv else version, "00")
    ciphers = [c for c in ciphers if not grease(c)]
    exts = [e for e in exts if not grease(e)]
    first = alpn.split(",")[0] if alpn else ""
    a = "t%s%s%02d%02d%s" % (ver, "d" if sni else "i", min(len(ciphers), 99), min(len(exts), 99),
                             first[0] + first[-1] if first else "00")

    def h(s):
        return hashlib.sha256(s.encode()).hexdigest()[:12]
    b = h(",".join("%04x" % c for c in sorted(ciphers))) if ciphers else "000000000000"
    c_list = ",".join("%04x" % e for e in sorted(e for e in exts if e not in (0, 16)))
    if sig_algs:
        c_list += "_" + ",".join("%04x" % s for s in sig_algs)
    return "%s_%s_%s" % (a, b, h(c_list) if exts else "000000000000")


def hellos(path):
    """ip.src -> [(frame, JA4)] of its ClientHellos, as tshark reads them."""
    rows = tshark(path, "tls.handshake.type==1",
                  ["frame.number", "ip.src", "tls.handshake.version",
                   "tls.handshake.extensions.supported_version",
                   "tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
                   "tls.handshake.ciphersuite", "tls.handshake.extension.type",
                   "tls.handshake.sig_hash_alg"])
    out = {}
    for frame, ip, ver, sv, sni, alpn, ciphers, exts, sigs in rows:
        out.setdefault(ip, []).append((int(frame), ja4(int(ver, 16), hexes(sv), sni, alpn,
                                                       hexes(ciphers), [int(e) for e in
                                                                        exts.split(",") if e],
                                                       hexes(sigs))))
    return out


def server_hellos(path):
    """ip.dst -> [(frame, version name, suite id)] of the ServerHellos."""
    rows = tshark(path, "tls.handshake.type==2",
                  ["frame.number", "ip.dst", "tls.handshake.version",
                   "tls.handshake.extensions.supported_version", "tls.handshake.ciphersuite"])
    out = {}
    for frame, ip, ver, sv, suite in rows:
        v = int(sv, 16) if sv else int(ver, 16)
        out.setdefault(ip, []).append((int(frame), VERSIONS[v], int(suite, 16)))
    return out


def report(t, args):
    merge = args[:1] == ["merge"]
    rc, out, err = run_tlsgrade(args[:merge] + ["--format", "json"] + args[merge:])
    t.eq(rc, 0, "exit status: " + err)
    return json.loads(out)


def test_findings(t):
    path = capture("seven", sorted(CLIENTS))
    ch, sh = hellos(path), server_hellos(path)
    got = report(t, [path])
    inv = got.get("clients")
    if not t.check(inv is not None, "the report has a clients section"):
        return
    t.eq(inv["seen"], len(CLIENTS), "clients seen")
    by_ip = {c["ip"]: c for c in inv["list"]}
    for ip, (_, _, _, want) in sorted(CLIENTS.items()):
        c = by_ip.get(ip)
        if not t.check(c is not None, ip + " listed"):
            continue
        (ch_frame, ch_ja4), = ch[ip]
        (sh_frame, sh_version, _), = sh[ip]
        t.eq(c["ja4"], ch_ja4, ip + " JA4 (from tshark's hello fields)")
        t.eq(c["got"], [sh_version], ip + " got (tshark's ServerHello version)")
        findings = {f["id"]: f for f in c["findings"]}
        t.eq(set(findings), want, ip + " findings")
        for kind, f in findings.items():
            frame = ch_frame if kind in OFFERED else sh_frame
            t.eq(f["sample"], "%s:%d" % (path, frame), "%s %s frame" % (ip, kind))
            t.eq(f["connections"], 1, "%s %s count" % (ip, kind))
    # Worst first: by the worst finding in KINDS order, then more findings.
    def severity(ip):
        kinds = CLIENTS[ip][3]
        worst = min([KINDS.index(k) for k in kinds] or [len(KINDS)])
        return (worst, -len(kinds))
    t.eq([c["ip"] for c in inv["list"]], sorted(CLIENTS, key=severity), "worst first")
    counts = {k: sum(k in CLIENTS[ip][3] for ip in CLIENTS) for k in KINDS}
    t.eq(inv["with"], counts, "clients per finding")
    # Per server: each JA4 with what tshark's ServerHello gave it.
    servers = {(s["host"], s["ip"], s["port"]): s["clients"] for s in inv["per_server"]}
    for ip in CLIENTS:
        host = "-" if ip == "10.9.0.12" else "shop.example"
        rows = servers.get((host, SERVER, 443), [])
        (_, ja), = ch[ip]
        (sh_frame, version, suite), = sh[ip]
        row = [r for r in rows if r["ja4"] == ja]
        if not t.check(len(row) == 1, "%s: one row at %s" % (ip, host)):
            continue
        t.eq((row[0]["version"], row[0]["suite"], row[0]["connections"], row[0]["sample"]),
             (version, SUITES[suite], 1, "%s:%d" % (path, sh_frame)), ip + " row")
    modern = [r for r in servers[("shop.example", SERVER, 443)] if r["version"] == "TLSv1.3"]
    t.eq([r.get("group") for r in modern], ["X25519MLKEM768"], "the TLS 1.3 row's group")
    t.eq(got["limits"]["clients"]["hits"], 0, "no cap hit")


def test_text(t):
    path = capture("seven-text", sorted(CLIENTS))
    rc, out, err = run_tlsgrade([path])
    t.eq(rc, 0, err)
    start = out.find("\nclients: ")
    end = out.find("\n== ")
    section = out[start:end].splitlines()
    t.check(start >= 0 and "CLIENTS, worst first" in out[start:end], "text section")
    t.check(all(len(line) <= 80 for line in section), "every client line fits 80 columns")
    t.check("CLIENTS THAT CONNECTED" not in out, "no separate per-server section")
    # In shop.example's block: its six clients (10.9.0.12 sent no SNI), at
    # most five rows, each JA4 (from tshark's hello) with what tshark's
    # ServerHello gave it.
    ch, sh = hellos(path), server_hellos(path)
    block = out[out.find("\n== shop.example "):]
    block = block[:block.find("\n== ", 1)] if "\n== " in block[1:] else block
    rows = re.findall(r"^     (\S+) +(\d+)  \S+\n       got (\S+) (\S+)", block, re.M)
    want = {ch[ip][0][1]: (sh[ip][0][1], SUITES[sh[ip][0][2]]) for ip in CLIENTS
            if ip != "10.9.0.12"}
    t.check("   clients that connected" in block, "the server's block lists its clients")
    t.eq(len(rows), 5, "five rows of six")
    t.check("     +1 more" in block, "+1 more")
    t.eq([(ja, n, (v, su)) for ja, n, v, su in rows if want.get(ja) != (v, su)], [],
         "rows that are not a JA4 with what it got")
    t.check(all(len(line) <= 80 for line in block.splitlines() if "JA4" in line or
                line.startswith("     ")), "the rows fit 80 columns")
    # 10.9.0.12 sent no SNI and got RC4, which no named server of the
    # address gave: its `-` endpoint is a server of its own (README
    # "Connections without SNI"), and its block lists its client.
    dash = out[out.find("\n== -  "):]
    dash = dash[:dash.find("\n== ", 1)] if "\n== " in dash[1:] else dash
    (_, ja), = ch["10.9.0.12"]
    (_, version, suite), = sh["10.9.0.12"]
    t.check(re.search(r"^     %s +1  \S+\n       got %s %s$" % (ja, version, SUITES[suite]),
                      dash, re.M), "the `-` endpoint's client in its block: " + dash[:400])
    two = capture("two-text", ["10.9.0.11", "10.9.0.17"])
    rc, out, err = run_tlsgrade([two])
    ch, sh = hellos(two), server_hellos(two)
    block = out[out.find("\n== shop.example "):]
    rows = re.findall(r"^     (\S+) +(\d+)  \S+\n       got (\S+) (\S+)", block, re.M)
    t.eq(sorted(rows), sorted((ch[ip][0][1], "1", sh[ip][0][1], SUITES[sh[ip][0][2]])
                              for ip in ("10.9.0.11", "10.9.0.17")), "two clients, both listed")
    rc, out, err = run_tlsgrade(["--summary", path])
    line = out[out.find("clients: "):]
    t.check(line.startswith("clients: 7 seen") and "1 negotiate TLS 1.0/1.1" in line,
            "--summary: one client line")
    t.check("CLIENTS, worst first" not in out, "--summary: no client list")
    rc, out, err = run_tlsgrade(["--format", "html", path])
    ch = hellos(path)
    legacy = out[out.find('<h2 id="clients">'):out.find('<section id="srv-')]
    t.check('<code class="addr">10.9.0.11</code></td><td><code class="id">%s</code>'
            % ch["10.9.0.11"][0][1] in legacy,
            "HTML: the TLS 1.0 client's row")
    t.check("TLS 1.0/1.1 negotiated: 1" in legacy, "HTML: its finding")
    sections = [x[:x.find("</section>")] for x in out.split('<section id="srv-')[1:]]
    shop = [x for x in sections if "shop.example" in x[:x.find("</h2>")]]
    section = shop[0] if shop else ""
    t.check('<code class="addr">10.9.0.1:443</code>' in section and
            "<h3>Clients that connected</h3>" in section and
            '<td><code class="id">%s</code></td>' % ch["10.9.0.11"][0][1] in section,
            "HTML: per server, in the server's section")


def test_real_tls10(t):
    path = os.path.join(TOP, "samples", "tls10-accepted.pcap")
    ch, sh = hellos(path), server_hellos(path)
    got = report(t, [path])
    inv = got.get("clients", {"list": [], "per_server": []})
    ja4s = {ja for frame, ja in ch["127.0.0.1"]}
    t.eq({c["ja4"] for c in inv["list"]}, ja4s, "three clients, JA4 as computed from tshark")
    legacy = [c for c in inv["list"] if any(f["id"] == "tls10_11" for f in c["findings"])]
    tls10 = [(f, v) for f, v, s in sh["127.0.0.1"] if v == "TLSv1.0"]
    if t.check(len(legacy) == 1 and len(tls10) == 1, "one TLS 1.0 client"):
        f = [x for x in legacy[0]["findings"] if x["id"] == "tls10_11"][0]
        t.eq(f["sample"], "%s:%d" % (path, tls10[0][0]), "TLS 1.0 frame = tshark's ServerHello")
        t.eq(inv["list"][0]["ip"] + inv["list"][0]["ja4"], legacy[0]["ip"] + legacy[0]["ja4"],
             "the TLS 1.0 client is listed first")
    rows = [r for s in inv["per_server"] if s["host"] == "tls10.example.test" for r in s["clients"]]
    t.eq(sorted(r["version"] for r in rows), sorted(v for f, v, s in sh["127.0.0.1"]),
         "per server: what each JA4 got")
    rc, out, err = run_tlsgrade(["--summary", path])
    t.check("1 negotiate TLS 1.0/1.1" in out, "--summary names the legacy client")


def test_cap(t):
    path = capture("three", ["10.9.0.11", "10.9.0.12", "10.9.0.13"])
    # -j 2: each worker's inventory holds to the cap, and folding them into
    # the run's applies it again
    for jobs in ([], ["-j", "2"]):
        got = report(t, ["--limit", "clients=2"] + jobs + [path])
        inv = got.get("clients", {})
        t.eq(inv.get("seen"), 2, "two clients held %s" % jobs)
        t.eq(inv.get("not_listed"), 1, "the third counted in the section %s" % jobs)
        t.eq(got["limits"].get("clients"), {"limit": 2, "hits": 1}, "limits: clients %s" % jobs)
        t.eq(got["limits"].get("clients_per_server"), {"limit": 2, "hits": 1},
             "limits: a server row refused %s" % jobs)


def test_merge_and_jobs(t):
    a = capture("merge-a", ["10.9.0.11", "10.9.0.12"])
    b = capture("merge-b", ["10.9.0.12", "10.9.0.13"], t0=1700000100.0)
    ea, eb = os.path.join(TMP, "a.json"), os.path.join(TMP, "b.json")
    for pcap, ev in ((a, ea), (b, eb)):
        rc, _, err = run_tlsgrade(["--save-evidence", ev, pcap])
        t.eq(rc, 0, err)
    merged = report(t, ["merge", ea, eb]).get("clients", {"list": []})
    together = report(t, [a, b]).get("clients", {"list": []})
    by_ip = {c["ip"]: c for c in merged["list"]}
    t.eq(sorted(by_ip), ["10.9.0.11", "10.9.0.12", "10.9.0.13"], "merge: the union")
    ch_a = hellos(a)
    if "10.9.0.12" in by_ip:
        c = by_ip["10.9.0.12"]
        t.eq(c["connections"], 2, "merge: the same client's connections added")
        t.eq(c["sample"], "%s:%d" % (a, ch_a["10.9.0.12"][0][0]), "merge: the earliest frame")
    t.eq(merged, together, "merge of two evidence files = both captures at once")
    one = report(t, [a, b])["clients"]
    two = report(t, ["-j", "2", a, b])["clients"]
    t.eq(two, one, "-j 2: the workers' tables merged")


def test_many_servers_on_threads(t):
    """300 servers (one SNI each) reach the report's threads (256 and more):
    the client inventory is then rendered beside the servers and written
    after them, and the report is byte for byte one thread's."""
    ips = sorted(CLIENTS)
    path = capture("many", [ips[i % len(ips)] for i in range(300)],
                   snis=[b"s%03d.example" % i for i in range(300)], port=20000)
    rc1, one, err1 = run_tlsgrade(["--format", "json", path])
    rc2, two, err2 = run_tlsgrade(["--format", "json", "-j", "2", path])
    t.eq((rc1, rc2), (0, 0), "exit status: " + err1 + err2)
    doc = json.loads(one)
    t.eq(len(doc["servers"]), 300, "300 servers graded")
    t.eq(len(doc["clients"]["per_server"]), 300, "each with its client row")
    t.check(one == two, "-j 2 writes the report one thread writes, client inventory included")


def main():
    t = Suite()
    t.run(test_findings)
    t.run(test_text)
    t.run(test_real_tls10)
    t.run(test_cap)
    t.run(test_merge_and_jobs)
    t.run(test_many_servers_on_threads)
    t.done()


if __name__ == "__main__":
    main()
