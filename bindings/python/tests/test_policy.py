"""The Policy API: loading and its errors, properties, and every query."""

from __future__ import annotations

import datetime
import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

import rpol
from conftest import REPO

GRANTED = json.loads((REPO / "policies/requests/granted.json").read_text())


def test_load_properties():
    p = rpol.Policy.load("policies/home")
    assert p.name == "home_feed"
    assert p.version == "2026.11.1"
    assert len(p.digest) == 64 and int(p.digest, 16) >= 0
    assert "user_embedding" in p.features
    assert repr(p).startswith("<rpol.Policy home_feed 2026.11.1 ")


def test_missing_path_is_a_policy_error_with_a_code():
    with pytest.raises(rpol.PolicyError) as e:
        rpol.Policy.load("policies/nope")
    [d] = e.value.diagnostics
    assert isinstance(d, rpol.Diagnostic)
    assert d.code == "E0920"
    assert d.file == "policies/nope"
    assert "policies/nope" in d.message and d.help
    assert isinstance(e.value, rpol.RpolError)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_with_its_precise_code(tmp_path):
    fifo = tmp_path / "policy.rpol"
    os.mkfifo(fifo)
    with pytest.raises(rpol.PolicyError) as e:
        rpol.Policy.load(str(fifo))
    [d] = e.value.diagnostics
    assert d.code == "E0102"
    assert d.file == str(fifo)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_rpol_serve_refuses_the_same_paths_with_the_same_codes(tmp_path, rpol_bin):
    fifo = tmp_path / "policy.rpol"
    os.mkfifo(fifo)
    cut = tmp_path / "cut.rpolc"
    cut.write_bytes(b"rpol-compiled garbage")
    for path in (fifo, cut, tmp_path / "nope"):
        with pytest.raises(rpol.PolicyError) as e:
            rpol.Policy.load(str(path))
        [d] = e.value.diagnostics
        out = subprocess.run([rpol_bin, "serve", str(path), "--listen", "127.0.0.1:0"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 1, out.stderr
        assert f"error[{d.code}]: {d.message}" in out.stderr


def test_check_errors_carry_code_file_line_column(tmp_path):
    shutil.copytree(REPO / "policies/home", tmp_path / "home")
    shutil.copy(REPO / "policies/features.yaml", tmp_path / "features.yaml")
    src = tmp_path / "home/home.rpol"
    lines = src.read_text().splitlines(keepends=True)
    # Line 30 is a `resolve` arm; name a mode that does not exist.
    assert "=> personalized" in lines[29]
    lines[29] = lines[29].replace("=> personalized", "=> personalised")
    src.write_text("".join(lines))
    with pytest.raises(rpol.PolicyError) as e:
        rpol.Policy.load(str(tmp_path / "home"))
    d = e.value.diagnostics[0]
    assert d.code == "E0201"
    assert d.severity == "error"
    assert d.file.endswith("home/home.rpol")
    assert d.line == 30
    assert d.column == lines[29].index("personalised") + 1
    assert "`personalised`" in d.message
    assert str(d).startswith("error[E0201]: ")
    # Pickles (Spark ships exceptions between processes).
    again = pickle.loads(pickle.dumps(e.value))
    assert again.diagnostics == e.value.diagnostics


def test_syntax_error(tmp_path):
    f = tmp_path / "bad.rpol"
    f.write_text('policy p { version: "1" }\nmode m { grants: [a }\n')
    with pytest.raises(rpol.PolicyError) as e:
        rpol.Policy.load(str(f))
    d = e.value.diagnostics[0]
    assert (d.code, d.line) == ("E0100", 2)


def test_artifact_round_trip_and_corrupt_artifact(tmp_path):
    p = rpol.Policy.load("policies/home")
    data = p.to_artifact()
    assert isinstance(data, bytes) and data.startswith(b"rpol-compiled")
    q = rpol.Policy.from_artifact(data)
    assert q.digest == p.digest
    assert q.decide(GRANTED) == p.decide(GRANTED)
    f = tmp_path / "home.rpolc"
    f.write_bytes(data)
    assert rpol.Policy.load(str(f)).digest == p.digest
    f.write_bytes(data[:-7])
    with pytest.raises(rpol.PolicyError) as e:
        rpol.Policy.load(str(f))
    assert e.value.diagnostics[0].code == "E0921"
    assert e.value.diagnostics[0].file == str(f)
    with pytest.raises(rpol.PolicyError):
        rpol.Policy.from_artifact(b"rpol-compiled garbage")
    r = pickle.loads(pickle.dumps(p))
    assert r.digest == p.digest


def test_decide_types():
    p = rpol.Policy.load("policies/home")
    d = p.decide(GRANTED, reasons=["trending_region_ID"])
    assert isinstance(d, dict)
    assert d["policy"] == "home_feed" and d["digest"] == p.digest
    assert d["mode"] == "personalized"
    assert isinstance(d["features"]["allowed"], list)
    assert isinstance(d["features"]["denied"], dict)
    assert set(d["reasons"]) == {"trending_region_ID"}
    # JSON text decides the same.
    assert p.decide(json.dumps(GRANTED), ("trending_region_ID",)) == d
    assert p.decide(json.dumps(GRANTED).encode()) == p.decide(GRANTED)


def test_invalid_request():
    p = rpol.Policy.load("policies/home")
    bad = dict(GRANTED, surface="nowhere", consent={"personalization": "maybe"})
    with pytest.raises(rpol.InvalidRequest) as e:
        p.decide(bad)
    paths = [x["path"] for x in e.value.errors]
    assert "$.surface" in paths and "$.consent.personalization" in paths
    assert all(isinstance(x["message"], str) and x["message"] for x in e.value.errors)
    fb = e.value.fallback
    # The fallback is the `else` mode and never allows personal features.
    assert fb["route"] is None
    assert fb["mode"] == "contextual_only"
    assert "user_embedding" not in fb["features"]["allowed"]
    assert isinstance(e.value, ValueError)
    assert pickle.loads(pickle.dumps(e.value)).errors == e.value.errors
    with pytest.raises(rpol.InvalidRequest):
        p.decide("{not json")
    with pytest.raises(rpol.InvalidRequest):
        p.decide(b"\xff\xfe")
    with pytest.raises(rpol.InvalidRequest):
        p.decide(dict(GRANTED, context={"region": None}))
    # NaN has no JSON form: refused before it reaches the engine.
    with pytest.raises(ValueError):
        p.decide(dict(GRANTED, context={"region": float("nan")}))


def test_check_feature_agrees_with_decide(loaded, vocab):
    import random

    from conftest import generate_request

    rng = random.Random(7)
    checked = 0
    for _ in range(150):
        req = generate_request(rng, vocab, invalid_rate=0.0)
        d = loaded.decide(req)
        asked = req.get("features")
        names = list(d["features"]["allowed"]) + list(d["features"]["denied"])
        for name in names + ["not_a_feature"]:
            # A full decision without `features` lists only its route's
            # features; single checks answer for any feature.
            if asked is None and name not in names:
                continue
            assert loaded.check_feature(req, name) == (name in d["features"]["allowed"]), (req, name)
            checked += 1
    assert checked > 300
    with pytest.raises(rpol.InvalidRequest):
        loaded.check_feature({"tenant": "a"}, loaded.features[0])


def test_explain_agrees_with_decide_reasons(loaded, vocab):
    import random

    from conftest import generate_request

    rng = random.Random(11)
    codes = [c.strip().strip('"').replace("*", "x") for group in vocab.reasons for c in group.split(",")]
    codes.append("no_such_code")
    for _ in range(60):
        req = generate_request(rng, vocab, invalid_rate=0.0)
        d = loaded.decide(req, reasons=codes)
        for code in codes:
            assert loaded.explain(req, code) == d["reasons"][code]


def test_retention():
    p = rpol.Policy.load("policies/home")
    assert p.retention("raw_behavior_events") == datetime.timedelta(days=90)
    assert p.retention("session_state") == datetime.timedelta(hours=24)
    with pytest.raises(rpol.UnknownKind) as e:
        p.retention("everything")
    assert "`everything`" in str(e.value)
    assert isinstance(e.value, KeyError) and e.value.kind == "everything"


def test_debug_visible():
    p = rpol.Policy.load("policies/home")
    # sre has restricted clearance: restricted features yes, hidden ones no.
    vis = {f: p.debug_visible("sre", f) for f in p.features}
    assert any(vis.values()) and not all(vis.values())
    assert not p.debug_visible("nobody", p.features[0])
    assert not p.debug_visible("sre", "not_a_feature")


def test_decide_many_matches_decide(loaded, vocab):
    import random

    from conftest import generate_request

    rng = random.Random(3)
    reqs = [generate_request(rng, vocab, invalid_rate=0.2) for _ in range(300)]
    many = loaded.decide_many(reqs, reasons=["trending_near_you"])
    assert len(many) == len(reqs)
    invalid = 0
    for req, got in zip(reqs, many):
        try:
            assert got == loaded.decide(req, reasons=["trending_near_you"])
        except rpol.InvalidRequest as e:
            invalid += 1
            assert got == {"errors": e.errors, "fallback": e.fallback}
    assert invalid > 10
    assert loaded.decide_many([]) == []
