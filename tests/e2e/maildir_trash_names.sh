#!/bin/bash
# Trash on a store with Flatten or MapInbox (Maildir <-> Maildir): a
# message marked \Deleted in the near Maildir is copied into the near
# store's Trash, named as the store names it ("Old/Trash" with Flatten
# ".", so the folder Old.Trash; "Trash" beside MapInbox), then expunged
# near and, the deletion propagated, far; the run exits 0 and a second
# run has nothing to do.
# The Trash mailbox itself, synced by a channel, is not its own Trash: a
# message deleted on far goes from the near Trash for good, and the next
# run has nothing to do (it used to come back, a new message, each run).
# A new message marked \Deleted near, to trash and expunge, that a mail
# reader deletes while the sync runs (TWINBOX_HOOK_AT=N, src/sync/crash.h,
# at every step N): the run still exits 0, and the other messages stay.
# A synced message marked \Deleted near, to trash and expunge, whose file
# a mail reader renames while the sync runs (it marks the message
# replied: the same message, a new file name), at every step: after that
# run and one more, the message is in the near Trash exactly once, gone
# from both INBOXes, and the other message stays.
# Run from the top of the tree; tests/run-all.sh runs it.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

count() {
	find "$1/cur" "$1/new" -type f 2>/dev/null |
		xargs -r grep -l "Message-ID: <$2@" | wc -l
}

# one LABEL STORE_KEY TRASH TRASH_DIR
one() {
	local d=$TMP/$1
	mkbox "$d/far"
	mkdir -p "$d/near"
	for id in m1 m2; do
		printf 'From: a@example.org\nSubject: %s\nMessage-ID: <%s@trash.test>\n\nbody\n' \
			"$id" "$id" >"$d/far/cur/1700000000.$id.host:2,S"
	done
	cat >"$d/sync.rc" <<RC
FSync no
SyncState $d/state/

MaildirStore far
Path $d/far/
Inbox $d/far

MaildirStore near
Path $d/near/
Inbox $d/near/INBOX
SubFolders Verbatim
$2
Trash $3

Channel c
Far :far:INBOX
Near :near:INBOX
Expunge Both
Create Both
Sync All
RC
	timeout 60 "$BIN" -c "$d/sync.rc" c >"$d/1.out" 2>&1
	expect_eq "$1: first run" 0 "$?"
	local f
	f=$(grep -rl 'Message-ID: <m2@' "$d/near/INBOX/cur")
	mv "$f" "${f%:2,*}:2,ST"
	timeout 60 "$BIN" -c "$d/sync.rc" c >"$d/2.out" 2>&1
	expect_eq "$1: run with a message to trash" 0 "$?"
	expect_eq "$1: the message in Trash" 1 "$(count "$d/near/$4" m2)"
	expect_eq "$1: expunged near and far" "0 0" \
		"$(count "$d/near/INBOX" m2) $(count "$d/far" m2)"
	expect_eq "$1: m1 kept" "1 1" \
		"$(count "$d/near/INBOX" m1) $(count "$d/far" m1)"
	timeout 60 "$BIN" -V -c "$d/sync.rc" c >"$d/3.out" 2>&1
	expect_eq "$1: second run" 0 "$?"
	expect_eq "$1: then nothing to do" 1 "$(grep -c 'up to date' "$d/3.out")"
}

one flatten "Flatten ." "Old/Trash" "Old.Trash"
one mapinbox "MapInbox Incoming" "Trash" "Trash"

d=$TMP/self
mkbox "$d/far"
mkdir -p "$d/near"
printf 'From: a@example.org\nSubject: t1\nMessage-ID: <t1@trash.test>\n\nbody\n' \
	>"$d/far/cur/1700000000.t1.host:2,S"
cat >"$d/sync.rc" <<RC
FSync no
SyncState $d/state/

MaildirStore far
Path $d/far/
Inbox $d/far

MaildirStore near
Path $d/near/
Inbox $d/near/INBOX
SubFolders Verbatim
Trash Trash

Channel c
Far :far:INBOX
Near :near:Trash
Expunge Both
Create Both
Sync All
RC
timeout 60 "$BIN" -c "$d/sync.rc" c >"$d/1.out" 2>&1
expect_eq "self: first run" 0 "$?"
expect_eq "self: the message in the near Trash" 1 "$(count "$d/near/Trash" t1)"
rm -f "$d"/far/cur/*
timeout 60 "$BIN" -c "$d/sync.rc" c >"$d/2.out" 2>&1
expect_eq "self: run after the deletion" 0 "$?"
expect_eq "self: gone from the near Trash" 0 "$(count "$d/near/Trash" t1)"
timeout 60 "$BIN" -V -c "$d/sync.rc" c >"$d/3.out" 2>&1
expect_eq "self: next run" 0 "$?"
expect_eq "self: then nothing to do" 1 "$(grep -c 'up to date' "$d/3.out")"
expect_eq "self: far stays empty" 0 "$(count "$d/far" t1)"

# gone_run N: a fresh pair, m1 and m2 synced, m3 new near with \Deleted;
# the hook removes m3's file at step N.
# gone_run_setup DIR: m1 and m2 on far, synced to near with a Trash.
gone_run_setup() {
	local d=$1
	mkbox "$d/far"
	mkbox "$d/near/INBOX"
	for id in m1 m2; do
		printf 'From: a@example.org\nSubject: %s\nMessage-ID: <%s@trash.test>\n\nbody\n' \
			"$id" "$id" >"$d/far/cur/1700000000.$id.host:2,S"
	done
	cat >"$d/sync.rc" <<RC
FSync no
SyncState $d/state/

MaildirStore far
Path $d/far/
Inbox $d/far

MaildirStore near
Path $d/near/
Inbox $d/near/INBOX
SubFolders Verbatim
Trash Trash

Channel c
Far :far:INBOX
Near :near:INBOX
Expunge Both
Create Both
Sync All
RC
	timeout 60 "$BIN" -c "$d/sync.rc" c >"$d/1.out" 2>&1 ||
		fail "$d: first run" "$(cat "$d/1.out")"
}

gone_run() {
	local d=$TMP/gone-$1
	gone_run_setup "$d"
	printf 'From: a@example.org\nSubject: m3\nMessage-ID: <m3@trash.test>\n\nbody\n' \
		>"$d/near/INBOX/cur/1700000003.m3.host:2,ST"
	TWINBOX_HOOK_AT=$1 TWINBOX_HOOK_CMD="rm -f '$d'/near/INBOX/cur/*.m3.*" \
		timeout 60 "$BIN" -c "$d/sync.rc" c >"$d/2.out" 2>&1
	gone_status=$?
	gone_kept="$(count "$d/near/INBOX" m1)$(count "$d/near/INBOX" m2)$(count "$d/far" m1)$(count "$d/far" m2)$(count "$d/far" m3)"
	[ $gone_status -eq 0 ] || cat "$d/2.out" >"$TMP/gone.why"
}
bad_steps=
for n in $(seq 1 12); do
	gone_run "$n"
	[ "$gone_status" = 0 ] && [ "$gone_kept" = 11110 ] ||
		bad_steps="$bad_steps $n:$gone_status:$gone_kept"
done
expect_eq "gone while trashed: every step exits 0, m1 m2 kept, m3 not on far" \
	"" "$bad_steps"
[ -z "$bad_steps" ] || cat "$TMP/gone.why" >&2

# moved_run N: m1 and m2 synced, then m1 marked \Deleted near; the hook
# renames m1's near file (adds R) at step N.
moved_run() {
	local d=$TMP/moved-$1
	gone_run_setup "$d"
	# mark FLAGS: give m1's near file the info part ":2,FLAGS".
	cat >"$d/mark" <<'SH'
for f in $(grep -l 'Message-ID: <m1@' "$1"/cur/*); do
	mv "$f" "${f%:2,*}:2,$2"
done
SH
	sh "$d/mark" "$d/near/INBOX" ST
	TWINBOX_HOOK_AT=$1 TWINBOX_HOOK_CMD="sh '$d/mark' '$d/near/INBOX' RST" \
		timeout 60 "$BIN" -c "$d/sync.rc" c >"$d/2.out" 2>&1
	timeout 60 "$BIN" -c "$d/sync.rc" c >"$d/3.out" 2>&1
	moved_status=$?
	moved_where="$(count "$d/near/Trash" m1)$(count "$d/near/INBOX" m1)$(count "$d/far" m1)$(count "$d/near/INBOX" m2)$(count "$d/far" m2)"
	[ $moved_status -eq 0 ] || cat "$d/3.out" >"$TMP/moved.why"
}
bad_steps=
for n in $(seq 1 12); do
	moved_run "$n"
	[ "$moved_status" = 0 ] && [ "$moved_where" = 10011 ] ||
		bad_steps="$bad_steps $n:$moved_status:$moved_where"
done
expect_eq "renamed while trashed: every step ends with m1 in Trash once, m2 kept" \
	"" "$bad_steps"
[ -z "$bad_steps" ] || cat "$TMP/moved.why" >&2 2>/dev/null

echo "maildir_trash_names: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
