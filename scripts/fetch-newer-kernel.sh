#!/usr/bin/env bash
# Fetch the newest linux-source-X.Y that Debian sid or trixie-backports carries, for the
# optional "newer" guest kernel (kernel features after 6.12: IOMMU_IOAS_MAP_FILE, the
# no-IOMMU cdev of 7.3, ...). Backports can be ahead of sid (7.3 there while sid has 7.2),
# so both are asked and the highest version wins. Neither suite enters the machine's apt
# configuration: a private apt state under the cache lists them alone and is used only to
# download the package (never to install from it), and the .deb is unpacked with
# dpkg-deb. Both suites move, so the name and version are looked up each time.
# Prints the path of the source tarball.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

C=$VFIOFD_CACHE/newer-kernel
check_cache_dir "$VFIOFD_CACHE"
mkdir -p "$C/apt/lists/partial" "$C/apt/cache/archives/partial" "$C/deb"
main=$(mirror_of bookworm | head -n 1)
[ -n "$main" ] || die "no apt source for bookworm found"
uri=${main%% *}; key=${main#* }; [ "$key" = "$uri" ] && key=/usr/share/keyrings/debian-archive-keyring.gpg
printf 'deb [signed-by=%s] %s %s main\n' "$key" "$uri" sid "$key" "$uri" trixie-backports \
	> "$C/apt/sources.list"
opts=(-o "Dir::Etc::SourceList=$C/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$C/apt/lists" -o "Dir::Cache=$C/apt/cache"
	-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null)

# Refresh the indexes at most once a day, or when the list of suites changed; a cached
# tarball is enough offline.
if ! cmp -s "$C/apt/sources.list" "$C/apt/sources.list.fetched" ||
   [ -z "$(find "$C/apt/lists" -name '*_Packages' -mtime -1 2>/dev/null)" ]; then
	if apt-get -qq "${opts[@]}" update; then
		cp "$C/apt/sources.list" "$C/apt/sources.list.fetched"
	else
		log "cannot refresh the sid/trixie-backports indexes; using what is cached"
	fi
fi
pkg=$(apt-cache "${opts[@]}" search --names-only '^linux-source-[0-9.]+$' 2>/dev/null |
	awk '{ print $1 }' | sort -V | tail -n 1)
[ -n "$pkg" ] || die "neither sid nor trixie-backports offers a linux-source-X.Y package"
# The highest version of that package over both suites (madison lists one line per
# suite; dpkg orders Debian versions, "~bpo" included).
ver=
while read -r v suite; do
	if [ -z "$ver" ] || dpkg --compare-versions "$v" gt "$ver"; then ver=$v; from=$suite; fi
done < <(apt-cache "${opts[@]}" madison "$pkg" |
	awk -F'|' '$3 ~ /Packages/ { gsub(/ /, "", $2); split($3, a, " "); print $2, a[2] }')
[ -n "$ver" ] || die "no version of $pkg found"
tarball=$C/src/$pkg-$ver/usr/src/$pkg.tar.xz
if [ ! -f "$tarball" ]; then
	log "downloading $pkg $ver from $from (download only, nothing is installed)"
	(cd "$C/deb" && rm -f ./*.deb && apt-get -qq "${opts[@]}" download "$pkg=$ver" 2>&1 | grep -v "unsandboxed" || true)
	rm -rf "$C/src/$pkg-$ver"
	mkdir -p "$C/src/$pkg-$ver"
	dpkg-deb -x "$C/deb/${pkg}_"*.deb "$C/src/$pkg-$ver"
	rm -f "$C/deb/"*.deb
fi
[ -f "$tarball" ] || die "$pkg $ver holds no $tarball"
echo "$tarball"
