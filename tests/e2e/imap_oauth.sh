#!/bin/bash
# End-to-end OAuth logins: XOAUTH2 and OAUTHBEARER with the token printed
# by PassCmd, against a private Dovecot whose oauth2 passdb checks tokens
# at a local introspection endpoint (tests/tools/oauthd on 127.0.0.1).
# A good token syncs an IMAP <-> Maildir channel; a bad one fails with the
# server's answer and exit 1; the token never shows in a -D log.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
OAUTHD=$BUILD/tests/tools/oauthd
TOKEN=tok-$$-good
OAUTHD_PID=""
cleanup_more() {
	[ -n "$OAUTHD_PID" ] && kill "$OAUTHD_PID" 2>/dev/null
}

if [ ! -x "$OAUTHD" ]; then
	echo "imap_oauth.sh: $OAUTHD is missing (build it with make)" >&2
	exit 1
fi
"$OAUTHD" --port-file "$TMP/oauthd.port" --token "$TOKEN" --user alice \
	--max-seconds 300 &
OAUTHD_PID=$!
for _ in $(seq 50); do
	[ -s "$TMP/oauthd.port" ] && break
	sleep 0.1
done
[ -s "$TMP/oauthd.port" ] || { echo "oauthd did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$TMP/oauthd.port")/introspect"

TEST_SERVER_OAUTH_URL=$URL start_dovecot "$TMP/srv" alice
timeout 60 bash "$SERVER" populate "$TMP/srv" alice 12 2 >/dev/null ||
	{ echo "populate failed" >&2; exit 1; }

# write_rc MECH TOKEN: an IMAPS channel into $TMP/mail.
write_rc() {
	rm -rf "$TMP/mail"
	mkdir -p "$TMP/mail"
	cat > "$TMP/rc" <<RC
IMAPAccount oauth
Host 127.0.0.1
Port $IMAPS_PORT
User alice
PassCmd "echo $2"
TLSType IMAPS
CertificateFile $CA_FILE
AuthMechs $1

IMAPStore server
Account oauth

MaildirStore laptop
Path $TMP/mail/
Inbox $TMP/mail/INBOX
SubFolders Verbatim

Channel oauth
Far :server:
Near :laptop:
Patterns *
Create Near
SyncState *
RC
}

local_count() {
	find "$TMP/mail" \( -path '*/cur/*' -o -path '*/new/*' \) -type f |
	    wc -l
}

for mech in XOAUTH2 OAUTHBEARER; do
	write_rc "$mech" "$TOKEN"
	timeout 120 "$BIN" -D -c "$TMP/rc" oauth >"$TMP/good.out" 2>&1
	expect_eq "$mech with a good token exits 0" 0 "$?"
	expect_eq "$mech: the 12 messages arrived" 12 "$(local_count)"
	expect_eq "$mech: the token is not in the -D log" 0 \
	    "$(grep -c -- "$TOKEN" "$TMP/good.out")"
	write_rc "$mech" "tok-wrong"
	timeout 120 "$BIN" -c "$TMP/rc" oauth >"$TMP/bad.out" 2>&1
	expect_eq "$mech with a bad token exits 1" 1 "$?"
	expect_eq "$mech: the failure names the login and the answer" 1 \
	    "$(grep -c "login as alice with $mech failed: NO \[AUTHENTICATIONFAILED\]" \
	    "$TMP/bad.out")"
done

echo "imap_oauth.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
