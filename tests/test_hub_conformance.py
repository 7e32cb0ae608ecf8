"""The local hub's ModelScope imitation, checked with the official ModelScope SDK (issue #19).

If the SDK downloads from our hub what it downloads from modelscope.cn, the hub speaks what the
SDK expects (paths, envelopes, the m_session_id cookie, the 3000-entry cut and `Root=`
re-listing, revisions), so the tests of our client against the same hub mean something.
`modelscope` (with `modelscope-hub`) only adds packages to our environment (`pip install
--dry-run` changes nothing installed), so it is a dev dependency; the test skips without it.

The OpenXLab SDK (openxlab 0.1.3) pins requests 2.28.2, urllib3 1.26, setuptools 60.2, rich 13.4
and more, so it must never enter our environment: its test builds a throw-away virtualenv under
the system temp folder (from PyPI, about a minute, once; reused while it still imports) and
skips, saying why, when that cannot be done. Its endpoints are module constants, which the test
points at the local hub; everything it sends is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .hubserver import LocalHub

needs_modelscope = pytest.mark.skipif(
    subprocess.run([sys.executable, "-c", "import modelscope"], capture_output=True).returncode != 0,
    reason="the official ModelScope SDK is a dev dependency: pip install modelscope")

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


@needs_modelscope
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


@needs_modelscope
def test_the_sdk_sees_past_the_3000_entry_cut_through_our_root_listings(hub, tmp_path):
    files = {"config.json": b"{}"} | {f"shards-{d}/part-{i:04d}.txt": b"x" for d in "ab" for i in range(1600)}
    hub.add_repo("acme/many", files)
    listed = run_sdk(hub, tmp_path, {"do": "list", "repo": "acme/many"})
    assert listed.returncode == 0, listed.stderr
    assert set(files) <= set(json.loads(listed.stdout.splitlines()[-1]))
    assert len([p for _, p in hub.requests if p.endswith("/repo/files")]) == 4  # cut, one level, a, b


@needs_modelscope
def test_the_sdk_picks_a_tag_and_refuses_a_missing_revision_on_our_hub(hub, tmp_path):
    hub.add_repo("acme/tagged", {"config.json": b"{}"}, tags=("v1.0",))
    tagged = run_sdk(hub, tmp_path, {"do": "snapshot", "repo": "acme/tagged", "revision": "v1.0",
                                     "out": str(tmp_path / "tagged")})
    assert tagged.returncode == 0, tagged.stderr
    missing = run_sdk(hub, tmp_path, {"do": "snapshot", "repo": "acme/tagged", "revision": "v9.9",
                                      "out": str(tmp_path / "missing")})
    assert missing.returncode != 0 and "revision not found" in missing.stderr
    assert not (tmp_path / "missing" / "config.json").exists()


# -- OpenXLab ---------------------------------------------------------------------------------

OPENXLAB_SDK = "openxlab==0.1.3"
OX_SCRIPT = r"""
import json, os, sys
job = json.loads(sys.argv[1])
from openxlab.xlab.clients.auth_client import AuthClient
import openxlab.model.common.bury as bury
import openxlab.model.handler.download_file as handler
import openxlab.xlab.handler.user_token as user_token
handler.endpoint = bury.endpoint = job["hub"]  # the SDK's base URL, https://openapi.openxlab.org.cn/api/v1
user_token.AUTH_CLIENT = AuthClient(job["hub"] + "/sso-be/api/v1/open/")
from openxlab.model import download
print(json.dumps(download(job["repo"], output=job["out"])))
"""


@pytest.fixture(scope="session")
def openxlab_python() -> Path:
    """A throw-away virtualenv holding the OpenXLab SDK, never our environment."""
    venv = Path(tempfile.gettempdir()) / "llmp-test-openxlab-0.1.3"
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import openxlab.model"], capture_output=True).returncode == 0:
        return python
    made = subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a virtualenv for the OpenXLab SDK: {made.stderr[-300:]}")
    pip = subprocess.run([python, "-m", "pip", "install", "-q", OPENXLAB_SDK], capture_output=True, text=True,
                         timeout=900)
    if pip.returncode != 0:
        pytest.skip(f"cannot install {OPENXLAB_SDK} into a throw-away virtualenv (is PyPI reachable?): "
                    f"{pip.stderr[-300:]}")
    return python


def run_openxlab_sdk(python: Path, hub: LocalHub, tmp_path, repo: str, keys: dict | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENXLAB", "PYTHON"))}
    env |= {"HOME": str(tmp_path / "sdk-home"), **(keys or {})}  # ~/.openxlab and ~/.cache/model inside tmp
    job = {"hub": hub.url, "repo": repo, "out": str(tmp_path / "out")}
    return subprocess.run([python, "-c", OX_SCRIPT, json.dumps(job)], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.integration  # builds the SDK's virtualenv once (about a minute)
def test_the_openxlab_sdk_downloads_from_our_hub_anonymously_and_with_ak_sk(openxlab_python, hub, tmp_path):
    public = hub.add_repo("acme/public", {"config.json": b'{"a": 1}', "model.safetensors": 200_000})
    hub.ox_keys["ak-alice"] = "sk-alice"
    private = hub.add_repo("alice/private", {"README.md": b"# private\n", "model.pth": 50_000}, token="ak-alice")
    from .test_download import sha256

    anonymous = run_openxlab_sdk(openxlab_python, hub, tmp_path, "acme/public")
    assert anonymous.returncode == 0, anonymous.stderr
    for path, f in public.files.items():
        assert sha256(tmp_path / "out" / path) == f.sha256
    assert hub.ox_sign_calls[-1][1] is None  # no Authorization header at all

    refused = run_openxlab_sdk(openxlab_python, hub, tmp_path, "alice/private")
    assert "Get download url error:repository not exist, traceId:" in refused.stdout

    keys = {"OPENXLAB_AK": "ak-alice", "OPENXLAB_SK": "sk-alice"}
    signed_in = run_openxlab_sdk(openxlab_python, hub, tmp_path, "alice/private", keys)
    assert signed_in.returncode == 0, signed_in.stderr
    assert hub.ox_exchanges == ["auth", "getJwt"]  # nonce + HMAC as our hub checks it
    for path, f in private.files.items():
        assert sha256(tmp_path / "out" / path) == f.sha256
