# The start shared by the end-to-end scripts that run the binary against a
# private Dovecot (sourced from the top of the tree, after `set -u`):
#  - TEST_PASSWORD and the TEST_SERVER_* settings of the caller's
#    environment are dropped, so that every server starts as the script
#    says;
#  - SERVER (scripts/test-server.sh), BUILD (default build) and BIN, the
#    binary under test as an absolute path (TWINBOX_BIN overrides);
#    abs_path PATH prints PATH made absolute;
#  - TMP, a new directory that the servers' unprivileged processes can
#    enter. Each script removes it in its own cleanup.

unset TEST_PASSWORD TEST_SERVER_CERT TEST_SERVER_COMPRESS TEST_SERVER_NOTIFY \
	TEST_SERVER_CAPS TEST_SERVER_SEPARATOR TEST_SERVER_PORTS TEST_SERVER_WAIT

abs_path() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

SERVER=scripts/test-server.sh
BUILD=${BUILD:-build}
BIN=$(abs_path "${TWINBOX_BIN:-$BUILD/twinbox}")
TMP=$(mktemp -d) || exit 1
chmod 755 "$TMP"
