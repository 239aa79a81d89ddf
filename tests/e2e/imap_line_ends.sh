#!/bin/bash
# Messages that are not pure LF, pushed from a Maildir to a private Dovecot
# (IMAP <-> Maildir channel): CRLF, mixed line ends, a trailing CR and a
# bare CR, beside an ordinary LF message. Dovecot stores each with every
# line end made CRLF (a bare CR included), so its size on the server
# differs from the one the Maildir file gives; twinbox compares
# fingerprints in one canonical form (docs/sync-rules.md) and so
#  1. crash sweep: the push is killed at every step N (TWINBOX_CRASH_AFTER=N,
#     until the run ends by itself), then run again: no message is
#     duplicated on either side, both sides hold the five, a dry run plans
#     nothing;
#  2. re-pairing: after the near folder's UIDVALIDITY changes, the next
#     sync pairs the five again by fingerprint and copies nothing;
#  3. first contact: after the state file is lost, the next sync pairs
#     the five by content and copies nothing.
# Every case gets a fresh Dovecot user and a fresh near Maildir.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
E2E_QUIET_PASS=1

# Every user is made at start (see imap_faults.sh).
MAXUSERS=80
start_dovecot "$TMP/srv" $(seq -f 'u%g' $MAXUSERS)

# The near INBOX: five messages, one per kind of line end.
make_near() {
	local d=$1/INBOX
	mkbox "$d"
	printf 'From: lf@le.test\nSubject: LF\nMessage-ID: <lf@le.test>\n\nline one\nline two\n' \
	    >"$d/cur/1700000001.lf.near:2,S"
	printf 'From: crlf@le.test\r\nSubject: CRLF\r\nMessage-ID: <crlf@le.test>\r\n\r\nline one\r\nline two\r\n' \
	    >"$d/cur/1700000002.crlf.near:2,FS"
	printf 'From: mixed@le.test\nSubject: mixed\r\nMessage-ID: <mixed@le.test>\n\nline one\r\nline two\nline three\r\n' \
	    >"$d/new/1700000003.mixed.near"
	printf 'From: trailcr@le.test\nSubject: trailing CR\nMessage-ID: <trailcr@le.test>\n\nline one\nline two\r' \
	    >"$d/cur/1700000004.trailcr.near:2,RS"
	printf 'From: barecr@le.test\nSubject: bare CR\nMessage-ID: <barecr@le.test>\n\nline one\rline two\n' \
	    >"$d/new/1700000005.barecr.near"
}

# new_user NAME: the Maildir of a user made at start becomes empty.
new_user() {
	[ ! -e "$MAIL_DIR/$1" ] || return 1
	mkbox "$MAIL_DIR/$1" && chown -R "$MAIL_OWNER" "$MAIL_DIR/$1"
}

# write_rc FILE USER NEAR
write_rc() {
	cat >"$1" <<RC
IMAPAccount acct
Host 127.0.0.1
Port $IMAP_PORT
User $2
Pass secret
TLSType None
AuthMechs LOGIN
Timeout 20

IMAPStore far
Account acct

MaildirStore near
Path $3/
Inbox $3/INBOX
SubFolders Verbatim

Channel c
Far :far:INBOX
Near :near:INBOX
Sync All
SyncState *
RC
}

# ids DIR: the Message-IDs' local parts of a Maildir folder, sorted.
ids() {
	find "$1/cur" "$1/new" -type f -print0 | xargs -0 -r awk '
	FNR == 1 { found = 0 }
	!found && tolower($1) == "message-id:" {
		found = 1
		id = $2
		sub("^<", "", id)
		sub("@.*", "", id)
		print id
	}' | sort
}

# twinbox RCFILE OUT [ARGS...]: run the binary, bounded; prints its status.
twinbox() {
	local rc=$1 out=$2
	shift 2
	timeout 60 "$BIN" -c "$rc" "$@" c >"$out" 2>&1
	echo $?
}

WANT="barecr crlf lf mixed trailcr"

# check LABEL: both sides hold the five once each; a dry run plans nothing.
check() {
	local st
	expect_eq "$1: server" "$WANT" "$(ids "$MAIL_DIR/$U" | tr '\n' ' ' |
	    sed 's/ $//')"
	expect_eq "$1: maildir" "$WANT" "$(ids "$NEAR/INBOX" | tr '\n' ' ' |
	    sed 's/ $//')"
	st=$(twinbox "$RC" "$TMP/dry.out" --dry-run)
	expect_eq "$1: dry run succeeds" 0 "$st"
	expect_eq "$1: dry run plans nothing" "" \
	    "$(grep -v -e 'dry run: nothing to do$' -e 'logging in as' \
	    "$TMP/dry.out")"
}

make_near "$TMP/near0"
users=0

# fresh LABEL: a new user and near copy; sets U, NEAR, RC.
fresh() {
	users=$((users + 1))
	U=u$users
	[ $users -le $MAXUSERS ] || { fail "$1: more than $MAXUSERS users"; return 1; }
	NEAR=$TMP/case/$U
	RC=$TMP/case/$U.rc
	mkdir -p "$TMP/case"
	new_user "$U" || { fail "$1: cannot add user $U"; return 1; }
	cp -a "$TMP/near0" "$NEAR"
	write_rc "$RC" "$U" "$NEAR"
}

# ---- 1. crash sweep -----------------------------------------------------

fresh "reference" || exit 1
st=$(twinbox "$RC" "$TMP/ref.out")
expect_eq "reference push exits 0" 0 "$st"
check "reference push"

crash_sweep 60 fresh check
echo "ok: push of five line-end kinds killed at each of $SWEPT steps, then resumed"
[ "$SWEPT" -ge 10 ] || fail "only $SWEPT steps"

# ---- 2. re-pairing after a UIDVALIDITY change ---------------------------

fresh "uidvalidity" || exit 1
st=$(twinbox "$RC" "$TMP/uv1.out")
expect_eq "uidvalidity: first sync exits 0" 0 "$st"
rm "$NEAR/INBOX/.uidvalidity"
st=$(twinbox "$RC" "$TMP/uv2.out" -V)
expect_eq "uidvalidity: re-pairing sync exits 0" 0 "$st"
expect_eq "uidvalidity: five re-paired" 5 "$(grep -c '^c: new pair' "$TMP/uv2.out")"
expect_eq "uidvalidity: nothing copied" 0 "$(grep -c '^c: copy' "$TMP/uv2.out")"
check "uidvalidity change"

# ---- 3. first contact after a lost state --------------------------------

fresh "lost state" || exit 1
st=$(twinbox "$RC" "$TMP/ls1.out")
expect_eq "lost state: first sync exits 0" 0 "$st"
rm "$NEAR/INBOX/.twinboxstate"
st=$(twinbox "$RC" "$TMP/ls2.out" -V)
expect_eq "lost state: sync exits 0" 0 "$st"
expect_eq "lost state: five paired by content" 5 "$(grep -c '^c: new pair' "$TMP/ls2.out")"
expect_eq "lost state: nothing copied" 0 "$(grep -c '^c: copy' "$TMP/ls2.out")"
check "lost state"

echo "imap_line_ends.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
