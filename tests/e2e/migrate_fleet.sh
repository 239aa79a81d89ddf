#!/bin/bash
# Fleet migration with scripts/migrate between two private Dovecots, a
# source and a target, ten accounts of mail in several folders:
#  - six accounts at three at a time, one with a wrong target password:
#    that one fails and is named in the table (exit 1), the five others
#    are migrated and verified, each with its done marker;
#  - the password fixed, a re-run migrates only that account: the logs
#    and markers of the five others are left as they were;
#  - an account migrating into a target that already holds part of its
#    mail (and a folder of it) copies only what is missing;
#  - state lost (first contact between the two mailboxes again): nothing
#    is copied; state lost after two new messages arrived at the source:
#    those two are copied, nothing else;
#  - a run stopped by TERM while an account is half copied exits 143 and
#    leaves no twinbox running; the next run skips the account finished
#    before and copies the rest of the other;
#  - the GNU parallel recipe of docs/migration.md (--sshlogin :, the local
#    machine, --joblog, --resume-failed) over two more accounts, one
#    failing first: the retry runs only that one.
# Each time, every folder holds the same Message-IDs on both servers, each
# once (no duplicate anywhere), and the source is unchanged.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the servers running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

MIGRATE=$PWD/scripts/migrate
command -v parallel >/dev/null 2>&1 || {
	echo "FAIL: GNU parallel is missing (Debian package parallel)" >&2
	exit 1
}

USERS="a1 a2 a3 a4 a5 a6 a7 a8 a9 a10"
PW=fleet-pw-7Q
export TEST_PASSWORD=$PW
# shellcheck disable=SC2086
start_dovecot "$TMP/src" $USERS
SRC_PORT=$IMAP_PORT
SRC_MAIL=$MAIL_DIR
# shellcheck disable=SC2086
start_dovecot "$TMP/dst" $USERS
DST_PORT=$IMAP_PORT
DST_IMAPS=$IMAPS_PORT
DST_MAIL=$MAIL_DIR

seed=0
for u in $USERS; do
	seed=$((seed + 1))
	n=24
	[ "$u" = a9 ] && n=600
	if ! bash "$SERVER" populate "$TMP/src" "$u" "$n" 3 "$seed" \
	    >>"$TMP/populate.out" 2>&1; then
		echo "FAIL: cannot populate $u:" >&2
		cat "$TMP/populate.out" >&2
		exit 1
	fi
done

# msgids ROOT: "FOLDER MESSAGE-ID" for every message of a Dovecot user's
# Maildir++ tree, sorted (a duplicate shows as a repeated line).
msgids() {
	local d folder f
	for d in "$1" "$1"/.*/; do
		[ -d "$d/cur" ] || continue
		folder=${d%/}
		folder=${folder##*/}
		[ "$d" = "$1" ] && folder=INBOX
		for f in "$d"/cur/* "$d"/new/*; do
			[ -f "$f" ] || continue
			awk -v folder="$folder" '/^\r?$/ { exit }
			    tolower($1) == "message-id:" { print folder, $2 }' "$f"
		done
	done | sort
}

count() {
	msgids "$1" | wc -l
}

# same USER WHEN: the target holds exactly the source's messages, and
# the source is as populated.
same() {
	local src dst
	src=$(msgids "$SRC_MAIL/$1")
	dst=$(msgids "$DST_MAIL/$1" | grep -v '<extra@fleet.test>')
	expect_eq "$2: $1: the source unchanged" "$(cat "$TMP/src-$1")" "$src"
	if [ "$src" = "$dst" ]; then
		pass "$2: $1: same messages on both servers, each once"
	else
		fail "$2: $1: the servers differ" \
		    "$(diff <(echo "$src") <(echo "$dst") | head -n 10)"
	fi
	expect_eq "$2: $1: no duplicate on the target" "" \
	    "$(echo "$dst" | uniq -d)"
}

for u in $USERS; do
	msgids "$SRC_MAIL/$u" >"$TMP/src-$u"
done
expect_eq "setup: three folders for a1" 3 \
    "$(cut -d' ' -f1 "$TMP/src-a1" | sort -u | wc -l)"

# a5's target already holds part of its mail: all of one folder and half
# of its INBOX, as a half-finished migration by another tool leaves it.
mkdir -p "$DST_MAIL/a5"
cp -a "$SRC_MAIL/a5/.Archive" "$DST_MAIL/a5/"
mkdir -p "$DST_MAIL/a5/cur" "$DST_MAIL/a5/new" "$DST_MAIL/a5/tmp"
find "$SRC_MAIL/a5/cur" "$SRC_MAIL/a5/new" -type f | sort | awk 'NR % 2' |
    while read -r f; do cp -p "$f" "$DST_MAIL/a5/cur/"; done
chown -R "$MAIL_OWNER" "$DST_MAIL/a5"
a5_seeded=$(count "$DST_MAIL/a5")
a5_total=$(count "$SRC_MAIL/a5")
[ "$a5_seeded" -gt 0 ] && [ "$a5_seeded" -lt "$a5_total" ] ||
    fail "setup: a5's target holds part of its mail" "$a5_seeded of $a5_total"

# a4's target is a new server's account: it has a Trash folder of its own
# and one message already delivered there.
mkdir -p "$DST_MAIL/a4/cur" "$DST_MAIL/a4/new" "$DST_MAIL/a4/tmp" \
    "$DST_MAIL/a4/.Trash/cur" "$DST_MAIL/a4/.Trash/new" \
    "$DST_MAIL/a4/.Trash/tmp"
printf 'From: x@fleet.test\nSubject: extra\nMessage-ID: <extra@fleet.test>\n\nBody.\n' \
    >"$DST_MAIL/a4/new/1800000000.extra.dst"
chown -R "$MAIL_OWNER" "$DST_MAIL/a4"

printf '%s\n' "$PW" >"$TMP/pw-good"
printf 'wrong\n' >"$TMP/pw-a3"
printf 'wrong\n' >"$TMP/pw-a8"
src="\"cat $TMP/pw-good\""
plain="tls=None auth=PLAIN"
cat >"$TMP/fleet" <<EOF
# name  source  source secret  target  target secret  options
a1 a1@127.0.0.1:$SRC_PORT $src a1@127.0.0.1:$DST_IMAPS $src src-tls=None src-auth=PLAIN dst-tls=IMAPS dst-cert=$CA_FILE
a2 a2@127.0.0.1:$SRC_PORT $src a2@127.0.0.1:$DST_IMAPS $src src-tls=None src-auth=PLAIN dst-tls=IMAPS dst-cert=$CA_FILE

a3	a3@127.0.0.1:$SRC_PORT	$src	a3@127.0.0.1:$DST_PORT	"cat $TMP/pw-a3"	$plain  # wrong at first
a4 a4@127.0.0.1:$SRC_PORT $src a4@127.0.0.1:$DST_PORT $src $plain
a5 a5@127.0.0.1:$SRC_PORT $src a5@127.0.0.1:$DST_PORT $src $plain
a6 a6@127.0.0.1:$SRC_PORT $src a6@127.0.0.1:$DST_PORT $src $plain patterns="INBOX Archive Entw*"
EOF

W=$TMP/work
migrate() {
	local name=$1
	shift
	timeout 300 bash "$MIGRATE" -t "$BIN" -d "$W" "$@" >"$TMP/$name.out" \
	    2>"$TMP/$name.err"
	echo $?
}

# field NAME COLUMN OUT: a column of NAME's row of the table in OUT.
field() {
	awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$3"
}

result() {
	sed -n "s/^$1  *\(.*[^ ]\)  *[0-9-][0-9]*  *[0-9-][0-9]*  *[0-9-]*s\{0,1\}\$/\1/p" "$2"
}

# --- First run: six accounts, one fails ---------------------------------
expect_eq "first run: exit status" 1 "$(migrate first -j 3 "$TMP/fleet")"
expect_eq "first run: a4 ok, its target holding more" \
    "ok, target has more" "$(result a4 "$TMP/first.out")"
for u in a1 a2 a4 a5 a6; do
	[ "$u" = a4 ] ||
	    expect_eq "first run: $u ok" ok "$(result "$u" "$TMP/first.out")"
	[ -f "$W/$u/done" ] && pass "first run: $u marked done" ||
	    fail "first run: $u marked done"
	grep -q '^=== .* verify$' "$W/$u/log" &&
	    pass "first run: $u verified" || fail "first run: $u verified"
	same "$u" "first run"
done
expect_eq "first run: a3 failed" "FAILED sync (exit 1)" \
    "$(result a3 "$TMP/first.out")"
grep -q '^a3: .*login.* failed' "$TMP/first.out" &&
    pass "first run: the table says why a3 failed" ||
    fail "first run: the table says why a3 failed" "$(cat "$TMP/first.out")"
[ ! -e "$W/a3/done" ] && pass "first run: a3 not marked done" ||
    fail "first run: a3 not marked done"
expect_eq "first run: nothing on a3's target" 0 "$(count "$DST_MAIL/a3")"
expect_eq "first run: a1's messages, all copied" "$(count "$SRC_MAIL/a1")" \
    "$(field a1 3 "$TMP/first.out")"
expect_eq "first run: a5 copied only what its target lacked" \
    $((a5_total - a5_seeded)) "$(field a5 3 "$TMP/first.out")"
[ "$(field a1 4 "$TMP/first.out")" -gt 0 ] 2>/dev/null &&
    pass "first run: a1's bytes counted" ||
    fail "first run: a1's bytes counted" "$(cat "$TMP/first.out")"
if grep -q "$PW" "$W"/*/log "$W"/*/sync.rc "$TMP/first.out" \
    "$TMP/first.err"; then
	fail "first run: a password in a log or a channel"
else
	pass "first run: no password in the logs and channels"
fi
expect_eq "first run: the generated channels are private" 600 \
    "$(stat -c %a "$W/a1/sync.rc")"

# --- Second run: the password fixed, only a3 runs -----------------------
mkdir -p "$TMP/saved"
for u in a1 a2 a4 a5 a6; do
	cp -p "$W/$u/log" "$TMP/saved/$u.log"
	cp -p "$W/$u/done" "$TMP/saved/$u.done"
done
printf '%s\n' "$PW" >"$TMP/pw-a3"
sleep 1
expect_eq "second run: exit status" 0 "$(migrate second -j 3 "$TMP/fleet")"
expect_eq "second run: a3 ok" ok "$(result a3 "$TMP/second.out")"
expect_eq "second run: a3's messages, all copied" \
    "$(count "$SRC_MAIL/a3")" "$(field a3 3 "$TMP/second.out")"
same a3 "second run"
for u in a1 a2 a4 a5 a6; do
	grep -q "^migrate: $u: done in an earlier run, skipped" \
	    "$TMP/second.err" && pass "second run: $u skipped" ||
	    fail "second run: $u skipped" "$(cat "$TMP/second.err")"
	cmp -s "$W/$u/log" "$TMP/saved/$u.log" &&
	    [ ! "$W/$u/done" -nt "$TMP/saved/$u.done" ] &&
	    pass "second run: $u's log and marker untouched" ||
	    fail "second run: $u's log and marker untouched"
	[ "$u" = a4 ] || expect_eq "second run: $u still ok in the table" ok \
	    "$(result "$u" "$TMP/second.out")"
	same "$u" "second run"
done

# --- --strict: a target holding more is not done --------------------------
rm "$W/a4/done"
expect_eq "strict: exit status" 1 "$(migrate strict --strict "$TMP/fleet" a4)"
expect_eq "strict: a4 failed" "FAILED verify (exit 1)" \
    "$(result a4 "$TMP/strict.out")"
if grep -q "^a4: differ: a4:INBOX: only on near: " "$TMP/strict.out"; then
	pass "strict: the table shows the difference"
else
	fail "strict: the table shows the difference" "$(cat "$TMP/strict.out")"
fi
[ ! -e "$W/a4/done" ] && pass "strict: a4 not marked done" ||
    fail "strict: a4 not marked done"
same a4 strict

# --- State lost: first contact again -------------------------------------
rm -rf "$W/a1/state" "$W/a1/done"
expect_eq "a1 without state: exit status" 0 "$(migrate lost1 "$TMP/fleet" a1)"
expect_eq "a1 without state: nothing copied" 0 "$(field a1 3 "$TMP/lost1.out")"
expect_eq "a1 without state: no byte sent" 0 "$(field a1 4 "$TMP/lost1.out")"
expect_eq "a1 without state: the table lists a1 only" 1 \
    "$(grep -c '^a[0-9]* ' "$TMP/lost1.out")"
same a1 "a1 without state"

for id in new1 new2; do
	f=$SRC_MAIL/a2/new/1800000000.$id.src
	printf 'From: x@fleet.test\nSubject: %s\nMessage-ID: <%s@fleet.test>\n\nBody.\n' \
	    "$id" "$id" >"$f"
	chown "$MAIL_OWNER" "$f"
done
msgids "$SRC_MAIL/a2" >"$TMP/src-a2"
rm -rf "$W/a2/state" "$W/a2/done"
expect_eq "a2 without state, two new: exit status" 0 \
    "$(migrate lost2 "$TMP/fleet" a2)"
expect_eq "a2 without state, two new: two copied" 2 \
    "$(field a2 3 "$TMP/lost2.out")"
same a2 "a2 without state, two new"

# --- The GNU parallel recipe ---------------------------------------------
cat >"$TMP/fleet2" <<EOF
a7 a7@127.0.0.1:$SRC_PORT $src a7@127.0.0.1:$DST_PORT $src $plain
a8 a8@127.0.0.1:$SRC_PORT $src a8@127.0.0.1:$DST_PORT "cat $TMP/pw-a8" $plain
EOF
# recipe NAME: docs/migration.md's command line, this machine for the
# hosts; prints parallel's exit status (the number of failed jobs).
recipe() {
	bash "$MIGRATE" --list "$TMP/fleet2" |
	    timeout 300 parallel --will-cite --sshlogin : --jobs 2 \
	    --joblog "$TMP/jobs.log" --resume-failed \
	    bash "$MIGRATE" -t "$BIN" -d "$TMP/work2" "$TMP/fleet2" '{}' \
	    >"$TMP/$1.out" 2>"$TMP/$1.err"
	echo $?
}
expect_eq "parallel: one failed job" 1 "$(recipe par1)"
expect_eq "parallel: a7 ok" ok "$(cut -f1 "$TMP/work2/a7/result")"
same a7 "parallel"
expect_eq "parallel: a8 failed" "FAILED sync (exit 1)" \
    "$(cut -f1 "$TMP/work2/a8/result")"
printf '%s\n' "$PW" >"$TMP/pw-a8"
expect_eq "parallel, resumed: no failed job" 0 "$(recipe par2)"
expect_eq "parallel, resumed: a7 ran once, a8 twice" "a7 1 a8 2" \
    "$(awk -F'\t' 'NR > 1 { k = split($NF, w, " "); n[w[k]]++ }
    END { for (a in n) print a, n[a] }' "$TMP/jobs.log" | sort |
    tr '\n' ' ' | sed 's/ $//')"
same a8 "parallel, resumed"
bash "$MIGRATE" --report -d "$TMP/work2" "$TMP/fleet2" >"$TMP/report.out" 2>&1
expect_eq "parallel: the report's exit status" 0 "$?"
expect_eq "parallel: the report lists both, ok" "ok ok" \
    "$(awk '$1 ~ /^a[78]$/ { print $2 }' "$TMP/report.out" | tr '\n' ' ' |
    sed 's/ $//')"

# --- Interrupted, then resumed ------------------------------------------
cat >"$TMP/fleet3" <<EOF
a10 a10@127.0.0.1:$SRC_PORT $src a10@127.0.0.1:$DST_PORT $src $plain
a9 a9@127.0.0.1:$SRC_PORT $src a9@127.0.0.1:$DST_PORT $src $plain
EOF
# a9's sync (only: a10's runs go on) holds its first step, inside the
# open of one of its three folders, until the TERM has been sent, at most
# 20 s (TWINBOX_HOOK_AT): its other connections copy the other folders
# meanwhile, and the folder held cannot be complete before the signal,
# however fast the machine. (The whole of a9 takes about a second here.)
cat >"$TMP/wait-term" <<'SH'
[ -e "$1" ] || exit 0
i=0
while [ ! -e "$2" ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
SH
TWINBOX_HOOK_AT=1 TWINBOX_HOOK_CMD="sh '$TMP/wait-term' \
'$TMP/work3/a9/run.out' '$TMP/termed'" \
    bash "$MIGRATE" -t "$BIN" -d "$TMP/work3" "$TMP/fleet3" >"$TMP/int.out" \
    2>"$TMP/int.err" &
mpid=$!
# Once the target holds some of a9's mail, a TERM (a background job
# ignores SIGINT).
i=0
while [ $i -lt 600 ] && kill -0 "$mpid" 2>/dev/null &&
    [ "$(count "$DST_MAIL/a9" 2>/dev/null)" -eq 0 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$mpid"
touch "$TMP/termed"
wait "$mpid"
expect_eq "interrupted: exit status" 143 "$?"
expect_eq "interrupted: no twinbox left running" "" \
    "$(pgrep -f "work3/a9/sync.rc" || true)"
expect_eq "interrupted: a10 done" ok "$(cut -f1 "$TMP/work3/a10/result")"
expect_eq "interrupted: a9 interrupted" interrupted \
    "$(cut -f1 "$TMP/work3/a9/result")"
copied=$(count "$DST_MAIL/a9")
if [ "$copied" -gt 0 ] && [ "$copied" -lt "$(count "$SRC_MAIL/a9")" ]; then
	pass "interrupted: part of a9 copied ($copied)"
else
	fail "interrupted: part of a9 copied" "$copied"
fi
cp -p "$TMP/work3/a10/log" "$TMP/saved/a10.log"
W=$TMP/work3
expect_eq "resumed: exit status" 0 "$(migrate resumed "$TMP/fleet3")"
expect_eq "resumed: a9 ok" ok "$(result a9 "$TMP/resumed.out")"
# What the resumed run copies: at least one message, and no more than
# were missing when the first run was stopped (Dovecot may still store
# APPENDs it had read before the client went, so fewer is right too);
# that every message then is on the target once is checked below.
rest=$(field a9 3 "$TMP/resumed.out")
if [ "$rest" -gt 0 ] 2>/dev/null &&
    [ "$rest" -le $(($(count "$SRC_MAIL/a9") - copied)) ]; then
	pass "resumed: a9 copied the rest ($rest)"
else
	fail "resumed: a9 copied the rest" "$rest (of $(($(count "$SRC_MAIL/a9") - copied)) missing)"
fi
if cmp -s "$TMP/work3/a10/log" "$TMP/saved/a10.log"; then
	pass "resumed: a10 not redone"
else
	fail "resumed: a10 not redone"
fi
same a9 resumed
same a10 resumed

# --- A bad accounts file stops before anything runs ----------------------
printf 'a9 a9@127.0.0.1 cmd\n' >"$TMP/bad"
bash "$MIGRATE" -t "$BIN" -d "$TMP/work4" "$TMP/bad" >"$TMP/bad.out" 2>&1
expect_eq "bad file: exit status" 2 "$?"
grep -q "^migrate: $TMP/bad:1: " "$TMP/bad.out" &&
    pass "bad file: FILE:LINE in the error" ||
    fail "bad file: FILE:LINE in the error" "$(cat "$TMP/bad.out")"
[ ! -e "$TMP/work4" ] && pass "bad file: nothing run" ||
    fail "bad file: nothing run"

echo "migrate_fleet: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
