"""--history DB and `tlsgrade history`: every report appended to a
database (SQLite file, or PostgreSQL through a postgresql:// URL), and each
server's timeline read back oldest first with what changed.

The story: one server (10.7.7.7:443, crafted captures, chains to the
samples' root CA) gives RC4 to a client that also offered AES-GCM on day 1
(the rating guide's rc4_only inference: F), and AES-GCM to the same offer
five days later (A).  The grades are the hand-derived ones of
test_config_change.py; what the history must hold is checked here by
reading the database directly (Python's sqlite3, psql), not through
tlsgrade."""
import json
import os
import pwd
import re
import signal
import shutil
import sqlite3
import subprocess
import tempfile
import time

from leaves import CERTS, sample_der
from oracle import TOP, Suite, free_port, openssl_handshakes, run_tlsgrade
from pcapgen import Conversation, certificate, client_hello, server_hello, server_hello_done, \
    write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-history-")
T0 = 1768435200.0  # 2026-01-15 00:00:00 UTC, inside the sample certificates' validity
DAY = 86400
BOTH = (0xc011, 0xc02f)  # ECDHE-RSA-RC4-SHA, ECDHE-RSA-AES128-GCM-SHA256


def connection(cport, t0, chosen):
    conv = Conversation("10.7.7.100", cport, "10.7.7.7", 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(sni=None, ciphers=BOTH))
    conv.server_sends(server_hello(cipher=chosen) +
                      certificate([sample_der("a.pem"), sample_der("int.pem")]) +
                      server_hello_done())
    return conv.frames


def pcap(name, frames):
    path = os.path.join(TMP, name + ".pcap")
    write_pcap(path, frames)
    return path


DAY1 = DAY5 = None


def captures():
    global DAY1, DAY5
    if not DAY1:
        DAY1 = pcap("day1", connection(50001, T0, 0xc011))
        DAY5 = pcap("day5", connection(50002, T0 + 5 * DAY, 0xc02f))


def grade(t, db, capture, extra=()):
    rc, out, err = run_tlsgrade(["--format", "json", "--ca-file", os.path.join(CERTS, "root.pem"),
                                 "--history", db, "--sensor", "tap1"] + list(extra) + [capture])
    t.eq(rc, 0, "graded with --history: " + err)
    return json.loads(out)["servers"][0] if rc == 0 else {}


def failed_ids(server):
    return sorted(c["id"] for c in server.get("checks", []) if c.get("status") == "fail")


def rows(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT g.host, g.ip, g.port, g.period_start, g.period_end, g.grade,"
                           " g.failed, g.evidence_digest, r.sensor, r.kind, r.inputs"
                           " FROM tlsgrade_grades g JOIN tlsgrade_runs r ON r.id = g.run_id"
                           " ORDER BY r.id, g.period_start").fetchall()
    finally:
        con.close()


def seed_story(t):
    """Day 1 F, day 5 A: two runs, a row each, and the timeline says F -> A."""
    captures()
    db = os.path.join(TMP, "story.db")
    s1 = grade(t, db, DAY1)
    s5 = grade(t, db, DAY5)
    t.eq((s1.get("grade"), s5.get("grade")), ("F", "A"), "the reports: F on day 1, A on day 5")
    got = rows(db)
    t.eq(len(got), 2, "a row per run: %r" % (got,))
    if len(got) == 2:
        t.eq([r[5] for r in got], ["F", "A"], "the rows hold the grades")
        t.eq(got[0][1:3], ("10.7.7.7", 443), "the server's address and port")
        t.eq(got[0][3][:10], "2026-01-15", "day 1's period, in packet time")
        t.eq(got[1][3][:10], "2026-01-20", "day 5's period, in packet time")
        t.eq(sorted(got[0][6].split()), failed_ids(s1), "day 1's failed checks as its report")
        t.eq(sorted(got[1][6].split()), failed_ids(s5), "day 5's failed checks as its report")
        t.check(all(re.fullmatch(r"[0-9a-f]{64}", r[7]) for r in got), "a SHA-256 digest each")
        t.check(got[0][7] != got[1][7], "different facts, different digests")
        t.eq((got[0][8], got[0][9], got[0][10]), ("tap1", "capture", DAY1), "sensor, kind, input")
    con = sqlite3.connect(db)
    t.eq(con.execute("PRAGMA journal_mode").fetchone()[0], "wal", "SQLite in WAL mode")
    con.close()

    grade(t, db, DAY1)  # the same capture again: the same digest
    again = rows(db)
    t.check(len(again) == 3 and again[2][7] == again[0][7], "the same facts, the same digest")

    rc, out, err = run_tlsgrade(["history", db])
    t.eq(rc, 0, "history exits 0: " + err)
    lines = out.splitlines()
    first = [i for i, l in enumerate(lines) if "first record" in l]
    change = [i for i, l in enumerate(lines) if "F -> A" in l]
    t.check(len(first) == 1 and len(change) == 1 and first[0] < change[0],
            "text: the first record, then F -> A:\n" + out)
    fixed = sorted(set(failed_ids(s1)) - set(failed_ids(s5)))
    in_order = [f for f in got[0][6].split() if f in fixed] if got else []  # table order
    t.check(change and ("fixed: " + " ".join(in_order)) in lines[change[0]],
            "text: the checks fixed, as the reports differ: %r" % fixed)
    t.check(any("unchanged in 1 more records" in l for l in lines),
            "text: the second day-1 run folded as unchanged")

    rc, out, err = run_tlsgrade(["history", "--format", "json", db, "10.7.7.7"])
    t.eq(rc, 0, "history --format json exits 0: " + err)
    doc = json.loads(out) if rc == 0 else {"servers": []}
    recs = doc["servers"][0]["records"] if doc["servers"] else []
    t.eq([r["grade"] for r in recs], ["F", "A"], "JSON: F then A (the repeat folded)")
    if len(recs) == 2:
        t.eq(recs[0].get("unchanged_records"), 1, "JSON: the repeat counted")
        t.eq(recs[1]["changed"]["grade_before"], "F", "JSON: what it was")
        t.eq(sorted(recs[1]["changed"]["fixed"]), fixed, "JSON: the fixed checks")
        t.eq(sorted(recs[0]["failed"]), failed_ids(s1), "JSON: day 1's failures")

    rc, out, err = run_tlsgrade(["history", "--format", "html", db])
    t.check(rc == 0 and out.startswith("<!DOCTYPE html>") and "<td class=g>F</td>" in out and
            "<td class=g>A</td>" in out, "HTML timeline holds both grades")


def html_past_grades(t):
    """An HTML report with --history shows each server's past grades in
    its section: the day-5 report shows day 1's F, not its own A."""
    captures()
    db = os.path.join(TMP, "html.db")
    html = lambda cap: run_tlsgrade(["--format", "html", "--ca-file",
                                     os.path.join(CERTS, "root.pem"), "--history", db, cap])
    rc, first, err = html(DAY1)
    t.eq(rc, 0, "day 1 in HTML: " + err)
    t.check("No earlier grade of this server in the history." in first,
            "the first report has no past")
    rc, second, err = html(DAY5)
    t.eq(rc, 0, "day 5 in HTML: " + err)
    past = second.split("<h3>Past grades (--history)</h3>", 1)
    t.check(len(past) == 2, "day 5's report has a past-grades table")
    if len(past) == 2:
        table = past[1].split("</table>", 1)[0]
        t.eq(re.findall(r"<td class=g>([^<]*)</td>", table), ["F"],
             "the past is day 1's F alone (this run's row comes after the report)")
        t.check("2026-01-15" in table, "with day 1's period")


def change_in_one_capture(t):
    """One capture spanning the fix: two rows, one per period."""
    captures()
    both = pcap("both", connection(50001, T0, 0xc011) + connection(50002, T0 + 5 * DAY, 0xc02f))
    db = os.path.join(TMP, "periods.db")
    s = grade(t, db, both)
    t.eq((s.get("configuration_change") or {}).get("grade_before"), "F", "the report's change")
    got = rows(db)
    t.eq([r[5] for r in got], ["F", "A"], "a row per period: %r" % ([r[5] for r in got],))
    if len(got) == 2:
        t.check(got[0][4] < got[1][3], "the periods do not overlap: %r" % (got,))


def merged(t):
    """tlsgrade merge --history records a run of kind merge."""
    captures()
    ev1, ev5 = os.path.join(TMP, "ev1.json"), os.path.join(TMP, "ev5.json")
    for cap, ev in ((DAY1, ev1), (DAY5, ev5)):
        rc, _, err = run_tlsgrade(["--format", "json", "--save-evidence", ev, cap])
        t.eq(rc, 0, "evidence saved: " + err)
    db = os.path.join(TMP, "merge.db")
    rc, out, err = run_tlsgrade(["merge", "--format", "json", "--ca-file",
                                 os.path.join(CERTS, "root.pem"), "--history", db, ev1, ev5])
    t.eq(rc, 0, "merge with --history: " + err)
    got = rows(db)
    t.eq([(r[5], r[9]) for r in got], [("F", "merge"), ("A", "merge")],
         "the merged evidence changed mid-way: two periods, kind merge")


def refusals(t):
    captures()
    rc, _, err = run_tlsgrade(["history", os.path.join(TMP, "none.db")])
    t.check(rc == 1 and "history" in err and "none.db" in err,
            "a missing history: exit 1, named: %r" % err)
    t.check(not os.path.exists(os.path.join(TMP, "none.db")), "reading never creates the file")
    db = os.path.join(TMP, "story.db")
    rc, _, err = run_tlsgrade(["history", db, "192.0.2.99"])
    t.check(rc == 1 and "no record" in err, "an unknown server: exit 1: %r" % err)
    rc, _, err = run_tlsgrade(["--flows", "--history", db, DAY1])
    t.check(rc == 2 and "--history" in err, "--history with --flows: usage error: %r" % err)
    rc, _, err = run_tlsgrade(["history", "--keylog", "x", db])
    t.eq(rc, 2, "history takes output options only: " + err)
    newer = os.path.join(TMP, "newer.db")
    shutil.copy(db, newer)
    con = sqlite3.connect(newer)
    con.execute("INSERT INTO tlsgrade_schema (version) VALUES (99)")
    con.commit()
    con.close()
    rc, _, err = run_tlsgrade(["--history", newer, DAY1])
    t.check(rc == 1 and "newer" in err, "a newer schema is refused: %r" % err)
    bad = os.path.join(TMP, "notadb.db")
    with open(bad, "w") as f:
        f.write("this is not a database\n" * 100)
    rc, _, err = run_tlsgrade(["--history", bad, DAY1])
    t.check(rc == 1 and "notadb.db" in err, "not a database: exit 1, named: %r" % err)


def concurrent_sensors(t):
    """Four runs appending to one SQLite file at once: none lost."""
    captures()
    db = os.path.join(TMP, "shared.db")
    grade(t, db, DAY1)  # the schema exists before the race
    tg = os.environ.get("TLSGRADE", os.path.join(TOP, "tlsgrade"))
    procs = [subprocess.Popen([tg, "--format", "json", "--history", db, "--sensor", "s%d" % i,
                               DAY1 if i % 2 else DAY5], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for i in range(4)]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    t.eq([p.returncode for p in procs], [0] * 4, "every sensor appended: %r" % errs)
    t.eq(len(rows(db)), 5, "five runs, five rows")


def pg_bin():
    base = "/usr/lib/postgresql"
    for v in sorted(os.listdir(base), reverse=True) if os.path.isdir(base) else []:
        if os.path.exists(os.path.join(base, v, "bin", "initdb")):
            return os.path.join(base, v, "bin")
    return None


def big_timeline(t, url, sock, port):
    """A long history: 100,000 rows of one server, each with a 2,000-byte
    list of failed checks (200 MB of result).  The timeline reads them one
    at a time (single-row mode), so tlsgrade's peak RSS (GNU time) stays far
    below the result's size; the timeline shows one record and the rows
    that did not change it."""
    q = subprocess.run(["psql", "-At", "-h", sock, "-p", port, "-U", "postgres", "-c",
                        "INSERT INTO tlsgrade_grades SELECT r.id, 'big.example', '192.0.2.77', 443,"
                        " to_char(i, 'FM0000000'), to_char(i, 'FM0000000'), 'B', 'B', 70, 10, 20,"
                        " repeat('x', 2000), 'd' FROM generate_series(1, 100000) i,"
                        " (SELECT min(id) AS id FROM tlsgrade_runs) r", "postgres"],
                       capture_output=True, text=True)
    t.eq(q.returncode, 0, "rows inserted: " + q.stderr)
    tg = os.environ.get("TLSGRADE", os.path.join(TOP, "tlsgrade"))
    with tempfile.NamedTemporaryFile() as peak:
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, tg, "history",
                            "--format", "json", url, "big.example"], capture_output=True,
                           text=True, timeout=300)
        kb = int(open(peak.name).read().split()[-1])
    t.eq(p.returncode, 0, "history exit status: " + p.stderr[-300:])
    recs = json.loads(p.stdout)["servers"][0]["records"] if p.returncode == 0 else []
    t.eq([r["grade"] for r in recs], ["B"], "one record for 100,000 unchanged rows")
    print("  history of 100,000 rows: peak RSS %d kB" % kb)
    # AddressSanitizer keeps freed memory in quarantine (256 MB): no bound.
    t.check(os.environ.get("SAN") == "1" or kb < 100 * 1024,
            "peak RSS %d kB, under 100 MB for a 200 MB result" % kb)


def postgres(t):
    """The same story through PostgreSQL: a throwaway cluster on a socket."""
    captures()
    bindir = pg_bin()
    if not bindir:
        print("  SKIP postgres: Debian's postgresql package is not installed (make deps)")
        return
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        print("  SKIP postgres: no postgres user")
        return
    data = tempfile.mkdtemp(prefix="tlsgrade-pg-")
    os.chown(data, pw.pw_uid, pw.pw_gid)
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(as_pg + [os.path.join(bindir, "initdb"), "-D", data + "/db", "-A", "trust",
                            "-U", "postgres"], check=True, capture_output=True)
    port = str(20000 + os.getpid() % 20000)
    subprocess.run(as_pg + [os.path.join(bindir, "pg_ctl"), "-D", data + "/db", "-w", "-l",
                            data + "/log", "-o", "-k %s -p %s -c listen_addresses=''" % (data, port),
                            "start"], check=True, capture_output=True)
    try:
        url = "postgresql:///postgres?host=%s&port=%s&user=postgres" % (data, port)
        s1 = grade(t, url, DAY1)
        s5 = grade(t, url, DAY5)
        q = subprocess.run(["psql", "-At", "-h", data, "-p", port, "-U", "postgres", "-c",
                            "SELECT g.grade, g.failed, r.sensor FROM tlsgrade_grades g"
                            " JOIN tlsgrade_runs r ON r.id = g.run_id ORDER BY r.id", "postgres"],
                           capture_output=True, text=True)
        got = [line.split("|") for line in q.stdout.splitlines()]
        t.eq([g[0] for g in got], ["F", "A"], "PostgreSQL rows: " + q.stderr)
        if len(got) == 2:
            t.eq(sorted(got[0][1].split()), failed_ids(s1), "PostgreSQL: day 1's failures")
            t.eq(sorted(got[1][1].split()), failed_ids(s5), "PostgreSQL: day 5's failures")
        rc, out, err = run_tlsgrade(["history", "--format", "json", url])
        recs = json.loads(out)["servers"][0]["records"] if rc == 0 else []
        t.eq([r["grade"] for r in recs], ["F", "A"], "history from PostgreSQL: " + err)
        rc, _, err = run_tlsgrade(["--history", "postgresql://u:secret@127.0.0.1:1/x", DAY1])
        t.check(rc == 1 and "secret" not in err and "***" in err,
                "a refused URL: exit 1, password hidden: %r" % err)
        big_timeline(t, url, data, port)
    finally:
        subprocess.run(as_pg + [os.path.join(bindir, "pg_ctl"), "-D", data + "/db", "-w", "-m",
                                "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def live_intervals(t):
    """A live capture with --interval appends each interval's report; the
    history is opened before the capture drops to nobody (-Z default)."""
    if os.getuid() != 0:
        t.check(False, "live capture needs root")
        return
    d = tempfile.mkdtemp(prefix="tlsgrade-history-live-")
    os.chmod(d, 0o777)
    db, report = os.path.join(d, "live.db"), os.path.join(d, "r.json")
    port = free_port()
    tg = os.environ.get("TLSGRADE", os.path.join(TOP, "tlsgrade"))
    proc = subprocess.Popen([tg, "-i", "lo", "-f", "tcp port %d" % port, "--format", "json",
                             "-o", report, "--interval", "1", "--history", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stderr.readline()
        t.check(b"listening on" in line, "started: %r" % line)
        openssl_handshakes(d, port)
        time.sleep(2.5)  # at least one interval report after the connection ended
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    t.eq(proc.returncode, 0, "exit status after SIGINT: " + err.decode())
    got = [r for r in rows(db) if r[2] == port] if os.path.exists(db) else []
    t.check(len(got) >= 2, "the interval reports and the last one appended: %d rows" % len(got))
    t.check(all(r[9] == "interval" and r[1] == "127.0.0.1" for r in got),
            "kind interval, the server's address: %r" % (got[:1],))
    shutil.rmtree(d, ignore_errors=True)


def main():
    t = Suite()
    t.run(seed_story)
    t.run(html_past_grades)
    t.run(change_in_one_capture)
    t.run(merged)
    t.run(refusals)
    t.run(concurrent_sensors)
    t.run(postgres)
    t.run(live_intervals)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
