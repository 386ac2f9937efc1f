#!/bin/sh
# cpack -G DEB builds the two Debian packages: chansim (the command, with the
# Debian dependencies dpkg-shlibdeps finds: SDL2, SDL2_ttf, the Lua 5.4
# runtime, zlib, libc; and the view's font) and libchansim-core-dev. The
# test inspects them with dpkg-deb -I and -c, then unpacks chansim into an
# empty root and runs the command from there (it finds its own scenarios and
# Lua library under the root's usr/share/chansim).
# usage: package_test.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok=0
check() { # check DESCRIPTION COMMAND...
    what=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        ok=$((ok + 1))
    else
        echo "FAIL: $what"
        sed 's/^/    /' "$tmp/out" | head -20
        fail=$((fail + 1))
    fi
}

(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg") >"$tmp/cpack.log" 2>&1 ||
    { cat "$tmp/cpack.log"; echo "FAIL: cpack -G DEB"; exit 1; }
deb=$(ls "$tmp"/pkg/chansim_*.deb)
dev=$(ls "$tmp"/pkg/libchansim-core-dev_*.deb)
echo "built $(basename "$deb") $(basename "$dev")"

dpkg-deb -I "$deb" >"$tmp/info"
dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/files"
dpkg-deb -I "$dev" >"$tmp/devinfo"
dpkg-deb -c "$dev" | awk '{print $6}' >"$tmp/devfiles"
sed 's/^/    /' "$tmp/info"

field() { sed -n "s/^ $2: //p" "$1"; }
check "Package: chansim" test "$(field "$tmp/info" Package)" = chansim
check "Architecture is dpkg's" test "$(field "$tmp/info" Architecture)" = "$(dpkg --print-architecture)"
check "a description" test -n "$(field "$tmp/info" Description)"
depends=$(field "$tmp/info" Depends)
# Lua is linked in (scripts/CMakeLists.txt) where its archive is installed, so liblua5.4-0 may be absent.
for d in libc6 libsdl2-2.0-0 libsdl2-ttf-2.0-0 zlib1g fonts-dejavu-core; do
    check "Depends on $d" sh -c "echo '$depends' | tr ',' '\n' | grep -q '^ *$d\\( \\|\$\\)'"
done
for f in ./usr/bin/chansim ./usr/share/man/man1/chansim.1 ./usr/share/bash-completion/completions/chansim \
         ./usr/share/chansim/lua/prelude.lua ./usr/share/chansim/scenarios/hello.lua \
         ./usr/share/chansim/docs/README.md; do
    check "chansim ships $f" grep -qx "$f" "$tmp/files"
done
check "chansim ships no C library" sh -c "! grep -q 'libchansim-core\\|/include/' '$tmp/files'"

check "Package: libchansim-core-dev" test "$(field "$tmp/devinfo" Package)" = libchansim-core-dev
check "libchansim-core-dev Section: libdevel" test "$(field "$tmp/devinfo" Section)" = libdevel
for f in ./usr/lib/libchansim-core.a ./usr/lib/pkgconfig/chansim-core.pc ./usr/include/chansim/sched.h \
         ./usr/include/chansim/chan.h; do
    check "libchansim-core-dev ships $f" grep -qx "$f" "$tmp/devfiles"
done

# The package's files, unpacked into an empty root, work from there.
dpkg-deb -x "$deb" "$tmp/root"
cd "$tmp"
check "the packaged chansim lists its scenarios" sh -c \
    "'$tmp/root/usr/bin/chansim' list | grep -q '/usr/share/chansim/scenarios/hello.lua '"
check "the packaged chansim runs a scenario by name" sh -c \
    "'$tmp/root/usr/bin/chansim' run hello --quiet | grep -q '^exit status:  0'"

echo "$ok passed, $fail failed"
[ $fail = 0 ]
