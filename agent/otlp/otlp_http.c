// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "base/clock.h"
#include "base/version.h"
#include "otlp/otlp_grpc.h"
#include "otlp/otlp_http.h"

/* Responses are a few bytes; more is kept only to this much. */
#define KS_MAX_RESPONSE_BYTES ((size_t)1 << 20)
/* gzip framing rather than zlib's own: what Content-Encoding means. */
#define KS_GZIP_WINDOW_BITS (15 + 16)

struct ks_buffer {
	uint8_t *data;
	size_t len;
	size_t cap;
};

struct ks_otlp_http {
	CURL *easy;
	/* Only so that a cut-off can wake a transfer up, see ks_perform(). */
	CURLM *multi;
	struct curl_slist *headers;
	bool gzip;
	bool grpc; /* OTLP/gRPC: framed messages over HTTP/2, with trailers */
	/*
	 * gRPC: the last call failed, so the next takes a new connection.
	 * libcurl 7.88 leaves an HTTP/2 connection whose stream the server
	 * ended early unusable ("Error in the HTTP2 framing layer").
	 */
	bool fresh_connection;
	uint64_t
		attempt_timeout_ns; /* one attempt at most, connecting included */
	struct ks_buffer compressed;
	struct ks_buffer framed; /* gRPC: the prefix and the message */
	struct ks_buffer body;
	char retry_after[64];
	struct ks_otlp_grpc_status grpc_status;
	char error[CURL_ERROR_SIZE];
	atomic_uint_least64_t cut_off_ns;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void ks_curl_global_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int ks_buffer_reserve(struct ks_buffer *buffer, size_t cap)
{
	uint8_t *grown;

	if (cap <= buffer->cap)
		return 0;
	grown = realloc(buffer->data, cap);
	if (!grown)
		return -ENOMEM;
	buffer->data = grown;
	buffer->cap = cap;
	return 0;
}

static size_t ks_on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct ks_otlp_http *http = ctx;
	size_t len = size * nmemb;
	size_t keep = len;

	if (keep > KS_MAX_RESPONSE_BYTES - http->body.len)
		keep = KS_MAX_RESPONSE_BYTES - http->body.len;
	if (keep && !ks_buffer_reserve(&http->body, http->body.len + keep)) {
		memcpy(http->body.data + http->body.len, data, keep);
		http->body.len += keep;
	}
	/* Taking all of it keeps the connection usable for the next post. */
	return len;
}

static size_t ks_on_header(char *line, size_t size, size_t nmemb, void *ctx)
{
	static const char retry_after[] = "Retry-After:";
	struct ks_otlp_http *http = ctx;
	size_t len = size * nmemb;
	size_t name_len = sizeof(retry_after) - 1;
	size_t value_len;

	/* A status line starts another response (after a 100 Continue). */
	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		http->retry_after[0] = '\0';
	} else if (http->grpc) {
		/* Headers and trailers alike: a status may come in either. */
		ks_otlp_grpc_status_line(&http->grpc_status, line, len);
	} else if (len > name_len &&
		   !strncasecmp(line, retry_after, name_len)) {
		value_len = len - name_len;
		while (value_len && (line[name_len + value_len - 1] == '\n' ||
				     line[name_len + value_len - 1] == '\r'))
			value_len--;
		snprintf(http->retry_after, sizeof(http->retry_after), "%.*s",
			 (int)value_len, line + name_len);
	}
	return len;
}

/* Appends line to *list; on failure the list stays whole, to be freed. */
static int ks_append_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *grown = curl_slist_append(*list, line);

	if (!grown)
		return -ENOMEM;
	*list = grown;
	return 0;
}

/* What a request says of its body, over HTTP or as a gRPC call. */
static int ks_content_headers(struct curl_slist **list,
			      const struct ks_otlp_target *target)
{
	static const char *const http[] = {
		"Content-Type: application/x-protobuf",
		/* curl would otherwise wait up to a second for a 100 Continue. */
		"Expect:",
	};
	static const char *const grpc[] = {
		"Content-Type: application/grpc",
		"TE: trailers",
		/* Responses uncompressed: they are a few bytes. */
		"grpc-accept-encoding: identity",
	};
	bool is_grpc = target->protocol == KS_OTLP_GRPC;
	const char *const *lines = is_grpc ? grpc : http;
	size_t nr = is_grpc ? 3 : 2;
	int ret = 0;

	for (size_t i = 0; !ret && i < nr + target->gzip; i++) {
		const char *line = i < nr  ? lines[i] :
				   is_grpc ? "grpc-encoding: gzip" :
					     "Content-Encoding: gzip";

		ret = ks_append_header(list, line);
	}
	return ret;
}

static int ks_build_headers(struct ks_otlp_http *http,
			    const struct ks_otlp_target *target)
{
	int ret = ks_content_headers(&http->headers, target);

	for (size_t i = 0; !ret && i < target->headers.nr; i++) {
		char *line;

		/* HTTP/2 wants lower case; HTTP/1 does not mind it. */
		if (asprintf(&line, "%s: %s", target->headers.items[i].name,
			     target->headers.items[i].value) < 0)
			return -ENOMEM;
		for (char *c = line; *c != ':'; c++)
			*c = (char)tolower((unsigned char)*c);
		ret = ks_append_header(&http->headers, line);
		free(line);
	}
	return ret;
}

static CURLcode ks_configure(struct ks_otlp_http *http,
			     const struct ks_otlp_target *target)
{
	CURL *easy = http->easy;
	CURLcode rc = CURLE_OK;

	rc = rc ?: curl_easy_setopt(easy, CURLOPT_URL, target->url);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_POST, 1L);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_HTTPHEADER, http->headers);
	rc = rc	   ?:
		     curl_easy_setopt(easy, CURLOPT_USERAGENT,
				      "knotscope/" KS_VERSION);
	/* Signals would hit whichever thread; timeouts must not use them. */
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, http->error);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, ks_on_body);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_WRITEDATA, http);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, ks_on_header);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_HEADERDATA, http);
	if (target->ca_file)
		rc = rc	   ?:
			     curl_easy_setopt(easy, CURLOPT_CAINFO,
					      target->ca_file);
	if (target->client_cert_file)
		rc = rc	   ?:
			     curl_easy_setopt(easy, CURLOPT_SSLCERT,
					      target->client_cert_file);
	if (target->client_key_file)
		rc = rc	   ?:
			     curl_easy_setopt(easy, CURLOPT_SSLKEY,
					      target->client_key_file);
	/* gRPC is HTTP/2 only: said at once in clear, negotiated over TLS. */
	if (target->protocol == KS_OTLP_GRPC)
		rc = rc	   ?:
			     curl_easy_setopt(
				     easy, CURLOPT_HTTP_VERSION,
				     strncasecmp(target->url, "https:", 6) ?
					     CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE :
					     CURL_HTTP_VERSION_2TLS);
	return rc;
}

struct ks_otlp_http *ks_otlp_http_new(const struct ks_otlp_target *target,
				      char *err, size_t err_size)
{
	struct ks_otlp_http *http = calloc(1, sizeof(*http));
	CURLcode rc;

	pthread_once(&curl_once, ks_curl_global_init);
	if (!http || curl_init_result != CURLE_OK) {
		snprintf(err, err_size, "cannot initialise libcurl");
		goto failed;
	}
	atomic_init(&http->cut_off_ns, UINT64_MAX);
	http->gzip = target->gzip;
	http->grpc = target->protocol == KS_OTLP_GRPC;
	http->attempt_timeout_ns = (uint64_t)target->timeout_ms * 1000000ull;
	http->easy = curl_easy_init();
	http->multi = curl_multi_init();
	if (!http->easy || !http->multi || ks_build_headers(http, target)) {
		snprintf(err, err_size, "out of memory setting up libcurl");
		goto failed;
	}
	rc = ks_configure(http, target);
	if (rc != CURLE_OK) {
		snprintf(err, err_size, "%s: libcurl refused the settings: %s",
			 target->url, curl_easy_strerror(rc));
		goto failed;
	}
	return http;
failed:
	ks_otlp_http_free(http);
	return NULL;
}

void ks_otlp_http_free(struct ks_otlp_http *http)
{
	if (!http)
		return;
	curl_multi_cleanup(http->multi);
	curl_easy_cleanup(http->easy);
	curl_slist_free_all(http->headers);
	free(http->compressed.data);
	free(http->framed.data);
	free(http->body.data);
	free(http);
}

void ks_otlp_http_cut_off(struct ks_otlp_http *http, uint64_t deadline_ns)
{
	uint64_t current = atomic_load(&http->cut_off_ns);

	while (deadline_ns < current &&
	       !atomic_compare_exchange_weak(&http->cut_off_ns, &current,
					     deadline_ns))
		;
	curl_multi_wakeup(http->multi);
}

static int ks_gzip(const uint8_t *data, size_t len, struct ks_buffer *out)
{
	z_stream stream = { 0 };
	uLong bound;
	int ret = -ENOMEM;

	if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
			 KS_GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&stream, len);
	if (ks_buffer_reserve(out, bound))
		goto cleanup;
	stream.next_in = (Bytef *)data;
	stream.avail_in = (uInt)len;
	stream.next_out = out->data;
	stream.avail_out = (uInt)bound;
	/* The buffer holds deflateBound(): one call always finishes. */
	if (deflate(&stream, Z_FINISH) != Z_STREAM_END)
		goto cleanup;
	out->len = stream.total_out;
	ret = 0;
cleanup:
	deflateEnd(&stream);
	return ret;
}

/* The message as a gRPC length-prefixed message: compressed if gzipped. */
static int ks_frame(struct ks_otlp_http *http, const uint8_t *data, size_t len)
{
	if (ks_buffer_reserve(&http->framed, len + KS_OTLP_GRPC_PREFIX_LEN))
		return -ENOMEM;
	ks_otlp_grpc_prefix(http->framed.data, http->gzip, len);
	memcpy(http->framed.data + KS_OTLP_GRPC_PREFIX_LEN, data, len);
	http->framed.len = len + KS_OTLP_GRPC_PREFIX_LEN;
	return 0;
}

/*
 * Runs the transfer through a multi handle rather than curl_easy_perform()
 * so that a cut-off from another thread (curl_multi_wakeup) ends the wait
 * at once; the multi handle also keeps the connection alive between posts.
 */
static CURLcode ks_perform(struct ks_otlp_http *http, bool *cut_off)
{
	CURLcode result = CURLE_FAILED_INIT;
	CURLMcode mc;
	CURLMsg *msg;
	int running = 1, left;

	mc = curl_multi_add_handle(http->multi, http->easy);
	while (mc == CURLM_OK) {
		uint64_t now, limit;

		mc = curl_multi_perform(http->multi, &running);
		if (mc != CURLM_OK || !running)
			break;
		now = ks_now_mono_ns();
		limit = atomic_load(&http->cut_off_ns);
		if (now >= limit) {
			*cut_off = true;
			break;
		}
		/* curl shortens the wait to its own timers; cap the int. */
		mc = curl_multi_poll(http->multi, NULL, 0,
				     limit - now > 60000000000ull ?
					     60000 :
					     (int)((limit - now) / 1000000 + 1),
				     NULL);
	}
	if (mc == CURLM_OK && !running) {
		msg = curl_multi_info_read(http->multi, &left);
		if (msg && msg->msg == CURLMSG_DONE)
			result = msg->data.result;
	}
	curl_multi_remove_handle(http->multi, http->easy);
	return result;
}

/*
 * A gRPC call's outcome: its grpc-status (or the code its HTTP status
 * stands for), judged by the OTLP/gRPC table; the body of a success is
 * the response message, for its partial success.
 */
static void ks_classify_grpc(struct ks_otlp_http *http,
			     struct ks_otlp_response *response)
{
	const struct ks_otlp_grpc_status *status = &http->grpc_status;
	long version = 0;
	int code;

	curl_easy_getinfo(http->easy, CURLINFO_HTTP_VERSION, &version);
	if (version != CURL_HTTP_VERSION_2_0) {
		response->verdict = KS_OTLP_GIVE_UP;
		response->failure = KS_OTLP_FAIL_TRANSPORT;
		snprintf(response->error, sizeof(response->error),
			 "the endpoint did not speak HTTP/2: not a gRPC "
			 "server (HTTP %ld)",
			 response->status);
		return;
	}
	if (response->status != 200)
		code = ks_otlp_grpc_code_for_http(response->status);
	else
		code = status->has_code ? status->code : KS_GRPC_INTERNAL;
	response->verdict =
		ks_otlp_verdict_for_grpc(code, status->has_retry_delay);
	response->failure = response->verdict == KS_OTLP_RETRY ?
				    KS_OTLP_FAIL_RETRIES :
				    KS_OTLP_FAIL_GRPC_STATUS;
	if (response->verdict == KS_OTLP_DELIVERED) {
		/* Not one whole message: no partial success to read. */
		if (ks_otlp_grpc_message(http->body.data, http->body.len,
					 &response->body, &response->body_len))
			response->body_len = 0;
		return;
	}
	snprintf(response->error, sizeof(response->error),
		 "gRPC status %d (%s)%s%s", code, ks_otlp_grpc_code_name(code),
		 status->message[0] ? ": " : "", status->message);
	if (!status->has_code && response->status == 200)
		snprintf(response->error, sizeof(response->error),
			 "gRPC call ended without a grpc-status");
	response->has_retry_after = status->has_retry_delay;
	response->retry_after_ms =
		status->retry_delay_ms < KS_OTLP_RETRY_AFTER_MAX_MS ?
			status->retry_delay_ms :
			KS_OTLP_RETRY_AFTER_MAX_MS;
}

static void ks_classify(struct ks_otlp_http *http, CURLcode code,
			struct ks_otlp_response *response)
{
	if (code != CURLE_OK) {
		response->verdict = ks_otlp_verdict_for_transport(code);
		response->failure = response->verdict == KS_OTLP_RETRY ?
					    KS_OTLP_FAIL_RETRIES :
					    KS_OTLP_FAIL_TRANSPORT;
		snprintf(response->error, sizeof(response->error), "%s",
			 http->error[0] ? http->error :
					  curl_easy_strerror(code));
		return;
	}
	curl_easy_getinfo(http->easy, CURLINFO_RESPONSE_CODE,
			  &response->status);
	if (http->grpc) {
		ks_classify_grpc(http, response);
		return;
	}
	response->verdict = ks_otlp_verdict_for_status(response->status);
	response->failure = response->verdict == KS_OTLP_RETRY ?
				    KS_OTLP_FAIL_RETRIES :
				    KS_OTLP_FAIL_STATUS;
	response->body = http->body.data;
	response->body_len = http->body.len;
	if (response->verdict != KS_OTLP_DELIVERED)
		snprintf(response->error, sizeof(response->error), "HTTP %ld",
			 response->status);
	/*
	 * Parsed here, not taken from CURLINFO_RETRY_AFTER: libcurl reports
	 * an absent or unparsable header as 0, "retry at once", which would
	 * defeat the backoff exactly when a throttled server gave no hint.
	 */
	if (response->verdict == KS_OTLP_RETRY && http->retry_after[0])
		response->has_retry_after =
			ks_otlp_parse_retry_after(http->retry_after, time(NULL),
						  &response->retry_after_ms);
}

void ks_otlp_http_post(struct ks_otlp_http *http, const uint8_t *data,
		       size_t len, uint64_t deadline_ns,
		       struct ks_otlp_response *response)
{
	uint64_t now = ks_now_mono_ns(), cut_off, limit;
	CURLcode code;

	memset(response, 0, sizeof(*response));
	if (http->gzip) {
		if (ks_gzip(data, len, &http->compressed)) {
			response->verdict = KS_OTLP_GIVE_UP;
			response->failure = KS_OTLP_FAIL_ENCODE;
			snprintf(response->error, sizeof(response->error),
				 "out of memory compressing");
			return;
		}
		data = http->compressed.data;
		len = http->compressed.len;
	}
	if (http->grpc) {
		if (ks_frame(http, data, len)) {
			response->verdict = KS_OTLP_GIVE_UP;
			response->failure = KS_OTLP_FAIL_ENCODE;
			snprintf(response->error, sizeof(response->error),
				 "out of memory framing");
			return;
		}
		data = http->framed.data;
		len = http->framed.len;
	}
	cut_off = atomic_load(&http->cut_off_ns);
	limit = deadline_ns < cut_off ? deadline_ns : cut_off;
	/* A hung collector costs one attempt this long, then a retry. */
	if (http->attempt_timeout_ns && now + http->attempt_timeout_ns < limit)
		limit = now + http->attempt_timeout_ns;
	if (now >= limit) {
		response->verdict = KS_OTLP_RETRY;
		response->failure = KS_OTLP_FAIL_RETRIES;
		response->cut_off = now >= cut_off;
		snprintf(response->error, sizeof(response->error),
			 "no time left to send");
		return;
	}
	http->body.len = 0;
	http->error[0] = '\0';
	http->retry_after[0] = '\0';
	ks_otlp_grpc_status_reset(&http->grpc_status);
	curl_easy_setopt(http->easy, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(http->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)len);
	curl_easy_setopt(http->easy, CURLOPT_TIMEOUT_MS,
			 (long)((limit - now + 999999) / 1000000));
	curl_easy_setopt(http->easy, CURLOPT_FRESH_CONNECT,
			 (long)http->fresh_connection);
	code = ks_perform(http, &response->cut_off);
	if (response->cut_off) {
		response->verdict = KS_OTLP_RETRY;
		response->failure = KS_OTLP_FAIL_RETRIES;
		snprintf(response->error, sizeof(response->error),
			 "cut off by shutdown");
		return;
	}
	ks_classify(http, code, response);
	http->fresh_connection =
		http->grpc && response->verdict != KS_OTLP_DELIVERED;
}
