"""A handshake split by the flow table's eviction (the recorded case).

With room for one flow (--limit flows=1), a client sends its ClientHello
(SNI www.example.com), another connection's SYN evicts that flow, then the
server's answer comes: a ServerHello and a certificate for a.example.test
only (samples/certs/a.pem, SAN read with openssl below), which would be a
name mismatch (M).  Built here, so what is expected comes from the
construction: one handshake was cut by eviction before its answer.

The evicted flow must be reported "evicted before the answer" and counted,
never "never answered" (its endpoint, seen only in a ClientHello, is folded
into "hello_only" with its evicted connection); the server's half, a flow without the connection's
beginning, must never become an endpoint of its own (an anonymous one
graded A)."""
import json
import os
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, server_hello, server_hello_done,
                     server_key_exchange_ecdhe, write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-evict-")
CERTS = os.path.join(TOP, "samples", "certs")
T0 = 1768435200.0  # 2026-01-15, inside the sample certificates' validity
SNI = "www.example.com"


def der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def san_of(name):
    out = subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-noout", "-ext",
                          "subjectAltName"], check=True, capture_output=True, text=True).stdout
    return [p.strip()[4:] for p in out.splitlines()[1].split(",") if p.strip().startswith("DNS:")]


def split_capture():
    a = Conversation("10.7.7.100", 51000, "10.7.7.7", 443, T0)
    a.handshake()
    a.client_sends(client_hello(sni=SNI.encode(), ciphers=(0xc02f,), groups=(0x001d,)))
    before = list(a.frames)
    b = Conversation("10.7.7.101", 52000, "10.7.7.8", 443, a.t + 0.0005)
    b.handshake()
    syn = b.frames[0]  # another connection: the table is full, A's flow is evicted
    a.t = syn[0]
    a.server_sends(server_hello(cipher=0xc02f) + certificate([der("a.pem"), der("int.pem")]) +
                   server_key_exchange_ecdhe(0x001d) + server_hello_done())
    return before + [syn] + a.frames[len(before):]


def report(t, pcap):
    rc, out, err = run_tlsgrade(["--format", "json", "--limit", "flows=1", "--ca-file",
                                 os.path.join(CERTS, "root.pem"), pcap])
    t.eq(rc, 0, "exit status: " + err)
    return json.loads(out) if rc == 0 else {}


def evicted_before_the_answer(t):
    t.check(SNI not in san_of("a.pem"), "the certificate does not cover the SNI (a mismatch)")
    pcap = os.path.join(TMP, "split.pcap")
    write_pcap(pcap, split_capture())
    r = report(t, pcap)
    servers = r.get("servers", [])
    text = json.dumps(servers)
    t.check("never answered" not in text, "no 'never answered': %s" % text[:300])
    # Seen only in its ClientHello: folded with the other hello-only
    # endpoints, its connection counted as evicted before the answer.
    hello = r.get("hello_only", {})
    named = [e for e in hello.get("most_seen", []) if e.get("host") == SNI]
    if t.eq(len(named), 1, "the endpoint of the ClientHello, folded"):
        t.eq((named[0].get("connections"), named[0].get("evicted")), (1, 1),
             "its one connection, evicted before the answer")
    t.eq(hello.get("evicted_connections"), 1, "one evicted connection in the fold")
    t.eq([s.get("host") for s in servers], [], "nothing graded or listed from half a connection")
    graded = [(s.get("host"), s.get("grade")) for s in servers
              if s.get("grade") not in (None, "-")]
    t.eq(graded, [], "no endpoint graded from half a connection")
    t.eq([s.get("host") for s in servers if s.get("host") != SNI], [], "no anonymous endpoint")
    stats = r.get("stats", {})
    t.eq(stats.get("handshakes_evicted"), 1, "one handshake cut by eviction, counted")
    t.eq(stats.get("evicted_continuations"), 1, "the server's half is counted, not read")


def handshakes_line(t):
    pcap = os.path.join(TMP, "split.pcap")
    write_pcap(pcap, split_capture())
    rc, out, err = run_tlsgrade(["--handshakes", "--limit", "flows=1", pcap])
    t.eq(rc, 0, "exit status: " + err)
    lines = [json.loads(l) for l in out.splitlines()]
    t.eq(len(lines), 1, "one connection: the server's half is no connection of its own")
    if lines:
        t.eq(lines[0].get("sni"), SNI, "the ClientHello's connection")
        t.eq(lines[0].get("evicted"), True, "marked evicted")
        t.eq(lines[0].get("version"), None, "no ServerHello read on it")


def remembered_and_counted(t):
    """The evicted flows remembered for their rest are a counted cap: with
    room for none (--limit evicted-flows=0) the one evicted flow with
    payload is a hit; with the default it is none."""
    pcap = os.path.join(TMP, "split.pcap")
    write_pcap(pcap, split_capture())
    for extra, hits in (([], 0), (["--limit", "evicted-flows=0"], 1)):
        rc, out, err = run_tlsgrade(["--format", "json", "--limit", "flows=1"] + extra + [pcap])
        t.eq(rc, 0, "exit status: " + err)
        row = json.loads(out).get("limits", {}).get("evicted_flows_remembered", {}) if rc == 0 else {}
        t.eq(row.get("hits"), hits, "%s: evicted flows forgotten" % (extra or "default"))


def whole_without_eviction(t):
    """The control: the same packets with room for both flows give the
    mismatch (M) the certificate proves."""
    pcap = os.path.join(TMP, "split.pcap")
    write_pcap(pcap, split_capture())
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file",
                                 os.path.join(CERTS, "root.pem"), pcap])
    t.eq(rc, 0, "exit status: " + err)
    servers = json.loads(out).get("servers", []) if rc == 0 else []
    t.eq([(s.get("host"), s.get("grade")) for s in servers], [(SNI, "M")], "graded M")


def main():
    t = Suite()
    t.run(evicted_before_the_answer)
    t.run(handshakes_line)
    t.run(remembered_and_counted)
    t.run(whole_without_eviction)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
