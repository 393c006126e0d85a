#!/usr/bin/env python3
"""A client of `rpol serve` using only Python's standard library.

    python3 client.py --url http://127.0.0.1:8181 --request request.json [--reason CODE] [--token-file FILE]

Asks for a decision, shows how an invalid request is answered (400 with the
fallback decision, which a caller may serve), and calls the OPA-shaped
endpoint. See docs/serving.md.
"""

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


class RpolClient:
    """Decisions from `rpol serve` over HTTP (keep the instance; it is cheap)."""

    def __init__(self, url, token=None, timeout=2.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _post(self, path, body, reasons=()):
        query = urllib.parse.urlencode([("reason", r) for r in reasons])
        req = urllib.request.Request(
            self.url + path + ("?" + query if query else ""),
            data=json.dumps(body).encode("utf-8"),
            headers={"content-type": "application/json"},
            method="POST",
        )
        if self.token:
            req.add_header("authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, resp.headers.get("rpol-policy-digest"), json.load(resp)
        except urllib.error.HTTPError as e:
            # 400 carries {"errors": [...], "fallback": decision}.
            return e.code, e.headers.get("rpol-policy-digest"), json.load(e)

    def decide(self, request, reasons=()):
        """(status, policy digest, decision or {"errors", "fallback"})."""
        return self._post("/v1/decide", request, reasons)

    def decide_batch(self, requests, reasons=()):
        status, digest, body = self._post(
            "/v1/decide/batch", {"requests": list(requests), "reasons": list(reasons)}
        )
        return status, digest, body.get("decisions", body)

    def opa_decision(self, request):
        """OPA's Data API shape: {"result": decision, "decision_id": uuid}."""
        return self._post("/v1/data/rpol/decision", {"input": request})

    def allowed_features(self, request):
        """Features to fetch; on any failure, none (fail safe)."""
        try:
            status, _, body = self.decide(request)
        except (OSError, ValueError):
            return []
        decision = body if status == 200 else body.get("fallback", {})
        return list(decision.get("features", {}).get("allowed", []))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8181")
    ap.add_argument("--request", required=True, help="a request JSON file (spec 7.1)")
    ap.add_argument("--reason", action="append", default=[])
    ap.add_argument("--token-file")
    args = ap.parse_args()
    token = None
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as f:
            token = f.read().strip()
    with open(args.request, encoding="utf-8") as f:
        request = json.load(f)
    client = RpolClient(args.url, token)

    status, digest, decision = client.decide(request, args.reason)
    if status != 200:
        print(f"decision refused with {status}: {decision}", file=sys.stderr)
        return 1
    print(f"policy: {decision['policy']} {decision['version']} (digest {digest})")
    print(f"mode: {decision['mode']}")
    print(f"allowed features: {', '.join(decision['features']['allowed'])}")

    status, _, body = client.decide({"tenant": 1})
    if status != 400:
        print(f"an invalid request got {status}", file=sys.stderr)
        return 1
    print(
        f"invalid request refused with 400 ({len(body['errors'])} errors); "
        f"fallback mode: {body['fallback']['mode']}"
    )

    status, _, body = client.opa_decision(request)
    if status != 200 or body["result"]["mode"] != decision["mode"]:
        print(f"OPA-shaped call failed: {status} {body}", file=sys.stderr)
        return 1
    print(f"opa decision_id: {body['decision_id']}")

    status, _, decisions = client.decide_batch([request, request])
    print(f"batch: {status}, {len(decisions)} decisions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
