# Shared helpers for the vfiofd setup and test-bed scripts. Sourced, never run.
# Every script uses Debian's own tools first: a pyenv or /usr/local python must not
# shadow the one that Debian's meson and python3-pyelftools belong to.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

VFIOFD_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# All build products shared across checkouts live here. EAL refuses to load plugins
# from a world-writable path, so the cache must not be (nor any of its parents).
VFIOFD_CACHE=${VFIOFD_CACHE:-/var/cache/vfiofd}
DPDK_PREFIX=$VFIOFD_CACHE/dpdk/install
KERNEL_VERSION_SERIES=6.12

log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Refuse a cache path that any user could write into (directly or via a parent).
check_cache_dir() {
	local d=$1
	mkdir -p "$d" && chmod 0755 "$d" || die "cannot create cache directory $d"
	while [ "$d" != / ]; do
		local mode
		mode=$(stat -c %a "$d")
		# sticky /tmp-style directories are still world-writable for our purpose
		if [ $(( 0$mode & 02 )) -ne 0 ]; then
			die "cache path component $d is world-writable (mode $mode); set VFIOFD_CACHE to a root-owned 0755 directory such as /var/cache/vfiofd"
		fi
		d=$(dirname "$d")
	done
}

# Time a named step; the summary is printed by the caller via step_report.
STEP_LOG=${STEP_LOG:-}
step() {
	local name=$1; shift
	local t0 t1
	t0=$(date +%s.%N)
	"$@" || die "step '$name' failed"
	t1=$(date +%s.%N)
	local dt
	dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	log "step $name: ${dt}s"
	[ -n "$STEP_LOG" ] && echo "STEP $name ${dt}s" >> "$STEP_LOG"
	return 0
}

# The mirror and keyring of the machine's own bookworm source: we never name a host.
mirror_of() { # $1 = suite to look for
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$1" '
			/^$/ { if (hit && uri != "") { print uri " " key; exit } hit = 0; uri = ""; key = "" }
			/^Types:/ && $0 ~ / deb( |$)/ { deb = 1 }
			/^URIs:/ { uri = $2 }
			/^Signed-By:/ { key = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
			END { if (hit && uri != "") print uri " " key }' "$f"
	done | head -n 1
	if [ -f /etc/apt/sources.list ]; then
		awk -v suite="$1" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list
	fi
}
