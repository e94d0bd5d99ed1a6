/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Separate debug files: distributions strip DWARF from their binaries and
 * ship it apart, found by build id under /usr/lib/debug/.build-id, or by
 * the name and CRC in the binary's .gnu_debuglink section.  A process in
 * a container has its own /usr/lib/debug: the files are looked up under
 * its root first.  (.gnu_debugdata, a compressed symbol table inside the
 * binary, needs no file: libdwfl reads it.)
 */
#ifndef KS_DEBUG_FILES_H
#define KS_DEBUG_FILES_H

#include <elfutils/libdwfl.h>

/*
 * Opens the debug file of mod, a file the process sees as module_path,
 * under root ("/proc/PID/root").  Returns a descriptor with *found set to
 * its malloc()ed path, or -1 when there is none there.
 */
int ks_debug_file_open(const char *root, Dwfl_Module *mod,
		       const char *module_path, const char *debuglink,
		       GElf_Word debuglink_crc, char **found);

#endif /* KS_DEBUG_FILES_H */
