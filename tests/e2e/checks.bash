# Counting checks shared by the end-to-end scripts (sourced, not run).
#
#   pass DESCRIPTION
#   fail DESCRIPTION [DETAIL]
#   expect_eq DESCRIPTION EXPECTED ACTUAL
#   wait_for DESCRIPTION COMMAND...  pass once COMMAND succeeds, polled
#       every 0.2 s for at most 20 s; else fail, with the last lines of
#       the log file WLOG (when the script sets it)
#   wait_quiet DESCRIPTION  pass once the log file WLOG has not grown for
#       3 s (a watcher at rest: -V logs every sync), checked for at most
#       30 s; else fail, with its last lines
#
# The sourcing script starts the counters at zero, prints
# "NAME: $passed passed, $failed failed" at the end and exits non-zero when
# anything failed. E2E_QUIET_PASS=1 keeps passed checks silent (for sweeps
# of hundreds of checks).
#
# NOOP_TOTAL is a grep pattern for the total line of a run that changed
# nothing and met no trouble (printed with -V only).

passed=0
failed=0
NOOP_TOTAL='^twinbox: [0-9]* mailbox pairs\{0,1\}: 0 changed, 0 failed, 0 skipped; far->near: 0 copied (0 B), 0 flagged, 0 expunged; near->far: 0 copied (0 B), 0 flagged, 0 expunged; [0-9.]* s$'

pass() {
	[ "${E2E_QUIET_PASS:-0}" = 1 ] || echo "ok: $1"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL: $1" >&2
	[ $# -ge 2 ] && printf '%s\n' "$2" | sed 's/^/    /' >&2
	failed=$((failed + 1))
}

expect_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $2
actual:   $3"
	fi
}

wait_quiet() {
	local size
	for _ in $(seq 10); do
		size=$(wc -c <"$WLOG")
		sleep 3
		if [ "$(wc -c <"$WLOG")" = "$size" ]; then
			pass "$1"
			return 0
		fi
	done
	fail "$1 (the log grew in every 3 s for 30 s)" "$(tail "$WLOG")"
	return 1
}

wait_for() {
	local what=$1 i
	shift
	for i in $(seq 100); do
		if "$@"; then
			pass "$what"
			return 0
		fi
		sleep 0.2
	done
	fail "$what" "$(date) $(tail -n 30 "${WLOG:-/dev/null}")"
	return 1
}
