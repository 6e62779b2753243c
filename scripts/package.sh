#!/usr/bin/env bash
# make deb / make dist: packages the fully static binary that `make` built.
#   scripts/package.sh deb  BINARY   -> dist/pfutures_VERSION_ARCH.deb
#   scripts/package.sh dist BINARY   -> dist/pfutures-VERSION-linux-MACHINE.tar.gz (+ .sha256)
# The version is the one `BINARY --version` prints (the option table's); the
# Debian changelog and the man page must name the same one, or this fails.
# Only Debian's own tools are used (dpkg-deb, gzip, tar): no network.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "package: $*" >&2; exit 1; }

kind=${1:-}
binary=${2:-.build/release/pfutures}
out=${PACKAGE_DIR:-dist}
[ "$kind" = deb ] || [ "$kind" = dist ] || die "usage: scripts/package.sh deb|dist [BINARY]"
[ -x "$binary" ] || die "no built binary at $binary; run make first"
# A package must not need the build machine's libraries.
file -b "$binary" | grep -q 'statically linked' || die "$binary is not statically linked"

version=$("$binary" --version | sed -n 's/^pfutures \([^ ]*\)$/\1/p')
[ -n "$version" ] || die "$binary --version does not print 'pfutures VERSION'"
changelog_version=$(sed -n '1s/^pfutures (\([^)]*\)).*/\1/p' packaging/changelog)
[ "$changelog_version" = "$version" ] ||
    die "packaging/changelog starts at $changelog_version but the binary is $version; add a changelog entry"
man_version=$(sed -n '1s/^\.TH [^"]*"[^"]*" "pfutures \([^"]*\)".*/\1/p' man/pfutures.1)
[ "$man_version" = "$version" ] || die "man/pfutures.1 says version $man_version but the binary is $version"

# Every file gets the changelog's date, so the same source packs to the same bytes.
SOURCE_DATE_EPOCH=$(date -d "$(sed -n 's/^ -- .*>  //p' packaging/changelog | head -1)" +%s)
export SOURCE_DATE_EPOCH
umask 022
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"

# place DIR: the binary, man page, completions and docs under DIR (a prefix).
place() {
    local root=$1 zsh_dir=$2
    install -D -m 755 "$binary" "$root/bin/pfutures"
    # The symbol table is for debugging the build; the package needs none of it.
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/bin/pfutures"
    install -D -m 644 completions/pfutures.bash "$root/share/bash-completion/completions/pfutures"
    install -D -m 644 completions/_pfutures "$root/share/zsh/$zsh_dir/_pfutures"
    install -D -m 644 completions/pfutures.fish "$root/share/fish/vendor_completions.d/pfutures.fish"
    install -d -m 755 "$root/share/man/man1" "$root/share/doc/pfutures"
}

stamp() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

case $kind in
deb)
    arch=$(dpkg --print-architecture)
    root=$stage/pfutures_${version}_$arch
    place "$root/usr" vendor-completions
    gzip -9n < man/pfutures.1 > "$root/usr/share/man/man1/pfutures.1.gz"
    install -m 644 packaging/copyright "$root/usr/share/doc/pfutures/copyright"
    # A native package keeps its Debian changelog as changelog.gz.
    gzip -9n < packaging/changelog > "$root/usr/share/doc/pfutures/changelog.gz"
    install -D -m 644 packaging/lintian-overrides "$root/usr/share/lintian/overrides/pfutures"
    chmod 644 "$root"/usr/share/man/man1/pfutures.1.gz "$root"/usr/share/doc/pfutures/changelog.gz
    mkdir -p "$root/DEBIAN"
    size=$(du -s -k "$root/usr" | cut -f1)
    sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s/@ARCH@/$arch/" packaging/control.in \
        > "$root/DEBIAN/control"
    (cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
    chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
    stamp "$root"
    deb=$out/pfutures_${version}_$arch.deb
    dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
    echo "built $deb"
    ;;
dist)
    name=pfutures-$version-linux-$(uname -m)
    root=$stage/$name
    # The tree mirrors a prefix: `tar -C /usr/local --strip-components=1 -xzf` installs it.
    place "$root" site-functions
    install -m 644 man/pfutures.1 "$root/share/man/man1/pfutures.1"
    install -m 644 README.md LICENSE "$root/share/doc/pfutures/"
    stamp "$root"
    tarball=$out/$name.tar.gz
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
        -C "$stage" -cf - "$name" | gzip -9n > "$tarball"
    (cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
    echo "built $tarball and $tarball.sha256"
    ;;
esac
