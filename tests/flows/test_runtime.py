"""Process-wide set-up: the glibc malloc arena cap, counted in a process of its own."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from flows.runtime import MALLOC_ARENAS

ROOT = Path(__file__).resolve().parents[2]

# Sixteen threads hold glibc allocations at the same moment, then glibc describes its heaps.
_PROBE = """
import ctypes, sys, threading
from flows.runtime import limit_malloc_arenas
print("capped" if sys.argv[1] == "cap" and limit_malloc_arenas() else "default")
libc = ctypes.CDLL(None)
together = threading.Barrier(16)
held = []
def allocate():
    together.wait()
    held.append([bytearray(50_000) for _ in range(20)])
    together.wait()
threads = [threading.Thread(target=allocate) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc.open_memstream.restype = ctypes.c_void_p
text, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = ctypes.c_void_p(libc.open_memstream(ctypes.byref(text), ctypes.byref(size)))
libc.malloc_info(0, stream)
libc.fflush(stream)
print(ctypes.string_at(text, size.value).decode().count("<heap nr="))
"""

glibc_only = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's; this C library has none"
)


def _heaps(mode: str, **env: str) -> tuple[str, int]:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode],
        cwd=ROOT,
        env=environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], int(out[1])


@glibc_only
def test_the_cap_keeps_concurrent_threads_to_a_few_malloc_arenas():
    assert _heaps("cap") == ("capped", MALLOC_ARENAS)
    mode, heaps = _heaps("default")
    assert (mode, heaps > MALLOC_ARENAS) == ("default", True)  # what the cap prevents


@glibc_only
def test_a_users_own_malloc_arena_max_wins():
    assert _heaps("cap", MALLOC_ARENA_MAX="4") == ("default", 4)
