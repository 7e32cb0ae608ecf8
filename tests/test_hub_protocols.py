"""ModelScope and OpenXLab downloads against a local hub that imitates each service as its
official SDK sees it (tests/hub_modelscope.py, tests/hub_openxlab.py; issue #19).

Every test runs the real `llmp` process, except the site switch, which needs the two default
sites pointed at local hubs and so calls the same library function in-process.
"""

from __future__ import annotations

import json

import pytest

from llm_practice.hub import DownloadRequest, download_model
from llm_practice.settings import get_settings

from .conftest import run_llmp
from .hubserver import LocalHub
from .test_download import folder, sha256

CONFIG = b'{"model_type": "llama"}'


@pytest.fixture
def hub(tmp_path, monkeypatch):
    for var in ("MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN", "MODELSCOPE_API_TOKEN", "MODELSCOPE_PREFER_AI_SITE",
                "OPENXLAB_AK", "OPENXLAB_SK", "OPENXLAB_TOKEN", "LLMP_OPENXLAB_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))  # no ~/.openxlab/config.json of the real user
    with LocalHub(tmp_path / "hub") as h:
        yield h


def download(hub, repo, source, *args, env=None):
    return run_llmp("download", repo, "--source", source, "--endpoint", hub.url, *args, env=env)


def same_files(hub, home, repo):
    for path, f in hub.repos[repo].files.items():
        assert sha256(folder(home, repo) / path) == f.sha256, path


# -- ModelScope -----------------------------------------------------------------------------

def test_modelscope_private_repo_needs_the_token_as_session_cookie(hub, llmp_home):
    hub.add_repo("acme/private", {"config.json": CONFIG, "model.safetensors": 50_000}, token="ms-secret")
    anonymous = download(hub, "acme/private", "modelscope")
    assert anonymous.returncode == 3, anonymous.stderr
    assert "MODELSCOPE_API_TOKEN" in anonymous.stderr and "HF_TOKEN" not in anonymous.stderr

    # the hub checks the m_session_id cookie, as ModelScope's /api/v1 endpoints do (Bearer alone fails)
    ok = download(hub, "acme/private", "modelscope", "--json", env={"MODELSCOPE_API_TOKEN": "ms-secret"})
    assert ok.returncode == 0, ok.stderr
    same_files(hub, llmp_home, "acme/private")


def test_modelscope_a_200_reply_with_an_error_code_is_an_error_not_an_empty_repo(hub, llmp_home):
    hub.add_repo("acme/busy", {"config.json": CONFIG})
    hub.ms_faults["acme/busy"] = "code"
    busy = download(hub, "acme/busy", "modelscope")
    assert busy.returncode == 8, busy.stderr
    assert "error Code 10010205002" in busy.stderr and "busy" in busy.stderr and "request id" in busy.stderr
    assert "match the filters" not in busy.stderr

    hub.ms_faults["acme/busy"] = "html"
    html = download(hub, "acme/busy", "modelscope")
    assert html.returncode == 8 and "not JSON (text/html)" in html.stderr, html.stderr
    for r in (busy, html):
        assert "Traceback" not in r.stderr

    hub.ms_faults["acme/busy"] = "429"  # once, with Retry-After: retried
    assert download(hub, "acme/busy", "modelscope", "-q").returncode == 0


def test_modelscope_listing_past_3000_entries_is_walked_per_folder(hub, llmp_home):
    files = {"config.json": CONFIG}
    files |= {f"shards-a/part-{i:04d}.txt": b"a%d" % i for i in range(1600)}
    files |= {f"shards-b/part-{i:04d}.txt": b"b%d" % i for i in range(1600)}
    hub.add_repo("acme/many", files)
    plan = download(hub, "acme/many", "modelscope", "--dry-run", "--json")
    assert plan.returncode == 0, plan.stderr
    listed = {f["path"] for f in json.loads(plan.stdout)["files"]}
    assert listed == set(files)  # 3201 files, although each listing stops at 3000 entries
    listings = [p for m, p in hub.requests if p.endswith("/repo/files")]
    assert len(listings) == 4  # whole tree (cut), one level, then shards-a and shards-b

    last = download(hub, "acme/many", "modelscope", "shards-b/part-1599.txt", "-q")
    assert last.returncode == 0, last.stderr
    assert (folder(llmp_home, "acme/many") / "shards-b/part-1599.txt").read_bytes() == b"b1599"


def test_modelscope_revision_is_checked_against_the_revisions_endpoint(hub, llmp_home):
    hub.add_repo("acme/tagged", {"config.json": CONFIG}, tags=("v1.0",))
    wrong = download(hub, "acme/tagged", "modelscope", "--revision", "v9.9")
    assert wrong.returncode == 3 and "Revision 'v9.9'" in wrong.stderr, wrong.stderr
    assert ("GET", "/api/v1/models/acme/tagged/revisions") in hub.requests
    tagged = download(hub, "acme/tagged", "modelscope", "--revision", "v1.0", "--json")
    assert tagged.returncode == 0, tagged.stderr
    assert json.loads(tagged.stdout)["revision"] == "v1.0"


def test_modelscope_site_switch_cn_then_ai_unless_an_endpoint_is_set(tmp_path, monkeypatch, llmp_home):
    from llm_practice.hub import modelscope

    for var in ("MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN", "MODELSCOPE_API_TOKEN", "MODELSCOPE_PREFER_AI_SITE"):
        monkeypatch.delenv(var, raising=False)
    with LocalHub(tmp_path / "cn") as cn, LocalHub(tmp_path / "ai") as ai:
        monkeypatch.setattr(modelscope, "CN_SITE", cn.url)
        monkeypatch.setattr(modelscope, "AI_SITE", ai.url)
        ai.add_repo("intl/only", {"config.json": CONFIG})
        cn.add_repo("both/sites", {"config.json": b'{"site": "cn"}'})
        ai.add_repo("both/sites", {"config.json": b'{"site": "ai"}'})

        found = download_model(DownloadRequest(repo_id="intl/only", source="modelscope"))
        assert found.endpoint == ai.url  # not on .cn (404), then found on .ai
        assert ("GET", "/api/v1/models/intl/only") in cn.requests

        monkeypatch.setenv("MODELSCOPE_PREFER_AI_SITE", "true")
        get_settings.cache_clear()
        before = len(cn.requests)
        preferred = download_model(DownloadRequest(repo_id="both/sites", source="modelscope", dry_run=True))
        assert preferred.endpoint == ai.url and len(cn.requests) == before

        monkeypatch.setenv("MODELSCOPE_ENDPOINT", cn.url)  # as the SDK: an explicit site is used alone
        get_settings.cache_clear()
        before = len(ai.requests)
        with pytest.raises(Exception, match="intl/only.*not found"):
            download_model(DownloadRequest(repo_id="intl/only", source="modelscope", dry_run=True))
        assert len(ai.requests) == before


# -- OpenXLab -------------------------------------------------------------------------------

def test_openxlab_anonymous_download_one_call_no_auth_header_size_checked(hub, llmp_home):
    hub.add_repo("acme/public", {"config.json": CONFIG, "model.safetensors": 300_000, "docs/README.md": b"# hi\n"})
    hub.fault("acme/public", "model.safetensors", drop_after=100_000)  # no listed size: Content-Length counts
    result = download(hub, "acme/public", "openxlab", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert any("Content-Length" in note for note in data["notes"])
    same_files(hub, llmp_home, "acme/public")
    (payload, auth), = hub.ox_sign_calls  # one call lists and signs every file
    assert payload == {"userName": "acme", "repositoryName": "public", "modelNames": None, "filePaths": None,
                       "clientFrom": "0", "ignore": None}
    assert auth is None and hub.ox_exchanges == []

    revision = download(hub, "acme/public", "openxlab", "--revision", "v1")
    assert revision.returncode == 2 and "--revision" in revision.stderr and "no revisions" in revision.stderr


def test_openxlab_ak_sk_login_is_exchanged_cached_and_refreshed(hub, llmp_home):
    hub.ox_keys["ak-alice"] = "sk-alice"
    hub.add_repo("alice/private", {"config.json": CONFIG, "model.bin": 20_000}, token="ak-alice")
    keys = {"OPENXLAB_AK": "ak-alice", "OPENXLAB_SK": "sk-alice"}

    anonymous = download(hub, "alice/private", "openxlab")
    assert anonymous.returncode == 3 and "repository not exist" in anonymous.stderr
    assert "OPENXLAB_AK" in anonymous.stderr and "HF_TOKEN" not in anonymous.stderr

    first = download(hub, "alice/private", "openxlab", "-q", env=keys)
    assert first.returncode == 0, first.stderr
    same_files(hub, llmp_home, "alice/private")
    assert hub.ox_exchanges == ["auth", "getJwt"]
    jwt = hub.ox_sign_calls[-1][1]
    assert jwt and jwt.startswith("eyJ") and not jwt.startswith("Bearer")  # a bare JWT, as the SDK sends

    again = download(hub, "alice/private", "openxlab", "--dry-run", env=keys)
    assert again.returncode == 0 and hub.ox_exchanges == ["auth", "getJwt"]  # cached JWT reused

    hub.ox_jwt_ttl = 5  # the next JWT expires within the SDK's 30 s margin: refreshed next time
    hub.ox_jwts.clear()
    expired = download(hub, "alice/private", "openxlab", "--dry-run", env=keys)
    assert expired.returncode == 6, expired.stderr  # a stale cached JWT is an auth error, not "not found"
    assert "token invalid or expired" in expired.stderr and "trace id" in expired.stderr


def test_openxlab_token_problems_are_auth_errors(hub, llmp_home):
    hub.ox_keys["ak-bob"] = "sk-bob"
    hub.add_repo("bob/private", {"config.json": CONFIG}, token="ak-bob")
    wrong_sk = download(hub, "bob/private", "openxlab", env={"OPENXLAB_AK": "ak-bob", "OPENXLAB_SK": "nope"})
    assert wrong_sk.returncode == 6 and "signature verification failed" in wrong_sk.stderr, wrong_sk.stderr
    bad_jwt = download(hub, "bob/private", "openxlab", "--token", "eyJforged")
    assert bad_jwt.returncode == 6 and "token invalid" in bad_jwt.stderr
    assert "OPENXLAB_AK" in bad_jwt.stderr
    for r in (wrong_sk, bad_jwt):
        assert "Traceback" not in r.stderr and "not found" not in r.stderr


def test_openxlab_refresh_and_expired_urls_and_odd_replies(hub, llmp_home):
    hub.ox_keys["ak-carol"] = "sk-carol"
    hub.ox_jwt_ttl = 10  # inside the 30 s margin: the cached JWT counts as expired next time
    hub.add_repo("carol/model", {"config.json": CONFIG, "weights.safetensors": 40_000}, token="ak-carol")
    keys = {"OPENXLAB_AK": "ak-carol", "OPENXLAB_SK": "sk-carol"}
    assert download(hub, "carol/model", "openxlab", "--dry-run", env=keys).returncode == 0
    hub.ox_expired_once.add(("carol/model", "weights.safetensors"))  # its first signed URL is stale
    result = download(hub, "carol/model", "openxlab", env=keys)
    assert result.returncode == 0, result.stderr
    assert hub.ox_exchanges == ["auth", "getJwt", "refreshJwt"]  # refreshed with the refresh token
    assert len(hub.ox_sign_calls) == 3  # dry run, download, and one re-signing after the 403
    same_files(hub, llmp_home, "carol/model")

    hub.ox_html = True
    html = download(hub, "carol/model", "openxlab", "--dry-run")
    assert html.returncode == 8 and "not JSON (text/html)" in html.stderr and "Traceback" not in html.stderr
