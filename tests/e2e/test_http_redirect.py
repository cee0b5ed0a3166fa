"""Clear-text HTTP (parsed by libhtp): whether http://HOST redirects to
https://, reported on that host's TLS endpoint.

Crafted capture: two hosts on 10.4.0.1; each has a TLS connection on 443
and a plain-http request on 80.  redirect.example answers 301 to https://,
plain.example answers 200 with content (RFC 9110 15.4.2 / 15.3.1)."""
import json
import os
import shutil
import tempfile

from oracle import Suite, run_tlsgrade
from pcapgen import Conversation, client_hello, server_hello, write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-http-")


def http(cport, host, response, t0):
    conv = Conversation("10.4.0.100", cport, "10.4.0.1", 80, t0)
    conv.handshake()
    conv.client_sends(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    conv.server_sends(response)
    return conv.frames


def tls(cport, host, t0):
    conv = Conversation("10.4.0.100", cport, "10.4.0.1", 443, t0)
    conv.handshake()
    conv.client_sends(client_hello(sni=host))
    conv.server_sends(server_hello())
    return conv.frames


def redirects(t):
    frames = (http(50100, b"redirect.example",
                   b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://redirect.example/\r\n"
                   b"Content-Length: 0\r\n\r\n", 1700000000.0) +
              tls(50101, b"redirect.example", 1700000001.0) +
              http(50102, b"plain.example",
                   b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 1700000002.0) +
              tls(50103, b"plain.example", 1700000003.0))
    pcap = os.path.join(TMP, "http.pcap")
    write_pcap(pcap, frames)
    rc, out, err = run_tlsgrade(["--format", "json", pcap])
    t.eq(rc, 0, "exit status: " + err)
    servers = {s["host"]: s for s in json.loads(out)["servers"]}
    t.eq(sorted(servers), ["plain.example", "redirect.example"],
         "only the TLS endpoints are graded (the port-80 ones feed them)")
    status = {h: [c["status"] for c in s["checks"] if c["id"] == "http_redirect"][0]
              for h, s in servers.items()}
    t.eq(status, {"plain.example": "fail", "redirect.example": "pass"}, "http_redirect")
    recs = [r["check"] for r in servers.get("plain.example", {}).get("recommendations", [])]
    t.check("http_redirect" in recs, "plain.example is told to redirect: %r" % recs)
    ev = [c for c in servers["redirect.example"]["checks"] if c["id"] == "http_redirect"][0]
    t.check(ev["evidence"] and ev["evidence"][0]["sample"].endswith("http.pcap:5"),
            "the evidence is the response frame (SYN, SYN-ACK, ACK, GET, 301): %r"
            % ev["evidence"])


def main():
    t = Suite()
    t.run(redirects)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
