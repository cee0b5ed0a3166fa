/*
 * grade/fact_table.h - the fact vocabulary, as data (expanded by grade.h
 * into enum ev_fact_id, and by vocab.c into the table it prints and parses
 * keys with).
 *
 * FACT(ID, PREFIX, ARG, SAVED, MEANING): a family of facts.  Its key is
 * PREFIX followed by its argument printed as ARG says (enum ev_arg_kind in
 * grade.h); the key is what evidence files hold, so a PREFIX never changes.
 * SAVED is false for facts derived at grading time from every endpoint
 * (ev_derive_facts), which saving leaves out.  The inferences are
 * grading-reference.md 4.2: what the client offered is the baseline, what
 * the server chose (or refused) against it is the fact.
 */

/* ---- the handshake ---- */
FACT(HANDSHAKES, "handshakes", NONE, true, "a TLS connection to the endpoint was seen")
FACT(SERVER_HELLO, "server_hello", NONE, true, "the server answered with a ServerHello")
FACT(RESUMED, "resumed", NONE, true, "a session was resumed")
FACT(ESTABLISHED, "established", NONE, true, "a handshake completed")
FACT(TLS13_CERT_HIDDEN, "tls13_cert_hidden", NONE, true,
     "TLS 1.3 without a key log: the certificate is encrypted")
FACT(MALFORMED, "malformed:", NAME, true, "the dissector found the named part malformed")
FACT(VIOLATION, "violation:", NAME, true,
     "a ServerHello that answered no ClientHello, or chose what it did not offer: no evidence")
FACT(ABORTED, "aborted:", NAME, true,
     "the client ended a handshake the server had answered with the fatal alert NAME: its facts "
     "may fail checks, never pass one")
FACT(UNVERIFIED, "unverified", NONE, true,
     "handshake messages from this address on a connection without a ClientHello: not graded")
FACT(EVICTED_UNANSWERED, "evicted_unanswered", NONE, true,
     "a ClientHello's flow was evicted (flow table full) before the server's answer")
/* ---- versions ---- */
FACT(VERSION, "version:", VERSION, true, "the negotiated version")
FACT(SENTINEL, "sentinel:", NAME, true, "the ServerHello random ends in a downgrade sentinel")
FACT(TLS13_REFUSED, "tls13:refused", NONE, true,
     "a client offering TLS 1.3 got less, without the DOWNGRD01 sentinel")
FACT(TLS12_REFUSED, "tls12:refused", NONE, true,
     "a client offering TLS 1.2 got less, without a sentinel")
FACT(SSL3_FOR_TLS_CLIENT, "ssl3:for_tls_client", NONE, true,
     "a client offering TLS got SSL 3.0, without a sentinel")
FACT(REFUSED, "refused:", VERSION_NAME, true,
     "a hello whose best version was V got the fatal alert NAME before any ServerHello")
FACT(SCSV_REFUSED_FALLBACK, "scsv:refused_fallback", NONE, true,
     "a TLS_FALLBACK_SCSV hello got inappropriate_fallback")
FACT(SCSV_ACCEPTED, "scsv:accepted:", VERSION, true,
     "a TLS_FALLBACK_SCSV hello was answered with version V")
FACT(ANSWER, "answer:", ANSWER, true,
     "the client offer with this digest (its whole ClientHello) got version V and suite S, or was "
     "refused")
/* ---- the suite ---- */
FACT(SUITE, "suite:", NAME, true, "the negotiated suite (IANA name, else 0x hex id)")
FACT(CIPHER_BITS, "cipher_bits:", NUMBER, true, "its cipher strength (NULL 0, export 40, ...)")
FACT(RC4, "rc4:", VERSION, true, "an RC4 suite under version V")
FACT(NON_RC4, "non_rc4", NONE, true, "a suite other than RC4 was negotiated")
FACT(BLOCK64, "block64:", VERSION, true, "a 64-bit block cipher suite under version V")
FACT(CBC, "cbc:", VERSION, true, "a CBC suite under version V")
FACT(EXPORT, "export", NONE, true, "an export suite was negotiated")
FACT(NULL_CIPHER, "null_cipher", NONE, true, "a suite without encryption was negotiated")
FACT(ANON, "anon", NONE, true, "an anonymous (unauthenticated) suite was negotiated")
FACT(FS_GIVEN, "fs:given", NONE, true, "a forward-secret suite (or TLS 1.3) was negotiated")
FACT(FS_REFUSED, "fs:refused:", NAME, true,
     "forward-secret suite NAME, usable in this handshake and listed first by the client, was "
     "passed over (a refusal when the server negotiates NAME elsewhere)")
FACT(FS_PASSED_OVER, "fs:passed_over:", NAME, true,
     "the same for NAME = GROUP:SUITE, were the group (or DH parameters, \"dhe\") acceptable")
FACT(AEAD_GIVEN, "aead:given", NONE, true, "an AEAD suite was negotiated")
FACT(AEAD_REFUSED, "aead:refused:", NAME, true,
     "AEAD suite NAME, usable in this handshake and listed first by the client, was passed "
     "over (a refusal when the server negotiates NAME elsewhere)")
FACT(AEAD_PASSED_OVER, "aead:passed_over:", NAME, true,
     "the same for NAME = GROUP:SUITE, were the group (or DH parameters, \"dhe\") acceptable")
FACT(RC4_DESPITE_ALTERNATIVES, "rc4:despite_alternatives", NONE, true,
     "RC4 was chosen though the client offered other ciphers")
FACT(DECLINED_RC4, "declined:rc4:", VERSION, true,
     "a client offering RC4 under version V got another cipher")
FACT(DECLINED_BLOCK64, "declined:block64:", VERSION, true,
     "a client offering a 64-bit block cipher under V got another")
FACT(DECLINED_WEAK, "declined:weak:", VERSION, true,
     "a client offering a weak suite under V got a strong one")
FACT(DECLINED_ANON, "declined:anon:", VERSION, true,
     "a client offering an anonymous suite under V got an authenticated one")
FACT(DECLINED_COMPRESSION, "declined:compression", NONE, true,
     "a client offering DEFLATE got no compression")
FACT(PREF_TOOK_FIRST, "pref:took_first", NONE, true, "the server took the client's first suite")
FACT(PREF_SKIPPED, "pref:skipped:", NAME, true, "the server passed over the client's first suite")
FACT(COMPRESSION_DEFLATE, "compression:deflate", NONE, true, "the server chose DEFLATE")
/* ---- key exchange ---- */
FACT(KX_DH, "kx:dh:", NUMBER, true, "a finite-field DH key exchange of N bits")
FACT(KX_DH_GROUP, "kx:dh_group:", NAME, true, "the DH group is a well-known one")
FACT(KX_ECDH, "kx:ecdh:", NAME_NUMBER, true, "an elliptic-curve key exchange: group, bits")
FACT(KX_RSA_EXPORT, "kx:rsa_export:", NUMBER, true, "an export RSA key exchange, N-bit key")
/* ---- post-quantum key exchange, Encrypted Client Hello (hello_facts.c) ---- */
FACT(PQ_CHOSEN, "pq:chosen:", NAME, true,
     "the server's key exchange used post-quantum group NAME (ML-KEM, alone or hybrid)")
FACT(PQ_OBSOLETE, "pq:obsolete:", NAME, true,
     "the server's key exchange used NAME, a retired pre-standard Kyber group")
FACT(PQ_REFUSED, "pq:refused:", NAME, true,
     "NAME = OFFERED:CHOSEN: a client sent a key share for post-quantum group OFFERED (or the "
     "server asked for a classical group by HelloRetryRequest while the client listed it), and "
     "the server chose classical CHOSEN (a group, or the version when there was none)")
FACT(PQ_NO_RETRY, "pq:no_retry:", NAME, true,
     "NAME = OFFERED:CHOSEN: a client listed post-quantum group OFFERED without a key share for "
     "it, and the server took its classical share CHOSEN without a HelloRetryRequest")
FACT(ECH_OFFERED, "ech:offered", NONE, true,
     "a ClientHello carried an outer encrypted_client_hello (real or GREASE: the bytes do not "
     "tell)")
FACT(ECH_HRR_CONFIRMATION, "ech:hrr_confirmation", NONE, true,
     "a HelloRetryRequest carried the ECH confirmation a server sends when it accepts ECH (RFC "
     "9849 7.2.1); not verifiable without the keys")
/* ---- renegotiation, heartbeat ---- */
FACT(RENEG_SECURE, "reneg:secure", NONE, true, "the server answered renegotiation_info")
FACT(RENEG_MISSING, "reneg:missing", NONE, true,
     "a client asked for secure renegotiation, the server did not answer")
FACT(RENEG_INSECURE_ATTEMPT, "reneg:insecure_attempt", NONE, true,
     "a renegotiation without RFC 5746 protection")
FACT(HEARTBEAT_EXTENSION, "heartbeat:extension", NONE, true, "the server accepts heartbeat")
FACT(HEARTBEAT_OVERLONG, "heartbeat:overlong_response", NONE, true,
     "a heartbeat response far longer than any request (CVE-2014-0160)")
FACT(TICKETBLEED_ECHO, "ticketbleed:echo", NONE, true,
     "a short session id answered by a 32-byte one starting with it")
/* ---- the certificate ---- */
FACT(CERT_LEAF, "cert:leaf:", HEX, true, "the leaf certificate (SHA-256)")
FACT(CERT_UNREADABLE, "cert:unreadable", NONE, true, "libcrypto could not read the leaf")
FACT(CERT_KEY_TYPE, "cert_key:", NAME_NUMBER, true, "the leaf's key: type, bits")
FACT(CERT_RSA_E1, "cert:rsa_e1", NONE, true, "the leaf's RSA exponent is 1")
FACT(CERT_DEBIAN_WEAK, "cert:debian_weak", NONE, true,
     "the leaf's RSA key is on the Debian weak-key list loaded for its size")
FACT(CERT_DEBIAN_OK, "cert:debian_ok", NONE, true,
     "the leaf's RSA key is not on the Debian weak-key list loaded for its size")
FACT(CERT_KEY, "cert:key:", HEX, true, "the leaf's public key (SHA-256 of its SPKI)")
FACT(SSLV2_KEY, "sslv2:key:", HEX, true, "the same, of a certificate sent in SSL 2.0")
FACT(CERT_SIG_SHA1, "cert_sig:sha1", NONE, true, "a certificate of the chain is signed SHA-1")
FACT(CERT_SIG_MD5, "cert_sig:md5", NONE, true, "a certificate of the chain is signed MD5/MD2")
FACT(CERT_EV, "cert:ev", NONE, true, "the leaf carries an Extended Validation policy")
FACT(CERT_LIFETIME, "cert_lifetime:", NAME_NUMBER, true,
     "the leaf's validity: notBefore..notAfter dates, and its days (inclusive, rounded up)")
FACT(CERT_CT, "cert_ct:", NAME_NUMBER, true,
     "the leaf's embedded SCTs: distinct logs/logs Chrome's policy needs, and its lifetime in days")
FACT(CERT_CT_LOG, "cert_ct_log:", NAME, true,
     "a log of the leaf's embedded SCTs (grade/ct_logs.tsv), or 'unknown' and its id")
FACT(SENT_CHAIN, "sent_chain:", NAME_NUMBER, true,
     "a certificate chain as the server sent it: its ID (16 hex digits of FNV-1a over its "
     "certificates' SHA-256 digests) and its length")
FACT(SENT_CERT, "sent_cert:", NAME, true,
     "a field of certificate I of chain ID as sent, ID:I:FIELD:VALUE (sha256, subject, issuer, "
     "san, valid, key, sig, unreadable); the first EV_SENT_CERTS certificates, values cut")
FACT(SENT_CHAINS_OVER_CAP, "sent_chains:over_cap", NONE, true,
     "a chain as sent not kept: the endpoint held EV_SENT_CHAINS others")
FACT(CT_TLS_NONE, "ct:tls_none", NONE, true,
     "a TLS 1.0-1.2 client asked for SCTs (extension 18); the server sent none, nor an OCSP staple")
FACT(CT_TLS_SENT, "ct:tls_sent", NONE, true,
     "asked for SCTs, the server answered extension 18 or stapled OCSP (SCTs not counted)")
FACT(DISTRUST, "distrust:", NAME, true, "a CA of the chain is on grade/distrust.tsv")
FACT(DISTRUST_CHECKED, "distrust_checked", NONE, true, "the chain was compared with that list")
FACT(TRUST_STORE, "trust_store:", NAME, true,
     "the trust store that decided the chain: file:PATH (--ca-file), dir:PATH (--ca-path), "
     "file:PATH,dir:PATH, or system")
FACT(TRUST_OK, "trust:ok", NONE, true, "the chain verifies")
FACT(TRUST_OK_BUT_TIME, "trust:ok_but_time", NONE, true, "the chain verifies but for validity")
FACT(TRUST_UNTRUSTED, "trust:untrusted:", NAME, true, "the chain does not verify, and why")
FACT(TRUST_EXPIRED, "trust:expired", NONE, true, "a certificate had expired")
FACT(TRUST_NOT_YET_VALID, "trust:not_yet_valid", NONE, true, "a certificate was not yet valid")
FACT(TRUST_SELF_SIGNED, "trust:self_signed", NONE, true, "the leaf is self-signed")
FACT(CHAIN_INCOMPLETE, "chain:incomplete", NONE, true, "the server omits intermediates")
FACT(CHAIN_INCOMPLETE_FROM, "chain:incomplete_from:", NAME, true,
     "the server omits an intermediate found elsewhere (file:frame, or the bundle)")
FACT(CHAIN_UNORDERED, "chain:unordered", NONE, true, "the chain is sent out of order")
FACT(HOSTNAME_MATCH, "hostname:match", NONE, true, "the SNI name is covered by the leaf")
FACT(HOSTNAME_MISMATCH, "hostname:mismatch", NONE, true, "the SNI name is not covered")
FACT(OCSP_STAPLED, "ocsp:stapled", NONE, true, "an OCSP response was stapled")
FACT(OCSP_GOOD, "ocsp:good", NONE, true, "the stapled response says good")
FACT(OCSP_REVOKED, "ocsp:revoked", NONE, true, "the stapled response says revoked")
/* ---- decrypted HTTP (a key log), clear-text HTTP ---- */
FACT(DECRYPT_OK, "decrypt:ok", NONE, true, "a key log opened the connection")
FACT(DECRYPT_FAILED, "decrypt:failed", NONE, true,
     "a key log had secrets that did not authenticate the records")
FACT(DECRYPT_NO_KEYS, "decrypt:no_keys", NONE, true,
     "key logs were given, but none held this connection's secrets")
FACT(HTTPS_RESPONSE, "https:response", NONE, true, "an HTTP response read from decrypted data")
FACT(HSTS_MAX_AGE, "hsts:max-age:", NUMBER, true, "a valid HSTS header (RFC 6797), max-age N")
FACT(HSTS_INCLUDE_SUBDOMAINS, "hsts:include_subdomains", NONE, true, "it has includeSubDomains")
FACT(HSTS_PRELOAD, "hsts:preload", NONE, true, "it has preload")
FACT(HSTS_ABSENT, "hsts:absent", NONE, true, "a response without an HSTS header")
FACT(HSTS_INVALID, "hsts:invalid:", NAME, true, "an HSTS header that must be ignored, and why")
FACT(HPKP_VALID, "hpkp:valid", NONE, true, "Public-Key-Pins valid against the chain")
FACT(HPKP_INVALID, "hpkp:invalid:", NAME, true, "Public-Key-Pins invalid, and why")
FACT(HPKP_UNVERIFIED, "hpkp:unverified", NONE, true,
     "Public-Key-Pins well-formed, no chain to check it on")
FACT(HTTP_REDIRECT_HTTPS, "http:redirect_https", NONE, true,
     "clear-text HTTP answered with a redirect to https://")
FACT(HTTP_NO_REDIRECT, "http:no_redirect:", INT, true,
     "clear-text HTTP answered with status N, not a redirect to https://")
/* ---- derived at grading time from every endpoint, never saved ---- */
FACT(DERIVED_DROWN, "derived:drown", NONE, false, "this key also speaks SSL 2.0 somewhere")
FACT(DERIVED_HTTP_PLAIN, "derived:http_plain", NONE, false,
     "the host's clear-text HTTP serves content")
FACT(DERIVED_HTTP_REDIRECT, "derived:http_redirect", NONE, false,
     "the host's clear-text HTTP redirects to https://")
/* Address evidence (README "How to read a grade"): what a hello without
 * SNI got at this server's IP and port, for a named server there.  Its key
 * is "derived:no_sni:" and the `-` endpoint's own key. */
FACT(DERIVED_NO_SNI_VERSION, "derived:no_sni:version:", VERSION, false,
     "a hello without SNI to this server's address got SSL 2.0 or SSL 3.0 (version V)")
FACT(DERIVED_NO_SNI_REFUSED, "derived:no_sni:refused:", VERSION_NAME, false,
     "a hello without SNI to this server's address, best version V (SSL 2.0 or 3.0), got the fatal "
     "alert NAME before any ServerHello")
FACT(DERIVED_NO_SNI_CBC, "derived:no_sni:cbc:", VERSION, false,
     "a hello without SNI to this server's address got a CBC suite under SSL 3.0")
FACT(DERIVED_NO_SNI_CERT_DIFFERS, "derived:no_sni:cert_differs:", HEX, false,
     "a hello without SNI to this server's address got this certificate (SHA-256), which this "
     "server never sent: no address evidence is used")
FACT(DERIVED_NO_SNI_FOLDED, "derived:no_sni:folded", NONE, false,
     "(the endpoint without SNI) a named server of its address sent the same certificate, or it "
     "saw none: reports fold it under its address")
