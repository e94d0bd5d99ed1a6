// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>

#include "capture/elf_symbols.h"

/* The symbol's address in every symbol table; 0 if absent, UINT64_MAX if
 * two copies of it disagree. */
static uint64_t ks_find_symbol(Elf *elf, const char *name)
{
	uint64_t address = 0;
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) ||
		    (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && shdr.sh_entsize &&
				   i < shdr.sh_size / shdr.sh_entsize;
		     i++) {
			GElf_Sym sym;
			const char *sym_name;

			if (!gelf_getsym(data, (int)i, &sym) ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    !sym.st_value)
				continue;
			sym_name = elf_strptr(elf, shdr.sh_link, sym.st_name);
			if (!sym_name || strcmp(sym_name, name))
				continue;
			if (address && address != sym.st_value)
				return UINT64_MAX;
			address = sym.st_value;
		}
	}
	return address;
}

/* A loaded address to a file offset, through the segment that holds it. */
static int ks_address_to_offset(Elf *elf, uint64_t address, uint64_t *offset)
{
	size_t nr_phdrs;

	if (elf_getphdrnum(elf, &nr_phdrs))
		return -EINVAL;
	for (size_t i = 0; i < nr_phdrs; i++) {
		GElf_Phdr phdr;

		if (!gelf_getphdr(elf, (int)i, &phdr) ||
		    phdr.p_type != PT_LOAD || address < phdr.p_vaddr ||
		    address >= phdr.p_vaddr + phdr.p_memsz)
			continue;
		*offset = address - phdr.p_vaddr + phdr.p_offset;
		return 0;
	}
	return -ENOENT;
}

int ks_elf_function_offset(const char *path, const char *name, uint64_t *offset)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = NULL;
	uint64_t address;
	int ret;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		ret = -EINVAL;
		goto cleanup;
	}
	address = ks_find_symbol(elf, name);
	if (!address)
		ret = -ENOENT;
	else if (address == UINT64_MAX)
		ret = -EINVAL;
	else
		ret = ks_address_to_offset(elf, address, offset);
cleanup:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}
