#!/usr/bin/env bash
# Fetch the newest linux-source-X.Y that Debian sid carries, for the optional "newer"
# guest kernel (kernel features after 6.12: IOMMU_IOAS_MAP_FILE, ...). sid never enters
# the machine's apt configuration: a private apt state under the cache lists sid alone
# and is used only to download the package (never to install from it), and the .deb is
# unpacked with dpkg-deb. sid moves, so the name and version are looked up each time.
# Prints the path of the source tarball.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

C=$VFIOFD_CACHE/newer-kernel
check_cache_dir "$VFIOFD_CACHE"
mkdir -p "$C/apt/lists/partial" "$C/apt/cache/archives/partial" "$C/deb"
main=$(mirror_of bookworm | head -n 1)
[ -n "$main" ] || die "no apt source for bookworm found"
uri=${main%% *}; key=${main#* }; [ "$key" = "$uri" ] && key=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$key] $uri sid main" > "$C/apt/sources.list"
opts=(-o "Dir::Etc::SourceList=$C/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$C/apt/lists" -o "Dir::Cache=$C/apt/cache"
	-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null)

# Refresh the sid index at most once a day; a cached tarball is enough offline.
if [ -z "$(find "$C/apt/lists" -name '*_Packages' -mtime -1 2>/dev/null)" ]; then
	apt-get -qq "${opts[@]}" update || log "cannot refresh the sid index; using what is cached"
fi
pkg=$(apt-cache "${opts[@]}" search --names-only '^linux-source-[0-9.]+$' 2>/dev/null |
	awk '{ print $1 }' | sort -V | tail -n 1)
[ -n "$pkg" ] || die "sid offers no linux-source-X.Y package"
ver=$(apt-cache "${opts[@]}" madison "$pkg" | awk -F'|' '{ gsub(/ /, "", $2); print $2; exit }')
tarball=$C/src/$pkg-$ver/usr/src/$pkg.tar.xz
if [ ! -f "$tarball" ]; then
	log "downloading $pkg $ver from sid (download only, nothing is installed)"
	(cd "$C/deb" && rm -f ./*.deb && apt-get -qq "${opts[@]}" download "$pkg=$ver" 2>&1 | grep -v "unsandboxed" || true)
	rm -rf "$C/src/$pkg-$ver"
	mkdir -p "$C/src/$pkg-$ver"
	dpkg-deb -x "$C/deb/${pkg}_"*.deb "$C/src/$pkg-$ver"
	rm -f "$C/deb/"*.deb
fi
[ -f "$tarball" ] || die "$pkg $ver holds no $tarball"
echo "$tarball"
