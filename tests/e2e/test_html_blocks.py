"""The blocks of each server's section in the HTML report, the same as the
text report's detail: the certificate chain as sent, the protocols and
cipher suites seen, the clients that connected (inside the server's own
section), and the checks with the undecided ones folded by reason.

What is expected comes from elsewhere: the certificates tshark extracts
from the Certificate message, decoded by `openssl x509 -nameopt RFC2253`;
the ServerHellos tshark dissects (suites, counts, first frames; the
frames of each server's connections); crafted captures (pcapgen) whose
clients and certificates are known by construction; the JSON report's
check statuses (for the folding, as test_text_detail.py does)."""
import html.parser
import json
import os
import shutil
import subprocess
import tempfile

from certs_seen import openssl_fields, sent_chain, suites_seen, tshark
from oracle import TOP, Suite, run_tlsgrade
from pcapgen import Conversation, certificate, client_hello, server_hello, server_hello_done, \
    write_pcap

SAMPLES = os.path.join(TOP, "samples")
ROOT = os.path.join(SAMPLES, "certs", "root.pem")
TMP = tempfile.mkdtemp(prefix="tlsgrade-htmlblocks-")
VOID = {"br", "meta", "link", "img", "hr", "input", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag, cls=None):
        """Descendants with tag (and class cls), in document order."""
        found = []
        for c in self.children:
            if isinstance(c, str):
                continue
            if c.tag == tag and (cls is None or cls in c.attrs.get("class", "").split()):
                found.append(c)
            found += c.all(tag, cls)
        return found

    def elements(self):
        return [c for c in self.children if not isinstance(c, str)]


class Tree(html.parser.HTMLParser):
    """The page as a tree (the report closes every element it opens)."""

    def __init__(self, text):
        super().__init__()
        self.root = self.at = Node("#root", [], None)
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_endtag(self, tag):
        n = self.at
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.at = n.parent

    def handle_data(self, data):
        self.at.children.append(data)


def sections(page):
    """{host: its section} of an HTML report (host from the section's h2)."""
    out = {}
    for s in Tree(page).root.all("section"):
        if not s.attrs.get("id", "").startswith("srv-"):
            continue
        h2 = s.all("h2")[0]
        host = h2.text().split()[1]
        out.setdefault(host, s)
    return out


def block_after(section, title):
    """The first table after the h3 whose text starts with title, and the
    elements between (None when there is no such h3)."""
    kids = section.elements()
    for i, k in enumerate(kids):
        if k.tag == "h3" and k.text().startswith(title):
            between = []
            for e in kids[i + 1:]:
                if e.tag == "h3":
                    break
                tables = [e] if e.tag == "table" else e.all("table")
                if tables:
                    return tables[0], between
                between.append(e)
            return None, between
    return None, []


def html_report(t, args):
    rc, out, err = run_tlsgrade(["--format", "html"] + args)
    t.eq(rc, 0, "HTML report: " + err)
    return out


def check_chain(t, pcap, host, extra=()):
    """The chain block of host against openssl, in the order sent."""
    want = [openssl_fields(d) for d in sent_chain(pcap)]
    page = html_report(t, ["--ca-file", ROOT, pcap] + list(extra))
    section = sections(page).get(host)
    if not t.check(section is not None, "%s: a section" % host):
        return
    table, between = block_after(section, "Certificate")
    t.check(table is not None and "chain" in table.attrs.get("class", ""),
            "%s: the certificate block has the chain's table" % host)
    t.check(table is not None and table.parent.attrs.get("class") == "scroll",
            "%s: the chain's table scrolls in its own box" % host)
    certs = [] if table is None else table.all("tbody", "cert")
    t.eq(len(certs), len(want), "%s: every certificate sent" % host)
    said = " ".join(" ".join(e.text().split()) for e in between)
    t.check("%d certificates" % len(want) in said or "1 certificate" in said and len(want) == 1,
            "%s: the chain's length said: %r" % (host, said))
    for i, (cert, w) in enumerate(zip(certs, want)):
        rows = {}
        for tr in cert.all("tr"):
            th, td = tr.all("th"), tr.all("td")
            if th and td:
                rows[th[0].text()] = " ".join(td[0].text().split())
        t.check(cert.all("th")[0].text().startswith("[%d]" % i), "%s [%d] in order" % (host, i))
        t.eq(rows.get("subject"), w["subject"], "%s [%d] subject" % (host, i))
        t.eq(rows.get("issuer"), w["issuer"], "%s [%d] issuer" % (host, i))
        t.eq(rows.get("SHA-256"), w["sha256"], "%s [%d] SHA-256" % (host, i))
        t.eq(rows.get("valid"), "not before %s UTC, not after %s UTC" % (w["notBefore"],
                                                                         w["notAfter"]),
             "%s [%d] validity dates" % (host, i))
        t.eq(rows.get("SAN", "").split(", ") if "SAN" in rows else [], w["san"],
             "%s [%d] SAN" % (host, i))
        t.check(rows.get("key", "").endswith(" " + w["bits"]), "%s [%d] key bits %s: %r" %
                (host, i, w["bits"], rows.get("key")))
        t.eq(rows.get("signature"), w["sig"], "%s [%d] signature" % (host, i))
    trust = [p for p in section.all("p", "trust")]
    words = " ".join(trust[0].text().split()) if trust else ""
    t.check("(decided with --ca-file %s)" % ROOT in words, "%s: the trust store named: %r" %
            (host, words))
    t.check("OCSP staple: " in words, "%s: the OCSP staple said: %r" % (host, words))


def chain_blocks(t):
    check_chain(t, os.path.join(SAMPLES, "expired-leaf.pcap"), "expired.example.test")
    check_chain(t, os.path.join(SAMPLES, "sha1-intermediate.pcap"), "sha1int.example.test")
    check_chain(t, os.path.join(SAMPLES, "a-grade.pcap"), "a.example.test",
                ["--keylog", os.path.join(SAMPLES, "a-grade.keylog")])


def seen_rows(section, title):
    """{value: (count, first frame cell)} of a seen table."""
    table, between = block_after(section, title)
    if table is None:
        return None, between
    rows = {}
    for tr in table.all("tbody")[0].all("tr"):
        cells = [" ".join(td.text().split()) for td in tr.all("td")]
        rows[cells[0]] = (cells[1], cells[2])
    return rows, between


def suites_tables(t):
    """Suites with their counts and first frames, as tshark reads them."""
    pcap = os.path.join(SAMPLES, "demo-cloud-consoles.pcap")
    want = suites_seen(pcap)
    t.check(len(want) >= 4, "tshark sees the consoles: %r" % list(want))
    page = html_report(t, [pcap])
    secs = sections(page)
    for (host, ip, port), suites in want.items():
        section = secs.get(host)
        if not t.check(section is not None, "%s: a section" % host):
            continue
        rows, between = seen_rows(section, "Cipher suites seen")
        named = " ".join(e.text() for e in between)
        got = {}
        for name, (count, frame) in (rows or {}).items():
            # "frame N" under "First frames in FILE", else "FILE:N"
            if frame.startswith("frame "):
                t.check(pcap in named, "%s: the file named once: %r" % (host, named))
                got[name] = [int(count), int(frame.split()[1])]
            else:
                t.check(frame.startswith(pcap + ":"), "%s: %s cites the file" % (host, name))
                got[name] = [int(count), int(frame.rsplit(":", 1)[1])]
        t.eq(got, suites, "%s %s:%d: suites, counts and first frames" % (host, ip, port))
        versions, _ = seen_rows(section, "Protocols seen")
        t.check(versions, "%s: a protocols table" % host)


def hello_pair(conv, sni, cipher, version, ders):
    conv.handshake()
    conv.client_sends(client_hello(sni=sni, ciphers=(cipher,), version=version))
    conv.server_sends(server_hello(cipher=cipher, version=version) + certificate(ders) +
                      server_hello_done())


def hostile_cert():
    """A self-signed certificate whose subject and SAN hold markup."""
    key, pem = os.path.join(TMP, "k.pem"), os.path.join(TMP, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", pem, "-days", "30", "-subj", "/CN=<img src=x>&amp;/O=\"q\"",
                    "-addext", "subjectAltName=DNS:<b>x</b>.example"],
                   check=True, capture_output=True)
    return subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"], check=True,
                          capture_output=True).stdout


def clients_in_sections(t):
    """Each server's section lists the clients that connected to it, and no
    other server's: their first frames are the ServerHellos tshark shows
    on that server's connections."""
    der = hostile_cert()
    frames = []
    plan = [("10.9.2.11", "10.9.2.1", b"one.example", 0xc02f, 0x0303),
            ("10.9.2.12", "10.9.2.1", b"one.example", 0x002f, 0x0301),
            ("10.9.2.13", "10.9.2.2", b"two.example", 0x000a, 0x0303),
            ("10.9.2.13", "10.9.2.2", b"two.example", 0x000a, 0x0303)]
    for i, (client, server, sni, cipher, version) in enumerate(plan):
        conv = Conversation(client, 41000 + i, server, 443, t0=1768435200.0 + i)
        hello_pair(conv, sni, cipher, version, [der])
        frames += conv.frames
    pcap = os.path.join(TMP, "two.pcap")
    write_pcap(pcap, frames)
    hellos = {}
    for line in tshark(["-r", pcap, "-Y", "tls.handshake.type==2", "-T", "fields", "-e",
                        "frame.number", "-e", "ip.src"]).splitlines():
        frame, ip = line.split("\t")
        hellos.setdefault(ip, set()).add(int(frame))
    page = html_report(t, [pcap])
    t.check('id="clients-per-server"' not in page, "no separate per-server client list")
    t.check('<h2 id="clients">' in page, "the client list stays")
    secs = sections(page)
    for host, ip, rows_wanted in (("one.example", "10.9.2.1", 2), ("two.example", "10.9.2.2", 1)):
        section = secs.get(host)
        if not t.check(section is not None, "%s: a section" % host):
            continue
        table, _ = block_after(section, "Clients that connected")
        if not t.check(table is not None, "%s: clients that connected, in its section" % host):
            continue
        t.eq(table.parent.attrs.get("class"), "scroll", "%s: the table scrolls in its box" % host)
        rows = [[" ".join(td.text().split()) for td in tr.all("td")] for tr in table.all("tr")]
        rows = [r for r in rows if r]
        t.eq(len(rows), rows_wanted, "%s: one row per JA4 that connected" % host)
        firsts = {int(r[-1].rsplit(":", 1)[1]) for r in rows}
        t.check(firsts <= hellos[ip] and firsts,
                "%s: first frames %s are ServerHellos to it %s" % (host, firsts, hellos[ip]))
        counts = sum(int(r[1]) for r in rows)
        t.eq(counts, len(hellos[ip]), "%s: its connections counted" % host)
    # markup from the certificate is text, never markup
    t.check("<img" not in page and "<b>x" not in page, "certificate markup escaped")
    section = secs.get("one.example")
    table, _ = block_after(section, "Certificate") if section else (None, [])
    want = openssl_fields(der)
    cells = {tr.all("th")[0].text(): tr.all("td")[0].text() for tr in
             (table.all("tr") if table else []) if tr.all("th") and tr.all("td")}
    t.eq(cells.get("subject"), want["subject"], "the hostile subject shown as openssl reads it")
    t.eq(cells.get("SAN"), ", ".join(want["san"]), "the hostile SAN shown as text")


def unknown_folding(t):
    """Undecided checks: one row per reason group naming them all; failed
    checks first, then passed, every check id once."""
    pcap = os.path.join(SAMPLES, "expired-leaf.pcap")
    rc, out, err = run_tlsgrade(["--ca-file", ROOT, "--format", "json", pcap])
    checks = json.loads(out)["servers"][0]["checks"]
    unknown = [c["id"] for c in checks if c["status"] == "unknown"]
    t.check(len(unknown) > 10, "the sample leaves many checks undecided: %d" % len(unknown))
    page = html_report(t, ["--ca-file", ROOT, pcap])
    section = sections(page).get("expired.example.test")
    table, _ = block_after(section, "Checks") if section else (None, [])
    rows = [] if table is None else table.all("tbody")[0].all("tr")
    statuses = [tr.all("td")[0].text() for tr in rows]
    order = {"fail": 0, "pass": 1, "unknown": 2}
    t.eq(statuses, sorted(statuses, key=order.get), "failed, then passed, then undecided")
    named, folded = [], 0
    for tr in rows:
        ids = [c.text() for c in tr.all("td")[1].all("code")]
        named += ids
        if tr.all("td")[0].text() == "unknown":
            folded += 1
            t.eq(tr.all("td")[2].text(), "%d check%s not decided" % (len(ids), "s" * (len(ids) > 1)),
                 "a folded row counts the checks it names")
    t.eq(sorted(named), sorted(c["id"] for c in checks), "every check named once")
    t.check(folded < len(unknown) // 2, "folded: %d rows for %d checks" % (folded, len(unknown)))
    anchors = {c.attrs.get("id") for c in table.all("code") if c.attrs.get("id")} if table else set()
    anchors |= {tr.attrs.get("id") for tr in rows}
    t.eq(len(anchors), len(checks), "every check keeps its anchor")


def main():
    t = Suite()
    t.run(chain_blocks)
    t.run(suites_tables)
    t.run(clients_in_sections)
    t.run(unknown_folding)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
