"""A server that changes its configuration during the capture: both periods
are reported with their own grade and the time of the change.

Crafted capture: the same server (no SNI, 10.7.7.7:443) answers one client
with an RSA-1024 certificate (key_weak: B) and, an hour later, another with
an RSA-2048 one (A); both chains end at the samples' root CA."""
import json
import os
import shutil
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import (Conversation, certificate, client_hello, server_hello, server_hello_done,
                     write_pcap)

TMP = tempfile.mkdtemp(prefix="tlsgrade-change-")
CERTS = os.path.join(TOP, "samples", "certs")
T0 = 1768435200.0  # 2026-01-15 00:00:00 UTC, inside the sample certificates' validity


def der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(CERTS, name), "-outform", "DER"],
                          check=True, capture_output=True).stdout


def connection(cport, t0, leaf):
    conv = Conversation("10.7.7.100", cport, "10.7.7.7", 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(sni=None))
    conv.server_sends(server_hello() + certificate([der(leaf), der("int.pem")]) +
                      server_hello_done())
    return conv.frames


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


def main():
    t = Suite()
    t.run(changed)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
