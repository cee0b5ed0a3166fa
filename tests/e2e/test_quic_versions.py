"""Google QUIC versions in captures of 2020-2022 browsers (issue 15):
T050 and T051 carry TLS 1.3 in Google QUIC frames behind Initial
protection of their own; Q050 carries Google's own crypto handshake (a
CHLO), which has no TLS to grade.  The datagrams are tests/data/quic/
gquic-*.udp (made by make-gquic.c); tshark is the oracle of what they
hold: the version, and the ClientHello's SNI and suites and the
ServerHello's suite for T050/T051, the CHLO tag for Q050."""
import json
import os
import subprocess
import tempfile

from oracle import TOP, Suite, run_tlsgrade
from pcapgen import udp_frame, write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-quic-versions-")


def capture(name):
    """The datagrams of NAME.udp between 10.0.0.1:50000 (dir 0, the client)
    and 10.0.0.2:443."""
    frames = []
    with open(os.path.join(TOP, "tests", "data", "quic", name + ".udp")) as f:
        for line in f:
            frame, d, payload = line.split()
            ends = [("10.0.0.1", 50000), ("10.0.0.2", 443)]
            src, dst = (ends[0], ends[1]) if d == "0" else (ends[1], ends[0])
            frames.append((1700000000 + int(frame) / 100, udp_frame(src[0], src[1], dst[0], dst[1],
                                                                    bytes.fromhex(payload))))
    path = os.path.join(TMP, name + ".pcap")
    write_pcap(path, frames)
    return path


def tshark(pcap, *fields):
    args = ["tshark", "-r", pcap, "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def tls_version(t, name, version_tag):
    pcap = capture(name)
    rows = tshark(pcap, "quic.version", "tls.handshake.type", "tls.handshake.extensions_server_name",
                  "tls.handshake.ciphersuite")
    t.eq(rows[0][0], "0x%08x" % int.from_bytes(version_tag.encode(), "big"), "tshark: the version")
    t.eq(rows[0][1], "1", "tshark: a ClientHello in the client's Initial")
    t.eq(rows[1][1], "2", "tshark: a ServerHello in the server's Initial")
    rc, out, err = run_tlsgrade(["--handshakes", pcap])
    t.eq(rc, 0, "exit status: " + err)
    lines = [json.loads(x) for x in out.splitlines()]
    t.eq(len(lines), 1, "one QUIC connection")
    hs = lines[0] if lines else {}
    t.eq(hs.get("quic"), True, "read as QUIC")
    t.eq(hs.get("quic_version"), version_tag, "the version named")
    t.eq(hs.get("sni"), rows[0][2], "the SNI tshark reads")
    t.eq(",".join("0x%04x" % c for c in hs.get("client_ciphers", [])), rows[0][3],
         "the offered suites tshark reads")
    t.eq("0x%04x" % hs.get("cipher_id", 0), rows[1][3], "the chosen suite tshark reads")
    t.eq(hs.get("frames"), {"client_hello": 1, "server_hello": 2}, "the hellos' frames")
    t.check("quic_unsupported_version" not in hs, "a version whose TLS is read")


def unsupported(t):
    pcap = capture("gquic-q050")
    rows = tshark(pcap, "quic.version", "gquic.tag", "tls.handshake.type")
    t.eq(rows[0][:2], ["0x51303530", "CHLO"], "tshark: Q050 carrying a CHLO, not TLS")
    t.eq(rows[0][2], "", "tshark: no TLS handshake")
    rc, out, err = run_tlsgrade(["--format", "json", pcap])
    t.eq(rc, 0, "exit status: " + err)
    t.eq(json.loads(out)["stats"].get("quic_unsupported_version"), 1, "counted in stats")
    t.check("Google version that carries no TLS" in err, "said on stderr: " + err)


def main():
    t = Suite()
    t.run(tls_version, "gquic-t050", "T050")
    t.run(tls_version, "gquic-t051", "T051")
    t.run(unsupported)
    t.done()


main()
