"""`rpol.spark.enforce` in Spark `local[2]` against the same filter written by
hand as a Spark SQL expression (the home-feed policy for purpose
`training`), on the same generated DataFrame, in the same run. Both
outputs are checked equal before they are timed.

    python bindings/python/bench/spark_bench.py [ROWS] [RUNS]
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import rpol
import rpol.spark

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
MAPPING = {
    "tenant": "tenant",
    "surface": {"value": "home"},
    "purpose": {"value": "training"},
    "subject.user_id": "user_id",
    "consent.personalization": "consent_personalization",
    "consent.training": "consent_training",
}
DROP = "invalid,no_features"


def events(spark, rows: int, features):
    states = F.array(F.lit("granted"), F.lit("denied"), F.lit("unknown"))
    df = spark.range(rows).select(
        F.lit("acme").alias("tenant"),
        F.when(F.col("id") % 10 == 0, None).otherwise(F.concat(F.lit("u"), (F.col("id") % 1000).cast("string"))).alias("user_id"),
        F.element_at(states, (F.col("id") % 3 + 1).cast("int")).alias("consent_personalization"),
        F.element_at(states, ((F.col("id") / 3).cast("long") % 3 + 1).cast("int")).alias("consent_training"),
        *[((F.col("id") * (i + 7)) % 1000 / 1000.0).alias(f) for i, f in enumerate(features)],
    )
    return df


def by_hand(df, features):
    """The home policy for purpose `training`, written out: the mode from
    user id and personalization consent; every feature forbidden without
    training consent; user features need the personalized mode; features
    whose registry entry does not allow `training` are always denied."""
    cp, ct = F.col("consent_personalization"), F.col("consent_training")
    personalized = F.col("user_id").isNotNull() & (cp == "granted")
    mode = (
        F.when(F.col("user_id").isNull(), "non_personalized")
        .when(cp == "granted", "personalized")
        .when(cp == "denied", "non_personalized")
        .otherwise("contextual_only")
    )
    allowed = {
        "user_category_affinity_30d": personalized,
        "user_embedding": personalized,
        "item_quality_score": F.lit(True),
        "region_popularity": F.lit(True),
    }
    cols = [F.col("tenant"), F.col("user_id"), cp, ct]
    for f in features:
        rule = allowed.get(f)
        cols.append(F.when((ct == "granted") & rule, F.col(f)).alias(f) if rule is not None else F.lit(None).cast("double").alias(f))
    cols.append(mode.alias("rpol_mode"))
    return df.where(F.col("tenant").isNotNull() & (ct == "granted")).select(*cols)


def timed(make, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        make().write.format("noop").mode("overwrite").save()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    spark = (
        SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC").getOrCreate()
    )
    policy = rpol.Policy.load("policies/home")
    features = policy.features
    df = events(spark, rows, features).cache()
    df.count()
    ours = lambda: rpol.spark.enforce(df, policy, MAPPING, drop=DROP, now=NOW)  # noqa: E731
    hand = lambda: by_hand(df, features)  # noqa: E731
    # The two are the same filter: no row of one is missing from the other.
    a, b = ours().select(*hand().columns), hand()
    same = a.exceptAll(b).count() == 0 and b.exceptAll(a).count() == 0
    t_ours, t_hand = timed(ours, runs), timed(hand, runs)
    print(json.dumps({
        "rows": rows,
        "outputs_equal": same,
        "rpol_spark_s": round(t_ours, 3),
        "rpol_spark_rows_per_s": round(rows / t_ours),
        "spark_sql_s": round(t_hand, 3),
        "spark_sql_rows_per_s": round(rows / t_hand),
        "rpol_over_sql": round(t_ours / t_hand, 2),
    }, indent=2))
    spark.stop()


if __name__ == "__main__":
    main()
