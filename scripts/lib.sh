# Shared helpers for the vfiofd setup and test-bed scripts. Sourced, never run.
# Every script uses Debian's own tools first: a pyenv or /usr/local python must not
# shadow the one that Debian's meson and python3-pyelftools belong to.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

VFIOFD_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# All build products shared across checkouts live here. EAL refuses to load plugins
# from a world-writable path, so the cache must not be (nor any of its parents).
VFIOFD_CACHE=${VFIOFD_CACHE:-/var/cache/vfiofd}
KERNEL_VERSION_SERIES=6.12

# ---- DPDK releases ----
# vfiofd builds against every DPDK LTS whose source is at hand, each cached in
# $VFIOFD_CACHE/dpdk-<series>:
#   22.11  Debian bookworm's source package (always: the package mirror serves it)
#   24.11, 25.11  release tarballs dpdk-<version>.tar.xz in VFIOFD_DPDK_TARBALLS
#          (default: ../shared/dpdk next to the checkout, see tarball_dir), checked
#          against the SHA256SUMS file there
#   VFIOFD_DPDK_SRC=<tarball or source directory>: a user's own DPDK; it takes the
#          place of the known source of its series and is the default.
# VFIOFD_DPDK=<series> selects the one `make run` and the full test suite use;
# default: the newest present. The others get the test matrix (scripts/run-tests.sh).
DPDK_SERIES_KNOWN="22.11 24.11 25.11"
# ../shared/dpdk next to the checkout; for a clone of a local checkout made elsewhere
# (git clone /work/main /var/tmp/x), next to the checkout it was cloned from
tarball_dir() {
	local origin
	if [ -d "$VFIOFD_TOP/../shared/dpdk" ]; then
		(cd "$VFIOFD_TOP/../shared/dpdk" && pwd)
		return 0
	fi
	origin=$(git -C "$VFIOFD_TOP" config --get remote.origin.url 2> /dev/null || true)
	if [ -n "$origin" ] && [ -d "${origin#file://}/../shared/dpdk" ]; then
		(cd "${origin#file://}/../shared/dpdk" && pwd)
		return 0
	fi
	echo "$VFIOFD_TOP/../shared/dpdk"
}
VFIOFD_DPDK_TARBALLS=${VFIOFD_DPDK_TARBALLS:-$(tarball_dir)}

# The "YY.MM" series of a DPDK version string "YY.MM[.P][-rcN]".
dpdk_series_of() { echo "$1" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/'; }

# The version of the user's VFIOFD_DPDK_SRC (from its VERSION file), or nothing.
dpdk_user_version() {
	local s=${VFIOFD_DPDK_SRC:-}
	[ -n "$s" ] || return 0
	if [ -d "$s" ]; then
		cat "$s/VERSION" 2> /dev/null
	elif [ -f "$s" ]; then
		tar -xOf "$s" --wildcards '*/VERSION' 2> /dev/null | head -n 1
	fi
}

# Where the source of series $1 comes from: "user <path>", "tarball <path>",
# "debian <series>", or nothing if it is not at hand.
dpdk_source() {
	local series=$1 uv t
	uv=$(dpdk_user_version)
	if [ -n "$uv" ] && [ "$(dpdk_series_of "$uv")" = "$series" ]; then
		echo "user $VFIOFD_DPDK_SRC"
		return 0
	fi
	t=$(ls "$VFIOFD_DPDK_TARBALLS"/dpdk-"$series".*.tar.xz 2> /dev/null | sort -V | tail -n 1)
	if [ -n "$t" ]; then
		echo "tarball $t"
	elif [ "$series" = 22.11 ]; then
		echo "debian 22.11"
	fi
}

# The series whose source is at hand, oldest first.
dpdk_available() {
	local s out= uv
	for s in $DPDK_SERIES_KNOWN; do
		[ -n "$(dpdk_source "$s")" ] && out+=" $s"
	done
	uv=$(dpdk_user_version)
	if [ -n "$uv" ] && [[ " $out " != *" $(dpdk_series_of "$uv") "* ]]; then
		out+=" $(dpdk_series_of "$uv")"
	fi
	echo "$out" | tr ' ' '\n' | sed '/^$/d' | sort -V | tr '\n' ' ' | sed 's/ $//'
}

# The series make run and the full suite use.
dpdk_default() {
	local uv
	if [ -n "${VFIOFD_DPDK:-}" ]; then
		echo "$VFIOFD_DPDK"
		return 0
	fi
	uv=$(dpdk_user_version)
	if [ -n "$uv" ]; then
		dpdk_series_of "$uv"
		return 0
	fi
	dpdk_available | tr ' ' '\n' | tail -n 1
}

# The cache directory, install prefix and vfiofd build directory of series $1. The
# default series builds in build/, the others in build-<series>/.
dpdk_dir() { echo "$VFIOFD_CACHE/dpdk-$1"; }
dpdk_prefix() { echo "$VFIOFD_CACHE/dpdk-$1/install"; }
build_dir_of() {
	if [ "$1" = "$(dpdk_default)" ]; then
		echo "$VFIOFD_TOP/build"
	else
		echo "$VFIOFD_TOP/build-$1"
	fi
}

# The vfiofd build this process works with (VFIOFD_BUILD, default build/: the test bed
# passes it on to the guest) and the DPDK it was configured against (recorded by
# scripts/configure.sh in <build>/dpdk-series).
VFIOFD_BUILD=${VFIOFD_BUILD:-$VFIOFD_TOP/build}
if [ -f "$VFIOFD_BUILD/dpdk-series" ]; then
	read -r DPDK_SERIES < "$VFIOFD_BUILD/dpdk-series"
else
	DPDK_SERIES=$(dpdk_default)
fi
DPDK_PREFIX=$(dpdk_prefix "$DPDK_SERIES")
export VFIOFD_BUILD
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
