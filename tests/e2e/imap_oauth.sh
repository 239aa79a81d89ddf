#!/bin/bash
# End-to-end OAuth logins: XOAUTH2 and OAUTHBEARER with the token printed
# by PassCmd, against a private Dovecot whose oauth2 passdb checks tokens
# at a local introspection endpoint (tests/tools/oauthd on 127.0.0.1).
# A good token syncs an IMAP <-> Maildir channel; a bad one fails with the
# server's answer and exit 1. The token (PassCmd's output) never shows in
# a -D or -DN log or in the --log-file: the initial response shows as
# "<redacted N bytes>"; after a refusal the server's error challenge shows
# and the client's empty answer.
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
for _ in $(seq 200); do
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

# hidden NAME TOKEN FILE: FILE shows the AUTHENTICATE of NAME's mechanism
# with its initial response redacted, and never the token.
hidden() {
	expect_eq "$1: the token is not in $3" 0 "$(grep -c -- "$2" "$3")"
	expect_eq "$1: the initial response redacted in $3" 1 \
	    "$(grep -cE " >> T[0-9]+ AUTHENTICATE ${1%% *} <redacted [0-9]+ bytes>\$" \
	    "$3" | grep -c '^[1-9]')"
}

for mech in XOAUTH2 OAUTHBEARER; do
	write_rc "$mech" "$TOKEN"
	timeout 120 "$BIN" -D -c "$TMP/rc" oauth >"$TMP/good.out" 2>&1
	expect_eq "$mech with a good token exits 0" 0 "$?"
	expect_eq "$mech: the 12 messages arrived" 12 "$(local_count)"
	hidden "$mech -D" "$TOKEN" "$TMP/good.out"
	write_rc "$mech" "$TOKEN"
	rm -f "$TMP/good.log"
	timeout 120 "$BIN" -DN --log-file "$TMP/good.log" -c "$TMP/rc" oauth \
	    >"$TMP/good-all.out" 2>&1
	expect_eq "$mech -DN with a good token exits 0" 0 "$?"
	hidden "$mech -DN" "$TOKEN" "$TMP/good-all.out"
	hidden "$mech --log-file" "$TOKEN" "$TMP/good.log"
	write_rc "$mech" "tok-wrong"
	rm -f "$TMP/bad.log"
	timeout 120 "$BIN" -DN --log-file "$TMP/bad.log" -c "$TMP/rc" oauth \
	    >"$TMP/bad.out" 2>&1
	expect_eq "$mech with a bad token exits 1" 1 "$?"
	expect_eq "$mech: the failure names the login and the answer" 1 \
	    "$(grep -c "login as alice with $mech failed: NO \[AUTHENTICATIONFAILED\]" \
	    "$TMP/bad.out")"
	hidden "$mech refused -DN" tok-wrong "$TMP/bad.out"
	hidden "$mech refused --log-file" tok-wrong "$TMP/bad.log"
	expect_eq "$mech refused: the server's challenge, then an empty answer" \
	    "<< + >>" "$(grep -A1 ' << + ' "$TMP/bad.out" | head -2 |
	    sed -E 's/^debug: [^ ]+ (<< \+|>>).*/\1/' | tr '\n' ' ' |
	    sed 's/ $//')"
done

echo "imap_oauth.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
