"""Benchmark how fast the metering readers stop gzip bombs under the default limits.

Each bomb is a 4 MB gzip file (a small exposition head, then 128 copies of a gzip
member holding 32 MiB of one repeated line), so it would expand to 4 GiB. The
default ratio of 200 stops it after about 800 MB. Prints the median wall-clock time
from opening the file to the error, per kind of line.

    python benchmarks/metering_bombs.py [--runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import time
from pathlib import Path

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.gpu_exposition import read_gpu_exposition
from tokenbom_xl.metering.nvidia_smi import read_nvidia_smi
from tokenbom_xl.metering.options import ReadOptions

EXPOSITION_HEAD = (
    b"# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n"
    b"# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
    b'DCGM_FI_DEV_GPU_UTIL{UUID="GPU-a"} 50\n'
)
NVIDIA_SMI_HEAD = (
    b"timestamp, uuid, utilization.gpu [%], power.draw [W]\n"
    b"2026/11/02 10:00:00.000, GPU-a, 40 %, 300 W\n"
)
UNIT_BYTES = 32 << 20
COPIES = 128

CASES = [
    ("exposition, '#' comment lines", read_gpu_exposition, EXPOSITION_HEAD, b"#\n"),
    ("exposition, blank lines", read_gpu_exposition, EXPOSITION_HEAD, b"\n"),
    ("nvidia-smi, blank lines", read_nvidia_smi, NVIDIA_SMI_HEAD, b"\n"),
]


def write_bomb(path: Path, head: bytes, line: bytes) -> None:
    member = gzip.compress(line * (UNIT_BYTES // len(line)), 9)
    with open(path, "wb") as handle:
        handle.write(gzip.compress(head))
        for _ in range(COPIES):
            handle.write(member)


def seconds_to_stop(reader, path: Path) -> float:
    start = time.perf_counter()
    try:
        reader(str(path), ReadOptions())
    except InputError as exc:
        if "decompresses to more than" not in str(exc):
            raise
    else:
        raise AssertionError(f"{path} was read to the end")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        for label, reader, head, line in CASES:
            path = Path(folder) / "bomb.gz"
            write_bomb(path, head, line)
            times = [seconds_to_stop(reader, path) for _ in range(runs)]
            size = path.stat().st_size
            print(
                f"{label}: {size:,} bytes on disk, "
                f"median {statistics.median(times):.2f} s over {runs} runs"
            )


if __name__ == "__main__":
    main()
