// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "serve/history.h"

struct ks_record {
	char type[KS_HISTORY_TYPE_MAX + 1];
	char *json;
};

struct ks_history {
	char *path; /* NULL: memory only */
	FILE *file; /* appended to; NULL after a failure */
	size_t max;
	struct ks_record *ring; /* max records, oldest at head */
	size_t head;
	size_t nr;
	size_t file_records; /* lines in the file now */
	uint64_t total;
	uint64_t skipped;
};

static void ks_keep(struct ks_history *history, const char *type, char *json)
{
	size_t slot = (history->head + history->nr) % history->max;

	if (history->nr == history->max) {
		free(history->ring[history->head].json);
		history->head = (history->head + 1) % history->max;
		history->nr--;
	}
	snprintf(history->ring[slot].type, sizeof(history->ring[slot].type),
		 "%s", type);
	history->ring[slot].json = json;
	history->nr++;
	history->total++;
}

/* A line of the file as a record: a JSON object with a type, restored. */
static bool ks_restore(struct ks_history *history, const char *line)
{
	json_object *obj = json_tokener_parse(line), *type;
	char *json = NULL;

	if (obj && json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, "type", &type) &&
	    json_object_is_type(type, json_type_string) &&
	    json_object_get_string_len(type) <= KS_HISTORY_TYPE_MAX) {
		json_object_object_add(obj, "restored",
				       json_object_new_boolean(true));
		json = strdup(json_object_to_json_string_ext(
			obj, JSON_C_TO_STRING_PLAIN |
				     JSON_C_TO_STRING_NOSLASHESCAPE));
		if (json)
			ks_keep(history, json_object_get_string(type), json);
	}
	json_object_put(obj);
	return json != NULL;
}

static void ks_load(struct ks_history *history)
{
	FILE *f = fopen(history->path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f) {
		if (errno != ENOENT)
			ks_warn("--history-file %s: %s: the page starts without "
				"what it held\n",
				history->path, strerror(errno));
		return;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		history->file_records++;
		if ((size_t)len > KS_HISTORY_MAX_RECORD ||
		    !ks_restore(history, line))
			history->skipped++;
	}
	if (history->skipped)
		ks_warn("--history-file %s: %lu lines are not records; "
			"left out\n",
			history->path, (unsigned long)history->skipped);
	free(line);
	fclose(f);
}

static FILE *ks_open_for_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;

	if (fd >= 0 && !f)
		close(fd);
	return f;
}

static void ks_failed(struct ks_history *history, const char *what)
{
	ks_warn("--history-file %s: %s: %s; the page keeps what comes in "
		"memory only\n",
		history->path, what, strerror(errno));
	if (history->file)
		fclose(history->file);
	history->file = NULL;
}

/* The latest records only, in a new file renamed over the old one. */
static void ks_compact(struct ks_history *history)
{
	char *tmp = NULL;
	FILE *f = NULL;
	int err = 0;

	if (asprintf(&tmp, "%s.tmp", history->path) < 0) {
		tmp = NULL;
		goto cleanup;
	}
	f = fopen(tmp, "we");
	if (!f) {
		err = -1;
		goto cleanup;
	}
	for (size_t i = 0; i < history->nr; i++)
		fprintf(f, "%s\n", ks_history_record(history, i));
	if (fflush(f) || fsync(fileno(f)))
		err = -1;
	if (fclose(f))
		err = -1;
	if (!err && rename(tmp, history->path))
		err = -1;
cleanup:
	if (err || !tmp) {
		ks_failed(history, "cannot rewrite it shorter");
		if (tmp)
			unlink(tmp);
	} else {
		history->file_records = history->nr;
		if (history->file)
			fclose(history->file);
		history->file = ks_open_for_append(history->path);
		if (!history->file)
			ks_failed(history, "cannot open it");
	}
	free(tmp);
}

struct ks_history *ks_history_open(const char *path, size_t max)
{
	struct ks_history *history = calloc(1, sizeof(*history));

	if (!history)
		return NULL;
	history->max = max;
	history->ring = calloc(max, sizeof(*history->ring));
	history->path = path ? strdup(path) : NULL;
	if (!history->ring || (path && !history->path)) {
		ks_history_close(history);
		return NULL;
	}
	if (!path)
		return history;
	ks_load(history);
	history->file = ks_open_for_append(path);
	if (!history->file)
		ks_failed(history, "cannot open it");
	else if (history->file_records > 2 * max)
		ks_compact(history);
	return history;
}

void ks_history_close(struct ks_history *history)
{
	if (!history)
		return;
	if (history->file)
		fclose(history->file);
	for (size_t i = 0; i < history->nr; i++)
		free(history->ring[(history->head + i) % history->max].json);
	free(history->ring);
	free(history->path);
	free(history);
}

void ks_history_append(struct ks_history *history, const char *type,
		       const char *record)
{
	char *copy = strdup(record);

	if (!copy)
		return;
	ks_keep(history, type, copy);
	if (!history->file)
		return;
	if (fprintf(history->file, "%s\n", record) < 0 ||
	    fflush(history->file)) {
		ks_failed(history, "cannot write to it");
		return;
	}
	if (++history->file_records > 2 * history->max)
		ks_compact(history);
}

size_t ks_history_count(const struct ks_history *history)
{
	return history->nr;
}

const char *ks_history_record(const struct ks_history *history, size_t i)
{
	return history->ring[(history->head + i) % history->max].json;
}

const char *ks_history_type(const struct ks_history *history, size_t i)
{
	return history->ring[(history->head + i) % history->max].type;
}

uint64_t ks_history_total(const struct ks_history *history)
{
	return history->total;
}

uint64_t ks_history_skipped(const struct ks_history *history)
{
	return history->skipped;
}
