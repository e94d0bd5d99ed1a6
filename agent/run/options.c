// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/decimal.h"
#include "base/version.h"
#include "capture/bpf_pins.h"
#include "capture/trace_ctx_map.h"
#include "meta/k8s_api.h"
#include "otlp/otlp_config.h"
#include "run/options.h"
#include "serve/history.h"
#include "serve/listen_addr.h"

enum {
	OPT_CONFIRM_MS = 0x100,
	OPT_STALL_MS,
	OPT_IO_SWEEP_MS,
	OPT_RINGBUF_MB,
	OPT_MIN_WAIT,
	OPT_WAIT_STACK_EVERY,
	OPT_OTLP_ENDPOINT,
	OPT_OTLP_HEADER,
	OPT_OTLP_COMPRESSION,
	OPT_OTLP_TIMEOUT_MS,
	OPT_OTLP_PROTOCOL,
	OPT_PRECISE,
	OPT_ATTACH,
	OPT_SYSCALL_HOOKS,
	OPT_WAIT_HOOKS,
	OPT_CHANNEL_EDGES,
	OPT_PREFLIGHT,
	OPT_OFFCPU_MIN,
	OPT_LISTEN,
	OPT_LISTEN_TOKEN_FILE,
	OPT_HISTORY_FILE,
	OPT_TRACE_URL,
	OPT_PIN,
	OPT_PIN_DIR,
	OPT_KEEP_PINS,
	OPT_BPF_STATS,
	OPT_HTTP,
	OPT_HTTP_CAPTURE_BYTES,
	OPT_HTTP_QUERY,
	OPT_HTTP_ROUTE,
	OPT_BPFFS,
	OPT_SCRAPE_INTERVAL,
	OPT_CONFIG,
	OPT_CHECK_CONFIG,
	OPT_MEMORY_LIMIT,
	OPT_K8S_API,
	OPT_K8S_CREDENTIALS,
	OPT_K8S_WELL_KNOWN_LABELS,
};

const struct option ks_long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "comm", required_argument, NULL, 'c' },
	{ "json", required_argument, NULL, 'j' },
	{ "duration", required_argument, NULL, 'd' },
	{ "confirm-ms", required_argument, NULL, OPT_CONFIRM_MS },
	{ "stall-ms", required_argument, NULL, OPT_STALL_MS },
	{ "io-sweep-ms", required_argument, NULL, OPT_IO_SWEEP_MS },
	{ "ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB },
	{ "min-wait", required_argument, NULL, OPT_MIN_WAIT },
	{ "wait-stack-every", required_argument, NULL, OPT_WAIT_STACK_EVERY },
	{ "offcpu-min", required_argument, NULL, OPT_OFFCPU_MIN },
	{ "otlp-endpoint", required_argument, NULL, OPT_OTLP_ENDPOINT },
	{ "otlp-header", required_argument, NULL, OPT_OTLP_HEADER },
	{ "otlp-compression", required_argument, NULL, OPT_OTLP_COMPRESSION },
	{ "otlp-timeout-ms", required_argument, NULL, OPT_OTLP_TIMEOUT_MS },
	{ "otlp-protocol", required_argument, NULL, OPT_OTLP_PROTOCOL },
	{ "precise", required_argument, NULL, OPT_PRECISE },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "syscall-hooks", required_argument, NULL, OPT_SYSCALL_HOOKS },
	{ "wait-hooks", required_argument, NULL, OPT_WAIT_HOOKS },
	{ "channel-edges", no_argument, NULL, OPT_CHANNEL_EDGES },
	{ "preflight", required_argument, NULL, OPT_PREFLIGHT },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "listen-token-file", required_argument, NULL, OPT_LISTEN_TOKEN_FILE },
	{ "history-file", required_argument, NULL, OPT_HISTORY_FILE },
	{ "trace-url", required_argument, NULL, OPT_TRACE_URL },
	{ "pin", no_argument, NULL, OPT_PIN },
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "keep-pins", no_argument, NULL, OPT_KEEP_PINS },
	{ "bpf-stats", no_argument, NULL, OPT_BPF_STATS },
	{ "http", no_argument, NULL, OPT_HTTP },
	{ "http-capture-bytes", required_argument, NULL,
	  OPT_HTTP_CAPTURE_BYTES },
	{ "http-query", no_argument, NULL, OPT_HTTP_QUERY },
	{ "http-route", required_argument, NULL, OPT_HTTP_ROUTE },
	{ "bpffs", required_argument, NULL, OPT_BPFFS },
	{ "scrape-interval", required_argument, NULL, OPT_SCRAPE_INTERVAL },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT },
	{ "k8s-api", required_argument, NULL, OPT_K8S_API },
	{ "k8s-credentials", required_argument, NULL, OPT_K8S_CREDENTIALS },
	{ "k8s-well-known-labels", no_argument, NULL,
	  OPT_K8S_WELL_KNOWN_LABELS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

/*
 * The one description of the options: --help prints it, and the manual page
 * is made from that output at build time (help2man), so the two cannot
 * disagree.  Headings are one line ending in ':', options start with '-':
 * that is what help2man turns into sections and option entries.
 */
void ks_options_usage(FILE *out)
{
	fprintf(out,
		"Usage: knotscope [OPTION]...\n"
		"Watch running programs with eBPF and report deadlocks as they happen:\n"
		"threads blocked on each other in a cycle, with the locks, their holders\n"
		"and the symbolized stacks where each thread waits; with --http, also\n"
		"the HTTP requests they serve and make, as spans and metrics.  Needs root\n"
		"(or CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE) and a kernel with BTF.\n"
		"\n"
		"Selection (default: every process on the machine but knotscope):\n"
		"  -p, --pid PID          watch process PID (repeatable)\n"
		"  -c, --comm NAME        watch processes whose command name is NAME,\n"
		"                         as shown by ps -o comm (repeatable; at most\n"
		"                         15 characters, like the kernel's)\n"
		"\n"
		"Output (human-readable reports always go to stderr):\n"
		"  -j, --json PATH|-      also write one JSON object per line to PATH,\n"
		"                         or to stdout for '-': ready, deadlock, stall,\n"
		"                         lock_order_inversion, process, summary\n"
		"\n"
		"Detection:\n"
		"      --confirm-ms MS    report a cycle once it has stood unchanged for\n"
		"                         MS milliseconds (default %u, 1..60000)\n"
		"      --stall-ms MS|off  report a process whose every thread waits,\n"
		"                         untimed, on futexes nothing else can wake,\n"
		"                         once the same waits have stood MS ms\n"
		"                         (default %u, 1..600000)\n"
		"      --io-sweep-ms MS   look for threads blocked for good in reads,\n"
		"                         writes, polls of pipes and sockets and waits\n"
		"                         for children at most every MS milliseconds,\n"
		"                         from /proc (default %u, 0..60000; 0: never)\n"
		"      --precise PID|COMM  precise mode for this process (a number) or\n"
		"                         these processes (a command name), repeatable:\n"
		"                         uprobes on their every pthread mutex call find\n"
		"                         lock-order inversions, potential deadlocks,\n"
		"                         and cost each call a trap into the kernel\n"
		"\n"
		"OpenTelemetry export (OTLP over HTTP with protobuf, or over gRPC):\n"
		"      --otlp-endpoint URL  base URL: /v1/traces|metrics|logs appended\n"
		"                         over HTTP, where the Export calls go over gRPC;\n"
		"                         export is off unless an endpoint is given here\n"
		"                         or in OTEL_EXPORTER_OTLP_*ENDPOINT, and these\n"
		"                         options win over the OTEL_* variables\n"
		"      --otlp-protocol http/protobuf|grpc  (default http/protobuf)\n"
		"      --otlp-header NAME=VALUE  an HTTP header (repeatable)\n"
		"      --otlp-compression gzip|none  compress requests (default none)\n"
		"      --otlp-timeout-ms MS  timeout of one request (default %u)\n"
		"      --min-wait DURATION  lock waits and blocking pipe, unix socket and\n"
		"                         eventfd reads this long or longer become\n"
		"                         spans, e.g. 500us, 1ms, 2s (default 1ms; 0: all)\n"
		"      --wait-stack-every DURATION  a thread copies its stack at a\n"
		"                         futex wait at most this often; a wait in\n"
		"                         between names its site if it lasts as long\n"
		"                         as a span needs, or is reported (default\n"
		"                         100us; 0: at every wait)\n"
		"      --offcpu-min DURATION  also make a span of every time a watched\n"
		"                         thread is off CPU this long or longer, linked\n"
		"                         to the thread that woke it (default: off; it\n"
		"                         traces every context switch)\n"
		"      --channel-edges    follow every message through pipes, unix\n"
		"                         sockets and eventfds, and every reap of a\n"
		"                         child, for happens-before and read spans\n"
		"                         (default: off, only the wake-ups of blocked\n"
		"                         reads and waits; hooking those system calls\n"
		"                         puts every task of the machine on the\n"
		"                         kernel's slower system call path)\n"
		"\n"
		"Dashboard, metrics and probes (HTTP):\n"
		"      --listen ADDR:PORT|off  serve the live dashboard, its JSON API,\n"
		"                         /metrics (Prometheus), /healthz and /readyz\n"
		"                         (default %s: this machine only;\n"
		"                         [::1]:PORT for IPv6; port 0: any free one)\n"
		"      --listen-token-file PATH  require 'Authorization: Bearer TOKEN'\n"
		"                         with the token on PATH's first line, or a\n"
		"                         browser's login with it, on all but\n"
		"                         /healthz and /readyz\n"
		"      --scrape-interval DURATION  how often Prometheus scrapes /metrics:\n"
		"                         an exited process's series stay that long\n"
		"                         (default 60s)\n"
		"      --history-file PATH  keep the dashboard's findings (deadlocks\n"
		"                         and stalls) in PATH too, across restarts\n"
		"                         (the latest %d; PATH never grows past\n"
		"                         twice that)\n"
		"      --trace-url TEMPLATE  link deadlocks and requests on the page\n"
		"                         to a trace viewer: {trace_id} is replaced,\n"
		"                         e.g. http://jaeger:16686/trace/{trace_id}\n"
		"      --bpf-stats        turn on the kernel's BPF run-time statistics\n"
		"                         to show what each BPF program costs (while on,\n"
		"                         they slow every BPF program on the machine)\n"
		"\n"
		"Inspection with bpftool:\n"
		"      --pin              pin maps and programs by name under\n"
		"                         %s/, removed at exit\n"
		"      --pin-dir DIR      --pin, under DIR (in the BPF filesystem)\n"
		"                         instead: one per agent on a machine\n"
		"      --keep-pins        with --pin: leave them there at exit\n"
		"\n"
		"HTTP spans and metrics (plaintext HTTP/1.x, from the socket layer's\n"
		"tracepoints, Linux 6.3 or later):\n"
		"      --http             trace the HTTP requests the watched processes\n"
		"                         serve (SERVER spans) and make (CLIENT spans);\n"
		"                         no header value but traceparent and\n"
		"                         tracestate, and no body, is kept\n"
		"      --http-capture-bytes N  bytes copied from the start of each read\n"
		"                         and write (default %u, %u..%u)\n"
		"      --http-query       keep query strings in url.query and url.full\n"
		"                         (default: dropped, they may hold secrets)\n"
		"      --http-route TEMPLATE  a route such as /users/{id} or /static/*,\n"
		"                         for http.route and span names (repeatable)\n"
		"      --bpffs DIR|none   BPF filesystem where the traces_ctx_v1 map\n"
		"                         shared with profilers is pinned (default %s)\n"
		"\n"
		"Kubernetes (workloads, labels and service names of the pods on\n"
		"this node, from the API server; node name from K8S_NODE_NAME):\n"
		"      --k8s-api auto|off|URL  the API server: auto (default) uses\n"
		"                         the in-cluster one when run in a pod\n"
		"      --k8s-credentials DIR  service account directory with token\n"
		"                         and ca.crt (default: the pod's own,\n"
		"                         %s)\n"
		"      --k8s-well-known-labels  let app.kubernetes.io/instance, name\n"
		"                         and version labels name services\n"
		"\n"
		"Configuration:\n"
		"      --config FILE      every option in a YAML file (see the docs and\n"
		"                         its schema); options given here, and OTEL_*\n"
		"                         variables for its OTLP settings, override it\n"
		"      --check-config     check the file, the OTEL_* variables and the\n"
		"                         options, then exit: 0 when they are valid\n"
		"\n"
		"Running:\n"
		"  -d, --duration SEC     stop after SEC seconds (default: until SIGINT\n"
		"                         or SIGTERM)\n"
		"      --memory-limit SIZE|off  the agent's memory ceiling, e.g. 256Mi\n"
		"                         or 1G (K, M, G: powers of 1024): it sheds\n"
		"                         spans from 75%% of it, counted (default: its\n"
		"                         cgroup's memory limit, if any)\n"
		"      --ringbuf-mb MB    kernel-to-agent ring buffer size, a power of\n"
		"                         two from 1 to 1024 (default %u)\n"
		"      --preflight enforce|warn  what a failed start-up check of the\n"
		"                         kernel and privileges does: stop with the\n"
		"                         reason (default), or warn and start anyway\n"
		"      --attach tp_btf|raw_tp  how to attach to tracepoints (default:\n"
		"                         tp_btf where the kernel allows it)\n"
		"      --wait-hooks sched|syscall  where futex waits are seen: when\n"
		"                         their thread blocks and is woken (default; no\n"
		"                         system call hooked), or at the futex calls\n"
		"                         (also waits that never slept, and what a\n"
		"                         priority-inheritance lock call returned)\n"
		"      --syscall-hooks fentry|tracepoint|sys_enter  how to hook the\n"
		"                         system calls that waits seen at the futex\n"
		"                         calls and channel edges need\n"
		"                         (default: the cheapest the kernel allows, in\n"
		"                         that order)\n"
		"  -v, --verbose          more diagnostics on stderr (repeat for more)\n"
		"  -h, --help             show this help and exit\n"
		"  -V, --version          show the version and exit\n"
		"\n"
		"Exit status: 0 after a clean stop, 1 on a start-up error or when --json\n"
		"records could not be written, 2 on a usage error.\n",
		KS_DEFAULT_CONFIRM_MS, KS_DEFAULT_STALL_MS,
		KS_DEFAULT_IO_SWEEP_MS, KS_OTLP_DEFAULT_TIMEOUT_MS,
		KS_DEFAULT_LISTEN, KS_HISTORY_DEFAULT_MAX, KS_PIN_DIR,
		KS_SOCK_CAPTURE_DEFAULT, KS_MIN_CAPTURE_BYTES,
		KS_SOCK_CAPTURE_MAX, KS_DEFAULT_BPFFS, KS_K8S_SERVICE_ACCOUNT,
		KS_DEFAULT_RINGBUF_MB);
}

static int ks_parse_uint(const char *text, unsigned long min, unsigned long max,
			 unsigned long *out)
{
	unsigned long long value;

	if (ks_parse_decimal(text, &value, NULL) || value < min || value > max)
		return -1;
	*out = (unsigned long)value;
	return 0;
}

static enum ks_parse_result ks_bad_value(FILE *err, const char *option,
					 const char *value, const char *want)
{
	fprintf(err, "knotscope: %s '%s': %s\n", option, value, want);
	fprintf(err, "Try 'knotscope --help' for more information.\n");
	return KS_PARSE_ERROR;
}

/* Appends a command name to comms[*nr]; option names it in errors. */
static enum ks_parse_result ks_add_comm(char (*comms)[KS_COMM_LEN],
					unsigned int *nr, const char *option,
					const char *name, FILE *err)
{
	if (*nr == KS_MAX_SELECTED)
		return ks_bad_value(err, option, name, "too many names");
	if (!*name)
		return ks_bad_value(err, option, name, "empty name");
	if (strlen(name) >= KS_COMM_LEN)
		return ks_bad_value(err, option, name,
				    "longer than 15 characters; the kernel "
				    "keeps only the first 15, give those");
	memset(comms[*nr], 0, KS_COMM_LEN);
	memcpy(comms[*nr], name, strlen(name));
	(*nr)++;
	return KS_PARSE_RUN;
}

/* --precise PID|COMM: a number is a process id, anything else a name. */
static enum ks_parse_result ks_add_precise(struct ks_options *opts,
					   const char *value, const char *label,
					   FILE *err)
{
	unsigned long pid;

	if (!ks_parse_uint(value, 1, INT_MAX, &pid)) {
		if (opts->nr_precise_pids == KS_MAX_SELECTED)
			return ks_bad_value(err, label, value,
					    "too many processes");
		opts->precise_pids[opts->nr_precise_pids++] = (uint32_t)pid;
		return KS_PARSE_RUN;
	}
	return ks_add_comm(opts->precise_comms, &opts->nr_precise_comms, label,
			   value, err);
}

/*
 * A process in precise mode must be watched: when the selection is narrowed
 * with --pid or --comm, the --precise ones join it.
 */
static enum ks_parse_result ks_select_precise(struct ks_options *opts,
					      FILE *err)
{
	enum ks_parse_result result = KS_PARSE_RUN;

	if (!opts->nr_pids && !opts->nr_comms)
		return KS_PARSE_RUN;
	for (unsigned int i = 0; i < opts->nr_precise_pids; i++) {
		if (opts->nr_pids == KS_MAX_SELECTED)
			return ks_bad_value(err, "--precise", "",
					    "too many processes");
		opts->pids[opts->nr_pids++] = opts->precise_pids[i];
	}
	for (unsigned int i = 0;
	     i < opts->nr_precise_comms && result == KS_PARSE_RUN; i++)
		result = ks_add_comm(opts->comms, &opts->nr_comms, "--precise",
				     opts->precise_comms[i], err);
	return result;
}

static enum ks_parse_result ks_add_route(struct ks_options *opts,
					 const char *template,
					 const char *label, FILE *err)
{
	struct ks_http_routes *routes = &opts->http_routes;

	if (routes->nr == KS_HTTP_MAX_ROUTES)
		return ks_bad_value(err, label, template, "too many routes");
	if (!ks_http_route_valid(template))
		return ks_bad_value(err, label, template,
				    "not a path like /users/{id} or /static/*");
	routes->templates[routes->nr++] = template;
	return KS_PARSE_RUN;
}

/* "250us", "1ms", "2s", "100ns"; a bare number is milliseconds. */
static int ks_parse_duration(const char *text, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = { { "ns", 1 },
		      { "us", 1000 },
		      { "ms", 1000000 },
		      { "s", 1000000000 },
		      { "", 1000000 } };
	const char *end;
	unsigned long long value;

	if (ks_parse_decimal(text, &value, &end))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (value > UINT64_MAX / units[i].ns)
			return -1;
		*ns = value * units[i].ns;
		return 0;
	}
	return -1;
}

/* "268435456", "256M", "256Mi", "1G": bytes, or KiB, MiB, GiB. */
static int ks_parse_size(const char *text, uint64_t *bytes)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} units[] = { { "", 0 },    { "K", 10 }, { "Ki", 10 }, { "M", 20 },
		      { "Mi", 20 }, { "G", 30 }, { "Gi", 30 } };
	unsigned long long value;
	const char *end;

	if (ks_parse_decimal(text, &value, &end))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (value > UINT64_MAX >> units[i].shift)
			return -1;
		*bytes = value << units[i].shift;
		return 0;
	}
	return -1;
}

/* Whether text is an http:// or https:// URL. */
static bool ks_http_url(const char *text)
{
	return !strncmp(text, "https://", 8) || !strncmp(text, "http://", 7);
}

static bool ks_power_of_two(unsigned long v)
{
	return v && !(v & (v - 1));
}

/*
 * One option with its value, whether from the command line or the
 * configuration file; label names it in messages ("--pid", or
 * "FILE:LINE: pid").  Flags (no value) ignore value.
 */
static enum ks_parse_result ks_option_apply(struct ks_options *opts, int c,
					    const char *value,
					    const char *label, FILE *err)
{
	enum ks_parse_result result;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	unsigned long number;

	switch (c) {
	case 'p':
		if (ks_parse_uint(value, 1, INT_MAX, &number))
			return ks_bad_value(err, label, value,
					    "not a process id");
		if (opts->nr_pids == KS_MAX_SELECTED)
			return ks_bad_value(err, label, value,
					    "too many processes");
		opts->pids[opts->nr_pids++] = number;
		break;
	case 'c':
		result = ks_add_comm(opts->comms, &opts->nr_comms, label, value,
				     err);
		if (result != KS_PARSE_RUN)
			return result;
		break;
	case 'j':
		if (!*value)
			return ks_bad_value(err, label, value, "empty path");
		opts->json_path = value;
		break;
	case 'd':
		if (ks_parse_uint(value, 1, 365u * 24 * 3600, &number))
			return ks_bad_value(err, label, value,
					    "not a number of seconds "
					    "(1 or more)");
		opts->duration_s = number;
		break;
	case OPT_CONFIRM_MS:
		if (ks_parse_uint(value, 1, 60000, &number))
			return ks_bad_value(err, label, value,
					    "not a number from 1 to "
					    "60000");
		opts->confirm_ms = number;
		break;
	case OPT_STALL_MS:
		if (!strcmp(value, "off"))
			number = 0;
		else if (ks_parse_uint(value, 1, 600000, &number))
			return ks_bad_value(err, label, value,
					    "not off or a number from "
					    "1 to 600000");
		opts->stall_ms = number;
		break;
	case OPT_IO_SWEEP_MS:
		if (ks_parse_uint(value, 0, 60000, &number))
			return ks_bad_value(err, label, value,
					    "not a number from 0 to "
					    "60000");
		opts->io_sweep_ms = number;
		break;
	case OPT_RINGBUF_MB:
		if (ks_parse_uint(value, 1, 1024, &number) ||
		    !ks_power_of_two(number))
			return ks_bad_value(err, label, value,
					    "not a power of two from 1 "
					    "to 1024");
		opts->ringbuf_mb = number;
		break;
	case OPT_MIN_WAIT:
	case OPT_WAIT_STACK_EVERY:
		if (ks_parse_duration(value,
				      c == OPT_MIN_WAIT ?
					      &opts->min_wait_ns :
					      &opts->wait_stack_every_ns))
			return ks_bad_value(err, label, value,
					    "not a duration like 500us, "
					    "1ms or 2s");
		break;
	case OPT_OFFCPU_MIN:
		if (ks_parse_duration(value, &opts->offcpu_min_ns) ||
		    !opts->offcpu_min_ns)
			return ks_bad_value(err, label, value,
					    "not a duration over 0 like 500us, "
					    "1ms or 2s");
		break;
	case OPT_OTLP_ENDPOINT:
		opts->otlp_endpoint = value;
		break;
	case OPT_OTLP_HEADER:
		if (opts->nr_otlp_headers == KS_MAX_OTLP_HEADERS)
			return ks_bad_value(err, label, value,
					    "too many headers");
		opts->otlp_headers[opts->nr_otlp_headers++] = value;
		break;
	case OPT_OTLP_COMPRESSION:
		opts->otlp_compression = value;
		break;
	case OPT_OTLP_TIMEOUT_MS:
		opts->otlp_timeout_ms = value;
		break;
	case OPT_OTLP_PROTOCOL:
		opts->otlp_protocol = value;
		break;
	case OPT_PRECISE:
		result = ks_add_precise(opts, value, label, err);
		if (result != KS_PARSE_RUN)
			return result;
		break;
	case OPT_ATTACH:
		if (strcmp(value, "tp_btf") && strcmp(value, "raw_tp"))
			return ks_bad_value(err, label, value,
					    "not tp_btf or raw_tp");
		opts->attach_mode = value;
		break;
	case OPT_SYSCALL_HOOKS:
		if (ks_syscall_hooks_parse(value, &opts->syscall_hooks))
			return ks_bad_value(err, label, value,
					    "not fentry, tracepoint or "
					    "sys_enter");
		opts->syscall_hooks_set = true;
		break;
	case OPT_WAIT_HOOKS:
		if (ks_wait_hooks_parse(value, &opts->wait_hooks))
			return ks_bad_value(err, label, value,
					    "not sched or syscall");
		break;
	case OPT_CHANNEL_EDGES:
		opts->channel_edges = true;
		break;
	case OPT_PREFLIGHT:
		if (!strcmp(value, "enforce"))
			opts->preflight = KS_PREFLIGHT_ENFORCE;
		else if (!strcmp(value, "warn"))
			opts->preflight = KS_PREFLIGHT_WARN;
		else
			return ks_bad_value(err, label, value,
					    "not enforce or warn");
		break;
	case OPT_LISTEN:
		if (!ks_listen_addr_off(value) &&
		    ks_listen_addr_parse(value, &addr, &addr_len))
			return ks_bad_value(err, label, value,
					    "not ADDR:PORT (like "
					    "127.0.0.1:9464 or "
					    "[::1]:9464) or off");
		opts->listen = value;
		opts->listen_explicit = true;
		break;
	case OPT_LISTEN_TOKEN_FILE:
		if (!*value)
			return ks_bad_value(err, label, value, "empty path");
		opts->listen_token_file = value;
		break;
	case OPT_HISTORY_FILE:
		if (!*value)
			return ks_bad_value(err, label, value, "empty path");
		opts->history_file = value;
		break;
	case OPT_TRACE_URL:
		if (!ks_http_url(value) || !strstr(value, "{trace_id}"))
			return ks_bad_value(err, label, value,
					    "not an http(s):// URL with "
					    "{trace_id} in it");
		opts->trace_url = value;
		break;
	case OPT_PIN:
		opts->pin = true;
		break;
	case OPT_PIN_DIR:
		if (*value != '/' || !value[1])
			return ks_bad_value(err, label, value,
					    "not an absolute path");
		opts->pin = true;
		opts->pin_dir = value;
		break;
	case OPT_KEEP_PINS:
		opts->keep_pins = true;
		break;
	case OPT_BPF_STATS:
		opts->bpf_stats = true;
		break;
	case OPT_HTTP:
		opts->http = true;
		break;
	case OPT_HTTP_CAPTURE_BYTES:
		if (ks_parse_uint(value, KS_MIN_CAPTURE_BYTES,
				  KS_SOCK_CAPTURE_MAX, &number))
			return ks_bad_value(err, label, value,
					    "not a number of bytes from "
					    "64 to 4096");
		opts->http_capture_bytes = number;
		break;
	case OPT_HTTP_QUERY:
		opts->http_query = true;
		break;
	case OPT_HTTP_ROUTE:
		result = ks_add_route(opts, value, label, err);
		if (result != KS_PARSE_RUN)
			return result;
		break;
	case OPT_SCRAPE_INTERVAL:
		if (ks_parse_duration(value, &opts->scrape_interval_ns) ||
		    !opts->scrape_interval_ns)
			return ks_bad_value(err, label, value,
					    "not a duration over 0 like 15s or "
					    "60s");
		break;
	case OPT_BPFFS:
		if (!*value || (strcmp(value, "none") && *value != '/'))
			return ks_bad_value(err, label, value,
					    "not an absolute path or "
					    "'none'");
		opts->bpffs = strcmp(value, "none") ? value : NULL;
		break;
	case OPT_MEMORY_LIMIT:
		opts->memory_limit_off = !strcmp(value, "off");
		if (!opts->memory_limit_off &&
		    (ks_parse_size(value, &opts->memory_limit) ||
		     opts->memory_limit < KS_MIN_MEMORY_LIMIT))
			return ks_bad_value(err, label, value,
					    "not a size of 64Mi or more, like "
					    "256Mi or 1G, or off");
		break;
	case OPT_K8S_API:
		if (!strcmp(value, "off"))
			opts->k8s_api = NULL;
		else if (!strcmp(value, "auto"))
			opts->k8s_api = "";
		else if (!ks_http_url(value))
			return ks_bad_value(err, label, value,
					    "not auto, off or an http(s):// "
					    "URL");
		else
			opts->k8s_api = value;
		opts->k8s_api_explicit = opts->k8s_api && *opts->k8s_api;
		break;
	case OPT_K8S_CREDENTIALS:
		if (*value != '/')
			return ks_bad_value(err, label, value,
					    "not an absolute path");
		opts->k8s_credentials = value;
		break;
	case OPT_K8S_WELL_KNOWN_LABELS:
		opts->k8s_well_known_labels = true;
		break;
	default:
		break;
	}
	return KS_PARSE_RUN;
}

void ks_options_free(struct ks_options *opts)
{
	for (size_t i = 0; i < opts->nr_owned; i++)
		free(opts->owned[i]);
	free(opts->owned);
	free(opts->otlp_presets);
	opts->owned = NULL;
	opts->otlp_presets = NULL;
	opts->nr_owned = opts->nr_otlp_presets = 0;
}

/* The long name of option c, for messages. */
static const char *ks_option_name(int c)
{
	for (const struct option *o = ks_long_options; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

int ks_option_id(const char *name, bool *takes_value)
{
	for (const struct option *o = ks_long_options; o->name; o++) {
		if (strcmp(o->name, name))
			continue;
		*takes_value = o->has_arg == required_argument;
		return o->val;
	}
	return 0;
}

enum ks_parse_result ks_option_set(struct ks_options *opts, int id,
				   const char *value, const char *label,
				   FILE *err)
{
	if (id == 'v') {
		opts->verbosity++;
		return KS_PARSE_RUN;
	}
	return ks_option_apply(opts, id, value, label, err);
}

/*
 * A list the configuration file filled is replaced, not extended, by the
 * same option on the command line: cleared at its first use there.
 */
static void ks_forget_file_list(struct ks_options *opts, int c,
				unsigned int *cleared)
{
	unsigned int bit = 0;

	switch (c) {
	case 'p':
		bit = 1;
		break;
	case 'c':
		bit = 2;
		break;
	case OPT_PRECISE:
		bit = 4;
		break;
	case OPT_HTTP_ROUTE:
		bit = 8;
		break;
	default:
		return;
	}
	if (*cleared & bit)
		return;
	*cleared |= bit;
	if (bit == 1)
		opts->nr_pids = 0;
	else if (bit == 2)
		opts->nr_comms = 0;
	else if (bit == 4)
		opts->nr_precise_pids = opts->nr_precise_comms = 0;
	else
		opts->http_routes.nr = 0;
}

/* --config FILE or --config=FILE, wherever it stands; NULL without. */
static const char *ks_find_config(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--config=", 9))
			return argv[i] + 9;
	}
	return NULL;
}

enum ks_parse_result ks_options_parse(struct ks_options *opts, int argc,
				      char **argv, ks_config_loader load_config,
				      FILE *out, FILE *err)
{
	enum ks_parse_result result;
	unsigned int cleared = 0;
	const char *config;
	char label[48];
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->confirm_ms = KS_DEFAULT_CONFIRM_MS;
	opts->stall_ms = KS_DEFAULT_STALL_MS;
	opts->io_sweep_ms = KS_DEFAULT_IO_SWEEP_MS;
	opts->ringbuf_mb = KS_DEFAULT_RINGBUF_MB;
	opts->min_wait_ns = KS_DEFAULT_MIN_WAIT_NS;
	opts->wait_stack_every_ns = KS_DEFAULT_STACK_EVERY_NS;
	opts->listen = KS_DEFAULT_LISTEN;
	opts->http_capture_bytes = KS_SOCK_CAPTURE_DEFAULT;
	opts->bpffs = KS_DEFAULT_BPFFS;
	opts->scrape_interval_ns = KS_DEFAULT_SCRAPE_INTERVAL_NS;
	opts->pin_dir = KS_PIN_DIR;
	opts->k8s_api = "";
	opts->k8s_credentials = KS_K8S_SERVICE_ACCOUNT;

	/* The file first: the command line overrides it. */
	config = ks_find_config(argc, argv);
	if (config) {
		if (!*config || !load_config)
			return ks_bad_value(err, "--config", config,
					    "empty path");
		result = load_config(config, opts, err);
		if (result != KS_PARSE_RUN)
			return result;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:c:j:d:vhV", ks_long_options,
				NULL)) != -1) {
		switch (c) {
		case 'v':
			opts->verbosity++;
			break;
		case 'h':
			ks_options_usage(out);
			return KS_PARSE_EXIT_OK;
		case 'V':
			fprintf(out, "knotscope %s (BPF ABI %d)\n", KS_VERSION,
				KS_ABI_VERSION);
			return KS_PARSE_EXIT_OK;
		case ':':
			fprintf(err, "knotscope: option '%s' needs a value\n",
				argv[optind - 1]);
			fprintf(err, "Try 'knotscope --help' for more "
				     "information.\n");
			return KS_PARSE_ERROR;
		case '?':
			fprintf(err, "knotscope: unknown option '%s'\n",
				argv[optind - 1]);
			fprintf(err, "Try 'knotscope --help' for more "
				     "information.\n");
			return KS_PARSE_ERROR;
		case OPT_CONFIG:
			break;
		case OPT_CHECK_CONFIG:
			opts->check_config = true;
			break;
		default:
			ks_forget_file_list(opts, c, &cleared);
			snprintf(label, sizeof(label), "--%s",
				 ks_option_name(c));
			result = ks_option_apply(opts, c, optarg, label, err);
			if (result != KS_PARSE_RUN)
				return result;
		}
	}
	if (opts->keep_pins && !opts->pin) {
		fprintf(err, "knotscope: --keep-pins needs --pin\n");
		fprintf(err, "Try 'knotscope --help' for more information.\n");
		return KS_PARSE_ERROR;
	}
	if (opts->history_file && ks_listen_addr_off(opts->listen))
		return ks_bad_value(err, "--history-file", opts->history_file,
				    "is for the dashboard, not --listen off");
	if (opts->listen_token_file && ks_listen_addr_off(opts->listen))
		return ks_bad_value(err, "--listen-token-file",
				    opts->listen_token_file,
				    "needs the HTTP server, not --listen off");
	if (!opts->http &&
	    (opts->http_query || opts->http_routes.nr ||
	     opts->http_capture_bytes != KS_SOCK_CAPTURE_DEFAULT)) {
		fprintf(err, "knotscope: --http-capture-bytes, --http-query "
			     "and --http-route need --http\n");
		fprintf(err, "Try 'knotscope --help' for more information.\n");
		return KS_PARSE_ERROR;
	}
	if (optind < argc) {
		fprintf(err, "knotscope: unexpected argument '%s'\n",
			argv[optind]);
		fprintf(err, "Try 'knotscope --help' for more information.\n");
		return KS_PARSE_ERROR;
	}
	return ks_select_precise(opts, err);
}
