#!/bin/sh
# debroot.sh DIR [systemd]: make DIR a minimal Debian 12 (bookworm) root
# with debootstrap, from the Debian mirror this machine's apt uses, with
# apt's package lists, once: a DIR that is complete (DIR/.complete) is
# kept.  With "systemd", make DIR-systemd too: DIR plus systemd as its
# init, for systemd-nspawn --boot.  The tests copy these roots for each
# run, so every install starts from a clean root.
# Exit 0: ready; 3: the mirror cannot be reached (the caller skips);
# anything else: a real failure.
set -eu
dir=$1
want=${2:-}

# chroot_apt ROOT ARGS...: apt-get in ROOT, with /proc and DNS.
chroot_apt() {
	r=$1; shift
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	DEBIAN_FRONTEND=noninteractive unshare -m sh -c \
	    'mount -t proc proc "$0/proc" && exec chroot "$0" apt-get -q "$@"' \
	    "$r" "$@"
}

if [ ! -f "$dir/.complete" ]; then
	mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$mirror" ] || mirror=$(sed -n \
	    's/^deb  *\(http[^ ]*debian\)\/*  *bookworm .*/\1/p' \
	    /etc/apt/sources.list 2>/dev/null | head -n 1)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	command -v debootstrap >/dev/null ||
	    { echo "debroot: no debootstrap (make deps)" >&2; exit 1; }
	# Can the mirror be reached at all?  (Without a network: skip.)
	if ! perl -MIO::Socket::INET -e '
	    my ($h) = $ARGV[0] =~ m{^https?://([^/:]+)};
	    IO::Socket::INET->new(PeerAddr => $h, PeerPort => 80,
	        Timeout => 10) or exit 1' "$mirror"; then
		echo "debroot: cannot reach $mirror" >&2
		exit 3
	fi
	mkdir -p "$(dirname "$dir")"
	rm -rf "$dir.tmp"
	mkdir -p "$(dirname "$dir")"
	echo "debroot: debootstrap bookworm from $mirror into $dir (once)" >&2
	if ! debootstrap --variant=minbase bookworm "$dir.tmp" "$mirror" \
	    > "$dir.log" 2>&1 || ! chroot_apt "$dir.tmp" update >> "$dir.log" 2>&1
	then
		tail -n 20 "$dir.log" >&2
		grep -qE 'Failed getting release file|Couldn.t download|Temporary failure resolving|Could not resolve' \
		    "$dir.log" && exit 3
		exit 1
	fi
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	touch "$dir/.complete"
fi

if [ "$want" = systemd ] && [ ! -f "$dir-systemd/.complete" ]; then
	rm -rf "$dir-systemd.tmp"
	cp -a "$dir" "$dir-systemd.tmp"
	rm -f "$dir-systemd.tmp/.complete"
	echo "debroot: $dir-systemd: $dir with systemd (once)" >&2
	if ! chroot_apt "$dir-systemd.tmp" install -y --no-install-recommends \
	    systemd systemd-sysv > "$dir-systemd.log" 2>&1; then
		tail -n 20 "$dir-systemd.log" >&2
		grep -qE 'Temporary failure resolving|Could not resolve|Failed to fetch' \
		    "$dir-systemd.log" && exit 3
		exit 1
	fi
	rm -rf "$dir-systemd"
	mv "$dir-systemd.tmp" "$dir-systemd"
	touch "$dir-systemd/.complete"
fi
