"""Strings from the wire cannot be turned against the report's reader.

A capture whose SNI and ALPN carry a terminal escape sequence, HTML markup,
control characters and invalid UTF-8 is graded in every format: the
terminal report holds no control character, the HTML page no markup from
the wire, and the JSON is valid UTF-8 with the repair flagged."""
import html.parser
import json
import os
import shutil
import tempfile

from oracle import Suite, run_tlsgrade
from pcapgen import Conversation, client_hello, server_hello, write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-hostile-")
EVIL_SNI = b"\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script>\xff\xfe\x00.example"
EVIL_ALPN = b"\x1b[31mh2<b>"


def capture():
    path = os.path.join(TMP, "hostile.pcap")
    conv = Conversation("10.9.8.7", 51000, "10.9.8.1", 443)
    conv.handshake()
    conv.client_sends(client_hello(sni=EVIL_SNI, alpn=[EVIL_ALPN]))
    conv.server_sends(server_hello())
    write_pcap(path, conv.frames)
    return path


def text(t, pcap):
    rc, out, err = run_tlsgrade(["--no-color", pcap])
    t.eq(rc, 0, "exit status: " + err)
    bad = [c for c in out if ord(c) < 0x20 and c not in "\n"]
    t.eq(bad, [], "no control characters in the terminal report")
    t.check("\\x1b" in out, "the escape is shown as \\x1b")
    t.check("\x9b" not in out, "no C1 CSI")


def html_page(t, pcap):
    page = os.path.join(TMP, "r.html")
    rc, out, err = run_tlsgrade(["--format", "html", "-o", page, pcap])
    t.eq(rc, 0, "exit status: " + err)
    body = open(page, "rb").read().decode("utf-8")  # strict: valid UTF-8
    t.check("<script" not in body.lower(), "no script element from the wire")
    t.check("&lt;script&gt;" in body, "the markup is shown escaped")
    t.check("\x1b" not in body and "\x07" not in body, "no control characters")
    html.parser.HTMLParser().feed(body)


def json_outputs(t, pcap):
    rc, out, err = run_tlsgrade(["--format", "json", pcap])
    t.eq(rc, 0, "exit status: " + err)
    doc = json.loads(out)
    hosts = [s["host"] for s in doc["servers"]]
    t.eq(len(hosts), 1, "one server")
    t.check(hosts and "\ufffd" in hosts[0], "invalid bytes replaced by U+FFFD: %r" % hosts)
    rc, out, err = run_tlsgrade(["--handshakes", pcap])
    raw = out.encode("utf-8", "surrogateescape")
    raw.decode("utf-8")  # strict
    o = json.loads(out.splitlines()[0])
    t.check(o.get("sni_invalid_utf8") is True, "the repair is flagged")
    t.check("\x00" not in o.get("sni", ""), "no NUL in the name")
    t.eq(o.get("client_alpn"), ["\x1b[31mh2<b>"], "ALPN kept as sent, escaped by JSON itself")


def main():
    t = Suite()
    pcap = capture()
    for fn in (text, html_page, json_outputs):
        t.run(fn, pcap)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
