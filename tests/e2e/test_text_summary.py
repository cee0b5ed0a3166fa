"""The text report's summary and header: width, order of the findings,
the grade's confidence, the capture period, trust store and key logs.

Oracles: samples/expected.json (hand-derived grades and caps, with the
letter each cap gives), tshark (frame times, ClientHello randoms,
Certificate messages), openssl verify (the chain against
samples/certs/root.pem), the key log's client randoms, ECMA-48 (SGR 31 is
red) and the terminal size set on a pseudo-terminal."""
import fcntl
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import tempfile
import termios
from datetime import datetime, timezone

from oracle import TLSGRADE, TOP, Suite
from pcapgen import Conversation, client_hello, server_hello, write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-textsum-")
SAMPLES = os.path.join(TOP, "samples")
CA_FILE = os.path.join(SAMPLES, "certs", "root.pem")
CA = ["--ca-file", CA_FILE]
KEYLOG = os.path.join(SAMPLES, "a-grade.keylog")
LONG_HOST = "a-very-long-host-name-for-the-summary." + "sub." * 6 + "example.test"
# The letters a failed check can give, worst first (grading-reference.md 3;
# F before T: a cap of F is the worse finding, T says the chain alone).
RANK = {"F": 0, "T": 1, "M": 2, "E": 3, "D": 4, "C": 5, "B": 6, "A-": 7}


def sample(name):
    return os.path.join(SAMPLES, name)


def run(args, columns=None, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    env.update(env_extra or {})
    p = subprocess.run([TLSGRADE] + args, capture_output=True, env=env, timeout=300)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


def long_host_pcap():
    path = os.path.join(TMP, "long-host.pcap")
    conv = Conversation("10.9.8.7", 51000, "10.9.8.1", 443)
    conv.handshake()
    conv.client_sends(client_hello(sni=LONG_HOST.encode()))
    conv.server_sends(server_hello())
    write_pcap(path, conv.frames)
    return path


def summary_lines(out):
    """--summary's lines from the table's header on."""
    lines = out.splitlines()
    start = [i for i, l in enumerate(lines) if l.startswith("HOST (SNI)")][0]
    return lines[start:]


def rows(out):
    """{"ip:port": (host, grade, [affecting ids], [info ids])} of a summary
    wide enough for every finding."""
    got = {}
    for line in summary_lines(out)[1:]:
        if not line or line.startswith(" "):
            if not line:
                break
            continue
        host, server, grade, decided, findings = line.split(None, 4)
        info = []
        if findings.startswith("info only: "):
            affecting, info = [], findings[len("info only: "):].split(", ")
        elif findings == "no failed check":
            affecting = []
        else:
            part = findings.split("; info: ")
            affecting = part[0].split(", ")
            info = part[1].split(", ") if len(part) > 1 else []
        got[server] = (host, grade, affecting, info, decided)
    return got


def expected_servers():
    doc = json.load(open(sample("expected.json")))
    for s in doc["samples"]:
        for v in s["servers"]:
            yield s["file"], v


def width_80(t):
    """COLUMNS=80: no line of the summary is wider, the long host name is
    shortened with an ellipsis (its start kept), and the same report comes
    without COLUMNS on a pipe."""
    args = ["--summary", "--no-color"] + CA + [SAMPLES, long_host_pcap()]
    rc, out, err = run(args, columns=80)
    t.eq(rc, 0, "exit status: " + err)
    lines = summary_lines(out)
    t.check(len(lines) > 50, "a row per server")
    wide = [l for l in lines if len(l) > 80]
    t.eq(wide, [], "summary lines wider than 80")
    long_rows = [l for l in lines if l.startswith(LONG_HOST[:15])]
    t.eq(len(long_rows), 1, "the long host's row")
    t.check(long_rows and "\u2026" in long_rows[0].split()[0], "shortened with an ellipsis")
    rc, piped, err = run(args)
    t.eq(summary_lines(piped), lines, "a pipe without COLUMNS: 80 columns")
    rc, out, err = run(args, columns=200)
    t.check(any(l.startswith(LONG_HOST + " ") for l in summary_lines(out)),
            "at 200 columns the whole name")
    t.check(all(len(l) <= 200 for l in summary_lines(out)), "at most 200")


def order_by_severity(t):
    """Every sample server: the failed checks that change the grade are
    listed worst first by the letter their cap gives (expected.json), and
    the first is one that gives the server's grade."""
    rc, out, err = run(["--summary", "--no-color"] + CA + [SAMPLES], columns=1000)
    t.eq(rc, 0, "exit status: " + err)
    got = rows(out)
    compared = 0
    for name, v in expected_servers():
        key = "%s:%d" % (v["ip"], v["port"])
        if key not in got:
            continue
        letters = {c["id"]: c["result"] for c in v["caps"] + v.get("caps_optional", []) +
                   v.get("warnings", []) if c["result"] in RANK}
        listed = [i for i in got[key][2] if i in letters]
        ranks = [RANK[letters[i]] for i in listed]
        t.check(ranks == sorted(ranks), "%s %s: %s not worst first" % (name, key, listed))
        deciding = [i for i, r in letters.items() if r == v["grade"]]
        if deciding:
            t.check(got[key][2][:1] and got[key][2][0] in deciding,
                    "%s %s: %s first, want one of %s" % (name, key, got[key][2][:1], deciding))
        compared += 1
    t.check(compared >= 45, "servers compared: %d" % compared)
    export = got["10.1.5.1:443"][2]
    t.check(export.index("key_insecure") < export.index("tls10_11") and
            export.index("weak_cipher") < export.index("tls10_11"), "export: %s" % export)


def delta_console(t):
    """console.delta: with root.pem it is F and an F cap comes first; with
    the system store it is T and untrusted comes first; at 80 columns the
    rest is counted ("+N more" with the number not shown)."""
    pcap = sample("demo-cloud-consoles.pcap")
    delta = [v for n, v in expected_servers() if v["sni"] == "console.delta.example"][0]
    f_caps = [c["id"] for c in delta["caps"] if c["result"] == "F"]
    rc, out, err = run(["--summary", "--no-color"] + CA + [pcap], columns=1000)
    row = rows(out)["10.0.0.4:443"]
    t.eq(row[1], delta["grade"], "grade with root.pem")
    t.check(row[2][0] in f_caps, "F cap first: %s" % row[2])
    rc, out, err = run(["--summary", "--no-color", pcap], columns=1000)
    row = rows(out)["10.0.0.4:443"]
    t.eq(row[1], "T", "the system store does not know the demo's CA")
    t.eq(row[2][0], "untrusted", "untrusted first")
    every = row[2] + row[3]
    rc, out, err = run(["--summary", "--no-color", pcap], columns=80)
    line = [l for l in summary_lines(out) if l.startswith("console.delta.example")][0]
    m = re.search(r"^(.*) \+(\d+) more$", line.split(None, 4)[4])
    t.check(m is not None, "+N more: " + line)
    if m:
        shown = m.group(1).replace("; info: ", ", ").split(", ")
        t.eq(shown + every[len(shown):], every, "the first ones shown")
        t.eq(int(m.group(2)), len(every) - len(shown), "N counts the rest")


def tshark_fields(path, field, display=None):
    cmd = ["tshark", "-r", path, "-T", "fields", "-e", field]
    if display:
        cmd += ["-Y", display]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [l for l in p.stdout.splitlines() if l]


def chain_verifies(pcap):
    """openssl verify: the first server chain of pcap against root.pem."""
    certs = tshark_fields(pcap, "tls.handshake.certificate", "tls.handshake.type == 11")
    ders = [bytes.fromhex(h.replace(":", "")) for h in certs[0].split(",")]
    pems = []
    for i, der in enumerate(ders):
        p = subprocess.run(["openssl", "x509", "-inform", "DER"], input=der,
                           capture_output=True, check=True)
        pems.append(p.stdout)
    leaf, rest = os.path.join(TMP, "leaf.pem"), os.path.join(TMP, "rest.pem")
    open(leaf, "wb").write(pems[0])
    open(rest, "wb").write(b"".join(pems[1:]))
    args = ["openssl", "verify", "-CAfile", CA_FILE] + (["-untrusted", rest] if pems[1:] else [])
    return subprocess.run(args + [leaf], capture_output=True).returncode == 0


def trust_marks(t):
    """TLS 1.3 without a key log (tshark: no Certificate message): "A*",
    explained; a chain openssl verifies against root.pem: the plain letter
    of expected.json."""
    pcap = sample("tls13-localhost.pcap")
    t.eq(tshark_fields(pcap, "frame.number", "tls.handshake.type == 11"), [],
         "tshark: no Certificate message")
    want = [v for n, v in expected_servers() if n == "tls13-localhost.pcap"][0]["grade"]
    rc, out, err = run(["--summary", "--no-color"] + CA + [pcap])
    row = rows(out)["127.0.0.1:24431"]
    t.eq(row[1], want + "*", "marked grade")
    t.check("* trust not decided: the certificate was not seen" in out, "footnote: " + out)
    rc, out, err = run(["--format", "json"] + CA + [pcap])
    s = json.loads(out)["servers"][0]
    t.eq((s["grade_display"], s["certificate_seen"], s["trust_decided"], s["grade"]),
         (want + "*", False, False, want), "JSON")
    pcap = sample("a-grade.pcap")
    t.check(chain_verifies(pcap), "openssl verifies a-grade's chain against root.pem")
    want = [v for n, v in expected_servers() if n == "a-grade.pcap"][0]["grade"]
    rc, out, err = run(["--summary", "--no-color"] + CA + [pcap])
    row = rows(out)["127.0.0.1:24433"]
    t.eq(row[1], want, "plain letter")
    t.check("trust not decided" not in out, "no footnote")
    rc, out, err = run(["--format", "json"] + CA + [pcap])
    s = json.loads(out)["servers"][0]
    t.eq((s["grade_display"], s["certificate_seen"], s["trust_decided"]), (want, True, True),
         "JSON")


def iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc)


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def header(t):
    """The period is tshark's earliest and latest frame time of the
    inputs; the trust store, the key log and what it opened (the
    ClientHello randoms it holds secrets for), the report time
    (SOURCE_DATE_EPOCH)."""
    pcaps = [sample("a-grade.pcap"), sample("export-rsa.pcap")]
    times = [float(x) for p in pcaps for x in tshark_fields(p, "frame.time_epoch")]
    randoms = [r for p in pcaps for r in tshark_fields(p, "tls.handshake.random",
                                                       "tls.handshake.type == 1")]
    held = {line.split()[1].lower() for line in open(KEYLOG) if line.strip() and
            not line.startswith("#")}
    opened = sum(1 for r in randoms if r.replace(":", "").lower() in held)
    t.check(0 < opened < len(randoms), "the key log opens some connections: %d" % opened)
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    args = CA + ["--keylog", KEYLOG] + pcaps
    rc, out, err = run(["--summary", "--no-color"] + args, env_extra=env)
    t.eq(rc, 0, "exit status: " + err)
    head = out.split("HOST (SNI)")[0]
    first = head.splitlines()[:2]
    t.eq([l for l in first if len(l) > 80], [], "the header's first lines fit 80 columns")
    n = sum(len(s["servers"]) for s in json.load(open(sample("expected.json")))["samples"]
            if s["file"] in [os.path.basename(p) for p in pcaps])
    t.check(first and first[0].startswith("tlsgrade ") and
            "servers      %d, from 2 inputs" % n in head, "the count: %r" % first)
    m = re.search(r"captured +(\S+) to (\S+)", head)
    t.check(m is not None, "captured: " + head)
    if m:
        t.eq(parse_time(m.group(1)), iso(min(times)), "first packet")
        t.eq(parse_time(m.group(2)), iso(max(times)), "last packet")
    t.check("report time  2023-11-14T22:13:20" in head, "report time: " + head)
    t.check("inputs       %s, %s\n" % tuple(pcaps) in head, "inputs listed: " + head)
    t.check("trust store  --ca-file %s\n" % CA_FILE in head, "trust store: " + head)
    t.check("key logs     %s: decrypted %d of %d TLS connections" % (KEYLOG, opened, len(randoms))
            in head, "key logs: " + head)
    rc, out, err = run(["--format", "json"] + args, env_extra=env)
    rep = json.loads(out)["report"]
    t.eq(parse_time(rep["first_packet"]), iso(min(times)), "JSON first packet")
    t.eq(parse_time(rep["last_packet"]), iso(max(times)), "JSON last packet")
    t.eq(rep["generated"][:19], "2023-11-14T22:13:20", "JSON report time")
    t.eq(rep["trust_store"], {"kind": "ca-file", "ca_file": CA_FILE}, "JSON trust store")
    t.eq(rep["keylogs"], [KEYLOG], "JSON key logs")
    t.eq(rep["decryption"]["decrypted"], opened, "JSON decrypted")
    t.eq(rep["inputs"], 2, "JSON inputs")
    rc, out, err = run(["-j", "2", "--format", "json"] + args)
    rep = json.loads(out)["report"]
    t.eq((parse_time(rep["first_packet"]), parse_time(rep["last_packet"])),
         (iso(min(times)), iso(max(times))), "-j 2: the files read by a team of readers")
    rc, out, err = run(["--summary", "--no-color", sample("a-grade.pcap")])
    t.check("trust store  the system's default store\n" in out, "no --ca-file: " + out)


def keylog_matched_nothing(t):
    """A key log for other connections: the header says it opened none of
    them (tshark's ClientHellos), and the warning is above the summary."""
    pcap = sample("3des-tls12.pcap")
    n = len(tshark_fields(pcap, "frame.number", "tls.handshake.type == 1"))
    rc, out, err = run(["--summary", "--no-color", "--keylog", KEYLOG, pcap])
    head = out.split("HOST (SNI)")[0]
    t.check("decrypted 0 of %d TLS connections (matched no connection)" % n in head,
            "header: " + head)
    t.check("warning: --keylog: the key log given opened none of the %d" % n in head,
            "warning in the header: " + head)


def terminal(t):
    """On a terminal (a pseudo-terminal of 80, then 100 columns, no
    COLUMNS): FAIL in red (SGR 31) in the detail, the summary as wide as
    the terminal."""
    for cols in (80, 100):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
        env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
        p = subprocess.Popen([TLSGRADE] + CA + [sample("export-rsa.pcap"), long_host_pcap()],
                             stdout=slave, stderr=subprocess.DEVNULL, env=env)
        os.close(slave)
        data = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        p.wait()
        os.close(master)
        text = data.decode("utf-8").replace("\r\n", "\n")
        t.check("\033[1;31mFAIL\033[0m" in text, "%d: FAIL in red" % cols)
        plain = re.sub(r"\033\[[0-9;]*m", "", text)
        lines = summary_lines(plain.split("\n== ")[0])
        t.check(all(len(l) <= cols for l in lines), "%d: summary fits" % cols)
        t.check(max(len(l) for l in lines) > cols - 10, "%d: uses the width" % cols)


def main():
    t = Suite()
    for fn in (width_80, order_by_severity, delta_console, trust_marks, header,
               keylog_matched_nothing, terminal):
        t.run(fn)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
