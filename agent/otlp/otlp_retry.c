// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stdlib.h>

#include "otlp/otlp_grpc.h"
#include "otlp/otlp_retry.h"

const char *ks_otlp_failure_name(enum ks_otlp_failure failure)
{
	static const char *const names[KS_OTLP_NR_FAILURES] = {
		[KS_OTLP_FAIL_STATUS] = "http_status",
		[KS_OTLP_FAIL_GRPC_STATUS] = "grpc_status",
		[KS_OTLP_FAIL_RETRIES] = "retries_exhausted",
		[KS_OTLP_FAIL_TRANSPORT] = "transport",
		[KS_OTLP_FAIL_TOO_LARGE] = "too_large",
		[KS_OTLP_FAIL_ENCODE] = "encode",
	};

	return names[failure];
}

enum ks_otlp_verdict ks_otlp_verdict_for_status(long status)
{
	if (status >= 200 && status < 300)
		return KS_OTLP_DELIVERED;
	switch (status) {
	case 429:
	case 502:
	case 503:
	case 504:
		return KS_OTLP_RETRY;
	default:
		return KS_OTLP_GIVE_UP;
	}
}

enum ks_otlp_verdict ks_otlp_verdict_for_grpc(int code, bool has_retry_info)
{
	switch (code) {
	case KS_GRPC_OK:
		return KS_OTLP_DELIVERED;
	case KS_GRPC_CANCELLED:
	case KS_GRPC_DEADLINE_EXCEEDED:
	case KS_GRPC_ABORTED:
	case KS_GRPC_OUT_OF_RANGE:
	case KS_GRPC_UNAVAILABLE:
	case KS_GRPC_DATA_LOSS:
		return KS_OTLP_RETRY;
	case KS_GRPC_RESOURCE_EXHAUSTED:
		return has_retry_info ? KS_OTLP_RETRY : KS_OTLP_GIVE_UP;
	default:
		return KS_OTLP_GIVE_UP;
	}
}

enum ks_otlp_verdict ks_otlp_verdict_for_transport(CURLcode code)
{
	switch (code) {
	case CURLE_OK:
		return KS_OTLP_DELIVERED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return KS_OTLP_RETRY;
	default:
		return KS_OTLP_GIVE_UP;
	}
}

static uint64_t ks_capped_ms(long long seconds)
{
	if (seconds <= 0)
		return 0;
	if ((unsigned long long)seconds > KS_OTLP_RETRY_AFTER_MAX_MS / 1000)
		return KS_OTLP_RETRY_AFTER_MAX_MS;
	return (uint64_t)seconds * 1000;
}

bool ks_otlp_parse_retry_after(const char *value, time_t now,
			       uint64_t *delay_ms)
{
	const char *text = value;
	long long seconds;
	time_t date;
	char *end;

	while (isspace((unsigned char)*text))
		text++;
	if (isdigit((unsigned char)*text) ||
	    (*text == '-' && isdigit((unsigned char)text[1]))) {
		/* Overflow saturates, which the cap then handles. */
		seconds = strtoll(text, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (*end)
			return false;
		*delay_ms = ks_capped_ms(seconds);
		return true;
	}
	/* libcurl's date parser knows the three formats RFC 9110 allows. */
	date = curl_getdate(text, NULL);
	if (date == -1)
		return false;
	*delay_ms = ks_capped_ms((long long)date - (long long)now);
	return true;
}

uint64_t ks_otlp_backoff_ms(unsigned int attempt, unsigned int initial_ms,
			    unsigned int max_ms, uint32_t random)
{
	uint64_t base = initial_ms, half;

	for (unsigned int i = 0; i < attempt && base < max_ms; i++)
		base *= 2;
	if (base > max_ms)
		base = max_ms;
	half = base / 2;
	return base - half + random % (half + 1);
}
