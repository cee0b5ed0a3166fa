"""A server that changes its configuration during the capture: both periods
are reported with their own grade and the time of the change.

Crafted captures, the same server (no SNI, 10.7.7.7:443) each time, chains
ending at the samples' root CA:
- it answers one client with an RSA-1024 certificate (key_weak: B) and, an
  hour later, another with an RSA-2048 one (A);
- a client offering ECDHE-RSA-RC4-SHA and ECDHE-RSA-AES128-GCM-SHA256 gets
  RC4 under TLS 1.2, and an hour later the same offer gets AES-GCM (RC4
  turned off).  Before: RC4 chosen although the client offered AES, the
  reference's rc4_only inference (F); after: A; over the whole capture
  RC4 with TLS 1.2 caps at C (rc4_modern, grading-reference.md section 2);
- a server preferring AES-GCM that gives RC4 to a client offering only RC4
  has not changed: different offers, no change reported;
- it refuses a client offering at most TLS 1.0 with a protocol_version
  alert, and an hour later gives such a client TLS 1.0 (tls10_11: B)."""
import json
import os
import re
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, record, server_hello,
                     server_hello_done, write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-change-")
CERTS = os.path.join(TOP, "samples", "certs")
T0 = 1768435200.0  # 2026-01-15 00:00:00 UTC, inside the sample certificates' validity


def der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def connection(cport, t0, leaf, offer=(0xc02f,), chosen=0xc02f, version=0x0303):
    conv = Conversation("10.7.7.100", cport, "10.7.7.7", 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(sni=None, ciphers=offer, version=version))
    conv.server_sends(server_hello(cipher=chosen, version=version) +
                      certificate([der(leaf), der("int.pem")]) + server_hello_done())
    return conv.frames


def refusal(cport, t0, version):
    """A hello offering at most `version`, answered by alert 70 (RFC 5246 7.2)."""
    conv = Conversation("10.7.7.100", cport, "10.7.7.7", 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(sni=None, ciphers=(0xc013,), version=version))
    conv.server_sends(record(0x15, b"\x02\x46", version))
    return conv.frames


def graded(t, name, frames):
    pcap = os.path.join(TMP, name + ".pcap")
    write_pcap(pcap, frames)
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file",
                                 os.path.join(CERTS, "root.pem"), pcap])
    t.eq(rc, 0, name + ": exit status: " + err)
    servers = json.loads(out)["servers"] if rc == 0 else []
    t.eq(len(servers), 1, name + ": one server")
    return servers[0] if servers else {}


def rc4_disabled(t):
    both = (0xc011, 0xc02f)
    s = graded(t, "rc4", connection(50011, T0, "a.pem", offer=both, chosen=0xc011) +
               connection(50012, T0 + 3600, "a.pem", offer=both, chosen=0xc02f))
    change = s.get("configuration_change") or {}
    t.eq(change.get("at"), "2026-01-15T01:00:00.005000Z", "RC4: when the same offer got AES-GCM")
    t.eq(change.get("grade_before"), "F", "RC4 despite AES offered: rc4_only (F)")
    t.eq(change.get("grade_after"), "A", "AES-GCM afterwards")
    t.check("same client offer" in change.get("reason", ""),
            "RC4: the reason says the same offer: %r" % change.get("reason"))
    t.eq(s.get("grade"), "C", "RC4: over the whole capture RC4 with TLS 1.2 caps at C")


def preference_is_no_change(t):
    s = graded(t, "pref", connection(50031, T0, "a.pem", offer=(0xc011,), chosen=0xc011) +
               connection(50032, T0 + 3600, "a.pem", offer=(0xc011, 0xc02f), chosen=0xc02f))
    t.check("configuration_change" not in s,
            "different offers answered differently: no change (%r)" % s.get("configuration_change"))


def tls10_enabled(t):
    s = graded(t, "tls10", refusal(50021, T0, 0x0301) +
               connection(50022, T0 + 3600, "a.pem", offer=(0xc013,), chosen=0xc013,
                          version=0x0301))
    change = s.get("configuration_change") or {}
    t.eq(change.get("at"), "2026-01-15T01:00:00.005000Z", "TLS 1.0: when it was first accepted")
    t.eq(change.get("grade_before"), "-", "TLS 1.0: before, only a refusal: no ServerHello, no grade")
    t.eq(change.get("grade_after"), "B", "TLS 1.0 accepted: tls10_11 caps at B")
    t.check("refused before was accepted" in change.get("reason", ""),
            "TLS 1.0: the reason says it was turned on: %r" % change.get("reason"))


def changed(t):
    pcap = os.path.join(TMP, "change.pcap")
    write_pcap(pcap, connection(50001, T0, "rsa1024.pem") + connection(50002, T0 + 3600, "a.pem"))
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file",
                                 os.path.join(CERTS, "root.pem"), pcap])
    t.eq(rc, 0, "exit status: " + err)
    servers = json.loads(out)["servers"]
    t.eq(len(servers), 1, "one server")
    s = servers[0]
    change = s.get("configuration_change")
    t.check(change is not None, "the change is reported")
    if change:
        t.eq(change["at"], "2026-01-15T01:00:00.005000Z", "when: the frame of the new certificate (SYN, SYN-ACK, ACK, hello, then +0.005 s)")
        t.eq(change["grade_before"], "B", "RSA-1024 period: key_weak caps at B")
        t.eq(change["grade_after"], "A", "RSA-2048 period")
    t.eq(s["grade"], "B", "over the whole capture the weakest configuration counts")
    rc, out, err = run_tlsgrade(["--no-color", "--ca-file", os.path.join(CERTS, "root.pem"), pcap])
    t.check("configuration changed at 2026-01-15T01:00:00.005000Z" in out, "text report says when")
    rc, out, err = run_tlsgrade(["--format", "html", "--ca-file", os.path.join(CERTS, "root.pem"),
                                 pcap])
    t.check(re.search(r"Configuration changed</strong> at <time>2026-01-15T01:00:00\.005000Z</time>"
                      r".*grade <span[^>]*>B</span> before, <span[^>]*>A</span> after", out)
            is not None, "HTML report says when, and both grades")


def main():
    t = Suite()
    t.run(changed)
    t.run(rc4_disabled)
    t.run(preference_is_no_change)
    t.run(tls10_enabled)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
