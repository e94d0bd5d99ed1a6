#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make bench: knotscope's cost, side by side in one run, as ratios to the
# same workload without any tracing, next to the "uprobe on every lock"
# approach; how fast deadlocks and stalls are reported; and what --http costs nginx
# under wrk; and how fast the OTLP exporter encodes and sends.  Each
# configuration runs REPS times, interleaved with the others so drift hits
# all alike; the median is reported.  Results go to stdout and
# build/bench/results.md.  SECTIONS="tax locks latency http otlp" (the
# default) picks what runs; "tax" measures what system calls that never
# block pay.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# BUILD=DIR: another build's binaries.  BEFORE=PATH: the agent of another
# build (the one before a change), run interleaved with this one in the tax,
# locks and HTTP sections, so that both meet the same machine.
BUILD="${BUILD:-$ROOT/build}"
BEFORE="${BEFORE:-}"
KNOTSCOPE="$BUILD/knotscope"
LOCKBENCH="$BUILD/workloads/lockbench"
OUT="$BUILD/bench"
REPS="${REPS:-11}"
THREADS="${THREADS:-$(nproc)}"
# Lock/unlock pairs per thread; the uprobe peer gets fewer (it is ~1000x
# slower), which is fair because the figure compared is the cost per pair.
OPS="${OPS:-10000000}"
# Contention needs more threads than CPUs and a critical section long
# enough to be preempted in: then a few percent of acquisitions block.
THREADS_CONTENDED="${THREADS_CONTENDED:-$((2 * $(nproc)))}"
OPS_CONTENDED="${OPS_CONTENDED:-1000000}"
CRITICAL_SPINS="${CRITICAL_SPINS:-200}"
OPS_HANDOFF="${OPS_HANDOFF:-200000}"
OPS_UPROBE="${OPS_UPROBE:-100000}"
DEADLOCKS="${DEADLOCKS:-50}"
STALLS="${STALLS:-20}"
LIBC="$(ldd "$LOCKBENCH" | awk '/libc\.so/ { print $3 }')"
SECTIONS="${SECTIONS:-tax locks latency http otlp}"
# shellcheck source=tests/e2e/nginx.bash
. "$ROOT/tests/e2e/nginx.bash"

mkdir -p "$OUT"
AGENT_PID=
# BPF run-time statistics add two clock reads to every run of every BPF
# program: off while anything is measured, as they were found at the end.
STATS_BEFORE="$(sysctl -n kernel.bpf_stats_enabled)"
sysctl -q kernel.bpf_stats_enabled=0

NGINX_PIDS=

cleanup() {
	local pid

	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null || true
	for pid in $NGINX_PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	sysctl -q kernel.bpf_stats_enabled="$STATS_BEFORE"
}
trap cleanup EXIT

median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

percentile() {
	sort -g | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'
}

# Prints the workload's CPU ns per operation: user and system time of its
# threads, which includes the BPF programs the kernel runs for them, and
# which other load on the machine does not inflate the way it does
# wall-clock time.  The hand-off ring runs on one CPU: across CPUs its cost
# is the wake-up latency of the machine's scheduler, which changes from run
# to run more than anything measured here.
lockbench() {
	local mode=$1

	case "$mode" in
	private) "$LOCKBENCH" private "$THREADS" "$OPS" ;;
	shared) "$LOCKBENCH" shared "$THREADS_CONTENDED" "$OPS_CONTENDED" "$CRITICAL_SPINS" ;;
	handoff) taskset -c 0 "$LOCKBENCH" handoff 2 "$OPS_HANDOFF" ;;
	esac | awk '{ print $2 }'
}

start_agent() {
	local json="$OUT/agent.jsonl"

	: >"$json"
	"${AGENT:-$KNOTSCOPE}" --json "$json" "$@" 2>>"$OUT/agent.err" &
	AGENT_PID=$!
	until grep -q '"type":"ready"' "$json" 2>/dev/null; do
		kill -0 "$AGENT_PID" || { cat "$OUT/agent.err" >&2; exit 1; }
		sleep 0.05
	done
}

stop_agent() {
	kill -INT "$AGENT_PID"
	wait "$AGENT_PID"
	AGENT_PID=
}

# The agent's CPU time so far, in seconds.
agent_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' \
		/proc/"$AGENT_PID"/stat
}

# The arguments of lockbench for a mode, with OPS pairs per thread.
bench_args() {
	case "$1" in
	private) echo "private $THREADS $2 0" ;;
	shared) echo "shared $THREADS_CONTENDED $2 $CRITICAL_SPINS" ;;
	esac
}

run_uprobe_peer() {
	local mode=$1 script="$OUT/uprobe_every_lock.bt"

	sed "s|LIBC|$LIBC|g" "$ROOT/tests/bench/uprobe_every_lock.bt" >"$script"
	# shellcheck disable=SC2046 # the arguments are words
	bpftrace -q -c "$LOCKBENCH $(bench_args "$mode" "$OPS_UPROBE")" "$script" 2>/dev/null |
		awk '/^cpu_ns_per_op/ { print $2 }'
}

# knotscope in precise mode on the workload: its probes attached before
# the workload starts, which waits for a line on stdin until they are.
run_precise() {
	local mode=$1 ready="$OUT/precise.ready" out="$OUT/precise.out" agent workload result

	rm -f "$ready"
	: >"$out"
	# shellcheck disable=SC2046 # the arguments are words
	{ until [ -e "$ready" ]; do sleep 0.02; done; echo go; } |
		"$LOCKBENCH" $(bench_args "$mode" "$OPS_UPROBE") wait >"$out" &
	workload=$!
	until grep -q '^started' "$out"; do sleep 0.02; done
	# Emptied here: the agent's own redirection may come after the first
	# look for its message, which must not find the last run's.
	: >"$OUT/precise.err"
	"$KNOTSCOPE" -v --precise "$(awk '/^started/ { print $2 }' "$out")" \
		2>>"$OUT/precise.err" &
	agent=$!
	until grep -q 'probes on the mutex API' "$OUT/precise.err"; do
		kill -0 "$agent" || { cat "$OUT/precise.err" >&2; exit 1; }
		sleep 0.02
	done
	touch "$ready"
	wait "$workload"
	result="$(awk '/^cpu_ns_per_op/ { print $2 }' "$out")"
	kill -INT "$agent"
	wait "$agent"
	echo "$result"
}

MODES="${MODES:-private shared handoff}"

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a / b }'
}

# Futex waits the agent saw in its last run.
agent_waits() {
	jq -r 'select(.type == "summary") | .events.wait_begin' "$OUT/agent.jsonl"
}

declare -A samples

# Each repetition runs untraced, traced, untraced again, back to back: the
# traced run is compared with the mean of its two neighbours, and the two
# untraced runs with each other, which shows how noisy the machine is.
locks_section() {
	for rep in $(seq "$REPS"); do
		for mode in $MODES; do
			before="$(lockbench "$mode")"
			start_agent
			cpu_before="$(agent_cpu)"
			traced="$(lockbench "$mode")"
			samples[$mode,agent_cpu]+="$(awk -v a="$(agent_cpu)" -v b="$cpu_before" 'BEGIN { print a - b }') "
			stop_agent
			samples[$mode,waits]+="$(agent_waits) "
			after="$(lockbench "$mode")"
			base="$(awk -v a="$before" -v b="$after" 'BEGIN { print (a + b) / 2 }')"
			samples[$mode,base]+="$base "
			samples[$mode,added]+="$(awk -v t="$traced" -v b="$base" 'BEGIN { print t - b }') "
			samples[$mode,knotscope]+="$(ratio "$traced" "$base") "
			samples[$mode,noise]+="$(ratio "$after" "$before") "
			if [ -n "$BEFORE" ]; then
				AGENT="$BEFORE" start_agent
				samples[$mode,before]+="$(ratio "$(lockbench "$mode")" "$base") "
				stop_agent
			fi
			[ "$mode" = handoff ] && continue
			samples[$mode,uprobes]+="$(ratio "$(run_uprobe_peer "$mode")" "$base") "
			samples[$mode,precise]+="$(ratio "$(run_precise "$mode")" "$base") "
		done
		echo "rep $rep/$REPS done" >&2
	done

	{
		echo "## Locks"
		echo
		echo "$THREADS threads, $REPS repetitions."
		echo "Cost per lock/unlock pair in CPU time of the workload; ratios to the"
		echo "untraced runs on either side (median, and [min, max] over repetitions)."
		echo
		echo "| workload | untraced ns/op | knotscope |${BEFORE:+ before ($BEFORE) |} knotscope --precise | uprobe on every lock (bpftrace) | untraced vs untraced (noise) |"
		echo "|---|---|---|${BEFORE:+---|}---|---|---|"
		for mode in $MODES; do
			case "$mode" in
			private) label="uncontended: a mutex per thread, $THREADS threads" ;;
			shared) label="contended: one mutex for $THREADS_CONTENDED threads" ;;
			handoff) label="every op a blocking futex wait: 2 threads, 1 CPU" ;;
			esac
			if [ "$mode" = handoff ]; then
				peer="not run"
				precise="not run"
			else
				peer="$(printf '%.0fx [%.0f, %.0f]' "$(column "$mode,uprobes" | median)" \
					"$(column "$mode,uprobes" | percentile 0)" "$(column "$mode,uprobes" | percentile 100)")"
				precise="$(printf '%.1fx [%.1f, %.1f]' "$(column "$mode,precise" | median)" \
					"$(column "$mode,precise" | percentile 0)" "$(column "$mode,precise" | percentile 100)")"
			fi
			printf '| %s | %.1f | %s |%s %s | %s | %.3fx [%.3f, %.3f] |\n' \
				"$label" "$(column "$mode,base" | median)" "$(spread "$mode,knotscope")" \
				"${BEFORE:+ $(spread "$mode,before") |}" "$precise" "$peer" \
				"$(column "$mode,noise" | median)" "$(column "$mode,noise" | percentile 0)" "$(column "$mode,noise" | percentile 100)"
		done
		echo
		echo "- cost of one blocking futex wait under knotscope (hand-off): +$(column handoff,added | median) ns"
		for mode in $MODES; do
			echo "- $mode: futex waits seen per traced run (median) $(column "$mode,waits" | median), agent CPU time per run $(column "$mode,agent_cpu" | median) s"
		done
	}
}

# COUNT fresh hangs of a program (the command after the two), each under
# the same agent, until the record whose line matches PATTERN (the
# program's pid in place of PID); their pids go to $OUT/hang.pids.
hang_repeatedly() {
	local count=$1 pattern=$2 pid

	shift 2
	for _ in $(seq "$count"); do
		"$@" >"$OUT/hang.out" &
		pid=$!
		echo "$pid" >>"$OUT/hang.pids"
		until grep -q "${pattern//PID/$pid}" "$OUT/agent.jsonl"; do
			sleep 0.02
		done
		kill -9 "$pid"
		wait "$pid" 2>/dev/null || true
	done
}

# detection_latency_ms of the records that jq CONDITION selects, about
# processes of $OUT/hang.pids (others on the machine may hang too).
latencies_of() {
	jq -r --argjson ours "[$(paste -sd, "$OUT/hang.pids")]" "select($1 and
		((.pids // [.pid])[0] as \$pid | \$ours | index(\$pid))) | .detection_latency_ms" \
		"$OUT/agent.jsonl"
}

latency_line() {
	local values=$1

	printf '| %s | %d | %.0f | %.0f | %.0f |\n' "$2" "$(wc -l <<<"$values")" \
		"$(median <<<"$values")" "$(percentile 99 <<<"$values")" "$(percentile 100 <<<"$values")"
}

# --- Detection latency: from the last thread blocking to the report, for
# AB/BA deadlocks on mutexes and on rwlocks' write locks (--confirm-ms 100),
# and for stalls, processes whose threads all wait on semaphores nobody
# posts (--stall-ms 1000, the defaults).
latency_section() {
	local deadlocks rwlocks stalls

	: >"$OUT/hang.pids"
	start_agent
	hang_repeatedly "$DEADLOCKS" '"pids":\[PID\]' "$BUILD/workloads/abba"
	hang_repeatedly "$DEADLOCKS" '"pids":\[PID\]' "$BUILD/workloads/rwlock" writers
	hang_repeatedly "$STALLS" '"pid":PID,"process_comm"' "$BUILD/workloads/stall" sem
	stop_agent
	deadlocks="$(latencies_of '.type == "deadlock" and .threads[0].wait.kind == "mutex"')"
	rwlocks="$(latencies_of '.type == "deadlock" and .threads[0].wait.kind == "rwlock-write"')"
	stalls="$(latencies_of '.type == "stall"')"

	echo "## Detection latency"
	echo
	echo "From the last thread blocking to the report (ms); deadlocks are"
	echo "confirmed after 100 ms (--confirm-ms), stalls after 1000 ms (--stall-ms)."
	echo
	echo "| hang | reports | median | p99 | max |"
	echo "|---|---|---|---|---|"
	latency_line "$deadlocks" "AB/BA deadlock, pthread mutexes"
	latency_line "$rwlocks" "AB/BA deadlock, pthread rwlock write locks"
	latency_line "$stalls" "stall: two threads on sem_t nobody posts"
}

# --- HTTP: nginx's requests/s under wrk, untraced and with --http.
# One nginx worker serves a small page over kept-alive connections as fast
# as wrk asks (a closed loop: the highest rate this machine sustains).
# knotscope watches that nginx only: without --http (deadlock detection
# alone: what the scheduler programs cost), then with it,
# once building spans and metrics without sending them ("capture"), once
# exporting every span over OTLP to a second nginx that discards them
# ("export").  Interleaved as above; HTTP_MODES picks some of them.
# Besides requests/s, each run's CPU time per request (nginx's worker, wrk
# and the agent; BPF programs run in the system calls of the first two):
# what other load on the machine changes least.
HTTP_REPS="${HTTP_REPS:-9}"
HTTP_SECONDS="${HTTP_SECONDS:-5}"
HTTP_CONNECTIONS="${HTTP_CONNECTIONS:-32}"
HTTP_MODES="${HTTP_MODES:-locks-only capture export${BEFORE:+ before-locks-only before-capture before-export}}"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nginx NAME PORT LOCATION: nginx under $OUT/NAME whose only location
# is LOCATION; sets NGINX_MASTER.
start_nginx() {
	local dir="$OUT/$1"

	nginx_conf "$dir" "$2" "$3"
	head -c 612 /dev/zero | tr '\0' x >"$dir/html/index.html"
	nginx_start "$dir"
	NGINX_PIDS="$NGINX_PIDS $NGINX_MASTER"
	until (: >"/dev/tcp/127.0.0.1/$2") 2>/dev/null; do
		sleep 0.05
	done
}

# CPU seconds process $1 used so far.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' /proc/"$1"/stat
}

# One wrk run against $1: prints "requests/s CPU-seconds-per-request",
# the CPU of nginx's worker $2, of wrk, and of the agent if one runs.
wrk_run() {
	local out="$OUT/wrk.out" nginx_before agent_before=0 agent_after=0

	nginx_before="$(cpu_of "$2")"
	[ -n "$AGENT_PID" ] && agent_before="$(cpu_of "$AGENT_PID")"
	{ TIMEFORMAT='%U %S'; time wrk -t1 -c"$HTTP_CONNECTIONS" -d"${HTTP_SECONDS}s" "$1" >"$out"; } 2>"$OUT/wrk.cpu"
	[ -n "$AGENT_PID" ] && agent_after="$(cpu_of "$AGENT_PID")"
	awk -v n0="$nginx_before" -v n1="$(cpu_of "$2")" -v a0="$agent_before" -v a1="$agent_after" \
		-v w="$(awk '{ print $1 + $2 }' "$OUT/wrk.cpu")" '
		/requests in/ { requests = $1 }
		/^Requests\/sec:/ { rps = $2 }
		END { printf "%s %.9f %.9f\n", rps, (n1 - n0 + w + a1 - a0) / requests, (a1 - a0) / requests }' "$out"
}

# The agent's BPF programs whose names start with $1: "name ns runs" (each
# appears twice in fdinfo: the program's descriptor and its link's).
prog_costs() {
	local fd id

	for fd in /proc/"$AGENT_PID"/fdinfo/*; do
		id="$(awk '/^prog_id:/ { print $2 }' "$fd")"
		if [ -n "$id" ]; then
			bpftool prog show id "$id" -j
		fi
	done | jq -s -r --arg p "$1" 'unique_by(.id) | .[] | select(.name | startswith($p)) |
		select(.run_cnt > 0) | "\(.name) \(.run_time_ns) \(.run_cnt)"'
}

http_label() {
	case "$1" in
	locks-only) echo "knotscope without --http" ;;
	before-locks-only) echo "before, without --http" ;;
	before-*) echo "before, --http, ${1#before-}" ;;
	*) echo "--http, $1" ;;
	esac
}

# Each mode against its before- twin of the same repetition: their runs are
# seconds apart, so the host's drift, which can move the untraced runs on
# either side of a repetition by half, moves this ratio far less.
http_against_before() {
	local mode header=

	for mode in $HTTP_MODES; do
		[ -n "${samples[http_$mode,vs_before]:-}" ] || continue
		[ -n "$header" ] || {
			echo
			echo "Requests/s against the build before, in the same repetition (median [min, max]):"
			echo
			header=1
		}
		echo "- $(http_label "$mode"): $(spread "http_$mode,vs_before")"
	done
}

http_section() {
	local web_port sink_port url worker workers mode before after base run
	local requests rps cpu agent

	web_port="$(free_port)"
	sink_port="$(free_port)"
	start_nginx web "$web_port" "location / { }"
	worker="$(pgrep -P "$NGINX_MASTER")"
	workers="--pid $NGINX_MASTER --pid $worker"
	start_nginx sink "$sink_port" "location / { return 200; }"
	url="http://127.0.0.1:$web_port/index.html"
	for rep in $(seq "$HTTP_REPS"); do
		before="$(wrk_run "$url" "$worker")"
		for mode in $HTTP_MODES; do
			# shellcheck disable=SC2086 # the two --pid options
			case "$mode" in
			locks-only) start_agent $workers ;;
			capture) start_agent --http $workers ;;
			export) OTEL_BSP_MAX_QUEUE_SIZE=65536 start_agent --http $workers \
				--otlp-endpoint "http://127.0.0.1:$sink_port" ;;
			before-locks-only) AGENT="$BEFORE" start_agent $workers ;;
			before-capture) AGENT="$BEFORE" start_agent --http $workers ;;
			before-export) OTEL_BSP_MAX_QUEUE_SIZE=65536 AGENT="$BEFORE" start_agent --http $workers \
				--otlp-endpoint "http://127.0.0.1:$sink_port" ;;
			esac
			run="$(wrk_run "$url" "$worker")"
			stop_agent
			samples[http_$mode,run]="$run"
			samples[http_$mode,spans]+="$(jq -r 'select(.type == "summary") | .http.spans // 0' "$OUT/agent.jsonl") "
			samples[http_$mode,lost]+="$(jq -r 'select(.type == "summary") |
				.kernel_drops + (.export.traces.dropped_queue_full // 0)' "$OUT/agent.jsonl") "
		done
		after="$(wrk_run "$url" "$worker")"
		base="$(awk -v a="$before" -v b="$after" 'BEGIN { split(a, x, " "); split(b, y, " ");
			print (x[1] + y[1]) / 2, (x[2] + y[2]) / 2 }')"
		samples[http,rps]+="${base%% *} "
		samples[http,cpu]+="${base##* } "
		samples[http,noise]+="$(ratio "${after%% *}" "${before%% *}") "
		for mode in $HTTP_MODES; do
			read -r rps cpu agent <<<"${samples[http_$mode,run]}"
			samples[http_$mode,rps]+="$rps "
			samples[http_$mode,ratio]+="$(ratio "$rps" "${base%% *}") "
			samples[http_$mode,cpu]+="$cpu "
			samples[http_$mode,cpu_ratio]+="$(ratio "$cpu" "${base##* }") "
			samples[http_$mode,agent]+="$agent "
		done
		for mode in $HTTP_MODES; do
			case " $HTTP_MODES " in
			*" before-$mode "*)
				samples[http_$mode,vs_before]+="$(ratio "${samples[http_$mode,run]%% *}" \
					"${samples[http_before-$mode,run]%% *}") "
				;;
			esac
		done
		echo "http rep $rep/$HTTP_REPS done" >&2
	done

	# What the kernel side costs, measured apart, with statistics on.
	# shellcheck disable=SC2086
	start_agent --http $workers
	sysctl -q kernel.bpf_stats_enabled=1
	requests="$(wrk -t1 -c"$HTTP_CONNECTIONS" -d"${HTTP_SECONDS}s" "$url" |
		awk '/requests in/ { print $1 }')"
	prog_costs ks_ >"$OUT/bpf_costs"
	sysctl -q kernel.bpf_stats_enabled=0
	stop_agent

	echo "## HTTP: nginx requests/s under wrk"
	echo
	echo "One nginx worker, a 612-byte page, wrk -t1 -c$HTTP_CONNECTIONS for ${HTTP_SECONDS}s, $HTTP_REPS repetitions;"
	echo "ratios to the untraced runs on either side (median, [min, max]).  CPU per request:"
	echo "nginx's worker + wrk + the agent."
	echo
	echo "| configuration | requests/s | ratio | CPU us/request | ratio | agent us/request | spans/run | lost |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '| untraced | %.0f | 1 (noise %.3f [%.3f, %.3f]) | %.2f | 1 | | | |\n' \
		"$(column http,rps | median)" "$(column http,noise | median)" \
		"$(column http,noise | percentile 0)" "$(column http,noise | percentile 100)" \
		"$(awk -v c="$(column http,cpu | median)" 'BEGIN { print c * 1e6 }')"
	for mode in $HTTP_MODES; do
		printf '| %s | %.0f | %.3f [%.3f, %.3f] | %.2f | %.3f [%.3f, %.3f] | %.2f | %.0f | %.0f |\n' "$(http_label "$mode")" \
			"$(column "http_$mode,rps" | median)" "$(column "http_$mode,ratio" | median)" \
			"$(column "http_$mode,ratio" | percentile 0)" "$(column "http_$mode,ratio" | percentile 100)" \
			"$(awk -v c="$(column "http_$mode,cpu" | median)" 'BEGIN { print c * 1e6 }')" \
			"$(column "http_$mode,cpu_ratio" | median)" \
			"$(column "http_$mode,cpu_ratio" | percentile 0)" "$(column "http_$mode,cpu_ratio" | percentile 100)" \
			"$(awk -v c="$(column "http_$mode,agent" | median)" 'BEGIN { print c * 1e6 }')" \
			"$(column "http_$mode,spans" | median)" "$(column "http_$mode,lost" | percentile 100)"
	done
	http_against_before
	echo
	echo "Kernel side, $requests requests with bpf_stats_enabled (all system calls of the machine run them):"
	echo
	echo "| program | runs | ns per run | ns per request |"
	echo "|---|---|---|---|"
	awk -v r="$requests" '{ printf "| %s | %d | %.0f | %.0f |\n", $1, $3, $2 / $3, $2 / r }' "$OUT/bpf_costs"
}

column() {
	tr ' ' '\n' <<<"${samples[$1]}" | grep .
}

# "median x [min, max]" of a column of ratios.
spread() {
	printf '%.3fx [%.3f, %.3f]' "$(column "$1" | median)" "$(column "$1" | percentile 0)" \
		"$(column "$1" | percentile 100)"
}

# --- Syscall tax: what a program that never blocks pays for the agent
# being there.  One thread in a loop of getppid() (a call the agent has no
# interest in) and one writing a byte into a pipe and reading it back (calls
# --channel-edges watches, on a pipe no other thread touches), each
# untraced, under the default agent (no system call hooked), under
# --channel-edges and under --http (every process watched), interleaved;
# CPU time per iteration.
TAX_REPS="${TAX_REPS:-7}"
TAX_GETPPID_OPS="${TAX_GETPPID_OPS:-1000000}"
TAX_PIPE_OPS="${TAX_PIPE_OPS:-300000}"
TAX_MODES="${TAX_MODES:-default channels http${BEFORE:+ before_default before_http}}"
SYSCALLTAX="$BUILD/workloads/syscalltax"

tax_loops() {
	echo "$("$SYSCALLTAX" getppid "$TAX_GETPPID_OPS" | awk '/^cpu_ns_per_op/ { print $2 }')" \
		"$("$SYSCALLTAX" pipe "$TAX_PIPE_OPS" | awk '/^cpu_ns_per_op/ { print $2 }')"
}

tax_section() {
	local before after base run mode loop i

	for rep in $(seq "$TAX_REPS"); do
		before="$(tax_loops)"
		for mode in $TAX_MODES; do
			case "$mode" in
			default) start_agent --listen off ;;
			channels) start_agent --listen off --channel-edges ;;
			http) start_agent --listen off --http ;;
			before_default) AGENT="$BEFORE" start_agent --listen off ;;
			before_http) AGENT="$BEFORE" start_agent --listen off --http ;;
			esac
			samples[tax_$mode,run]="$(tax_loops)"
			stop_agent
		done
		after="$(tax_loops)"
		i=0
		for loop in getppid pipe; do
			i=$((i + 1))
			base="$(awk -v a="$(cut -d' ' -f$i <<<"$before")" -v b="$(cut -d' ' -f$i <<<"$after")" \
				'BEGIN { print (a + b) / 2 }')"
			samples[tax_$loop,base]+="$base "
			samples[tax_$loop,noise]+="$(ratio "$(cut -d' ' -f$i <<<"$after")" "$(cut -d' ' -f$i <<<"$before")") "
			for mode in $TAX_MODES; do
				run="$(cut -d' ' -f$i <<<"${samples[tax_$mode,run]}")"
				samples[tax_${loop}_$mode,ratio]+="$(ratio "$run" "$base") "
				samples[tax_${loop}_$mode,added]+="$(awk -v t="$run" -v b="$base" 'BEGIN { print t - b }') "
			done
		done
		echo "tax rep $rep/$TAX_REPS done" >&2
	done

	echo "## Syscall tax"
	echo
	echo "One thread, CPU time per loop iteration, $TAX_REPS repetitions; ratios to the untraced"
	echo "runs on either side (median, [min, max]) and the time added per iteration (median)."
	echo "The agent watches every process.${BEFORE:+  before: $BEFORE, interleaved.}"
	echo
	printf '| loop | untraced ns |'
	for mode in $TAX_MODES; do
		case "$mode" in
		default) printf ' knotscope | added ns |' ;;
		channels) printf ' knotscope --channel-edges | added ns |' ;;
		http) printf ' knotscope --http | added ns |' ;;
		before_default) printf ' before | added ns |' ;;
		before_http) printf ' before, --http | added ns |' ;;
		esac
	done
	printf ' untraced vs untraced (noise) |\n|---|---|'
	for mode in $TAX_MODES; do
		printf -- '---|---|'
	done
	printf -- '---|\n'
	for loop in getppid pipe; do
		case "$loop" in
		getppid) label="getppid(), $TAX_GETPPID_OPS calls" ;;
		pipe) label="write 1 byte into a pipe, read it back, $TAX_PIPE_OPS rounds" ;;
		esac
		printf '| %s | %.1f |' "$label" "$(column "tax_$loop,base" | median)"
		for mode in $TAX_MODES; do
			printf ' %s | %+.0f |' "$(spread "tax_${loop}_$mode,ratio")" \
				"$(column "tax_${loop}_$mode,added" | median)"
		done
		printf ' %.3fx [%.3f, %.3f] |\n' "$(column "tax_$loop,noise" | median)" \
			"$(column "tax_$loop,noise" | percentile 0)" "$(column "tax_$loop,noise" | percentile 100)"
	done
}

# --- OTLP: the exporter alone (tests/otlp/otlp_driver: the agent's export
# code without BPF), OTLP_ITEMS spans or log records handed over as fast as
# it takes them, to tests/otlp/receiver.js, which decodes every request.
# CPU is the driver's, all threads: building the items, encoding,
# compressing, sending.  The queue holds them all: nothing is dropped.
OTLP_ITEMS="${OTLP_ITEMS:-100000}"
OTLP_REPS="${OTLP_REPS:-5}"
OTLP_DRIVER="$BUILD/tests/otlp/otlp_driver"

# otlp_run SIGNAL COMPRESSION: "items/CPU-second bytes/item" of one run.
otlp_run() {
	local out="$OUT/otlp.jsonl" fifo="$OUT/otlp.port" receiver port cpu

	: >"$out"
	rm -f "$fifo"
	mkfifo "$fifo"
	node "$ROOT/tests/otlp/receiver.js" --headers-only --out "$out" >"$fifo" 2>>"$OUT/receiver.err" &
	receiver=$!
	read -r -t 30 port <"$fifo"
	{ TIMEFORMAT='%U %S'; time OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" \
		OTEL_EXPORTER_OTLP_COMPRESSION="$2" OTEL_BSP_MAX_QUEUE_SIZE="$OTLP_ITEMS" \
		OTEL_BLRP_MAX_QUEUE_SIZE="$OTLP_ITEMS" \
		"$OTLP_DRIVER" --"$1" "$OTLP_ITEMS" --stop-ms 120000 >"$OUT/otlp_stats.json"; } 2>"$OUT/otlp.cpu"
	kill "$receiver"
	wait "$receiver" 2>/dev/null || true
	jq -e --arg s "$([ "$1" = spans ] && echo traces || echo logs)" --argjson n "$OTLP_ITEMS" \
		'.[$s].exported == $n' "$OUT/otlp_stats.json" >/dev/null || {
		echo "otlp bench: not every item was exported" >&2
		cat "$OUT/otlp_stats.json" >&2
		exit 1
	}
	cpu="$(awk '{ print $1 + $2 }' "$OUT/otlp.cpu")"
	jq -s -r --argjson n "$OTLP_ITEMS" --argjson cpu "$cpu" \
		'"\($n / $cpu) \(map(select(.status == 200) | .headers["content-length"] | tonumber) | add / $n)"' "$out"
}

otlp_section() {
	local signal compression result

	for rep in $(seq "$OTLP_REPS"); do
		for signal in spans logs; do
			for compression in none gzip; do
				result="$(otlp_run "$signal" "$compression")"
				samples[otlp_${signal}_$compression,rate]+="${result%% *} "
				samples[otlp_${signal}_$compression,bytes]+="${result##* } "
			done
		done
		echo "otlp rep $rep/$OTLP_REPS done" >&2
	done

	echo "## OTLP export"
	echo
	echo "$OTLP_ITEMS items per run through the agent's exporter to a decoding receiver, $OTLP_REPS repetitions"
	echo "(median): items per second of CPU (all of the sender's threads: building, encoding,"
	echo "compressing, sending), CPU per 10k items, and request body bytes per item."
	echo
	echo "| items | compression | items per CPU-second | CPU ms per 10k | bytes per item |"
	echo "|---|---|---|---|---|"
	for signal in spans logs; do
		for compression in none gzip; do
			printf '| %s | %s | %.0f | %.1f | %.1f |\n' "$signal" "$compression" \
				"$(column "otlp_${signal}_$compression,rate" | median)" \
				"$(awk -v r="$(column "otlp_${signal}_$compression,rate" | median)" 'BEGIN { print 1e7 / r }')" \
				"$(column "otlp_${signal}_$compression,bytes" | median)"
		done
	done
}

{
	echo "# knotscope benchmark"
	echo
	echo "Linux $(uname -r), $(nproc) CPUs."
	echo
} | tee "$OUT/results.md"
# Not in a pipeline: a section's servers must be the trap's to stop.
for section in $SECTIONS; do
	"${section}_section" >"$OUT/$section.md"
	{ cat "$OUT/$section.md"; echo; } | tee -a "$OUT/results.md"
done
