"""Live capture on the loopback interface.

tlsgrade --flows -i lo runs while openssl s_server and s_client talk on
127.0.0.1; tcpdump records the same traffic, and tshark over tcpdump's file is
the oracle.  SIGINT must make tlsgrade print the flows it saw and exit 0.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from oracle import TLSGRADE, TOP, Suite, free_port, match_flows, parse_flow_lines, tshark_flows

TMP = tempfile.mkdtemp(prefix="tlsgrade-live-")


def wait_for(proc, text, timeout=15):
    """Read proc's stderr until a line containing text appears."""
    end = time.time() + timeout
    seen = b""
    while time.time() < end:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        if text.encode() in line:
            return True
    print("  waited for %r, saw %r" % (text, seen))
    return False


def openssl_exchange(port):
    key, cert = os.path.join(TMP, "k.pem"), os.path.join(TMP, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                               "-cert", cert, "-key", key, "-naccept", "1", "-quiet"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    client = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                             "-quiet", "-no_ign_eof"], input=b"hello over tls\n" * 100,
                            capture_output=True, timeout=30)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    return client.returncode


def live_flows(t):
    if os.getuid() != 0:
        t.check(False, "live capture needs root (or CAP_NET_RAW)")
        return
    port = free_port()
    bpf = "tcp port %d" % port
    oracle_file = os.path.join(TMP, "oracle.pcap")
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "--immediate-mode", "-w", oracle_file, bpf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ours = subprocess.Popen([TLSGRADE, "--flows", "-i", "lo", "-f", bpf],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        t.check(wait_for(dump, "listening on"), "tcpdump started")
        t.check(wait_for(ours, "listening on"), "tlsgrade started")
        t.eq(openssl_exchange(port), 0, "s_client exit status")
        time.sleep(0.5)
    finally:
        ours.send_signal(signal.SIGINT)
        dump.send_signal(signal.SIGINT)
        out, err = ours.communicate(timeout=20)
        dump.communicate(timeout=20)
    t.eq(ours.returncode, 0, "tlsgrade exit status after SIGINT (%s)" % err.decode())
    flows, stats = parse_flow_lines(out.decode())
    t.check(stats is not None, "stats line printed on SIGINT")
    theirs = tshark_flows(oracle_file)
    t.eq(len(theirs), 1, "tcpdump saw one connection")
    pairs, lone, rest = match_flows(flows, theirs)
    t.eq((len(pairs), len(lone), len(rest)), (1, 0, 0), "one matching flow")
    for f, fl in pairs:
        c, s = fl["endpoints"][f["client"]], fl["endpoints"][f["server"]]
        t.eq(f["server"], "127.0.0.1:%d" % port, "server endpoint")
        t.eq(f["packets"], {"c2s": c["packets"], "s2c": s["packets"]}, "packets")
        t.eq(f["bytes"], {"c2s": c["bytes"], "s2c": s["bytes"]}, "bytes")
        t.eq(f["stream_bytes"], {"c2s": c["payload"], "s2c": s["payload"]}, "stream_bytes")
        t.check(c["payload"] > 1500, "the client sent its data (%d bytes)" % c["payload"])
        t.eq(f["app"][:3], "TLS", "nDPI classifies it as TLS")
    t.eq(stats["pcap_drops"], 0, "no drops")


def uid_of(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("Uid:"):
            return [int(x) for x in line.split()[1:]]
    return None


def privilege_drop(t, user_args, want_uid):
    """Like tcpdump -Z: the uid of the capturing process, read while it runs."""
    if os.getuid() != 0:
        t.check(False, "this test needs root")
        return
    port = free_port()
    proc = subprocess.Popen([TLSGRADE, "--flows", "-i", "lo", "-f", "tcp port %d" % port] +
                            user_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        t.check(wait_for(proc, "listening on"), "started")
        uids = None
        for _ in range(40):
            uids = uid_of(proc.pid)
            if uids and uids[0] == want_uid:
                break
            time.sleep(0.05)
        t.eq(uids, [want_uid] * 4, "real, effective, saved and fs uid while capturing")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    t.eq(proc.returncode, 0, "exit status after SIGINT: " + err.decode())
    t.check(b'"stats"' in out, "the report is written after the drop")


def drop_to_nobody(t):
    privilege_drop(t, [], 65534)


def keep_root(t):
    privilege_drop(t, ["-Z", "root"], 0)


def refuse_unwritable_output(t):
    """After the drop, a report into a directory only root may write is
    refused with a message that says why."""
    d = tempfile.mkdtemp(prefix="tlsgrade-root-only-")
    os.chmod(d, 0o700)
    proc = subprocess.run([TLSGRADE, "-i", "lo", "-o", os.path.join(d, "r.txt")],
                          capture_output=True, timeout=20)
    err = proc.stderr.decode()
    t.eq(proc.returncode, 1, "exit status: " + err)
    t.check("-Z" in err and "r.txt" in err, "the message names the file and -Z: " + err)
    shutil.rmtree(d, ignore_errors=True)


def live_grading_interval(t):
    """Grading live: --interval rewrites the report atomically (a reader
    never sees half a file) and includes a connection once it has closed;
    SIGINT writes the final report and evidence.  Runs as nobody (-Z)."""
    if os.getuid() != 0:
        t.check(False, "live capture needs root")
        return
    d = tempfile.mkdtemp(prefix="tlsgrade-interval-")
    os.chmod(d, 0o777)
    report, evidence = os.path.join(d, "r.json"), os.path.join(d, "ev.json")
    port = free_port()
    proc = subprocess.Popen([TLSGRADE, "-i", "lo", "-f", "tcp port %d" % port, "--format", "json",
                             "-o", report, "--interval", "1", "--save-evidence", evidence],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen, reads = False, 0
    try:
        t.check(wait_for(proc, "listening on"), "started")
        t.eq(openssl_exchange(port), 0, "s_client exit status")
        end = time.time() + 8
        while time.time() < end and not seen:
            if os.path.exists(report):
                doc = json.load(open(report))  # must always parse: never half a file
                reads += 1
                seen = any(s["ip"] == "127.0.0.1" and s["port"] == port for s in doc["servers"])
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    t.check(seen, "an interval report lists the closed connection (%d reads)" % reads)
    t.eq(proc.returncode, 0, "exit status after SIGINT: " + err.decode())
    doc = json.load(open(report))
    t.check(any(s["port"] == port and s["grade"] != "-" for s in doc["servers"]),
            "the final report grades the server")
    ev = json.load(open(evidence))
    t.eq(ev.get("tlsgrade_evidence"), 2, "evidence written on SIGINT")
    t.check(not os.path.exists(report + ".tmp"), "no temporary file left")
    shutil.rmtree(d, ignore_errors=True)


def serve_once(port, chain):
    """openssl s_server on 127.0.0.1:port with a.example.test's leaf and the
    given extra chain certificates, for one TLS 1.2 connection."""
    certs = os.path.join(TOP, "samples", "certs")
    args = ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-naccept", "1", "-quiet",
            "-cert", os.path.join(certs, "a.pem"), "-key", os.path.join(certs, "a.key")]
    if chain:
        args += ["-cert_chain", os.path.join(certs, chain)]
    server = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    client = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_2",
                             "-servername", "a.example.test", "-quiet", "-no_ign_eof"],
                            input=b"hello\n", capture_output=True, timeout=30)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    return client.returncode


def interval_grade(report, port, want, seconds=8):
    """The grade of 127.0.0.1:port in the interval report once it is want
    (or the last one seen when it never is)."""
    grade, end = None, time.time() + seconds
    while time.time() < end and grade != want:
        if os.path.exists(report):
            for s in json.load(open(report))["servers"]:
                if s["port"] == port and s["host"] == "a.example.test":
                    grade = s["grade"]
        time.sleep(0.1)
    return grade


def interval_completes_later(t):
    """--interval reports a chain sent without its intermediate as untrusted
    while the intermediate is known nowhere, and completes it once a later
    connection sends that intermediate: an interval report decides on a
    copy, so the chain still waits for the intermediate (the grading
    reference: a completed chain is B, chain_incomplete; a chain that does
    not verify is T)."""
    if os.getuid() != 0:
        t.check(False, "live capture needs root")
        return
    certs = os.path.join(TOP, "samples", "certs")
    d = tempfile.mkdtemp(prefix="tlsgrade-interval-chain-")
    os.chmod(d, 0o777)
    report = os.path.join(d, "r.json")
    port = free_port()
    proc = subprocess.Popen([TLSGRADE, "-i", "lo", "-f", "tcp port %d" % port, "--format", "json",
                             "--ca-file", os.path.join(certs, "root-ca.pem"), "-o", report,
                             "--interval", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        t.check(wait_for(proc, "listening on"), "started")
        t.eq(serve_once(port, None), 0, "s_client exit status, leaf alone")
        t.eq(interval_grade(report, port, "T"), "T", "the leaf alone: untrusted so far")
        t.eq(serve_once(port, "int.pem"), 0, "s_client exit status, whole chain")
        t.eq(interval_grade(report, port, "B"), "B", "completed once the intermediate is seen")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    t.eq(proc.returncode, 0, "exit status after SIGINT: " + err.decode())
    final = [s for s in json.load(open(report))["servers"] if s["port"] == port]
    t.eq([s["grade"] for s in final], ["B"], "the final report: B")
    shutil.rmtree(d, ignore_errors=True)


def main():
    t = Suite()
    t.run(live_flows)
    t.run(live_grading_interval)
    t.run(interval_completes_later)
    t.run(drop_to_nobody)
    t.run(keep_root)
    t.run(refuse_unwritable_output)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
