#!/bin/sh
# mkdeb.sh: build build/warren_VERSION_ARCH.deb ("make deb").
#
# With dpkg-deb directly, not debhelper: the tree's own "make install"
# lays out the files (so the package and a hand install cannot drift
# apart), the maintainer scripts are short and in dist/deb/, and building
# needs only dpkg-dev, which build-essential already brings.  The binaries
# are built afresh in build/deb/src with Debian's hardening flags
# (dpkg-buildflags), stripped; dpkg-shlibdeps computes the library
# dependencies (dist/deb/control.in adds adduser, for the postinst, and
# procps, for the unit's ExecReload=/bin/kill).  No root needed:
# dpkg-deb --root-owner-group.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
out=$top/build/deb
ver=$(sed -n 's/^#define WARREN_VERSION "\(.*\)"$/\1/p' src/version.h)
[ -n "$ver" ] || { echo "mkdeb: no WARREN_VERSION in src/version.h" >&2; exit 1; }
debver=$ver-1
arch=$(dpkg --print-architecture)
deb=$top/build/warren_${debver}_$arch.deb
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

rm -rf "$out"
mkdir -p "$out/src/docs" "$out/root" "$out/shl/debian"
cp -r Makefile src cmd dist "$out/src/"
cp -r docs/man "$out/src/docs/"

# A clean build with Debian's flags (the Makefile appends its own).
DEB_BUILD_MAINT_OPTIONS=hardening=+all
export DEB_BUILD_MAINT_OPTIONS
CFLAGS=$(dpkg-buildflags --get CFLAGS)
CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS)
LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
export CFLAGS CPPFLAGS LDFLAGS
# Never the caller's make variables (make check SANITIZE=1 passes
# SANITIZE down through MAKEFLAGS): the package holds release binaries.
unset MAKEFLAGS MAKELEVEL MFLAGS
make -s -C "$out/src" -j2 all SANITIZE=
make -s -C "$out/src" install DESTDIR="$out/root" PREFIX=/usr SANITIZE=
unset CFLAGS CPPFLAGS LDFLAGS

r=$out/root
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$r/usr/bin/warren" "$r/usr/bin/warrend"
gzip -9n "$r"/usr/share/man/man*/*
install -d "$r/usr/share/doc/warren"
install -m 644 dist/deb/copyright "$r/usr/share/doc/warren/copyright"
install -d "$r/usr/share/lintian/overrides"
install -m 644 dist/deb/lintian-overrides "$r/usr/share/lintian/overrides/warren"
{
	printf 'warren (%s) unstable; urgency=medium\n\n' "$debver"
	printf '  * Built from the warren source tree (make deb).\n\n'
	printf ' -- warren maintainers <warren@example.org>  %s\n' \
	    "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$r/usr/share/doc/warren/changelog.Debian.gz"
chmod 644 "$r/usr/share/doc/warren/changelog.Debian.gz"

# Library dependencies of the binaries.
printf 'Source: warren\n\nPackage: warren\nArchitecture: any\n' \
    > "$out/shl/debian/control"
shlibs=$(cd "$out/shl" && dpkg-shlibdeps -O "$r/usr/bin/warren" \
    "$r/usr/bin/warrend" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "mkdeb: dpkg-shlibdeps found nothing" >&2; exit 1; }

install -d -m 755 "$r/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$r" | cut -f1)
sed -e "s|@VERSION@|$debver|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" \
    -e "s|@SHLIBS@|$shlibs|" dist/deb/control.in > "$r/DEBIAN/control"
for f in postinst prerm postrm; do
	install -m 755 "dist/deb/$f" "$r/DEBIAN/$f"
done
(cd "$r" && find etc -type f | sort | sed 's|^|/|') > "$r/DEBIAN/conffiles"
(cd "$r" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' |
    sort | xargs md5sum) > "$r/DEBIAN/md5sums"
chmod 644 "$r/DEBIAN/control" "$r/DEBIAN/conffiles" "$r/DEBIAN/md5sums"
find "$r" -type d -exec chmod 755 {} +

rm -f "$top"/build/warren_*.deb
dpkg-deb --root-owner-group -Zxz --build "$r" "$deb" >/dev/null
echo "$deb"
