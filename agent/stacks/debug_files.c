// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "stacks/debug_files.h"

/* Whether the ELF file open as fd has this build id. */
static bool ks_has_build_id(int fd, const unsigned char *id, int len)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *found = NULL;
	bool same;

	if (!elf)
		return false;
	same = dwelf_elf_gnu_build_id(elf, &found) == len &&
	       !memcmp(found, id, (size_t)len);
	elf_end(elf);
	return same;
}

/* Whether the file open as fd has the CRC-32 its .gnu_debuglink names. */
static bool ks_has_crc(int fd, GElf_Word crc)
{
	unsigned char buf[65536];
	uLong sum = crc32(0, NULL, 0);
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sum = crc32(sum, buf, (uInt)n);
	return n == 0 && sum == crc;
}

static int ks_open_if(const char *path, bool (*valid)(int, const void *),
		      const void *arg, char **found)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (!valid(fd, arg)) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	*found = strdup(path);
	return fd;
}

struct ks_build_id {
	const unsigned char *bits;
	int len;
};

static bool ks_valid_build_id(int fd, const void *arg)
{
	const struct ks_build_id *id = arg;

	return ks_has_build_id(fd, id->bits, id->len);
}

static bool ks_valid_crc(int fd, const void *arg)
{
	return ks_has_crc(fd, *(const GElf_Word *)arg);
}

/* /usr/lib/debug/.build-id/ab/cdef....debug */
static int ks_open_by_build_id(const char *root, Dwfl_Module *mod, char **found)
{
	struct ks_build_id id;
	GElf_Addr vaddr;
	char path[PATH_MAX];
	int len;

	id.len = dwfl_module_build_id(mod, &id.bits, &vaddr);
	if (id.len < 2)
		return -1;
	len = snprintf(path, sizeof(path), "%s/usr/lib/debug/.build-id/%02x/",
		       root, id.bits[0]);
	for (int i = 1; i < id.len && len + 3 < (int)sizeof(path); i++)
		len += snprintf(path + len, sizeof(path) - (size_t)len, "%02x",
				id.bits[i]);
	snprintf(path + len, sizeof(path) - (size_t)len, ".debug");
	return ks_open_if(path, ks_valid_build_id, &id, found);
}

/* The debuglink's name beside the binary, in .debug/, in /usr/lib/debug. */
static int ks_open_by_debuglink(const char *root, const char *module_path,
				const char *debuglink, GElf_Word crc,
				char **found)
{
	static const char *const places[] = { "%s%.*s/%s", "%s%.*s/.debug/%s",
					      "%s/usr/lib/debug%.*s/%s" };
	const char *slash = strrchr(module_path, '/');
	int dir_len = slash ? (int)(slash - module_path) : 0;
	char path[PATH_MAX];
	int fd = -1;

	if (!debuglink || module_path[0] != '/')
		return -1;
	for (size_t i = 0; fd < 0 && i < sizeof(places) / sizeof(places[0]);
	     i++) {
		snprintf(path, sizeof(path), places[i], root, dir_len,
			 module_path, debuglink);
		fd = ks_open_if(path, ks_valid_crc, &crc, found);
	}
	return fd;
}

int ks_debug_file_open(const char *root, Dwfl_Module *mod,
		       const char *module_path, const char *debuglink,
		       GElf_Word debuglink_crc, char **found)
{
	int fd = ks_open_by_build_id(root, mod, found);

	if (fd < 0)
		fd = ks_open_by_debuglink(root, module_path, debuglink,
					  debuglink_crc, found);
	return fd;
}
