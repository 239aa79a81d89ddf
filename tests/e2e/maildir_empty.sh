#!/bin/bash
# An empty file in a Maildir folder, which is no message: mbsync 1.4.4
# skips it with a warning ("message N from near side has incomplete
# header; skipping") and exits 0. twinbox does the same, whatever the
# other side:
#  - on a Maildir <-> Maildir channel, an empty file far in INBOX and one
#    near in Work (two folders, so that the two are not paired with each
#    other by content): each run exits 0 and warns once for each file,
#    naming it; the other messages are copied both ways, each once; the
#    empty files stay where they are, empty, and no empty file appears on
#    the other side; a second run warns again and copies nothing;
#  - once the near file is replaced by a message (a mail reader's rename
#    onto its name), the next run copies it without a warning, and a dry
#    run then plans nothing in Work; --verify then exits 0, both folders
#    agreeing, and names the far empty file once as no message, not
#    compared;
#  - at first contact, an empty file on each side is no pair: the near
#    one deleted, the far one stays as it was;
#  - an empty file does not keep its pair from settling (docs/maildir.md,
#    the stamp): with the folders' times made old (touch -d), the run
#    after the first plans nothing (no copy, so no journal), warns and
#    earns both sides' settled marks; the next one opens neither folder
#    and leaves the state file as it was; a careless tool then writes
#    content into the empty file in place (no name changes, so the stamp
#    holds and the pair stays unopened), and once the folder changes (a
#    delivery) the run copies both messages far, without a warning;
#  - with TrashRemoteNew on the far Maildir, an empty near file the user
#    deleted: exit 0, one warning, the file expunged, nothing in the far
#    Trash;
#  - on an IMAP (Dovecot) <-> Maildir channel, an empty near file beside
#    two messages: exit 0, one warning naming it, two APPENDs (none for
#    it: Dovecot would refuse it), the server holding the two, each once;
#  - then with Trash and TrashRemoteNew on the server and Expunge Both, a
#    second empty near file that the user deleted (flag T): the run exits
#    0, warns once that there is nothing to copy to Trash, sends no
#    APPEND, and expunges it (mbsync expunges it too); the server's Trash
#    stays empty, the undeleted empty file stays, and the next run says
#    nothing of the deleted one.
# The server is stopped and the directory removed however the test ends.
# Until that part, every run first makes the folders' times fresh (an hour
# ahead, as a mail reader at work keeps them; no stamp vouches for them),
# so that each run lists them and names the empty files, however long the
# runs take on a busy machine.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

# mkmsg FILE ID: a small message with Message-ID <ID@empty.test>.
mkmsg() {
	printf 'From: s@empty.test\nSubject: %s\nMessage-ID: <%s@empty.test>\n\nBody of %s.\n' \
		"$2" "$2" "$2" >"$1"
}

# ids DIR: the Message-IDs of a folder's messages, one a line, sorted.
ids() {
	find "$1/cur" "$1/new" -type f -exec cat {} + 2>/dev/null |
		tr -d '\r' | sed -n 's/^Message-ID: //p' | sort
}

# empties DIR: the folder's empty files, as DIR-relative names, sorted.
empties() {
	(cd "$1" && find cur new -type f -empty | sort)
}

# dirtimes TIME ROOT...: every cur/ and new/ under each ROOT gets mtime
# TIME (seconds since the epoch).
dirtimes() {
	local t=$1
	shift
	find "$@" -type d \( -name cur -o -name new \) -exec touch -d "@$t" {} +
}

# fresh ROOT...: folder times an hour ahead, which no stamp vouches for.
fresh() {
	dirtimes $(($(date +%s) + 3600)) "$@"
}

# run NAME [OPTION...]: one sync of channel c, its folders fresh; status
# in $status.
run() {
	local name=$1
	shift
	fresh "$F" "$N"
	timeout 120 "$BIN" "$@" -c "$TMP/sync.rc" c >"$TMP/$name.out" \
		2>"$TMP/$name.err"
	status=$?
}

# warned NAME SIDE BOX FILE: how many times run NAME warned that FILE
# (a name under BOX, without its ",U=" part) is empty.
warned() {
	grep -c "^twinbox: warning: c:$3: $2 message $4,U=[0-9]* is empty (0 bytes): not copied" \
		"$TMP/$1.err"
}

F=$TMP/far
N=$TMP/near
mkbox "$F/INBOX"
mkbox "$F/Work"
mkbox "$N/INBOX"
mkbox "$N/Work"
mkdir -p "$TMP/state"
mkmsg "$F/INBOX/new/1001.f1" f1
: >"$F/INBOX/new/1002.fempty"
mkmsg "$N/INBOX/cur/1003.n1:2,S" n1
mkmsg "$F/Work/new/1004.fw" fw
: >"$N/Work/new/1005.nempty"
mkmsg "$N/Work/new/1006.nw" nw

cat >"$TMP/sync.rc" <<RC
SyncState $TMP/state/

MaildirStore far
Path $F/
Inbox $F/INBOX
SubFolders Verbatim

MaildirStore near
Path $N/
Inbox $N/INBOX
SubFolders Verbatim

Channel c
Far :far:
Near :near:
Patterns INBOX Work
Create Both
Expunge Both
RC

both_inbox=$(printf '<%s@empty.test>\n' f1 n1)
both_work=$(printf '<%s@empty.test>\n' fw nw)
for r in 1 2; do
	run "md$r"
	expect_eq "Maildir run $r: exit status" 0 "$status"
	expect_eq "Maildir run $r: the far empty file named once" 1 \
		"$(warned "md$r" far INBOX new/1002.fempty)"
	expect_eq "Maildir run $r: the near empty file named once" 1 \
		"$(warned "md$r" near Work new/1005.nempty)"
	expect_eq "Maildir run $r: no other warning or error" 0 \
		"$(grep -v 'is empty (0 bytes)' "$TMP/md$r.err" | grep -c -e warning -e error)"
	expect_eq "Maildir run $r: far INBOX, each once" "$both_inbox" "$(ids "$F/INBOX")"
	expect_eq "Maildir run $r: near INBOX, each once" "$both_inbox" "$(ids "$N/INBOX")"
	expect_eq "Maildir run $r: far Work, each once" "$both_work" "$(ids "$F/Work")"
	expect_eq "Maildir run $r: near Work, each once" "$both_work" "$(ids "$N/Work")"
	expect_eq "Maildir run $r: the far empty file stays, alone" \
		"new/1002.fempty,U=2" "$(empties "$F/INBOX")"
	expect_eq "Maildir run $r: the near empty file stays, alone" \
		"new/1005.nempty,U=1" "$(empties "$N/Work")"
	expect_eq "Maildir run $r: no empty file copied near" "" "$(empties "$N/INBOX")"
	expect_eq "Maildir run $r: no empty file copied far" "" "$(empties "$F/Work")"
done

# --json counts each empty message in the direction it was not copied.
run md-json --json
expect_eq "Maildir --json run: exit status" 0 "$status"
expect_eq "Maildir --json run: the empty messages not copied, per direction" \
	"INBOX 1 0
Work 0 1" "$(python3 - "$TMP/md-json.out" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    print(o['mailbox'], o['far_to_near']['empty'], o['near_to_far']['empty'])
PY
)"

# The near file is replaced by a message (renamed onto its name): it is
# copied, without a warning.
mkmsg "$N/Work/tmp/late" late
mv "$N/Work/tmp/late" "$(find "$N/Work/new" -name '1005.nempty*')"
run md3
expect_eq "Maildir run 3: exit status" 0 "$status"
expect_eq "Maildir run 3: the far empty file still named" 1 \
	"$(warned md3 far INBOX new/1002.fempty)"
expect_eq "Maildir run 3: the former empty file not named" 0 \
	"$(grep -c 'nempty' "$TMP/md3.err")"
expect_eq "Maildir run 3: far Work has it, each once" \
	"$(printf '%s\n' "$both_work" '<late@empty.test>' | sort)" "$(ids "$F/Work")"
run md-dry --dry-run
expect_eq "Maildir dry run: nothing to do in Work" 1 \
	"$(grep -c '^c:Work: dry run: nothing to do' "$TMP/md-dry.out")"

# --verify after these runs: the far empty file, which no sync copies, is
# said but is no difference; both folders agree.
run md-verify --verify
expect_eq "Maildir verify: exit status" 0 "$status"
expect_eq "Maildir verify: the empty file said, once" \
	"c:INBOX: empty on far: UID 2: 0 bytes, not a message: not compared" \
	"$(grep 'empty on' "$TMP/md-verify.out")"
expect_eq "Maildir verify: INBOX agrees" 1 \
	"$(grep -c '^c:INBOX: 2 on far, 2 on near, 2 on both: agree$' "$TMP/md-verify.out")"
expect_eq "Maildir verify: Work agrees" 1 \
	"$(grep -c '^c:Work: 3 on far, 3 on near, 3 on both: agree$' "$TMP/md-verify.out")"

# An empty near file the user deleted, with TrashRemoteNew on the far
# Maildir: nothing to trash, so it is expunged, and no empty file lands
# in the far Trash.
: >"$N/Work/cur/1007.ndel:2,ST"
sed -i 's/^MaildirStore far$/MaildirStore far\nTrash Trash\nTrashRemoteNew yes/' \
	"$TMP/sync.rc"
run md-trash
expect_eq "Maildir Trash run: exit status" 0 "$status"
expect_eq "Maildir Trash run: the deleted empty file named once" 1 \
	"$(grep -c "^twinbox: warning: c:Work: near message cur/1007.ndel,U=[0-9]*:2,ST is empty (0 bytes): nothing to copy to Trash 'Trash' on far; it is expunged" \
	"$TMP/md-trash.err")"
expect_eq "Maildir Trash run: expunged" "" \
	"$(find "$N/Work" -name '1007.ndel*')"
expect_eq "Maildir Trash run: nothing in the far Trash" "" \
	"$(find "$F/Trash" -type f ! -name '.*' 2>/dev/null)"
expect_eq "Maildir Trash run: far Work, each once" \
	"$(printf '%s\n' "$both_work" '<late@empty.test>' | sort)" "$(ids "$F/Work")"

# First contact with an empty file on each side (no state yet): they are
# no messages, so no pair either; a mail reader's deletion of the near one
# leaves the far one as it was (a pair would have carried it over).
F2=$TMP/far2
N2=$TMP/near2
mkbox "$F2/INBOX"
mkbox "$N2/INBOX"
mkmsg "$F2/INBOX/cur/3001.real:2,S" real
: >"$F2/INBOX/cur/3002.fe:2,S"
: >"$N2/INBOX/cur/3003.ne:2,S"
sed -e "s|$F/|$F2/|g" -e "s|$N/|$N2/|g" -e "s|$TMP/state/|$TMP/state2/|" \
	-e "s|^Patterns .*|Patterns INBOX|" "$TMP/sync.rc" >"$TMP/sync2.rc"
mkdir -p "$TMP/state2"
for r in 1 2; do
	fresh "$F2" "$N2"
	timeout 120 "$BIN" -c "$TMP/sync2.rc" c >"$TMP/pair$r.out" 2>"$TMP/pair$r.err"
	expect_eq "empty on each side, run $r: exit status" 0 "$?"
	expect_eq "empty on each side, run $r: each one there named" $((3 - r)) \
		"$(grep -c 'is empty (0 bytes): not copied' "$TMP/pair$r.err")"
	[ "$r" = 1 ] && rm -f "$N2/INBOX/cur/3003.ne"*
done
expect_eq "empty on each side: the far one stays, unflagged" "cur/3002.fe:2,S" \
	"$(cd "$F2/INBOX" && find cur new -type f -empty | sed 's/,U=[0-9]*//')"
expect_eq "empty on each side: the real message reached near" "<real@empty.test>" \
	"$(ids "$N2/INBOX")"

# ---- settling beside an empty file --------------------------------------

# A Maildir <-> Maildir pair, the near folder holding an empty file beside
# a message; the folders' times are made old, as after a quiet hour.
F3=$TMP/far3
N3=$TMP/near3
S3=$TMP/state3
mkbox "$F3/INBOX"
mkbox "$N3/INBOX"
mkdir -p "$S3"
mkmsg "$F3/INBOX/cur/4001.f3:2,S" f3
mkmsg "$N3/INBOX/cur/4002.n3:2,S" n3
: >"$N3/INBOX/new/4003.ne"
cat >"$TMP/sync3.rc" <<RC
SyncState $S3/

MaildirStore far
Path $F3/
Inbox $F3/INBOX

MaildirStore near
Path $N3/
Inbox $N3/INBOX

Channel c
Far :far:
Near :near:
Patterns INBOX
RC

# settle NAME: a -D run of the settling pair; status in $status, its
# output in NAME.out, its errors and log in NAME.err.
settle() {
	timeout 120 "$BIN" -D -c "$TMP/sync3.rc" c >"$TMP/$1.out" \
		2>"$TMP/$1.err"
	status=$?
}

# said NAME GREP-ARGUMENT...: how many lines of run NAME match.
said() {
	local name=$1
	shift
	cat "$TMP/$name.out" "$TMP/$name.err" | grep -c "$@"
}

OLD=1600000000
settle s1
expect_eq "settling run 1: exit status" 0 "$status"
expect_eq "settling run 1: the empty file named once" 1 \
	"$(warned s1 near INBOX new/4003.ne)"
dirtimes $OLD "$F3" "$N3"
settle s2
expect_eq "settling run 2: exit status" 0 "$status"
expect_eq "settling run 2: the empty file named once" 1 \
	"$(warned s2 near INBOX new/4003.ne)"
expect_eq "settling run 2: nothing planned (no copy, no journal)" 0 \
	"$(said s2 -e '^c:INBOX: copy ' -e 'maxuid .* stays at')"
expect_eq "settling run 2: both sides earn their settled marks" \
	"settled far
settled near" "$(cut -d' ' -f1-2 "$S3"/* | grep '^settled ')"
sums=$(cksum "$S3"/*.twinboxstate)
settle s3
expect_eq "settling run 3: exit status" 0 "$status"
expect_eq "settling run 3: the pair is not opened" 1 \
	"$(said s3 'c:INBOX: both sides as the last run left them')"
expect_eq "settling run 3: no state written" "$sums" "$(cksum "$S3"/*.twinboxstate)"
expect_eq "settling run 3: no journal left" "" "$(find "$S3" -name '*journal*')"

# A careless tool writes content into the empty file in place: no name in
# the folder changes, so nothing is seen until the folder changes; then
# the message is copied like a new one.
mkmsg "$(find "$N3/INBOX/new" -name '4003.ne*')" inplace
dirtimes $OLD "$N3"
settle s4
expect_eq "in place, run 4: exit status" 0 "$status"
expect_eq "in place, run 4: the folder not changed, the pair not opened" 1 \
	"$(said s4 'c:INBOX: both sides as the last run left them')"
expect_eq "in place, run 4: the file keeps its content" "<inplace@empty.test>" \
	"$(ids "$N3/INBOX" | grep inplace)"
mkmsg "$N3/INBOX/new/4004.later" later
settle s5
expect_eq "in place, run 5: exit status" 0 "$status"
expect_eq "in place, run 5: no warning" 0 "$(said s5 'warning')"
expect_eq "in place, run 5: far has every message, each once" \
	"$(printf '<%s@empty.test>\n' f3 inplace later n3)" "$(ids "$F3/INBOX")"
expect_eq "in place, run 5: near has every message, each once" \
	"$(printf '<%s@empty.test>\n' f3 inplace later n3)" "$(ids "$N3/INBOX")"

# ---- IMAP <-> Maildir ----------------------------------------------------

start_dovecot "$TMP/srv"
I=$TMP/inear
mkbox "$I/INBOX"
mkdir -p "$TMP/istate"
mkmsg "$I/INBOX/new/2001.one" one
: >"$I/INBOX/new/2002.empty"
mkmsg "$I/INBOX/new/2003.two" two

cat >"$TMP/sync.rc" <<RC
SyncState $TMP/istate/

$(rc_imap_account alice)

IMAPStore far
Account alice

MaildirStore near
Path $I/
Inbox $I/INBOX
SubFolders Verbatim

Channel c
Far :far:
Near :near:
Patterns INBOX
Create Both
Expunge Both
RC

run imap -D
expect_eq "IMAP run: exit status" 0 "$status"
expect_eq "IMAP run: the empty file named once" 1 \
	"$(warned imap near INBOX new/2002.empty)"
expect_eq "IMAP run: no other warning or error" 0 \
	"$(grep -v 'is empty (0 bytes)' "$TMP/imap.err" | grep -c -e warning -e error)"
expect_eq "IMAP run: two APPENDs, none for the empty file" 2 \
	"$(grep -c '>> [A-Z0-9]* APPEND ' "$TMP/imap.out")"
expect_eq "IMAP run: the server's Message-IDs, each once" \
	"$(printf '<%s@empty.test>\n' one two)" "$(ids "$MAIL_DIR/alice")"
expect_eq "IMAP run: the empty file stays" "new/2002.empty,U=2" \
	"$(empties "$I/INBOX")"

# An empty file the user deleted, with the server's Trash for the messages
# near never propagated: nothing to trash, so it is expunged.
: >"$I/INBOX/cur/2004.deleted:2,ST"
sed -i 's/^Account alice$/Account alice\nTrash Trash\nTrashRemoteNew yes/' \
	"$TMP/sync.rc"
for r in 1 2; do
	run "trash$r" -D
	expect_eq "Trash run $r: exit status" 0 "$status"
	expect_eq "Trash run $r: no error" 0 "$(grep -c 'error' "$TMP/trash$r.err")"
	expect_eq "Trash run $r: no APPEND" 0 \
		"$(grep -c '>> [A-Z0-9]* APPEND ' "$TMP/trash$r.out")"
	expect_eq "Trash run $r: the undeleted empty file stays, alone" \
		"new/2002.empty,U=2" "$(empties "$I/INBOX")"
	expect_eq "Trash run $r: the server's Trash holds nothing" "" \
		"$(find "$MAIL_DIR/alice/.Trash" -path '*/cur/*' -o -path '*/new/*' 2>/dev/null)"
	expect_eq "Trash run $r: the server's Message-IDs, each once" \
		"$(printf '<%s@empty.test>\n' one two)" "$(ids "$MAIL_DIR/alice")"
done
expect_eq "Trash run 1: the deleted empty file named once" 1 \
	"$(grep -c "^twinbox: warning: c:INBOX: near message cur/2004.deleted,U=[0-9]*:2,ST is empty (0 bytes): nothing to copy to Trash 'Trash' on far; it is expunged" \
	"$TMP/trash1.err")"
expect_eq "Trash run 2: the deleted empty file not named" 0 \
	"$(grep -c '2004.deleted' "$TMP/trash2.err")"

echo "maildir_empty: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
