#!/bin/sh
# chansim new NAME: the skeleton it writes runs and passes at once (exit 0,
# every expectation held), under other strategies and seeds too (explore),
# is listed by chansim list and found by name; an existing file is never
# replaced; a bad NAME is a usage error (exit 3).
# usage: new_test.sh CHANSIM
set -eu
chansim=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
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
status_is() { # status_is N COMMAND...
    want=$1
    shift
    set +e
    "$@" >/dev/null 2>&1
    got=$?
    set -e
    [ "$got" = "$want" ] || { echo "exit $got, want $want: $*"; return 1; }
}

check "chansim new my_lesson" "$chansim" new my_lesson
check "my_lesson.lua written" test -f my_lesson.lua
check "the skeleton passes at once" sh -c "'$chansim' run my_lesson.lua > run.txt; test \$? = 0"
check "with every expectation held" grep -q '^expectations: 3 passed, 0 failed' run.txt
check "named in its header" grep -q '^scenario:     my_lesson (my_lesson.lua)' run.txt
check "found by name" sh -c "'$chansim' run my_lesson --quiet | grep -q '^exit status:  0'"
check "its parameters take --set" sh -c "'$chansim' run my_lesson.lua --quiet --set workers=7 --set jobs=25 | grep -q '^expectations: 3 passed, 0 failed'"
check "passes under other schedules" "$chansim" explore my_lesson.lua --runs 40 --strategy random
check "passes under pct" "$chansim" explore my_lesson.lua --runs 40 --strategy pct:3
check "listed by chansim list" sh -c "'$chansim' list . | grep -q '^./my_lesson.lua  *my_lesson'"
cp my_lesson.lua before.lua
check "an existing file is not replaced (exit 3)" status_is 3 "$chansim" new my_lesson
check "and is left as it was" cmp my_lesson.lua before.lua
mkdir sub
check "chansim new PATH.lua" "$chansim" new sub/other.lua
check "PATH.lua passes" sh -c "'$chansim' run sub/other.lua --quiet | grep -q '^scenario:     other (sub/other.lua)'"
check "a NAME with a space is a usage error" status_is 3 "$chansim" new "two words"
check "a NAME with a slash but no .lua is a usage error" status_is 3 "$chansim" new sub/x
check "no NAME is a usage error" status_is 3 "$chansim" new
check "an unknown option is a usage error" status_is 3 "$chansim" new --force x
check "new --help" status_is 0 "$chansim" new --help
echo "$ok passed, $fail failed"
[ $fail = 0 ]
