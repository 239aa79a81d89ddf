#!/bin/sh
# The build as a packager sees it, in a copy of the tree (the build
# directory of the tree itself is never touched):
# * a library pkg-config does not find (or pkg-config itself, or Check for
#   the test programs) makes make name its Debian and Fedora packages and
#   fail before compiling anything;
# * CC and CFLAGS from the environment and from the command line are
#   used, a change of flags rebuilds and no change rebuilds nothing, the
#   required flags stay when CFLAGS is replaced; COMPAT=portable is
#   among the recorded flags, an unknown COMPAT an error;
# * a warning fails the build with WERROR=1 only;
# * make CC=clang builds the binary without a warning;
# * scripts/install-deps.sh --if-missing (make check) lets a system
#   without dpkg-query and apt-get go on to the build;
# * make install DESTDIR=... PREFIX=/usr installs exactly the binary, the
#   two manual pages and the sample configuration; make uninstall removes
#   them.
# apt-get, apt and dpkg are replaced on PATH by a script that records its
# calls: no step may call them. Builds one object file at a time, then the
# binary once with clang (about a minute on two busy cores).
set -u

# Hermetic: a make that runs this (make check) passes its variables and
# its jobserver down through the environment.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES CC AR CFLAGS CPPFLAGS \
	LDFLAGS LDLIBS WERROR BUILD EXTRA_CFLAGS EXTRA_LDFLAGS PKG_CONFIG \
	PREFIX DESTDIR BINDIR MANDIR DOCDIR EXAMPLEDIR TWINBOX_BIN
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)

passed=0
failed=0

pass() {
	echo "ok: $1"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL: $1" >&2
	failed=$((failed + 1))
}

die() {
	echo "build.sh: $*" >&2
	exit 1
}

for prog in make clang pkg-config install; do
	command -v "$prog" >/dev/null 2>&1 ||
		die "$prog is required and not found on PATH"
done
REAL_PKG_CONFIG=$(command -v pkg-config)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/twinbox-build.XXXXXX") ||
	die "cannot create a temporary directory"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TREE=$TMP/tree
FAKE=$TMP/bin
OUT=$TMP/out

mkdir -p "$TREE" "$FAKE" || die "cannot create $TREE and $FAKE"
cp -R Makefile src tests scripts docs sync.rc.sample "$TREE/" ||
	die "cannot copy the tree into $TREE"

# apt-get and its relatives: record the call, fail.
for prog in apt-get apt dpkg; do
	cat >"$FAKE/$prog" <<EOF
#!/bin/sh
echo "$prog \$*" >>"$TMP/package-manager-calls"
exit 1
EOF
	chmod 755 "$FAKE/$prog"
done
# pkg-config: fails for the modules named in FAKE_PKG_MISSING.
cat >"$FAKE/pkg-config" <<EOF
#!/bin/sh
for a in "\$@"; do
	for m in \${FAKE_PKG_MISSING:-}; do
		if [ "\$a" = "\$m" ]; then
			echo "Package \$m was not found in the pkg-config search path." >&2
			exit 1
		fi
	done
done
exec "$REAL_PKG_CONFIG" "\$@"
EOF
chmod 755 "$FAKE/pkg-config"
PATH=$FAKE:$PATH
export PATH

# run_make NAME [VAR=VALUE...] -- MAKE-ARGUMENTS: make in the copy, its
# output in $OUT, its status in $status.
run_make() {
	(cd "$TREE" && env "$@" >"$OUT" 2>&1)
	status=$?
}

# The object files of the copy.
objects() {
	find "$TREE/build" -name '*.o' 2>/dev/null | sort
}

has() {
	grep -q -e "$1" "$OUT"
}

# A missing module: non-zero, both packages named, nothing compiled.
missing_module() {
	name=$1 target=$2 debian=$3 fedora=$4
	shift 4
	rm -rf "$TREE/build"
	run_make "$@" make "$target"
	if [ "$status" -ne 0 ] && has "$debian" && has "$fedora" &&
	    [ -z "$(objects)" ]; then
		pass "$name: make $target fails naming $debian and $fedora"
	else
		fail "$name: make $target exited $status, output:"
		cat "$OUT" >&2
	fi
}

missing_module "no openssl" all libssl-dev openssl-devel \
	FAKE_PKG_MISSING=openssl
missing_module "no zlib" all zlib1g-dev zlib-devel FAKE_PKG_MISSING=zlib
missing_module "no pkg-config" all "Debian: pkg-config" "Fedora: pkgconf" \
	PKG_CONFIG=no-such-pkg-config
missing_module "no Check" build-all "Debian: check" check-devel \
	FAKE_PKG_MISSING=check

FLAGS=$TREE/build/.flags
BUF_O=build/src/util/buf.o

# compiled NAME: whether the last make compiled src/NAME.c.
compiled() {
	grep -q "^  CC      src/$1.c\$" "$OUT"
}

flags_have() {
	grep -q -e "$1" "$FLAGS"
}

# CC and CFLAGS from the environment.
rm -rf "$TREE/build"
run_make CC=clang CFLAGS=-O0 make "$BUF_O"
if [ "$status" -eq 0 ] && compiled util/buf && flags_have '^compile: clang ' &&
    flags_have ' -O0' && ! flags_have ' -O2' && ! flags_have -Werror &&
    flags_have ' -std=c11 ' && flags_have ' -D_GNU_SOURCE ' &&
    flags_have ' -pthread ' && flags_have ' -Isrc '; then
	pass "CC and CFLAGS from the environment, required flags kept"
else
	fail "CC=clang CFLAGS=-O0 make $BUF_O (status $status):"
	cat "$OUT" "$FLAGS" >&2
fi

run_make make CC=clang CFLAGS=-O0 "$BUF_O"
if [ "$status" -eq 0 ] && ! compiled util/buf; then
	pass "the same flags on the command line rebuild nothing"
else
	fail "make CC=clang CFLAGS=-O0 $BUF_O again (status $status):"
	cat "$OUT" >&2
fi

run_make make CC=clang CFLAGS=-O1 "$BUF_O"
if [ "$status" -eq 0 ] && compiled util/buf && flags_have ' -O1' &&
    ! flags_have ' -O0'; then
	pass "CFLAGS=-O1 after -O0 rebuilds"
else
	fail "make CC=clang CFLAGS=-O1 $BUF_O (status $status):"
	cat "$OUT" "$FLAGS" >&2
fi

# COMPAT: portable is a flag of its own (a rebuild), anything else an
# error before compiling.
run_make make CC=clang CFLAGS=-O1 COMPAT=portable "$BUF_O"
if [ "$status" -eq 0 ] && compiled util/buf && flags_have ' -DTW_COMPAT_PORTABLE '
then
	pass "COMPAT=portable is recorded in the flags and rebuilds"
else
	fail "make COMPAT=portable $BUF_O (status $status):"
	cat "$OUT" "$FLAGS" >&2
fi
run_make make CC=clang CFLAGS=-O1 COMPAT=linux "$BUF_O"
if [ "$status" -ne 0 ] && has 'COMPAT=linux: use COMPAT=native' &&
    ! compiled util/buf; then
	pass "an unknown COMPAT fails naming the values"
else
	fail "make COMPAT=linux $BUF_O (status $status):"
	cat "$OUT" >&2
fi

# A source file with an unused variable (-Wall).
cat >"$TREE/src/zz_warn.c" <<'EOF'
int zz_warn(void);

int
zz_warn(void)
{
	int unused;

	return 0;
}
EOF
run_make make CC=clang CFLAGS=-O1 build/src/zz_warn.o
if [ "$status" -eq 0 ] && has 'warning:.*unused' && ! flags_have -Werror; then
	pass "a warning does not fail the build without WERROR"
else
	fail "make build/src/zz_warn.o (status $status):"
	cat "$OUT" >&2
fi
run_make make CC=clang CFLAGS=-O1 WERROR=1 build/src/zz_warn.o
if [ "$status" -ne 0 ] && has 'error:.*unused' && flags_have ' -Werror'; then
	pass "the same warning fails the build with WERROR=1"
else
	fail "make WERROR=1 build/src/zz_warn.o (status $status):"
	cat "$OUT" >&2
fi
rm -f "$TREE/src/zz_warn.c" "$TREE"/build/src/zz_warn.*

# The binary with clang, and the flags of a Debian package build.
PKG_VARS="CC=clang CFLAGS=-O1 CPPFLAGS=-DBUILD_SH_CPPFLAGS LDFLAGS=-Wl,-z,relro LDLIBS=-lm"
run_make make -j2 $PKG_VARS
if [ "$status" -eq 0 ] && ! has 'warning:' && [ -x "$TREE/twinbox" ] &&
    flags_have ' -DBUILD_SH_CPPFLAGS ' && flags_have ' -Wl,-z,relro ' &&
    flags_have ' -lm$' && ! flags_have -Werror; then
	pass "make CC=clang builds without a warning, the caller's flags used"
else
	fail "make -j2 $PKG_VARS (status $status):"
	cat "$OUT" "$FLAGS" >&2
fi
if "$TREE/twinbox" --version >"$OUT" 2>&1; then
	pass "the binary runs"
else
	fail "twinbox --version:"
	cat "$OUT" >&2
fi

# make install: exactly these files, nothing compiled.
DEST=$TMP/dest
run_make make install $PKG_VARS DESTDIR="$DEST" PREFIX=/usr
installed=$(cd "$DEST" 2>/dev/null && find . ! -type d | LC_ALL=C sort | tr '\n' ' ')
units=./usr/lib/systemd/user
expected="./usr/bin/twinbox $units/twinbox-watch@.service $units/twinbox@.service $units/twinbox@.timer ./usr/share/doc/twinbox/examples/sync.rc.sample ./usr/share/man/man1/twinbox.1 ./usr/share/man/man5/sync.rc.5 "
if [ "$status" -eq 0 ] && [ "$installed" = "$expected" ] &&
    [ -x "$DEST/usr/bin/twinbox" ] && ! has '^  CC' &&
    cmp -s "$DEST/usr/share/doc/twinbox/examples/sync.rc.sample" \
	"$ROOT/sync.rc.sample" &&
    grep -q '^ExecStart=/usr/bin/twinbox ' "$DEST/$units/twinbox-watch@.service" &&
    ! grep -q '@BINDIR@' "$DEST"/$units/*; then
	pass "make install DESTDIR PREFIX=/usr installs exactly $expected"
else
	fail "make install (status $status) installed: $installed"
	cat "$OUT" >&2
fi
run_make make uninstall DESTDIR="$DEST" PREFIX=/usr
left=$(cd "$DEST" 2>/dev/null && find . ! -type d)
if [ "$status" -eq 0 ] && [ -z "$left" ]; then
	pass "make uninstall removes them"
else
	fail "make uninstall (status $status) left: $left"
	cat "$OUT" >&2
fi

# make check on a system without dpkg-query and apt-get: install-deps.sh
# --if-missing lets the build go on; asked to install, it fails.
mkdir -p "$TMP/nodpkg" || die "cannot create $TMP/nodpkg"
(cd "$TREE" && env PATH="$TMP/nodpkg" /bin/sh scripts/install-deps.sh \
	--if-missing --servers) >"$OUT" 2>&1
status=$?
(cd "$TREE" && env PATH="$TMP/nodpkg" /bin/sh scripts/install-deps.sh) \
	>>"$OUT" 2>&1
status2=$?
if [ "$status" -eq 0 ] && [ "$status2" -ne 0 ] && has 'nothing installed' &&
    has 'libssl-dev'; then
	pass "without dpkg-query, install-deps.sh --if-missing installs nothing and succeeds"
else
	fail "install-deps.sh without dpkg-query (status $status, then $status2):"
	cat "$OUT" >&2
fi

if [ -e "$TMP/package-manager-calls" ]; then
	fail "a package manager was called:"
	cat "$TMP/package-manager-calls" >&2
else
	pass "no package manager was called"
fi

echo "build.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
