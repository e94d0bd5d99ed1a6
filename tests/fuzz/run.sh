#!/bin/sh
# Runs libFuzzer harnesses one after the other, each for a given time.
# New inputs go to BUILD/fuzz/corpus/NAME so the committed seeds stay as
# written; an input that breaks an invariant is left in BUILD/fuzz/crashes.
# Usage: tests/fuzz/run.sh BUILD SECONDS NAME...
set -eu

build=$1
seconds=$2
shift 2

failed=""
for name in "$@"; do
	corpus="$build/fuzz/corpus/$name"
	log="$build/fuzz/$name.log"
	mkdir -p "$corpus" "$build/fuzz/crashes"
	echo "== fuzz_$name for ${seconds}s (log: $log)"
	if "$build/fuzz/fuzz_$name" -max_total_time="$seconds" \
		-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$build/fuzz/crashes/$name-" \
		"$corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
		grep -E '^#[0-9]+[[:space:]]+DONE' "$log" || true
		grep -E '^stat::number_of_executed_units' "$log" || true
	else
		tail -n 40 "$log"
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzzing broke:$failed" >&2
	exit 1
fi
