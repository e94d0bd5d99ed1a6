# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Around one bats run of the end-to-end tests, whichever files it runs.

setup_suite() {
	# stop_agent keeps here the --json records of every agent that
	# stopped cleanly; they are checked against the schema at the end.
	export KS_RECORDS_DIR="$BATS_RUN_TMPDIR/json-records"
	mkdir -p "$KS_RECORDS_DIR"
}

# Every record the agent wrote in this run is one docs/json-records.md
# describes: one python start for the whole run rather than one per test.
teardown_suite() {
	local root files

	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
	shopt -s nullglob
	files=("$KS_RECORDS_DIR"/*.jsonl)
	[ "${#files[@]}" -gt 0 ] || return 0
	python3 "$root/tests/tools/validate_records.py" \
		"$root/docs/json-records.schema.json" "${files[@]}"
}
