# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The OTLP export layer driven without BPF (tests/otlp/otlp_driver), for
# the tests that check it against a receiver: loaded after helpers.bash,
# whose expect_accounted it replaces with the driver's own counters.

setup() {
	e2e_setup
	DRIVER="$ROOT/build/tests/otlp/otlp_driver"
	STATS="$BATS_TEST_TMPDIR/stats.json"
}

run_driver() {
	"$DRIVER" "$@" >"$STATS" 2>"$BATS_TEST_TMPDIR/driver.log" || {
		cat "$BATS_TEST_TMPDIR/driver.log" >&2
		return 1
	}
}

# The value of a jq filter over the driver's counters.
stat() {
	jq -r "$1" "$STATS"
}


# produced = exported + rejected + dropped_queue_full + failed
#            + dropped_shutdown + queued + exporting, for every signal,
# and nothing is left queued or in flight once the driver has stopped.
expect_accounted() {
	local signal

	for signal in traces metrics logs; do
		jq -e --arg s "$signal" '.[$s] |
			.produced == .exported + .rejected +
				.dropped_queue_full + ([.failed[]] | add) +
				.dropped_shutdown + .queued + .exporting
			and .queued == 0 and .exporting == 0
			and .queue_depth == 0' "$STATS" >/dev/null || {
			echo "$signal does not add up:" >&2
			jq ".$signal" "$STATS" >&2
			return 1
		}
	done
}
