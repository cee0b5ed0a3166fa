"""Handshakes that the test itself configured, recorded live on lo.

The test makes its own PKI with the openssl CLI (an RSA-2048 CA, an RSA-2048
leaf, an ECDSA P-256 leaf, a client certificate, an OCSP response, 2048-bit
DH parameters), then for each configuration records with tcpdump one or more
openssl s_server/s_client exchanges on 127.0.0.1 (and one STARTTLS SMTP
exchange with a scripted Python peer), and runs tlsgrade --handshakes over
the recording.  Every expected value comes from what the test configured
(protocol version, cipher suite, group, DH parameters, certificates and
their DER hashes, SNI, ALPN, resumption, OCSP staple, client certificate,
STARTTLS) -- never from tlsgrade's output.  Needs root (or CAP_NET_RAW) for
tcpdump; without it every configuration fails with that reason.
"""
import datetime
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from oracle import Suite, free_port, run_tlsgrade

TMP = tempfile.mkdtemp(prefix="tlsgrade-hs-")
SAN_DNS = ["localhost", "tls.example.test"]  # the server certificates' DNS names
PKI = {}  # name -> path, and "<cert>.sha256" -> hex SHA-256 of the DER

IANA = {  # OpenSSL cipher name -> (IANA name, id)
    "ECDHE-RSA-AES256-SHA": ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xC014),
    "ECDHE-RSA-AES128-SHA": ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xC013),
    "ECDHE-RSA-AES128-GCM-SHA256": ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC02F),
    "ECDHE-RSA-AES256-GCM-SHA384": ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xC030),
    "DHE-RSA-AES256-GCM-SHA384": ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", 0x009F),
    "ECDHE-ECDSA-AES128-GCM-SHA256": ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xC02B),
    "TLS_AES_256_GCM_SHA384": ("TLS_AES_256_GCM_SHA384", 0x1302),
}
VERSION_FLAG = {"-tls1": "TLSv1.0", "-tls1_1": "TLSv1.1", "-tls1_2": "TLSv1.2",
                "-tls1_3": "TLSv1.3"}


# ---------------------------------------------------------------- the PKI

def openssl(*args, **kw):
    p = subprocess.run(["openssl"] + list(args), capture_output=True, timeout=60, **kw)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout


def path(name):
    return os.path.join(TMP, name)


def der_sha256(pem):
    return hashlib.sha256(openssl("x509", "-in", pem, "-outform", "der")).hexdigest()


def issue(name, newkey, cn, serial, ext):
    """A leaf signed by the CA; its key in NAME.key, certificate in NAME.pem."""
    key, csr, crt, extfile = (path(name + s) for s in (".key", ".csr", ".pem", ".ext"))
    with open(extfile, "w") as f:
        f.write(ext)
    openssl("req", "-new", "-nodes", *newkey, "-keyout", key, "-out", csr, "-subj", "/CN=" + cn)
    openssl("x509", "-req", "-in", csr, "-CA", PKI["ca"], "-CAkey", PKI["ca.key"],
            "-set_serial", serial, "-days", "2", "-sha256", "-extfile", extfile, "-out", crt)
    PKI[name], PKI[name + ".key"], PKI[name + ".sha256"] = crt, key, der_sha256(crt)


def make_pki(t):
    """Keys, certificates, DH parameters and an OCSP response, each checked
    with the openssl CLI so that the configurations below are what they say."""
    PKI["ca"], PKI["ca.key"] = path("ca.pem"), path("ca.key")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", PKI["ca.key"],
            "-out", PKI["ca"], "-days", "2", "-sha256", "-subj", "/CN=tlsgrade test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    PKI["ca.sha256"] = der_sha256(PKI["ca"])
    san = "subjectAltName=" + ",".join("DNS:" + n for n in SAN_DNS) + "\n"
    issue("rsa", ["-newkey", "rsa:2048"], "localhost", "0x1001",
          san + "extendedKeyUsage=serverAuth\n")
    issue("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "localhost", "0x1002",
          san + "extendedKeyUsage=serverAuth\n")
    issue("client", ["-newkey", "rsa:2048"], "tlsgrade test client", "0x1003",
          "extendedKeyUsage=clientAuth\n")
    for name, want in (("rsa", "Public-Key: (2048 bit)"), ("ec", "Public-Key: (256 bit)"),
                       ("client", "Public-Key: (2048 bit)")):
        t.check(want in openssl("x509", "-in", PKI[name], "-noout", "-text").decode(),
                "%s certificate has %s" % (name, want))
    t.check("NIST CURVE: P-256" in openssl("x509", "-in", PKI["ec"], "-noout", "-text").decode(),
            "ec certificate is on P-256")

    # 2048-bit DH parameters (RFC 7919 ffdhe2048: instant, unlike a fresh safe prime).
    PKI["dh"] = path("dh.pem")
    openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048",
            "-out", PKI["dh"])
    t.check("(2048 bit)" in openssl("pkeyparam", "-in", PKI["dh"], "-text", "-noout").decode(),
            "DH parameters are 2048-bit")

    # OCSP: an index where the RSA leaf is valid ("V"), a response signed by the CA.
    serial = openssl("x509", "-in", PKI["rsa"], "-noout", "-serial").decode().strip().split("=")[1]
    end = openssl("x509", "-in", PKI["rsa"], "-noout", "-enddate").decode().strip().split("=")[1]
    end = datetime.datetime.strptime(end, "%b %d %H:%M:%S %Y %Z").strftime("%y%m%d%H%M%SZ")
    index = path("index.txt")
    with open(index, "w") as f:
        f.write("V\t%s\t\t%s\tunknown\t/CN=localhost\n" % (end, serial))
    PKI["ocsp"] = path("ocsp.der")
    openssl("ocsp", "-index", index, "-rsigner", PKI["ca"], "-rkey", PKI["ca.key"],
            "-CA", PKI["ca"], "-issuer", PKI["ca"], "-cert", PKI["rsa"], "-ndays", "1",
            "-respout", PKI["ocsp"])
    text = openssl("ocsp", "-respin", PKI["ocsp"], "-resp_text", "-noverify").decode()
    t.check("Cert Status: good" in text, "the OCSP response says good")

    PKI["fullchain"] = path("fullchain.pem")
    with open(PKI["fullchain"], "w") as f:
        f.write(open(PKI["rsa"]).read() + open(PKI["ca"]).read())


# ------------------------------------------------------------ the capture

def wait_line(stream, text, timeout=15):
    """Read stream until a line containing text; returns (found, lines seen)."""
    end = time.time() + timeout
    seen = b""
    while time.time() < end:
        line = stream.readline()
        if not line:
            break
        seen += line
        if text.encode() in line:
            return True, seen
    return False, seen


def record(name, port, exchange):
    """Record exchange(port) with tcpdump on lo; returns (pcap path, its result)."""
    if os.getuid() != 0:
        raise RuntimeError("tcpdump on lo needs root (or CAP_NET_RAW); run this test as root")
    pcap = path(name + ".pcap")
    dump = subprocess.Popen(["tcpdump", "-n", "-i", "lo", "-U", "--immediate-mode", "-w", pcap,
                             "tcp port %d" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ok, seen = wait_line(dump.stderr, "listening on")
        if not ok:
            raise RuntimeError("tcpdump did not start: %r" % seen)
        result = exchange(port)
        time.sleep(0.2)  # let the last FIN/ACKs reach the capture
    finally:
        dump.send_signal(signal.SIGTERM)
        try:
            dump.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            dump.kill()
            dump.communicate()
    return pcap, result


class Server:
    """openssl s_server on 127.0.0.1:port, started once it prints ACCEPT."""

    def __init__(self, port, args, naccept=1):
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-naccept", str(naccept)]
            + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ok, seen = wait_line(self.proc.stdout, "ACCEPT")
        self.out = [seen]
        if not ok:
            self.stop()
            raise RuntimeError("s_server did not start: %r" % seen)
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.out.append(line)

    def stop(self):
        """Wait for s_server to end after its -naccept connections."""
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return False
        return True


def s_client(port, args, data=b"hello over tls\n"):
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + args,
                       input=data, capture_output=True, timeout=30)
    return p


def openssl_exchange(server_args, client_args_list, naccept=None):
    """One s_server, then the s_clients one after the other."""
    def run(port):
        srv = Server(port, server_args, naccept or len(client_args_list))
        clients = []
        try:
            for args in client_args_list:
                clients.append(s_client(port, args))
        finally:
            ended = srv.stop()
        return {"clients": clients, "server_ended": ended, "server_out": b"".join(srv.out)}
    return run


def handshakes(t, pcap):
    rc, out, err = run_tlsgrade(["--handshakes", pcap])
    t.eq(rc, 0, "tlsgrade exit status (%s)" % err.strip())
    hs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return sorted(hs, key=lambda h: h.get("frame", 0))


# ------------------------------------------------------------ the checks

def server_args(cert="rsa", extra=()):
    return ["-cert", PKI[cert], "-key", PKI[cert + ".key"], "-cert_chain", PKI["ca"]] + list(extra)


def check_common(t, h, port, conf):
    """Facts every connection carries, from the configuration conf:
    version flag, OpenSSL cipher name, leaf name (or None when the chain is
    not visible), and the optional features."""
    what = lambda s: "%s: %s" % (conf["name"], s)
    t.eq(h.get("server"), "127.0.0.1:%d" % port, what("server endpoint"))
    client = h.get("client", "")
    t.check(client.startswith("127.0.0.1:") and client != h.get("server"),
            what("client endpoint %r" % client))
    t.eq(h.get("transport"), "tcp", what("transport"))
    t.eq(h.get("established"), True, what("established"))
    t.eq(h.get("version"), VERSION_FLAG[conf["version"]], what("version"))
    name, cid = IANA[conf["cipher"]]
    t.eq(h.get("cipher"), name, what("cipher"))
    t.eq(h.get("cipher_id"), cid, what("cipher_id"))
    t.check(cid in h.get("client_ciphers", []), what("the client offered 0x%04x" % cid))
    if conf.get("client_unlimited"):  # the client was not limited: it offered what was chosen
        t.check(VERSION_FLAG[conf["version"]] in h.get("client_versions", []),
                what("client_versions %r include the version" % h.get("client_versions")))
    else:  # a version flag on s_client: it offered that version alone
        t.eq(h.get("client_versions"), [VERSION_FLAG[conf["version"]]], what("client_versions"))
    t.eq(h.get("sni"), conf.get("sni"), what("sni"))
    t.eq(h.get("alpn"), conf.get("alpn"), what("alpn"))
    t.eq(h.get("resumed"), conf.get("resumed", False), what("resumed"))
    t.eq(h.get("ocsp_stapled"), conf.get("ocsp") is not None, what("ocsp_stapled"))
    t.eq(h.get("ocsp_status"), conf.get("ocsp"), what("ocsp_status"))
    t.eq(h.get("client_certificates"), conf.get("client_certificates"),
         what("client_certificates"))
    t.eq(h.get("starttls"), conf.get("starttls"), what("starttls"))
    if "group" in conf:
        t.eq((h.get("group"), h.get("group_id")), conf["group"], what("group"))
    if "dh_bits" in conf:
        t.eq(h.get("dh_bits"), conf["dh_bits"], what("dh_bits"))
    chain = h.get("cert_chain")
    leaf = conf.get("leaf")
    if leaf is None:  # TLS 1.3 (encrypted) or resumed: no certificate on the wire
        t.eq(chain, [], what("cert_chain (none visible)"))
        return
    key_type, key_bits = {"rsa": ("rsa", 2048), "ec": ("ec", 256)}[leaf]
    if not t.eq(len(chain or []), 2, what("cert_chain length (leaf + CA, -cert_chain)")):
        return
    c0, c1 = chain
    t.eq(c0.get("sha256"), PKI[leaf + ".sha256"], what("leaf sha256"))
    t.eq(c0.get("key_type"), key_type, what("leaf key_type"))
    t.eq(c0.get("key_bits"), key_bits, what("leaf key_bits"))
    t.eq(c0.get("subject_cn"), "localhost", what("leaf subject_cn"))
    t.eq(c0.get("issuer_cn"), "tlsgrade test CA", what("leaf issuer_cn"))
    t.eq(c0.get("san"), SAN_DNS, what("leaf san"))
    t.eq(c1.get("sha256"), PKI["ca.sha256"], what("CA sha256"))
    t.eq((c1.get("key_type"), c1.get("key_bits")), ("rsa", 2048), what("CA key"))


def run_config(t, conf, server, clients, naccept=None):
    """Record one s_server and its s_clients, and check each connection."""
    port = free_port()
    pcap, res = record(conf["name"], port, openssl_exchange(server, clients, naccept))
    for i, c in enumerate(res["clients"]):
        t.eq(c.returncode, 0, "%s: s_client %d exit status (%s)" % (
            conf["name"], i + 1, c.stderr.decode()[-300:].strip()))
    t.check(res["server_ended"], "%s: s_server ended after its connections" % conf["name"])
    hs = handshakes(t, pcap)
    if not t.eq(len(hs), len(clients), "%s: handshakes" % conf["name"]):
        return hs, res, port
    per = conf.get("per_connection", [{}] * len(clients))
    for h, extra in zip(hs, per):
        check_common(t, h, port, dict(conf, **extra))
    return hs, res, port


def tls10(t):
    c = "ECDHE-RSA-AES256-SHA"
    opts = ["-tls1", "-cipher", c + ":@SECLEVEL=0"]
    run_config(t, {"name": "tls10", "version": "-tls1", "cipher": c, "leaf": "rsa"},
               server_args(extra=opts), [opts])


def tls11(t):
    c = "ECDHE-RSA-AES128-SHA"
    opts = ["-tls1_1", "-cipher", c + ":@SECLEVEL=0"]
    run_config(t, {"name": "tls11", "version": "-tls1_1", "cipher": c, "leaf": "rsa"},
               server_args(extra=opts), [opts])


def tls12_ecdhe_p384(t):
    c = "ECDHE-RSA-AES128-GCM-SHA256"
    opts = ["-tls1_2", "-cipher", c, "-groups", "P-384"]
    run_config(t, {"name": "tls12_ecdhe_p384", "version": "-tls1_2", "cipher": c,
                   "leaf": "rsa", "group": ("secp384r1", 24)},
               server_args(extra=opts), [opts])


def tls12_dhe(t):
    c = "DHE-RSA-AES256-GCM-SHA384"
    opts = ["-tls1_2", "-cipher", c]
    run_config(t, {"name": "tls12_dhe", "version": "-tls1_2", "cipher": c, "leaf": "rsa",
                   "dh_bits": 2048},
               server_args(extra=opts + ["-dhparam", PKI["dh"]]), [opts])


def tls13(t):
    c = "TLS_AES_256_GCM_SHA384"
    opts = ["-tls1_3", "-ciphersuites", c, "-groups", "X25519"]
    run_config(t, {"name": "tls13", "version": "-tls1_3", "cipher": c, "leaf": None,
                   "group": ("x25519", 29)},
               server_args(extra=opts), [opts])


def tls12_ecdsa(t):
    c = "ECDHE-ECDSA-AES128-GCM-SHA256"
    opts = ["-tls1_2", "-cipher", c]
    run_config(t, {"name": "tls12_ecdsa", "version": "-tls1_2", "cipher": c, "leaf": "ec"},
               server_args("ec", opts), [opts])


def sni_alpn(t):
    c = "ECDHE-RSA-AES256-GCM-SHA384"
    opts = ["-tls1_2", "-cipher", c, "-alpn", "h2"]
    run_config(t, {"name": "sni_alpn", "version": "-tls1_2", "cipher": c, "leaf": "rsa",
                   "sni": "tls.example.test", "alpn": "h2"},
               server_args(extra=opts), [opts + ["-servername", "tls.example.test"]])


def resumption(t):
    c = "ECDHE-RSA-AES128-GCM-SHA256"
    opts = ["-tls1_2", "-cipher", c]
    sess = path("session.pem")
    hs, res, port = run_config(
        t, {"name": "resumption", "version": "-tls1_2", "cipher": c,
            "per_connection": [{"leaf": "rsa"}, {"leaf": None, "resumed": True}]},
        server_args(extra=opts), [opts + ["-sess_out", sess], opts + ["-sess_in", sess]])
    # The configuration did resume: s_client says so for the second connection.
    outs = [c.stdout.decode("utf-8", "replace") for c in res["clients"]]
    t.check(len(outs) == 2 and "New, " in outs[0] and "Reused, " in outs[1],
            "resumption: s_client reports New then Reused")


def ocsp(t):
    c = "ECDHE-RSA-AES128-GCM-SHA256"
    opts = ["-tls1_2", "-cipher", c]
    hs, res, port = run_config(
        t, {"name": "ocsp", "version": "-tls1_2", "cipher": c, "leaf": "rsa", "ocsp": "good"},
        server_args(extra=opts + ["-status_file", PKI["ocsp"]]), [opts + ["-status"]])
    outs = [c.stdout.decode("utf-8", "replace") for c in res["clients"]]
    t.check(outs and "Cert Status: good" in outs[0], "ocsp: s_client received the staple")


def client_cert(t):
    c = "ECDHE-RSA-AES128-GCM-SHA256"
    opts = ["-tls1_2", "-cipher", c]
    hs, res, port = run_config(
        t, {"name": "client_cert", "version": "-tls1_2", "cipher": c, "leaf": "rsa",
            "client_certificates": 1},
        server_args(extra=opts + ["-Verify", "1", "-CAfile", PKI["ca"]]),
        # No -CAfile on the client: it cannot build a chain, so it sends its leaf alone.
        [opts + ["-cert", PKI["client"], "-key", PKI["client.key"]]])
    t.check(b"CN = tlsgrade test client" in res["server_out"],
            "client_cert: s_server saw the client certificate")


def smtp_peer(lsock, result):
    """A scripted SMTP server: greeting, EHLO, STARTTLS, TLS, one line, close."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    ctx.load_cert_chain(PKI["fullchain"], PKI["rsa.key"])

    def line(sock):
        buf = b""
        while not buf.endswith(b"\n"):
            b = sock.recv(1)
            if not b:
                break
            buf += b
        return buf
    try:
        conn, _ = lsock.accept()
        conn.settimeout(15)
        conn.sendall(b"220 test ESMTP\r\n")
        result["ehlo"] = line(conn)
        conn.sendall(b"250-test\r\n250 STARTTLS\r\n")
        result["starttls"] = line(conn)
        conn.sendall(b"220 Ready\r\n")
        tls = ctx.wrap_socket(conn, server_side=True)
        result["version"], result["cipher"] = tls.version(), tls.cipher()[0]
        result["data"] = line(tls)
        tls.close()
    except Exception as e:  # reported by the test
        result["error"] = repr(e)
    finally:
        lsock.close()


def starttls_smtp(t):
    c = "ECDHE-RSA-AES128-GCM-SHA256"

    def exchange(port):
        lsock = socket.socket()
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", port))
        lsock.listen(1)
        result = {}
        peer = threading.Thread(target=smtp_peer, args=(lsock, result), daemon=True)
        peer.start()
        result["client"] = s_client(port, ["-starttls", "smtp"], b"QUIT\r\n")
        peer.join(15)
        return result

    port = free_port()
    pcap, res = record("starttls_smtp", port, exchange)
    t.check("error" not in res, "starttls_smtp: the SMTP peer: %s" % res.get("error"))
    t.eq(res["client"].returncode, 0, "starttls_smtp: s_client exit status")
    t.check(res.get("starttls", b"").upper().startswith(b"STARTTLS"),
            "starttls_smtp: the client asked for STARTTLS (%r)" % res.get("starttls"))
    t.eq((res.get("version"), res.get("cipher")), ("TLSv1.2", c),
         "starttls_smtp: the Python context forced version and cipher")
    hs = handshakes(t, pcap)
    if t.eq(len(hs), 1, "starttls_smtp: handshakes"):
        check_common(t, hs[0], port, {
            "name": "starttls_smtp", "version": "-tls1_2", "cipher": c, "leaf": "rsa",
            "starttls": "smtp", "client_unlimited": True})


CONFIGS = [tls10, tls11, tls12_ecdhe_p384, tls12_dhe, tls13, tls12_ecdsa, sni_alpn,
           resumption, ocsp, client_cert, starttls_smtp]


def main():
    t = Suite()
    if os.getuid() != 0:
        print("  this test records on lo with tcpdump: it needs root (or CAP_NET_RAW)")
    t.run(make_pki)
    for fn in CONFIGS:
        t.run(fn)
    if os.environ.get("KEEP_TMP"):  # debugging: keep the captures and the PKI
        print("kept", TMP)
    else:
        shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
