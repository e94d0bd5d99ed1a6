// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Command line parsing: defaults, values, and the errors people make. */
#include "unit.h"

#include <stdio.h>

#include "run/options.h"

static struct ks_options opts;
static char err_text[4096];

static enum ks_parse_result parse(const char *first, ...)
{
	char *argv[32] = { "knotscope" };
	int argc = 1;
	va_list ap;
	FILE *err = fmemopen(err_text, sizeof(err_text), "w");
	FILE *out = fopen("/dev/null", "w");
	enum ks_parse_result result;

	va_start(ap, first);
	for (const char *arg = first; arg; arg = va_arg(ap, const char *))
		argv[argc++] = (char *)arg;
	va_end(ap);
	memset(err_text, 0, sizeof(err_text));
	result = ks_options_parse(&opts, argc, argv, NULL, out, err);
	fclose(err);
	fclose(out);
	return result;
}

static void test_defaults(void **state)
{
	assert_int_equal(parse(NULL), KS_PARSE_RUN);
	assert_int_equal(opts.confirm_ms, KS_DEFAULT_CONFIRM_MS);
	assert_int_equal(opts.stall_ms, KS_DEFAULT_STALL_MS);
	assert_int_equal(opts.io_sweep_ms, KS_DEFAULT_IO_SWEEP_MS);
	assert_int_equal(opts.ringbuf_mb, 16);
	assert_int_equal(opts.nr_pids, 0);
	assert_int_equal(opts.nr_comms, 0);
	assert_null(opts.json_path);
	assert_int_equal(opts.duration_s, 0);
	assert_int_equal(opts.preflight, KS_PREFLIGHT_ENFORCE);
}

static void test_repeatable_selection_and_values(void **state)
{
	assert_int_equal(parse("-p", "12", "--pid", "34", "-c", "nginx",
			       "--comm=java", "--json", "-", "-d", "5",
			       "--confirm-ms", "250", "--stall-ms", "off",
			       "--ringbuf-mb", "64", "--io-sweep-ms", "0",
			       "-vv", NULL),
			 KS_PARSE_RUN);
	assert_int_equal(opts.nr_pids, 2);
	assert_int_equal(opts.pids[1], 34);
	assert_int_equal(opts.nr_comms, 2);
	assert_string_equal(opts.comms[1], "java");
	assert_string_equal(opts.json_path, "-");
	assert_int_equal(opts.duration_s, 5);
	assert_int_equal(opts.confirm_ms, 250);
	assert_int_equal(opts.stall_ms, 0);
	assert_int_equal(opts.io_sweep_ms, 0);
	assert_int_equal(opts.ringbuf_mb, 64);
	assert_int_equal(opts.verbosity, 2);
}

static void expect_error(const char *option, const char *value,
			 const char *message)
{
	assert_int_equal(parse(option, value, NULL), KS_PARSE_ERROR);
	assert_non_null(strstr(err_text, option));
	assert_non_null(strstr(err_text, message));
}

static void test_bad_values_name_the_option(void **state)
{
	expect_error("--pid", "12x", "not a process id");
	expect_error("--pid", "0", "not a process id");
	expect_error("--pid", "-1", "not a process id");
	expect_error("--pid", "99999999999", "not a process id");
	expect_error("--confirm-ms", "0", "from 1 to");
	expect_error("--confirm-ms", "60001", "from 1 to");
	expect_error("--stall-ms", "0", "off or a number");
	expect_error("--stall-ms", "never", "off or a number");
	expect_error("--io-sweep-ms", "60001", "from 0 to");
	expect_error("--io-sweep-ms", "-1", "from 0 to");
	expect_error("--ringbuf-mb", "3", "power of two");
	expect_error("--ringbuf-mb", "2048", "power of two");
	expect_error("--duration", "", "seconds");
	expect_error("--comm", "abcdefghijklmnop", "15 characters");
	expect_error("--comm", "", "empty");
	expect_error("--preflight", "off", "not enforce or warn");
}

static void test_memory_limit(void **state)
{
	assert_int_equal(parse(NULL), KS_PARSE_RUN);
	assert_int_equal(opts.memory_limit, 0);
	assert_false(opts.memory_limit_off);
	assert_int_equal(parse("--memory-limit", "256Mi", NULL), KS_PARSE_RUN);
	assert_int_equal(opts.memory_limit, 256ull << 20);
	assert_int_equal(parse("--memory-limit", "1G", NULL), KS_PARSE_RUN);
	assert_int_equal(opts.memory_limit, 1ull << 30);
	assert_int_equal(parse("--memory-limit", "134217728", NULL),
			 KS_PARSE_RUN);
	assert_int_equal(opts.memory_limit, 128ull << 20);
	assert_int_equal(parse("--memory-limit", "off", NULL), KS_PARSE_RUN);
	assert_true(opts.memory_limit_off);
	expect_error("--memory-limit", "32Mi", "64Mi or more");
	expect_error("--memory-limit", "256MB", "64Mi or more");
	expect_error("--memory-limit", " 256Mi", "64Mi or more");
	expect_error("--memory-limit", "99999999999G", "64Mi or more");
}

/* Digits and nothing else: strtoul would skip blanks and take a sign. */
static void test_numbers_are_digits_only(void **state)
{
	expect_error("--confirm-ms", " 5", "from 1 to");
	expect_error("--confirm-ms", "\t5", "from 1 to");
	expect_error("--confirm-ms", "+5", "from 1 to");
	expect_error("--duration", " 5", "seconds");
	expect_error("--ringbuf-mb", " 16", "power of two");
	expect_error("--pid", " 12", "not a process id");
	expect_error("--min-wait", " 1ms", "duration");
	expect_error("--min-wait", "\n1ms", "duration");
	expect_error("--offcpu-min", " 5ms", "duration");
	expect_error("--http-capture-bytes", " 128", "bytes");
	expect_error("--min-wait", "18446744073709551616ns", "duration");
	assert_int_equal(parse("--confirm-ms", "007", NULL), KS_PARSE_RUN);
	assert_int_equal(opts.confirm_ms, 7);
}

static void test_preflight_modes(void **state)
{
	assert_int_equal(parse("--preflight", "warn", NULL), KS_PARSE_RUN);
	assert_int_equal(opts.preflight, KS_PREFLIGHT_WARN);
	assert_int_equal(parse("--preflight=enforce", NULL), KS_PARSE_RUN);
	assert_int_equal(opts.preflight, KS_PREFLIGHT_ENFORCE);
}

static void test_usage_errors(void **state)
{
	assert_int_equal(parse("--bogus", NULL), KS_PARSE_ERROR);
	assert_non_null(strstr(err_text, "unknown option '--bogus'"));
	assert_int_equal(parse("--pid", NULL), KS_PARSE_ERROR);
	assert_non_null(strstr(err_text, "needs a value"));
	assert_int_equal(parse("extra", NULL), KS_PARSE_ERROR);
	assert_non_null(strstr(err_text, "unexpected argument 'extra'"));
}

static void test_help_and_version_exit(void **state)
{
	assert_int_equal(parse("--help", NULL), KS_PARSE_EXIT_OK);
	assert_int_equal(parse("-V", NULL), KS_PARSE_EXIT_OK);
}

static const char *next_line(const char *line)
{
	const char *end = strchr(line, '\n');

	return end && end[1] ? end + 1 : NULL;
}

/* The options --help lists, from lines that start with "-x, --name" or "--name". */
static unsigned int listed_options(const char *help, char names[][32],
				   char shorts[], unsigned int max)
{
	unsigned int nr = 0;

	for (const char *line = help; line; line = next_line(line)) {
		const char *p = line + strspn(line, " ");
		size_t len;
		char short_name = 0;

		if (p[0] == '-' && p[1] != '-' && p[1] && p[2] == ',') {
			short_name = p[1];
			p += 3 + strspn(p + 3, " ");
		}
		if (p[0] != '-' || p[1] != '-')
			continue;
		len = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
		assert_true(nr < max && len > 0 && len < 32);
		memcpy(names[nr], p + 2, len);
		names[nr][len] = '\0';
		shorts[nr++] = short_name;
	}
	return nr;
}

static void test_help_lists_every_option_and_only_those(void **state)
{
	static char help[16384], names[64][32];
	char shorts[64];
	FILE *out = fmemopen(help, sizeof(help) - 1, "w");
	unsigned int nr, nr_table = 0;

	ks_options_usage(out);
	fclose(out);
	nr = listed_options(help, names, shorts, 64);
	for (const struct option *o = ks_long_options; o->name; o++) {
		unsigned int i = 0;

		while (i < nr && strcmp(names[i], o->name))
			i++;
		if (i == nr)
			fail_msg("--help does not list --%s", o->name);
		/* A short form is shown as "-x, --name", and only then. */
		assert_int_equal(shorts[i], o->val < 0x100 ? o->val : 0);
		nr_table++;
	}
	assert_int_equal(nr, nr_table);
}

static void test_fifteen_characters_is_the_longest_comm(void **state)
{
	assert_int_equal(parse("--comm", "abcdefghijklmno", NULL),
			 KS_PARSE_RUN);
	assert_string_equal(opts.comms[0], "abcdefghijklmno");
}

static void test_the_http_server_and_pins(void **state)
{
	/* By default: this machine only, not an explicit choice. */
	assert_int_equal(parse(NULL), KS_PARSE_RUN);
	assert_string_equal(opts.listen, "127.0.0.1:9464");
	assert_false(opts.listen_explicit);
	assert_false(opts.bpf_stats);
	assert_false(opts.pin);

	assert_int_equal(parse("--listen", "[::1]:0", "--listen-token-file",
			       "/run/token", "--pin", "--keep-pins",
			       "--bpf-stats", NULL),
			 KS_PARSE_RUN);
	assert_string_equal(opts.listen, "[::1]:0");
	assert_true(opts.listen_explicit);
	assert_string_equal(opts.listen_token_file, "/run/token");
	assert_true(opts.pin && opts.keep_pins);
	assert_true(opts.bpf_stats);
	assert_int_equal(parse("--listen", "off", NULL), KS_PARSE_RUN);

	for (const char *const *bad =
		     (const char *const[]){ "localhost:9464", "127.0.0.1",
					    "127.0.0.1:65536", ":9464",
					    "[::1:9464", "127.0.0.1:-1", NULL };
	     *bad; bad++) {
		assert_int_equal(parse("--listen", *bad, NULL), KS_PARSE_ERROR);
		assert_non_null(strstr(err_text, "--listen"));
	}
	assert_int_equal(parse("--keep-pins", NULL), KS_PARSE_ERROR);
	assert_non_null(strstr(err_text, "--keep-pins needs --pin"));
	assert_int_equal(
		parse("--listen", "off", "--listen-token-file", "/t", NULL),
		KS_PARSE_ERROR);
}

static void test_pins_history_traces_and_kubernetes(void **state)
{
	assert_int_equal(parse(NULL), KS_PARSE_RUN);
	assert_string_equal(opts.pin_dir, "/sys/fs/bpf/knotscope");
	assert_null(opts.history_file);
	assert_null(opts.trace_url);
	/* In a pod by default, asked of nobody outside one. */
	assert_string_equal(opts.k8s_api, "");
	assert_false(opts.k8s_api_explicit);
	assert_false(opts.k8s_well_known_labels);

	assert_int_equal(parse("--pin-dir", "/sys/fs/bpf/mine", "--keep-pins",
			       "--history-file", "/var/lib/k/h.jsonl",
			       "--trace-url", "https://t.example/{trace_id}",
			       "--k8s-api", "https://10.0.0.1:6443",
			       "--k8s-credentials", "/sa",
			       "--k8s-well-known-labels", NULL),
			 KS_PARSE_RUN);
	/* --pin-dir implies --pin, so --keep-pins holds. */
	assert_true(opts.pin && opts.keep_pins);
	assert_string_equal(opts.pin_dir, "/sys/fs/bpf/mine");
	assert_string_equal(opts.history_file, "/var/lib/k/h.jsonl");
	assert_string_equal(opts.trace_url, "https://t.example/{trace_id}");
	assert_string_equal(opts.k8s_api, "https://10.0.0.1:6443");
	assert_true(opts.k8s_api_explicit);
	assert_string_equal(opts.k8s_credentials, "/sa");
	assert_true(opts.k8s_well_known_labels);
	assert_int_equal(parse("--k8s-api", "off", NULL), KS_PARSE_RUN);
	assert_null(opts.k8s_api);

	assert_int_equal(parse("--pin-dir", "pins", NULL), KS_PARSE_ERROR);
	assert_int_equal(parse("--trace-url", "https://t.example/", NULL),
			 KS_PARSE_ERROR);
	assert_non_null(strstr(err_text, "{trace_id}"));
	assert_int_equal(parse("--k8s-api", "10.0.0.1:6443", NULL),
			 KS_PARSE_ERROR);
	assert_int_equal(parse("--k8s-credentials", "sa", NULL),
			 KS_PARSE_ERROR);
	assert_int_equal(parse("--listen", "off", "--history-file", "/h", NULL),
			 KS_PARSE_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_repeatable_selection_and_values),
		cmocka_unit_test(test_bad_values_name_the_option),
		cmocka_unit_test(test_numbers_are_digits_only),
		cmocka_unit_test(test_memory_limit),
		cmocka_unit_test(test_preflight_modes),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help_and_version_exit),
		cmocka_unit_test(test_help_lists_every_option_and_only_those),
		cmocka_unit_test(test_pins_history_traces_and_kubernetes),
		cmocka_unit_test(test_fifteen_characters_is_the_longest_comm),
		cmocka_unit_test(test_the_http_server_and_pins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
