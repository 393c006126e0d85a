"""Shared fixtures: the repository's bundled policies, the `rpol` binary for
differential tests, and a generator of requests (valid and invalid) read off
a policy's own declarations."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

import rpol

REPO = Path(__file__).resolve().parents[3]
POLICIES = ["policies/home", "policies/enterprise"]


# Decisions name rule files as reached from the path given (as `rpol eval`
# does), so every test loads `policies/...` from the repository root.
os.chdir(REPO)

# Spark's Python workers run `python3` from PATH unless told otherwise; they
# must import this package, so they run the tests' own interpreter.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def rpol_bin() -> str:
    """The `rpol` CLI: `$RPOL_BIN`, else target/debug/rpol, else on PATH."""
    given = os.environ.get("RPOL_BIN")
    if given:
        assert Path(given).is_file(), f"RPOL_BIN={given} does not exist"
        return given
    built = REPO / "target" / "debug" / "rpol"
    if built.is_file():
        return str(built)
    found = shutil.which("rpol")
    if found:
        return found
    pytest.skip("no rpol binary: build it with `cargo build -p rpol-cli` or set RPOL_BIN")


def cli_eval(rpol_bin: str, policy: str, request_text: str, reasons=()) -> subprocess.CompletedProcess:
    args = [rpol_bin, "eval", policy, "--input", "-", "--format", "json"]
    for r in reasons:
        args += ["--reason", r]
    return subprocess.run(args, input=request_text, capture_output=True, text=True, cwd=REPO)


def _list(text: str, item: str) -> List[str]:
    m = re.search(rf"^{item}\s*\[([^\]]*)\]", text, re.M)
    return [x.strip() for x in m.group(1).split(",")] if m else []


class Vocabulary:
    """A policy's names, read from its `.rpol` files."""

    def __init__(self, policy_dir: str, features: List[str]) -> None:
        text = "\n".join(p.read_text() for p in sorted((REPO / policy_dir).glob("*.rpol")))
        self.purposes = _list(text, "purposes")
        self.consent = _list(text, "consent")
        self.roles = _list(text, "roles")
        self.surfaces = _list(text, "surfaces")
        block = re.search(r"^context\s*\{(.*?)^\}", text, re.M | re.S)
        self.context: Dict[str, Any] = {}
        for line in block.group(1).splitlines() if block else []:
            m = re.match(r"\s*(\w+):\s*(.+?)\s*$", line)
            if m:
                kind = m.group(2)
                self.context[m.group(1)] = (
                    [v.strip() for v in kind.strip("[]").split(",")] if kind.startswith("[") else kind
                )
        self.features = features
        self.reasons = sorted(set(re.findall(r'codes:\s*\[([^\]]*)\]', text)))


def context_value(rng: random.Random, kind: Any) -> Any:
    if isinstance(kind, list):
        return rng.choice(kind)
    return {
        "string": lambda: rng.choice(["ID", "US", "DE", ""]),
        "int": lambda: rng.randint(0, 5000),
        "bool": lambda: rng.random() < 0.5,
        "duration": lambda: rng.choice(["0d", "5m", "36h", "90d", "2w"]),
    }[kind]()


def generate_request(rng: random.Random, v: Vocabulary, invalid_rate: float = 0.1) -> Dict[str, Any]:
    """A request over the policy's names: every consent state, absent fields,
    unknown features, and (at `invalid_rate`) one mistake that makes it invalid."""
    req: Dict[str, Any] = {
        "tenant": rng.choice(["acme", "bank_a", "northwind", "t1"]),
        "surface": rng.choice(v.surfaces),
        "purpose": rng.choice(v.purposes),
    }
    subject = {}
    if rng.random() < 0.7:
        subject["user_id"] = f"u{rng.randint(1, 99)}"
    if rng.random() < 0.3:
        subject["anonymous_id"] = f"anon{rng.randint(1, 99)}"
    if subject or rng.random() < 0.2:
        req["subject"] = subject
    consent = {t: rng.choice(["granted", "denied", "unknown"]) for t in v.consent if rng.random() < 0.8}
    if consent or rng.random() < 0.2:
        req["consent"] = consent
    if rng.random() < 0.5:
        req["consent_version"] = f"c-{rng.randint(1, 9)}"
    ctx = {k: context_value(rng, kind) for k, kind in v.context.items() if rng.random() < 0.6}
    if ctx:
        req["context"] = ctx
    if rng.random() < 0.5:
        req["roles"] = rng.sample(v.roles, rng.randint(0, len(v.roles)))
    if rng.random() < 0.6:
        feats = rng.sample(v.features, rng.randint(0, len(v.features)))
        if rng.random() < 0.2:
            feats.append("not_a_feature")
        req["features"] = feats
    if rng.random() < invalid_rate:
        mistake = rng.randrange(6)
        if mistake == 0:
            del req["tenant"]
        elif mistake == 1:
            req["surface"] = "nowhere"
        elif mistake == 2:
            req["consent"] = {v.consent[0]: "maybe"}
        elif mistake == 3:
            req["unknown_key"] = 1
        elif mistake == 4:
            req["roles"] = ["nobody"]
        else:
            req["purpose"] = None
    return req


@pytest.fixture(scope="session", params=POLICIES)
def policy_dir(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def loaded(policy_dir):
    return rpol.Policy.load(policy_dir)


@pytest.fixture(scope="session")
def vocab(policy_dir, loaded) -> Vocabulary:
    return Vocabulary(policy_dir, loaded.features)
