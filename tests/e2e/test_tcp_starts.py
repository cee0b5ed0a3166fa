"""Several SYNs or SYN-ACKs with different initial sequence numbers
(issue 15): a middlebox, a load balancer or a SYN-cookie retry answers
first, the server's real SYN-ACK follows, and the data follows the real
one.  The stream must start where the peer's acknowledgment (or, without
one, the data) says, never where a SYN nobody confirmed said.  Captures
are built here (RFC 9293 3.4: a SYN takes one sequence number); tshark
(with its sequence analysis off) is the oracle that each holds the TLS
hellos in the frames named."""
import json
import os
import subprocess
import tempfile

from oracle import Suite, run_tlsgrade
from pcapgen import Conversation, client_hello, server_hello, tcp_frame, write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-starts-")
C, S = ("10.0.0.1", 40000), ("10.0.0.2", 443)
SYN, ACK, PSH = 0x02, 0x10, 0x08


def frames_of(steps):
    """steps: (from_client, seq, ack, flags, payload); frames 1 ms apart."""
    out = []
    for i, (from_client, seq, ack, flags, payload) in enumerate(steps):
        src, dst = (C, S) if from_client else (S, C)
        out.append((1700000000 + i / 1000,
                    tcp_frame(src[0], src[1], dst[0], dst[1], seq, ack, flags, payload)))
    return out


CH = client_hello(sni=b"starts.example.test")
SH_GOOD = server_hello(cipher=0xc02f)  # TLS 1.2, ECDHE-RSA-AES128-GCM
SH_FORGED = server_hello(cipher=0x0005, version=0x0300)  # SSL 3.0, RC4-SHA


def capture(name, steps):
    path = os.path.join(TMP, name)
    write_pcap(path, frames_of(steps))
    return path


def tshark_hellos(pcap):
    # tshark's own sequence analysis makes the data after the second
    # SYN-ACK a "retransmission" and drops it; without it tshark reads each
    # frame's bytes as they are, which is what the oracle needs here.
    out = subprocess.run(["tshark", "-r", pcap, "-o", "tcp.analyze_sequence_numbers:FALSE",
                          "-T", "fields", "-e", "frame.number", "-e",
                          "tls.handshake.type", "-e", "tls.handshake.ciphersuite"],
                         capture_output=True, text=True, check=True).stdout
    return {int(f): (t, c) for f, t, c in (line.split("\t") for line in out.splitlines()) if t}


def server_hello_of(t, pcap):
    rc, out, err = run_tlsgrade(["--handshakes", pcap])
    t.eq(rc, 0, "exit status: " + err)
    lines = [json.loads(x) for x in out.splitlines()]
    t.eq(len(lines), 1, "one connection")
    hs = lines[0] if lines else {}
    return hs.get("frames", {}).get("server_hello"), hs.get("cipher_id"), hs.get("version")


def second_synack_real(t):
    """SYN-ACK with ISN 900000 (a middlebox), then the server's with 5000;
    the client acknowledges 5001 and the ServerHello comes at 5001."""
    pcap = capture("second-real.pcap", [
        (True, 1000, 0, SYN, b""),
        (False, 900000, 1001, SYN | ACK, b""),
        (False, 5000, 1001, SYN | ACK, b""),
        (True, 1001, 5001, ACK, b""),
        (True, 1001, 5001, PSH | ACK, CH),
        (False, 5001, 1001 + len(CH), PSH | ACK, SH_GOOD),
    ])
    t.eq(tshark_hellos(pcap).get(6), ("2", "0xc02f"), "tshark: the ServerHello in frame 6")
    t.eq(server_hello_of(t, pcap), (6, 0xc02f, "TLSv1.2"), "the ServerHello of frame 6")


def data_decides(t):
    """Without the client's acknowledgment in the capture (one direction
    of it lost), the server's data lands on the second SYN-ACK's start."""
    pcap = capture("data-decides.pcap", [
        (True, 1000, 0, SYN, b""),
        (False, 900000, 1001, SYN | ACK, b""),
        (False, 5000, 1001, SYN | ACK, b""),
        (True, 1001, 0, PSH, CH),
        (False, 5001, 1001 + len(CH), PSH | ACK, SH_GOOD),
    ])
    t.eq(tshark_hellos(pcap).get(5), ("2", "0xc02f"), "tshark: the ServerHello in frame 5")
    t.eq(server_hello_of(t, pcap), (5, 0xc02f, "TLSv1.2"), "the ServerHello of frame 5")


def client_retried_syn(t):
    """The client retries its SYN with a new ISN (77777); the SYN-ACK
    acknowledges the second, and the ClientHello follows it."""
    pcap = capture("client-retry.pcap", [
        (True, 1000, 0, SYN, b""),
        (True, 77777, 0, SYN, b""),
        (False, 5000, 77778, SYN | ACK, b""),
        (True, 77778, 5001, ACK, b""),
        (True, 77778, 5001, PSH | ACK, CH),
        (False, 5001, 77778 + len(CH), PSH | ACK, SH_GOOD),
    ])
    hellos = tshark_hellos(pcap)
    t.eq((hellos.get(5, ("",))[0], hellos.get(6, ("",))[0]), ("1", "2"), "tshark: both hellos")
    rc, out, err = run_tlsgrade(["--handshakes", pcap])
    hs = json.loads(out.splitlines()[0]) if out.strip() else {}
    t.eq(hs.get("frames"), {"client_hello": 5, "server_hello": 6}, "both hellos: " + err)


def confirmed_start_holds(t):
    """Soundness: the client acknowledged the real SYN-ACK (5001); a SYN-ACK
    with another ISN after it, and an SSL 3.0 ServerHello at that ISN, are
    not the server's: the real ServerHello is graded, the forged one is not."""
    pcap = capture("forged-start.pcap", [
        (True, 1000, 0, SYN, b""),
        (False, 5000, 1001, SYN | ACK, b""),
        (True, 1001, 5001, ACK, b""),
        (False, 700000, 1001, SYN | ACK, b""),
        (True, 1001, 5001, PSH | ACK, CH),
        (False, 700001, 1001 + len(CH), PSH | ACK, SH_FORGED),
        (False, 5001, 1001 + len(CH), PSH | ACK, SH_GOOD),
    ])
    t.eq(server_hello_of(t, pcap), (7, 0xc02f, "TLSv1.2"), "the real ServerHello (frame 7)")


def main():
    t = Suite()
    t.run(second_synack_real)
    t.run(data_decides)
    t.run(client_retried_syn)
    t.run(confirmed_start_holds)
    t.done()


main()
