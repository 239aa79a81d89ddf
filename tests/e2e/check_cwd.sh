#!/bin/bash
# The Check programs find their files whatever the current directory
# (tests/support/testlib.h: tests/data/, scripts/ and sync.rc.sample from
# the source tree, the tools and the binary from the program's own build):
#  - run from inside BUILD/tests and from /, with neither TWINBOX_SRCDIR
#    nor TWINBOX_BIN set, check_config (tests/data/, sync.rc.sample),
#    check_mbsync_state (tests/data/mbsync/), check_e2e_input (the
#    binary) and check_rusage (a tool) pass;
#  - with TWINBOX_SRCDIR naming a directory that is not the tree, and for
#    a copy of the program outside any tree without it, the program fails
#    (exit 1) saying where it looked, what is missing and what to set.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/checks.bash

BUILD=$(cd "${BUILD:-build}" && pwd -P) || exit 1
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
unset TWINBOX_SRCDIR TWINBOX_BIN
PROGS="check_config check_mbsync_state check_e2e_input check_rusage"
for p in $PROGS; do
	if [ ! -x "$BUILD/tests/$p" ]; then
		echo "FAIL: $BUILD/tests/$p is missing (make build-all builds it)" >&2
		exit 1
	fi
done

for where in "$BUILD/tests" /; do
	for p in $PROGS; do
		(cd "$where" && timeout 300 "$BUILD/tests/$p") \
			>"$TMP/$p.out" 2>&1
		expect_eq "$p run from $where: exit status" 0 "$?"
	done
done

mkdir -p "$TMP/not-a-tree"
TWINBOX_SRCDIR=$TMP/not-a-tree timeout 60 "$BUILD/tests/check_mbsync_state" \
	>"$TMP/wrong.out" 2>&1
expect_eq "TWINBOX_SRCDIR not the tree: exit status" 1 "$?"
expect_eq "TWINBOX_SRCDIR not the tree: what is missing, and why" found \
	"$(grep -q "FAIL: the source tree is not at $TMP/not-a-tree (no $TMP/not-a-tree/tests/run-all.sh: No such file or directory); TWINBOX_SRCDIR must name the top of the source tree" "$TMP/wrong.out" && echo found)"

mkdir -p "$TMP/a/b"
cp "$BUILD/tests/check_mbsync_state" "$TMP/a/b/"
(cd "$TMP" && timeout 60 "$TMP/a/b/check_mbsync_state") >"$TMP/copy.out" 2>&1
expect_eq "a copy outside the tree: exit status" 1 "$?"
expect_eq "a copy outside the tree: what to set" found \
	"$(grep -q "FAIL: the source tree is not at $TMP/a/b/../.. .*set TWINBOX_SRCDIR to the top of the source tree" "$TMP/copy.out" && echo found)"

echo "check_cwd: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
