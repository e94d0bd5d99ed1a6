# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Two threads take two threading.Locks in opposite orders, a barrier
between the first and the second: CPython's locks are semaphores, which
name no owner.

usage: python3 py_locks.py [ordered]
With "ordered" both threads take them in the same order, many times,
without the barrier: contention, never a hang.
"""
import os
import sys
import threading
import time

ORDERED_ROUNDS = 20000

lock_a = threading.Lock()
lock_b = threading.Lock()
both_hold_one = threading.Barrier(2)
ordered = len(sys.argv) > 1 and sys.argv[1] == "ordered"


def say(state):
    print(state, os.getpid(), flush=True)


def take(first, second):
    for _ in range(ORDERED_ROUNDS if ordered else 1):
        with first:
            if not ordered:
                both_hold_one.wait()
            with second:
                pass


def take_then_linger(first, second):
    take(first, second)
    # Joined late: the join blocks in the kernel for certain.
    time.sleep(0.05)


def main():
    say("started")
    other = threading.Thread(target=take_then_linger, args=(lock_a, lock_b) if ordered else (lock_b, lock_a))
    other.start()
    if not ordered:
        say("blocking")
    take(lock_a, lock_b)
    other.join()
    say("done")


main()
