// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/libc_kind.h"
#include "base/proc.h"

/* NT_GNU_ABI_TAG, owner "GNU": written by glibc's crt1.o. */
#define KS_NT_GNU_ABI_TAG 1

const char *ks_libc_name(enum ks_libc libc)
{
	switch (libc) {
	case KS_LIBC_GLIBC:
		return "glibc";
	case KS_LIBC_MUSL:
		return "musl";
	case KS_LIBC_UNKNOWN:
		break;
	}
	return "unknown";
}

static bool ks_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The C library among the files the process maps, if a shared one. */
static enum ks_libc ks_libc_of_mappings(uint32_t tgid)
{
	enum ks_libc libc = KS_LIBC_UNKNOWN;
	char path[64], *line = NULL;
	size_t size = 0;
	FILE *maps;

	snprintf(path, sizeof(path), "%s/%u/maps", ks_proc_root(), tgid);
	maps = fopen(path, "re");
	if (!maps)
		return KS_LIBC_UNKNOWN;
	while (libc == KS_LIBC_UNKNOWN && getline(&line, &size, maps) > 0) {
		const char *base = strrchr(line, '/');

		if (!base)
			continue;
		base++;
		/* Debian's ld-musl is a link to <triplet>-musl/libc.so. */
		if (ks_starts_with(base, "ld-musl-") ||
		    ks_starts_with(base, "libc.musl-") ||
		    (ks_starts_with(base, "libc.so") && strstr(line, "-musl/")))
			libc = KS_LIBC_MUSL;
		else if (ks_starts_with(base, "libc.so.6") ||
			 ks_starts_with(base, "ld-linux"))
			libc = KS_LIBC_GLIBC;
	}
	free(line);
	fclose(maps);
	return libc;
}

static bool ks_has_abi_tag(Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t offset = 0, name_offset, desc_offset;
	GElf_Nhdr note;

	while (data && (offset = gelf_getnote(data, offset, &note, &name_offset,
					      &desc_offset)) > 0)
		if (note.n_type == KS_NT_GNU_ABI_TAG && note.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + name_offset, "GNU", 4))
			return true;
	return false;
}

static bool ks_has_symbol(Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr,
			  const char *name)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count = shdr->sh_entsize ? shdr->sh_size / shdr->sh_entsize : 0;
	GElf_Sym sym;

	for (size_t i = 0; data && i < count; i++) {
		const char *sym_name;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		sym_name = elf_strptr(elf, shdr->sh_link, sym.st_name);
		if (sym_name && !strcmp(sym_name, name))
			return true;
	}
	return false;
}

/* A static program: what its start files and symbols say. */
static enum ks_libc ks_libc_of_executable(uint32_t tgid)
{
	enum ks_libc libc = KS_LIBC_UNKNOWN;
	Elf_Scn *scn = NULL;
	char path[PATH_MAX];
	Elf *elf = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/exe", ks_proc_root(), tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return KS_LIBC_UNKNOWN;
	if (elf_version(EV_CURRENT) == EV_NONE)
		goto cleanup;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (elf && libc == KS_LIBC_UNKNOWN &&
	       (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;

		if (!gelf_getshdr(scn, &shdr))
			break;
		if (shdr.sh_type == SHT_NOTE && ks_has_abi_tag(scn))
			libc = KS_LIBC_GLIBC;
		else if (shdr.sh_type == SHT_SYMTAB &&
			 ks_has_symbol(elf, scn, &shdr, "__init_libc"))
			libc = KS_LIBC_MUSL;
	}
cleanup:
	if (elf)
		elf_end(elf);
	close(fd);
	return libc;
}

enum ks_libc ks_proc_libc(uint32_t tgid)
{
	enum ks_libc libc = ks_libc_of_mappings(tgid);

	return libc != KS_LIBC_UNKNOWN ? libc : ks_libc_of_executable(tgid);
}
