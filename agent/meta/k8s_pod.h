/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A pod as the Kubernetes API server describes it (a v1 Pod object, from a
 * list or a watch event), reduced to what names telemetry: its identity,
 * labels, the resource.opentelemetry.io/ annotations, the controller that
 * owns it, and its containers' runtime ids and names.  Everything else of
 * the object (spec, managed fields, conditions) is dropped at parse time.
 *
 * Each pod's labels and annotations share a budget of bytes, so that the
 * cache of a node's pods has a ceiling however large the objects are.
 */
#ifndef KS_K8S_POD_H
#define KS_K8S_POD_H

#include <json-c/json.h>
#include <stdbool.h>

#include "meta/cgroup_meta.h"
#include "otlp/otlp_build.h"

#define KS_K8S_MAX_LABELS 64
#define KS_K8S_MAX_ANNOTATIONS 16
#define KS_K8S_MAX_CONTAINERS 32
/* Bytes of label and annotation keys and values kept per pod. */
#define KS_K8S_POD_TEXT_BUDGET 8192
/* The annotations OpenTelemetry turns into resource attributes. */
#define KS_K8S_RESOURCE_PREFIX "resource.opentelemetry.io/"

struct ks_k8s_pair {
	char *key;
	char *value;
};

struct ks_k8s_container {
	char *name;
	/* The runtime's id, without its "containerd://" scheme; empty
	 * until the container has started. */
	char id[KS_CONTAINER_ID_LEN + 1];
};

/* An owner reference: what created a pod, or a ReplicaSet or a Job. */
struct ks_k8s_ref {
	char *kind; /* "ReplicaSet", "StatefulSet", ...; NULL: none */
	char *name;
};

struct ks_k8s_pod {
	char uid[KS_POD_UID_MAX + 1];
	char *namespace_name;
	char *name;
	struct ks_k8s_pair labels[KS_K8S_MAX_LABELS];
	unsigned int nr_labels;
	/* resource.opentelemetry.io/KEY, with KEY as key. */
	struct ks_k8s_pair annotations[KS_K8S_MAX_ANNOTATIONS];
	unsigned int nr_annotations;
	/* Labels and annotations left out, over the limits. */
	unsigned int nr_dropped;
	struct ks_k8s_ref controller;
	struct ks_k8s_container containers[KS_K8S_MAX_CONTAINERS];
	unsigned int nr_containers;
};

/*
 * Fills *pod from a v1 Pod object.  0, -EINVAL when obj is not a pod with
 * a namespace, a name and a UID, or -ENOMEM; *pod is then empty.
 */
int ks_k8s_pod_parse(json_object *obj, struct ks_k8s_pod *pod);
void ks_k8s_pod_clear(struct ks_k8s_pod *pod);

/* The controller owner reference of any object's metadata, copied. */
int ks_k8s_ref_parse(json_object *metadata, struct ks_k8s_ref *ref);
void ks_k8s_ref_clear(struct ks_k8s_ref *ref);

/* The name of the container with that runtime id; NULL if unknown. */
const char *ks_k8s_pod_container(const struct ks_k8s_pod *pod,
				 const char *container_id);

/* Which of a pod's attributes to add. */
enum ks_k8s_part {
	/* What the API observes: k8s.namespace.name, k8s.pod.name and uid,
	 * k8s.container.name, the workload's k8s.*.name, k8s.pod.label.* */
	KS_K8S_OBSERVED = 1,
	/* What the pod says of itself (its resource.opentelemetry.io/
	 * annotations) and the service.name, service.namespace,
	 * service.version and service.instance.id its workload implies. */
	KS_K8S_SERVICE = 2,
	KS_K8S_ALL = 3,
};

/*
 * The resource attributes of a process in container container_id (may be
 * empty) of the pod, whose controller is in turn controlled by parent
 * (a ReplicaSet's Deployment, a Job's CronJob; may be NULL), following
 * OpenTelemetry's "resource attributes in Kubernetes": the parts asked
 * for, observed ones first.  Of the service's, the annotations come
 * first, then service.name as the semantic conventions derive it; the
 * well-known app.kubernetes.io/ labels name the service only when
 * well_known_labels is set (the conventions ask tools to make that
 * opt-in).
 */
void ks_k8s_pod_add_attrs(const struct ks_k8s_pod *pod,
			  const char *container_id,
			  const struct ks_k8s_ref *parent,
			  bool well_known_labels, enum ks_k8s_part parts,
			  struct ks_otlp_attrs *attrs);

#endif /* KS_K8S_POD_H */
