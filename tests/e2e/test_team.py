"""-j N on a large classic pcap file: the readers share it out by byte
ranges (capture/team.c, "a pcap file shared out by byte ranges").  Each reader guesses where its range's first record starts; a
wrong guess must be caught and the range walked again.  Whatever happens,
the answers are one thread's: the same flows (with their end reasons:
time only goes forward here), handshakes, graded servers, totals, warnings
and exit status.

The captures are made here from a sample: its records repeated, moved
forward in time, to about 7 MB (three segments of 2 MB and more); then a record
planted across the first guessed boundary whose payload is itself a chain
of well-formed record headers; then cuts and a bad record length in the
second segment."""
import json
import os
import shutil
import struct
import tempfile

from oracle import TOP, Suite, run_tlsgrade

SAMPLE = os.path.join(TOP, "samples", "demo-cloud-consoles.pcap")
CA = ["--ca-file", os.path.join(TOP, "samples", "certs", "root.pem")]
TMP = tempfile.mkdtemp(prefix="tlsgrade-team-")
SEGMENT = 2 << 20  # capture/team.c
HDR = struct.Struct("<IIII")


def sample_records():
    data = open(SAMPLE, "rb").read()
    head, recs, off = data[:24], [], 24
    while off < len(data):
        sec, usec, incl, orig = HDR.unpack_from(data, off)
        recs.append([sec, usec, data[off + 16:off + 16 + incl], orig])
        off += 16 + incl
    return head, recs


def udp_frame(payload, sport=5353, dport=9999):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 0, 0, 64, 17, 0,
                     bytes([10, 9, 9, 1]), bytes([10, 9, 9, 2]))
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp + payload


def big_capture(trap=False):
    """The sample's records again and again, each copy 1000 s later, to
    three and a half segments.  trap: a UDP record across the first guessed
    boundary (24 + half a segment for two readers) holding fake records
    right after it."""
    head, recs = sample_records()
    out = bytearray(head)
    guess = 24 + SEGMENT // 2
    copy = 0
    while len(out) < 3 * SEGMENT + SEGMENT // 2:
        for sec, usec, data, orig in recs:
            # the fake chain (12 records of 76 bytes) fits after the guess
            if trap and 0 < guess - (len(out) + 16 + 42) <= 60000 - 42 - 12 * 76:
                fake = b""
                for i in range(12):  # a chain of well-formed records, 60 bytes each
                    fake += HDR.pack(sec + copy * 1000, i, 60, 60) + bytes(60)
                lead = guess - (len(out) + 16 + 42)  # the fake chain starts at the guess
                frame = udp_frame(bytes(lead) + fake + bytes(60000 - lead - len(fake) - 42))
                out += HDR.pack(sec + copy * 1000, usec, len(frame), len(frame)) + frame
                trap = False
            out += HDR.pack(sec + copy * 1000, usec, len(data), orig) + data
        copy += 1
    if trap:
        raise ValueError("no record fits the planted chain at the guessed boundary")
    return bytes(out)


def write(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def lines(text):
    return sorted(text.splitlines())


def same_as_one_thread(t, path, what, expect_rc=0):
    for mode in (["--flows", "--no-ndpi"], ["--handshakes"]):
        rc1, one, err1 = run_tlsgrade(mode + [path])
        t.eq(rc1, expect_rc, "%s %s: one thread's exit status (%s)" % (what, mode[0], err1[-200:]))
        for jobs in ("2", "3"):
            rcj, many, errj = run_tlsgrade(mode + ["-j", jobs, path])
            t.eq(rcj, rc1, "%s %s -j %s: exit status" % (what, mode[0], jobs))
            t.eq(errj, err1, "%s %s -j %s: the same warnings" % (what, mode[0], jobs))
            t.check(lines(many) == lines(one), "%s %s -j %s: the same lines (%d against %d)" %
                    (what, mode[0], jobs, len(many.splitlines()), len(one.splitlines())))
        t.check(len(one.splitlines()) > 50, "%s %s: lines printed" % (what, mode[0]))
    rc1, one, _ = run_tlsgrade(["--format", "json"] + CA + [path])
    rc2, two, _ = run_tlsgrade(["--format", "json", "-j", "2"] + CA + [path])
    t.eq(rc2, rc1, what + ": graded, exit status")
    a, b = json.loads(one), json.loads(two)
    t.eq(b["servers"], a["servers"], what + ": the same servers, grades and evidence")
    t.eq(b["stats"], a["stats"], what + ": the same totals")
    return one


def three_segments(t):
    path = write("big.pcap", big_capture())
    t.check(os.path.getsize(path) > 3 * SEGMENT, "the capture spans four segments")
    out = same_as_one_thread(t, path, "3.5 segments")
    packets = json.loads(out)["stats"]["packets"]
    _, recs = sample_records()
    t.check(packets > 10 * len(recs), "every copy read: %d packets" % packets)


def planted_chain(t):
    """Reader 1's guessed start lands on fake records inside a real one:
    its range must be walked again from the true boundary."""
    data = big_capture(trap=True)
    path = write("trap.pcap", data)
    out = same_as_one_thread(t, path, "a fake chain at the boundary")
    # the planted record is read whole, as one UDP packet, by every -j
    rc, flows, _ = run_tlsgrade(["--flows", "--no-ndpi", "-j", "2", path])
    planted = [json.loads(x) for x in flows.splitlines() if '"10.9.9.1:5353"' in x]
    t.eq(len(planted), 1, "the planted record is one flow")
    t.eq(planted[0]["packets"]["c2s"] + planted[0]["packets"]["s2c"] if planted else 0, 1,
         "the planted record is one packet, not twelve")


def cut_and_bad_length(t):
    data = big_capture()
    # the start of a record in the second segment
    off = 24
    while off < SEGMENT + SEGMENT // 3:
        off += 16 + HDR.unpack_from(data, off)[2]
    cut = write("cut.pcap", data[:off + 16 + 7])
    same_as_one_thread(t, cut, "cut in the second segment", expect_rc=1)
    bad = bytearray(data)
    struct.pack_into("<I", bad, off + 8, 300000)
    badlen = write("badlen.pcap", bytes(bad))
    same_as_one_thread(t, badlen, "a bad record length in the second segment", expect_rc=1)


def main():
    t = Suite()
    for fn in (three_segments, planted_chain, cut_and_bad_length):
        t.run(fn)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
