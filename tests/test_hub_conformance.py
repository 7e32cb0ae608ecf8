"""The local hub's ModelScope imitation, checked with the official ModelScope SDK (issue #19).

If the SDK downloads from our hub what it downloads from modelscope.cn, the hub speaks what the
SDK expects (paths, envelopes, the m_session_id cookie, the 3000-entry cut and `Root=`
re-listing, revisions), so the tests of our client against the same hub mean something.
`modelscope` (with `modelscope-hub`) only adds packages to our environment (`pip install
--dry-run` changes nothing installed), so it is a dev dependency; the test skips without it.

The OpenXLab SDK (openxlab 0.1.3) pins requests 2.28.2, urllib3 1.26, setuptools 60.2, rich 13.4
and more, and needs pytz and oss2; no throw-away virtualenv can be filled offline from the
registries this project may use at test time, so its imitation (tests/hub_openxlab.py) is written
from reading its source, file by file as that module's docstring lists; our client's tests
(tests/test_hub_protocols.py) exercise it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .hubserver import LocalHub

pytest.importorskip("modelscope", reason="the official ModelScope SDK is a dev dependency: pip install modelscope")

SDK_SCRIPT = r"""
import json, sys
from pathlib import Path
from modelscope.hub.api import HubApi
from modelscope.hub.snapshot_download import snapshot_download
job = json.loads(sys.argv[1])
if job["do"] == "snapshot":
    out = snapshot_download(job["repo"], revision=job.get("revision"), local_dir=job["out"])
    print(json.dumps(sorted(str(p.relative_to(out)) for p in Path(out).rglob("*") if p.is_file())))
elif job["do"] == "list":
    print(json.dumps(sorted(f["Path"] for f in HubApi().get_model_files(job["repo"], recursive=True))))
"""


def run_sdk(hub: LocalHub, tmp_path, job: dict, token: str | None = None) -> subprocess.CompletedProcess:
    """The SDK in its own process: its environment and caches stay inside tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELSCOPE")}
    env |= {"MODELSCOPE_ENDPOINT": hub.url, "MODELSCOPE_CACHE": str(tmp_path / "ms-cache"),
            "HOME": str(tmp_path / "sdk-home"), "PYTHONWARNINGS": "ignore"}
    if token:
        env["MODELSCOPE_API_TOKEN"] = token
    return subprocess.run([sys.executable, "-c", SDK_SCRIPT, json.dumps(job)], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture
def hub(tmp_path):
    with LocalHub(tmp_path / "hub") as h:
        yield h


def test_the_sdk_downloads_a_private_repo_with_its_token_from_our_hub(hub, tmp_path):
    repo = hub.add_repo("acme/private", {"config.json": b'{"model_type": "llama"}',
                                         "weights/model.safetensors": 300_000}, token="ms-secret")
    out = tmp_path / "out"
    denied = run_sdk(hub, tmp_path, {"do": "snapshot", "repo": "acme/private", "out": str(out)})
    assert denied.returncode != 0  # without the token the repository is not there for the SDK either
    assert "Model does not exist" in denied.stderr and "[404]" in denied.stderr
    ok = run_sdk(hub, tmp_path, {"do": "snapshot", "repo": "acme/private", "out": str(out)}, token="ms-secret")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.splitlines()[-1]) == ["config.json", "weights/model.safetensors"]
    from .test_download import sha256

    for path, f in repo.files.items():
        assert sha256(out / path) == f.sha256


def test_the_sdk_sees_past_the_3000_entry_cut_through_our_root_listings(hub, tmp_path):
    files = {"config.json": b"{}"} | {f"shards-{d}/part-{i:04d}.txt": b"x" for d in "ab" for i in range(1600)}
    hub.add_repo("acme/many", files)
    listed = run_sdk(hub, tmp_path, {"do": "list", "repo": "acme/many"})
    assert listed.returncode == 0, listed.stderr
    assert set(files) <= set(json.loads(listed.stdout.splitlines()[-1]))
    assert len([p for _, p in hub.requests if p.endswith("/repo/files")]) == 4  # cut, one level, a, b


def test_the_sdk_picks_a_tag_and_refuses_a_missing_revision_on_our_hub(hub, tmp_path):
    hub.add_repo("acme/tagged", {"config.json": b"{}"}, tags=("v1.0",))
    tagged = run_sdk(hub, tmp_path, {"do": "snapshot", "repo": "acme/tagged", "revision": "v1.0",
                                     "out": str(tmp_path / "tagged")})
    assert tagged.returncode == 0, tagged.stderr
    missing = run_sdk(hub, tmp_path, {"do": "snapshot", "repo": "acme/tagged", "revision": "v9.9",
                                      "out": str(tmp_path / "missing")})
    assert missing.returncode != 0 and "revision not found" in missing.stderr
    assert not (tmp_path / "missing" / "config.json").exists()
