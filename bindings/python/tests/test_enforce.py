"""`Policy.enforce` on generated tables: every output cell, mode and dropped
row equals what `Policy.decide` says for that row's request; the Python
result equals the Rust one (`rpol enforce` through Arrow IPC); mapping
errors; zero-copy pass-through; a 1,000,000-row table."""

from __future__ import annotations

import datetime as dt
import subprocess

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import rpol
from conftest import REPO
from tables import NOW, generate


def expected_rows(policy, reqs, kinds, times, drop):
    """Per input row: None when dropped, else (mode, allowed feature set or None for invalid)."""
    out = []
    for req, kind, t in zip(reqs, kinds, times):
        try:
            d = policy.decide(req)
            allowed, mode, invalid = set(d["features"]["allowed"]), d["mode"], False
        except rpol.InvalidRequest as e:
            allowed, mode, invalid = set(), e.fallback["mode"], True
        expired = False
        if kind is not None:
            try:
                keep_for = policy.retention(kind)
                # An event of unknown time cannot be shown to be young enough.
                expired = t is None or t < NOW - keep_for
            except rpol.UnknownKind:
                pass
        if (invalid and "invalid" in drop) or (expired and "expired" in drop) or (
            not allowed and "no_features" in drop
        ):
            out.append(None)
        else:
            out.append((mode, allowed))
    return out


@pytest.mark.parametrize("drop", [(), ("invalid",), ("no_features", "invalid", "expired")])
def test_every_cell_equals_decide(loaded, vocab, policy_dir, drop):
    table, mapping, reqs, kinds, times = generate(policy_dir, vocab, 1500, seed=len(drop) + 1)
    out, stats = loaded.enforce(table, mapping, drop=drop, now=NOW, with_stats=True)
    assert isinstance(out, pa.Table)
    want = expected_rows(loaded, reqs, kinds, times, drop)
    kept = [r for r, w in enumerate(want) if w is not None]
    assert out.num_rows == len(kept) == stats["rows_out"]
    assert stats["rows_in"] == table.num_rows
    assert out.column("payload").to_pylist() == [f"row{r}" for r in kept]
    modes = out.column("rpol_mode").to_pylist()
    nulled = 0
    for f in vocab.features:
        got, src = out.column(f).to_pylist(), table.column(f).to_pylist()
        for i, r in enumerate(kept):
            mode, allowed = want[r]
            assert modes[i] == mode
            assert got[i] == (src[r] if f in allowed else None), (f, reqs[r])
            nulled += src[r] is not None and f not in allowed
    assert sum(stats["cells_nulled"].values()) == nulled
    # A table of this shape exercises every case.
    assert stats["invalid_rows"] > 0
    if "expired" in drop:
        assert stats["dropped_expired"] > 0


def test_record_batch_in_record_batch_out(loaded, vocab, policy_dir):
    table, mapping, *_ = generate(policy_dir, vocab, 200, seed=9)
    batch = table.combine_chunks().to_batches()[0]
    out = loaded.enforce(batch, mapping, now=NOW)
    assert isinstance(out, pa.RecordBatch)
    assert out.equals(loaded.enforce(table, mapping, now=NOW).combine_chunks().to_batches()[0])


def test_python_equals_rust_cli(rpol_bin, loaded, vocab, policy_dir, tmp_path):
    table, mapping, *_ = generate(policy_dir, vocab, 2000, seed=5)
    drop = ("invalid", "expired", "no_features")
    mapfile = tmp_path / "map.yaml"
    mapfile.write_text("\n".join(f"{k}: {v}" for k, v in mapping.items()) + "\n")
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    cli = subprocess.run(
        [rpol_bin, "enforce", policy_dir, "--input", "-", "--output", "-", "--map", str(mapfile),
         "--drop", ",".join(drop), "--now", NOW.isoformat().replace("+00:00", "Z")],
        input=sink.getvalue().to_pybytes(), capture_output=True, cwd=REPO,
    )
    assert cli.returncode == 0, cli.stderr.decode()
    rust = ipc.open_stream(cli.stdout).read_all()
    py = loaded.enforce(table, rpol.Mapping.load(mapfile), drop=drop, now=NOW)
    assert py.schema.equals(rust.schema)
    assert py.combine_chunks().equals(rust.combine_chunks())


def test_feature_columns_are_not_copied(loaded, vocab, policy_dir):
    """Zero-copy: a column passes through with the very same buffers."""
    table, mapping, *_ = generate(policy_dir, vocab, 300, seed=2)
    out = loaded.enforce(table, mapping, now=NOW)
    a, b = table.column("payload").chunk(0), out.column("payload").chunk(0)
    assert a.buffers()[2].address == b.buffers()[2].address


def test_mapping_errors_before_any_row(loaded, vocab, policy_dir, tmp_path):
    table, mapping, *_ = generate(policy_dir, vocab, 10, seed=1)
    with pytest.raises(rpol.EnforceError) as e:
        loaded.enforce(table, dict(mapping, tenant="no_such_column"), now=NOW)
    d = e.value.diagnostics[0]
    assert d.code == "E0903" and "`no_such_column`" in d.message
    with pytest.raises(rpol.EnforceError) as e:
        loaded.enforce(table, dict(mapping, **{"context.nope": "tenant_id"}), now=NOW)
    assert e.value.diagnostics[0].code == "E0902"
    f = tmp_path / "map.yaml"
    f.write_text("tenant: tenant_id\nsurface: [oops\n")
    with pytest.raises(rpol.EnforceError) as e:
        rpol.Mapping.load(f)
    d = e.value.diagnostics[0]
    assert d.code == "E0901" and d.file == str(f) and d.line is not None
    with pytest.raises(rpol.EnforceError):
        loaded.enforce(table, mapping, drop="sometimes", now=NOW)
    with pytest.raises(ValueError):
        loaded.enforce(table, mapping, now=dt.datetime(2025, 1, 1))
    # Even an empty table is checked against its mapping.
    with pytest.raises(rpol.EnforceError):
        loaded.enforce(table.slice(0, 0), dict(mapping, tenant="no_such_column"), now=NOW)


def test_enforcer_streams_batches_with_stats(loaded, vocab, policy_dir):
    table, mapping, *_ = generate(policy_dir, vocab, 900, seed=4)
    e = loaded.enforcer(table.schema, mapping, drop="invalid", now=NOW, denied_column=True)
    outs = [e.apply(b) for b in table.to_batches(max_chunksize=256)]
    whole = loaded.enforce(table, mapping, drop="invalid", now=NOW, denied_column=True)
    assert pa.Table.from_batches(outs, schema=e.output_schema).equals(whole.combine_chunks())
    assert e.stats["rows_in"] == 900
    assert "rpol_denied" in e.output_schema.names
    import pickle

    m = rpol.Mapping.of(mapping)
    assert pickle.loads(pickle.dumps(m)).text == m.text


def test_million_rows():
    """1,000,000 rows through enforce: 1,000 distinct requests tiled, each
    checked against its decision."""
    policy = rpol.Policy.load("policies/home")
    from conftest import Vocabulary

    vocab = Vocabulary("policies/home", policy.features)
    small, mapping, reqs, kinds, times = generate("policies/home", vocab, 1000, seed=42)
    table = pa.concat_tables([small] * 1000)
    assert table.num_rows == 1_000_000
    out, stats = policy.enforce(table, mapping, drop=("invalid",), now=NOW, with_stats=True)
    want = expected_rows(policy, reqs, kinds, times, ("invalid",))
    kept = [r for r, w in enumerate(want) if w is not None]
    assert out.num_rows == stats["rows_out"] == 1000 * len(kept)
    # Every tile comes out the same as the first one.
    first = out.slice(0, len(kept))
    for f in vocab.features[:3]:
        src = small.column(f).to_pylist()
        expect = [src[r] if f in want[r][1] else None for r in kept]
        assert first.column(f).to_pylist() == expect
        col = out.column(f).combine_chunks()
        assert col.null_count == 1000 * sum(v is None for v in expect)
    assert out.slice(len(kept) * 999).combine_chunks().equals(first.combine_chunks())
