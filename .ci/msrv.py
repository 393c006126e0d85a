"""The declared minimum Rust version (`rust-version` of the root Cargo.toml)
must be at least every dependency's own: reads `cargo metadata` (filtered to
the host platform) on stdin, the declared version as argv[1]. Exits 1 naming
the dependencies that need a newer compiler; notes members that do not
inherit the workspace's `rust-version`."""
import json
import sys


def version(s):
    parts = [int(p) for p in s.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


declared = version(sys.argv[1])
meta = json.load(sys.stdin)
used = {n["id"] for n in meta["resolve"]["nodes"]}
members = set(meta["workspace_members"])
newer = sorted(
    (p["name"], p["version"], p["rust_version"])
    for p in meta["packages"]
    if p["id"] in used and p.get("rust_version") and version(p["rust_version"]) > declared
)
for name, ver, rv in newer:
    print(f"error: {name} {ver} needs Rust {rv}, newer than the declared rust-version {sys.argv[1]}")
loose = sorted(p["name"] for p in meta["packages"] if p["id"] in members and not p.get("rust_version"))
if loose:
    print("note: these members do not set `rust-version.workspace = true`: " + ", ".join(loose))
if newer:
    sys.exit(1)
print(f"rust-version {sys.argv[1]}: every dependency builds with it")
