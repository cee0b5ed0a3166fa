"""Inputs: several files, a directory (version order), stdin, and link types.

A capture split into pieces (as tcpdump -C rotates it) must give the same
flows as the whole file: tshark over the whole file is the oracle.
"""
import os
import shutil
import subprocess
import tempfile

from oracle import CORPUS, Suite, match_flows, parse_flow_lines, run_tlsgrade, tshark_flows

TMP = tempfile.mkdtemp(prefix="tlsgrade-src-")
WHOLE = os.path.join(CORPUS, "pcaps", "zeek__tls-expired-cert.pcap")  # 49 frames


def split(n_per_file):
    """Split WHOLE into files named like tcpdump -C: trace, trace1, trace2..."""
    d = tempfile.mkdtemp(dir=TMP)
    subprocess.run(["editcap", "-c", str(n_per_file), WHOLE, os.path.join(d, "piece.pcap")],
                   check=True, capture_output=True)
    pieces = sorted(os.listdir(d))
    names = []
    for i, p in enumerate(pieces):
        name = "trace.pcap" + (str(i) if i else "")
        os.rename(os.path.join(d, p), os.path.join(d, name))
        names.append(os.path.join(d, name))
    return d, names


def same_as_tshark(t, out, what):
    ours, stats = parse_flow_lines(out)
    theirs = tshark_flows(WHOLE)
    pairs, lone, rest = match_flows(ours, theirs)
    t.eq(len(lone) + len(rest), 0, what + ": unmatched flows")
    t.eq(len(pairs), len(theirs), what + ": flow count")
    for f, fl in pairs:
        c, s = fl["endpoints"][f["client"]], fl["endpoints"][f["server"]]
        t.eq(f["stream_bytes"], {"c2s": c["payload"], "s2c": s["payload"]},
             what + " stream_bytes " + f["client"])
        t.eq(f["gaps"], {"c2s": 0, "s2c": 0}, what + " no gaps " + f["client"])
    return stats


def several_files(t):
    d, names = split(4)  # 13 pieces: trace.pcap .. trace.pcap12
    t.check(len(names) > 10, "more than ten pieces")
    rc, out, err = run_tlsgrade(["--flows"] + names)
    t.eq(rc, 0, "exit status: " + err)
    stats = same_as_tshark(t, out, "files")
    t.eq(stats["inputs"], len(names), "inputs")
    t.eq(stats["packets"], 49, "packets")


def directory_in_version_order(t):
    d, names = split(4)
    rc, out, err = run_tlsgrade(["--flows", d])
    t.eq(rc, 0, "exit status: " + err)
    stats = same_as_tshark(t, out, "directory")
    t.eq(stats["inputs"], len(names), "inputs")
    # In plain name order trace.pcap10 would come before trace.pcap2 and the
    # handshake would be cut into gaps; version order keeps it whole.


def stdin_input(t):
    data = open(WHOLE, "rb").read()
    rc, out, err = run_tlsgrade(["--flows", "-"], stdin=data)
    t.eq(rc, 0, "exit status: " + err)
    same_as_tshark(t, out, "stdin")


def link_types(t):
    """One capture per link type in the corpus; the flows test compares them
    all, here we check that each was decoded at all."""
    for name, dlt in (("zeek__pop3-starttls.pcap", "NULL"),
                      ("ndpi__quic-v2.pcapng", "SLL"),
                      ("zeek__openjdk-25.0.2-zeek.org.pcap", "SLL2"),
                      ("suricata__tls-pre-1970.pcap", "RAW"),
                      ("zeek__tls1_1.pcap", "EN10MB")):
        rc, out, err = run_tlsgrade(["--flows", os.path.join(CORPUS, "pcaps", name)])
        flows, stats = parse_flow_lines(out)
        t.eq(rc, 0, dlt + " exit status")
        t.check(stats["ip_packets"] == stats["packets"] and stats["flows"] >= 1,
                "%s: every frame decoded as IP (%r)" % (dlt, stats))


def filter_on_files(t):
    rc, out, err = run_tlsgrade(["--flows", "-f", "tcp port 1", WHOLE])
    flows, stats = parse_flow_lines(out)
    t.eq(rc, 0, "exit status")
    t.eq(stats["packets"], 0, "the filter keeps no packet")


def main():
    t = Suite()
    for fn in (several_files, directory_in_version_order, stdin_input, link_types,
               filter_on_files):
        t.run(fn)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
