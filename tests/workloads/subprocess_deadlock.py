#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The deadlock the subprocess module's documentation warns about.

The parent writes more to a child's stdin than a pipe holds before it reads
the child's stdout: `cat` fills its stdout pipe and blocks writing it, the
parent fills the stdin pipe and blocks writing that.  communicate() would
have read and written at once.  Says "started", then "blocking" right
before the write that never ends.
"""
import subprocess
import sys

child = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
print("started", child.pid, flush=True)
print("blocking", flush=True)
child.stdin.write(b"x" * (1 << 20))
child.stdin.flush()
sys.exit("unreachable: the pipe took it all")
