"""Whose order decides, and what an offer proves: crafted TLS 1.2 and 1.3
handshakes of one server (no SNI, 10.9.9.9:443) with an RSA-2048
certificate (samples/certs/a.pem under int.pem and root.pem).

Expected values from the RFCs, not from tlsgrade:
- RFC 5246 7.4.1.2: a client lists its suites in its order of preference;
  a server may follow it.  A server that gives each client the client's
  first suite it can use has passed nothing over.
- RFC 8422 2.1: ECDHE_ECDSA suites need an ECDSA certificate; an RSA
  certificate cannot serve TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.
- RFC 8446 B.4: TLS_AES_128_GCM_SHA256 is TLS 1.3's, the TLS 1.2 suites are
  not TLS 1.3's: under TLS 1.3 a TLS 1.2 suite was never a choice.
- grading-reference.md section 2: no_fs and no_aead cap at B; a server
  with TLS 1.2 and 1.3, ECDHE+GCM for browsers, an RSA-2048 chain and no
  other failure is A."""
import json
import os
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, server_hello,
                     server_hello_done, server_key_exchange_ecdhe, write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-order-")
CERTS = os.path.join(TOP, "samples", "certs")
T0 = 1768435200.0  # 2026-01-15 00:00:00 UTC, inside the sample certificates' validity
X25519, P256 = 0x001d, 0x0017
ECDHE_RSA_GCM, ECDHE_ECDSA_GCM, ECDHE_RSA_CBC, RSA_CBC = 0xc02f, 0xc02b, 0xc013, 0x002f
AES128_GCM_13 = 0x1301


def der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def tls12(cport, t0, offer, chosen, groups=(X25519, P256)):
    """A TLS 1.2 handshake; an ECDHE choice is made over the client's
    first group."""
    conv = Conversation("10.9.9.100", cport, "10.9.9.9", 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(sni=None, ciphers=offer, groups=groups))
    answer = server_hello(cipher=chosen) + certificate([der("a.pem"), der("int.pem")])
    if chosen in (ECDHE_RSA_GCM, ECDHE_RSA_CBC):
        answer += server_key_exchange_ecdhe(groups[0])
    conv.server_sends(answer + server_hello_done())
    return conv.frames


def tls13(cport, t0, offer):
    """A TLS 1.3 handshake answered with TLS_AES_128_GCM_SHA256 over x25519
    (the rest is encrypted)."""
    conv = Conversation("10.9.9.100", cport, "10.9.9.9", 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(sni=None, ciphers=offer, groups=(X25519,),
                                   versions=(0x0304, 0x0303), key_shares=(X25519,)))
    conv.server_sends(server_hello(cipher=AES128_GCM_13, selected_version=0x0304,
                                   key_share=X25519))
    return conv.frames


def browsers(port):
    """Browsers preferring ECDHE+GCM get it, under TLS 1.3 and 1.2."""
    return (tls13(port, T0, (AES128_GCM_13, ECDHE_RSA_GCM)) +
            tls12(port + 1, T0 + 1, (ECDHE_RSA_GCM, ECDHE_RSA_CBC, RSA_CBC), ECDHE_RSA_GCM))


def graded(t, name, frames):
    pcap = os.path.join(TMP, name + ".pcap")
    write_pcap(pcap, frames)
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file",
                                 os.path.join(CERTS, "root.pem"), pcap])
    t.eq(rc, 0, name + ": exit status: " + err)
    servers = json.loads(out)["servers"] if rc == 0 else []
    t.eq(len(servers), 1, name + ": one server")
    return servers[0] if servers else {}


def status(server, check_id):
    for c in server.get("checks", []):
        if c.get("id") == check_id:
            return c.get("status")
    return None


def scanners_first_choice(t):
    """20 scanners list TLS_RSA_WITH_AES_128_CBC_SHA first and get it."""
    frames = browsers(51000)
    for i in range(20):
        frames += tls12(51010 + i, T0 + 10 + i, (RSA_CBC, ECDHE_RSA_GCM, ECDHE_RSA_CBC), RSA_CBC)
    s = graded(t, "scanners", frames)
    t.check(status(s, "no_fs") == "pass", "no_fs: the browsers got ECDHE: %r" % status(s, "no_fs"))
    t.check(status(s, "no_aead") == "pass", "no_aead: %r" % status(s, "no_aead"))
    t.eq(s.get("grade"), "A", "client order honoured: nothing passed over")


def unusable_offer(t):
    """A client offering only ECDHE-ECDSA-GCM (useless with an RSA key) and
    AES128-SHA gets AES128-SHA."""
    frames = browsers(52000) + tls12(52010, T0 + 10, (ECDHE_ECDSA_GCM, RSA_CBC), RSA_CBC)
    s = graded(t, "ecdsa", frames)
    t.check(status(s, "no_fs") == "pass", "no_fs: %r" % status(s, "no_fs"))
    t.check(status(s, "no_aead") == "pass", "no_aead: %r" % status(s, "no_aead"))
    t.eq(s.get("grade"), "A", "an offer the RSA certificate cannot serve is not refused")


def passed_over_usable(t):
    """The control: a client listing ECDHE-RSA-GCM first over x25519 gets
    AES128-SHA, from a server seen doing ECDHE over x25519: FS and AEAD
    passed over (B)."""
    frames = browsers(53000) + tls12(53010, T0 + 10, (ECDHE_RSA_GCM, RSA_CBC), RSA_CBC)
    s = graded(t, "passed-over", frames)
    t.eq(status(s, "no_fs"), "fail", "no_fs: a usable ECDHE suite listed first was passed over")
    t.eq(status(s, "no_aead"), "fail", "no_aead: a usable GCM suite listed first was passed over")
    t.eq(s.get("grade"), "B", "no_fs and no_aead cap at B")


def other_version_suite(t):
    """TLS 1.3 chosen for a client whose first suite is TLS 1.2's
    (ECDHE-RSA-GCM), a suite the server negotiates under TLS 1.2 with other
    clients: nothing shows the server's order."""
    frames = (tls13(54000, T0, (ECDHE_RSA_GCM, AES128_GCM_13)) +
              tls12(54001, T0 + 1, (ECDHE_RSA_GCM, RSA_CBC), ECDHE_RSA_GCM))
    s = graded(t, "tls13-first", frames)
    t.check(status(s, "server_preference") != "pass",
            "server_preference: a TLS 1.2 suite passed over under TLS 1.3 proves nothing: %r"
            % status(s, "server_preference"))


def main():
    t = Suite()
    t.run(scanners_first_choice)
    t.run(unusable_offer)
    t.run(passed_over_usable)
    t.run(other_version_suite)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
