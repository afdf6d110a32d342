"""The monitor's full rebuild on the 10,000-license data set, in CPU seconds: for comparing two
checkouts in the same minutes on a shared machine (issue 11, point 7: within 1.1x of 3dd2440).

It times `refresh(full=True)` (or, in a checkout from before the refresh took `full`,
`refresh()`, which rebuilt everything) with `time.process_time`, on bench_monitor.py's 10k seed of
the checkout it runs in (bench/out/monitor-10k.sqlite3, built if missing). It imports the
checkout of the current directory, so the same file measures another one:

  .venv/bin/python bench/bench_monitor_rebuild.py 3                          # this checkout
  git worktree add /tmp/base 3dd2440 && cd /tmp/base && mkdir -p bench/out && \\
      PYTHONPATH=. /path/to/aimweb/.venv/bin/python /path/to/aimweb/bench/bench_monitor_rebuild.py 3

Alternate the two a few times and compare sums (the load drifts). Measured 2026-12-02 (README,
"Performance"): 3 pairs at load 2.6-3.0, this tree 4.21-4.26 s (2.16-2.17 s deciding), 3dd2440
4.75-5.38 s: 0.79-0.89x (before the collector pause and the one index per month: 1.17x).
"""
from __future__ import annotations

import inspect
import os
import sys
import time

sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.path.join(os.getcwd(), "bench"))

import bench_dashboard as base
import bench_monitor

from aimweb.monitor import aggregates
from aimweb.monitor.aggregates import refresh

# Where the refresh decides the withheld figures (later checkouts; 3dd2440 withheld them on each
# page view, per view): timed apart, so the rest compares like with like.
_decided = [0.0]
if hasattr(aggregates, "_withhold"):
    _withhold = aggregates._withhold

    def _timed_withhold(*args):
        started = time.process_time()
        try:
            return _withhold(*args)
        finally:
            _decided[0] += time.process_time() - started

    aggregates._withhold = _timed_withhold


def main(rounds: int) -> None:
    app = base.make_app(bench_monitor.prepare_small("sqlite:///unused"))
    full = "full" in inspect.signature(refresh).parameters
    with app.app_context():
        for _ in range(rounds):
            _decided[0] = 0.0
            started = time.process_time()
            refresh(full=True) if full else refresh()
            spent = time.process_time() - started
            print(f"{os.path.basename(os.getcwd())}: refresh(full=True) {spent:.2f} s CPU, of which "
                  f"{_decided[0]:.2f} s deciding the withheld figures (the rest {spent - _decided[0]:.2f} s); "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
