#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The documentation check itself: it passes the repository's own pages, and
# fails, naming the place, on each kind of breach, in small trees made here.

CHECK="$BATS_TEST_DIRNAME/check_docs.py"
ROOT="$BATS_TEST_DIRNAME/../.."

# page PATH LINES...: a file of the small tree with those lines.
page() {
	local path="$TREE/$1"

	shift
	mkdir -p "$(dirname "$path")"
	printf '%s\n' "$@" >"$path"
}

setup() {
	TREE="$BATS_TEST_TMPDIR/repo"
	page README.md '# Front' '' 'See [the guide](docs/guide.md#first-steps).'
	page docs/guide.md '# Guide' '' '## First steps' '' \
		'Back to the [front page](../README.md#front), and [below](#first-steps).'
}

@test "the repository's own pages pass" {
	run python3 "$CHECK" "$ROOT"
	[ "$status" -eq 0 ]
	[[ "$output" == *"every link, anchor and quoted path resolves"* ]]
}

@test "a small tree whose links resolve passes" {
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 0 ]
}

@test "a link to a missing page fails, naming page and line" {
	page docs/guide.md '# Guide' '' 'Read [this](missing.md).'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"docs/guide.md:3: missing.md: no such file"* ]]
}

@test "an anchor that names no heading fails, in another page or its own" {
	page README.md '# Front' '' 'See [the guide](docs/guide.md#last-steps).'
	page docs/guide.md '# Guide' '' '[here](#nowhere)'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *'README.md:3: docs/guide.md#last-steps: no heading "#last-steps" in docs/guide.md'* ]]
	[[ "$output" == *'docs/guide.md:3: #nowhere: no heading "#nowhere"'* ]]
}

@test "anchors are GitHub's: lower case, no punctuation, repeats numbered" {
	page README.md '# Front'
	page docs/guide.md '# Guide' '' '## Precise mode: `--precise`, I/O' '' \
		'## Options' '' '## Options' '' \
		'[a](#precise-mode---precise-io) [b](#options) [c](#options-1)'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 0 ]
	page docs/guide.md '# Guide' '' '## Options' '' '[c](#options-1)'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
}

@test "links in code are not links, and web addresses are not followed" {
	page README.md '# Front'
	page docs/guide.md '# Guide' '' '`[x](nowhere.md)`' '' '```' \
		'[y](nowhere.md)' '```' '' '[z](https://example.org/nowhere)'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 0 ]
}

@test "a quoted path of the repository that does not exist fails" {
	mkdir -p "$TREE/agent/base"
	: >"$TREE/agent/base/clock.c"
	page docs/guide.md '# Guide' '' '`agent/base/clock.c` and `agent/clock.c`,' \
		'`tests/unit/<folder>/test_*.c`, `build/knotscope`.'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *'docs/guide.md:3: `agent/clock.c`: no such file or folder'* ]]
	[[ "$output" != *"clock.c\`,"* ]]
	[[ "$output" != *"test_"* ]]
	[[ "$output" != *"build/"* ]]
}

@test "the architecture page's folder table must follow the folders' rules" {
	page agent/base/README.md '# base' '' 'May include: nothing'
	page agent/model/README.md '# model' '' 'May include: base'
	page agent/run/README.md '# run' '' 'May include: base, model'
	page docs/architecture.md '# Architecture' '' \
		'| folder | job | may include |' '|---|---|---|' \
		'| [`base/`](../agent/base/README.md) | basics | nothing |' \
		'| [`model/`](../agent/model/README.md) | threads | base |' \
		'| [`run/`](../agent/run/README.md) | the run | every other folder |'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 0 ]
	page agent/model/README.md '# model' '' 'May include: base, run'
	page agent/stacks/README.md '# stacks' '' 'May include: base'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *'docs/architecture.md:6: model/ may include "base, run" (agent/model/README.md), not "base"'* ]]
	[[ "$output" == *"the folder table leaves out agent/stacks/"* ]]
}

@test "a metric the code declares and the reference leaves out fails" {
	page agent/report/metric_samples.c '.name = "knotscope.one",' \
		'.name = "knotscope.two",'
	page docs/dashboard-and-metrics.md '# Metrics' '' '| `knotscope.one` | counter |'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the metric reference leaves out knotscope.two"* ]]
	[[ "$output" != *"knotscope.one"* ]]
}

@test "a field of the records' schema that their page leaves out fails" {
	page docs/json-records.schema.json \
		'{"properties": {"type": {}}, "$defs": {"ready": {"properties": {"agent_pid": {}}}}}'
	page docs/json-records.md '# JSON records' '' '| `type` | string |'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the schema has a field agent_pid this page does not describe"* ]]
	[[ "$output" != *"field type "* ]]
}
