"""``rpol.spark``: enforce a policy on a PySpark DataFrame.

:func:`enforce` runs :meth:`rpol.Policy.enforce` on every Arrow batch of the
DataFrame through ``DataFrame.mapInArrow``. The policy is loaded and checked
once on the driver (so a bad policy or mapping fails before any job starts);
its compiled artifact is broadcast, so each executor receives it once and
each executor Python process loads it once, however many tasks it runs.
The result is the same on a cluster as on one machine.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, Mapping, Optional, Union

from ._rpol import Mapping as RpolMapping
from ._rpol import Policy

if TYPE_CHECKING:  # pragma: no cover
    import datetime

    import pyarrow
    from pyspark.sql import DataFrame

__all__ = ["enforce"]

# Per executor process: digest -> loaded policy. A Python worker that runs
# many tasks (Spark reuses workers) loads each policy once.
_LOADED: Dict[str, Policy] = {}


def _policy_from(artifact: bytes) -> Policy:
    import hashlib

    key = hashlib.sha256(artifact).hexdigest()
    policy = _LOADED.get(key)
    if policy is None:
        policy = Policy.from_artifact(artifact)
        _LOADED[key] = policy
    return policy


def _spark_safe(batch: "pyarrow.RecordBatch") -> "pyarrow.RecordBatch":
    """``rpol_mode`` as plain strings: Spark reads no Arrow dictionary columns."""
    import pyarrow as pa

    i = batch.schema.get_field_index("rpol_mode")
    if i < 0 or not pa.types.is_dictionary(batch.schema.field(i).type):
        return batch
    mode = batch.column(i).cast(pa.string())
    return batch.set_column(i, pa.field("rpol_mode", pa.string(), nullable=False), mode)


def enforce(
    df: "DataFrame",
    policy: Union[str, "os.PathLike[str]", Policy],
    mapping: Union[RpolMapping, Mapping[str, Any], str, "os.PathLike[str]"],
    *,
    purpose: Optional[str] = None,
    drop: Union[str, Iterable[str], None] = None,
    now: "Optional[datetime.datetime]" = None,
    denied_column: bool = False,
) -> "DataFrame":
    """The DataFrame with the policy enforced on every row, as
    :meth:`rpol.Policy.enforce` does on a table: denied feature cells null,
    rows dropped as ``drop`` says, ``rpol_mode`` (a string column) added.

    ``policy`` is a policy path (sources or a compiled artifact, read on the
    driver) or a loaded :class:`rpol.Policy`. ``mapping`` is a dict or the
    path of a YAML mapping file (read on the driver). ``now`` defaults to the
    driver's current time, taken once, so that every partition measures
    retention at the same instant.
    """
    import datetime as _dt

    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    loaded = policy if isinstance(policy, Policy) else Policy.load(os.fspath(policy))
    # Read (a file: on the driver) and checked once; it pickles as its text.
    mapping = RpolMapping.of(mapping)
    if now is None:
        now = _dt.datetime.now(_dt.timezone.utc)
    options = dict(purpose=purpose, drop=drop, now=now, denied_column=denied_column)

    # The output schema, and every mapping error, from an empty table on the driver.
    tz = df.sparkSession.conf.get("spark.sql.session.timeZone") or "UTC"
    arrow_in = to_arrow_schema(df.schema, timezone=tz)
    probe = loaded.enforcer(arrow_in, mapping, **options)
    out_schema = pa.schema([_spark_field(f) for f in probe.output_schema])
    spark_schema = from_arrow_schema(out_schema)

    shipped = df.sparkSession.sparkContext.broadcast(loaded.to_artifact())

    def run(batches: Iterator["pyarrow.RecordBatch"]) -> Iterator["pyarrow.RecordBatch"]:
        enforcer = None
        for batch in batches:
            if enforcer is None:
                enforcer = _policy_from(shipped.value).enforcer(batch.schema, mapping, **options)
            yield _spark_safe(enforcer.apply(batch))

    return df.mapInArrow(run, spark_schema)


def _spark_field(f: "pyarrow.Field") -> "pyarrow.Field":
    import pyarrow as pa

    if pa.types.is_dictionary(f.type):
        return pa.field(f.name, f.type.value_type, nullable=f.nullable)
    return f
