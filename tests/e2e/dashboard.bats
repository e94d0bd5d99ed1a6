#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The agent's HTTP side with real capture of real workloads: the dashboard
# in headless Chromium, /metrics through a Prometheus parser and promtool,
# (parsed by the Prometheus client library's own parser), the probes, who
# may connect, and the token.

load helpers

setup_file() {
	require_bpf
	make -s -C "$ROOT" web-test otlp-test >&2
	SCREENSHOTS="$ROOT/build/test-output"
	mkdir -p "$SCREENSHOTS"
	export SCREENSHOTS
}

setup() {
	e2e_setup
	NETNSES=
}

teardown() {
	local ns

	e2e_teardown
	for ns in $NETNSES; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

# add_netns NAME: a network namespace with its loopback up, for this test
# only; it is deleted, with its interfaces, at the end.  The agent runs in
# one to own the default port whatever else runs on this machine.
add_netns() {
	ip netns add "$1"
	NETNSES="$NETNSES $1"
	ip -n "$1" link set lo up
}

# in_netns NAME COMMAND...: runs COMMAND in network namespace NAME.
in_netns() {
	local ns=$1

	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# status_from NETNS URL: the status code of URL from that network
# namespace, 000 when nothing answers.
status_from() {
	in_netns "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$2" || true
}

# answers_from NETNS URL STATUS: URL answers STATUS there.
answers_from() {
	[ "$(status_from "$1" "$2")" = "$3" ]
}

# The address the agent listens on, from its ready record.
http_address() {
	agent_records '.type == "ready"' | jq -r .http
}

# http_status URL [CURL ARGS...]: the status code, 000 when nothing answers.
http_status() {
	local url=$1

	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# http_says URL TEXT: the body of URL is TEXT.
http_says() {
	[ "$(curl -s --max-time 5 "$1")" = "$2" ]
}

# The tids of the threads of PID, one line each.
tids_of() {
	ls /proc/"$1"/task
}

# An agent on a free port, with a deadlock (ABBA) and a process whose lock
# waits keep ending (CONTENTION), and nothing else: other runs of these
# tests on this machine have deadlocks of their own.  The deadlock is
# abba's, under a name of this test's own (ABBA_NAME) that the agent
# follows from its start.
start_deadlock_and_contention() {
	ABBA_NAME="abba-$$"
	cp "$WORKLOADS/abba" "$BATS_TEST_TMPDIR/$ABBA_NAME"
	start_workload contention 8 2 60
	CONTENTION=$WORKLOAD_PID
	start_agent --listen 127.0.0.1:0 --bpf-stats --pid "$CONTENTION" --comm "$ABBA_NAME"
	WORKLOADS="$BATS_TEST_TMPDIR" start_workload "$ABBA_NAME"
	ABBA=$WORKLOAD_PID
	await_deadlock "$ABBA"
}

@test "the dashboard shows the deadlock as a highlighted cycle, and the contended lock" {
	local found

	start_deadlock_and_contention
	found="$BATS_TEST_TMPDIR/dashboard.json"
	node "$ROOT/tests/web/dashboard.js" --url "http://$(http_address)/" \
		--cycle-tids "$(tids_of "$ABBA" | paste -sd,)" \
		--lock-pid "$CONTENTION" \
		--screenshot "$SCREENSHOTS/dashboard.png" >"$found"
	# Both threads painted red, with the edges between them, and listed.
	jq -e '.cycle.nodes | length == 2 and
		all(.[]; .color == "rgb(208,49,45)" and (.stack | index("take")))' "$found"
	jq -e '.cycle.edges == 4 and (.cycle.listed | length) == 1' "$found"
	# The contended lock with the workload's own site and a holder.
	jq -e '.lock.address | test("^0x[0-9a-f]+$")' "$found"
	jq -e '.lock.cells[0] == "contention \('"$CONTENTION"')" and
		(.lock.cells[2] | gsub(","; "") | tonumber) > 0 and
		(.lock.cells[7] | test("transfer_in_order"))' "$found"
	jq -e '.deadlocks | length == 1' "$found"
	jq -e '.tooltip | test("take \\(tests/workloads/abba.c:[0-9]+\\)")' "$found"
	jq -e '.connection == "live" and .health_state == "ready" and .errors == []' "$found"
	# What each BPF program costs, with --bpf-stats.
	jq -e '.bpf_programs | index("ks_block") and index("ks_woken")' "$found"
	# Nothing came from anywhere but the agent.
	jq -e --arg base "http://$(http_address)/" '(.requests | length) > 0 and
		all(.requests[]; startswith($base))' "$found"
	[ -s "$SCREENSHOTS/dashboard.png" ]
}

# futex_blocked PID N: N threads of PID are in futex(), the syscall
# number /proc shows first.
futex_blocked() {
	[ "$(cat /proc/"$1"/task/*/syscall 2>/dev/null | grep -c '^202 ')" -eq "$2" ]
}

@test "a deadlock older than the agent shows its threads' own frames" {
	local graph="$BATS_TEST_TMPDIR/graph.json"

	ABBA_NAME="abba-$$"
	cp "$WORKLOADS/abba" "$BATS_TEST_TMPDIR/$ABBA_NAME"
	WORKLOADS="$BATS_TEST_TMPDIR" start_workload "$ABBA_NAME"
	ABBA=$WORKLOAD_PID
	wait_until 10 futex_blocked "$ABBA" 2
	start_agent --listen 127.0.0.1:0 --pid "$ABBA"
	await_deadlock "$ABBA"
	# The graph unwinds at most a few stacks per rendering: ask until
	# both waiters have theirs.
	wait_until 10 eval "curl -sf --max-time 5 http://$(http_address)/api/graph >'$graph' &&
		jq -e '[.threads[] | select(.waiting and .stack)] | length == 2' '$graph' >/dev/null"
	# Seeded from /proc, not seen to begin: still the program's own frames.
	jq -e '[.threads[] | select(.waiting)] |
		all(.[]; [.stack[].function] | index("take"))' "$graph"
}

# io_graph_cycle PARENT CHILD FILE: the graph, fetched into FILE, has each
# process's thread wait on a full pipe with an edge to the other, in a cycle.
io_graph_cycle() {
	curl -sf --max-time 5 "http://$(http_address)/api/graph" >"$3" &&
		jq -e --argjson p "$1" --argjson c "$2" '
		def waiter($pid): .threads[] | select(.pid == $pid and .waiting);
		def edge($from; $to): .edges[] | select(.from == $from and .to == $to);
		waiter($p) as $wp | waiter($c) as $wc |
		([$wp, $wc] | all(.in_cycle and .io.kind == "pipe-write" and
			.io.syscall == "write" and (.io.object | test("^pipe:\\[[0-9]+\\]$")))) and
		([edge($wp.id; $wc.id), edge($wc.id; $wp.id)] |
			length == 2 and all(.kind == "io_wait" and
				.wait_kind == "pipe-write" and .in_cycle)) and
		([.cycles[] | select(index($wp.id) and index($wc.id))] | length == 1)
		' "$3" >/dev/null
}

@test "a deadlock through pipes is in the graph: its waits, their kind and object" {
	local graph="$BATS_TEST_TMPDIR/graph.json" child

	start_workload io_deadlock subprocess cat
	wait_until 10 eval 'child="$(pgrep -P "$WORKLOAD_PID")"'
	start_agent --listen 127.0.0.1:0 --pid "$WORKLOAD_PID" --pid "$child"
	await_deadlock "$WORKLOAD_PID"
	wait_until 10 io_graph_cycle "$WORKLOAD_PID" "$child" "$graph"
	# Each edge names the pipe its waiter writes.
	jq -e --argjson p "$WORKLOAD_PID" '
		(.threads[] | select(.pid == $p and .waiting)) as $w |
		.edges[] | select(.from == $w.id) | .object == $w.io.object' "$graph"
}

@test "/metrics is valid Prometheus text with the API's numbers" {
	local base

	start_deadlock_and_contention
	base="http://$(http_address)"

	curl -sf "$base/metrics" >"$BATS_TEST_TMPDIR/metrics"
	promtool check metrics <"$BATS_TEST_TMPDIR/metrics"
	/usr/bin/python3 "$ROOT/tests/web/metrics_check.py" --base "$base" \
		--expect-pid "$ABBA" --expect-deadlocks 1 >"$BATS_TEST_TMPDIR/families.json"
	# The process's own labels, and the unit in the histogram's name.
	jq -e --arg pid "$CONTENTION" 'any(.[]; .name == "knotscope_lock_wait_duration_seconds" and
		.type == "histogram" and any(.samples[];
			.name == "knotscope_lock_wait_duration_seconds_count" and
			.labels.process_pid == $pid and .labels.knotscope_lock_kind == "mutex" and
			.value > 0))' "$BATS_TEST_TMPDIR/families.json"
	jq -e 'any(.[]; .name == "knotscope_agent_bpf_run_time_seconds" and
		any(.samples[]; .labels.knotscope_bpf_program == "ks_block" and .value > 0))' \
		"$BATS_TEST_TMPDIR/families.json"
	grep -q "^knotscope_deadlocks_total{service_name=\"$ABBA_NAME\",process_pid=\"$ABBA\"} 1$" \
		"$BATS_TEST_TMPDIR/metrics"
}

# metrics_have PATTERN: the agent's /metrics has a line matching PATTERN.
metrics_have() {
	curl -sf "http://$(http_address)/metrics" | grep -q "$1"
}

@test "target_info per resource; an exited process's series stay one scrape interval" {
	local pid

	start_agent --listen 127.0.0.1:0 --scrape-interval 3s --comm contention
	start_workload contention 4 1 1
	pid=$WORKLOAD_PID
	wait "$pid"
	wait_until 10 agent_said ".type == \"process\" and .pid == $pid"
	# Gone from the table, still in /metrics, with its resource.
	metrics_have "^knotscope_futex_waits_total{service_name=\"contention\",process_pid=\"$pid\"} [1-9]"
	metrics_have "^target_info{service_name=\"contention\",process_pid=\"$pid\",.*service_instance_id=\"[0-9a-f-]\{36\}\""
	curl -sf "http://$(http_address)/metrics" >"$BATS_TEST_TMPDIR/metrics"
	promtool check metrics <"$BATS_TEST_TMPDIR/metrics"
	grep -q '^target_info{service_name="knotscope",.*host_name=' "$BATS_TEST_TMPDIR/metrics"
	# A scrape interval after it exited, it goes.
	wait_until 15 bash -c "! curl -sf http://$(http_address)/metrics | grep -q 'process_pid=\"$pid\"'"
}

@test "stalls and threads blocked 10 s on locks nobody holds: /api/history, health, /metrics, /api/waits, summary" {
	local base pid stall

	start_agent --listen 127.0.0.1:0 --stall-ms 300
	base="http://$(http_address)"
	start_workload stall sem
	pid=$WORKLOAD_PID
	# The stall first: in /api/deadlocks, and in the history the page
	# draws its incidents from, the same record as --json wrote it.
	wait_until 10 sh -c "curl -sf '$base/api/deadlocks' | jq -e '.stalls_total >= 1 and
		any(.stalls[]; .pid == $pid and (.threads | length) == 2)' >/dev/null"
	wait_until 10 agent_said ".type == \"stall\" and .pid == $pid"
	stall="$(agent_records ".type == \"stall\" and .pid == $pid")"
	curl -sf "$base/api/history" | jq -e --argjson stall "$stall" '.total >= 1 and
		(.records | map(select(.id == $stall.id)) == [$stall])' >/dev/null
	# Then, 10 s after they blocked, both threads count, here and there.
	wait_until 20 sh -c "curl -sf '$base/api/waits' | jq -e --argjson pid $pid \
		'[.threads[] | select(.pid == \$pid)] | length == 2' >/dev/null"
	curl -sf "$base/api/health" | jq -e '.unknown_holder_waits.count >= 2 and
		.unknown_holder_waits.longest_ms >= 10000 and .stalls >= 1' >/dev/null
	curl -sf "$base/metrics" >"$BATS_TEST_TMPDIR/metrics"
	promtool check metrics <"$BATS_TEST_TMPDIR/metrics"
	grep -q "^knotscope_unheld_lock_blocked_threads{service_name=\"stall\",process_pid=\"$pid\"} 2$" \
		"$BATS_TEST_TMPDIR/metrics"
	awk -v pid="$pid" '$1 ~ "^knotscope_unheld_lock_longest_block_seconds.*process_pid=\"" pid "\"" {
		found = $2 >= 10 } END { exit !found }' "$BATS_TEST_TMPDIR/metrics"
	grep -q "^knotscope_stalls_total{service_name=\"stall\",process_pid=\"$pid\"} 1$" \
		"$BATS_TEST_TMPDIR/metrics"
	# Which threads, where, and their stacks: on demand.
	curl -sf "$base/api/waits" >"$BATS_TEST_TMPDIR/waits.json"
	jq -e --argjson pid "$pid" '[.threads[] | select(.pid == $pid)] | length == 2 and all(.[];
		.wait.guess == "sem_t" and (.wait.address | test("^0x[0-9a-f]+$")) and
		.wait.blocked_ms >= 10000)' "$BATS_TEST_TMPDIR/waits.json" >/dev/null
	# Stacks come a few per rendering: wait for this process's.
	wait_until 10 sh -c "curl -sf '$base/api/waits' | jq -e --argjson pid $pid '[.threads[] |
		select(.pid == \$pid) | .stack[]?.function] | index(\"worker_waits_first\")' >/dev/null"
	stop_agent
	agent_records '.type == "summary"' | jq -e --argjson pid "$pid" '.stalls >= 1 and
		.unknown_holder_waits.threshold_s == 10 and .unknown_holder_waits.count >= 2 and
		.unknown_holder_waits.longest_ms >= 10000 and
		([.unknown_holder_waits.threads[] | select(.pid == $pid)] | length) == 2' >/dev/null
	grep -q "blocked 10 s or longer on locks nobody is known to hold" "$AGENT_ERR"
}

@test "/readyz: ready once attached, not ready while stopping; /healthz stays up" {
	local port base

	# An OTLP endpoint that accepts and never answers holds the final
	# flush for its 5 s: the window in which the agent is stopping.
	node -e 'require("net").createServer(() => {}).listen(0, "127.0.0.1", function () {
		console.log(this.address().port) })' >"$BATS_TEST_TMPDIR/hang.port" &
	WORKLOAD_PIDS="$WORKLOAD_PIDS $!"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/hang.port"
	port="$(cat "$BATS_TEST_TMPDIR/hang.port")"

	start_agent --listen 127.0.0.1:0 --otlp-endpoint "http://127.0.0.1:$port" \
		--otlp-timeout-ms 30000
	base="http://$(http_address)"
	expect_eq readyz "$(curl -s "$base/readyz")" ready
	expect_eq healthz "$(curl -s "$base/healthz")" ok

	kill -TERM "$AGENT_PID"
	wait_until 10 http_says "$base/readyz" stopping
	expect_eq "readyz status" "$(http_status "$base/readyz")" 503
	expect_eq "healthz while stopping" "$(http_status "$base/healthz")" 200
	stop_agent
	# Gone with the agent.
	expect_eq "after exit" "$(http_status "$base/readyz")" 000
}

@test "by default it listens on 127.0.0.1 only; other hosts get nothing" {
	local node="ks-node-$$" peer="ks-peer-$$" host=10.231.0.1 peer_address=10.231.0.2

	# The agent's host and a second one, wired.
	add_netns "$node"
	add_netns "$peer"
	ip -n "$node" link add veth0 type veth peer name veth1 netns "$peer"
	ip -n "$node" addr add "$host/30" dev veth0
	ip -n "$node" link set veth0 up
	ip -n "$peer" addr add "$peer_address/30" dev veth1
	ip -n "$peer" link set veth1 up
	AGENT_NETNS=$node

	# Listening where that host can reach is a choice; then it gets in.
	start_agent --listen "$host:0"
	wait_until 10 answers_from "$peer" "http://$(http_address)/readyz" 200
	stop_agent

	start_agent
	grep -q "dashboard, metrics and probes on http://127.0.0.1:9464/" "$AGENT_ERR"
	# The only listening socket of the agent is the loopback one.
	expect_eq sockets "$(in_netns "$node" ss -Hltnp | grep "pid=$AGENT_PID," |
		awk '{print $4}')" "127.0.0.1:9464"
	expect_eq "from here" "$(status_from "$node" http://127.0.0.1:9464/readyz)" 200
	expect_eq "from the other host" "$(status_from "$peer" "http://$host:9464/readyz")" 000
}

@test "with a token, everything but the probes needs it, or a login's session" {
	local base session token=t0k3n-$RANDOM

	printf '%s\n' "$token" >"$BATS_TEST_TMPDIR/token"
	start_agent --listen 127.0.0.1:0 --listen-token-file "$BATS_TEST_TMPDIR/token"
	base="http://$(http_address)"
	expect_eq "no token" "$(http_status "$base/metrics")" 401
	expect_eq "wrong token" "$(http_status "$base/metrics" -H "Authorization: Bearer x$token")" 401
	expect_eq "page" "$(http_status "$base/index.html")" 303
	expect_eq "api" "$(http_status "$base/api/graph")" 401
	expect_eq "right token" "$(http_status "$base/metrics" -H "Authorization: Bearer $token")" 200
	expect_eq healthz "$(http_status "$base/healthz")" 200
	expect_eq readyz "$(http_status "$base/readyz")" 200
	/usr/bin/python3 "$ROOT/tests/web/metrics_check.py" --base "$base" --token "$token" >/dev/null

	# A browser: the page sends it to the form; the token posted there
	# buys a session cookie the page's script cannot read.
	expect_eq "page to the form" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
		"$base/")" "303 $base/login"
	expect_eq "form" "$(http_status "$base/login")" 200
	expect_eq "wrong token" "$(http_status "$base/login" --data-urlencode "token=x$token")" 401
	curl -s -D "$BATS_TEST_TMPDIR/headers" -o /dev/null --data-urlencode "token=$token" \
		"$base/login"
	grep -q "^HTTP/1.1 303" "$BATS_TEST_TMPDIR/headers"
	grep -qi "^location: /" "$BATS_TEST_TMPDIR/headers"
	grep -Eqi "^set-cookie: knotscope_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Max-Age=[0-9]+" \
		"$BATS_TEST_TMPDIR/headers"
	expect_eq "the token in the answer" "$(grep -c "$token" "$BATS_TEST_TMPDIR/headers")" 0
	session="$(grep -oi 'knotscope_session=[0-9a-f]*' "$BATS_TEST_TMPDIR/headers")"
	expect_eq "with the cookie" "$(http_status "$base/api/graph" -b "$session")" 200
	expect_eq "a made-up cookie" "$(http_status "$base/api/graph" \
		-b "knotscope_session=$(printf '%064d' 0)")" 401
	expect_eq "log out" "$(http_status "$base/logout" -X POST -b "$session")" 303
	expect_eq "after logging out" "$(http_status "$base/api/graph" -b "$session")" 401
}

@test "an explicit address that cannot be had stops the start; the default one only warns" {
	local taken node="ks-node-$$"

	start_agent --listen 127.0.0.1:0
	taken="$(http_address)"
	run "$KNOTSCOPE" --listen "$taken" --duration 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"--listen cannot listen on $taken"* ]]
	run "$KNOTSCOPE" --listen-token-file /nonexistent --duration 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"--listen-token-file /nonexistent: No such file or directory"* ]]
	stop_agent

	# Someone else has the default port: this agent runs without a server,
	# and still follows lock waits to their end.
	add_netns "$node"
	nsenter --net="/run/netns/$node" node -e 'require("net").createServer().listen(9464,
		"127.0.0.1", () => console.log("held"))' >"$BATS_TEST_TMPDIR/held" &
	WORKLOAD_PIDS="$WORKLOAD_PIDS $!"
	wait_until 10 grep -q held "$BATS_TEST_TMPDIR/held"
	AGENT_NETNS=$node
	start_agent
	grep -q "no dashboard: cannot listen on 127.0.0.1:9464" "$AGENT_ERR"
	expect_eq "ready record" "$(http_address)" null
	start_workload contention 4 2 1
	wait_until 20 grep -q '^done' "$WORKLOAD_OUT"
	stop_agent
	agent_records '.type == "summary"' | jq -e '.events.wait_end > 0'
}

# serve_items: python's HTTP server over a directory of items, and a client
# asking for them until the test ends; sets SERVER_PID and SERVER_PORT.
serve_items() {
	local dir="$BATS_TEST_TMPDIR/www"

	mkdir -p "$dir/items"
	for i in 1 2 3 4 5; do echo "item $i" >"$dir/items/$i"; done
	SERVER_PORT=$((20000 + RANDOM % 20000))
	/usr/bin/python3 -m http.server "$SERVER_PORT" --bind 127.0.0.1 --directory "$dir" \
		>/dev/null 2>&1 &
	SERVER_PID=$!
	WORKLOAD_PIDS="${WORKLOAD_PIDS:-} $SERVER_PID"
	wait_until 10 curl -sf -o /dev/null "http://127.0.0.1:$SERVER_PORT/items/1"
	(while :; do
		curl -s -o /dev/null "http://127.0.0.1:$SERVER_PORT/items/$((RANDOM % 6))"
		sleep 0.05
	done) &
	WORKLOAD_PIDS="$WORKLOAD_PIDS $!"
}

@test "incidents: a login, a deadlock and a stall kept across a restart, a lock's last hour, HTTP requests" {
	local token=t0k3n-$RANDOM history="$BATS_TEST_TMPDIR/state/history.jsonl"
	local deadlock trace stall stall_pid found service

	mkdir -p "$(dirname "$history")"
	printf '%s\n' "$token" >"$BATS_TEST_TMPDIR/token"
	quick_otlp_batches
	start_receiver
	# Only this test's processes: others on the machine have deadlocks,
	# stalls and servers of their own.
	ABBA_NAME="abba-$$"
	STALL_NAME="stall-$$"
	cp "$WORKLOADS/abba" "$BATS_TEST_TMPDIR/$ABBA_NAME"
	cp "$WORKLOADS/stall" "$BATS_TEST_TMPDIR/$STALL_NAME"
	start_agent --listen 127.0.0.1:0 --history-file "$history" --stall-ms 300 \
		--comm "$ABBA_NAME" --comm "$STALL_NAME"
	WORKLOADS="$BATS_TEST_TMPDIR" start_workload "$ABBA_NAME"
	await_deadlock "$WORKLOAD_PID"
	deadlock="$(jq -r .id <<<"$REPORT")"
	trace="$(jq -r .trace_id <<<"$REPORT")"
	[[ "$trace" =~ ^[0-9a-f]{32}$ ]]
	WORKLOADS="$BATS_TEST_TMPDIR" start_workload "$STALL_NAME" sem
	stall_pid=$WORKLOAD_PID
	wait_until 10 agent_said ".type == \"stall\" and .pid == $stall_pid"
	stall="$(agent_records ".type == \"stall\" and .pid == $stall_pid" | jq -r .id)"
	stop_agent
	kill_workloads
	# On disk, as the --json records say them.
	jq -e -s --arg id "$deadlock" --arg trace "$trace" \
		'map(select(.id == $id)) | length == 1 and .[0].trace_id == $trace' "$history"
	jq -e -s --arg id "$stall" --argjson pid "$stall_pid" \
		'map(select(.id == $id)) | length == 1 and .[0].type == "stall" and .[0].pid == $pid' \
		"$history"

	# Restarted: a new run, the same file.
	start_workload contention 8 2 120
	CONTENTION=$WORKLOAD_PID
	serve_items
	start_agent --listen 127.0.0.1:0 --listen-token-file "$BATS_TEST_TMPDIR/token" \
		--history-file "$history" --http --http-route '/items/{id}' \
		--trace-url 'http://traces.example/trace/{trace_id}' \
		--pid "$CONTENTION" --pid "$SERVER_PID"
	service="$(basename "$(readlink "/proc/$SERVER_PID/exe")")"
	found="$BATS_TEST_TMPDIR/incidents.json"
	node "$ROOT/tests/web/incidents.js" --url "http://$(http_address)/" --token "$token" \
		--deadlock "$deadlock" --trace-id "$trace" --stall "$stall" --lock-pid "$CONTENTION" \
		--service "$service" --route '/items/{id}' --screenshots "$SCREENSHOTS" >"$found"
	cat "$found" >&2

	jq -e --arg base "http://$(http_address)" '.login_url == ($base + "/login") and
		.wrong_token_refused and .after_login == ($base + "/") and
		.cookie == { httpOnly: true, sameSite: "Strict" } and
		(.cookie_in_script | not) and .logout_offered' "$found"
	jq -e --arg trace "$trace" '.incident.restored and
		.incident.trace == ("http://traces.example/trace/" + $trace) and .still_open' "$found"
	# The stall beside it: each thread's guessed wait, no holder, its stack.
	jq -e --arg pid "$stall_pid" --arg name "$STALL_NAME" '.stall.restored and
		(.stall.summary | contains("stall: all 2 threads of pid \($pid) (\($name))")) and
		(.stall.waits | length == 2 and
			all(.[]; test(" waits for sem_t 0x[0-9a-f]+, no holder known$"))) and
		any(.stall.stacks[]; contains("worker_waits_first"))' "$found"
	jq -e '.trend.canvas > 0 and (.trend.waits | gsub(","; "") | tonumber) > 0 and
		.trend_points.buckets == 180 and .trend_points.nonzero >= 1' "$found"
	jq -e '(.http.cells[4] | tonumber) > 0 and .http.cells[1] == "server" and
		.http.cells[2] == "GET" and
		(.http.slowest | test("^http://traces.example/trace/[0-9a-f]{32}$"))' "$found"
	jq -e '.search_hides == { incidents: 0, http: 0, trends: 0 } and
		(.search_route | length) >= 1 and all(.search_route[]; . == "/items/{id}") and
		.search_cleared and .errors == []' "$found"
	jq -e --arg base "http://$(http_address)/" 'all(.requests[]; startswith($base))' "$found"
	for shot in incident trends http dashboard-incidents; do
		[ -s "$SCREENSHOTS/$shot.png" ]
	done
}
