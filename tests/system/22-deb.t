#!/bin/sh
# The Debian package ("make deb"): lintian finds no error or warning in
# it; "apt-get install ./warren_*.deb" in a clean Debian 12 root (made by
# debootstrap from Debian's mirror, cached in $DEBROOT, copied for
# each run) installs the binaries, man pages, unit and example configs,
# makes the system user warren and a node key it owns, and "warrend
# --check" runs from it; "apt-get purge" removes it all.  Skipped, saying
# why, only if the mirror cannot be reached.
. "$(dirname "$0")/lib.sh"
plan 16
TEST_TIMEOUT=${TEST_TIMEOUT:-600}

skip_rest() {
	diag "$1"
	while [ "$NTEST" -lt "$PLANNED" ]; do ok "# SKIP $1"; done
	exit 0
}
[ "$(id -u)" = 0 ] || skip_rest "needs root (debootstrap, chroot)"

deb=$(sh "$TOP/scripts/mkdeb.sh" 2> "$T/mkdeb.log" | tail -n 1)
check "make deb builds build/warren_VERSION_ARCH.deb" \
    sh -c "test -f '$deb' && basename '$deb' | grep -q '^warren_[0-9.]*-1_$(dpkg --print-architecture)\.deb$'"
dpkg-deb -f "$deb" Depends > "$T/depends"
like "$(cat "$T/depends")" "libuv1.*" "its Depends come from dpkg-shlibdeps (libuv1, ...)"
if command -v lintian > /dev/null; then
	lintian --tag-display-limit 0 "$deb" > "$T/lintian.log" 2>&1
	check "lintian: no error and no warning" \
	    sh -c "! grep -E '^[EW]: ' '$T/lintian.log'"
else
	ok "# SKIP no lintian (make deps)"
fi

sh "$TOP/tests/system/debroot.sh" "$DEBROOT/bookworm" \
    > "$T/debroot.log" 2>&1
case $? in
0) ;;
3) skip_rest "debootstrap cannot reach the Debian mirror: $(tail -n 1 "$T/debroot.log")" ;;
*) sed 's/^/# /' "$T/debroot.log"; not_ok "a clean Debian 12 root"
   skip_rest "no Debian 12 root" ;;
esac
R=$DEBROOT/run-22.$$
at_exit "rm -rf '$R'"
cp -a "$DEBROOT/bookworm" "$R"
cp /etc/resolv.conf "$R/etc/resolv.conf"
cp "$deb" "$R/tmp/"
# in_root CMD...: run CMD in the root, with /proc.
in_root() {
	DEBIAN_FRONTEND=noninteractive unshare -m sh -c \
	    'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$R" "$@"
}
check "the root is clean: no warren package, user or files" \
    sh -c "! chroot '$R' dpkg -s warren >/dev/null 2>&1 &&
    ! grep -q '^warren:' '$R/etc/passwd' && test ! -e '$R/etc/warren'"
in_root apt-get -q install -y "/tmp/$(basename "$deb")" > "$T/apt.log" 2>&1
rc=$?
if [ $rc != 0 ] && grep -qE 'Temporary failure resolving|Could not resolve|Failed to fetch' "$T/apt.log"; then
	skip_rest "apt in the root cannot reach the Debian mirror"
fi
is "$rc" 0 "apt-get install ./$(basename "$deb")"
like "$(chroot "$R" dpkg-query -W -f '${Status}' warren)" "install ok installed" \
    "dpkg has it installed"
check "binaries, man pages, the unit, sysusers and tmpfiles entries" \
    test -x "$R/usr/bin/warrend" -a -x "$R/usr/bin/warren" \
    -a -f "$R/usr/share/man/man8/warrend.8.gz" \
    -a -f "$R/usr/share/man/man5/warren.conf.5.gz" \
    -a -f "$R/usr/share/man/man1/warren.1.gz" \
    -a -f "$R/lib/systemd/system/warrend.service" \
    -a -f "$R/usr/lib/sysusers.d/warren.conf" \
    -a -f "$R/usr/lib/tmpfiles.d/warren.conf"
like "$(grep '^ExecStart=' "$R/lib/systemd/system/warrend.service")" \
    "^ExecStart=/usr/bin/warrend -c /etc/warren/warrend.conf$" \
    "the unit runs /usr/bin/warrend on /etc/warren/warrend.conf"
like "$(cat "$R/var/lib/dpkg/info/warren.conffiles")" "^/etc/warren/warrend.conf$" \
    "/etc/warren/warrend.conf is a conffile"
like "$(grep '^warren:' "$R/etc/passwd")" \
    "^warren:x:[0-9]*:[0-9]*:[^:]*:/var/lib/warren:/usr/sbin/nologin$" \
    "postinst made the system user warren (home /var/lib/warren, no shell)"
like "$(chroot "$R" stat -c '%U:%G %a' /etc/warren/server.key)" "^warren:warren 600$" \
    "postinst made a node key that warren owns, mode 600"
is "$(chroot "$R" sh -c 'warren pubkey < /etc/warren/server.key')" \
    "$(cat "$R/etc/warren/server.pub")" "server.pub is the key's public half"
out=$(in_root runuser -u warren -- warrend -c /etc/warren/warrend.conf --check 2>&1)
is "$?" 0 "warrend --check, as warren, exits 0"
like "$out" "^/etc/warren/warrend.conf: ok (0 services, 0 clients)$" \
    "warrend --check says the shipped config is ok"

in_root apt-get -q purge -y warren > "$T/purge.log" 2>&1
is "$?" 0 "apt-get purge warren"
left=$(cd "$R" && ls -d usr/bin/warrend usr/bin/warren etc/warren var/lib/warren \
    run/warren lib/systemd/system/warrend.service \
    usr/share/man/man8/warrend.8.gz 2>/dev/null)
is "$left" "" "purge leaves none of its files"
