#!/bin/sh
# explore spread over GNU parallel with --shard I/N makes exactly the runs
# of one explore: the same seeds, each with the same exit status and trace
# hash, none twice (docs/scale.md, "Across machines").
# Usage: shard_test.sh CHANSIM SOURCE_DIR
set -eu
chansim=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scenario="$root/scenarios/worker_pool.lua"
args="--runs 24 --strategy random --jobs 1"

# seed, exit and hash of every run line, sorted by seed.
runs() {
    python3 -c '
import json, sys
rows = []
for line in sys.stdin:
    if line.startswith("{"):
        r = json.loads(line)
        rows.append((r["seed"], r["exit"], r["hash"]))
for r in sorted(rows):
    print(*r)
'
}

# shellcheck disable=SC2086
"$chansim" explore "$scenario" $args 2>/dev/null | runs >"$tmp/whole" || true
# shellcheck disable=SC2086
parallel --will-cite --jobs 2 "$chansim" explore "$scenario" $args --shard {}/3 \
    ::: 0 1 2 2>/dev/null | runs >"$tmp/sharded" || true

n=$(wc -l <"$tmp/whole")
if [ "$n" -ne 24 ]; then
    echo "FAIL: the whole explore reported $n runs, want 24"
    exit 1
fi
if ! cmp -s "$tmp/whole" "$tmp/sharded"; then
    echo "FAIL: three shards under GNU parallel differ from one explore:"
    diff "$tmp/whole" "$tmp/sharded" || true
    exit 1
fi
echo "ok: 3 shards under GNU parallel made the 24 runs of one explore, same exits and hashes"
