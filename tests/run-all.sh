#!/bin/sh
# Run every test program and script; print Check's summaries and a total.
#
# Environment: BUILD (build directory), TWINBOX_BIN (the binary under test),
# VALGRIND=1 to run the unit tests under valgrind (leaks are failures).
set -u
BUILD=${BUILD:-build}
TWINBOX_BIN=${TWINBOX_BIN:-$BUILD/twinbox}
export TWINBOX_BIN
passed=0
failed=0
failed_names=""

run_one() {
	name=$1
	shift
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
		run_one "$(basename "$t")" env CK_FORK=no valgrind -q \
			--leak-check=full --errors-for-leak-kinds=definite,indirect \
			--error-exitcode=99 "$t"
	else
		run_one "$(basename "$t")" "$t"
	fi
done

for t in tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	run_one "$(basename "$t")" sh "$t"
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
