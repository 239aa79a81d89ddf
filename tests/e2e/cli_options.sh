#!/bin/bash
# mbsync's command-line options, on a Maildir <-> Maildir channel and on
# one IMAP <-> Maildir channel against a private Dovecot:
#  - -l lists exactly the mailboxes a sync then syncs (Patterns and Create
#    applied: a near-only folder that Create does not allow on the far side
#    is not listed), and changes nothing;
#  - -n is mbsync's --new (copies, is no dry run); --flags propagates only
#    flags; --pull and --push only one direction; --expunge-near and -X
#    override the channel's "Expunge None"; -C overrides "Create Near";
#  - -y/--dry-run changes nothing;
#  - --ext-exit: 0 when nothing changed, +64 when the near side changed,
#    +32 when the far side did, 96 for both; without it 0;
#  - IMAP: --push appends the near message and leaves the server's own
#    message on the server; -l lists the server's folders;
#  - -a with a channel name ignores the name (a warning), as mbsync does;
#  - a Group entry "md:Lists,Work" lists those two mailboxes of md only.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

F=$TMP/far
N=$TMP/near

# mkmsg FILE ID: a small message with Message-ID <ID@cli.test>.
mkmsg() {
	printf 'From: s@cli.test\nSubject: %s\nMessage-ID: <%s@cli.test>\n\nBody of %s.\n' \
		"$2" "$2" "$2" >"$1"
}

# count DIR: message files of a Maildir folder.
count() {
	find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l
}

# ids DIR: the Message-IDs of a folder, sorted, on one line.
ids() {
	find "$1/cur" "$1/new" -type f -exec cat {} + 2>/dev/null |
		tr -d '\r' | sed -n 's/^Message-ID: <\(.*\)@cli.test>/\1/p' |
		sort | tr '\n' ' '
}

# flags DIR ID: the Maildir flags of the message with that Message-ID.
flags() {
	local f
	f=$(grep -l "^Message-ID: <$2@cli.test>" "$1"/cur/* "$1"/new/* \
		2>/dev/null | head -1)
	case "$f" in
	*:2,*) echo "${f##*:2,}" ;;
	*) echo "" ;;
	esac
}

# tree: every file of both sides with its name, for "nothing changed".
tree() {
	(cd "$TMP" && find far near -type f | sort | xargs -r md5sum)
}

# tb NAME ARGS...: one run on the Maildir channel; status in $status.
tb() {
	local name=$1
	shift
	timeout 60 "$BIN" -c "$TMP/sync.rc" "$@" >"$TMP/$name.out" \
		2>"$TMP/$name.err"
	status=$?
}

for d in "$F/INBOX" "$F/Lists" "$F/Junk" "$N/INBOX" "$N/Drafts"; do
	mkbox "$d"
done
mkbox "$F/Work"
mkmsg "$F/INBOX/cur/1.a:2," a
mkmsg "$F/Lists/cur/2.l:2,S" l
mkmsg "$F/Work/cur/3.w:2,S" w
mkmsg "$N/Drafts/cur/4.d:2,D" d
mkdir -p "$TMP/state"

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

Channel md
Far :far:
Near :near:
Patterns * !Junk
Create Near
Expunge None
RC

# -l: the mailboxes a sync would sync; nothing is changed.
before=$(tree)
tb list -l md
expect_eq "-l: exit status" 0 "$status"
expect_eq "-l: the mailboxes, Junk excluded by Patterns, Drafts not (Create Near)" \
	"INBOX Lists Work " "$(tr '\n' ' ' <"$TMP/list.out")"
expect_eq "-l: nothing changed" "$before" "$(tree)"
expect_eq "-l: no state written" 0 "$(find "$TMP/state" -type f | wc -l)"

# A list that cannot be written fails.
timeout 60 "$BIN" -c "$TMP/sync.rc" -l md >/dev/full 2>"$TMP/full.err"
expect_eq "-l to a full disk: exit status" 1 "$?"
expect_eq "-l to a full disk: said" 1 \
	"$(grep -c 'cannot write the list of mailboxes' "$TMP/full.err")"

# -y and --dry-run change nothing either.
tb dry1 -y md
expect_eq "-y: exit status" 0 "$status"
tb dry2 --dry-run md
expect_eq "--dry-run: exit status" 0 "$status"
expect_eq "dry runs: nothing changed" "$before" "$(tree)"

# The first sync, with --ext-exit: only the near side changes (folders
# created, messages copied): 64. It syncs what -l listed.
tb sync1 --ext-exit md
expect_eq "first sync: --ext-exit status, near changed" 64 "$status"
expect_eq "first sync: the pairs -l listed were synced" \
	"md:INBOX md:Lists md:Work " \
	"$(cat "$TMP/sync1.out" "$TMP/sync1.err" |
		sed -n 's/^\(md:[^: ]*\): .*/\1/p' | sort | tr '\n' ' ')"
expect_eq "first sync: Drafts skipped (Create Near)" 0 \
	"$(find "$F" -name Drafts | wc -l)"
expect_eq "first sync: Lists copied" "l " "$(ids "$N/Lists")"

tb noop --ext-exit md
expect_eq "nothing to do: --ext-exit status 0" 0 "$status"

# -C overrides "Create Near": Drafts is created on the far side, and -l
# lists it when given -C.
tb list2 -l -C md
expect_eq "-l -C: Drafts listed" "Drafts INBOX Lists Work " \
	"$(tr '\n' ' ' <"$TMP/list2.out")"
tb create -e -C md
expect_eq "-C: --ext-exit status, far changed" 32 "$status"
expect_eq "-C: Drafts created far with its message" "d " "$(ids "$F/Drafts")"

# -n is --new: a new far message and a flag change far; -n copies the
# message and leaves the flag.
mkmsg "$F/INBOX/new/5.b" b
f=$(grep -l '^Message-ID: <a@cli.test>' "$F"/INBOX/cur/*)
mv "$f" "$f"F
tb new -n md
expect_eq "-n: exit status" 0 "$status"
expect_eq "-n: the new message copied" "a b " "$(ids "$N/INBOX")"
expect_eq "-n: the flag change not propagated" "" "$(flags "$N/INBOX" a)"
tb flags --flags md
expect_eq "--flags: the flag propagated" F "$(flags "$N/INBOX" a)"

# --pull and --push: one new message on each side.
mkmsg "$F/Lists/new/6.fl" fl
mkmsg "$N/Lists/new/7.nl" nl
tb pull -e --pull md
expect_eq "--pull: --ext-exit status, near changed" 64 "$status"
expect_eq "--pull: far message copied near" "fl l nl " "$(ids "$N/Lists")"
expect_eq "--pull: near message not pushed" "fl l " "$(ids "$F/Lists")"
tb push -e --push md
expect_eq "--push: --ext-exit status, far changed" 32 "$status"
expect_eq "--push: near message copied far" "fl l nl " "$(ids "$F/Lists")"

# Both sides change in one run: 96.
mkmsg "$F/Work/new/8.fw" fw
mkmsg "$N/Work/new/9.nw" nw
tb both -e md
expect_eq "both sides changed: --ext-exit status 96" 96 "$status"

# Expunge None in the channel: a message deleted near is only marked on
# the far side; --expunge-near removes it near only, -X far too.
f=$(grep -l '^Message-ID: <w@cli.test>' "$N"/Work/cur/*)
mv "$f" "$f"T
tb del md
expect_eq "Expunge None: the message stays near" "fw nw w " \
	"$(ids "$N/Work")"
expect_eq "Expunge None: marked deleted far" ST "$(flags "$F/Work" w)"
tb xn --expunge-near md
expect_eq "--expunge-near: gone near" "fw nw " "$(ids "$N/Work")"
expect_eq "--expunge-near: still far" "fw nw w " "$(ids "$F/Work")"
tb x -X md
expect_eq "-X: gone far too" "fw nw " "$(ids "$F/Work")"

# Without --ext-exit a run that changed things exits 0.
mkmsg "$F/INBOX/new/10.c" c
tb plain md
expect_eq "without --ext-exit: status 0" 0 "$status"

# IMAP <-> Maildir: --push and -l.
start_dovecot "$TMP/srv"
A=$MAIL_DIR/alice
IN=$TMP/inear
mkbox "$IN/INBOX"
mkbox "$IN/Archive"
mkmsg "$IN/INBOX/new/11.n" inear
cat >>"$TMP/sync.rc" <<RC

$(rc_imap_account alice)

IMAPStore server
Account alice

MaildirStore inear
Path $IN/
Inbox $IN/INBOX
SubFolders Verbatim

Channel imap
Far :server:
Near :inear:
Patterns *
Create Both
RC
tb ilist -l imap
expect_eq "IMAP -l: exit status" 0 "$status"
expect_eq "IMAP -l: the mailboxes" "Archive INBOX " \
	"$(tr '\n' ' ' <"$TMP/ilist.out")"
tb ifirst imap
expect_eq "IMAP first sync: exit status" 0 "$status"
mkmsg "$A/new/12.s" iserver
mkmsg "$IN/INBOX/new/13.n" inear2
tb ipush -e --push imap
expect_eq "IMAP --push: --ext-exit status, far changed" 32 "$status"
expect_eq "IMAP --push: near messages on the server" "inear inear2 iserver " \
	"$(ids "$A")"
expect_eq "IMAP --push: server message not pulled" "inear inear2 " \
	"$(ids "$IN/INBOX")"

# -a with names: the names are ignored, as in mbsync, with a warning.
tb all -a -l nosuch
expect_eq "-a with a name: exit status" 0 "$status"
expect_eq "-a with a name: warned" 1 "$(grep -c 'names given with it are ignored' "$TMP/all.err")"
expect_eq "-a -l: every channel's mailboxes" "Archive Drafts INBOX INBOX Lists Work " \
	"$(sort "$TMP/all.out" | tr '\n' ' ')"

# A Group's "channel:box,box" entry names those mailboxes of the channel.
printf '\nGroup mdg md:Lists,Work imap\n' >>"$TMP/sync.rc"
tb group -l mdg
expect_eq "Group with md:Lists,Work: exit status" 0 "$status"
expect_eq "Group with md:Lists,Work: those two, then the other channel's" \
	"Lists Work Archive INBOX " "$(tr '\n' ' ' <"$TMP/group.out")"

echo "cli_options: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
