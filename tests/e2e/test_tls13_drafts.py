"""TLS 1.3 drafts (issue 15), still in old captures and embedded stacks:
before draft 22 the ServerHello names the draft in its version field and
has no session id and no compression byte (draft-ietf-tls-tls13-21 4.1.3;
-18 is what browsers shipped in 2017); from -22 on it has the final layout
and names the draft in supported_versions.  The hellos are built here;
tshark decodes both as the draft says, and tlsgrade must read the same
suite and name the draft."""
import json
import os
import struct
import subprocess
import tempfile

from oracle import Suite, run_tlsgrade
from pcapgen import (Conversation, _vec, client_hello, handshake, record, server_hello,
                     write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-drafts-")


def early_draft_server_hello(draft, cipher=0x1301, group=0x001d):
    """version = 0x7f00 | draft, random, cipher_suite, extensions: only
    key_share, in the code point drafts before -23 used (40), a 32-byte
    x25519 share."""
    share = struct.pack("!H", group) + _vec(2, bytes(32))
    exts = struct.pack("!H", 40) + _vec(2, share)
    body = struct.pack("!H", 0x7f00 | draft) + bytes(range(32)) + struct.pack("!H", cipher) + \
        _vec(2, exts)
    return record(0x16, handshake(2, body))


def capture(name, ch, sh):
    conv = Conversation("10.0.0.1", 40000, "10.0.0.2", 443)
    conv.handshake()
    conv.client_sends(ch)
    conv.server_sends(sh)
    path = os.path.join(TMP, name)
    write_pcap(path, conv.frames)
    return path


def tshark_server_hello(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "tls.handshake.type == 2", "-T", "fields",
                          "-e", "tls.handshake.version", "-e", "tls.handshake.ciphersuite",
                          "-e", "_ws.expert.message"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def handshake_of(t, pcap):
    rc, out, err = run_tlsgrade(["--handshakes", pcap])
    t.eq(rc, 0, "exit status: " + err)
    lines = [json.loads(x) for x in out.splitlines()]
    t.eq(len(lines), 1, "one connection")
    return lines[0] if lines else {}


def early_draft(t, draft):
    ch = client_hello(sni=b"draft.example.test", ciphers=(0x1301, 0x1302), groups=(0x001d,),
                      versions=(0x7f00 | draft,))
    pcap = capture("draft%d.pcap" % draft, ch, early_draft_server_hello(draft))
    rows = tshark_server_hello(pcap)
    t.eq([r[:2] for r in rows], [["0x7f%02x" % draft, "0x1301"]],
         "tshark: the draft's ServerHello, TLS_AES_128_GCM_SHA256")
    hs = handshake_of(t, pcap)
    t.eq(hs.get("version"), "TLSv1.3-draft%d" % draft, "the draft named")
    t.eq(hs.get("cipher"), "TLS_AES_128_GCM_SHA256", "the suite as tshark reads it")
    t.eq(hs.get("client_versions"), ["TLSv1.3-draft%d" % draft], "the client's draft named")
    t.check("malformed" not in hs, "not malformed: %r" % hs.get("malformed"))
    t.check("violation" not in hs, "the draft was offered: %r" % hs.get("violation"))


def late_draft(t):
    """Draft 23: final layout, the draft in supported_versions."""
    ch = client_hello(sni=b"draft.example.test", ciphers=(0x1301,), groups=(0x001d,),
                      versions=(0x7f17,), key_shares=(0x001d,))
    sh = server_hello(cipher=0x1301, selected_version=0x7f17, key_share=0x001d)
    pcap = capture("draft23.pcap", ch, sh)
    hs = handshake_of(t, pcap)
    t.eq(hs.get("version"), "TLSv1.3-draft23", "draft 23 named")
    t.eq(hs.get("cipher_id"), 0x1301, "its suite")
    t.check("malformed" not in hs, "not malformed")


def main():
    t = Suite()
    t.run(early_draft, 18)
    t.run(early_draft, 14)
    t.run(early_draft, 21)
    t.run(late_draft)
    t.done()


main()
