"""What the server answered: a ServerHello is evidence only when it answers
a ClientHello of the same connection with a version, suite and key share
that hello offered; a handshake its client aborted may fail checks but
pass none; a server flight without a client side is not graded.

Captures built here (pcapgen.py) of one server, 10.7.7.7:443 (no SNI),
with an RSA-2048 chain (samples/certs/a.pem under int.pem and root.pem).
Expected values from the RFCs and the captures' own construction, not from
tlsgrade:
- RFC 5246 7.4.1.3: the server picks the version (at most the client's),
  one suite and one compression method from the client's lists.
- RFC 8446 4.1.3, 4.2.1: a TLS 1.3 server selects a version from the
  client's supported_versions; a client offering at most TLS 1.2 (no
  supported_versions) that gets TLS 1.3 aborts with protocol_version
  (RFC 8446 4.2.1, D.1); RFC 8446 4.2.8: the server's key share is in a
  group the client sent a share for.
- RFC 5246 7.2: alert level 2 is fatal, description 70 protocol_version,
  47 illegal_parameter, 40 handshake_failure.
- grading-reference.md section 2 and case 12: no_tls13 passes on a TLS 1.3
  ServerHello; RC4 under TLS 1.2 caps at C (rc4_modern)."""
import json
import os
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, record, server_hello,
                     server_hello_done, server_key_exchange_ecdhe, tcp_frame, write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-answered-")
CERTS = os.path.join(TOP, "samples", "certs")
T0 = 1768435200.0  # 2026-01-15 00:00:00 UTC, inside the sample certificates' validity
SERVER = "10.7.7.7"
X25519, P256 = 0x001d, 0x0017
ECDHE_RSA_GCM, RC4_SHA, AES128_GCM_13 = 0xc02f, 0x0005, 0x1301
PROTOCOL_VERSION, ILLEGAL_PARAMETER, HANDSHAKE_FAILURE = 70, 47, 40


def der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def fatal_alert(desc):
    """A clear-text alert record (RFC 5246 7.2): level 2 (fatal), desc."""
    return record(0x15, bytes([2, desc]))


def chain_flight(cipher=ECDHE_RSA_GCM, version=0x0303):
    """ServerHello, Certificate, ServerKeyExchange (ECDHE suites) and
    ServerHelloDone of a TLS 1.2 server."""
    flight = server_hello(cipher=cipher, version=version) + certificate([der("a.pem"),
                                                                         der("int.pem")])
    if cipher == ECDHE_RSA_GCM:
        flight += server_key_exchange_ecdhe(X25519)
    return flight + server_hello_done()


def tls12(cport, t0, offer, chosen, client_alert=None):
    conv = Conversation("10.7.7.100", cport, SERVER, 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(ciphers=offer, groups=(X25519, P256)))
    conv.server_sends(chain_flight(chosen))
    if client_alert is not None:
        conv.client_sends(fatal_alert(client_alert))
    return conv.frames


def tls13(cport, t0, client_versions=(0x0304, 0x0303), offer=(AES128_GCM_13, ECDHE_RSA_GCM),
          client_shares=(X25519,), server_share=X25519, client_alert=None):
    """A TLS 1.3 answer (TLS_AES_128_GCM_SHA256, the rest encrypted); with
    client_versions None the client sends no supported_versions."""
    conv = Conversation("10.7.7.100", cport, SERVER, 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(ciphers=offer, groups=(X25519, P256),
                                   versions=client_versions, key_shares=client_shares))
    conv.server_sends(server_hello(cipher=AES128_GCM_13, selected_version=0x0304,
                                   key_share=server_share))
    if client_alert is not None:
        conv.client_sends(fatal_alert(client_alert))
    return conv.frames


def browser12(cport, t0):
    """A complete-looking TLS 1.2 ECDHE-RSA-GCM handshake (no client alert)."""
    return tls12(cport, t0, (ECDHE_RSA_GCM,), ECDHE_RSA_GCM)


def report(t, name, frames, merged=False):
    """The JSON report and the --handshakes lines of the capture; merged:
    the report of its saved evidence, through tlsgrade merge."""
    pcap = os.path.join(TMP, name + ".pcap")
    write_pcap(pcap, frames)
    evidence = os.path.join(TMP, name + ".evidence.json")
    rc, out, err = run_tlsgrade(["--format", "json", "--save-evidence", evidence, "--ca-file",
                                 os.path.join(CERTS, "root.pem"), pcap])
    if merged:
        rc, out, err = run_tlsgrade(["merge", "--format", "json", evidence])
    t.eq(rc, 0, name + ": exit status: " + err)
    rc, hs, err = run_tlsgrade(["--handshakes", pcap])
    t.eq(rc, 0, name + ": --handshakes exit status: " + err)
    lines = [json.loads(line) for line in hs.splitlines() if line.strip()]
    return (json.loads(out) if out else {}), lines


def server(t, doc, name):
    servers = [s for s in doc.get("servers", []) if s.get("ip") == SERVER]
    t.eq(len(servers), 1, name + ": one server entry for " + SERVER)
    return servers[0] if servers else {}


def status(srv, check_id):
    for c in srv.get("checks", []):
        if c.get("id") == check_id:
            return c.get("status")
    return None


def notices(srv):
    return [(n.get("kind"), n.get("what")) for n in srv.get("notices", [])]


def lone_spoofed_flight(t):
    """One packet 'from' 10.7.7.7:443 carrying a ServerHello and a chain,
    with no SYN and no ClientHello: no server is graded, the address is
    listed unverified."""
    frame = tcp_frame(SERVER, 443, "10.7.7.100", 50000, 7000, 3000, 0x18, chain_flight())
    doc, lines = report(t, "lone", [(T0, frame)])
    t.eq([(s.get("ip"), s.get("grade")) for s in doc.get("servers", [])], [],
         "lone flight: no server graded")
    unverified = doc.get("unverified", [])
    t.eq([(u.get("ip"), u.get("port"), u.get("connections")) for u in unverified],
         [(SERVER, 443, 1)], "lone flight: the address is listed unverified")
    t.eq(doc.get("stats", {}).get("unverified_server_flights"), 1, "lone flight: counted")
    t.eq(len(lines), 1, "lone flight: one --handshakes line")
    t.check(lines and "unverified" in lines[0], "lone flight: --handshakes says unverified")


def version_not_offered(t):
    """A client offering TLS 1.2 only (no supported_versions) gets a TLS 1.3
    ServerHello and aborts with protocol_version."""
    frames = tls13(51000, T0, client_versions=None, offer=(ECDHE_RSA_GCM,), client_shares=None,
                   client_alert=PROTOCOL_VERSION)
    doc, lines = report(t, "tls13-for-tls12", frames)
    s = server(t, doc, "tls13-for-tls12")
    t.check(status(s, "no_tls13") != "pass", "no_tls13 not passed: %r" % status(s, "no_tls13"))
    t.check(not str(s.get("grade", "")).startswith("A"), "not graded A: %r" % s.get("grade"))
    t.eq(notices(s), [("violation", "version not offered by the client")], "the notice")
    t.eq(doc.get("stats", {}).get("protocol_violations"), 1, "counted")
    t.eq([(h.get("violation"), h.get("established")) for h in lines],
         [("version not offered by the client", False)], "--handshakes")


def suite_not_offered(t):
    """A TLS 1.2 client offering ECDHE-RSA-GCM only gets RC4-SHA, next to a
    browser that got ECDHE-RSA-GCM: RC4 was never the server's choice from
    what was offered."""
    frames = browser12(52000, T0) + tls12(52001, T0 + 1, (ECDHE_RSA_GCM,), RC4_SHA)
    doc, lines = report(t, "rc4-not-offered", frames)
    s = server(t, doc, "rc4-not-offered")
    t.check(status(s, "rc4") != "fail", "rc4 not failed: %r" % status(s, "rc4"))
    t.eq(notices(s), [("violation", "cipher suite not offered by the client")], "the notice")
    t.eq(sorted(h.get("violation", "") for h in lines),
         ["", "cipher suite not offered by the client"], "--handshakes")


def key_share_not_offered(t):
    """A TLS 1.3 client sending an x25519 share only gets a secp256r1 share."""
    frames = tls13(53000, T0, client_shares=(X25519,), server_share=P256)
    doc, lines = report(t, "share-not-offered", frames)
    s = server(t, doc, "share-not-offered")
    t.check(status(s, "no_tls13") != "pass", "no_tls13 not passed: %r" % status(s, "no_tls13"))
    t.eq(notices(s), [("violation", "key share group not offered by the client")], "the notice")


def aborted_after_valid_hello(t):
    """A TLS 1.3 client gets a TLS 1.3 ServerHello with what it offered,
    then aborts with illegal_parameter: nothing passes (no_tls13 stays
    unknown, no A).  Next to it, a TLS 1.2 client offering RC4 and
    ECDHE-RSA-GCM gets RC4 and aborts with handshake_failure: the server
    chose RC4 from the offer, so rc4 still fails."""
    frames = tls13(54000, T0, client_alert=ILLEGAL_PARAMETER)
    for merged in (False, True):  # also from saved evidence
        doc, lines = report(t, "aborted13", frames, merged)
        s = server(t, doc, "aborted13")
        t.check(status(s, "no_tls13") != "pass",
                "no_tls13 not passed: %r (merged %s)" % (status(s, "no_tls13"), merged))
        t.check(not str(s.get("grade", "")).startswith("A"),
                "not graded A: %r (merged %s)" % (s.get("grade"), merged))
        t.eq(notices(s), [("aborted", "illegal_parameter")], "the notice")
    t.eq([h.get("aborted_by_client", {}).get("alert") for h in lines], ["illegal_parameter"],
         "--handshakes")
    frames = browser12(54010, T0) + tls12(54011, T0 + 1, (RC4_SHA, ECDHE_RSA_GCM), RC4_SHA,
                                          client_alert=HANDSHAKE_FAILURE)
    doc, _ = report(t, "aborted-rc4", frames)
    s = server(t, doc, "aborted-rc4")
    t.eq(status(s, "rc4_modern"), "fail", "RC4 chosen from the offer fails, though aborted")
    t.eq(s.get("grade"), "C", "RC4 under TLS 1.2 caps at C")


def main():
    t = Suite()
    t.run(lone_spoofed_flight)
    t.run(version_not_offered)
    t.run(suite_not_offered)
    t.run(key_share_not_offered)
    t.run(aborted_after_valid_hello)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
