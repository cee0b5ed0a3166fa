"""STARTTLS: a connection that began in clear text becomes TLS only after
the client's request and the server's positive answer, each in its
protocol's own words, and TLS starts at the first byte after each.

Each protocol's exchange is crafted from its RFC's example dialogue (SMTP
RFC 3207 4, IMAP RFC 9051 6.2.1, POP3 RFC 2595 4, FTP RFC 4217 4, XMPP RFC
6120 9.1, LDAP RFC 4511 4.14 encoded by hand in BER (X.690), PostgreSQL
protocol 53.2.10, NNTP RFC 4642 2.2, ManageSieve RFC 5804 2.2): the positive
answer must switch, a refusal must not, even when bytes that look like a
hello follow.  And a page on port 80 that reflects a POST body holding a
ClientHello and a ServerHello is no TLS server.  The clear text read for
a switch is bounded (`--limit starttls-bytes`): past it the connection is
given up and counted in the report's `limits`."""
import json
import os
import shutil
import tempfile

from oracle import Suite, run_tlsgrade
from pcapgen import Conversation, client_hello, server_hello, write_pcap

TMP = tempfile.mkdtemp(prefix="tlsgrade-starttls-")
HELLO = client_hello(sni=b"mail.example.com", ciphers=(0xc02f, 0xc030))
ANSWER = server_hello(cipher=0xc030)

SMTP_GREETING = [("s", b"220 mail.example.com ESMTP service ready\r\n"),
                 ("c", b"EHLO client.example.com\r\n"),
                 ("s", b"250-mail.example.com offers a warm hug of welcome\r\n"
                       b"250-8BITMIME\r\n250-STARTTLS\r\n250 DSN\r\n"),
                 ("c", b"STARTTLS\r\n")]
IMAP_GREETING = [("s", b"* OK [CAPABILITY IMAP4rev2 STARTTLS LOGINDISABLED] ready\r\n"),
                 ("c", b"a001 STARTTLS\r\n")]
POP3_GREETING = [("s", b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
                 ("c", b"STLS\r\n")]
FTP_GREETING = [("s", b"220 ftp.example.com FTP server ready\r\n"), ("c", b"AUTH TLS\r\n")]
XMPP_GREETING = [
    ("c", b"<?xml version='1.0'?><stream:stream from='juliet@im.example.com' "
          b"to='im.example.com' version='1.0' xml:lang='en' xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams'>"),
    ("s", b"<?xml version='1.0'?><stream:stream from='im.example.com' id='t7AMCin9zjMNwQKD' "
          b"to='juliet@im.example.com' version='1.0' xml:lang='en' xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams'>"),
    ("s", b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
          b"<required/></starttls></stream:features>"),
    ("c", b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")]
NNTP_GREETING = [("s", b"200 news.example.com InterNetNews server ready\r\n"),
                 ("c", b"STARTTLS\r\n")]
SIEVE_GREETING = [("s", b'"IMPLEMENTATION" "Example1 ManageSieved v001"\r\n'
                        b'"SIEVE" "fileinto vacation"\r\n"STARTTLS"\r\nOK\r\n'),
                  ("c", b"STARTTLS\r\n")]

# LDAPMessage (RFC 4511 4.2) in BER: SEQUENCE { messageID INTEGER 1,
# extendedReq [APPLICATION 23] { requestName [0] "1.3.6.1.4.1.1466.20037" } }
LDAP_OID = b"1.3.6.1.4.1.1466.20037"
LDAP_REQUEST = (b"\x30\x1d" + b"\x02\x01\x01" + b"\x77\x18" + b"\x80\x16" + LDAP_OID)


def ldap_response(result_code):
    """extendedResp [APPLICATION 24] { resultCode ENUMERATED, matchedDN "",
    diagnosticMessage "" } to messageID 1 (RFC 4511 4.12, 4.14.2)."""
    return b"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01" + bytes([result_code]) + b"\x04\x00\x04\x00"


PG_SSLREQUEST = bytes([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])  # length 8, code 80877103

# protocol -> (port, the exchange up to the request, positive answer, refusal)
CASES = {
    "smtp": (25, SMTP_GREETING, b"220 Go ahead\r\n",
             b"454 TLS not available due to temporary reason\r\n"),
    "imap": (143, IMAP_GREETING, b"a001 OK Begin TLS negotiation now\r\n",
             b"a001 BAD STARTTLS not available\r\n"),
    "pop3": (110, POP3_GREETING, b"+OK Begin TLS negotiation\r\n",
             b"-ERR Command not permitted\r\n"),
    "ftp": (21, FTP_GREETING, b"234 AUTH command OK. Initializing TLS connection.\r\n",
            b"534 Request denied for policy reasons.\r\n"),
    "xmpp": (5222, XMPP_GREETING, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
             b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
    "ldap": (389, [("c", LDAP_REQUEST)], ldap_response(0), ldap_response(2)),
    "postgresql": (5432, [("c", PG_SSLREQUEST)], b"S", b"N"),
    "nntp": (119, NNTP_GREETING, b"382 Continue with TLS negotiation\r\n",
             b"580 Can not initiate TLS negotiation\r\n"),
    "sieve": (4190, SIEVE_GREETING, b'OK "Begin TLS negotiation now"\r\n',
              b'NO "TLS is not available"\r\n'),
}


def conversation(port, dialogue):
    conv = Conversation("10.6.6.100", 51500, "10.6.6.6", port)
    conv.handshake()
    for who, data in dialogue:
        (conv.server_sends if who == "s" else conv.client_sends)(data)
    return conv


def run(name, conv, args=("--handshakes", "--no-ndpi")):
    pcap = os.path.join(TMP, name + ".pcap")
    write_pcap(pcap, conv.frames)
    return run_tlsgrade(list(args) + [pcap])


def handshake_lines(t, name, conv):
    rc, out, err = run(name, conv)
    t.eq(rc, 0, name + ": exit status: " + err)
    return [json.loads(l) for l in out.splitlines()]


def accepted(t, proto):
    """The positive answer: the hello right after it is read, at its frame."""
    port, dialogue, yes, _ = CASES[proto]
    conv = conversation(port, dialogue + [("s", yes), ("c", HELLO), ("s", ANSWER)])
    lines = handshake_lines(t, proto, conv)
    if t.eq(len(lines), 1, proto + ": one TLS connection"):
        o = lines[0]
        t.eq(o.get("starttls"), proto, "the protocol that switched to TLS")
        t.eq(o.get("sni"), "mail.example.com", "the hello after the switch is read")
        t.eq(o.get("cipher_id"), 0xc030, "the server's answer is read")
        # 3 frames of TCP handshake, the dialogue, the answer, the hello
        t.eq(o.get("frames", {}).get("client_hello"), 3 + len(dialogue) + 2, "frame of the hello")


def refused(t, proto):
    """A refusal keeps the connection in clear text: the hello-shaped bytes
    that follow are content."""
    port, dialogue, _, no = CASES[proto]
    conv = conversation(port, dialogue + [("s", no), ("c", HELLO), ("s", ANSWER)])
    t.eq(handshake_lines(t, proto + "-refused", conv), [], proto + ": no TLS after a refusal")


def hello_not_at_the_boundary(t):
    """SMTP 220, then clear text before the hello: the hello is not where
    RFC 3207 puts TLS (the first byte after the answer)."""
    port, dialogue, yes, _ = CASES["smtp"]
    conv = conversation(port, dialogue + [("s", yes), ("c", b"NOOP\r\n" + HELLO),
                                          ("s", ANSWER)])
    lines = handshake_lines(t, "smtp-late-hello", conv)
    t.eq([o for o in lines if o.get("version")], [], "no negotiated TLS from a misplaced hello")


def lost_reply_line(t):
    """SMTP whose first EHLO reply segment the capture lost (the client's
    ACK shows the hole): the line after the hole is not read, the next
    ones are, and the STARTTLS exchange after them switches."""
    port, _, yes, _ = CASES["smtp"]
    conv = conversation(port, SMTP_GREETING[:2])
    conv.server_sends(b"250-mail.example.com offers a warm hug of welcome\r\n")
    del conv.frames[-1]
    conv.server_sends(b"250-8BITMIME\r\n")
    conv.server_sends(b"250-STARTTLS\r\n250 DSN\r\n")
    for who, data in [("c", b"STARTTLS\r\n"), ("s", yes), ("c", HELLO), ("s", ANSWER)]:
        (conv.server_sends if who == "s" else conv.client_sends)(data)
    lines = handshake_lines(t, "smtp-lost-reply", conv)
    t.eq([(o.get("starttls"), o.get("sni")) for o in lines], [("smtp", "mail.example.com")],
         "the exchange after the hole is read")


def lost_request(t):
    """The client's STARTTLS lost by the capture (the server's ACK covers
    it): the 220 answers no request seen, the hellos after it stay clear
    text."""
    port, _, yes, _ = CASES["smtp"]
    conv = conversation(port, SMTP_GREETING[:3])
    conv.client_sends(b"STARTTLS\r\n")
    del conv.frames[-1]
    for who, data in [("s", yes), ("c", HELLO), ("s", ANSWER)]:
        (conv.server_sends if who == "s" else conv.client_sends)(data)
    t.eq(handshake_lines(t, "smtp-lost-request", conv), [], "no TLS without the request")


def http_reflection(t):
    """The recorded case: HTTP on port 80, a POST whose body holds a
    ClientHello (after a line end, and a STARTTLS line), answered by a page
    that reflects it with a ServerHello after '>' and a 220 line."""
    body = b"x=1\r\nSTARTTLS\r\n" + HELLO
    conv = conversation(80, [
        ("c", b"POST /echo HTTP/1.1\r\nHost: www.example.com\r\n"
              b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
              % len(body) + body)])
    page = b"<html><body><pre>\r\n220 ok\r\n" + ANSWER + b"</pre></body></html>"
    conv.server_sends(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(page) + page)
    t.eq(handshake_lines(t, "http-reflect", conv), [], "no TLS connection in clear HTTP")
    rc, out, err = run("http-reflect", conv, ("--format", "json", "--no-color"))
    t.eq(rc, 0, "report: exit status: " + err)
    report = json.loads(out) if rc == 0 else {}
    t.eq(len(report.get("servers", [])), 0, "no TLS server on port 80 in the report")


def plaintext_limit(t):
    """An SMTP server whose EHLO reply is 40 lines of 50 bytes (2,000
    bytes, then its STARTTLS answer): at starttls-bytes=1024 the server's
    direction passes the cap before the switch, so no TLS is read and the
    connection is counted once; by default (262144) the switch is read and
    nothing is counted."""
    port, _, yes, _ = CASES["smtp"]
    reply = b"".join(b"250-X%s\r\n" % (b"%02d" % i * 22)[:43] for i in range(40))
    t.eq(len(reply), 2000, "the reply's length")
    conv = conversation(port, SMTP_GREETING[:2] + [("s", reply + b"250 STARTTLS\r\n"),
                                                   ("c", b"STARTTLS\r\n"), ("s", yes),
                                                   ("c", HELLO), ("s", ANSWER)])
    row = "starttls_plaintext_bytes_per_direction"
    rc, out, err = run("smtp-long", conv, ("--format", "json", "--limit", "starttls-bytes=1024"))
    t.eq(rc, 0, "exit status: " + err)
    rep = json.loads(out) if rc == 0 else {}
    t.eq(rep.get("limits", {}).get(row), {"limit": 1024, "hits": 1}, "one connection counted")
    t.eq(rep.get("servers"), [], "no TLS read past the cap")
    rc, out, err = run("smtp-long", conv, ("--format", "json"))
    rep = json.loads(out) if rc == 0 else {}
    t.eq(rep.get("limits", {}).get(row), {"limit": 262144, "hits": 0}, "default: no hit")
    t.eq(len(rep.get("servers", [])), 1, "default: the server is graded")
    rc, out, err = run("smtp-long", conv, ("--handshakes", "--no-ndpi"))
    t.eq([json.loads(l).get("starttls") for l in out.splitlines()], ["smtp"],
         "default: the switch is read")


def main():
    t = Suite()
    for proto in sorted(CASES):
        t.run(accepted, proto)
        t.run(refused, proto)
    t.run(hello_not_at_the_boundary)
    t.run(lost_reply_line)
    t.run(lost_request)
    t.run(http_reflection)
    t.run(plaintext_limit)
    shutil.rmtree(TMP, ignore_errors=True)
    t.done()


main()
