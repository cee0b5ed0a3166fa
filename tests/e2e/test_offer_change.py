"""A configuration change is the same offer answered differently; the
offer is the whole ClientHello, not its JA3.  Crafted captures of one
server (no SNI, 10.6.6.6:443, samples/certs/a.pem under int.pem).

Expected values from the RFCs and the frames as built here:
- JA3 (Salesforce's definition) is the legacy version, suites, extension
  types, supported_groups and point formats: it leaves out the values of
  supported_versions (RFC 8446 4.2.1), key_share and
  signature_algorithms.  A client offering final TLS 1.3 (0x0304) and one
  offering only draft 28 (0x7f1c) have the same JA3, and a server without
  the draft rightly answers the second in TLS 1.2: no change.
- The same offer (every byte a server chooses by) answered with RC4, then
  an hour later with AES-GCM, is a change.  Each connection here is five
  frames (SYN, SYN-ACK, ACK, ClientHello, the server's flight): the
  answers are frames 5 and 10, which the report cites."""
import json
import os
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, server_hello,
                     server_hello_done, server_key_exchange_ecdhe, write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-offer-")
CERTS = os.path.join(TOP, "samples", "certs")
T0 = 1768435200.0  # 2026-01-15 00:00:00 UTC, inside the sample certificates' validity
X25519 = 0x001d
OFFER = (0x1301, 0xc02f, 0xc011)
SIGS = (0x0804, 0x0401)


def der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def hello(versions):
    return client_hello(sni=None, ciphers=OFFER, groups=(X25519,), sig_algs=SIGS,
                        versions=versions, key_shares=(X25519,))


def tls12(cport, t0, versions, chosen):
    conv = Conversation("10.6.6.100", cport, "10.6.6.6", 443, t0)
    conv.handshake()
    conv.client_sends(hello(versions))
    conv.server_sends(server_hello(cipher=chosen) + certificate([der("a.pem"), der("int.pem")]) +
                      server_key_exchange_ecdhe(X25519) + server_hello_done())
    return conv.frames


def tls13(cport, t0, versions):
    conv = Conversation("10.6.6.100", cport, "10.6.6.6", 443, t0)
    conv.handshake()
    conv.client_sends(hello(versions))
    conv.server_sends(server_hello(cipher=0x1301, selected_version=0x0304, key_share=X25519))
    return conv.frames


def run(t, name, frames, fmt="json"):
    pcap = os.path.join(TMP, name + ".pcap")
    write_pcap(pcap, frames)
    rc, out, err = run_tlsgrade(["--format", fmt, "--no-color", "--ca-file",
                                 os.path.join(CERTS, "root.pem"), pcap])
    t.eq(rc, 0, name + ": exit status: " + err)
    return pcap, out


def handshakes(pcap):
    rc, out, err = run_tlsgrade(["--handshakes", pcap])
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def drafts_are_another_offer(t):
    frames = (tls13(50101, T0, (0x0304, 0x0303)) +
              tls12(50102, T0 + 3600, (0x7f1c, 0x0303), 0xc02f))
    pcap, out = run(t, "drafts", frames)
    hs = handshakes(pcap)
    t.eq(len(hs), 2, "two handshakes")
    if len(hs) == 2:
        t.eq(hs[0].get("ja3"), hs[1].get("ja3"), "the scenario: both hellos have one JA3")
    servers = json.loads(out)["servers"] if out else []
    t.eq(len(servers), 1, "one server")
    change = servers[0].get("configuration_change") if servers else None
    t.check(change is None, "different supported_versions: no change (%r)" % change)


def same_offer_changed(t):
    versions = (0x0304, 0x0303)
    frames = tls12(50111, T0, versions, 0xc011) + tls12(50112, T0 + 3600, versions, 0xc02f)
    pcap, out = run(t, "same", frames)
    servers = json.loads(out)["servers"] if out else []
    change = (servers[0].get("configuration_change") if servers else None) or {}
    t.check("same client offer" in change.get("reason", ""),
            "the same offer got RC4, then AES-GCM: %r" % change)
    t.eq(change.get("frame_before"), pcap + ":5", "the first answer: frame 5")
    t.eq(change.get("frame_after"), pcap + ":10", "the second answer: frame 10")
    pcap, out = run(t, "same", frames, "text")
    t.check("evidence: %s:5 before, %s:10 after" % (pcap, pcap) in " ".join(out.split()),
            "the text report cites both frames (a line wrapped at 80 columns)")
    pcap, out = run(t, "same", frames, "html")
    t.check("<code>%s:5</code> before, <code>%s:10</code> after" % (pcap, pcap) in out,
            "the HTML report cites both frames")


def main():
    t = Suite()
    t.run(drafts_are_another_offer)
    t.run(same_offer_changed)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
