"""Bad input: a one-line error naming the input and the cause, exit status 1
(2 for usage errors); a truncated file keeps what was read and says so."""
import os
import shutil
import struct
import subprocess
import tempfile

from oracle import CORPUS, TLSGRADE, Suite, parse_flow_lines, run_tlsgrade, tshark_flows

TMP = tempfile.mkdtemp(prefix="tlsgrade-bad-")
SAMPLE = os.path.join(CORPUS, "pcaps", "zeek__dhe.pcap")


def write(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def one_line_error(t, args, status, *words):
    rc, out, err = run_tlsgrade(args)
    t.eq(rc, status, "exit status of %r (stderr %r)" % (args, err))
    lines = [l for l in err.splitlines() if l.startswith("tlsgrade:")]
    t.check(len(lines) >= 1, "an error line for %r" % (args,))
    for w in words:
        t.check(w in err, "%r in the error %r" % (w, err))
    t.check("Sanitizer" not in err and "runtime error" not in err, "no sanitizer report")


def not_a_capture(t):
    p = write("notes.txt", b"this is not a capture file\n" * 10)
    one_line_error(t, ["--flows", p], 1, p, "not a pcap or pcapng")


def empty_file(t):
    p = write("empty.pcap", b"")
    one_line_error(t, ["--flows", p], 1, p, "empty")


def missing_file(t):
    p = os.path.join(TMP, "does-not-exist.pcap")
    one_line_error(t, ["--flows", p], 1, p, "No such file")


def header_only_cut(t):
    p = write("cut-header.pcap", open(SAMPLE, "rb").read()[:10])
    one_line_error(t, ["--flows", p], 1, p, "truncated")


def truncated_mid_record(t):
    data = open(SAMPLE, "rb").read()
    # Walk the classic pcap records (24-byte file header, 16-byte record
    # headers) to cut in the middle of the 10th record's data.
    off, n = 24, 0
    while n < 9:
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        off += 16 + incl
        n += 1
    cut = off + 16 + 5
    p = write("cut.pcap", data[:cut])
    rc, out, err = run_tlsgrade(["--flows", p])
    t.eq(rc, 1, "exit status of a truncated file")
    t.check(p in err and "offset" in err and "kept" in err, "warning names file and offset: " + err)
    flows, stats = parse_flow_lines(out)
    t.eq(stats["packets"], 9, "the 9 complete records are kept")
    # The kept packets agree with tshark on the same 9 records.
    whole = write("nine.pcap", data[:off])
    theirs = tshark_flows(whole)
    t.eq(sum(fl["endpoints"][e]["packets"] for fl in theirs.values() for e in fl["endpoints"]),
         sum(f["packets"]["c2s"] + f["packets"]["s2c"] for f in flows), "packets in flows")


def unknown_linktype(t):
    data = bytearray(open(SAMPLE, "rb").read())
    struct.pack_into("<I", data, 20, 147)  # LINKTYPE_USER0
    p = write("user0.pcap", bytes(data))
    one_line_error(t, ["--flows", p], 1, p, "unsupported link-layer type 147")


def bad_filter(t):
    one_line_error(t, ["--flows", "-f", "tcp port and and", SAMPLE], 1, "invalid BPF filter")


def no_such_interface(t):
    one_line_error(t, ["--flows", "-i", "nosuchif0"], 1, "nosuchif0", "no such interface")


def no_permission(t):
    if os.getuid() != 0 or not shutil.which("setpriv"):
        t.check(False, "this test needs root and setpriv to run as an unprivileged user")
        return
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        TLSGRADE, "--flows", "-i", "lo"], capture_output=True, timeout=30)
    err = p.stderr.decode()
    t.eq(p.returncode, 1, "exit status without capture permission: " + err)
    t.check("lo" in err and "permission" in err.lower(), "permission error: " + err)


def usage_errors(t):
    rc, out, err = run_tlsgrade([])
    t.eq(rc, 2, "no input is a usage error")
    rc, out, err = run_tlsgrade(["--no-such-option", SAMPLE])
    t.eq(rc, 2, "unknown option is a usage error")
    rc, out, err = run_tlsgrade(["-s", "abc", "-i", "lo"])
    t.eq(rc, 2, "bad number is a usage error")
    t.check("-s" in err, "names the option: " + err)


def directory_without_captures(t):
    d = os.path.join(TMP, "emptydir")
    os.makedirs(d, exist_ok=True)
    write("emptydir/readme.txt", b"hello")
    one_line_error(t, ["--flows", d], 1, d, "no pcap or pcapng")


def garbage_records(t):
    """A valid header followed by random record headers: no crash, error or
    warning, bounded time."""
    data = open(SAMPLE, "rb").read()[:24] + os.urandom(4096)
    p = write("garbage.pcap", data)
    rc, out, err = run_tlsgrade(["--flows", p], timeout=60)
    t.check(rc in (0, 1), "exit status %d" % rc)
    t.check("Sanitizer" not in err and "runtime error" not in err, "no sanitizer report")


def main():
    t = Suite()
    for fn in (not_a_capture, empty_file, missing_file, header_only_cut, truncated_mid_record,
               unknown_linktype, bad_filter, no_such_interface, no_permission, usage_errors,
               directory_without_captures, garbage_records):
        t.run(fn)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
