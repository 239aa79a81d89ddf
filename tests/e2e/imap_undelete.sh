#!/bin/bash
# Another client takes back a deletion while twinbox carries it out: on an
# IMAP <-> Maildir channel against a private Dovecot with Expunge Both, a
# near file is removed after a first sync, and the next run marks its
# server copy \Deleted and expunges it. At step N of that run
# (TWINBOX_HOOK_AT, swept over every step), a second IMAP session clears
# \Deleted on every server message, as a phone's "undo" does. Whatever
# the step, the run exits 0 or 1 and then at most two clean runs leave
# both sides holding the same messages, each once, and a dry run plans
# nothing: the mirror never ends with a server message that no record
# holds and the Maildir lacks ("up to date" while the sides differ).
# Run from the top of the tree; tests/run-all.sh runs it with sh. KEEP=1
# leaves the directory and the server, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
E2E_QUIET_PASS=1

STEPS=${STEPS:-16}
start_dovecot "$TMP/srv" $(seq -f 'u%g' "$STEPS")
IMAPC=$(abs_path "$BUILD/tests/tools/imapc")
printf 'SELECT INBOX\nUID STORE 1:* -FLAGS.SILENT (\\Deleted)\n' \
	>"$TMP/undelete.imap"

# The server's mail, there before the first sync: three messages.
mkbox "$TMP/far"
for i in 1 2 3; do
	printf 'Subject: %s\nMessage-ID: <%s@undelete.test>\n\nBody %s.\n' \
		"$i" "$i" "$i" >"$TMP/far/cur/170000000$i.m$i.far:2,S"
done

# write_rc USER: the channel of USER's account and Maildir.
write_rc() {
	cat >"$TMP/$1/sync.rc" <<RC
SyncState $TMP/$1/state/

IMAPAccount acct
Host 127.0.0.1
Port $IMAP_PORT
User $1
Pass $PASSWORD
TLSType None
AuthMechs PLAIN

IMAPStore far
Account acct

MaildirStore near
Path $TMP/$1/near/
Inbox $TMP/$1/near/INBOX
SubFolders Verbatim

Channel local
Far :far:
Near :near:
Patterns INBOX
Expunge Both
RC
}

# ids DIR: the Message-IDs of a Maildir folder, sorted.
ids() {
	cat "$1"/cur/* "$1"/new/* 2>/dev/null | grep '^Message-ID:' | sort
}

# sync USER [OPTION...]: one run of USER's channel; its status in
# $status, its output in TMP/USER/out.
sync() {
	local u=$1
	shift
	timeout 120 "$BIN" "$@" -c "$TMP/$u/sync.rc" local \
		>"$TMP/$u/out" 2>&1
	status=$?
}

hit=0
for k in $(seq 1 "$STEPS"); do
	u=u$k
	mkbox "$TMP/$u/near/INBOX"
	mkdir -p "$TMP/$u/state"
	new_user "$u" "$TMP/far"
	write_rc "$u"
	sync "$u"
	expect_eq "step $k: first sync" 0 "$status"
	rm "$(grep -l '<2@undelete.test>' "$TMP/$u/near/INBOX/cur/"*)"
	TWINBOX_HOOK_AT=$k \
	TWINBOX_HOOK_CMD="'$IMAPC' $IMAP_PORT $u '$PASSWORD' <'$TMP/undelete.imap' >/dev/null" \
		sync "$u"
	grep -q 'was not expunged' "$TMP/$u/out" && hit=$((hit + 1))
	case $status in
	0|1) pass "step $k: hooked run exit status" ;;
	*) fail "step $k: hooked run exit status $status" "$(cat "$TMP/$u/out")" ;;
	esac
	for _ in 1 2; do
		sync "$u" -V
		[ "$status" -eq 0 ] && grep -q 'up to date' "$TMP/$u/out" && break
	done
	expect_eq "step $k: clean run" 0 "$status"
	expect_eq "step $k: server and Maildir hold the same messages" \
		"$(ids "$MAIL_DIR/$u")" "$(ids "$TMP/$u/near/INBOX")"
	expect_eq "step $k: each message once" "" \
		"$(ids "$MAIL_DIR/$u" | uniq -d)"
	sync "$u" --dry-run
	expect_eq "step $k: dry run plans nothing" 1 \
		"$(grep -c 'dry run: nothing to do' "$TMP/$u/out")"
done

# The sweep must have met the window between the mark and the expunge.
expect_eq "a step fell between the mark and the expunge" 1 "$hit"


echo "imap_undelete: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
