// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/k8s_pod.h"

/* The API's ownerReference kinds, and the attribute naming each. */
static const struct {
	const char *kind;
	const char *attribute;
} ks_workload_kinds[] = {
	{ "Deployment", "k8s.deployment.name" },
	{ "ReplicaSet", "k8s.replicaset.name" },
	{ "StatefulSet", "k8s.statefulset.name" },
	{ "DaemonSet", "k8s.daemonset.name" },
	{ "CronJob", "k8s.cronjob.name" },
	{ "Job", "k8s.job.name" },
};

#define KS_NR_WORKLOAD_KINDS \
	(sizeof(ks_workload_kinds) / sizeof(ks_workload_kinds[0]))

static const char *ks_member_string(json_object *obj, const char *key)
{
	json_object *member;

	if (!json_object_object_get_ex(obj, key, &member) ||
	    !json_object_is_type(member, json_type_string))
		return NULL;
	return json_object_get_string(member);
}

static json_object *ks_member(json_object *obj, const char *key,
			      enum json_type type)
{
	json_object *member;

	if (!obj || !json_object_object_get_ex(obj, key, &member) ||
	    !json_object_is_type(member, type))
		return NULL;
	return member;
}

void ks_k8s_ref_clear(struct ks_k8s_ref *ref)
{
	free(ref->kind);
	free(ref->name);
	ref->kind = ref->name = NULL;
}

int ks_k8s_ref_parse(json_object *metadata, struct ks_k8s_ref *ref)
{
	json_object *refs =
		ks_member(metadata, "ownerReferences", json_type_array);
	size_t nr = refs ? json_object_array_length(refs) : 0;

	memset(ref, 0, sizeof(*ref));
	for (size_t i = 0; i < nr; i++) {
		json_object *owner = json_object_array_get_idx(refs, i);
		json_object *controller =
			ks_member(owner, "controller", json_type_boolean);
		const char *kind = ks_member_string(owner, "kind");
		const char *name = ks_member_string(owner, "name");

		/* At most one reference is the controller. */
		if (!controller || !json_object_get_boolean(controller) ||
		    !kind || !name)
			continue;
		ref->kind = strdup(kind);
		ref->name = strdup(name);
		if (!ref->kind || !ref->name) {
			ks_k8s_ref_clear(ref);
			return -ENOMEM;
		}
		break;
	}
	return 0;
}

/*
 * Copies the string members of map into pairs, those whose key starts
 * with prefix, without it; what exceeds max or *budget is counted in
 * *dropped.
 */
static int ks_copy_pairs(json_object *map, const char *prefix,
			 struct ks_k8s_pair *pairs, unsigned int max,
			 unsigned int *nr, size_t *budget,
			 unsigned int *dropped)
{
	size_t prefix_len = strlen(prefix);

	if (!map)
		return 0;
	json_object_object_foreach(map, key, value) {
		size_t cost;

		if (strncmp(key, prefix, prefix_len) ||
		    !json_object_is_type(value, json_type_string))
			continue;
		cost = strlen(key) + (size_t)json_object_get_string_len(value);
		if (*nr == max || cost > *budget) {
			(*dropped)++;
			continue;
		}
		pairs[*nr].key = strdup(key + prefix_len);
		pairs[*nr].value = strdup(json_object_get_string(value));
		(*nr)++;
		if (!pairs[*nr - 1].key || !pairs[*nr - 1].value)
			return -ENOMEM;
		*budget -= cost;
	}
	return 0;
}

/* "containerd://0123...": the id, when it is one a cgroup path names. */
static void ks_copy_container_id(const char *text,
				 char id[KS_CONTAINER_ID_LEN + 1])
{
	const char *scheme_end = text ? strstr(text, "://") : NULL;
	const char *hex = scheme_end ? scheme_end + 3 : text;

	id[0] = '\0';
	if (hex && strlen(hex) == KS_CONTAINER_ID_LEN)
		memcpy(id, hex, KS_CONTAINER_ID_LEN + 1);
}

/* Every container the pod ran: regular, init and ephemeral. */
static int ks_copy_containers(json_object *status, struct ks_k8s_pod *pod)
{
	static const char *const lists[] = {
		"containerStatuses",
		"initContainerStatuses",
		"ephemeralContainerStatuses",
	};

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		json_object *list =
			ks_member(status, lists[l], json_type_array);
		size_t nr = list ? json_object_array_length(list) : 0;

		for (size_t i = 0; i < nr; i++) {
			json_object *entry = json_object_array_get_idx(list, i);
			const char *name = ks_member_string(entry, "name");
			struct ks_k8s_container *container;

			if (!name ||
			    pod->nr_containers == KS_K8S_MAX_CONTAINERS)
				continue;
			container = &pod->containers[pod->nr_containers++];
			container->name = strdup(name);
			if (!container->name)
				return -ENOMEM;
			ks_copy_container_id(
				ks_member_string(entry, "containerID"),
				container->id);
		}
	}
	return 0;
}

void ks_k8s_pod_clear(struct ks_k8s_pod *pod)
{
	for (unsigned int i = 0; i < pod->nr_labels; i++) {
		free(pod->labels[i].key);
		free(pod->labels[i].value);
	}
	for (unsigned int i = 0; i < pod->nr_annotations; i++) {
		free(pod->annotations[i].key);
		free(pod->annotations[i].value);
	}
	for (unsigned int i = 0; i < pod->nr_containers; i++)
		free(pod->containers[i].name);
	free(pod->namespace_name);
	free(pod->name);
	ks_k8s_ref_clear(&pod->controller);
	memset(pod, 0, sizeof(*pod));
}

int ks_k8s_pod_parse(json_object *obj, struct ks_k8s_pod *pod)
{
	json_object *metadata = ks_member(obj, "metadata", json_type_object);
	const char *uid = metadata ? ks_member_string(metadata, "uid") : NULL;
	const char *name = metadata ? ks_member_string(metadata, "name") : NULL;
	const char *namespace_name =
		metadata ? ks_member_string(metadata, "namespace") : NULL;
	size_t budget = KS_K8S_POD_TEXT_BUDGET;
	int err;

	memset(pod, 0, sizeof(*pod));
	if (!uid || !name || !namespace_name || !*uid ||
	    strlen(uid) > KS_POD_UID_MAX)
		return -EINVAL;
	strcpy(pod->uid, uid);
	pod->name = strdup(name);
	pod->namespace_name = strdup(namespace_name);
	if (!pod->name || !pod->namespace_name) {
		err = -ENOMEM;
		goto fail;
	}
	/* The annotations first: they are what services are named by. */
	err = ks_copy_pairs(
		ks_member(metadata, "annotations", json_type_object),
		KS_K8S_RESOURCE_PREFIX, pod->annotations,
		KS_K8S_MAX_ANNOTATIONS, &pod->nr_annotations, &budget,
		&pod->nr_dropped);
	if (!err)
		err = ks_copy_pairs(
			ks_member(metadata, "labels", json_type_object), "",
			pod->labels, KS_K8S_MAX_LABELS, &pod->nr_labels,
			&budget, &pod->nr_dropped);
	if (!err)
		err = ks_k8s_ref_parse(metadata, &pod->controller);
	if (!err)
		err = ks_copy_containers(
			ks_member(obj, "status", json_type_object), pod);
	if (!err)
		return 0;
fail:
	ks_k8s_pod_clear(pod);
	return err;
}

const char *ks_k8s_pod_container(const struct ks_k8s_pod *pod,
				 const char *container_id)
{
	if (!container_id || !*container_id)
		return NULL;
	for (unsigned int i = 0; i < pod->nr_containers; i++)
		if (!strcmp(pod->containers[i].id, container_id))
			return pod->containers[i].name;
	return NULL;
}

static const char *ks_pair_value(const struct ks_k8s_pair *pairs,
				 unsigned int nr, const char *key)
{
	for (unsigned int i = 0; i < nr; i++)
		if (!strcmp(pairs[i].key, key))
			return pairs[i].value;
	return NULL;
}

/* The attribute that names a workload of this kind; NULL for others. */
static const char *ks_workload_attribute(const struct ks_k8s_ref *ref)
{
	if (!ref || !ref->kind)
		return NULL;
	for (size_t i = 0; i < KS_NR_WORKLOAD_KINDS; i++)
		if (!strcmp(ref->kind, ks_workload_kinds[i].kind))
			return ks_workload_kinds[i].attribute;
	return NULL;
}

/*
 * service.name from the workload: the conventions' order goes from the
 * ancestor down, Deployment before ReplicaSet, CronJob before Job.
 */
static const char *ks_workload_service_name(const struct ks_k8s_ref *owner,
					    const struct ks_k8s_ref *parent)
{
	for (size_t i = 0; i < KS_NR_WORKLOAD_KINDS; i++) {
		const char *kind = ks_workload_kinds[i].kind;

		if (parent && parent->kind && !strcmp(parent->kind, kind))
			return parent->name;
		if (owner->kind && !strcmp(owner->kind, kind))
			return owner->name;
	}
	return NULL;
}

static void ks_add_service(const struct ks_k8s_pod *pod, const char *container,
			   const struct ks_k8s_ref *parent,
			   bool well_known_labels, struct ks_otlp_attrs *attrs)
{
	const char *name = NULL, *version = NULL;
	char *instance = NULL;

	if (well_known_labels) {
		name = ks_pair_value(pod->labels, pod->nr_labels,
				     "app.kubernetes.io/instance");
		if (!name)
			name = ks_pair_value(pod->labels, pod->nr_labels,
					     "app.kubernetes.io/name");
		version = ks_pair_value(pod->labels, pod->nr_labels,
					"app.kubernetes.io/version");
	}
	if (!name)
		name = ks_workload_service_name(&pod->controller, parent);
	if (!name)
		name = pod->name;
	ks_otlp_attrs_str(attrs, "service.name", name);
	ks_otlp_attrs_str(attrs, "service.namespace", pod->namespace_name);
	if (version)
		ks_otlp_attrs_str(attrs, "service.version", version);
	if (container && asprintf(&instance, "%s.%s.%s", pod->namespace_name,
				  pod->name, container) >= 0) {
		ks_otlp_attrs_str(attrs, "service.instance.id", instance);
		free(instance);
	}
}

static void ks_add_labels(const struct ks_k8s_pod *pod,
			  struct ks_otlp_attrs *attrs)
{
	char key[512];

	for (unsigned int i = 0; i < pod->nr_labels; i++) {
		/* A label key is at most 317 bytes: it always fits. */
		snprintf(key, sizeof(key), "k8s.pod.label.%s",
			 pod->labels[i].key);
		ks_otlp_attrs_str(attrs, key, pod->labels[i].value);
	}
}

void ks_k8s_pod_add_attrs(const struct ks_k8s_pod *pod,
			  const char *container_id,
			  const struct ks_k8s_ref *parent,
			  bool well_known_labels, enum ks_k8s_part parts,
			  struct ks_otlp_attrs *attrs)
{
	const char *container = ks_k8s_pod_container(pod, container_id);
	const char *attribute;

	if (parts & KS_K8S_OBSERVED) {
		ks_otlp_attrs_str(attrs, "k8s.namespace.name",
				  pod->namespace_name);
		ks_otlp_attrs_str(attrs, "k8s.pod.name", pod->name);
		ks_otlp_attrs_str(attrs, "k8s.pod.uid", pod->uid);
		if (container)
			ks_otlp_attrs_str(attrs, "k8s.container.name",
					  container);
		attribute = ks_workload_attribute(&pod->controller);
		if (attribute)
			ks_otlp_attrs_str(attrs, attribute,
					  pod->controller.name);
		attribute = ks_workload_attribute(parent);
		if (attribute)
			ks_otlp_attrs_str(attrs, attribute, parent->name);
		ks_add_labels(pod, attrs);
	}
	if (!(parts & KS_K8S_SERVICE))
		return;
	/* First added wins: what the pod's owner set beats what is derived. */
	for (unsigned int i = 0; i < pod->nr_annotations; i++)
		ks_otlp_attrs_str(attrs, pod->annotations[i].key,
				  pod->annotations[i].value);
	ks_add_service(pod, container, parent, well_known_labels, attrs);
}
