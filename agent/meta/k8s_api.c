// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/small_file.h"
#include "base/version.h"
#include "meta/k8s_api.h"

/* Bound tokens are JWTs of a kilobyte or two. */
#define KS_K8S_MAX_TOKEN 16384

static char *ks_file_in(const char *dir, const char *name)
{
	char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	if (access(path, R_OK)) {
		free(path);
		return NULL;
	}
	return path;
}

int ks_k8s_api_init(struct ks_k8s_api *api, const char *url,
		    const char *credentials, char *err, size_t err_size)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	int len;

	memset(api, 0, sizeof(*api));
	if (url) {
		len = asprintf(&api->base_url, "%.*s", (int)strcspn(url, "?#"),
			       url);
	} else if (!host || !*host) {
		snprintf(err, err_size,
			 "KUBERNETES_SERVICE_HOST is not set: not in a pod");
		return -ENOENT;
	} else {
		/* An IPv6 address goes in brackets in a URL. */
		len = asprintf(&api->base_url,
			       strchr(host, ':') ? "https://[%s]:%s" :
						   "https://%s:%s",
			       host, port && *port ? port : "443");
	}
	if (len < 0) {
		api->base_url = NULL;
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	len = (int)strlen(api->base_url);
	while (len > 0 && api->base_url[len - 1] == '/')
		api->base_url[--len] = '\0';
	api->ca_file = ks_file_in(credentials, "ca.crt");
	api->token_file = ks_file_in(credentials, "token");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

void ks_k8s_api_clear(struct ks_k8s_api *api)
{
	if (api->base_url)
		curl_global_cleanup();
	free(api->base_url);
	free(api->ca_file);
	free(api->token_file);
	memset(api, 0, sizeof(*api));
}

/* "Authorization: Bearer TOKEN" from the token file as it is now. */
static struct curl_slist *ks_auth_header(const struct ks_k8s_api *api,
					 struct curl_slist *headers)
{
	char *token = malloc(KS_K8S_MAX_TOKEN), *header = NULL;
	struct curl_slist *grown = headers;

	if (!token) {
		curl_slist_free_all(headers);
		return NULL;
	}
	if (!ks_read_first_line(api->token_file, token, KS_K8S_MAX_TOKEN) &&
	    *token &&
	    asprintf(&header, "Authorization: Bearer %s", token) >= 0) {
		grown = curl_slist_append(headers, header);
		if (!grown)
			curl_slist_free_all(headers);
		/* The copy curl keeps is all there is of it. */
		explicit_bzero(header, strlen(header));
		free(header);
	}
	explicit_bzero(token, KS_K8S_MAX_TOKEN);
	free(token);
	return grown;
}

CURL *ks_k8s_api_request(const struct ks_k8s_api *api, const char *path,
			 struct curl_slist **headers)
{
	CURL *easy = curl_easy_init();
	char *url = NULL;
	CURLcode rc;

	*headers = curl_slist_append(NULL, "Accept: application/json");
	if (*headers && api->token_file)
		*headers = ks_auth_header(api, *headers);
	if (!easy || !*headers ||
	    asprintf(&url, "%s%s", api->base_url, path) < 0)
		goto fail;
	rc = curl_easy_setopt(easy, CURLOPT_URL, url);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_HTTPHEADER, *headers);
	rc = rc	   ?:
		     curl_easy_setopt(easy, CURLOPT_USERAGENT,
				      "knotscope/" KS_VERSION);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	/* The token never follows a redirect to another host. */
	rc = rc ?: curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	if (!rc && api->ca_file)
		rc = curl_easy_setopt(easy, CURLOPT_CAINFO, api->ca_file);
	free(url);
	if (rc == CURLE_OK)
		return easy;
fail:
	curl_easy_cleanup(easy);
	curl_slist_free_all(*headers);
	*headers = NULL;
	return NULL;
}

int ks_k8s_reader_init(struct ks_k8s_reader *reader,
		       int (*on_object)(void *ctx, json_object *obj), void *ctx)
{
	memset(reader, 0, sizeof(*reader));
	reader->tokener = json_tokener_new();
	reader->on_object = on_object;
	reader->ctx = ctx;
	return reader->tokener ? 0 : -ENOMEM;
}

void ks_k8s_reader_clear(struct ks_k8s_reader *reader)
{
	if (reader->tokener)
		json_tokener_free(reader->tokener);
	reader->tokener = NULL;
}

size_t ks_k8s_reader_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct ks_k8s_reader *reader = ctx;
	size_t len = size * nmemb, left = len;

	/* Several objects may share a chunk, and one span many chunks. */
	while (left && !reader->failed) {
		json_object *obj =
			json_tokener_parse_ex(reader->tokener, data, (int)left);
		size_t used =
			obj ? json_tokener_get_parse_end(reader->tokener) :
			      left;

		reader->object_bytes += used;
		if (reader->object_bytes > KS_K8S_MAX_RESPONSE ||
		    (!obj && json_tokener_get_error(reader->tokener) !=
				     json_tokener_continue)) {
			reader->failed = true;
			break;
		}
		if (obj) {
			reader->failed =
				reader->on_object(reader->ctx, obj) != 0;
			json_object_put(obj);
			json_tokener_reset(reader->tokener);
			reader->object_bytes = 0;
		}
		data += used;
		left -= used;
	}
	return reader->failed ? 0 : len;
}
