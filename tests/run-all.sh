#!/bin/sh
# Run every test program and script; print Check's summaries and a total.
#
# Environment:
#   BUILD           the build directory (default build): its test programs
#                   in BUILD/tests, then every script of tests/e2e, against
#                   TWINBOX_BIN (default BUILD/twinbox).
#   PORTABLE_BUILD  a second build directory, built with COMPAT=portable
#                   (make check's build-portable): the whole suite runs
#                   again with its programs and its binary, its temporary
#                   files on a tmpfs when there is one (below). Its tests
#                   are named portable:NAME in the output.
#   JOBS=N          up to N tests at once (default 1). Each test's output
#                   is kept and printed whole once it ends, in the order
#                   of the list (programs, then scripts; the BUILD suite,
#                   then the portable one), so that the log reads the same
#                   whatever N; the tests of SERIAL_TESTS run first, alone.
#                   With 1, each test writes straight to the terminal.
#   TWINBOX_SRCDIR  set here, the top of the source tree, for the programs.
#   VALGRIND=1      the unit tests, and a short sync of the binary, under
#                   valgrind (leaks are failures).
#   ONLY="NAME..."  only the Check programs and e2e scripts of those names
#                   (check_maildir, signals.sh; a name that is not there
#                   is a failure).
#   TMPFS           where the portable suite's temporary files go
#                   (default /dev/shm; see portable_tmpdir).
set -u
BUILD=${BUILD:-build}
TWINBOX_BIN=${TWINBOX_BIN:-$BUILD/twinbox}
PORTABLE_BUILD=${PORTABLE_BUILD:-}
JOBS=${JOBS:-1}
# The Check programs read tests/data/ and scripts/ from here, whatever
# their current directory (tests/support/testlib.h, tl_src_path()).
TWINBOX_SRCDIR=$(cd "$(dirname "$0")/.." && pwd -P)
export TWINBOX_BIN TWINBOX_SRCDIR

# Tests that run alone, before the others: none today. A test whose
# result depends on the machine's load goes here, with the reason.
SERIAL_TESTS=""

# The longest tests (minutes on two busy cores, the crash sweeps and the
# interoperability scripts) start first, so that the end of the run is not
# one of them running by itself. Order only: every test runs either way.
LONG_TESTS="check_model imap_faults.sh maildir_mutate.sh signals.sh
imap_parallel.sh imap_proxy_faults.sh interop_cyrus.sh interop_courier.sh
interop_dovecot.sh migrate_fleet.sh check_scenarios imap_condstore.sh
watch.sh imap_auth.sh imap_random.sh"

case $JOBS in
'' | *[!0-9]* | 0)
	echo "error: JOBS=$JOBS: give the number of tests to run at once" >&2
	exit 2
	;;
esac

passed=0
failed=0
failed_names=""
ran=""
njobs=0

# Whether name is to be run (ONLY unset, or name in it).
wanted() {
	[ -z "${ONLY:-}" ] && return 0
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# listed NAME LIST: whether NAME is one of the words of LIST.
listed() {
	case " $(echo $2) " in *" $1 "*) return 0 ;; esac
	return 1
}

# add_job SUITE NAME KIND PATH: one test of the list (KIND check, e2e or
# vg, PATH the program or script); job_*_N hold job N.
add_job() {
	wanted "$2" || return 0
	ran="$ran $2"
	njobs=$((njobs + 1))
	eval "job_suite_$njobs=\$1 job_name_$njobs=\$2 job_kind_$njobs=\$3" \
		"job_path_$njobs=\$4 job_status_$njobs= job_secs_$njobs="
}

# add_suite SUITE DIR: every test of the build in DIR.
add_suite() {
	for t in "$2"/tests/check_*; do
		[ -x "$t" ] || continue
		case "$t" in *.d) continue ;; esac
		add_job "$1" "$(basename "$t")" check "$t"
	done
	if [ "${VALGRIND:-0}" = 1 ]; then
		add_job "$1" valgrind-e2e vg ""
	fi
	for t in tests/e2e/*.sh; do
		[ -f "$t" ] || continue
		add_job "$1" "$(basename "$t")" e2e "$t"
	done
}

# The name a person reads (and gives to ONLY, without "portable:").
label() {
	eval "l_suite=\$job_suite_$1 l_name=\$job_name_$1"
	if [ "$l_suite" = portable ]; then
		echo "portable:$l_name"
	else
		echo "$l_name"
	fi
}

# ---- one test ------------------------------------------------------------

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

# run_job N: job N, in the environment of its suite (run in a subshell).
run_job() {
	eval "suite=\$job_suite_$1 kind=\$job_kind_$1 path=\$job_path_$1"
	export BUILD TWINBOX_BIN
	if [ "$suite" = portable ]; then
		BUILD=$PORTABLE_BUILD
		TWINBOX_BIN=$PORTABLE_BUILD/twinbox
		TMPDIR=$portable_tmp
		export TMPDIR
	fi
	case $kind in
	check)
		if [ "${VALGRIND:-0}" = 1 ]; then
			# Forked children are left out: the crash tests kill
			# theirs on purpose, holding whatever they held then.
			CK_FORK=no exec valgrind -q --leak-check=full \
				--errors-for-leak-kinds=definite,indirect \
				--child-silent-after-fork=yes --error-exitcode=99 \
				"$path"
		fi
		exec "$path"
		;;
	vg) valgrind_e2e ;;
	e2e) exec sh "$path" ;;
	esac
}

# ---- the portable suite's temporary directory ----------------------------

# The fallback's durability barrier is one fsync() per file written
# (src/compat.h), which on a disk makes each crash sweep take minutes; on
# a tmpfs fsync() costs nothing and the same code runs. TMPFS is used
# when it is a tmpfs with 2 GB free where a script can be run (the tests
# run scripts from their directories); otherwise one line says so and
# the portable suite uses TMPDIR like the other. The directory is made
# traversable by the servers' unprivileged processes.
tmpfs_usable() {
	[ "$(stat -f -c %T "$1" 2>/dev/null)" = tmpfs ] || return 1
	[ "$(df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4 }')" \
	    -ge 2097152 ] 2>/dev/null || return 1
	return 0
}

portable_tmpdir() {
	fs=${TMPFS:-/dev/shm}
	if tmpfs_usable "$fs" &&
	    dir=$(mktemp -d "$fs/twinbox-portable-XXXXXX" 2>/dev/null); then
		printf '#!/bin/sh\nexit 0\n' >"$dir/probe" 2>/dev/null &&
			chmod 755 "$dir" "$dir/probe" && "$dir/probe" &&
			rm -f "$dir/probe" && echo "$dir" && return 0
		rm -rf "$dir"
	fi
	echo "run-all: the portable suite's temporary files go to" \
		"${TMPDIR:-/tmp}, not $fs (no tmpfs there with 2 GB free" \
		"that runs scripts): its crash sweeps take minutes" >&2
	dir=$(mktemp -d "${TMPDIR:-/tmp}/twinbox-portable-XXXXXX") &&
		chmod 755 "$dir" && echo "$dir"
}

# ---- running the list ----------------------------------------------------

# report N: job N's outcome counted.
report() {
	eval "p_status=\$job_status_$1"
	if [ "$p_status" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names="$failed_names $(label "$1")"
	fi
}

# One at a time, straight to the terminal.
run_inline() {
	job=1
	while [ $job -le $njobs ]; do
		echo "== $(label $job)"
		( run_job $job )
		eval "job_status_$job=$?"
		report $job
		job=$((job + 1))
	done
}

# start N: job N in the background, its output in work/N.out; its
# number, status and seconds are written to the pipe on descriptor 3.
start() {
	{
		t0=$(date +%s)
		( run_job "$1" ) </dev/null >"$work/$1.out" 2>&1 3>&-
		echo "$1 $? $(($(date +%s) - t0))" >&3
	} &
	running=$((running + 1))
}

# reap: wait for one job to end; print every ended job, in list order,
# up to the first one still running.
reap() {
	read -r r_job r_status r_secs <&3 || exit 1
	eval "job_status_$r_job=$r_status job_secs_$r_job=$r_secs"
	running=$((running - 1))
	while [ "$shown" -lt "$njobs" ]; do
		r_job=$((shown + 1))
		eval "r_status=\$job_status_$r_job r_secs=\$job_secs_$r_job"
		[ -n "$r_status" ] || break
		shown=$r_job
		echo "== $(label "$r_job") (${r_secs} s)"
		cat "$work/$r_job.out"
		report "$r_job"
	done
}

# The start order: SERIAL_TESTS, LONG_TESTS, then the rest, each in list
# order; a serial job starts when nothing runs and runs alone.
start_order() {
	for o_pass in serial long rest; do
		o_job=1
		while [ $o_job -le $njobs ]; do
			eval "o_name=\$job_name_$o_job"
			if listed "$o_name" "$SERIAL_TESTS"; then
				o_kind=serial
			elif listed "$o_name" "$LONG_TESTS"; then
				o_kind=long
			else
				o_kind=rest
			fi
			[ $o_kind = $o_pass ] && echo $o_job
			o_job=$((o_job + 1))
		done
	done
}

run_parallel() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/twinbox-run-XXXXXX") || exit 1
	mkfifo "$work/done" && exec 3<>"$work/done" || exit 1
	running=0
	shown=0
	for job in $(start_order); do
		eval "name=\$job_name_$job"
		if listed "$name" "$SERIAL_TESTS"; then
			while [ $running -gt 0 ]; do reap; done
			start "$job"
			reap
			continue
		fi
		while [ $running -ge "$JOBS" ]; do reap; done
		start "$job"
	done
	while [ $running -gt 0 ]; do reap; done
}

# What this script made, removed however it ends (the portable suite's
# directory kept with KEEP=1, as the tests keep theirs).
work=""
portable_tmp=""
cleanup() {
	[ -n "$work" ] && rm -rf "$work"
	[ -n "$portable_tmp" ] && [ -z "${KEEP:-}" ] && rm -rf "$portable_tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

add_suite native "$BUILD"
if [ -n "$PORTABLE_BUILD" ]; then
	if [ ! -x "$PORTABLE_BUILD/twinbox" ]; then
		echo "error: PORTABLE_BUILD=$PORTABLE_BUILD holds no twinbox" \
			"(make BUILD=$PORTABLE_BUILD COMPAT=portable build-all)" >&2
		exit 1
	fi
	portable_tmp=$(portable_tmpdir) || exit 1
	add_suite portable "$PORTABLE_BUILD"
fi

if [ "$JOBS" -eq 1 ]; then
	run_inline
else
	run_parallel
fi

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
