// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "base/small_file.h"

int ks_read_small_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t len;

	if (!f)
		return -1;
	len = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[len] = '\0';
	return (int)len;
}

int ks_read_first_line(const char *path, char *buf, size_t size)
{
	if (ks_read_small_file(path, buf, size) < 0) {
		buf[0] = '\0';
		return -1;
	}
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

const char *ks_status_field(const char *text, const char *key)
{
	size_t key_len = strlen(key);
	const char *line = text;

	while (line && *line) {
		if (!strncmp(line, key, key_len) && line[key_len] == ':')
			return line + key_len + 1 +
			       strspn(line + key_len + 1, " \t");
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}
