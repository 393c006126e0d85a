"""`rpol.spark.enforce` in Spark local mode (`local[2]`, one small job):
the same rows and cells as `Policy.enforce` on one machine."""

from __future__ import annotations

import os
import shutil

import pyarrow as pa
import pytest

import rpol
import rpol.spark
from conftest import Vocabulary
from tables import NOW, generate

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install pyspark)")

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (apt-get install openjdk-17-jre-headless)", allow_module_level=True)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    s = (
        SparkSession.builder.master("local[2]")
        .appName("rpol-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    yield s
    s.stop()


def test_spark_equals_single_machine(spark):
    policy = rpol.Policy.load("policies/home")
    vocab = Vocabulary("policies/home", policy.features)
    table, mapping, *_ = generate("policies/home", vocab, 3000, seed=77)
    drop = ("invalid", "expired", "no_features")
    local = policy.enforce(table, mapping, drop=drop, now=NOW, denied_column=True)

    df = spark.createDataFrame(table).repartition(4)
    out = rpol.spark.enforce(df, "policies/home", mapping, drop=drop, now=NOW, denied_column=True)
    assert "rpol_mode" in out.columns and "rpol_denied" in out.columns
    remote = pa.Table.from_batches(out._collect_as_arrow())

    def rows(t):
        cols = ["payload", "rpol_mode", "rpol_denied"] + list(vocab.features)
        return sorted(zip(*(t.column(c).to_pylist() for c in cols)), key=lambda r: r[0])

    assert remote.num_rows == local.num_rows > 0
    assert rows(remote) == rows(local)


def test_spark_mapping_error_before_any_job(spark):
    policy = rpol.Policy.load("policies/home")
    vocab = Vocabulary("policies/home", policy.features)
    table, mapping, *_ = generate("policies/home", vocab, 10, seed=1)
    df = spark.createDataFrame(table)
    with pytest.raises(rpol.EnforceError) as e:
        rpol.spark.enforce(df, policy, dict(mapping, tenant="nope"), now=NOW)
    assert e.value.diagnostics[0].code == "E0903"
    with pytest.raises(rpol.PolicyError):
        rpol.spark.enforce(df, "policies/missing", mapping, now=NOW)
