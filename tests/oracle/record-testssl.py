#!/usr/bin/env python3
"""tests/oracle/record-testssl.py - record testssl.sh scans of local servers.

testssl.sh (Debian's `testssl`, 3.0.x) probes a server actively, the SSL Labs
way.  This script stands up one server at a time on 127.0.0.1 (nginx,
`openssl s_server -www`, `gnutls-serv --http`), records on `lo` with tcpdump
everything testssl sends it, and keeps the capture and testssl's JSON
findings as test data.  tests/e2e/test_testssl_oracle.py then grades each
recorded capture with tlsgrade and compares with testssl's findings; that
test is part of `make test`, this script is not (a scan takes minutes).

Re-recording (root, for tcpdump and the private network namespace; needs
testssl.sh, nginx, gnutls-bin, openssl, tcpdump, util-linux, iproute2, i.e.
`make deps`):

    tests/oracle/record-testssl.py                 # every server
    tests/oracle/record-testssl.py strong expired  # only these
    tests/oracle/record-testssl.py --new-pki       # new keys, every server

It writes tests/data/testssl/ (or $TESTSSL_DATA):
  NAME.pcap.gz           tcpdump's recording of the scan of server NAME
  NAME.json.gz           testssl's flat JSON findings (--jsonfile)
  manifest.json          per server: host name (SNI), port, software and the
                         configuration it ran; tool versions; recording date
  pki/                   the PKI the servers used (made once with openssl, kept:
                         root.pem, int.pem, NAME.pem and NAME.key per leaf,
                         dh1024.pem); `--new-pki` makes a new one, and then
                         every server must be re-recorded
Leaves are valid 2025-01-01..2045-01-01 (expired.pem: 2020..2021).

Everything runs in a private network namespace (`unshare --net`, only its
own loopback is up): gnutls-serv cannot be told an address and listens on
all of them, and here "all" is this namespace's 127.0.0.1.  Servers, tcpdump
and testssl are started and stopped one after another, each by its PID.
"""
import datetime
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.environ.get("TESTSSL_DATA", os.path.join(TOP, "tests", "data", "testssl"))
DOMAIN = "oracle.example.test"

# testssl's checks: only what the grade and the checks need.  -p protocols,
# -s cipher categories, -P server preference, -S server defaults
# (certificate), -f forward secrecy, -4 RC4, -W SWEET32, -F FREAK, -J Logjam,
# -D DROWN, -A BEAST, -R renegotiation, -O POODLE, -C CRIME, -Z fallback
# SCSV, -c client simulation (real browsers' hellos).
TESTSSL_CHECKS = ["-p", "-s", "-P", "-S", "-f", "-4", "-W", "-F", "-J", "-D", "-A", "-R",
                  "-O", "-C", "-Z", "-c"]

MODERN_RSA = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"

# name: (software, leaf, configuration).  Ports count from 24601 in this order.
# GnuTLS 3.7's NORMAL (Debian 12) still enables TLS 1.0 and 1.1: the 3des and
# selfsigned servers speak them too.
SERVERS = [
    ("strong", "nginx", "strong", {
        "protocols": "TLSv1.2 TLSv1.3", "prefer_server": True,
        "ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                   "ECDHE-ECDSA-CHACHA20-POLY1305"}),
    ("clientorder", "s_server", "clientorder", {
        "args": ["-cipher", MODERN_RSA + ":ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA"]}),
    ("tls10", "gnutls", "tls10", {"priority": "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1"}),
    ("rsakx", "nginx", "rsakx", {
        "protocols": "TLSv1.2", "prefer_server": True,
        "ciphers": "AES128-GCM-SHA256:AES256-GCM-SHA384"}),
    ("dhe1024", "s_server", "dhe1024", {
        "args": ["-no_tls1_3", "-serverpref", "-dhparam", "@dh1024", "-cipher",
                 "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=1"]}),
    ("3des", "gnutls", "3des", {"priority": "NORMAL:+3DES-CBC:%SERVER_PRECEDENCE"}),
    ("selfsigned", "gnutls", "selfsigned", {"priority": "NORMAL:%SERVER_PRECEDENCE"}),
    ("expired", "s_server", "expired", {"args": ["-serverpref", "-cipher", MODERN_RSA]}),
    ("mismatch", "nginx", "mismatch", {
        "protocols": "TLSv1.2 TLSv1.3", "prefer_server": True, "ciphers": MODERN_RSA}),
    ("incomplete", "nginx", "incomplete", {
        "protocols": "TLSv1.2 TLSv1.3", "prefer_server": True, "ciphers": MODERN_RSA,
        "leaf_only": True}),
]

# Leaves: name -> (key, SAN names, validity or None for 2025-01-01..2045-01-01,
# signer: "int" or "self").  The SNI testssl sends is always NAME.DOMAIN.
LEAVES = {
    "strong": ("ec", None, None, "int"),
    "clientorder": ("rsa", None, None, "int"),
    "tls10": ("rsa", None, None, "int"),
    "rsakx": ("rsa", None, None, "int"),
    "dhe1024": ("rsa", None, None, "int"),
    "3des": ("rsa", None, None, "int"),
    "selfsigned": ("rsa", None, None, "self"),
    "expired": ("rsa", None, ("20200101000000Z", "20210101000000Z"), "int"),
    "mismatch": ("rsa", ["www.example.org", "example.org"], None, "int"),
    "incomplete": ("rsa", None, None, "int"),
}


def host_of(name):
    return "%s.%s" % (name, DOMAIN)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def make_key(path, kind):
    if kind == "ec":
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", path])
    else:
        run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", path])


def make_pki(d):
    """Root, intermediate and one leaf per server in d (openssl ca, SHA-256)."""
    os.makedirs(os.path.join(d, "new"))
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = oracle_ca\n[oracle_ca]\ndatabase = %s/index.txt\n"
                "new_certs_dir = %s/new\nrand_serial = yes\ndefault_md = sha256\n"
                "policy = policy_any\nunique_subject = no\nemail_in_dn = no\n"
                "copy_extensions = none\n[policy_any]\ncommonName = supplied\n"
                "organizationName = optional\n"
                "[v3_ca]\nbasicConstraints = critical,CA:TRUE\n"
                "keyUsage = critical,keyCertSign,cRLSign\n"
                "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
                "[v3_leaf]\nbasicConstraints = critical,CA:FALSE\n"
                "keyUsage = critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage = serverAuth\nsubjectAltName = $ENV::SAN\n"
                "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n" % (d, d))
    cnf = os.path.join(d, "ca.cnf")
    ca_start, ca_end = "20200101000000Z", "20500101000000Z"
    subj = "/O=tlsgrade testssl oracle/CN="
    p = lambda n: os.path.join(d, n)  # noqa: E731
    env = dict(os.environ, SAN="DNS:unused")
    make_key(p("root.key"), "rsa")
    run(["openssl", "req", "-new", "-key", p("root.key"), "-subj", subj + "Oracle Root CA",
         "-out", p("root.csr")])
    run(["openssl", "ca", "-batch", "-config", cnf, "-selfsign", "-keyfile", p("root.key"),
         "-in", p("root.csr"), "-out", p("root.pem"), "-extensions", "v3_ca", "-notext",
         "-startdate", ca_start, "-enddate", ca_end], env=env)
    make_key(p("int.key"), "rsa")
    run(["openssl", "req", "-new", "-key", p("int.key"), "-subj",
         subj + "Oracle Intermediate CA", "-out", p("int.csr")])
    run(["openssl", "ca", "-batch", "-config", cnf, "-cert", p("root.pem"), "-keyfile",
         p("root.key"), "-in", p("int.csr"), "-out", p("int.pem"), "-extensions", "v3_ca",
         "-notext", "-startdate", ca_start, "-enddate", ca_end], env=env)
    start, end = "20250101000000Z", "20450101000000Z"
    for name, (kind, sans, validity, signer) in LEAVES.items():
        make_key(p(name + ".key"), kind)
        sans = sans or [host_of(name)]
        run(["openssl", "req", "-new", "-key", p(name + ".key"), "-subj", subj + sans[0],
             "-out", p(name + ".csr")])
        s, e = validity or (start, end)
        env = dict(os.environ, SAN=",".join("DNS:" + n for n in sans))
        if signer == "self":
            run(["openssl", "ca", "-batch", "-config", cnf, "-selfsign", "-keyfile",
                 p(name + ".key"), "-in", p(name + ".csr"), "-out", p(name + ".pem"),
                 "-extensions", "v3_leaf", "-notext", "-startdate", s, "-enddate", e], env=env)
        else:
            run(["openssl", "ca", "-batch", "-config", cnf, "-cert", p("int.pem"), "-keyfile",
                 p("int.key"), "-in", p(name + ".csr"), "-out", p(name + ".pem"),
                 "-extensions", "v3_leaf", "-notext", "-startdate", s, "-enddate", e], env=env)
    run(["openssl", "dhparam", "-out", p("dh1024.pem"), "1024"])


def nginx_conf(d, name, port, cfg):
    leaf = os.path.join(d, name + (".pem" if cfg.get("leaf_only") else ".chain.pem"))
    prefix = os.path.join(d, "nginx-" + name)
    os.makedirs(prefix, exist_ok=True)
    conf = os.path.join(prefix, "nginx.conf")
    temps = "".join("  %s_temp_path %s/%s;\n" % (t, prefix, t)
                    for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    with open(conf, "w") as f:
        f.write("daemon off;\nmaster_process off;\nworker_processes 1;\npid %s/nginx.pid;\n"
                "error_log %s/error.log;\nevents { worker_connections 512; }\nhttp {\n"
                "  access_log off;\n%s"
                "  server {\n    listen 127.0.0.1:%d ssl;\n    server_name %s;\n"
                "    ssl_certificate %s;\n    ssl_certificate_key %s;\n"
                "    ssl_protocols %s;\n    ssl_ciphers %s;\n"
                "    ssl_prefer_server_ciphers %s;\n"
                "    location / { return 200 \"ok\\n\"; }\n  }\n}\n"
                % (prefix, prefix, temps, port, host_of(name), leaf,
                   os.path.join(d, name + ".key"), cfg["protocols"], cfg["ciphers"],
                   "on" if cfg["prefer_server"] else "off"))
    return ["nginx", "-p", prefix, "-e", os.path.join(prefix, "error.log"), "-c", conf], \
        open(conf).read()


def server_command(d, name, software, leaf, port, cfg):
    """(argv, description of the configuration) of server NAME."""
    if software == "nginx":
        return nginx_conf(d, name, port, cfg)
    if software == "s_server":
        args = [a.replace("@dh1024", os.path.join(d, "dh1024.pem")) for a in cfg["args"]]
        argv = ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-www", "-quiet",
                "-cert", os.path.join(d, leaf + ".pem"), "-key", os.path.join(d, leaf + ".key"),
                "-cert_chain", os.path.join(d, "int.pem")] + args
        return argv, "openssl s_server -www " + " ".join(cfg["args"])
    argv = ["gnutls-serv", "--http", "-a", "-p", str(port), "--priority", cfg["priority"],
            "--x509certfile", os.path.join(d, leaf + ".chain.pem"),
            "--x509keyfile", os.path.join(d, leaf + ".key")]
    return argv, "gnutls-serv --http --priority " + cfg["priority"]


def wait_port(port, proc, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with status %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("nothing listens on port %d" % port)


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_tcpdump(pcap, port):
    dump = subprocess.Popen(["tcpdump", "-n", "-i", "lo", "-U", "--immediate-mode", "-s", "0",
                             "-Z", "root", "-w", pcap, "tcp port %d" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = dump.stderr.readline()
    if "listening on" not in line:
        stop(dump)
        raise RuntimeError("tcpdump did not start: %r" % line)
    return dump


def gzip_to(src, dst):
    with open(src, "rb") as f, gzip.GzipFile(dst, "wb", 9, mtime=0) as g:
        shutil.copyfileobj(f, g)


def record(d, name, software, leaf, port, cfg):
    """Scan server NAME on PORT; returns its manifest entry."""
    argv, described = server_command(d, name, software, leaf, port, cfg)
    log = open(os.path.join(d, name + ".server.log"), "w")
    srv = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    pcap, findings = os.path.join(d, name + ".pcap"), os.path.join(d, name + ".json")
    try:
        wait_port(port, srv)
        dump = start_tcpdump(pcap, port)
        try:
            t0 = time.time()
            scan = subprocess.run(
                ["testssl", "--quiet", "--color", "0", "--warnings", "off", "-n", "none",
                 "--ip=127.0.0.1", "--add-ca", os.path.join(d, "root.pem"), "--jsonfile",
                 findings] + TESTSSL_CHECKS + ["%s:%d" % (host_of(name), port)],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=3600)
            took = time.time() - t0
            time.sleep(0.5)  # the last FIN/ACKs reach the capture
        finally:
            stop(dump, signal.SIGINT)
    finally:
        stop(srv)
        log.close()
    if not os.path.exists(findings):
        raise RuntimeError("testssl wrote no JSON (status %d): %s" % (
            scan.returncode, scan.stdout[-2000:] + scan.stderr[-2000:]))
    gzip_to(pcap, os.path.join(OUT, name + ".pcap.gz"))
    gzip_to(findings, os.path.join(OUT, name + ".json.gz"))
    print("%-12s %-9s port %d: testssl %.0f s, status %d, capture %d bytes" % (
        name, software, port, took, scan.returncode, os.path.getsize(pcap)), flush=True)
    return {"host": host_of(name), "port": port, "software": software, "leaf": leaf,
            "config": described.replace(d, "$TMP"), "testssl_seconds": round(took)}


def version_of(argv):
    p = subprocess.run(argv, capture_output=True, text=True)
    text = (p.stdout + p.stderr).replace("\x1b", "")
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def testssl_version():
    out = subprocess.run(["testssl", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"testssl\S*\s+(\d[\w.]*)", re.sub("\x1b\\[[0-9;]*m", "", out))
    return m.group(1) if m else "?"


def main(only):
    if os.getuid() != 0:
        sys.exit("record-testssl: run as root (tcpdump on lo, unshare --net)")
    if os.environ.get("RECORD_TESTSSL_NETNS") != "1":
        # Re-run in a private network namespace with only its loopback up.
        env = dict(os.environ, RECORD_TESTSSL_NETNS="1")
        os.execvpe("unshare", ["unshare", "--net", "--", sys.executable,
                               os.path.abspath(__file__)] + only, env)
    run(["ip", "link", "set", "lo", "up"])
    os.makedirs(OUT, exist_ok=True)
    new_pki = "--new-pki" in only
    only = [n for n in only if n != "--new-pki"]
    unknown = [n for n in only if n not in [s[0] for s in SERVERS]]
    if unknown:
        sys.exit("record-testssl: no server named %s" % " ".join(unknown))
    pki = os.path.join(OUT, "pki")
    d = tempfile.mkdtemp(prefix="record-testssl.")
    try:
        if new_pki or not os.path.exists(os.path.join(pki, "root.pem")):
            if only:
                sys.exit("record-testssl: a new PKI needs every server re-recorded")
            work = os.path.join(d, "ca")
            make_pki(work)
            shutil.rmtree(pki, ignore_errors=True)
            os.makedirs(pki)
            for f in os.listdir(work):
                if f.endswith((".pem", ".key")) and not f.endswith(".chain.pem"):
                    shutil.copy(os.path.join(work, f), os.path.join(pki, f))
        shutil.copytree(pki, d, dirs_exist_ok=True)
        for name, (kind, sans, validity, signer) in LEAVES.items():
            with open(os.path.join(d, name + ".chain.pem"), "w") as f:
                for part in [name + ".pem"] + (["int.pem"] if signer == "int" else []):
                    f.write(open(os.path.join(d, part)).read())
        mpath = os.path.join(OUT, "manifest.json")
        manifest = {"servers": {}}
        if only and os.path.exists(mpath):
            manifest = json.load(open(mpath))
        manifest["recorded"] = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        manifest["tools"] = {
            "testssl": testssl_version(),
            "testssl_checks": TESTSSL_CHECKS,
            "openssl": version_of(["openssl", "version"]),
            "nginx": version_of(["nginx", "-v"]),
            "gnutls": version_of(["gnutls-serv", "--version"]),
        }
        for i, (name, software, leaf, cfg) in enumerate(SERVERS):
            if only and name not in only:
                continue
            manifest["servers"][name] = record(d, name, software, leaf, 24601 + i, cfg)
            with open(mpath, "w") as f:
                json.dump(manifest, f, indent=1, sort_keys=True)
                f.write("\n")
    finally:
        if os.environ.get("KEEP_TMP"):
            print("kept", d)
        else:
            shutil.rmtree(d)


if __name__ == "__main__":
    main(sys.argv[1:])
