"""`Policy.enforce` from Python on a 1,000,000-row table against the Rust
figure for the same table (rpol_batch::Enforcer::apply, example
`apply_ipc`), both measured here, in the same run, as medians.

    python bindings/python/bench/enforce_bench.py [ROWS] [RUNS]

Run from the repository root with the `rpol` wheel installed; the Rust side
is built with the same cargo profile as the wheel: `wheel` (the wheel's
default), or the one named by RPOL_BENCH_PROFILE (`release` for a wheel built
with `maturin build --profile release`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

import rpol

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
POLICY = "policies/home"


def table(rows: int, features) -> pa.Table:
    """Every home-feed request shape: consent states, absent user ids, roles."""
    rng = np.random.default_rng(1)
    states = np.array(["granted", "denied", "unknown"])
    user = np.char.add("u", (rng.integers(0, 10_000, rows)).astype(str))
    cols = {
        "tenant": pa.array(np.full(rows, "acme")),
        "user_id": pa.array(user, mask=rng.random(rows) < 0.1),
        "consent_personalization": pa.array(states[rng.integers(0, 3, rows)]),
        "consent_training": pa.array(states[rng.integers(0, 3, rows)]),
        "device": pa.array(np.array(["mobile", "desktop", "tv"])[rng.integers(0, 3, rows)]),
        "event_time": pa.array(
            (NOW.timestamp() * 1000 - rng.integers(0, 200 * 86_400_000, rows)).astype("datetime64[ms]"),
            pa.timestamp("ms", tz="UTC"),
        ),
    }
    for i, f in enumerate(features):
        cols[f] = pa.array(rng.random(rows), mask=rng.random(rows) < 0.05)
    return pa.table(cols)


MAPPING = {
    "tenant": "tenant",
    "surface": {"value": "home"},
    "purpose": {"value": "training"},
    "subject.user_id": "user_id",
    "consent.personalization": "consent_personalization",
    "consent.training": "consent_training",
    "context.device": "device",
    "event_time": "event_time",
    "kind": {"value": "raw_behavior_events"},
}
DROP = "invalid,expired,no_features"


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    policy = rpol.Policy.load(POLICY)
    t = table(rows, policy.features).combine_chunks()
    # One batch of 64k rows at a time, as a Parquet row group or a Spark batch would come.
    t = pa.Table.from_batches(t.to_batches(max_chunksize=65_536))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = policy.enforce(t, MAPPING, drop=DROP, now=NOW)
        times.append(time.perf_counter() - start)
    py = statistics.median(times)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "table.arrow")
        with ipc.new_file(path, t.schema) as w:
            w.write_table(t)
        mpath = os.path.join(d, "mapping.json")
        with open(mpath, "w") as f:
            json.dump(MAPPING, f)
        now_ms = str(int(NOW.timestamp() * 1000))
        profile = os.environ.get("RPOL_BENCH_PROFILE", "wheel")
        # The wheel's own features, so the example reuses the wheel's build.
        cmd = ["cargo", "run", "-q", "--profile", profile, "-p", "rpol-python",
               "--features", "pyo3/extension-module", "--example", "apply_ipc",
               "--", POLICY, path, mpath, DROP, now_ms, str(runs)]
        rust = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    print(json.dumps({
        "rows": rows,
        "rows_out": out.num_rows,
        "feature_columns": len(policy.features),
        "python_median_s": round(py, 4),
        "python_rows_per_s": round(rows / py),
        "rust_median_s": rust["median_s"],
        "rust_rows_per_s": rust["rows_per_s"],
        "python_over_rust": round(py / rust["median_s"], 3),
    }, indent=2))


if __name__ == "__main__":
    main()
