#!/bin/bash
# What a run prints, against a private Dovecot on an IMAP <-> Maildir
# channel of three folders (INBOX, Lists, Quiet) synced on the default
# three connections:
#  - on a terminal (tests/tools/ptyrun puts stderr on a pseudo-terminal) a
#    first sync draws the status line (the mailbox, messages done/total)
#    and erases it: what stays on the screen, the transcript played on a
#    small terminal model, is byte for byte the stderr of the same sync of
#    a twin account without a terminal, which is empty; the two runs print
#    the same lines on stdout;
#  - with -q on a terminal: no status line, nothing on stdout;
#  - a run with nothing to do prints nothing at all (exit 0); with -V one
#    "up to date" line per pair and the total;
#  - a run that changed two folders prints their two lines and the total,
#    nothing for the third;
#  - --json: stdout holds one JSON object per pair (read by python3's json
#    module) whose counts and bytes are what the run did, the lines for
#    people go to stderr (with -V too, from the run's first line); a
#    mailbox that cannot be opened is a "failed" object with its error,
#    exit 1.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

tool_path IMAPC imapc
tool_path PTYRUN ptyrun
command -v python3 >/dev/null ||
	{ echo "run_output: python3 is needed to read the JSON" >&2; exit 1; }

start_dovecot "$TMP/srv" alice bob
mkdir -p "$TMP/msg"

NINBOX=40
msg() {
	printf 'Subject: %s\nMessage-ID: <%s@output.test>\n\nBody of %s.\n' \
		"$1" "$1" "$1" >"$TMP/msg/$1"
}
for i in $(seq 1 $NINBOX); do msg "in$i"; done
for i in 1 2 3; do msg "list$i"; done
for i in 1 2; do msg "quiet$i"; done
msg new1
msg new2
msg new3
msg sent1

fill() {
	{
		echo 'CREATE Lists'
		echo 'CREATE Quiet'
		for i in $(seq 1 $NINBOX); do
			echo "@append INBOX $TMP/msg/in$i (\\Seen)"
		done
		for i in 1 2 3; do echo "@append Lists $TMP/msg/list$i ()"; done
		for i in 1 2; do echo "@append Quiet $TMP/msg/quiet$i ()"; done
	} | "$IMAPC" "$IMAP_PORT" "$1" secret >/dev/null ||
		{ echo "run_output: filling $1's mailbox failed" >&2; exit 1; }
}
fill alice
fill bob

for u in alice bob; do
	mkdir -p "$TMP/$u/near" "$TMP/$u/state"
	{
		printf 'SyncState %s/%s/state/\n\n' "$TMP" "$u"
		rc_imap_account "$u"
		cat <<RC

IMAPStore far
Account $u

MaildirStore near
Path $TMP/$u/near/
Inbox $TMP/$u/near/INBOX
SubFolders Verbatim

Channel c
Far :far:
Near :near:
Patterns *
Create Near
RC
	} >"$TMP/$u.rc"
done
RC=$TMP/alice.rc
N=$TMP/alice/near

# render FILE: what a terminal shows after FILE's bytes ("\r", "\n" and
# ESC [ K, erase to the end of the line, are all the status line uses).
render() {
	python3 - "$1" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
lines, cur, col = [], [], 0
for tok in re.findall(r'\x1b\[K|.', data, re.S):
	if tok == '\x1b[K':
		del cur[col:]
	elif tok == '\r':
		col = 0
	elif tok == '\n':
		lines.append(''.join(cur))
		cur, col = [], 0
	else:
		if col < len(cur):
			cur[col] = tok
		else:
			cur.append(tok)
		col += 1
out = ''.join(l + '\n' for l in lines) + ''.join(cur)
sys.stdout.write(out)
PY
}

# same_lines FILE: the lines of FILE sorted, the run's time left out.
same_lines() {
	sed -E 's/; [0-9]+\.[0-9] s$/; T s/' "$1" | sort
}

# ---- 1. a first sync on a terminal and without -------------------------
TERM=xterm "$PTYRUN" "$TMP/tty.err" "$BIN" -c "$RC" c >"$TMP/tty.out"
expect_eq "terminal: exit status" 0 "$?"
expect_eq "terminal: the status line names INBOX and its count" 1 \
	"$(grep -qaE 'twinbox: ([^ ]+ [0-9]+/[0-9]+, )*c:INBOX [0-9]+/'"$NINBOX"'[ ,]' \
	"$TMP/tty.err" && echo 1)"
expect_eq "terminal: the status line names Lists and its count" 1 \
	"$(grep -qaE 'c:Lists [0-9]+/3[ ,]' "$TMP/tty.err" && echo 1)"
expect_eq "terminal: the transcript ends with an erased line" \
	"$(printf '\r\033[K' | od -An -c)" "$(tail -c 4 "$TMP/tty.err" | od -An -c)"
"$BIN" -c "$TMP/bob.rc" c >"$TMP/plain.out" 2>"$TMP/plain.err"
expect_eq "no terminal: exit status" 0 "$?"
expect_eq "no terminal: stderr empty, byte for byte" 0 \
	"$(stat -c %s "$TMP/plain.err")"
expect_eq "terminal: what stays on the screen is the plain run's stderr" \
	"$(cat "$TMP/plain.err")" "$(render "$TMP/tty.err")"
expect_eq "terminal: stdout as without a terminal" \
	"$(same_lines "$TMP/plain.out")" "$(same_lines "$TMP/tty.out")"
expect_eq "first sync: one line per folder and the total" 4 \
	"$(wc -l <"$TMP/tty.out")"

# ---- 2. -q on a terminal -------------------------------------------------
echo "@append INBOX $TMP/msg/new1 ()" |
	"$IMAPC" "$IMAP_PORT" alice secret >/dev/null
TERM=xterm "$PTYRUN" "$TMP/q.err" "$BIN" -q -c "$RC" c >"$TMP/q.out"
expect_eq "-q: exit status" 0 "$?"
expect_eq "-q: no status line, nothing on the terminal" 0 \
	"$(stat -c %s "$TMP/q.err")"
expect_eq "-q: nothing on stdout" 0 "$(stat -c %s "$TMP/q.out")"
expect_eq "-q: the message was copied all the same" 1 \
	"$(grep -l 'new1@output' "$N"/INBOX/*/* | wc -l)"

# ---- 3. nothing to do ----------------------------------------------------
"$BIN" -c "$RC" c >"$TMP/noop.out" 2>"$TMP/noop.err"
expect_eq "no-op: exit status" 0 "$?"
expect_eq "no-op: nothing on stdout or stderr" "0 0" \
	"$(stat -c %s "$TMP/noop.out") $(stat -c %s "$TMP/noop.err")"
"$BIN" -V -c "$RC" c >"$TMP/noopv.out" 2>"$TMP/noopv.err"
expect_eq "no-op -V: exit status" 0 "$?"
expect_eq "no-op -V: every pair up to date" \
	"c:INBOX: up to date
c:Lists: up to date
c:Quiet: up to date" "$(grep ': up to date$' "$TMP/noopv.out" | sort)"
expect_eq "no-op -V: the total" 1 \
	"$(grep -c -e "$NOOP_TOTAL" "$TMP/noopv.out")"
expect_eq "no-op -V: the total counts three pairs" 1 \
	"$(grep -c '^twinbox: 3 mailbox pairs: 0 changed' "$TMP/noopv.out")"

# ---- 4. two folders changed ----------------------------------------------
echo 'SELECT Lists
UID STORE 1 +FLAGS (\Flagged)' | "$IMAPC" "$IMAP_PORT" alice secret >/dev/null
cp "$TMP/msg/sent1" "$N/INBOX/new/sent1.eml"
sent_size=$(sed 's/$/\r/' "$TMP/msg/sent1" | wc -c)
"$BIN" -c "$RC" c >"$TMP/changed.out" 2>"$TMP/changed.err"
expect_eq "changed: exit status" 0 "$?"
expect_eq "changed: nothing on stderr" 0 "$(stat -c %s "$TMP/changed.err")"
expect_eq "changed: the two folders' lines, then the total" \
	"c:INBOX: far->near: 0 copied, 0 flagged, 0 expunged; near->far: 1 copied, 0 flagged, 0 expunged
c:Lists: far->near: 0 copied, 1 flagged, 0 expunged; near->far: 0 copied, 0 flagged, 0 expunged
twinbox: 3 mailbox pairs: 2 changed, 0 failed, 0 skipped; far->near: 0 copied (0 B), 1 flagged, 0 expunged; near->far: 1 copied ($sent_size B), 0 flagged, 0 expunged; T s" \
	"$(same_lines "$TMP/changed.out")"

# ---- 5. --json ------------------------------------------------------------
printf '@append INBOX %s ()\n@append INBOX %s (\\Seen)\n' \
	"$TMP/msg/new2" "$TMP/msg/new3" | "$IMAPC" "$IMAP_PORT" alice secret >/dev/null
new_bytes=$(cat "$TMP/msg/new2" "$TMP/msg/new3" | sed 's/$/\r/' | wc -c)
# A reader flags a Quiet message: into cur/ with the F flag.
q=$(ls "$N"/Quiet/new/* "$N"/Quiet/cur/* 2>/dev/null | head -n 1)
base=$(basename "$q")
mv "$q" "$N/Quiet/cur/${base%:2,*}:2,F"
"$BIN" --json -c "$RC" c >"$TMP/json.out" 2>"$TMP/json.err"
expect_eq "--json: exit status" 0 "$?"
expect_eq "--json: the objects, read back" \
	"c INBOX INBOX INBOX ok 2 0 0 0 $new_bytes 0 0 0 0 0 []
c Lists Lists Lists ok 0 0 0 0 0 0 0 0 0 0 []
c Quiet Quiet Quiet ok 0 0 0 0 0 0 1 0 0 0 []" \
	"$(python3 - "$TMP/json.out" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1], encoding='utf-8'):
	o = json.loads(line)
	assert o['seconds'] >= 0 and o['recovered'] == 0
	row = [o['channel'], o['mailbox'], o['far'], o['near'], o['result']]
	for d in ('far_to_near', 'near_to_far'):
		row += [o[d][k] for k in ('copied', 'flagged', 'expunged',
		    'trashed', 'bytes')]
	rows.append(' '.join(str(x) for x in row) + ' ' +
	    json.dumps(o['errors']))
print('\n'.join(sorted(rows)))
PY
)"
expect_eq "--json: the lines for people on stderr" 1 \
	"$(grep -c '^c:INBOX: far->near: 2 copied' "$TMP/json.err")"
expect_eq "--json: the total on stderr" 1 \
	"$(grep -c '^twinbox: 3 mailbox pairs: 2 changed' "$TMP/json.err")"
# With -V every line for people, the first ones of the run included (the
# configuration it found, the run naming none), goes to stderr: stdout is
# JSON alone.
mkdir -p "$TMP/xdg/twinbox"
cp "$RC" "$TMP/xdg/twinbox/sync.rc"
XDG_CONFIG_HOME=$TMP/xdg "$BIN" --json -V c >"$TMP/jverbose.out" \
	2>"$TMP/jverbose.err"
expect_eq "--json -V: exit status" 0 "$?"
expect_eq "--json -V: stdout is one JSON object a line, one per pair" 3 \
	"$(python3 - "$TMP/jverbose.out" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1], encoding='utf-8'):
	assert isinstance(json.loads(line), dict), line
	n += 1
print(n)
PY
)"
expect_eq "--json -V: the configuration read, told on stderr" 1 \
	"$(grep -c '^reading configuration from ' "$TMP/jverbose.err")"
"$BIN" --json -c "$RC" c:NoSuch >"$TMP/jfail.out" 2>"$TMP/jfail.err"
expect_eq "--json, a mailbox on neither side: exit status" 1 "$?"
expect_eq "--json, a mailbox on neither side: a failed object" \
	"NoSuch failed 1 cannot be opened: neither exists" \
	"$(python3 - "$TMP/jfail.out" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding='utf-8').read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
e = o['errors']
print(o['mailbox'], o['result'], len(e), e[0][e[0].index('cannot'):])
PY
)"

echo "run_output: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
