#!/bin/sh
# Run every test program and script; print Check's summaries and a total.
#
# Environment: BUILD (build directory), TWINBOX_BIN (the binary under test;
# TWINBOX_SRCDIR, the top of the source tree, is set for the programs),
# VALGRIND=1 to run the unit tests, and a short sync of the binary, under
# valgrind (leaks are failures), ONLY="NAME..." to run only the Check
# programs and e2e scripts of those names (check_maildir, signals.sh; a
# name that is not there is a failure).
set -u
BUILD=${BUILD:-build}
TWINBOX_BIN=${TWINBOX_BIN:-$BUILD/twinbox}
# The Check programs read tests/data/ and scripts/ from here, whatever
# their current directory (tests/support/testlib.h, tl_src_path()).
TWINBOX_SRCDIR=$(cd "$(dirname "$0")/.." && pwd -P)
export TWINBOX_BIN TWINBOX_SRCDIR
passed=0
failed=0
failed_names=""
ran=""

# Whether name is to be run (ONLY unset, or name in it).
wanted() {
	[ -z "${ONLY:-}" ] && return 0
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

run_one() {
	name=$1
	shift
	wanted "$name" || return 0
	ran="$ran $name"
	echo "== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
	fi
}

for t in "$BUILD"/tests/check_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	if [ "${VALGRIND:-0}" = 1 ]; then
		# Forked children are left out: the crash tests kill theirs
		# on purpose, holding whatever they held at that instant.
		run_one "$(basename "$t")" env CK_FORK=no valgrind -q \
			--leak-check=full --errors-for-leak-kinds=definite,indirect \
			--child-silent-after-fork=yes --error-exitcode=99 "$t"
	else
		run_one "$(basename "$t")" "$t"
	fi
done

# The binary itself under valgrind on a small Maildir<->Maildir channel:
# first sync, changes on both sides, second sync, dry run.
vg_twinbox() {
	HOME=$vgdir valgrind -q --leak-check=full --error-exitcode=99 \
		"$TWINBOX_BIN" -c "$vgdir/sync.rc" "$@" >"$vgdir/out" 2>&1
	vgstatus=$?
	if [ $vgstatus -ne 0 ]; then
		echo "twinbox $* exited with status $vgstatus:" >&2
		cat "$vgdir/out" >&2
	fi
	return $vgstatus
}

vg_message() {
	printf 'Message-ID: <%s@vg.example>\nSubject: %s\n\nBody %s.\n' \
		"$1" "$1" "$1" >"$2"
}

vg_config() {
	cat >"$vgdir/sync.rc" <<EOF
FSync no

MaildirStore far
Path $vgdir/far/
Inbox $vgdir/far/INBOX
SubFolders Verbatim

MaildirStore near
Inbox $vgdir/near
SubFolders Maildir++

Channel vg
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both
SyncState *
EOF
}

valgrind_e2e() {
	vgdir=$(mktemp -d "${TMPDIR:-/tmp}/twinbox-vg-XXXXXX") || return 1
	mkdir -p "$vgdir/far/INBOX/cur" "$vgdir/far/INBOX/new" \
		"$vgdir/far/INBOX/tmp" "$vgdir/far/Work/cur" \
		"$vgdir/far/Work/new" "$vgdir/far/Work/tmp" || return 1
	vg_message a "$vgdir/far/INBOX/new/1.a"
	vg_message b "$vgdir/far/INBOX/cur/1.b:2,S"
	vg_message c "$vgdir/far/Work/new/1.c"
	vg_config
	vg_twinbox --dry-run vg && vg_twinbox vg || return 1
	mv "$vgdir/far/INBOX/new/1.a,U=1" "$vgdir/far/INBOX/cur/1.a,U=1:2,F" &&
		rm "$vgdir"/far/Work/new/1.c* &&
		vg_message d "$vgdir/near/new/1.d" || return 1
	vg_twinbox vg || return 1
	vg_twinbox --dry-run vg || return 1
	if ! grep -q "vg:INBOX: dry run: nothing to do" "$vgdir/out" ||
	    ! grep -q "vg:Work: dry run: nothing to do" "$vgdir/out"; then
		echo "the dry run after the second sync plans work:" >&2
		cat "$vgdir/out" >&2
		return 1
	fi
	rm -rf "$vgdir"
}

if [ "${VALGRIND:-0}" = 1 ]; then
	run_one "valgrind-e2e" valgrind_e2e
fi

for t in tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	run_one "$(basename "$t")" sh "$t"
done

for name in ${ONLY:-}; do
	case " $ran " in
	*" $name "*) ;;
	*)
		echo "error: ONLY names $name, which is not a test program" \
			"under $BUILD/tests nor a script in tests/e2e" >&2
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		;;
	esac
done

if [ $((passed + failed)) -eq 0 ]; then
	echo "error: no test programs found under $BUILD/tests" >&2
	exit 1
fi
echo "programs: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
	echo "failed:$failed_names" >&2
	exit 1
fi
