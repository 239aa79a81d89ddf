#!/bin/sh
# Check that pkg-config finds the libraries a build needs; never install.
#
#   scripts/check-build-deps.sh MODULE...
#
# MODULE is a pkg-config name: openssl, zlib or check. For each one
# pkg-config does not find, and for pkg-config itself when it is missing,
# print the package that provides it on Debian and on Fedora, then exit 1.
# PKG_CONFIG names the pkg-config program (default pkg-config), as for a
# cross build.
#
# Exit status: 0 when every module is found, 1 when one is missing,
# 2 on a bad argument.
set -u

PKG_CONFIG=${PKG_CONFIG:-pkg-config}

# The Debian and Fedora packages of a pkg-config module.
packages_of() {
	case "$1" in
	openssl) echo "Debian: libssl-dev, Fedora: openssl-devel" ;;
	zlib) echo "Debian: zlib1g-dev, Fedora: zlib-devel" ;;
	check) echo "Debian: check, Fedora: check-devel" ;;
	pkg-config) echo "Debian: pkg-config, Fedora: pkgconf" ;;
	*) return 1 ;;
	esac
}

hint() {
	echo "check-build-deps: install the packages named above and run make" \
		"again (on Debian, scripts/install-deps.sh installs every one)" >&2
}

if [ $# -eq 0 ]; then
	echo "check-build-deps: no module named (openssl, zlib, check)" >&2
	exit 2
fi
for m in "$@"; do
	if ! packages_of "$m" >/dev/null; then
		echo "check-build-deps: unknown module '$m' (openssl, zlib, check)" >&2
		exit 2
	fi
done

if ! command -v "$PKG_CONFIG" >/dev/null 2>&1; then
	echo "check-build-deps: $PKG_CONFIG not found: the build asks it for" \
		"the flags of $* ($(packages_of pkg-config))" >&2
	hint
	exit 1
fi

missing=0
for m in "$@"; do
	"$PKG_CONFIG" --exists "$m" 2>/dev/null && continue
	echo "check-build-deps: $PKG_CONFIG does not find '$m'" \
		"($(packages_of "$m"))" >&2
	missing=1
done
[ $missing -eq 0 ] || hint
exit $missing
