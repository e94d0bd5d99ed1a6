#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# HTTP spans and metrics from socket syscalls, end to end: real servers
# nobody here wrote (nginx, python3 -m http.server, and a thread-per-request
# server on Python's http.server), driven by curl, watched by the real
# agent, exported over OTLP to tests/otlp/receiver.js, which decodes with
# OpenTelemetry's own code.  What is asserted is what a backend would read.

load helpers
load nginx

PYTHON=/usr/bin/python3
PIN=/sys/fs/bpf/otel/traces_ctx_v1
# A trace id of this test's own: traces_ctx_v1 is shared by every agent
# on the machine, and other runs of these tests may be in it.
TRACE="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
PARENT=00f067aa0ba902b7

setup_file() {
	local tool

	require_bpf
	for tool in nginx curl bpftool "$PYTHON"; do
		command -v "$tool" >/dev/null || {
			echo "$tool is missing: run make deps-test" >&2
			return 1
		}
	done
	make -s -C "$ROOT" otlp-test >&2
}

setup() {
	e2e_setup
	quick_otlp_batches
}

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# listens PID PORT: process PID listens on TCP port PORT.
listens() {
	ss -Hltnp "sport = :$2" | grep -q "pid=$1,"
}

# nginx_settled: nginx listens, or it gave up.
nginx_settled() {
	listens "$NGINX_MASTER" "$NGINX_PORT" || grep -q emerg "$NGINX_DIR/error.log"
}

# nginx on a free loopback port, serving $NGINX_DIR/html: index.html, a
# 1 MiB big.bin (sendfile), /slow/ at 50 KB/s, /boom answering 503 and
# /dav/ taking PUTs (it reads request bodies).  nginx cannot take port 0
# and say which one it got: a port found free can be taken before nginx
# binds it, and then nginx tries again on another.
start_nginx() {
	NGINX_DIR="$BATS_TEST_TMPDIR/nginx"
	mkdir -p "$NGINX_DIR/html/slow" "$NGINX_DIR/html/dav"
	echo hello >"$NGINX_DIR/html/index.html"
	head -c 1048576 /dev/urandom >"$NGINX_DIR/html/big.bin"
	head -c 102400 /dev/zero >"$NGINX_DIR/html/slow/file.bin"
	start_nginx_with '
		location /boom { return 503; }
		location /slow/ { limit_rate 50k; }
		location /dav/ { dav_methods PUT; }'
}

# start_nginx_with DIRECTIVES: nginx on a free port of its own, serving
# $NGINX_DIR/html with DIRECTIVES.
start_nginx_with() {
	for _ in 1 2 3; do
		NGINX_PORT="$(free_port)"
		nginx_conf "$NGINX_DIR" "$NGINX_PORT" "$1"
		: >"$NGINX_DIR/error.log"
		nginx_start "$NGINX_DIR"
		WORKLOAD_PIDS="$WORKLOAD_PIDS $NGINX_MASTER"
		wait_until 10 nginx_settled
		if listens "$NGINX_MASTER" "$NGINX_PORT"; then
			NGINX_WORKERS="$(pgrep -P "$NGINX_MASTER" | paste -sd ' ')"
			return 0
		fi
		grep -q "Address already in use" "$NGINX_DIR/error.log" || break
	done
	cat "$NGINX_DIR/error.log" >&2
	return 1
}

# python3 -m http.server on a port it picks and prints, serving nginx's
# files.
start_python_http() {
	local out="$BATS_TEST_TMPDIR/python_http.out"

	: >"$out"
	"$PYTHON" -u -m http.server --bind 127.0.0.1 --directory "$NGINX_DIR/html" \
		0 >"$out" 2>&1 &
	WORKLOAD_PIDS="$WORKLOAD_PIDS $!"
	wait_until 10 grep -q '^Serving HTTP on 127.0.0.1 port [0-9]' "$out"
	PY_HTTP_PORT="$(sed -n 's/^Serving HTTP on 127.0.0.1 port \([0-9]*\) .*/\1/p' "$out")"
}

# nginx as a reverse proxy (proxy_pass) to python3 -m http.server, on
# free ports: NGINX_PORT in front, PY_HTTP_PORT behind.
start_proxy_chain() {
	NGINX_DIR="$BATS_TEST_TMPDIR/nginx"
	mkdir -p "$NGINX_DIR/html"
	echo hello >"$NGINX_DIR/html/index.html"
	start_python_http
	start_nginx_with "
		location / { proxy_pass http://127.0.0.1:$PY_HTTP_PORT; }"
}

# tests/e2e/threaded_server.py: prints its port once it accepts.
start_threaded() {
	local out="$BATS_TEST_TMPDIR/threaded.port"

	: >"$out"
	"$PYTHON" "$BATS_TEST_DIRNAME/threaded_server.py" >"$out" &
	WORKLOAD_PIDS="$WORKLOAD_PIDS $!"
	wait_until 10 test -s "$out"
	THREADED_PORT="$(cat "$out")"
}

# This test's spans, one per line: those of requests to its servers (by
# port) and those of its servers' own threads (by pid).  --comm nginx,
# curl and python3 also catch other runs of these tests on the machine.
own_spans() {
	spans | jq -c --arg ports " ${NGINX_PORT:-} ${PY_HTTP_PORT:-} ${THREADED_PORT:-} " \
		--arg pids " $WORKLOAD_PIDS ${NGINX_WORKERS:-} " '
		select(.attrs["server.port"] as $port | .resource["process.pid"] as $pid |
			($port != null and ($ports | contains(" \($port) "))) or
			($pids | contains(" \($pid) ")))'
}

has_own_span() {
	own_spans | jq -e -s "any(.[]; $1)" >/dev/null
}

# spans_of SERVICE KIND: that service's spans of that kind (2 SERVER,
# 3 CLIENT), as one JSON array.  Python's service is its executable's name.
spans_of() {
	own_spans | jq -c -s --arg s "$1" --argjson k "$2" \
		'[.[] | select((.resource["service.name"] | startswith($s)) and .kind == $k)]'
}

# have_spans SERVICE KIND N: at least N arrived.
have_spans() {
	spans_of "$1" "$2" | jq -e --argjson n "$3" 'length >= $n' >/dev/null
}

url() {
	echo "http://127.0.0.1:$1$2"
}

@test "nginx: keep-alive requests, a 404 and a 503 are SERVER spans with their attributes" {
	start_nginx
	start_receiver
	start_agent --http --comm nginx --comm curl
	# One curl, one connection, four requests.
	curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		"$(url "$NGINX_PORT" /index.html)" "$(url "$NGINX_PORT" /missing)" \
		"$(url "$NGINX_PORT" '/index.html?token=s3cret')" "$(url "$NGINX_PORT" /boom)"
	wait_until 10 have_spans nginx 2 4
	stop_agent

	spans_of nginx 2 | jq -e --arg port "$NGINX_PORT" 'length == 4 and
		all(.[]; .name == "GET" and .attrs["http.request.method"] == "GET" and
			.attrs["url.scheme"] == "http" and .attrs["server.address"] == "127.0.0.1" and
			.attrs["server.port"] == $port and .attrs["client.address"] == "127.0.0.1" and
			.attrs["network.protocol.version"] == "1.1" and
			(.attrs["thread.id"] | tonumber) > 0 and .attrs["thread.name"] == "nginx") and
		([.[].attrs["network.peer.port"]] | unique | length) == 1 and
		([.[] | [.attrs["url.path"], .attrs["http.response.status_code"], (.status.code // 0)]] | sort) ==
			([["/index.html", "200", 0], ["/missing", "404", 0],
			  ["/index.html", "200", 0], ["/boom", "503", 2]] | sort) and
		all(.[] | select(.attrs["url.path"] == "/boom"); .attrs["error.type"] == "503")' >/dev/null
	# The query was dropped by the agent: it left nowhere.
	run grep -c s3cret "$RECEIVED"
	[ "$output" = 0 ]
	expect_accounted
}

@test "curl to nginx on this node is one trace: the CLIENT span is the SERVER span's parent" {
	start_nginx
	start_receiver
	start_agent --http --comm nginx --comm curl
	curl -s -o /dev/null -o /dev/null "$(url "$NGINX_PORT" /index.html)" "$(url "$NGINX_PORT" /missing)"
	wait_until 10 have_spans nginx 2 2
	wait_until 10 have_spans curl 3 2
	stop_agent

	own_spans | jq -e -s --arg port "$NGINX_PORT" '
		[.[] | select(.resource["service.name"] == "curl")] as $clients |
		[.[] | select(.resource["service.name"] == "nginx")] as $servers |
		($clients | length) == 2 and ($servers | length) == 2 and
		all($servers[]; . as $s | any($clients[];
			.spanId == $s.parentSpanId and .traceId == $s.traceId and
			.attrs["url.path"] == $s.attrs["url.path"] and
			(.startTimeUnixNano | tonumber) <= ($s.startTimeUnixNano | tonumber))) and
		all($clients[]; .kind == 3 and .name == "GET" and (.parentSpanId // "") == "" and
			.attrs["url.full"] == ("http://127.0.0.1:" + $port + .attrs["url.path"]) and
			.attrs["server.port"] == $port) and
		any($clients[]; .attrs["url.path"] == "/missing" and .status.code == 2 and
			.attrs["error.type"] == "404")' >/dev/null
	agent_records '.type == "summary"' | jq -e '.http.peer_joined == 2' >/dev/null
}

@test "a traceparent puts the request in that trace under that parent; a malformed one is ignored" {
	start_nginx
	start_receiver
	start_agent --http --comm nginx --comm curl
	curl -s -o /dev/null -H "traceparent: 00-$TRACE-$PARENT-01" -H "tracestate: vendor=x" \
		"$(url "$NGINX_PORT" /index.html)"
	# A parent id of zeros is invalid (W3C Trace Context).
	curl -s -o /dev/null -H "traceparent: 00-$TRACE-0000000000000000-01" \
		"$(url "$NGINX_PORT" /missing)"
	wait_until 10 have_spans nginx 2 2
	wait_until 10 have_spans curl 3 2
	stop_agent

	# curl's span hangs from the header's parent; nginx's from curl's,
	# which the node saw send it (the header is the fallback).
	own_spans | jq -e -s --arg t "$TRACE" --arg p "$PARENT" '
		(map(select(.kind == 3 and .attrs["url.path"] == "/index.html"))[0]) as $curl |
		(map(select(.kind == 2 and .attrs["url.path"] == "/index.html"))[0]) as $nginx |
		$curl.traceId == $t and $curl.parentSpanId == $p and $curl.traceState == "vendor=x" and
		$nginx.traceId == $t and $nginx.parentSpanId == $curl.spanId and
		$nginx.traceState == "vendor=x" and $nginx.flags == 769 and
		any(.[]; .kind == 2 and .attrs["url.path"] == "/missing" and .traceId != $t)' >/dev/null
	# The malformed one still joins the curl that sent it.
	own_spans | jq -e -s '([.[] | select(.attrs["url.path"] == "/missing")] | map(.traceId) | unique | length) == 1' >/dev/null
}

@test "a proxy chain is one tree: what the node sees wins over the traceparent nginx forwards" {
	start_proxy_chain
	start_receiver
	start_agent --http --comm nginx --comm curl --comm python3
	curl -s -o /dev/null -H "traceparent: 00-$TRACE-$PARENT-01" "$(url "$NGINX_PORT" /index.html)"
	wait_until 10 have_spans curl 3 1
	wait_until 10 have_spans nginx 2 1
	wait_until 10 have_spans nginx 3 1
	wait_until 10 have_spans python3 2 1
	stop_agent

	# curl -> nginx SERVER -> nginx CLIENT -> python SERVER, in the
	# header's trace; only curl's span hangs from the header's parent.
	own_spans | jq -e -s --arg t "$TRACE" --arg p "$PARENT" '
		(map(select(.resource["service.name"] == "curl"))[0]) as $curl |
		(map(select(.resource["service.name"] == "nginx" and .kind == 2))[0]) as $in |
		(map(select(.resource["service.name"] == "nginx" and .kind == 3))[0]) as $out |
		(map(select((.resource["service.name"] | startswith("python3")) and .kind == 2))[0]) as $py |
		$curl.parentSpanId == $p and $in.parentSpanId == $curl.spanId and
		$out.parentSpanId == $in.spanId and $py.parentSpanId == $out.spanId and
		([$curl, $in, $out, $py] | map(.traceId) | unique) == [$t] and
		$py.attrs["url.path"] == "/index.html"' >/dev/null
	# The tree, for people (and the documentation).
	mkdir -p "$ROOT/build/test-output"
	own_spans | jq -r -s 'map(select(.kind == 2 or .kind == 3)) |
		def line_of: "\(.resource["service.name"]) \(if .kind == 2 then "SERVER" else "CLIENT" end) \(.name) \(.attrs["url.path"]) [\(.spanId)]";
		(map({key: .spanId, value: .}) | from_entries) as $by |
		def depth: if .parentSpanId and $by[.parentSpanId] then 1 + ($by[.parentSpanId] | depth) else 0 end;
		"trace \(.[0].traceId), under the traceparent'"'"'s span \($by | map(select(.parentSpanId and ($by[.parentSpanId] | not)))[0].parentSpanId)",
		(sort_by(.startTimeUnixNano | tonumber) | .[] | "  " + ("  " * depth) + line_of)' \
		>"$ROOT/build/test-output/proxy-trace.txt"
}

@test "OTEL_TRACES_SAMPLER=parentbased_always_off: only traces a sampled traceparent starts" {
	start_nginx
	start_receiver
	export OTEL_TRACES_SAMPLER=parentbased_always_off
	start_agent --http --comm nginx --comm curl
	curl -s -o /dev/null "$(url "$NGINX_PORT" /missing)"
	curl -s -o /dev/null -H "traceparent: 00-$TRACE-$PARENT-01" "$(url "$NGINX_PORT" /index.html)"
	wait_until 10 have_spans nginx 2 1
	wait_until 10 have_spans curl 3 1
	stop_agent

	own_spans | jq -e -s --arg t "$TRACE" 'length == 2 and all(.[]; .traceId == $t and
		.attrs["url.path"] == "/index.html")' >/dev/null
	agent_records '.type == "summary"' | jq -e '.http.unsampled >= 2' >/dev/null
}

@test "responses larger than the capture: python3 -m http.server writes them, nginx sendfile()s them" {
	start_nginx
	start_python_http
	start_receiver
	start_agent --http --http-capture-bytes 256 --comm nginx --comm curl --comm python3
	curl -s -o /dev/null "$(url "$PY_HTTP_PORT" /big.bin)"
	curl -s -o /dev/null "$(url "$NGINX_PORT" /big.bin)"
	wait_until 10 have_spans python3 2 1
	wait_until 10 have_spans nginx 2 1
	wait_until 10 have_spans curl 3 2
	stop_agent

	spans_of python3 2 | jq -e '.[0] | .attrs["url.path"] == "/big.bin" and
		.attrs["http.response.status_code"] == "200" and
		.attrs["http.response.body.size"] == "1048576" and
		.attrs["network.protocol.version"] == "1.0" and (.status.code // 0) == 0' >/dev/null
	spans_of nginx 2 | jq -e '.[0] | .attrs["http.response.body.size"] == "1048576"' >/dev/null
	spans_of curl 3 | jq -e 'length >= 2 and
		all(.[]; .attrs["http.response.body.size"] == "1048576")' >/dev/null
	# Each client span holds the server span it caused.
	own_spans | jq -e -s '[.[] | select(.kind == 2)] | length >= 2 and
		all(.[]; .parentSpanId != null and .parentSpanId != "")' >/dev/null
}

@test "a slow response (nginx limit_rate) lasts as long as it takes" {
	start_nginx
	start_receiver
	start_agent --http --comm nginx --comm curl
	curl -s -o /dev/null "$(url "$NGINX_PORT" /slow/file.bin)"
	wait_until 10 have_spans nginx 2 1
	wait_until 10 have_spans curl 3 1
	stop_agent

	# nginx sends the first second's worth at once, the other 50 KiB at
	# 50 KiB/s: about a second, at each end.
	own_spans | jq -e -s 'length >= 2 and
		all(.[]; ((.endTimeUnixNano | tonumber) - (.startTimeUnixNano | tonumber)) > 500000000)' >/dev/null
	spans_of nginx 2 | jq -e '.[0].attrs["http.response.body.size"] == "102400"' >/dev/null
}

# The traces_ctx_v1 entries, as {tid, trace, span}, one per line; fails
# when the map cannot be read.
ctx_entries() {
	local dump

	dump="$(bpftool map dump pinned "$PIN" -j)" || return 1
	jq -c '.[] | {tid: (.key[0:4] | reverse | map(.[2:]) | join("")),
		trace: (.value[0:16] | map(.[2:]) | join("")),
		span: (.value[16:24] | map(.[2:]) | join(""))}' <<<"$dump"
}

# The entry whose trace id is $1; fails when there is none.
ctx_entry() {
	ctx_entries | grep -F "\"trace\":\"$1\""
}

# A program that uses the pinned traces_ctx_v1, as a profiler that reads it
# would: loaded (never attached) until stop_ctx_user.  The agent publishes
# spans there only while such a program is loaded.
start_ctx_user() {
	CTX_USER="/sys/fs/bpf/ks-test-ctx-user-$$"
	bpftool prog load "$WORKLOADS/trace_ctx_user.bpf.o" "$CTX_USER" \
		map name traces_ctx_v1 pinned "$PIN"
}

stop_ctx_user() {
	rm -f "$CTX_USER"
}

teardown() {
	[ -z "${CTX_USER:-}" ] || stop_ctx_user
	e2e_teardown
}

# A request to the threaded server that takes $1 seconds; sets CURL_PID.
slow_request() {
	curl -s -o /dev/null -H "traceparent: 00-$TRACE-$PARENT-01" \
		"$(url "$THREADED_PORT" "/slow?s=$1")" &
	CURL_PID=$!
}

@test "while a handler works, traces_ctx_v1 holds its span for its thread, then lets go" {
	local pinned_before=false entry tid span

	[ -e "$PIN" ] && pinned_before=true
	start_threaded
	start_receiver
	# curl is not watched: the header is the handler's parent.
	start_agent --http --comm python3
	# No program reads the map: nothing is published, all request long.
	slow_request 1
	while kill -0 "$CURL_PID" 2>/dev/null; do
		if ctx_entry "$TRACE"; then
			echo "published with no program using $PIN" >&2
			return 1
		fi
	done
	wait "$CURL_PID"

	start_ctx_user
	wait_until 10 grep -q "uses $PIN: spans are published there" "$AGENT_ERR"
	slow_request 2
	wait_until 5 ctx_entry "$TRACE"
	entry="$(ctx_entry "$TRACE")"
	tid=$((16#$(jq -r .tid <<<"$entry")))
	span="$(jq -r .span <<<"$entry")"
	wait "$CURL_PID"
	# The response's first write took it back.
	ctx_entries >"$BATS_TEST_TMPDIR/entries"
	if grep -qF "\"trace\":\"$TRACE\"" "$BATS_TEST_TMPDIR/entries"; then
		echo "still in $PIN after the response:" >&2
		cat "$BATS_TEST_TMPDIR/entries" >&2
		return 1
	fi
	wait_until 10 have_spans python3 2 2
	stop_ctx_user
	wait_until 10 grep -q "no other program uses $PIN" "$AGENT_ERR"
	stop_agent

	spans_of python3 2 | jq -e --arg t "$TRACE" --arg p "$PARENT" --arg s "$span" --arg tid "$tid" '
		map(select(.spanId == $s)) | length == 1 and (.[0] |
		.traceId == $t and .parentSpanId == $p and
		.attrs["thread.id"] == $tid and .attrs["url.path"] == "/slow" and
		((.endTimeUnixNano | tonumber) - (.startTimeUnixNano | tonumber)) > 2000000000)' >/dev/null
	# Created by this agent and used by nobody else: unpinned at the end.
	$pinned_before || [ ! -e "$PIN" ]
}

@test "a thread-per-request server's outgoing call is a child of the request it serves" {
	start_nginx
	start_threaded
	start_receiver
	start_agent --http --comm nginx --comm curl --comm python3
	curl -s -o /dev/null "$(url "$THREADED_PORT" "/call?port=$NGINX_PORT&path=/index.html")"
	wait_until 10 have_spans nginx 2 1
	wait_until 10 have_spans curl 3 1
	wait_until 10 have_spans python3 3 1
	wait_until 10 have_spans python3 2 1
	stop_agent

	# curl -> python (SERVER) -> python (CLIENT, same thread) -> nginx
	own_spans | jq -e -s '
		(map(select(.resource["service.name"] == "curl"))[0]) as $curl |
		(map(select((.resource["service.name"] | startswith("python3")) and .kind == 2))[0]) as $served |
		(map(select((.resource["service.name"] | startswith("python3")) and .kind == 3))[0]) as $call |
		(map(select(.resource["service.name"] == "nginx"))[0]) as $nginx |
		all($curl, $served, $call, $nginx; . != null) and
		$served.parentSpanId == $curl.spanId and $call.parentSpanId == $served.spanId and
		$nginx.parentSpanId == $call.spanId and
		([$curl, $served, $call, $nginx] | map(.traceId) | unique | length) == 1 and
		$call.attrs["thread.id"] == $served.attrs["thread.id"] and
		$call.attrs["url.path"] == "/index.html"' >/dev/null
}

# An off-CPU span under the (first) SERVER span arrived.
served_child_off_cpu() {
	own_spans | jq -e -s '(map(select(.kind == 2))[0].spanId) as $s |
		any(.[]; .name == "off cpu" and .parentSpanId == $s)' >/dev/null
}

# An off-CPU span of a thread other than the (first) SERVER span's arrived.
other_thread_off_cpu() {
	own_spans | jq -e -s '(map(select(.kind == 2))[0].attrs["thread.id"]) as $t |
		any(.[]; .name == "off cpu" and .attrs["thread.id"] != $t)' >/dev/null
}

@test "time a thread spends off CPU while it serves a request is a child of that request's span" {
	start_threaded
	start_receiver
	start_agent --http --offcpu-min 100ms --comm python3 --comm curl
	curl -s -o /dev/null "$(url "$THREADED_PORT" "/slow?s=0.3")"
	wait_until 10 have_spans python3 2 1
	wait_until 10 served_child_off_cpu
	# The accept loop's sleep after the accept ends at its next poll, up
	# to 0.5 s later: the agent must still run then.
	wait_until 10 other_thread_off_cpu
	stop_agent

	# The handler's sleep: inside the SERVER span, on its thread, in its
	# trace (curl's, which the SERVER span joined).
	own_spans | jq -e -s '
		(map(select(.kind == 2))[0]) as $served |
		(map(select(.kind == 3))[0]) as $curl |
		map(select(.name == "off cpu" and .parentSpanId == $served.spanId)) as $slept |
		($slept | length) == 1 and $slept[0].traceId == $served.traceId and
		$served.traceId == $curl.traceId and
		$slept[0].attrs["thread.id"] == $served.attrs["thread.id"] and
		($slept[0].startTimeUnixNano | tonumber) >= ($served.startTimeUnixNano | tonumber) and
		($slept[0].endTimeUnixNano | tonumber) <= ($served.endTimeUnixNano | tonumber)' >/dev/null
	# The accept loop sleeps too, serving nothing: its spans are one
	# trace per busy period of its thread, under a root of its own.
	own_spans | jq -e -s 'INDEX(.spanId) as $by | map(select(.name == "off cpu" and
		$by[.parentSpanId].name == "thread busy")) | length > 0' >/dev/null
}

# Entries of this agent's ks_socks map: sockets the kernel follows.
# The map is found by its name among the agent's.
tracked_sockets() {
	local id

	id="$(bpftool -j map show | jq --argjson ids "$(cat /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null |
		awk '/^map_id:/ { print $2 }' | jq -s unique)" \
		'.[] | select(.name == "ks_socks" and (.id as $id | $ids | index($id))) | .id')"
	bpftool map dump id "$id" -j | jq length
}

tracked_sockets_are() {
	test "$(tracked_sockets)" = "$1"
}

@test "a connection closed mid-request ends its span with an error, and nothing stays behind" {
	start_nginx
	start_receiver
	start_agent --http --comm nginx
	# A client the agent does not watch, gone in the middle of a body.
	exec 7<>"/dev/tcp/127.0.0.1/$NGINX_PORT"
	printf 'PUT /dav/f HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial' >&7
	wait_until 5 tracked_sockets_are 1
	exec 7>&-
	wait_until 10 have_spans nginx 2 1
	wait_until 5 tracked_sockets_are 0

	spans_of nginx 2 | jq -e '.[0] | .name == "PUT" and .status.code == 2 and
		.status.message == "connection closed before the response" and
		.attrs["error.type"] == "connection_closed" and
		(.attrs | has("http.response.status_code") | not)' >/dev/null
	stop_agent
	agent_records '.type == "summary"' | jq -e '.http.failed == 1 and .http.connections == 0' >/dev/null
}

@test "clients that exit with their connection open: each request is followed to its end" {
	start_nginx
	start_receiver
	start_agent --http --comm nginx --comm python3
	# Each child exits before its socket is closed (the exit is recorded
	# first), and the next child's socket often takes the freed one's
	# memory: ending the exited child's connection, the agent must not give
	# up the next one.
	"$PYTHON" -c '
import os, socket, sys
for n in range(20):
    pid = os.fork()
    if pid == 0:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(65536)
        os._exit(0)
    os.waitpid(pid, 0)
' "$NGINX_PORT"
	wait_until 10 have_spans nginx 2 20
	stop_agent

	# Every client's connection was followed: each server span is the
	# child of its client's span.
	spans_of nginx 2 | jq -e 'length == 20 and all(.[]; (.parentSpanId // "") != "") and
		([.[].parentSpanId] | unique | length) == 20' >/dev/null
}

@test "a watched collector's side of the agent's own exports is not traced" {
	local n

	start_nginx
	start_receiver
	# The receiver serves OTLP/HTTP: were its side of the exports traced,
	# each export would make a span for the next one.
	start_agent --http --comm nginx --pid "$RECEIVER_PID"
	# Each request after the last one's span arrived: three exports or more.
	for n in 1 2 3 4; do
		curl -s -o /dev/null "$(url "$NGINX_PORT" /index.html)"
		wait_until 10 have_spans nginx 2 "$n"
	done
	stop_agent

	spans | jq -e -s --arg pid "$RECEIVER_PID" '
		[.[] | select((.resource["process.pid"] | tostring) == $pid)] | length == 0' >/dev/null
	agent_records '.type == "summary"' | jq -e '.http.spans >= 4' >/dev/null
}

@test "RED metrics: http.server and http.client request durations with their attributes" {
	export OTEL_METRIC_EXPORT_INTERVAL=500
	start_nginx
	start_threaded
	start_receiver
	start_agent --http --http-route '/call' --comm nginx --comm python3 --comm curl \
		--listen 127.0.0.1:0
	curl -s -o /dev/null "$(url "$THREADED_PORT" "/call?port=$NGINX_PORT&path=/index.html")"
	curl -s -o /dev/null "$(url "$NGINX_PORT" /missing)"
	# curl is gone long before a periodic export: its last values are
	# sent when it exits.
	wait_until 10 has_metric '.name == "http.client.request.duration" and .resource["service.name"] == "curl"'
	# The same series in /metrics, where Prometheus's own linter reads them.
	curl -sf "http://$(agent_records '.type == "ready"' | jq -r .http)/metrics" \
		>"$BATS_TEST_TMPDIR/metrics.txt"
	promtool check metrics <"$BATS_TEST_TMPDIR/metrics.txt"
	grep -q '^http_server_request_duration_seconds_count{http_request_method="GET",url_scheme="http",network_protocol_version="1.1",http_response_status_code="404",' \
		"$BATS_TEST_TMPDIR/metrics.txt"
	stop_agent

	metrics | jq -e -s --arg port "$NGINX_PORT" '
		[.[] | select(.name == "http.server.request.duration" and .resource["service.name"] == "nginx")] |
		last | .unit == "s" and .histogram.aggregationTemporality == 2 and
		(.histogram.dataPoints | length) == 2 and
		all(.histogram.dataPoints[];
			(.explicitBounds | length) == 14 and
			(.bucketCounts | map(tonumber) | add) == (.count | tonumber) and
			(.attributes | from_entries | .["http.request.method"].stringValue == "GET" and
				.["url.scheme"].stringValue == "http" and
				.["network.protocol.version"].stringValue == "1.1")) and
		any(.histogram.dataPoints[]; .attributes | from_entries |
			.["http.response.status_code"].intValue == "404")' >/dev/null
	metrics | jq -e -s --arg port "$NGINX_PORT" '
		[.[] | select(.name == "http.client.request.duration" and
			(.resource["service.name"] | startswith("python3")))] | last |
		.histogram.dataPoints[0].attributes | from_entries |
		.["server.address"].stringValue == "127.0.0.1" and
		.["server.port"].intValue == $port and .["http.response.status_code"].intValue == "200"' >/dev/null
	# The route names the span and the server metric.
	has_own_span '.kind == 2 and .name == "GET /call" and .attrs["http.route"] == "/call"'
	# A client's template is url.template, never http.route.
	has_own_span '.kind == 3 and .name == "GET /call" and .attrs["url.template"] == "/call" and
		(.attrs | has("http.route") | not)'
	has_metric '.name == "http.server.request.duration" and
		any(.histogram.dataPoints[].attributes[]; .key == "http.route" and .value.stringValue == "/call")'
}
