#!/bin/bash
# Logins with every password mechanism and with a TLS client certificate,
# against two private Dovecots:
#  - "mechs" offers CRAM-MD5, SCRAM-SHA-1 and SCRAM-SHA-256 besides PLAIN
#    and LOGIN. With AuthMechs naming each one, over plain IMAP: the sync
#    exits 0 and brings the 6 messages; the -D log and Dovecot's log show
#    that mechanism. In the -D log, in the -DN log and in the --log-file
#    of a second sync, neither the password nor the client's answers (the
#    PLAIN response, the SCRAM proof, the CRAM-MD5 digest) show: LOGIN's
#    password, AUTHENTICATE's initial response and every answer the
#    client sends show as "<redacted N bytes>". With a wrong password:
#    exit 1, the server's refusal named with the mechanism, nothing
#    changed on either side, no password in the -D log. A non-ASCII
#    password is refused for SCRAM before AUTHENTICATE is sent.
#    AuthMechs * picks SCRAM-SHA-256; RequireCRAM yes logs in with
#    CRAM-MD5. --log-file without -D: the terminal shows no trace, the
#    file (mode 0600, appended to by the next run, a timestamp on every
#    line) holds it, the secrets redacted.
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

# run NAME [OPTION...]: one sync with the protocol log (-D unless other
# options are given); status in $status.
run() {
	local name=$1
	shift
	[ $# -gt 0 ] || set -- -D
	timeout 120 "$BIN" "$@" -c "$TMP/rc" c >"$TMP/$name.out" 2>&1
	status=$?
}

# What the client sends in PLAIN: base64 of "\0alice\0PASSWORD".
PLAIN_IR=$(printf '\0alice\0%s' "$PW" | base64 -w0)

# secrets_hidden NAME FILE MECH: FILE (a -D or -DN log, or a log file)
# shows the login with MECH and none of its secrets: no password, no
# client answer (base64 of PLAIN's response, of SCRAM's "c=biws", of
# CRAM-MD5's "alice "); LOGIN's password and AUTHENTICATE's initial
# response show as <redacted N bytes>, and so does every line the client
# sends until the server's verdict (but an empty one or a cancel).
secrets_hidden() {
	local name=$1 f=$2 cmd answers=1
	case $3 in
	LOGIN) cmd="LOGIN \"alice\" <redacted $((${#PW} + 2)) bytes>"
		answers=0 ;;
	CRAM-MD5) cmd="AUTHENTICATE CRAM-MD5" ;;
	PLAIN) cmd="AUTHENTICATE PLAIN <redacted ${#PLAIN_IR} bytes>"
		answers=0 ;;
	*) cmd="AUTHENTICATE $3 <redacted [0-9]+ bytes>" ;;
	esac
	expect_eq "$name: no password" 0 "$(grep -c -- "$PW" "$f")"
	expect_eq "$name: no client answer" 0 \
		"$(grep -c -e 'Yz1iaXdz' -e 'YWxpY2Ug' -e "$PLAIN_IR" "$f")"
	expect_eq "$name: the login shows, redacted" 1 \
		"$(grep -cE " >> T[0-9]+ $cmd\$" "$f")"
	expect_eq "$name: every answer redacted" "0 $answers" \
		"$(awk '/ >> T[0-9]+ AUTHENTICATE / { on = 1; next }
		/ << T[0-9]+ (OK|NO|BAD)/ { on = 0 }
		on && / >>( |$)/ {
			if ($0 ~ / >> <redacted [0-9]+ bytes>$/) red++
			else if ($0 !~ / >>( \*)?$/) bad++
		}
		END { print bad + 0, red + 0 }' "$f")"
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
for mech in CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 PLAIN LOGIN; do
	fresh
	write_rc "$MECHS_PORT" "$PW" "${tls_lines[@]}" "AuthMechs $mech"
	# Dovecot logs the LOGIN command as PLAIN.
	method=$mech
	[ "$mech" != LOGIN ] || method=PLAIN
	logins=$(grep -c "method=$method," "$MECHS_LOG")
	run "$mech"
	expect_eq "$mech: exit status" 0 "$status"
	expect_eq "$mech: the 6 messages arrived" 6 "$(count "$TMP/near")"
	expect_eq "$mech: Dovecot logged a login with it" $((logins + 1)) \
		"$(grep -c "method=$method," "$MECHS_LOG")"
	secrets_hidden "$mech -D" "$TMP/$mech.out" "$mech"
	# Again from scratch, with the message contents in the trace.
	fresh
	rm -f "$TMP/$mech.log"
	run "$mech-all" -DN --log-file "$TMP/$mech.log"
	expect_eq "$mech -DN: exit status" 0 "$status"
	expect_eq "$mech -DN: message contents in the trace" 1 \
		"$(grep -c ' << | Message-ID: ' "$TMP/$mech-all.out" |
		grep -c '^[1-9]')"
	secrets_hidden "$mech -DN" "$TMP/$mech-all.out" "$mech"
	secrets_hidden "$mech --log-file" "$TMP/$mech.log" "$mech"

	write_rc "$MECHS_PORT" "wrong-$PW" "${tls_lines[@]}" "AuthMechs $mech"
	expect_refused "$mech-wrong" \
		"error: .*login as alice with $mech failed: NO \[AUTHENTICATIONFAILED\].*; check User and Pass or PassCmd"
	expect_eq "$mech-wrong: no password in the -D log" 0 \
		"$(grep -c -- "$PW" "$TMP/$mech-wrong.out")"
done

# SASLprep is limited to ASCII: refused before anything is sent.
write_rc "$MECHS_PORT" "p$(printf '\303\244')ss" "TLSType None" \
	"AuthMechs SCRAM-SHA-256"
expect_refused non-ascii \
	"error: .*login as alice with SCRAM-SHA-256 failed: the user name or the password holds a character outside printable ASCII"
expect_eq "non-ascii: no AUTHENTICATE sent" 0 \
	"$(grep -c '>> T[0-9]* AUTHENTICATE' "$TMP/non-ascii.out")"

fresh
write_rc "$MECHS_PORT" "$PW" "TLSType None"
run star
expect_eq "AuthMechs *: exit status" 0 "$status"
expect_eq "AuthMechs *: SCRAM-SHA-256 is preferred" 1 \
	"$(grep -c '>> T[0-9]* AUTHENTICATE SCRAM-SHA-256' "$TMP/star.out")"

# --log-file alone: the trace goes to the file only.
fresh
run file-only --log-file "$TMP/file-only.log"
expect_eq "--log-file: exit status" 0 "$status"
expect_eq "--log-file: no trace on the terminal" 0 \
	"$(grep -c '^debug: ' "$TMP/file-only.out")"
expect_eq "--log-file: the terminal's lines in the file too" \
	"$(grep -c . "$TMP/file-only.out")" \
	"$(grep -cFf "$TMP/file-only.out" "$TMP/file-only.log")"
expect_eq "--log-file: created mode 600" 600 \
	"$(stat -c %a "$TMP/file-only.log")"
secrets_hidden "--log-file without -D" "$TMP/file-only.log" SCRAM-SHA-256
lines=$(wc -l <"$TMP/file-only.log")
first=$(head -1 "$TMP/file-only.log")
run file-again --log-file "$TMP/file-only.log"
expect_eq "--log-file: the next run appends" "$first" \
	"$(head -1 "$TMP/file-only.log")"
expect_eq "--log-file: two logins in it" 2 \
	"$(grep -c ' >> T[0-9]* AUTHENTICATE ' "$TMP/file-only.log")"
expect_eq "--log-file: longer" 1 \
	"$([ "$(wc -l <"$TMP/file-only.log")" -gt "$lines" ] && echo 1)"
expect_eq "--log-file: a timestamp on every line" 0 \
	"$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ' \
	"$TMP/file-only.log")"

fresh
write_rc "$MECHS_PORT" "$PW" "TLSType None" "RequireCRAM yes"
run require-cram
expect_eq "RequireCRAM: exit status" 0 "$status"
expect_eq "RequireCRAM: logs in with CRAM-MD5" 1 \
	"$(grep -c '>> T[0-9]* AUTHENTICATE CRAM-MD5' "$TMP/require-cram.out")"

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
