#!/usr/bin/env bash
# Part of `make test`: checks what `make deb` and `make dist` built as a user
# gets it. Installs the .deb into this machine with dpkg -i (so it needs root),
# runs pfutures from /usr/bin and `man pfutures`, proves no shared library or
# NSS module is opened, removes it with dpkg -r and checks nothing is left.
# It never skips: a missing part is a failure that says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${PACKAGE_DIR:-dist}
checks=0
fail() { echo "package test: FAILED: $*" >&2; exit 1; }
pass() { checks=$((checks + 1)); }

[ "$(id -u)" = 0 ] || fail "dpkg -i needs root; run make test as root (CI does)"
for tool in dpkg dpkg-deb lintian man strace sha256sum; do
    command -v "$tool" >/dev/null || fail "$tool is missing; run make deps"
done
if dpkg-query -W -f='${db:Status-Status}' pfutures 2>/dev/null | grep -qx installed; then
    fail "a pfutures package is already installed here; remove it (dpkg -r pfutures) to run this test"
fi

version=$(.build/release/pfutures --version | sed -n 's/^pfutures //p')
arch=$(dpkg --print-architecture)
deb=$out/pfutures_${version}_$arch.deb
[ -f "$deb" ] || fail "no $deb; make deb builds it"

work=$(mktemp -d)
installed=no
cleanup() {
    [ $installed = yes ] && dpkg -r pfutures >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

lintian --fail-on error,warning "$deb" > "$work/lintian" 2>&1 || { cat "$work/lintian" >&2; fail "lintian"; }
pass

# What the package holds: exactly these files.
expected="./usr/bin/pfutures
./usr/share/bash-completion/completions/pfutures
./usr/share/doc/pfutures/changelog.gz
./usr/share/doc/pfutures/copyright
./usr/share/fish/vendor_completions.d/pfutures.fish
./usr/share/lintian/overrides/pfutures
./usr/share/man/man1/pfutures.1.gz
./usr/share/zsh/vendor-completions/_pfutures"
files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | LC_ALL=C sort)
[ "$files" = "$expected" ] || fail "the package holds other files than expected:
$files"
pass
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version is not $version"
pass

# Docker images exclude man pages from dpkg; ask for ours explicitly.
dpkg -i --path-include=/usr/share/man/man1/pfutures.1.gz "$deb" > "$work/dpkg" 2>&1 ||
    { cat "$work/dpkg" >&2; fail "dpkg -i $deb"; }
installed=yes
pass

pf=/usr/bin/pfutures
[ "$(PATH=/usr/bin:/bin command -v pfutures)" = $pf ] || fail "pfutures is not found on PATH at $pf"
[ "$($pf --version)" = "pfutures $version" ] || fail "$pf --version is not 'pfutures $version'"
pass
ldd $pf > "$work/ldd" 2>&1 || true
grep -q 'not a dynamic executable' "$work/ldd" || fail "$pf is dynamically linked: $(cat "$work/ldd")"
pass
[ "$(seq 5 | PATH=/usr/bin:/bin pfutures run -k -j3 echo job)" = "$(printf 'job %s\n' 1 2 3 4 5)" ] ||
    fail "seq 5 | pfutures run -k -j3 echo job"
pass
[ "$(man -w pfutures)" = /usr/share/man/man1/pfutures.1.gz ] || fail "man -w pfutures: $(man -w pfutures 2>&1)"
MANPAGER=cat man pfutures 2>/dev/null | grep -q 'pfutures run' || fail "man pfutures shows no page"
pass
bash -c '. /usr/share/bash-completion/completions/pfutures && complete -p pfutures' >/dev/null ||
    fail "the bash completion does not register for pfutures"
pass

# Nothing on pfutures' own paths may load a shared object or consult NSS:
# a static glibc would need the build machine's copies at run time. The jobs
# are pfutures itself (static too), so every open in the trace is ours.
printf 'a\tb\n' > "$work/pairs"
echo data > "$work/a"
trace() {
    rm -f "$work/trace"
    strace -f -qq -e trace=open,openat -o "$work/trace" "$@" > /dev/null 2>&1 || fail "$* failed under strace"
    # A trace that saw nothing proves nothing: every run opens something.
    grep -q 'open' "$work/trace" 2>/dev/null || fail "strace recorded nothing for $*"
    if grep -E '\.so(\.[0-9]+)*"|nsswitch\.conf|/etc/(passwd|group|hosts)"' "$work/trace" | grep -v ENOENT; then
        fail "$* opened a shared object or an NSS file (above)"; fi
    if grep -E '\.so(\.[0-9]+)*"|nsswitch\.conf' "$work/trace" | grep -q .; then
        fail "$* looked for a shared object or nsswitch.conf"; fi
    pass
}
seq 3 | trace $pf run -j2 --joblog "$work/log" --tag $pf --version
grep -q "openat(AT_FDCWD, \"$work/log\"" "$work/trace" || fail "the trace does not show the job log being opened"
seq 3 | trace $pf run --pool process -j2 -k $pf --version
seq 3 | trace $pf run --pipe -N1 $pf --version
(cd "$work" && trace $pf copy < pairs) && cmp -s "$work/a" "$work/b" || fail "pfutures copy under strace"
trace $pf run --help

dpkg -r pfutures > "$work/dpkg" 2>&1 || { cat "$work/dpkg" >&2; fail "dpkg -r pfutures"; }
installed=no
pass
status=$(dpkg-query -W -f='${db:Status-Status}' pfutures 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] || fail "after dpkg -r the package is '$status'"
for f in $files; do [ ! -e "${f#.}" ] || fail "dpkg -r left ${f#.} behind"; done
[ ! -e /usr/share/doc/pfutures ] || fail "dpkg -r left /usr/share/doc/pfutures behind"
pass

# The tarball: its checksum file verifies it, and it unpacks into a prefix.
name=pfutures-$version-linux-$(uname -m)
[ -f "$out/$name.tar.gz" ] || fail "no $out/$name.tar.gz; make dist builds it"
(cd "$out" && sha256sum --quiet -c "$name.tar.gz.sha256") || fail "sha256sum -c $name.tar.gz.sha256"
pass
mkdir "$work/prefix"
tar -C "$work/prefix" --strip-components=1 -xzf "$out/$name.tar.gz"
for f in bin/pfutures share/man/man1/pfutures.1 share/bash-completion/completions/pfutures \
         share/zsh/site-functions/_pfutures share/fish/vendor_completions.d/pfutures.fish \
         share/doc/pfutures/LICENSE; do
    [ -f "$work/prefix/$f" ] || fail "the tarball has no $f"
done
[ "$("$work/prefix/bin/pfutures" --version)" = "pfutures $version" ] || fail "the tarball's binary is not $version"
[ "$(printf 'x\0y\0' | "$work/prefix/bin/pfutures" run -0 -k echo)" = "$(printf 'x\ny')" ] ||
    fail "the tarball's binary does not run jobs"
pass

echo "package test: $checks checks passed ($deb, $out/$name.tar.gz)"
