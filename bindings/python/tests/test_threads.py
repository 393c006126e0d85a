"""The GIL is released while Rust works: another Python thread keeps
running during a long `decide_many` / `enforce`, and decisions made from
many threads at once equal the ones made one by one."""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import rpol
from conftest import Vocabulary, generate_request


def _runs_alongside(call) -> int:
    """How many times a pure-Python loop ran while `call` was inside Rust."""
    inside = threading.Event()
    done = threading.Event()
    count = 0

    def worker():
        inside.set()
        call()
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    inside.wait()
    while not done.is_set():
        count += 1
    t.join()
    return count


def test_other_threads_run_during_decide_many():
    policy = rpol.Policy.load("policies/home")
    vocab = Vocabulary("policies/home", policy.features)
    rng = random.Random(1)
    # Text requests: converting them costs nothing, so the call is all Rust.
    texts = [json.dumps(generate_request(rng, vocab)) for _ in range(500)] * 60
    # With the GIL held for the whole call, the loop would get only the
    # interpreter's switch-interval slices around it (a handful of runs).
    assert _runs_alongside(lambda: policy.decide_many(texts)) > 10_000


def test_threads_decide_the_same():
    policy = rpol.Policy.load("policies/enterprise")
    vocab = Vocabulary("policies/enterprise", policy.features)
    rng = random.Random(2)
    reqs = [generate_request(rng, vocab, invalid_rate=0.2) for _ in range(400)]
    alone = policy.decide_many(reqs)
    with ThreadPoolExecutor(max_workers=4) as pool:
        parts = list(pool.map(lambda i: policy.decide_many(reqs[i::4]), range(4)))
    for i in range(4):
        assert parts[i] == alone[i::4]
