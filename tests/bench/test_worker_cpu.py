"""make bench's CPU per request counts workers that exit during a run.

gunicorn recycles a worker after max_requests; a cached run of ~4,000 req/s
reaches it, and counting only the live workers' CPU gave a negative figure
(-2.82 ms per request in bench/results/2026-12-04-0555-sqlite.json)."""

import os
import subprocess
import sys
import time

from bench.run import Bench

PARENT = """
import resource, subprocess, sys, time
from pathlib import Path
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.01)
for _ in range(2):  # two "workers" that burn CPU and exit, reaped by the parent
    subprocess.run([sys.executable, "-c", "x = 0\\nfor i in range(3_000_000): x += i"])
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(used.ru_utime + used.ru_stime, flush=True)
time.sleep(30)
"""


def test_cpu_of_workers_that_exited_is_counted(tmp_path):
    go = tmp_path / "go"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(go)], stdout=subprocess.PIPE, text=True
    )
    try:
        time.sleep(0.2)
        before = Bench.worker_cpu(parent)
        go.touch()
        used = float(parent.stdout.readline())
        spent = Bench.worker_cpu(parent) - before
        tick = 1 / os.sysconf("SC_CLK_TCK")
        assert used > 0.1  # the children did work, and none of it is live now
        assert abs(spent - used) <= 3 * tick, (spent, used)
    finally:
        parent.kill()
        parent.wait()
