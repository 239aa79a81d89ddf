#!/bin/bash
# One login per IMAPStore per run, against a private Dovecot: the ArchWiki
# Gmail layout (one IMAPAccount with a PassCmd, one IMAPStore, five
# channels on INBOX and four "[Gmail]/..." folders, one Group), run as
# `twinbox -D GROUP`:
#  - the PassCmd runs once (it appends a line to a counter file) and the
#    protocol log holds one LOGIN; every channel is synced (each near
#    folder receives its server folder's message) and the run exits 0;
#  - a second run: the same, once, and nothing to copy;
#  - with a second IMAPAccount (another user, its own PassCmd) in the
#    group: one login for each account, two in all;
#  - two IMAPStores of one IMAPAccount (one with a Path), their channels
#    interleaved in a group: one login;
#  - one channel over all five folders (Patterns *) of an account with
#    Connections 3: three connections log in (two or three LOGINs: one
#    that no folder is left for is not waited for), the PassCmd
#    runs once, one LIST is sent (the other connections take the first
#    one's listing), every folder is synced and the run exits 0;
#  - the same folders through an IMAPStore with Path "[Gmail]." and
#    Connections 3: the further connections take the first one's prefix
#    with its Path (one NAMESPACE), every SELECT of any connection names
#    a "[Gmail]." folder, and every folder is synced;
#  - through tests/tools/faultproxy, the connection is dropped when the
#    second channel starts (its LIST): the run logs in again once (two
#    LOGINs, the PassCmd still runs once: its output is kept for the
#    run), says so under -V, and every channel still syncs: exit 0.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
tool_path PROXY faultproxy
proxy_pid=
cleanup_more() {
	exec 9>&- 2>/dev/null
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
}

start_dovecot "$TMP/srv" alice bob carol dave erin
export XDG_STATE_HOME=$TMP/xdg-state
mkdir -p "$TMP/state"

FOLDERS=("Sent Mail" Drafts Trash Starred)

# mkmsg FILE ID: a small message with Message-ID <ID@login.test>.
mkmsg() {
	printf 'From: s@login.test\nSubject: %s\nMessage-ID: <%s@login.test>\n\nBody of %s.\n' \
		"$2" "$2" "$2" >"$1"
}

# ids DIR: the Message-IDs of a Maildir folder, sorted, on one line.
ids() {
	find "$1/cur" "$1/new" -type f -exec cat {} + 2>/dev/null |
		tr -d '\r' | sed -n 's/^Message-ID: <\(.*\)@login.test>/\1/p' |
		sort | tr '\n' ' '
}

# seed USER: the user's server Maildir (Dovecot's Maildir++: "[Gmail]/X"
# is the directory ".[Gmail].X"), one message in each folder.
seed() {
	local t=$TMP/seed-$1 f
	mkbox "$t"
	mkmsg "$t/cur/1.inbox:2,S" "$1-inbox"
	for f in "${FOLDERS[@]}"; do
		mkbox "$t/.[Gmail].$f"
		mkmsg "$t/.[Gmail].$f/cur/1.m:2,S" "$1-${f// /}"
	done
	new_user "$1" "$t" || {
		echo "FAIL: cannot make the Maildir of $1" >&2
		exit 1
	}
}
seed alice
seed bob
seed carol
seed dave
seed erin

# account NAME USER PORT: an IMAPAccount whose PassCmd counts its runs in
# TMP/NAME.count, its IMAPStore NAME-remote, a MaildirStore NAME-local and
# the five channels NAME-inbox, NAME-sent, ...
account() {
	local f
	mkdir -p "$TMP/$1-local"
	cat <<RC
SyncState $TMP/state/

IMAPAccount $1
Host 127.0.0.1
Port $3
User $2
PassCmd "echo run >>$TMP/$1.count; echo $PASSWORD"
TLSType None
AuthMechs LOGIN

IMAPStore $1-remote
Account $1

MaildirStore $1-local
Path $TMP/$1-local/
Inbox $TMP/$1-local/Inbox
SubFolders Verbatim

Channel $1-inbox
Far :$1-remote:
Near :$1-local:Inbox
Create Near

RC
	for f in "${FOLDERS[@]}"; do
		printf 'Channel %s-%s\nFar :%s-remote:"[Gmail]/%s"\nNear :%s-local:%s\nCreate Near\n\n' \
			"$1" "${f// /}" "$1" "$f" "$1" "${f// /}"
	done
	printf 'Group %s\nChannel %s-inbox\n' "$1" "$1"
	for f in "${FOLDERS[@]}"; do
		printf 'Channel %s-%s\n' "$1" "${f// /}"
	done
	echo
}

# run NAME RC ARGS...: one run with the protocol log; status in $status.
run() {
	local name=$1 rc=$2
	shift 2
	timeout 120 "$BIN" -c "$rc" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	status=$?
}

# logins NAME: the LOGIN commands in a run's protocol log.
logins() {
	cat "$TMP/$1.out" "$TMP/$1.err" | grep -c '>> [A-Za-z0-9]* LOGIN '
}

# check_synced NAME ACCOUNT USER: every near folder holds its server
# message.
check_synced() {
	local f
	expect_eq "$1: Inbox synced" "$3-inbox " "$(ids "$TMP/$2-local/Inbox")"
	for f in "${FOLDERS[@]}"; do
		expect_eq "$1: [Gmail]/$f synced" "$3-${f// /} " \
			"$(ids "$TMP/$2-local/${f// /}")"
	done
}

account gmail alice "$IMAP_PORT" >"$TMP/one.rc"
run first "$TMP/one.rc" -D gmail
expect_eq "first run: exit status" 0 "$status"
expect_eq "first run: PassCmd ran once" 1 "$(wc -l <"$TMP/gmail.count")"
expect_eq "first run: one LOGIN" 1 "$(logins first)"
check_synced "first run" gmail alice

run second "$TMP/one.rc" -D gmail
expect_eq "second run: exit status" 0 "$status"
expect_eq "second run: PassCmd ran once more" 2 \
	"$(wc -l <"$TMP/gmail.count")"
expect_eq "second run: one LOGIN" 1 "$(logins second)"
expect_eq "second run: nothing copied (-D's total says 0 copied)" 0 \
	"$(cat "$TMP/second.out" "$TMP/second.err" |
		grep -v -e "$NOOP_TOTAL" | grep -c 'copied')"

# Two accounts: one login each.
{ account work bob "$IMAP_PORT"; account home carol "$IMAP_PORT" |
	sed '/^SyncState/,+1d'; } >"$TMP/two.rc"
printf 'Group both\nChannel work-inbox\nChannel home-inbox\nChannel work-Trash\nChannel home-Trash\n' \
	>>"$TMP/two.rc"
run two "$TMP/two.rc" -D both
expect_eq "two accounts: exit status" 0 "$status"
expect_eq "two accounts: first PassCmd ran once" 1 \
	"$(wc -l <"$TMP/work.count")"
expect_eq "two accounts: second PassCmd ran once" 1 \
	"$(wc -l <"$TMP/home.count")"
expect_eq "two accounts: two LOGINs" 2 "$(logins two)"
expect_eq "two accounts: work Trash synced" "bob-Trash " \
	"$(ids "$TMP/work-local/Trash")"
expect_eq "two accounts: home Inbox synced" "carol-inbox " \
	"$(ids "$TMP/home-local/Inbox")"

# Two IMAPStores of one IMAPAccount (the second with Path "[Gmail]."):
# still one connection, one login.
account two dave "$IMAP_PORT" | sed '/^Group/,$d' >"$TMP/stores.rc"
cat >>"$TMP/stores.rc" <<RC

IMAPStore two-gmail
Account two
Path "[Gmail]."

Channel gm-trash
Far :two-gmail:Trash
Near :two-local:Trash
Create Near

Channel gm-sent
Far :two-gmail:"Sent Mail"
Near :two-local:SentMail
Create Near

Group mixed
Channel two-inbox
Channel gm-trash
Channel two-Drafts
Channel gm-sent
RC
run stores "$TMP/stores.rc" -D mixed
expect_eq "two stores, one account: exit status" 0 "$status"
expect_eq "two stores, one account: PassCmd ran once" 1 \
	"$(wc -l <"$TMP/two.count")"
expect_eq "two stores, one account: one LOGIN" 1 "$(logins stores)"
expect_eq "two stores, one account: the connection moved over twice" 2 \
	"$(cat "$TMP/stores.out" "$TMP/stores.err" |
		grep -c "imap store 'two-gmail': prefix '\[Gmail\]\.'")"
for f in Inbox Trash Drafts SentMail; do
	expect_eq "two stores, one account: $f synced" \
		"dave-${f/Inbox/inbox} " "$(ids "$TMP/two-local/$f")"
done

# One channel, five folders, Connections 3: three logins, one PassCmd.
cat >"$TMP/many.rc" <<RC
SyncState $TMP/state/

IMAPAccount many
Host 127.0.0.1
Port $IMAP_PORT
User erin
PassCmd "echo run >>$TMP/many.count; echo $PASSWORD"
TLSType None
AuthMechs LOGIN
Connections 3

IMAPStore many-remote
Account many

MaildirStore many-local
Path $TMP/many-local/
Inbox $TMP/many-local/Inbox
SubFolders Verbatim

Channel many
Far :many-remote:
Near :many-local:
Patterns *
Create Near
RC
mkdir -p "$TMP/many-local"
# The run's first step (inside its folder's open) waits (TWINBOX_HOOK_AT:
# only that connection's thread) until two connections have sent a
# SELECT, at most 20 s: on a fast or busy machine the first connection
# could otherwise sync every folder before the others connect, and the
# run, rightly, abandons them.
cat >"$TMP/wait-select" <<'SH'
i=0
while [ "$(cat "$1.out" "$1.err" |
    sed -n 's/^debug: \([^ ]*\) >> [^ ]* SELECT .*/\1/p' | sort -u | wc -l)" \
    -lt 2 ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
SH
TWINBOX_HOOK_AT=1 TWINBOX_HOOK_CMD="sh '$TMP/wait-select' '$TMP/many'" \
	run many "$TMP/many.rc" -D many
expect_eq "Connections 3: exit status" 0 "$status"
# Three connections (one that no folder is left for by the time it has
# connected is abandoned before its login).
expect_eq "Connections 3: two or three LOGINs ($(logins many))" 1 \
	"$([ "$(logins many)" -ge 2 ] && [ "$(logins many)" -le 3 ] && echo 1)"
expect_eq "Connections 3: one LIST (the first connection's)" 1 \
	"$(cat "$TMP/many.out" "$TMP/many.err" | grep -c '>> [A-Za-z0-9]* LIST ')"
expect_eq "Connections 3: one NAMESPACE (the others are told the first's)" 1 \
	"$(cat "$TMP/many.out" "$TMP/many.err" | grep -c '>> [A-Za-z0-9]* NAMESPACE')"
expect_eq "Connections 3: PassCmd ran once" 1 "$(wc -l <"$TMP/many.count")"
expect_eq "Connections 3: Inbox synced" "erin-inbox " \
	"$(ids "$TMP/many-local/Inbox")"
for f in "${FOLDERS[@]}"; do
	expect_eq "Connections 3: [Gmail]/$f synced" "erin-${f// /} " \
		"$(ids "$TMP/many-local/[Gmail]/$f")"
done

# The same account's four "[Gmail]" folders through an IMAPStore whose
# Path is "[Gmail].", Connections 3: the further connections are given
# the first one's prefix, Path included, and must open the server's
# "[Gmail].NAME", never a bare "NAME" (Dovecot would refuse it, another
# server might hold a mailbox of that name). The first step waits as
# above, so that a further connection opens folders.
sed -e 's/^IMAPStore many-remote$/&\nPath [Gmail]./' \
    -e 's/many-local/pathed-local/g' -e 's/many\.count/pathed.count/' \
    -e 's/^Channel many$/Channel pathed/' -e 's/^Patterns \*$/& !INBOX/' \
    "$TMP/many.rc" >"$TMP/pathed.rc"
mkdir -p "$TMP/pathed-local"
TWINBOX_HOOK_AT=1 TWINBOX_HOOK_CMD="sh '$TMP/wait-select' '$TMP/pathed'" \
	run pathed "$TMP/pathed.rc" -D pathed
expect_eq "Path and Connections 3: exit status" 0 "$status"
pathed_selects=$(cat "$TMP/pathed.out" "$TMP/pathed.err" |
	sed -n 's/^debug: \([^ ]*\) >> [^ ]* SELECT "\([^"]*\)".*/\1 \2/p')
expect_eq "Path and Connections 3: two or three connections SELECT" 1 \
	"$(cut -d' ' -f1 <<<"$pathed_selects" | sort -u | wc -l |
	awk '{ print ($1 >= 2 && $1 <= 3) }')"
expect_eq "Path and Connections 3: every SELECT names a [Gmail] folder" "" \
	"$(grep -v '^[^ ]* \[Gmail\]\.' <<<"$pathed_selects")"
expect_eq "Path and Connections 3: one NAMESPACE" 1 \
	"$(cat "$TMP/pathed.out" "$TMP/pathed.err" | grep -c '>> [A-Za-z0-9]* NAMESPACE')"
for f in "${FOLDERS[@]}"; do
	expect_eq "Path and Connections 3: $f synced" "erin-${f// /} " \
		"$(ids "$TMP/pathed-local/$f")"
done

# The connection dies between two channels: dropped by the proxy at the
# second LIST (one per channel: Dovecot gives the delimiter in NAMESPACE).
# A second, idle connection keeps the proxy up for the new login.
rm -f "$TMP/proxy.port"
"$PROXY" --to "127.0.0.1:$IMAP_PORT" --port-file "$TMP/proxy.port" \
	--report "$TMP/proxy.report" --log "$TMP/proxy.log" --fault drop \
	--only LIST --at 2 --max-seconds 60 2>"$TMP/proxy.err" &
proxy_pid=$!
PPORT=$(port_from "$TMP/proxy.port")
if [ -z "$PPORT" ]; then
	echo "FAIL: faultproxy did not start:" >&2
	cat "$TMP/proxy.err" >&2
	exit 1
fi
exec 9<>"/dev/tcp/127.0.0.1/$PPORT"
rm -rf "$TMP/gmail-local" "$TMP/gmail.count" "$TMP/state"
mkdir -p "$TMP/gmail-local" "$TMP/state"
sed "s/^Port $IMAP_PORT\$/Port $PPORT/" "$TMP/one.rc" >"$TMP/proxy.rc"
run dropped "$TMP/proxy.rc" -D gmail
exec 9>&-
kill "$proxy_pid" 2>/dev/null
wait "$proxy_pid" 2>/dev/null
proxy_pid=
expect_eq "dropped: the proxy dropped the connection at a LIST" \
	"1 LIST" "$(sed -n 's/^fired=//p' "$TMP/proxy.report") $(sed -n 's/^command=//p' "$TMP/proxy.report")"
expect_eq "dropped: exit status" 0 "$status"
expect_eq "dropped: PassCmd ran once" 1 "$(wc -l <"$TMP/gmail.count")"
expect_eq "dropped: two LOGINs" 2 "$(logins dropped)"
expect_eq "dropped: the new login said" 1 \
	"$(cat "$TMP/dropped.out" "$TMP/dropped.err" |
		grep -c 'was lost since the last channel.*logging in again')"
check_synced dropped gmail alice

echo "imap_one_login: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
