#!/bin/bash
# Watch mode on a Maildir <-> Maildir channel whose watched near folder is
# removed while the watcher runs (no server needed):
#  - the watcher notices, its sync creates the folder again and copies the
#    far message back into it;
#  - a flag then set in the new near folder reaches the far side, though
#    WatchInterval is an hour: the new folder is watched, not only the
#    removed one;
#  - the same after the near folder's cur/ is renamed away and made anew
#    (a watch that followed the old directory would see nothing);
#  - a message a mail reader removes near is marked deleted far (Expunge
#    None) and not copied back;
#  - SIGTERM ends the watcher with 0.
# A binary without inotify (COMPAT=portable, or not Linux) says so and
# syncs every WatchInterval (2 s here) instead: the same outcomes are
# checked, but not the lines that tell a removed folder was noticed,
# which come from inotify. python3 makes the one rename that swaps two
# directories (renameat2() with RENAME_EXCHANGE).
# Then a second watcher, whose near folder is not there when it starts
# (Create None): once a mail reader makes it, it is watched, and a near
# flag reaches the far side long before WatchInterval.
# Every wait polls for the expected state, at most 20 s each.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
command -v python3 >/dev/null || {
	echo "FAIL: python3 is needed (it swaps two directories in one rename)" >&2
	exit 1
}
interval=3600
inotify=1
if ! binary_has_inotify; then
	interval=2
	inotify=0
fi

watch_pid=
cleanup_more() {
	[ -n "$watch_pid" ] && kill -KILL "$watch_pid" 2>/dev/null
}

A=$TMP/far
B=$TMP/near
WLOG=$TMP/watch.log
mkbox "$A/INBOX"
mkdir -p "$B"
rc_maildir_pair "$A" "$B" "$interval" >"$TMP/sync.rc"

log_has() { grep -q -- "$1" "$WLOG"; }

# near_file: the near copy of the far message, if any.
near_file() {
	find "$B/INBOX/new" "$B/INBOX/cur" -type f 2>/dev/null | head -n 1
}
near_has() { [ -n "$(near_file)" ]; }

# far_has FLAG: the far message carries FLAG.
far_has() {
	local f
	for f in "$A/INBOX/cur/"*; do
		case "$f" in *:2,*"$1"*) return 0 ;; esac
	done
	return 1
}

# flag_near FLAG: the near message renamed into cur/ with FLAG added, as
# a mail reader does.
flag_near() {
	local f base flags
	f=$(near_file)
	[ -n "$f" ] || return 1
	base=$(basename "$f")
	flags=${base##*:2,}
	[ "$flags" = "$base" ] && flags=
	mv "$f" "$B/INBOX/cur/${base%%:2,*}:2,$flags$1"
}

printf 'Message-ID: <gone@watch.test>\n\nBody.\n' >"$A/INBOX/tmp/m1"
mv "$A/INBOX/tmp/m1" "$A/INBOX/new/m1"
"$BIN" -V -c "$TMP/sync.rc" --watch m >"$WLOG" 2>&1 &
watch_pid=$!
wait_for "the watcher watches INBOX" log_has "watching mailbox 'INBOX'"
if [ "$inotify" = 1 ]; then
	expect_eq "no warning about inotify" "" "$(grep "has no inotify" "$WLOG")"
else
	wait_for "without inotify the watcher says the periodic sync finds \
Maildir changes" log_has "has no inotify"
fi
wait_for "the first sync copies the far message" near_has

# The watcher says it watches INBOX before it adds its inotify watches
# (cur/ and new/ of both sides): a folder removed in between would find
# no watch to notice it, so the removal waits for the four.
if [ "$inotify" = 1 ]; then
	wait_for "the watcher's four inotify watches are in place" \
		eval '[ "$(inotify_watches "$watch_pid")" -ge 4 ]'
fi
rm -rf "$B/INBOX"
if [ "$inotify" = 1 ]; then
	wait_for "the removed near folder is noticed" \
		log_has "its folder was removed or renamed"
fi
wait_for "the sync creates the near folder again, with the message" near_has
flag_near F || fail "the near message can be flagged"
wait_for "a flag set in the new near folder reaches the far side" far_has F

# The new cur/ is made beside the old one with links to its files, the
# two are swapped in one rename (RENAME_EXCHANGE), and the old one, now
# cur.new, is removed: at no instant is the message missing from cur/.
# (Moved out and back by separate commands, it would be missing for a
# sync that a slow step lets run in between, which then marks it deleted.)
mkdir "$B/INBOX/cur.new"
ln "$B/INBOX/cur/"* "$B/INBOX/cur.new/"
python3 - "$B/INBOX/cur.new" "$B/INBOX/cur" <<'PY' ||
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
if libc.renameat2(AT_FDCWD, os.fsencode(sys.argv[1]), AT_FDCWD,
                  os.fsencode(sys.argv[2]), RENAME_EXCHANGE) != 0:
    sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
PY
	fail "cur/ and its new copy swapped"
rm -rf "$B/INBOX/cur.new"
# Once the old cur/ is no longer watched, the watcher watches the new
# one and syncs; a flag set at any time from here on must arrive.
if [ "$inotify" = 1 ]; then
	wait_for "the renamed cur/ is noticed" eval \
		'[ "$(grep -c "its folder was removed or renamed" "$WLOG")" -ge 2 ]'
fi
flag_near R || fail "the near message can be flagged again"
wait_for "after cur/ is made anew, a near flag reaches the far side" far_has R

# A mail reader deletes the message: the watcher carries the deletion
# (Expunge None: the far message is marked deleted, not removed) and
# does not copy the message back.
rm -f "$(near_file)"
wait_for "a message removed near is marked deleted far" far_has T
expect_eq "the removed message is not copied back near" "" "$(near_file)"
expect_eq "the far message is still there" 1 \
    "$(find "$A/INBOX/cur" -type f | wc -l)"

kill -TERM "$watch_pid"
wait "$watch_pid"
expect_eq "the watcher exits 0 on SIGTERM" 0 $?
watch_pid=

# A folder that is not there when the watcher starts (Create None: the
# sync cannot make it) is watched once it is: a mail reader makes it, the
# failed sync's retry fills it, and a flag set in it then reaches the far
# side through the watch, long before WatchInterval (an hour).
mkbox "$TMP/far2/Work"
printf 'Message-ID: <late@watch.test>\n\nBody.\n' >"$TMP/far2/Work/new/m2"
mkdir -p "$TMP/near2"
rc_maildir_pair "$TMP/far2" "$TMP/near2" "$interval" |
	sed -e 's/^Create Near$/Create None/' \
	    -e 's/^Far :a:$/Far :a:Work/' -e 's/^Near :b:$/Near :b:Work/' \
	    >"$TMP/late.rc"
WLOG=$TMP/late.log
"$BIN" -V -c "$TMP/late.rc" --watch m >"$WLOG" 2>&1 &
watch_pid=$!
wait_for "late folder: the watcher watches Work" log_has "watching mailbox 'Work'"
if [ "$inotify" = 1 ]; then
	wait_for "late folder: the watcher says it tries to watch it again" \
		log_has "until it can be watched"
fi
mkdir -p "$TMP/near2/Work/cur" "$TMP/near2/Work/new" "$TMP/near2/Work/tmp"
late_file() {
	find "$TMP/near2/Work/new" "$TMP/near2/Work/cur" -type f 2>/dev/null |
		head -n 1
}
wait_for "late folder: the far message reaches it" \
	eval '[ -n "$(late_file)" ]'
# Once the watcher has settled (its -V log quiet for 3 s, at most 30 s),
# nothing but a watch on the new folder can bring the flag set below
# before WatchInterval. (Without inotify the periodic sync, every 2 s,
# brings it.)
[ "$inotify" = 1 ] && wait_quiet "late folder: the watcher settles"
f=$(late_file)
base=$(basename "$f")
mv "$f" "$TMP/near2/Work/cur/${base%%:2,*}:2,F"
wait_for "late folder: a near flag reaches the far side through the watch" \
	eval 'ls "$TMP/far2/Work/cur/" | grep -q ":2,F"'
kill -TERM "$watch_pid"
wait "$watch_pid"
expect_eq "late folder: the watcher exits 0 on SIGTERM" 0 $?
watch_pid=

echo "watch_maildir_gone: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
