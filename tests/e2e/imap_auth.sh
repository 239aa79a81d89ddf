#!/bin/bash
# Logins with the challenge-response mechanisms and with a TLS client
# certificate, against two private Dovecots:
#  - "mechs" offers CRAM-MD5, SCRAM-SHA-1 and SCRAM-SHA-256 besides PLAIN
#    and LOGIN. With AuthMechs naming each one, over plain IMAP: the sync
#    exits 0 and brings the 6 messages; the -D log and Dovecot's log show
#    that mechanism; neither the password nor the client's answers (the
#    SCRAM proof, the CRAM-MD5 digest) show in the -D log. With a wrong
#    password: exit 1, the server's refusal named with the mechanism,
#    nothing changed on either side. A non-ASCII password is refused for
#    SCRAM before AUTHENTICATE is sent. AuthMechs * picks SCRAM-SHA-256;
#    RequireCRAM yes logs in with CRAM-MD5.
#  - "cert" offers PLAIN and LOGIN only and requires a client certificate
#    (ssl_verify_client_cert, auth_ssl_require_client_cert). With
#    ClientCertificate and ClientKey the sync works; without them the
#    server's refusal is reported; RequireCRAM is refused before login,
#    naming what the server offers; a missing key file, a file that is
#    no key, a key of another certificate and ClientKey without
#    ClientCertificate are each a clear error naming the key and the
#    file, with nothing changed.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the servers running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

PW=pw-$$-Zq7
TEST_PASSWORD=$PW TEST_SERVER_AUTH_MECHS="cram-md5 scram-sha-1 scram-sha-256" \
	start_dovecot "$TMP/mechs" alice
MECHS_PORT=$IMAP_PORT
MECHS_LOG=$LOG
MECHS_MAIL=$MAIL_DIR/alice
timeout 60 bash "$SERVER" populate "$TMP/mechs" alice 6 1 >/dev/null ||
	{ echo "populate failed" >&2; exit 1; }

TEST_PASSWORD=$PW TEST_SERVER_CLIENT_CERT=1 start_dovecot "$TMP/cert" alice
CERT_PORT=$IMAPS_PORT
CERT_CA=$CA_FILE
CERT_LOG=$LOG
CERT_MAIL=$MAIL_DIR/alice
TLS=$TMP/cert/tls
timeout 60 bash "$SERVER" populate "$TMP/cert" alice 4 1 >/dev/null ||
	{ echo "populate failed" >&2; exit 1; }
[ -s "$TLS/client.pem" ] && [ -s "$TLS/client.key" ] &&
	[ -s "$TLS/other.key" ] ||
	{ echo "test-server.sh made no client certificate" >&2; exit 1; }

# write_rc PORT PASS ACCOUNT-LINES...: a channel from the server at PORT
# into $TMP/near, each further argument one line of the IMAPAccount.
write_rc() {
	local port=$1 pass=$2 line
	shift 2
	{
		printf 'IMAPAccount a\nHost 127.0.0.1\nPort %s\nUser alice\n' \
			"$port"
		printf 'Pass %s\n' "$pass"
		for line in "$@"; do
			printf '%s\n' "$line"
		done
		cat <<RC

IMAPStore far
Account a

MaildirStore near
Path $TMP/near/
Inbox $TMP/near/INBOX
SubFolders Verbatim

Channel c
Far :far:
Near :near:
Patterns *
Create Near
SyncState *
RC
	} >"$TMP/rc"
}

# fresh: an empty near side.
fresh() {
	rm -rf "$TMP/near"
	mkdir -p "$TMP/near"
}

count() {
	find "$1" \( -path '*/cur/*' -o -path '*/new/*' \) -type f | wc -l
}

# tree: every file of both sides, to tell that nothing changed.
tree() {
	find "$TMP/near" "$MECHS_MAIL" "$CERT_MAIL" -type f \
		! -name 'dovecot*' | sort
}

# run NAME: one sync with the protocol log; status in $status.
run() {
	timeout 120 "$BIN" -D -c "$TMP/rc" c >"$TMP/$1.out" 2>&1
	status=$?
}

# expect_refused NAME PATTERN [STATUS]: the run failed (exit STATUS,
# default 1) with PATTERN, changing nothing.
expect_refused() {
	local before
	before=$(tree)
	run "$1"
	expect_eq "$1: exit status" "${3:-1}" "$status"
	expect_eq "$1: the error says why" 1 \
		"$(grep -c -e "$2" "$TMP/$1.out")"
	expect_eq "$1: nothing changed on either side" "$before" "$(tree)"
}

tls_lines=("TLSType None")
for mech in CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256; do
	fresh
	write_rc "$MECHS_PORT" "$PW" "${tls_lines[@]}" "AuthMechs $mech"
	logins=$(grep -c "method=$mech," "$MECHS_LOG")
	run "$mech"
	expect_eq "$mech: exit status" 0 "$status"
	expect_eq "$mech: the 6 messages arrived" 6 "$(count "$TMP/near")"
	expect_eq "$mech: the -D log shows the mechanism" 1 \
		"$(grep -c "> T[0-9]* AUTHENTICATE $mech" "$TMP/$mech.out")"
	expect_eq "$mech: Dovecot logged a login with it" $((logins + 1)) \
		"$(grep -c "method=$mech," "$MECHS_LOG")"
	expect_eq "$mech: no password in the -D log" 0 \
		"$(grep -c -- "$PW" "$TMP/$mech.out")"
	# base64 of "c=biws" (SCRAM's final message) and of "alice "
	# (CRAM-MD5's answer): what the client sends never shows.
	expect_eq "$mech: no client answer in the -D log" 0 \
		"$(grep -c -e 'Yz1iaXdz' -e 'YWxpY2Ug' "$TMP/$mech.out")"
	expect_eq "$mech: the client's answers are logged as <secret>" 1 \
		"$(grep -c '> <secret>$' "$TMP/$mech.out" | grep -c '^[1-9]')"

	write_rc "$MECHS_PORT" "wrong-$PW" "${tls_lines[@]}" "AuthMechs $mech"
	expect_refused "$mech-wrong" \
		"error: .*login as alice with $mech failed: NO \[AUTHENTICATIONFAILED\].*; check User and Pass or PassCmd"
done

# SASLprep is limited to ASCII: refused before anything is sent.
write_rc "$MECHS_PORT" "p$(printf '\303\244')ss" "TLSType None" \
	"AuthMechs SCRAM-SHA-256"
expect_refused non-ascii \
	"error: .*login as alice with SCRAM-SHA-256 failed: the user name or the password holds a character outside printable ASCII"
expect_eq "non-ascii: no AUTHENTICATE sent" 0 \
	"$(grep -c '> T[0-9]* AUTHENTICATE' "$TMP/non-ascii.out")"

fresh
write_rc "$MECHS_PORT" "$PW" "TLSType None"
run star
expect_eq "AuthMechs *: exit status" 0 "$status"
expect_eq "AuthMechs *: SCRAM-SHA-256 is preferred" 1 \
	"$(grep -c '> T[0-9]* AUTHENTICATE SCRAM-SHA-256' "$TMP/star.out")"

fresh
write_rc "$MECHS_PORT" "$PW" "TLSType None" "RequireCRAM yes"
run require-cram
expect_eq "RequireCRAM: exit status" 0 "$status"
expect_eq "RequireCRAM: logs in with CRAM-MD5" 1 \
	"$(grep -c '> T[0-9]* AUTHENTICATE CRAM-MD5' "$TMP/require-cram.out")"

# The server that wants a client certificate.
cert_lines=("TLSType IMAPS" "CertificateFile $CERT_CA")
fresh
write_rc "$CERT_PORT" "$PW" "${cert_lines[@]}" \
	"ClientCertificate $TLS/client.pem" "ClientKey $TLS/client.key"
run cert
expect_eq "client certificate: exit status" 0 "$status"
expect_eq "client certificate: the 4 messages arrived" 4 \
	"$(count "$TMP/near")"
expect_eq "client certificate: Dovecot saw it" 1 \
	"$(grep -c 'Login: user=<alice>, method=PLAIN,.*TLS' "$CERT_LOG" |
	grep -c '^[1-9]')"

fresh
write_rc "$CERT_PORT" "$PW" "${cert_lines[@]}"
expect_refused no-cert \
	"error: .*login as alice with PLAIN failed: NO .*certificate"

write_rc "$CERT_PORT" "$PW" "${cert_lines[@]}" "RequireCRAM yes" \
	"ClientCertificate $TLS/client.pem" "ClientKey $TLS/client.key"
expect_refused require-cram-refused \
	"error: .*no usable authentication mechanism: the server offers PLAIN LOGIN, AuthMechs allows CRAM-MD5"

write_rc "$CERT_PORT" "$PW" "${cert_lines[@]}" \
	"ClientCertificate $TLS/client.pem" "ClientKey $TLS/missing.key"
expect_refused missing-key \
	"error: .*ClientKey $TLS/missing.key: No such file or directory"

write_rc "$CERT_PORT" "$PW" "${cert_lines[@]}" \
	"ClientCertificate $TLS/client.pem" "ClientKey $TLS/ca.pem"
expect_refused not-a-key \
	"error: .*ClientKey $TLS/ca.pem: cannot load a PEM private key"

write_rc "$CERT_PORT" "$PW" "${cert_lines[@]}" \
	"ClientCertificate $TLS/client.pem" "ClientKey $TLS/other.key"
expect_refused mismatched-key \
	"error: .*ClientKey $TLS/other.key does not match ClientCertificate $TLS/client.pem"

write_rc "$CERT_PORT" "$PW" "${cert_lines[@]}" \
	"ClientCertificate $TLS/missing.pem" "ClientKey $TLS/client.key"
expect_refused missing-cert \
	"error: .*ClientCertificate $TLS/missing.pem: No such file or directory"

write_rc "$CERT_PORT" "$PW" "${cert_lines[@]}" "ClientKey $TLS/client.key"
expect_refused key-without-cert \
	"has ClientKey but no ClientCertificate: expected the certificate" 2

echo "imap_auth: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
