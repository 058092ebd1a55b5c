# Source this first in a test that must run in a private network namespace
# (unshare --net): it re-runs the test inside one, or skips it where that
# is impossible (not root, no namespaces).  Rules the test adds there (tc,
# addresses) affect nothing outside it, and vanish with it.
if [ -z "${WARREN_IN_NETNS:-}" ]; then
	if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
		WARREN_IN_NETNS=1 exec unshare --net sh "$0" "$@"
	fi
	echo "1..0 # SKIP needs root and network namespaces (unshare --net)"
	exit 0
fi
