/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How to reach the Kubernetes API server, the way in-cluster clients do:
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, trusting the
 * cluster's CA bundle and authenticating with the pod's service account
 * token, both from the service account's directory.  The token is read
 * again for every request: kubelets rotate projected tokens.
 */
#ifndef KS_K8S_API_H
#define KS_K8S_API_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define KS_K8S_SERVICE_ACCOUNT "/var/run/secrets/kubernetes.io/serviceaccount"
/* A list page, an owner, one watch event: far below this. */
#define KS_K8S_MAX_RESPONSE (32u << 20)

struct ks_k8s_api {
	char *base_url; /* "https://10.96.0.1:443", no trailing slash */
	char *ca_file; /* NULL: the system's trust store */
	char *token_file; /* NULL: no token */
};

/*
 * url: the API server's base URL, or NULL for the in-cluster one, which
 * needs KUBERNETES_SERVICE_HOST (-ENOENT when unset: not in a cluster).
 * credentials: a service account directory (token, ca.crt); files that
 * are missing are left out.  0, or -errno with a message in err.
 */
int ks_k8s_api_init(struct ks_k8s_api *api, const char *url,
		    const char *credentials, char *err, size_t err_size);
void ks_k8s_api_clear(struct ks_k8s_api *api);

/*
 * An easy handle for GET path (with its query), with TLS, the token and
 * headers set; *headers must be freed with curl_slist_free_all() after
 * the transfer.  NULL on ENOMEM.
 */
CURL *ks_k8s_api_request(const struct ks_k8s_api *api, const char *path,
			 struct curl_slist **headers);

/*
 * A response body parsed as it arrives: one JSON document (a list, an
 * object) or the stream of them a watch sends, each handed to on_object
 * (which keeps it with json_object_get(), or not).  An object larger than
 * KS_K8S_MAX_RESPONSE, text that is not JSON, or on_object returning
 * non-zero end the transfer, with failed set.
 */
struct ks_k8s_reader {
	json_tokener *tokener;
	size_t object_bytes; /* of the object being read */
	int (*on_object)(void *ctx, json_object *obj);
	void *ctx;
	bool failed;
};

int ks_k8s_reader_init(struct ks_k8s_reader *reader,
		       int (*on_object)(void *ctx, json_object *obj),
		       void *ctx);
void ks_k8s_reader_clear(struct ks_k8s_reader *reader);
/* A CURLOPT_WRITEFUNCTION, with the reader as its CURLOPT_WRITEDATA. */
size_t ks_k8s_reader_write(char *data, size_t size, size_t nmemb, void *ctx);

#endif /* KS_K8S_API_H */
