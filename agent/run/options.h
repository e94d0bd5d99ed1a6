/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command line: parsed once, validated completely before anything loads. */
#ifndef KS_OPTIONS_H
#define KS_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/preflight.h"
#include "capture/syscall_hooks.h"
#include "httptrace/http_route.h"
#include "knotscope_abi.h"
#include "otlp/otlp_config.h"

#define KS_DEFAULT_CONFIRM_MS 100
#define KS_DEFAULT_STALL_MS 1000
#define KS_DEFAULT_IO_SWEEP_MS 500
#define KS_DEFAULT_MIN_WAIT_NS 1000000ull
#define KS_MAX_OTLP_HEADERS 32
#define KS_DEFAULT_RINGBUF_MB (KS_RINGBUF_DEFAULT_BYTES >> 20)
#define KS_MIN_CAPTURE_BYTES 64
/* Prometheus's own default scrape_interval. */
#define KS_DEFAULT_SCRAPE_INTERVAL_NS (60 * 1000000000ull)
/* Less would leave nothing but shedding: the agent idles at ~45 MiB. */
#define KS_MIN_MEMORY_LIMIT (64ull << 20)

struct ks_options {
	uint32_t pids[KS_MAX_SELECTED];
	unsigned int nr_pids;
	char comms[KS_MAX_SELECTED][KS_COMM_LEN];
	unsigned int nr_comms;
	const char *json_path; /* NULL: no JSON; "-": stdout */
	unsigned int duration_s; /* 0: until SIGINT/SIGTERM */
	unsigned int confirm_ms;
	unsigned int stall_ms; /* 0: no stall detection */
	unsigned int io_sweep_ms; /* 0: I/O waits are not looked for */
	unsigned int ringbuf_mb;
	int verbosity;
	uint64_t min_wait_ns; /* lock waits shorter than this get no span */
	/* A thread copies its stack at a futex wait at most this often. */
	uint64_t wait_stack_every_ns;
	uint64_t offcpu_min_ns; /* 0: off-CPU intervals are not watched */
	/* How long an exited process's series stay in /metrics. */
	uint64_t scrape_interval_ns;
	/* OTLP settings as given; validated with the OTEL_* variables. */
	const char *otlp_endpoint;
	const char *otlp_headers[KS_MAX_OTLP_HEADERS];
	unsigned int nr_otlp_headers;
	const char *otlp_compression;
	const char *otlp_timeout_ms;
	const char *otlp_protocol;
	enum ks_preflight_mode preflight;
	/* --precise: processes whose every mutex call is watched. */
	uint32_t precise_pids[KS_MAX_SELECTED];
	unsigned int nr_precise_pids;
	char precise_comms[KS_MAX_SELECTED][KS_COMM_LEN];
	unsigned int nr_precise_comms;
	/* --attach: "tp_btf" or "raw_tp"; NULL lets the agent choose. */
	const char *attach_mode;
	/* --syscall-hooks, when given; else the agent chooses. */
	enum ks_syscall_hooks syscall_hooks;
	bool syscall_hooks_set;
	enum ks_wait_hooks wait_hooks; /* --wait-hooks */
	bool channel_edges; /* --channel-edges */
	/* The HTTP server: "ADDR:PORT" or "off"; see listen_addr.h. */
	const char *listen;
	bool listen_explicit; /* given, so failing to listen is an error */
	const char *listen_token_file;
	const char *history_file; /* NULL: findings kept in memory only */
	const char *trace_url; /* "https://.../{trace_id}", NULL: no links */
	bool pin; /* maps and programs in the BPF filesystem */
	const char *pin_dir; /* ... there */
	bool keep_pins; /* ... and left there at exit */
	bool bpf_stats; /* turn on the kernel's BPF run-time statistics */
	/* HTTP spans from socket syscalls. */
	bool http;
	unsigned int http_capture_bytes;
	bool http_query; /* keep query strings */
	struct ks_http_routes http_routes;
	const char *bpffs; /* NULL: no traces_ctx_v1 for profilers */
	bool check_config; /* validate everything, then exit */
	/*
	 * From the configuration file: its OTLP settings, below the OTEL_*
	 * environment, and every string it gave (freed with the options).
	 */
	struct ks_otlp_preset *otlp_presets;
	size_t nr_otlp_presets;
	char **owned;
	size_t nr_owned;
	/* The memory ceiling in bytes; 0: the cgroup's limit, if any. */
	uint64_t memory_limit;
	bool memory_limit_off; /* --memory-limit off: none at all */
	/* The Kubernetes API: NULL off, "" in-cluster when in a pod. */
	const char *k8s_api;
	bool k8s_api_explicit; /* given: failing to start it is an error */
	const char *k8s_credentials; /* a service account directory */
	bool k8s_well_known_labels; /* app.kubernetes.io/ labels name services */
};

enum ks_parse_result {
	KS_PARSE_RUN = 0,
	KS_PARSE_EXIT_OK, /* --help or --version was printed */
	KS_PARSE_ERROR, /* a message was printed to err */
};

/* Applies a configuration file to opts (config_file.h). */
typedef enum ks_parse_result (*ks_config_loader)(const char *path,
						 struct ks_options *opts,
						 FILE *err);

/*
 * Defaults, then the --config file if one is named (read by load_config;
 * NULL refuses --config), then the command line over it.  Messages go to
 * err, --help and --version to out.
 */
enum ks_parse_result ks_options_parse(struct ks_options *opts, int argc,
				      char **argv, ks_config_loader load_config,
				      FILE *out, FILE *err);
/* --help; the manual page is made from it. */
void ks_options_usage(FILE *out);
/* What getopt_long() accepts; --help lists each of them, and only them. */
extern const struct option ks_long_options[];
/* What a configuration file added: its strings and OTLP presets. */
void ks_options_free(struct ks_options *opts);

/*
 * The option a long name names (a configuration file's key), with
 * *takes_value; 0 for none.
 */
int ks_option_id(const char *name, bool *takes_value);
/* Applies option id with value (NULL for a flag); label names it. */
enum ks_parse_result ks_option_set(struct ks_options *opts, int id,
				   const char *value, const char *label,
				   FILE *err);

#endif /* KS_OPTIONS_H */
