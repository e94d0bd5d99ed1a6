#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The layering check itself: it passes the agent's tree, and fails, naming
# the place, on each kind of breach, in small trees made here.

CHECK="$BATS_TEST_DIRNAME/check_layers.py"
AGENT="$BATS_TEST_DIRNAME/../../agent"

# folder NAME RULE: a folder with a README saying what it may include.
folder() {
	mkdir -p "$TREE/$1"
	printf '# %s\n\nMay include: %s\n' "$1" "$2" >"$TREE/$1/README.md"
}

# file PATH LINES...: a source file with those lines.
file() {
	local path="$TREE/$1"

	shift
	printf '%s\n' "$@" >"$path"
}

setup() {
	TREE="$BATS_TEST_TMPDIR/agent"
	folder base nothing
	folder model base
	file base/clock.h '#include <stdint.h>'
	file base/clock.c '#include "base/clock.h"'
	file model/table.h '#include "base/clock.h"'
	file model/table.c '#include "model/table.h"'
}

@test "the agent's own tree keeps its layers" {
	run python3 "$CHECK" "$AGENT"
	[ "$status" -eq 0 ]
	[[ "$output" == *"no forbidden include, no cycle"* ]]
}

@test "a small tree that keeps its layers passes" {
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 0 ]
}

@test "a lower folder that includes an upper one fails, naming file and line" {
	file base/clock.c '#include "base/clock.h"' '#include "model/table.h"'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"base/clock.c:2: base/ may not include model/table.h"* ]]
}

@test "an agent header included without its folder fails" {
	file model/table.c '#include "clock.h"'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *'model/table.c:1: include "clock.h" by its folder: "base/clock.h"'* ]]
}

@test "modules that include each other fail, even within a folder" {
	file model/wait.h '#include "model/table.h"'
	file model/table.c '#include "model/table.h"' '#include "model/wait.h"'
	file model/wait.c '#include "model/wait.h"'
	file model/table.h '#include "model/wait.h"'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"modules include each other in a cycle: model/table -> model/wait -> model/table"* ]]
}

@test "rules that form a cycle fail" {
	folder base model
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the rules form a cycle"* ]]
}

@test "a folder without its rule, or naming an unknown folder, fails" {
	rm "$TREE/model/README.md"
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"model/README.md: missing"* ]]
	folder model "base, nowhere"
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *'"nowhere" is not a folder of agent/'* ]]
}

@test "a folder's internal.h is private to it" {
	file base/internal.h '#include "base/clock.h"'
	file base/clock.c '#include "base/clock.h"' '#include "base/internal.h"'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 0 ]
	file model/table.c '#include "model/table.h"' '#include "base/internal.h"'
	run python3 "$CHECK" "$TREE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"model/table.c:2: base/internal.h is private to base/"* ]]
}
