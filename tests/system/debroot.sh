#!/bin/sh
# debroot.sh DIR: make DIR a minimal Debian 12 (bookworm) root with
# debootstrap, from the Debian mirror this machine's apt uses, once: a DIR
# that is already complete (DIR/.complete) is kept.  22-deb.t copies it
# for each run, so every install starts from a clean root.
# Exit 0: DIR is ready; 3: the mirror cannot be reached (the caller
# skips); anything else: a real failure.
set -eu
dir=$1
[ -f "$dir/.complete" ] && exit 0
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n \
    's/^deb  *\(http[^ ]*debian\)\/*  *bookworm .*/\1/p' \
    /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
command -v debootstrap >/dev/null || { echo "debroot: no debootstrap" >&2; exit 1; }
# Can the mirror be reached at all?  (A machine without network skips.)
if ! perl -MIO::Socket::INET -e '
    my ($h) = $ARGV[0] =~ m{^https?://([^/:]+)};
    IO::Socket::INET->new(PeerAddr => $h, PeerPort => 80, Timeout => 10)
        or exit 1' "$mirror"; then
	echo "debroot: cannot reach $mirror" >&2
	exit 3
fi
rm -rf "$dir.tmp"
mkdir -p "$(dirname "$dir")"
echo "debroot: debootstrap bookworm from $mirror into $dir (once; slow)" >&2
if ! debootstrap --variant=minbase bookworm "$dir.tmp" "$mirror" \
    > "$dir.log" 2>&1; then
	tail -n 20 "$dir.log" >&2
	if grep -qE 'Failed getting release file|Couldn.t download|Temporary failure resolving' "$dir.log"; then
		exit 3
	fi
	exit 1
fi
rm -rf "$dir"
mv "$dir.tmp" "$dir"
touch "$dir/.complete"
