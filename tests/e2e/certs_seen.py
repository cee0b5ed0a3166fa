"""What a capture shows of certificates and suites, read by tshark and
openssl (never by tlsgrade): the oracle of the reports' certificate and
suites-seen blocks."""
import os
import re
import subprocess
import tempfile
import time


def tshark(args):
    return subprocess.run(["tshark"] + args, capture_output=True, text=True, check=True).stdout


def openssl_fields(der):
    """subject, issuer, SAN, validity, SHA-256, key bits and signature of a
    DER certificate, as openssl prints them (names in RFC 2253 order)."""
    with tempfile.NamedTemporaryFile(suffix=".der") as f:
        f.write(der)
        f.flush()
        out = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", f.name, "-noout",
                              "-subject", "-issuer", "-dates", "-ext", "subjectAltName",
                              "-nameopt", "RFC2253", "-fingerprint", "-sha256"],
                             capture_output=True, text=True, check=True).stdout
        text = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", f.name, "-noout",
                               "-text"], capture_output=True, text=True, check=True).stdout
    fields = {"san": []}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("subject="):
            fields["subject"] = line[len("subject="):]
        elif line.startswith("issuer="):
            fields["issuer"] = line[len("issuer="):]
        elif line.startswith("notBefore=") or line.startswith("notAfter="):
            k, v = line.split("=", 1)
            t = time.strptime(v.replace("  ", " "), "%b %d %H:%M:%S %Y GMT")
            fields[k] = time.strftime("%Y-%m-%d %H:%M:%S", t)
        elif "Fingerprint=" in line:
            fields["sha256"] = line.split("=", 1)[1].replace(":", "").lower()
        elif line.startswith("DNS:"):
            fields["san"] = [x.strip()[4:] for x in line.split(",")
                             if x.strip().startswith("DNS:")]
    fields["bits"] = re.search(r"Public-Key: \((\d+) bit\)", text).group(1)
    fields["sig"] = re.search(r"Signature Algorithm: (\S+)", text).group(1)
    return fields


def sent_chain(pcap, keylog=None):
    """The certificates of the first Certificate message, in the order sent."""
    extra = ["-o", "tls.keylog_file:" + keylog] if keylog else []
    out = tshark(["-r", pcap] + extra + ["-Y", "tls.handshake.type==11", "-T", "fields", "-e",
                                         "tls.handshake.certificate"])
    first = out.splitlines()[0]
    return [bytes.fromhex(h.replace(":", "")) for h in first.split(",")]


def suites_seen(pcap):
    """(sni, server ip, port) -> {suite name: [count, first frame]} from the
    ServerHellos tshark dissects (the SNI of their stream's ClientHello)."""
    sni = {}
    for line in tshark(["-r", pcap, "-Y", "tls.handshake.type==1", "-T", "fields", "-e",
                        "tcp.stream", "-e", "tls.handshake.extensions_server_name"]).splitlines():
        stream, _, name = line.partition("\t")
        sni.setdefault(stream, name or "-")
    names = dict(re.findall(r"Cipher Suite: (\S+) \((0x[0-9a-f]{4})\)",
                            tshark(["-r", pcap, "-Y", "tls.handshake.type==2", "-V", "-O", "tls"])))
    by_hex = {v: k for k, v in names.items()}
    got = {}
    for line in tshark(["-r", pcap, "-Y", "tls.handshake.type==2", "-T", "fields", "-e",
                        "frame.number", "-e", "tls.handshake.ciphersuite", "-e", "tcp.stream",
                        "-e", "ip.src", "-e", "tcp.srcport"]).splitlines():
        frame, suite, stream, ip, port = line.split("\t")
        key = (sni.get(stream, "-"), ip, int(port))
        entry = got.setdefault(key, {}).setdefault(by_hex.get(suite, suite), [0, int(frame)])
        entry[0] += 1
        entry[1] = min(entry[1], int(frame))
    return got
