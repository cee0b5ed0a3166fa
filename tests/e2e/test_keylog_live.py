"""--keylog on connections the test makes itself, recorded live on lo:
every record protection tlsgrade claims to open, and HTTP/2.

openssl s_client (with -keylogfile) talks to a small Python TLS server
that answers HTTP/1.1 (or HTTP/2 when ALPN says h2) with a
Strict-Transport-Security header the test chose.  For each configuration
(TLS 1.0 CBC with chained IVs, TLS 1.2 CBC with and without
encrypt-then-MAC, ChaCha20-Poly1305 and AES-256-GCM in TLS 1.2 and 1.3,
TLS 1.3 key updates in both directions) the expected values are what the
test configured and sent; the HTTP/2 header is also checked against what
tshark decrypts with the same key log.  Needs root (tcpdump on lo).
"""
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
import warnings

from oracle import TOP, Suite, free_port, run_tlsgrade

CERTS = os.path.join(TOP, "samples", "certs")
TMP = tempfile.mkdtemp(prefix="tlsgrade-keylog-")
STS = "max-age=31536000; includeSubDomains"
warnings.filterwarnings("ignore", category=DeprecationWarning)  # TLS 1.0 on purpose


def h2_frame(ftype, flags, stream, payload):
    return (len(payload).to_bytes(3, "big") + bytes([ftype, flags]) +
            stream.to_bytes(4, "big") + payload)


def h2_response():
    """SETTINGS, then HEADERS on stream 1: :status 200 (static index 8) and
    strict-transport-security as a literal without indexing, new name
    (RFC 7541 6.2.2), then DATA ending the stream."""
    name, value = b"strict-transport-security", STS.encode()
    block = b"\x88" + b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
    return (h2_frame(4, 0, 0, b"") + h2_frame(1, 4, 1, block) + h2_frame(0, 1, 1, b"ok"))


def serve(lsock, ctx, requests, result):
    """Answer `requests` HTTP/1.1 requests (or one HTTP/2 exchange)."""
    try:
        conn, _ = lsock.accept()
        tls = ctx.wrap_socket(conn, server_side=True)
        if tls.selected_alpn_protocol() == "h2":
            tls.recv(4096)
            tls.sendall(h2_response())
        else:
            buf = b""
            for _ in range(requests):
                while b"\r\n\r\n" not in buf:
                    data = tls.recv(4096)
                    if not data:
                        raise RuntimeError("client closed early")
                    buf += data
                buf = buf.split(b"\r\n\r\n", 1)[1]
                tls.sendall(b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: " + STS.encode() +
                            b"\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(0.3)
        tls.close()
        result["ok"] = True
    except Exception as e:  # reported by the test
        result["error"] = repr(e)


def server_context(version, ciphers):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(CERTS, "a.pem"), os.path.join(CERTS, "a.key"))
    ctx.minimum_version = version
    ctx.maximum_version = version
    if ciphers:
        ctx.set_ciphers(ciphers)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


def exchange(name, version, ciphers, client_args, requests=1, stdin_steps=None):
    """Record one s_client connection; returns (pcap, keylog, error)."""
    port = free_port()
    pcap, keylog = os.path.join(TMP, name + ".pcap"), os.path.join(TMP, name + ".keylog")
    dump = subprocess.Popen(["tcpdump", "-n", "-i", "lo", "-U", "--immediate-mode", "-w", pcap,
                             "tcp port %d" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        if b"listening on" in dump.stderr.readline():
            break
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(1)
    result = {}
    srv = threading.Thread(target=serve, args=(lsock, server_context(version, ciphers), requests,
                                               result))
    srv.start()
    client = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                               "-servername", "a.example.test", "-keylogfile", keylog,
                               "-ign_eof"] + client_args,
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    for step in stdin_steps or [b"GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n"]:
        client.stdin.write(step)
        client.stdin.flush()
        time.sleep(0.3)
    srv.join(timeout=15)
    client.stdin.close()
    try:
        client.wait(timeout=10)
    except subprocess.TimeoutExpired:
        client.kill()
        client.wait()
    lsock.close()
    time.sleep(0.2)
    dump.send_signal(signal.SIGTERM)
    dump.communicate(timeout=10)
    return pcap, keylog, result.get("error") or ("" if result.get("ok") else "server timed out")


def decrypted(t, pcap, keylog):
    rc, out, err = run_tlsgrade(["--handshakes", "--keylog", keylog, pcap])
    t.check(rc == 0 and "Sanitizer" not in err, "tlsgrade ran: " + err[-300:])
    conns = [json.loads(l) for l in out.splitlines()]
    t.eq(len(conns), 1, "one connection")
    return conns[0] if conns else {}


V10, V12, V13 = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
HTTP1 = ["-alpn", "http/1.1"]

CONFIGS = [
    # name, version, server ciphers, client args, cipher expected
    ("tls10-cbc", V10, "ECDHE-RSA-AES128-SHA:@SECLEVEL=0",
     ["-tls1", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"] + HTTP1,
     "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    ("tls12-cbc-etm", V12, "ECDHE-RSA-AES128-SHA", ["-tls1_2"] + HTTP1,
     "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    ("tls12-cbc-sha384-no-etm", V12, "ECDHE-RSA-AES256-SHA384", ["-tls1_2", "-no_etm"] + HTTP1,
     "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    ("tls12-chacha", V12, "ECDHE-RSA-CHACHA20-POLY1305", ["-tls1_2"] + HTTP1,
     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("tls12-gcm-sha384", V12, "ECDHE-RSA-AES256-GCM-SHA384", ["-tls1_2"] + HTTP1,
     "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    ("tls13-chacha", V13, None,
     ["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"] + HTTP1,
     "TLS_CHACHA20_POLY1305_SHA256"),
    ("tls13-aes256", V13, None, ["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"] + HTTP1,
     "TLS_AES_256_GCM_SHA384"),
]


def one_config(t, name, version, ciphers, client_args, suite):
    pcap, keylog, error = exchange(name, version, ciphers, client_args)
    t.eq(error, "", "the exchange itself")
    c = decrypted(t, pcap, keylog)
    t.eq(c.get("cipher"), suite, "negotiated suite")
    t.eq(c.get("decryption", {}).get("status"), "ok", "decryption")
    t.eq([(r["status"], r.get("strict_transport_security")) for r in c.get("http", [])],
         [(200, STS)], "the response and its HSTS header")


def key_updates(t):
    """TLS 1.3: the client updates its keys and asks the server to update
    too (s_client's K command, RFC 8446 4.6.3); the second response comes
    under the server's updated keys."""
    req = b"GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n"
    pcap, keylog, error = exchange("tls13-keyupdate", V13, None,
                                   ["-tls1_3", "-alpn", "http/1.1", "-no_ign_eof"],
                                   requests=2, stdin_steps=[req, b"K\n", req])
    t.eq(error, "", "the exchange itself")
    c = decrypted(t, pcap, keylog)
    t.eq(c.get("decryption", {}).get("status"), "ok", "decryption across key updates")
    t.eq([r.get("strict_transport_security") for r in c.get("http", [])], [STS, STS],
         "both responses read")


def http2(t):
    """ALPN h2: the response's HEADERS frame, decoded with HPACK, gives the
    HSTS value; tshark, given the same key log, sees the same header."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0, b"")
    request = h2_frame(1, 5, 1, b"\x82\x87\x84\x41\x0ea.example.test")
    pcap, keylog, error = exchange("tls13-h2", V13, None, ["-tls1_3", "-alpn", "h2"],
                                   stdin_steps=[preface + request])
    t.eq(error, "", "the exchange itself")
    c = decrypted(t, pcap, keylog)
    t.eq(c.get("alpn"), "h2", "ALPN from the decrypted EncryptedExtensions")
    http = c.get("http", [])
    t.eq([(r["version"], r["status"], r.get("strict_transport_security")) for r in http],
         [("HTTP/2", 200, STS)], "the HTTP/2 response")
    out = subprocess.run(["tshark", "-n", "-r", pcap, "-o", "tls.keylog_file:" + keylog,
                          "-Y", "http2.header.name == \"strict-transport-security\"",
                          "-T", "fields", "-e", "frame.number"],
                         capture_output=True, timeout=120).stdout.decode().split()
    t.eq([r["frame"] for r in http], [int(f) for f in out], "frame of the HEADERS, as tshark")


def main():
    t = Suite()
    if os.getuid() != 0:
        print("  this test records on lo with tcpdump: it needs root (or CAP_NET_RAW)")
    for conf in CONFIGS:
        t.run(one_config, *conf)
    t.run(key_updates)
    t.run(http2)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
