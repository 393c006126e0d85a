"""`Policy.decide` against the real `rpol eval --format json` binary: the same
decision, value for value, on the bundled requests and on generated ones
(valid and invalid); an invalid request gets the same errors."""

from __future__ import annotations

import json
import random

import pytest

import rpol
from conftest import REPO, cli_eval, generate_request

BUNDLED = sorted(
    str(p.relative_to(REPO))
    for p in list((REPO / "policies/requests").glob("*.json"))
    + list((REPO / "policies/enterprise/requests").glob("*.json"))
)


@pytest.mark.parametrize("request_file", BUNDLED)
@pytest.mark.parametrize("policy", ["policies/home", "policies/enterprise"])
def test_bundled_requests(rpol_bin, policy, request_file):
    text = (REPO / request_file).read_text()
    out = cli_eval(rpol_bin, policy, text, reasons=["trending_region_ID", "x"])
    p = rpol.Policy.load(policy)
    if out.returncode == 0:
        assert p.decide(text, reasons=["trending_region_ID", "x"]) == json.loads(out.stdout)
    else:
        assert out.returncode == 2, out.stderr
        with pytest.raises(rpol.InvalidRequest):
            p.decide(text)


def test_generated_requests(rpol_bin, policy_dir, loaded, vocab):
    rng = random.Random(2026)
    valid = invalid = 0
    for _ in range(60):
        req = generate_request(rng, vocab, invalid_rate=0.25)
        text = json.dumps(req)
        out = cli_eval(rpol_bin, policy_dir, text, reasons=["trending_near_you"])
        if out.returncode == 0:
            valid += 1
            assert loaded.decide(req, ["trending_near_you"]) == json.loads(out.stdout), text
        else:
            invalid += 1
            assert out.returncode == 2, out.stderr
            with pytest.raises(rpol.InvalidRequest) as e:
                loaded.decide(req)
            # `rpol eval` prints `error[request]: <stdin>: PATH: MESSAGE` per error.
            cli_errors = [
                line.split(": ", 2)[2]
                for line in out.stderr.splitlines()
                if line.startswith("error[request]: ")
            ]
            assert cli_errors == [f"{x['path']}: {x['message']}" for x in e.value.errors]
    assert valid > 20 and invalid > 5
