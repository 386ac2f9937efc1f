#!/bin/sh
# chansim installed like a tool: `cmake --install` into a fresh prefix, then
# the installed copy works from another folder (list, run NAME), the manual
# page names every command and flag that --help lists and renders without
# warnings, bash completion completes them and the scenario names, and the
# docs/examples programs build against the installed libchansim-core through
# pkg-config and print what the in-tree build prints.
# usage: install_test.sh SOURCE_DIR BUILD_DIR IN_TREE_SIEVE [EXTRA_CFLAGS]
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
sieve=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
extra=${4:-}
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

prefix="$tmp/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
bin="$prefix/bin/chansim"
share="$prefix/share/chansim"
for f in bin/chansim share/man/man1/chansim.1 share/bash-completion/completions/chansim \
         share/chansim/lua/prelude.lua share/chansim/scenarios/hello.lua share/chansim/docs/README.md \
         share/chansim/docs/lua-api.md share/chansim/docs/types/sim.lua \
         lib/libchansim-core.a lib/pkgconfig/chansim-core.pc include/chansim/chan.h include/chansim/sched.h \
         lib/chansim/chansim-view.so; do
    check "installed $f" test -f "$prefix/$f"
done
check "coro.h stays internal" test ! -e "$prefix/include/chansim/coro.h"

# The installed copy, away from the source tree and the build.
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
check "installed chansim list names the installed scenarios" sh -c \
    "'$bin' list | grep -q '^$share/scenarios/hello.lua '"
check "installed chansim run NAME" sh -c "'$bin' run hello --quiet > run.txt && grep -q '($share/scenarios/hello.lua)' run.txt"
check "installed chansim run NAME.lua" sh -c "'$bin' run deadlock.lua --quiet; test \$? = 2"
check "an unknown NAME is reported as a missing file" sh -c \
    "'$bin' run no_such_scenario 2>err.txt; test \$? = 3 && grep -q '^no_such_scenario:1: cannot open the scenario' err.txt"
check "installed run loads the installed Lua library" sh -c "'$bin' run graceful_shutdown --quiet >/dev/null"
check "installed chansim --record opens the installed view module" sh -c \
    "'$bin' run hello --quiet --record frames --fps 2 >/dev/null && test -f frames/frame_000001.png"
check "a run without the view loads no SDL" sh -c "! ldd '$bin' | grep -q SDL"
# The prelude is built into chansim, and used only while the file is the
# text it was built from: an installed prelude edited since is read.
printf 'scenario{ name = "edited" }\nsim.expect(sim.edited_prelude == true, "the edited prelude ran")\n' >edited.lua
check "the built-in prelude: the installed one unedited" sh -c "'$bin' run edited.lua --quiet; test \$? = 1"
printf '\nsim.edited_prelude = true\n' >>"$share/lua/prelude.lua"
check "an installed prelude edited after the build is the one that runs" "$bin" run edited.lua --quiet

# The manual page: every command of `chansim --help` and every option of each
# command's --help, rendered by groff without warnings.
man="$prefix/share/man/man1/chansim.1"
cmds=$("$bin" --help | sed -n 's/^  chansim \([a-z][a-z]*\) .*/\1/p')
check "chansim --help lists commands" test -n "$cmds"
for c in $cmds; do
    check "the manual page describes the command $c" grep -q "^\.B $c\$" "$man"
    for o in $("$bin" "$c" --help | grep -oE -- '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]*//' | sort -u); do
        esc=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
        check "the manual page describes $c $o" grep -q -- "$esc" "$man"
    done
done
check "the manual page renders without warnings" sh -c \
    "groff -man -Tutf8 -ww -z '$man' 2>&1 | (! grep .)"
check "the manual page has its sections" sh -c \
    "for s in NAME SYNOPSIS DESCRIPTION COMMANDS 'EXIT STATUS' ENVIRONMENT FILES EXAMPLES; do grep -q \"^\\.SH \$s\" '$man' || exit 1; done"

# Bash completion, as bash would call it.
comp="$prefix/share/bash-completion/completions/chansim"
complete_words() { # complete_words WORD... : the completions of the last word
    PATH="$prefix/bin:$PATH" bash -c '
        . "$0"
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _chansim
        printf "%s\n" "${COMPREPLY[@]}"' "$comp" "$@"
}
complete_words chansim r >"$tmp/c1"
check "completion of commands" grep -qx run "$tmp/c1"
complete_words chansim run -- >"$tmp/c2"
for o in $("$bin" run --help | grep -oE -- '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]*//' | sort -u); do
    check "completion of run $o" grep -qx -- "$o" "$tmp/c2"
done
complete_words chansim run hel >"$tmp/c3"
check "completion of installed scenario names" grep -qx hello "$tmp/c3"
complete_words chansim run --strategy p >"$tmp/c4"
check "completion of --strategy values" grep -qx pct:3 "$tmp/c4"

# The C library through pkg-config: every docs/examples program builds against
# the installed copy (not the source tree); the sieve prints what the in-tree
# build prints.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "pkg-config knows chansim-core" pkg-config --exists chansim-core
cflags=$(pkg-config --cflags chansim-core)
libs=$(pkg-config --libs chansim-core)
check "pkg-config points into the prefix" sh -c "echo '$cflags $libs' | grep -q '$prefix'"
for ex in "$src"/docs/examples/*.c; do
    name=$(basename "$ex" .c)
    cp "$ex" "$tmp/$name.c" # away from core/'s headers
    # shellcheck disable=SC2086
    check "docs/examples/$name.c builds against the installed library" \
        cc -std=c11 -Wall -Wextra -Werror $extra $cflags "$tmp/$name.c" -o "$tmp/$name" $libs
    check "docs/examples/$name runs" sh -c "'$tmp/$name' > '$tmp/$name.out'"
done
check "the installed sieve prints what the in-tree sieve prints" sh -c "'$sieve' | cmp - '$tmp/sieve.out'"

echo "$ok passed, $fail failed"
[ $fail = 0 ]
