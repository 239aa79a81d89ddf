#!/bin/bash
# Random histories of an IMAP (Dovecot) <-> Maildir channel, each checked
# against an independent model; the engine is tests/e2e/imap_random.py
# (python3, which the script needs). A history is made by a PRNG from its
# seed, and prints the seed and every action, so that SEED=N reruns it
# (the same actions and cuts; with Connections 3 or a kill on the clock,
# where each run stands when it is cut may differ). HISTORIES=K runs the
# seeds FIRST_SEED (default 1) to FIRST_SEED+K-1; the default, 16
# histories of STEPS=10 steps, is what CI runs. A history syncs INBOX
# and two or three other folders (some made on one side only, one made
# later now and then: Create Both), with Connections 1 or 3 and Expunge
# Both or None (switched between runs now and then). Each step:
#  - user actions on both sides: new messages (LF, CRLF, bare-CR and mixed
#    line ends; now and then the same message on both sides), flag
#    changes (\Seen \Flagged \Answered \Deleted), deletions, a move to
#    another folder; on the server through a second IMAP session (APPEND,
#    UID STORE, UID EXPUNGE, UID MOVE), in the Maildir as a mail reader
#    does (a rename for flags, rm, delivery through tmp/ into new/ or
#    cur/, a rename into another folder, keeping or dropping its ,U=);
#  - a server folder deleted, made again and its messages appended back,
#    or a Maildir folder's .uidvalidity lost: a new UIDVALIDITY, so the
#    next run re-pairs the folder by content;
#  - now and then the state files (.twinboxstate and its journal) lost:
#    first contact must pair by content;
#  - up to three runs cut short: killed (kill -9) at step N
#    (TWINBOX_CRASH_AFTER) or after a delay on the clock, or running
#    another client's or a mail reader's action at step N
#    (TWINBOX_HOOK_AT: an expunge, a flag, an append, a rename, a move,
#    a delivery during the sync; sometimes killed later), or two runs at
#    once (one of them killed now and then), with more user actions
#    between them now and then;
#  - at most two clean runs, each exiting 0 (one must do when no action
#    ran during a run: DESIGN.md invariants 3 and 4), after which both
#    sides hold the same folders and the same messages, each at most
#    once per folder and side (by Message-ID), with the bytes the user
#    wrote (line ends aside), with equal flags, and a dry run plans
#    nothing; no message that no user deleted is missing from either
#    side (no loss); and each message that no action during a run, no
#    state lost after a cut run, no new UIDVALIDITY of its folder and no
#    ,U= clash touched ends as
#    docs/sync-rules.md says: the three-way flag merge, a deletion
#    carried to the other side (expunged with Expunge Both, marked
#    \Deleted with None), \Deleted expunged with Expunge Both, new
#    messages copied with their flags, twins (and every message after a
#    lost state) paired with both sides' flags united. None of it
#    depends on the order of a parallel run's steps (Connections 3).
# Every history gets a Dovecot user of its own; about 50 s on two busy
# cores by default, 200 histories of 15 steps about 13 minutes. Run from
# the top of the tree; tests/run-all.sh runs it with sh. KEEP=1 leaves
# the directory (each run's output in work/hSEED/runN.out) and the
# server, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

command -v python3 >/dev/null ||
	{ echo "FAIL: imap_random: python3 is needed (the engine)" >&2; exit 1; }

HISTORIES=${HISTORIES:-16}
STEPS=${STEPS:-10}
if [ -n "${SEED:-}" ]; then
	SEEDS=$SEED
else
	SEEDS=$(seq -s ' ' "${FIRST_SEED:-1}" $((${FIRST_SEED:-1} + HISTORIES - 1)))
fi
n=$(wc -w <<<"$SEEDS")
start_dovecot "$TMP/srv" $(seq -f 'h%g' "$n")
mkdir "$TMP/work"

BIN=$BIN IMAP_PORT=$IMAP_PORT PASSWORD=$PASSWORD WORK=$TMP/work \
    SEEDS=$SEEDS USERS="$(seq -f 'h%g' -s ' ' "$n")" \
    STEPS=$STEPS python3 tests/e2e/imap_random.py run
st=$?
expect_eq "every history holds (exit status of the engine)" 0 "$st"

echo "imap_random.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
