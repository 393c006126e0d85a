"""Generated event tables over a policy's names, and the JSON request each
row stands for (built here independently of the enforcement code: a null
cell is a missing key)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Dict, List, Optional, Tuple

import pyarrow as pa

from conftest import Vocabulary

NOW = dt.datetime(2025, 12, 1, tzinfo=dt.timezone.utc)
KINDS = {
    "policies/home": ["raw_behavior_events", "session_state", "aggregated_features", "not_a_kind"],
    "policies/enterprise": ["activity_events", "session_state", "audit_log", "not_a_kind"],
}


def _maybe(rng: random.Random, value: Any, null_one_in: int = 8) -> Any:
    return None if rng.randrange(null_one_in) == 0 else value


def generate(
    policy_dir: str, vocab: Vocabulary, rows: int, seed: int
) -> Tuple[pa.Table, Dict[str, Any], List[Dict[str, Any]], List[Optional[str]], List[Optional[dt.datetime]]]:
    """A table, its mapping, and per row the equivalent request, kind and event time."""
    rng = random.Random(seed)
    cols: Dict[str, List[Any]] = {}
    types: Dict[str, pa.DataType] = {}
    mapping: Dict[str, Any] = {}
    reqs: List[Dict[str, Any]] = [{} for _ in range(rows)]

    def put(req: Dict[str, Any], path: List[str], value: Any) -> None:
        for p in path[:-1]:
            req = req.setdefault(p, {})
        req[path[-1]] = value

    def column(name: str, key: str, t: pa.DataType, values: List[Any], to_json=lambda v: v) -> None:
        cols[name], types[name], mapping[key] = values, t, name
        for r, v in enumerate(values):
            if v is not None:
                put(reqs[r], key.split("."), to_json(v))

    tenants = ["acme", "bank_a", "northwind"]
    column("tenant_id", "tenant", pa.string(), [_maybe(rng, rng.choice(tenants), 50) for _ in range(rows)])
    column(
        "surface", "surface", pa.string(),
        [_maybe(rng, rng.choice(vocab.surfaces + ["nowhere"] * (rng.random() < 0.1)), 60) for _ in range(rows)],
    )
    column("purpose", "purpose", pa.string(), [rng.choice(vocab.purposes) for _ in range(rows)])
    column("user_id", "subject.user_id", pa.string(), [_maybe(rng, f"u{rng.randrange(50)}", 4) for _ in range(rows)])
    for topic in vocab.consent:
        states = ["granted", "denied", "unknown", "granted"] + ["maybe"] * (rng.random() < 0.05)
        column(
            f"consent_{topic}", f"consent.{topic}", pa.string(),
            [_maybe(rng, rng.choice(states), 6) for _ in range(rows)],
        )
    for field, kind in vocab.context.items():
        name = f"ctx_{field}"
        if isinstance(kind, list):
            column(name, f"context.{field}", pa.string(), [_maybe(rng, rng.choice(kind), 5) for _ in range(rows)])
        elif kind == "string":
            column(name, f"context.{field}", pa.string(), [_maybe(rng, rng.choice(["ID", "US"]), 5) for _ in range(rows)])
        elif kind == "int":
            column(name, f"context.{field}", pa.int64(), [_maybe(rng, rng.randrange(5000), 5) for _ in range(rows)])
        elif kind == "bool":
            column(name, f"context.{field}", pa.bool_(), [_maybe(rng, rng.random() < 0.5, 5) for _ in range(rows)])
        elif kind == "duration":
            column(
                name, f"context.{field}", pa.duration("s"),
                [_maybe(rng, dt.timedelta(seconds=rng.randrange(0, 10**6)), 5) for _ in range(rows)],
                to_json=lambda v: f"{int(v.total_seconds())}s",
            )
    column(
        "roles", "roles", pa.list_(pa.string()),
        [_maybe(rng, rng.sample(vocab.roles, rng.randrange(len(vocab.roles) + 1)), 3) for _ in range(rows)],
    )
    kinds = [_maybe(rng, rng.choice(KINDS[policy_dir]), 10) for _ in range(rows)]
    times = [_maybe(rng, NOW - dt.timedelta(hours=rng.randrange(0, 24 * 400)), 10) for _ in range(rows)]
    cols["kind"], types["kind"], mapping["kind"] = kinds, pa.string(), "kind"
    cols["event_time"], types["event_time"], mapping["event_time"] = times, pa.timestamp("ms", tz="UTC"), "event_time"
    # Every registry feature is a feature column; one payload column passes through.
    for f in vocab.features:
        cols[f], types[f] = [_maybe(rng, rng.randrange(1000), 5) for _ in range(rows)], pa.int64()
    cols["payload"], types["payload"] = [f"row{r}" for r in range(rows)], pa.string()
    for req in reqs:
        req["features"] = list(vocab.features)
    table = pa.table({k: pa.array(v, type=types[k]) for k, v in cols.items()})
    return table, mapping, reqs, kinds, times
