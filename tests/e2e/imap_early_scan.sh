#!/bin/bash
# The Maildir side listed while the server's SELECT is still unanswered
# (an IMAP far <-> Maildir near channel against a private Dovecot): its
# scan hint takes the far side as trusted, and the far answer says
# otherwise. Work is recreated on the server by another client (DELETE,
# CREATE, the same two messages appended again: a new UIDVALIDITY) and a
# new message is put in the near Work; the run must list the near side
# again for every size (a debug line says so), re-pair the messages by
# fingerprint, and leave both sides holding the same messages, each once,
# the new one included; a dry run then plans nothing. INBOX, unchanged
# on the server, is not listed twice.
# Run from the top of the tree; tests/run-all.sh runs it.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
tool_path IMAPC imapc

start_dovecot "$TMP/srv" alice

# msg FILE ID: a small message with Message-ID <ID@early.test>.
msg() {
	printf 'From: a@early.test\nSubject: %s\nMessage-ID: <%s@early.test>\n\nBody of %s.\n' \
	    "$2" "$2" "$2" >"$1"
}

NEAR=$TMP/near
mkbox "$NEAR/INBOX"
mkbox "$NEAR/Work"
msg "$NEAR/Work/cur/1700000001.n1.near:2,S" n1
for id in i1 w1 w2; do
	msg "$TMP/$id.eml" "$id"
done
{
	echo "CREATE Work"
	echo "@append INBOX $TMP/i1.eml (\\Seen)"
	echo "@append Work $TMP/w1.eml (\\Seen)"
	echo "@append Work $TMP/w2.eml ()"
} | "$IMAPC" "$IMAP_PORT" alice "$PASSWORD" >"$TMP/imapc1.out" || exit 1

{
	echo "SyncState *"
	echo
	rc_imap_account far alice "$PASSWORD"
	cat <<RC

IMAPStore far
Account far

MaildirStore near
Path $NEAR/
Inbox $NEAR/INBOX
SubFolders Verbatim

Channel c
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both
RC
} >"$TMP/rc"

twinbox() {
	timeout 60 "$BIN" -c "$TMP/rc" "$@" c >"$TMP/run.out" 2>&1
	echo $?
}

for i in 1 2; do
	expect_eq "run $i exits 0" 0 "$(twinbox)"
done
WANT="INBOX i1
Work n1
Work w1
Work w2"
expect_eq "both sides equal before" "$WANT|$WANT" \
    "$(message_ids "$MAIL_DIR/alice" 1)|$(message_ids "$NEAR" 0)"

{
	echo "DELETE Work"
	echo "CREATE Work"
	echo "@append Work $TMP/w1.eml (\\Seen)"
	echo "@append Work $TMP/w2.eml ()"
} | "$IMAPC" "$IMAP_PORT" alice "$PASSWORD" >"$TMP/imapc2.out" || exit 1
msg "$NEAR/Work/new/1700000002.n2.near" n2

st=$(twinbox -D)
expect_eq "the run after the recreation exits 0" 0 "$st"
[ "$st" = 0 ] || cat "$TMP/run.out" >&2
expect_eq "Work's near side is listed again, INBOX's not" \
    "c:Work: the near side is scanned again, for what the other side's status asks" \
    "$(sed -n 's/^debug: \(.*scanned again.*\)/\1/p' "$TMP/run.out")"
expect_eq "the far UIDVALIDITY change is noticed" 1 \
    "$(grep -c 'far UIDVALIDITY changed' "$TMP/run.out")"
WANT="INBOX i1
Work n1
Work n2
Work w1
Work w2"
expect_eq "far side after the run" "$WANT" "$(message_ids "$MAIL_DIR/alice" 1)"
expect_eq "near side after the run" "$WANT" "$(message_ids "$NEAR" 0)"
st=$(twinbox --dry-run)
expect_eq "a dry run then plans nothing" "0 " \
    "$st $(grep -a -v -e 'dry run: nothing to do$' -e 'logging in as' \
    "$TMP/run.out" | head -3)"

echo "imap_early_scan.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
