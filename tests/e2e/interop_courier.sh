#!/bin/bash
# The interoperability scenarios of tests/e2e/interop.bash against a
# private Courier IMAP (scripts/test-server-courier.sh).
# Run from the top of the tree; tests/run-all.sh runs it with sh.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
KIND=courier; export KIND
# shellcheck source=tests/e2e/interop.bash
. "$(dirname "$0")/interop.bash"
