"""The Python examples of docs/python.md run as written (the Spark one only
where pyspark and Java are installed)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shutil

import pytest

from conftest import REPO

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "docs/python.md").read_text(), re.S)


def _run(code: str):
    ns: dict = {"__name__": "__docs__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs/python.md", "exec"), ns)
    return ns, out.getvalue()


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_example_runs(i):
    code = BLOCKS[i]
    if "pyspark" in code and (importlib.util.find_spec("pyspark") is None or shutil.which("java") is None):
        pytest.skip("needs pyspark and Java")
    ns, out = _run(code)
    if "kept = policy.enforce" in code:
        assert ns["kept"].column("payload").to_pylist() == ["a", "c"]
    if "clean, stats = policy.enforce" in code:
        # u1 consented to training and personalization: kept with its features;
        # u2 denied training consent: no feature left, dropped; u3's event is
        # past the 90-day retention; the row without a user id keeps only
        # non-personal features.
        clean = ns["clean"].to_pydict()
        assert clean["user_id"] == ["u1", None]
        assert clean["user_embedding"] == [0.1, None]
        assert clean["item_quality_score"] == [0.9, 0.6]
        assert ns["stats"]["dropped_expired"] == 1
    if "clean = rpol.spark.enforce" in code:
        rows = {r["user_id"]: r for r in ns["clean"].collect()}
        assert rows["u1"]["user_embedding"] == 0.1 and rows["u2"]["user_embedding"] is None


def test_there_are_examples():
    assert len(BLOCKS) >= 5
