"""The buffered pcap reader (capture/filebuf.c) against libpcap's.

Every classic pcap file is read by it unless TLSGRADE_READER=libpcap;
both paths must give the same flows, handshakes, statistics, warnings and
exit status on every corpus capture and sample, and on pcap variants made
here from a sample: the other byte order, nanosecond time stamps, records
longer than the file's snapshot length, cut-off files, an impossible
record length, an old format version and a BPF filter.  The variants of
the sample are also checked against the sample itself: the same packets
must give the same flows whatever the file's byte order or time unit."""
import glob
import os
import shutil
import struct
import subprocess
import tempfile

from oracle import CORPUS, TLSGRADE, TOP, Suite

SAMPLE = os.path.join(TOP, "samples", "demo-cloud-consoles.pcap")
TMP = tempfile.mkdtemp(prefix="tlsgrade-reader-")


def run(args, reader=None):
    env = dict(os.environ)
    env.pop("TLSGRADE_READER", None)
    if reader:
        env["TLSGRADE_READER"] = reader
    p = subprocess.run([TLSGRADE] + args, capture_output=True, timeout=120, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def both_agree(t, args, what):
    """Both readers: the same exit status, output and warnings."""
    ours = run(args)
    lib = run(args, "libpcap")
    t.eq(ours[0], lib[0], what + ": exit status (" + ours[2][-200:] + ")")
    t.check(ours[1] == lib[1], what + ": the same output")
    t.eq(ours[2], lib[2], what + ": the same warnings")
    return ours


def records(path):
    """A little-endian microsecond pcap: header fields and (ts_sec, ts_usec,
    data, orig_len) per record."""
    data = open(path, "rb").read()
    magic, major, minor, zone, sigfigs, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xa1b2c3d4, "the sample is little-endian microsecond pcap"
    out, off = [], 24
    while off < len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        out.append((sec, usec, data[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return (major, minor, snaplen, linktype), out


def write(name, recs, endian="<", nano=False, version=(2, 4), snaplen=262144, linktype=1,
          caplens=None):
    magic = 0xa1b23c4d if nano else 0xa1b2c3d4
    blob = bytearray(struct.pack(endian + "IHHiIII", magic, version[0], version[1], 0, 0,
                                 snaplen, linktype))
    for i, (sec, usec, data, orig) in enumerate(recs):
        frac = usec * 1000 + 789 if nano else usec
        incl = caplens.get(i, len(data)) if caplens else len(data)
        blob += struct.pack(endian + "IIII", sec, frac, incl, orig) + data
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(blob)
    return path


def corpus_and_samples(t):
    files = sorted(glob.glob(os.path.join(CORPUS, "pcaps", "*.pcap*")) +
                   glob.glob(os.path.join(TOP, "samples", "*.pcap")))
    t.check(len(files) > 40, "corpus and samples found: %d" % len(files))
    for path in files:
        name = os.path.basename(path)
        both_agree(t, ["--flows", "--no-ndpi", path], name + " --flows")
        both_agree(t, ["--handshakes", path], name + " --handshakes")


def same_packets_other_layouts(t):
    """Byte order and time unit change nothing but the file's layout."""
    head, recs = records(SAMPLE)
    base = run(["--flows", "--no-ndpi", SAMPLE])
    t.eq(base[0], 0, "the sample reads")
    for name, kw in (("swapped.pcap", {"endian": ">"}), ("nano.pcap", {"nano": True}),
                     ("swapped-nano.pcap", {"endian": ">", "nano": True})):
        path = write(name, recs, linktype=head[3], **kw)
        rc, out, err = both_agree(t, ["--flows", "--no-ndpi", path], name)
        t.check(out == base[1], name + ": the same flows and totals as the sample")


def far_times(t):
    """Seconds past 2^31 (2038 and on): read as libpcap reads them."""
    head, recs = records(SAMPLE)
    late = [(0xF0000000 + i, usec, data, orig) for i, (sec, usec, data, orig) in enumerate(recs)]
    path = write("late.pcap", late, linktype=head[3])
    both_agree(t, ["--flows", "--no-ndpi", path], "seconds past 2^31")
    both_agree(t, ["--handshakes", path], "seconds past 2^31, handshakes")


def snapshot_cut(t):
    """Records longer than the header's snapshot length are cut to it."""
    head, recs = records(SAMPLE)
    path = write("snap200.pcap", recs, snaplen=200, linktype=head[3])
    rc, out, err = both_agree(t, ["--flows", "--no-ndpi", path], "snaplen 200")
    stats = [line for line in out.splitlines() if '"stats"' in line]
    t.check(stats and '"truncated_by_snaplen":0' not in stats[0],
            "packets were cut by the snapshot length: " + (stats[0][:300] if stats else "-"))
    # Cut in the middle of a record's skipped tail (longer than the snapshot).
    long_at = next(i for i, r in enumerate(recs) if len(r[2]) > 400)
    data = open(path, "rb").read()
    off = 24
    for i in range(long_at):
        off += 16 + len(recs[i][2])
    for cut, what in ((off + 16 + 100, "inside the kept part"), (off + 16 + 300, "inside the skipped tail")):
        p = os.path.join(TMP, "snapcut.pcap")
        with open(p, "wb") as f:
            f.write(data[:cut])
        rc, out, err = both_agree(t, ["--flows", "--no-ndpi", p], "snaplen 200, cut " + what)
        t.eq(rc, 1, "a cut file exits 1 (" + what + ")")
        t.check("truncated dump file" in err and "offset" in err, "warning: " + err)


def cut_files(t):
    head, recs = records(SAMPLE)
    data = open(SAMPLE, "rb").read()
    off = 24
    for i in range(12):
        off += 16 + len(recs[i][2])
    for cut, what in ((off + 7, "in a record header"), (off + 16 + 9, "in a record's data")):
        p = os.path.join(TMP, "cut.pcap")
        with open(p, "wb") as f:
            f.write(data[:cut])
        rc, out, err = both_agree(t, ["--flows", "--no-ndpi", p], "cut " + what)
        t.eq(rc, 1, "cut %s: exit 1" % what)
        t.check("12 packets" in err and "offset %d" % len(data[:cut]) in err,
                "cut %s: the warning names the packets kept and the offset: %s" % (what, err))


def impossible_length(t):
    head, recs = records(SAMPLE)
    path = write("huge.pcap", recs[:8], linktype=head[3], caplens={5: 300000})
    rc, out, err = both_agree(t, ["--flows", "--no-ndpi", path], "caplen 300000")
    t.check("invalid packet capture length 300000" in err, "names the bad length: " + err)


def old_version_and_filter(t):
    head, recs = records(SAMPLE)
    path = write("v23.pcap", recs, version=(2, 3), linktype=head[3])
    both_agree(t, ["--flows", "--no-ndpi", path], "pcap 2.3 (read by libpcap)")
    for bpf in ("tcp port 443", "host 10.0.0.99", "udp"):
        both_agree(t, ["--flows", "--no-ndpi", "-f", bpf, SAMPLE], "filter " + bpf)
        both_agree(t, ["--format", "json", "-f", bpf, SAMPLE], "graded with filter " + bpf)


def main():
    t = Suite()
    for fn in (corpus_and_samples, same_packets_other_layouts, far_times, snapshot_cut, cut_files,
               impossible_length, old_version_and_filter):
        t.run(fn)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
