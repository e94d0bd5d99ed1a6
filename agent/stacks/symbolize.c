// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <libiberty/demangle.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "base/log.h"
#include "base/proc.h"
#include "stacks/debug_files.h"
#include "stacks/symbolize.h"

/* One Dwfl per process: its module list is that process's mappings. */
struct ks_sym_process {
	uint32_t tgid;
	Dwfl *dwfl;
	/* The thread being unwound, for the thread callbacks. */
	uint32_t tid;
	const struct ks_stack_source *source;
	UT_hash_handle hh;
};

/*
 * Symbol lookups are cached by what the code is (build id, or path when a
 * module has none) and where in it, so the same library in many processes
 * costs one DWARF lookup per address.
 */
struct ks_sym_key {
	char module_id[8 + sizeof(((struct ks_frame *)0)->module)];
	uint64_t module_offset;
};

/* Inlined functions at one address, innermost first, then the real one. */
#define KS_MAX_INLINE_DEPTH 16

struct ks_sym_level {
	char *function; /* NULL when unknown */
	char *file; /* NULL without line information */
	int line;
	bool inlined;
};

struct ks_sym_entry {
	struct ks_sym_key key;
	uint64_t function_offset; /* of the outermost level, from its symbol */
	unsigned int nr_levels;
	struct ks_sym_level levels[KS_MAX_INLINE_DEPTH];
	UT_hash_handle hh;
};

#define KS_SYM_CACHE_MAX 65536

struct ks_symbolizer {
	struct ks_sym_process *processes;
	struct ks_sym_entry *cache;
};

struct ks_symbolizer *ks_symbolizer_new(void)
{
	return calloc(1, sizeof(struct ks_symbolizer));
}

static void ks_sym_process_free(struct ks_symbolizer *symbolizer,
				struct ks_sym_process *process)
{
	HASH_DEL(symbolizer->processes, process);
	if (process->dwfl)
		dwfl_end(process->dwfl);
	free(process);
}

void ks_symbolizer_forget(struct ks_symbolizer *symbolizer, uint32_t tgid)
{
	struct ks_sym_process *process;

	HASH_FIND(hh, symbolizer->processes, &tgid, sizeof(tgid), process);
	if (process)
		ks_sym_process_free(symbolizer, process);
}

static void ks_sym_cache_clear(struct ks_symbolizer *symbolizer)
{
	struct ks_sym_entry *entry, *tmp;

	HASH_ITER(hh, symbolizer->cache, entry, tmp) {
		HASH_DEL(symbolizer->cache, entry);
		for (unsigned int i = 0; i < entry->nr_levels; i++) {
			free(entry->levels[i].function);
			free(entry->levels[i].file);
		}
		free(entry);
	}
}

void ks_symbolizer_free(struct ks_symbolizer *symbolizer)
{
	struct ks_sym_process *process, *tmp;

	if (!symbolizer)
		return;
	HASH_ITER(hh, symbolizer->processes, process, tmp)
		ks_sym_process_free(symbolizer, process);
	ks_sym_cache_clear(symbolizer);
	free(symbolizer);
}

/*
 * Opens a module through /proc/PID/root, so a process in another mount
 * namespace (a container, unshare -m) gets its own files, not the host's
 * files at the same paths.
 */
static int ks_find_elf(Dwfl_Module *mod, void **userdata, const char *name,
		       Dwarf_Addr base, char **file_name, Elf **elfp)
{
	struct ks_sym_process *process = *userdata;
	char path[PATH_MAX];
	int fd;

	if (process && name[0] == '/') {
		snprintf(path, sizeof(path), "/proc/%u/root%s", process->tgid,
			 name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			*file_name = strdup(path);
			return fd;
		}
	}
	/* The vDSO and deleted files: libdwfl reads them from memory. */
	return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name,
					elfp);
}

/*
 * Separate debug files, under the process's own root first, then where
 * libdwfl looks by default (the agent's /usr/lib/debug, beside the file).
 */
static int ks_find_debuginfo(Dwfl_Module *mod, void **userdata,
			     const char *name, Dwarf_Addr base,
			     const char *file_name, const char *debuglink,
			     GElf_Word debuglink_crc, char **debuginfo_name)
{
	struct ks_sym_process *process = *userdata;
	char root[64];
	int fd = -1;

	if (process) {
		snprintf(root, sizeof(root), "/proc/%u/root", process->tgid);
		fd = ks_debug_file_open(root, mod, name, debuglink,
					debuglink_crc, debuginfo_name);
	}
	return fd >= 0 ? fd :
			 dwfl_standard_find_debuginfo(
				 mod, userdata, name, base, file_name,
				 debuglink, debuglink_crc, debuginfo_name);
}

static const Dwfl_Callbacks ks_dwfl_callbacks = {
	.find_elf = ks_find_elf,
	.find_debuginfo = ks_find_debuginfo,
};

static int ks_set_module_userdata(Dwfl_Module *mod, void **userdata,
				  const char *name, Dwarf_Addr start, void *arg)
{
	*userdata = arg;
	return DWARF_CB_OK;
}

static pid_t ks_next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp)
{
	struct ks_sym_process *process = dwfl_arg;

	if (*thread_argp)
		return 0;
	*thread_argp = process;
	return (pid_t)process->tid;
}

static bool ks_get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg,
			  void **thread_argp)
{
	struct ks_sym_process *process = dwfl_arg;

	if ((uint32_t)tid != process->tid)
		return false;
	*thread_argp = process;
	return true;
}

bool ks_stack_snapshot_read(const struct ks_stack_source *source, uint64_t addr,
			    uint64_t *value)
{
	uint64_t base = source->regs[KS_REG_SP];
	uint64_t offset = addr - base;
	uint32_t len = source->snapshot_len;

	/*
	 * In offsets, which cannot wrap: the unwinder asks for addresses
	 * the traced program's stack contents decide, up to the very top.
	 */
	if (addr < base || offset > len || len - offset < sizeof(*value))
		return false;
	memcpy(value, source->snapshot + offset, sizeof(*value));
	return true;
}

static bool ks_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
			   void *dwfl_arg)
{
	struct ks_sym_process *process = dwfl_arg;
	const struct ks_stack_source *source = process->source;
	uint64_t value;

	if (!ks_stack_snapshot_read(source, addr, &value) &&
	    (!source->live ||
	     ks_proc_read_mem(process->tgid, addr, &value, sizeof(value))))
		return false;
	*result = value;
	return true;
}

static bool ks_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct ks_sym_process *process = thread_arg;
	const __u64 *r = process->source->regs;

	/* Only registers that were saved: an unset one is "unknown". */
#if defined(__x86_64__)
	/* DWARF numbers: 3 rbx, 6 rbp, 7 rsp, 12-15 r12-r15, 16 rip. */
	Dwarf_Word rbx = r[KS_REG_BX];
	Dwarf_Word rbp_rsp[2] = { r[KS_REG_BP], r[KS_REG_SP] };
	Dwarf_Word r12_r15[4] = { r[KS_REG_R12], r[KS_REG_R13], r[KS_REG_R14],
				  r[KS_REG_R15] };
	Dwarf_Word rip = r[KS_REG_IP];

	if (rbx)
		dwfl_thread_state_registers(thread, 3, 1, &rbx);
	if (rbp_rsp[0])
		dwfl_thread_state_registers(thread, 6, 1, &rbp_rsp[0]);
	if (r12_r15[0] || r12_r15[1] || r12_r15[2] || r12_r15[3])
		dwfl_thread_state_registers(thread, 12, 4, r12_r15);
	return dwfl_thread_state_registers(thread, 7, 1, &rbp_rsp[1]) &&
	       dwfl_thread_state_registers(thread, 16, 1, &rip);
#elif defined(__aarch64__)
	/* DWARF numbers: x19-x28 19-28, x29 29, x30 30, sp 31. */
	Dwarf_Word x19_x30[12];
	Dwarf_Word sp = r[KS_REG_SP];

	for (int i = 0; i < 10; i++)
		x19_x30[i] = r[KS_REG_X19 + i];
	x19_x30[10] = r[KS_REG_FP];
	x19_x30[11] = r[KS_REG_LR];
	if (!dwfl_thread_state_registers(thread, 19, 12, x19_x30) ||
	    !dwfl_thread_state_registers(thread, 31, 1, &sp))
		return false;
	dwfl_thread_state_register_pc(thread, r[KS_REG_IP]);
	return true;
#endif
}

static const Dwfl_Thread_Callbacks ks_thread_callbacks = {
	.next_thread = ks_next_thread,
	.get_thread = ks_get_thread,
	.memory_read = ks_memory_read,
	.set_initial_registers = ks_set_initial_registers,
};

/*
 * Reports a process's mappings to dwfl.  The uprobes of precise mode add an
 * "[uprobes]" mapping (their out-of-line instruction slots), which libdwfl
 * 0.188 does not understand and fails the whole report on: it is left out.
 */
static int ks_report_mappings(Dwfl *dwfl, uint32_t tgid)
{
	char path[64], *line = NULL, *kept = NULL;
	size_t line_size = 0, kept_size = 0;
	FILE *maps, *filtered = NULL;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/%u/maps", ks_proc_root(), tgid);
	maps = fopen(path, "re");
	if (!maps)
		return -1;
	filtered = open_memstream(&kept, &kept_size);
	if (!filtered)
		goto cleanup;
	while (getline(&line, &line_size, maps) > 0)
		if (!strstr(line, "[uprobes]"))
			fputs(line, filtered);
	fclose(filtered);
	filtered = fmemopen(kept, kept_size, "r");
	if (!filtered)
		goto cleanup;
	ret = dwfl_linux_proc_maps_report(dwfl, filtered);
cleanup:
	if (filtered)
		fclose(filtered);
	fclose(maps);
	free(line);
	free(kept);
	return ret;
}

/* Reports the process's current mappings into a fresh Dwfl. */
static int ks_sym_process_load(struct ks_sym_process *process)
{
	Dwfl *dwfl = dwfl_begin(&ks_dwfl_callbacks);
	int ret = -1;

	if (!dwfl)
		goto cleanup;
	dwfl_report_begin(dwfl);
	if (ks_report_mappings(dwfl, process->tgid)) {
		ks_debug("cannot read the mappings of pid %u\n", process->tgid);
		goto cleanup;
	}
	if (dwfl_report_end(dwfl, NULL, NULL))
		goto cleanup;
	dwfl_getmodules(dwfl, ks_set_module_userdata, process, 0);
	if (!dwfl_attach_state(dwfl, NULL, (pid_t)process->tgid,
			       &ks_thread_callbacks, process)) {
		ks_debug("cannot unwind in pid %u: %s\n", process->tgid,
			 dwfl_errmsg(-1));
		goto cleanup;
	}
	if (process->dwfl)
		dwfl_end(process->dwfl);
	process->dwfl = dwfl;
	dwfl = NULL;
	ret = 0;
cleanup:
	if (dwfl)
		dwfl_end(dwfl);
	return ret;
}

static struct ks_sym_process *
ks_sym_process_get(struct ks_symbolizer *symbolizer, uint32_t tgid)
{
	struct ks_sym_process *process;

	HASH_FIND(hh, symbolizer->processes, &tgid, sizeof(tgid), process);
	if (process)
		return process;
	process = calloc(1, sizeof(*process));
	if (!process)
		return NULL;
	process->tgid = tgid;
	if (ks_sym_process_load(process)) {
		free(process);
		return NULL;
	}
	HASH_ADD(hh, symbolizer->processes, tgid, sizeof(tgid), process);
	return process;
}

static void ks_module_id(Dwfl_Module *mod, const char *name, char *buf,
			 size_t size)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);
	size_t pos = 0;

	if (len <= 0) {
		snprintf(buf, size, "path:%s", name);
		return;
	}
	for (int i = 0; i < len && pos + 3 < size; i++)
		pos += (size_t)snprintf(buf + pos, size - pos, "%02x", bits[i]);
}

static void ks_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/*
 * C++ and Rust names as their programmers wrote them, with parameter
 * types: libiberty's demangler, GCC's own, which c++filt, addr2line -C and
 * gdb use.  NULL when name is not mangled.
 */
static char *ks_demangle(const char *name)
{
	return name ? cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI) : NULL;
}

static void ks_sym_add_level(struct ks_sym_entry *entry, const char *function,
			     const char *file, int line, bool inlined)
{
	struct ks_sym_level *level = &entry->levels[entry->nr_levels++];
	char *demangled = ks_demangle(function);

	level->function = demangled ? demangled :
			  function  ? strdup(function) :
				      NULL;
	level->file = file ? strdup(file) : NULL;
	level->line = line;
	level->inlined = inlined;
}

/* An inlined function's name: mangled when it has a linkage name. */
static const char *ks_die_function_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(
		dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(
			die, DW_AT_MIPS_linkage_name, &attr));
	return name ? name : dwarf_diename(die);
}

/*
 * Compilers inline small functions into their callers, so one address can
 * be inside several source functions at once.  DWARF keeps them as nested
 * DW_TAG_inlined_subroutine scopes, each naming the line it was inlined at:
 * that call site is where the next outer function stands.  dwarf_getscopes
 * goes from the innermost inlined function on to where that function is
 * defined; the chain of where it was inlined is its DIE's parents, which
 * dwarf_getscopes_die gives.
 */
static void ks_sym_add_inlined(Dwfl_Module *mod, Dwarf_Addr addr,
			       struct ks_sym_entry *entry, const char **file,
			       int *line)
{
	Dwarf_Die *scopes = NULL, innermost;
	Dwarf_Files *files = NULL;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias);
	int nr_scopes;

	if (!cu || dwarf_getscopes(cu, addr - bias, &scopes) <= 0)
		goto cleanup;
	innermost = scopes[0];
	free(scopes);
	scopes = NULL;
	nr_scopes = dwarf_getscopes_die(&innermost, &scopes);
	dwarf_getsrcfiles(cu, &files, NULL);
	for (int i = 0; i < nr_scopes; i++) {
		Dwarf_Attribute attr;
		Dwarf_Word call_file = 0, call_line = 0;

		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		if (entry->nr_levels == KS_MAX_INLINE_DEPTH - 1)
			break;
		ks_sym_add_level(entry, ks_die_function_name(&scopes[i]), *file,
				 *line, true);
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr),
				&call_file);
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr),
				&call_line);
		*file = files ? dwarf_filesrc(files, call_file, NULL, NULL) :
				NULL;
		*line = (int)call_line;
	}
cleanup:
	free(scopes);
}

static void ks_sym_resolve(Dwfl_Module *mod, Dwarf_Addr addr,
			   struct ks_sym_entry *entry)
{
	GElf_Off offset = 0;
	GElf_Sym sym;
	const char *function = dwfl_module_addrinfo(mod, addr, &offset, &sym,
						    NULL, NULL, NULL);
	Dwfl_Line *source = dwfl_module_getsrc(mod, addr);
	const char *file = NULL;
	int line = 0;

	if (source)
		file = dwfl_lineinfo(source, NULL, &line, NULL, NULL, NULL);
	entry->function_offset = function ? offset : 0;
	ks_sym_add_inlined(mod, addr, entry, &file, &line);
	/* The outermost function: the symbol table names it best. */
	ks_sym_add_level(entry, function, file, line, false);
}

static struct ks_sym_entry *ks_sym_cached(struct ks_symbolizer *symbolizer,
					  Dwfl_Module *mod, const char *name,
					  Dwarf_Addr addr,
					  uint64_t module_offset)
{
	struct ks_sym_key key;
	struct ks_sym_entry *entry;

	memset(&key, 0, sizeof(key));
	ks_module_id(mod, name, key.module_id, sizeof(key.module_id));
	key.module_offset = module_offset;
	HASH_FIND(hh, symbolizer->cache, &key, sizeof(key), entry);
	if (entry)
		return entry;
	if (HASH_COUNT(symbolizer->cache) >= KS_SYM_CACHE_MAX)
		ks_sym_cache_clear(symbolizer);
	entry = calloc(1, sizeof(*entry));
	if (!entry)
		return NULL;
	entry->key = key;
	ks_sym_resolve(mod, addr, entry);
	HASH_ADD(hh, symbolizer->cache, key, sizeof(key), entry);
	return entry;
}

/* Fills up to max frames for one address; returns how many. */
static unsigned int ks_lookup_in(struct ks_symbolizer *symbolizer,
				 struct ks_sym_process *process, uint64_t pc,
				 bool return_address, struct ks_frame *out,
				 unsigned int max)
{
	/* A return address points past the call: look up the call itself. */
	Dwarf_Addr addr = return_address && pc ? pc - 1 : pc;
	Dwfl_Module *mod = dwfl_addrmodule(process->dwfl, addr);
	const struct ks_sym_entry *entry = NULL;
	struct ks_frame base;
	const char *name;
	Dwarf_Addr bias = 0;
	unsigned int n = 0;

	if (!max)
		return 0;
	memset(&base, 0, sizeof(base));
	base.pc = pc;
	if (mod) {
		name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL,
					NULL);
		ks_copy(base.module, sizeof(base.module), name);
		if (dwfl_module_getelf(mod, &bias)) {
			base.module_offset = pc - bias;
			entry = ks_sym_cached(symbolizer, mod, base.module,
					      addr, addr - bias);
		}
	}
	if (!entry) {
		out[0] = base;
		return 1;
	}
	for (; n < entry->nr_levels && n < max; n++) {
		const struct ks_sym_level *level = &entry->levels[n];

		out[n] = base;
		ks_copy(out[n].function, sizeof(out[n].function),
			level->function);
		ks_copy(out[n].file, sizeof(out[n].file), level->file);
		out[n].line = level->line;
		out[n].inlined = level->inlined;
		if (!level->inlined && level->function)
			out[n].function_offset =
				entry->function_offset + (pc - addr);
	}
	return n;
}

static int ks_open_module(Dwfl_Module *mod, void **userdata, const char *name,
			  Dwarf_Addr start, void *arg)
{
	Dwarf_Addr bias;

	dwfl_module_getelf(mod, &bias);
	return DWARF_CB_OK;
}

void ks_symbolizer_preload(struct ks_symbolizer *symbolizer, uint32_t tgid)
{
	struct ks_sym_process *process = ks_sym_process_get(symbolizer, tgid);

	if (process)
		dwfl_getmodules(process->dwfl, ks_open_module, NULL, 0);
}

int ks_symbolizer_lookup(struct ks_symbolizer *symbolizer, uint32_t tgid,
			 uint64_t pc, bool return_address, struct ks_frame *out,
			 unsigned int max)
{
	struct ks_sym_process *process = ks_sym_process_get(symbolizer, tgid);

	if (!process)
		return -1;
	if (!dwfl_addrmodule(process->dwfl, pc) && ks_sym_process_load(process))
		return -1; /* mapped since we looked: dlopen() */
	return (int)ks_lookup_in(symbolizer, process, pc, return_address, out,
				 max);
}

struct ks_unwind_state {
	uint64_t pcs[KS_MAX_FRAMES];
	bool activation[KS_MAX_FRAMES];
	unsigned int nr;
	unsigned int max;
	unsigned int scanned; /* index of a frame found by scanning, or 0 */
};

static int ks_unwind_frame(Dwfl_Frame *frame, void *arg)
{
	struct ks_unwind_state *state = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(frame, &pc, &activation) || !pc)
		return DWARF_CB_ABORT;
	state->pcs[state->nr] = pc;
	state->activation[state->nr] = activation;
	state->nr++;
	return state->nr < state->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* Walks the frames source's registers start from, after those in state. */
static void ks_walk(struct ks_sym_process *process, uint32_t tid,
		    const struct ks_stack_source *source,
		    struct ks_unwind_state *state)
{
	process->tid = tid;
	process->source = source;
	/* Ends with an error at the outermost frame; what it found stands. */
	dwfl_getthread_frames(process->dwfl, (pid_t)tid, ks_unwind_frame,
			      state);
	process->source = NULL;
}

/* How far above the stack pointer a caller's return address is sought. */
#define KS_SCAN_BYTES 2048

/* Whether the code right before addr in the process is a call. */
static bool ks_follows_call(uint32_t tgid, uint64_t addr)
{
	uint8_t code[8];

	if (addr < sizeof(code) ||
	    ks_proc_read_mem(tgid, addr - sizeof(code), code, sizeof(code)))
		return false;
#if defined(__x86_64__)
	/* call rel32: e8 and four bytes. */
	if (code[3] == 0xe8)
		return true;
	/* call r/m64 (ff /2), two to seven bytes long with REX and SIB. */
	for (int len = 2; len <= 7; len++)
		if (code[8 - len] == 0xff && ((code[9 - len] >> 3) & 7) == 2)
			return true;
	return false;
#elif defined(__aarch64__)
	uint32_t insn;

	memcpy(&insn, code + 4, sizeof(insn));
	/* bl imm26, blr xN */
	return (insn & 0xfc000000u) == 0x94000000u ||
	       (insn & 0xfffffc1fu) == 0xd63f0000u;
#endif
}

/* A return address DWARF can walk on from: in code, after a call. */
static bool ks_plausible_return(struct ks_sym_process *process, uint64_t pc)
{
	Dwfl_Module *mod = dwfl_addrmodule(process->dwfl, pc - 1);
	Dwarf_Frame *frame = NULL;
	Dwarf_CFI *cfi;
	Dwarf_Addr bias;
	bool covered;

	if (!mod)
		return false;
	cfi = dwfl_module_eh_cfi(mod, &bias);
	if (!cfi)
		cfi = dwfl_module_dwarf_cfi(mod, &bias);
	covered = cfi && !dwarf_cfi_addrframe(cfi, pc - 1 - bias, &frame);
	free(frame);
	return covered && ks_follows_call(process->tgid, pc);
}

/*
 * Code built without call frame information (Debian's musl, hand-written
 * system call wrappers) stops the walk at frame 0.  While the thread is
 * still blocked, its stack holds the return address into the first caller
 * that has some: the first word above the stack pointer that points just
 * after a call instruction, into code DWARF describes.  The walk goes on
 * from there; the frames skipped are lost, and the first one found is
 * marked as found by scanning, since a stale word could pass for it.
 */
static void ks_walk_by_scanning(struct ks_sym_process *process, uint32_t tid,
				const struct ks_stack_source *source,
				struct ks_unwind_state *state)
{
	__u64 regs[KS_NR_USER_REGS] = { 0 };
	struct ks_stack_source caller = *source;
	uint64_t sp = source->regs[KS_REG_SP];
	unsigned int first = state->nr;

	caller.regs = regs;
	for (uint64_t slot = sp; slot < sp + KS_SCAN_BYTES;
	     slot += sizeof(Dwarf_Word)) {
		Dwarf_Word word;
		bool found;

		process->source = source;
		found = ks_memory_read(process->dwfl, slot, &word, process);
		process->source = NULL;
		if (!found || !ks_plausible_return(process, word))
			continue;
		/* Only the caller's own registers are known: pc and sp. */
		regs[KS_REG_IP] = word;
		regs[KS_REG_SP] = slot + sizeof(Dwarf_Word);
		caller.snapshot_len = 0;
		if (slot + sizeof(Dwarf_Word) < sp + source->snapshot_len) {
			caller.snapshot = source->snapshot + (slot + 8 - sp);
			caller.snapshot_len =
				(uint32_t)(sp + source->snapshot_len - slot -
					   8);
		}
		ks_walk(process, tid, &caller, state);
		break;
	}
	/* Every frame found this way is a caller's: a return address. */
	for (unsigned int i = first; i < state->nr; i++)
		state->activation[i] = false;
	state->scanned = state->nr > first ? first : 0;
}

int ks_symbolizer_unwind(struct ks_symbolizer *symbolizer, uint32_t tgid,
			 uint32_t tid, const struct ks_stack_source *source,
			 unsigned int max_frames, struct ks_stack *out)
{
	struct ks_sym_process *process = ks_sym_process_get(symbolizer, tgid);
	struct ks_unwind_state state = { 0 };
	uint64_t ip = source->regs[KS_REG_IP];

	out->nr = 0;
	if (!process)
		return -1;
	if (max_frames > KS_MAX_FRAMES)
		max_frames = KS_MAX_FRAMES;
	state.max = max_frames;
	if (!dwfl_addrmodule(process->dwfl, ip))
		ks_sym_process_load(process);
	ks_walk(process, tid, source, &state);
	if (state.nr <= 1 && state.max > 1 && source->live) {
		state.nr = 1;
		state.pcs[0] = ip;
		state.activation[0] = true;
		ks_walk_by_scanning(process, tid, source, &state);
	}

	for (unsigned int i = 0; i < state.nr && out->nr < max_frames; i++) {
		unsigned int at = out->nr;

		/* Frame 0 is where the thread stopped, not a return address. */
		out->nr += ks_lookup_in(symbolizer, process, state.pcs[i],
					i > 0 && !state.activation[i],
					&out->frames[at], max_frames - at);
		for (; state.scanned && i == state.scanned && at < out->nr;
		     at++)
			out->frames[at].scanned = true;
	}
	return 0;
}
