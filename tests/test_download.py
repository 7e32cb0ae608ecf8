"""`llmp download` and `llmp models verify` against a real local hub on 127.0.0.1.

Every test runs the real `llmp` process; the hub counts the body bytes it sends, so resume
claims are checked in bytes, not inferred.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from llm_practice.models.bundled import bundled_gguf_path

from .conftest import BIN, run_llmp
from .hubserver import LocalHub, dead_endpoint

REPO = "acme/tiny"
BIG = "model.safetensors"
BIG_SIZE = 3 << 20
CHUNK = 1 << 20  # the most one interruption may cost (our read block)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with LocalHub(tmp_path / "hub") as h:
        h.add_repo(REPO, {"config.json": b'{"model_type": "llama"}', "tokenizer.json": 40_000, BIG: BIG_SIZE})
        yield h


def folder(home: Path, repo: str = REPO) -> Path:
    return home / "models" / repo.replace("/", "--")


def assert_same_files(hub: LocalHub, root: Path, repo: str = REPO) -> None:
    for path, f in hub.repos[repo].files.items():
        assert sha256(root / path) == f.sha256, path


def start_download(*args: str) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "llmp"), "download", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def wait_for_bytes(path: Path, at_least: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.stat().st_size >= at_least:
            return path.stat().st_size
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached {at_least} bytes")


def test_download_verifies_registers_and_never_refetches(hub, llmp_home):
    result = run_llmp("download", REPO, "--endpoint", hub.url, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    root = folder(llmp_home)
    assert data["path"] == str(root) and data["name"] == REPO
    assert data["commit"] == hub.repos[REPO].commit
    assert_same_files(hub, root)
    assert not (root / ".llmp-partial").exists()

    listed = {m["name"]: m for m in json.loads(run_llmp("models", "list", "--json").stdout)}
    assert listed[REPO]["source"] == f"hf:{REPO}" and listed[REPO]["format"] == "hf"
    assert listed[REPO]["path"] == str(root)

    served = hub.served_bytes(REPO)
    again = run_llmp("download", REPO, "--endpoint", hub.url, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["fetched_bytes"] == 0
    assert hub.served_bytes(REPO) == served  # finished files are never fetched again

    ok = run_llmp("models", "verify", REPO)
    assert ok.returncode == 0, ok.stderr
    assert "all 3 files verified" in ok.stdout

    with (root / BIG).open("r+b") as f:  # flip one byte in the middle
        f.seek(BIG_SIZE // 2)
        byte = f.read(1)
        f.seek(BIG_SIZE // 2)
        f.write(bytes([byte[0] ^ 1]))
    bad = run_llmp("models", "verify", REPO)
    assert bad.returncode == 8
    assert BIG in bad.stderr and "sha256" in bad.stderr and "tokenizer.json" not in bad.stderr

    gone = run_llmp("models", "rm", REPO)
    assert gone.returncode == 0, gone.stderr
    assert not root.exists()


def test_kill_9_mid_file_then_resume_refetches_at_most_one_chunk(hub, llmp_home):
    hub.fault(REPO, BIG, slow=1 << 20)  # 1 MiB/s: the kill lands mid-file every time
    proc = start_download(REPO, "--endpoint", hub.url, "-q")
    part = folder(llmp_home) / ".llmp-partial" / f"{BIG}.part"
    try:
        wait_for_bytes(part, CHUNK)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    kept = part.stat().st_size
    assert 0 < kept < BIG_SIZE
    assert not (folder(llmp_home) / BIG).exists()  # a partial file never appears at its final path

    hub.faults.clear()
    result = run_llmp("download", REPO, "--endpoint", hub.url, "--json")
    assert result.returncode == 0, result.stderr
    statuses = {f["path"]: f["status"] for f in json.loads(result.stdout)["files"]}
    assert statuses[BIG] == "resumed"
    assert_same_files(hub, folder(llmp_home))
    assert hub.served_bytes(REPO, BIG) <= BIG_SIZE + CHUNK


def test_ctrl_c_stops_with_a_resume_hint_and_keeps_the_bytes(hub, llmp_home):
    hub.fault(REPO, BIG, slow=1 << 20)
    proc = start_download(REPO, "--endpoint", hub.url)
    part = folder(llmp_home) / ".llmp-partial" / f"{BIG}.part"
    wait_for_bytes(part, CHUNK // 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "again to resume" in err
    assert part.stat().st_size > 0 and not (folder(llmp_home) / BIG).exists()


def test_dropped_connection_and_5xx_are_retried_from_where_they_stopped(hub, llmp_home):
    hub.fault(REPO, BIG, drop_after=CHUNK + 12345)
    hub.fault(REPO, "tokenizer.json", statuses=[503, 502])
    result = run_llmp("download", REPO, "--endpoint", hub.url)
    assert result.returncode == 0, result.stderr
    assert_same_files(hub, folder(llmp_home))
    gets = [p for m, p in hub.requests if m == "GET" and p.endswith(BIG)]
    assert len(gets) == 2  # dropped once, resumed once
    assert hub.served_bytes(REPO, BIG) <= BIG_SIZE + CHUNK
    assert len([p for m, p in hub.requests if m == "GET" and p.endswith("tokenizer.json")]) == 3


def test_corrupt_bytes_never_reach_the_final_path(hub, llmp_home):
    hub.fault(REPO, BIG, corrupt=True)
    result = run_llmp("download", REPO, "--endpoint", hub.url)
    assert result.returncode == 8
    assert BIG in result.stderr and "sha256" in result.stderr
    assert not (folder(llmp_home) / BIG).exists()
    assert "Traceback" not in result.stderr


def test_hub_errors_say_what_to_do(hub, llmp_home):
    hub.add_repo("acme/gated", {"config.json": b"{}", BIG: 50_000}, token="s3cret", gated=True)
    hub.add_repo("acme/private", {"config.json": b"{}"}, token="s3cret")

    missing = run_llmp("download", "acme/nope", "--endpoint", hub.url)
    assert missing.returncode == 3 and "'acme/nope' was not found" in missing.stderr

    revision = run_llmp("download", REPO, "--revision", "v9", "--endpoint", hub.url)
    assert revision.returncode == 3 and "Revision 'v9'" in revision.stderr and "--revision" in revision.stderr

    gated = run_llmp("download", "acme/gated", "--endpoint", hub.url)
    assert gated.returncode == 6 and "--token" in gated.stderr and "HF_TOKEN" in gated.stderr

    private = run_llmp("download", "acme/private", "--endpoint", hub.url)
    assert private.returncode == 3 and "--token" in private.stderr

    ok = run_llmp("download", "acme/gated", "--endpoint", hub.url, "--token", "s3cret", "-q")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == str(folder(llmp_home, "acme/gated"))

    bad_name = run_llmp("download", "not-a-repo", "--endpoint", hub.url)
    assert bad_name.returncode == 2 and "REPO" in bad_name.stderr
    for r in (missing, revision, gated, private, bad_name):
        assert "Traceback" not in r.stderr


def test_unreachable_hub_suggests_a_mirror_and_configured_mirrors_are_tried_in_order(hub, llmp_home):
    down = run_llmp("download", REPO, env={"HF_ENDPOINT": dead_endpoint()})
    assert down.returncode == 7
    assert "Could not reach" in down.stderr and "--mirror hf-mirror" in down.stderr

    mirrors = f"{dead_endpoint()},{hub.url}"
    served = run_llmp("download", REPO, env={"HF_ENDPOINT": dead_endpoint(), "LLMP_HF_MIRRORS": mirrors})
    assert served.returncode == 0, served.stderr
    assert f"served by {hub.url}" in " ".join(served.stderr.split())
    assert_same_files(hub, folder(llmp_home))


def test_dry_run_include_exclude_and_quiet(hub, llmp_home, tmp_path):
    first = run_llmp("download", REPO, "--include", "*.json", "--exclude", "tok*", "--endpoint", hub.url, "-q")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == str(folder(llmp_home))  # -q: only the final path
    assert sorted(p.name for p in folder(llmp_home).iterdir() if not p.name.startswith("llmp-")) == ["config.json"]

    plan = run_llmp("download", REPO, "--dry-run", "--endpoint", hub.url)
    assert plan.returncode == 0, plan.stderr
    lines = {line.split()[-1]: line for line in plan.stdout.splitlines() if line.strip()}
    assert "present" in lines["config.json"] and "missing" in lines[BIG] and "3.0 MiB" in lines[BIG]
    assert not (folder(llmp_home) / BIG).exists()

    local = tmp_path / "elsewhere"
    one = run_llmp("download", REPO, "tokenizer.json", "--local-dir", str(local), "--endpoint", hub.url, "-q")
    assert one.returncode == 0, one.stderr
    assert sha256(local / "tokenizer.json") == hub.repos[REPO].files["tokenizer.json"].sha256
    unknown = run_llmp("download", REPO, "nope.bin", "--endpoint", hub.url)
    assert unknown.returncode == 2 and "nope.bin" in unknown.stderr and "config.json" in unknown.stderr


@pytest.mark.parametrize("source", ["modelscope", "openxlab"])
def test_modelscope_and_openxlab_sources(hub, llmp_home, source):
    result = run_llmp("download", REPO, "--source", source, "--endpoint", hub.url, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == source
    assert_same_files(hub, folder(llmp_home))
    listed = {m["name"]: m for m in json.loads(run_llmp("models", "list", "--json").stdout)}
    assert listed[REPO]["source"] == f"{source}:{REPO}"
    missing = run_llmp("download", "acme/nope", "--source", source, "--endpoint", hub.url)
    assert missing.returncode == 3 and "not found" in missing.stderr


@pytest.mark.integration  # loads the bundled model (about 10 s on 2 cores)
def test_one_gguf_file_is_registered_as_that_file_and_chats(hub, llmp_home):
    gguf = bundled_gguf_path()
    hub.add_repo("acme/smol-gguf", {"smollm2-q4.gguf": gguf, "README.md": b"# smol\n"})
    result = run_llmp("download", "acme/smol-gguf", "smollm2-q4.gguf", "--endpoint", hub.url, "-q")
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == folder(llmp_home, "acme/smol-gguf") / "smollm2-q4.gguf"
    assert sha256(path) == sha256(gguf)
    listed = {m["name"]: m for m in json.loads(run_llmp("models", "list", "--json").stdout)}
    assert listed["acme/smol-gguf"]["format"] == "gguf"
    question = ("--once", "Tell me the name of the capital of France.", "--temperature", "0", "--max-tokens", "24")
    chat = run_llmp("chat", "acme/smol-gguf", *question)
    assert chat.returncode == 0, chat.stderr
    # the same bytes answer as the bundled model does (greedy; the wording itself depends on the
    # llama.cpp CPU variant's rounding, so compare with the original, not with a fixed word)
    original = run_llmp("chat", "smollm2-135m-instruct", *question)
    assert "France" in chat.stdout and chat.stdout == original.stdout


def test_mirror_names_and_endpoint_order(monkeypatch):
    from llm_practice.errors import ConfigError
    from llm_practice.hub.huggingface import candidate_endpoints
    from llm_practice.settings import get_settings

    assert candidate_endpoints(None, "hf-mirror") == ["https://hf-mirror.com"]
    assert candidate_endpoints("http://127.0.0.1:9/", None) == ["http://127.0.0.1:9"]
    monkeypatch.setenv("HF_ENDPOINT", "https://hf.example")
    monkeypatch.setenv("LLMP_HF_MIRRORS", "https://m1.example/, https://m2.example")
    get_settings.cache_clear()
    assert candidate_endpoints(None, None) == ["https://hf.example", "https://m1.example", "https://m2.example"]
    with pytest.raises(ConfigError, match="hf-mirror"):
        candidate_endpoints(None, "nope")


def test_two_downloads_of_the_same_repo_at_once_both_succeed(hub, llmp_home):
    hub.fault(REPO, BIG, slow=4 << 20)
    first, second = start_download(REPO, "--endpoint", hub.url, "-q"), start_download(REPO, "--endpoint", hub.url, "-q")
    outs = [p.communicate(timeout=60) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), outs
    assert_same_files(hub, folder(llmp_home))
    assert hub.served_bytes(REPO, BIG) <= BIG_SIZE + CHUNK  # the second waited, it did not re-download


def test_not_enough_disk_space_is_refused_before_any_byte_moves(hub, llmp_home):
    hub.repos[REPO].files[BIG].size = 10**15  # the hub lists a 1 PB file
    result = run_llmp("download", REPO, "--endpoint", hub.url)
    assert result.returncode == 8, result.stderr
    assert "not enough disk space" in result.stderr and "--local-dir" in result.stderr
    assert hub.served_bytes(REPO) == 0


def test_terminal_shows_per_file_and_total_bars_with_speed(hub, llmp_home):
    import pexpect

    hub.fault(REPO, BIG, slow=2 << 20)
    child = pexpect.spawn(str(BIN / "llmp"), ["download", REPO, "--endpoint", hub.url], env=dict(os.environ),
                          encoding="utf-8", timeout=30, dimensions=(40, 160))
    child.expect(r"model\.safetensors.*MB/s")  # the per-file bar, while it runs
    child.expect(r"total.*MB/s")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert_same_files(hub, folder(llmp_home))


def test_a_file_the_hub_loses_is_named_and_the_rest_is_kept(hub, llmp_home):
    hub.fault(REPO, "tokenizer.json", statuses=[404])
    result = run_llmp("download", REPO, "--endpoint", hub.url, "--max-workers", "1")
    assert result.returncode == 8
    assert "tokenizer.json" in result.stderr and "HTTP 404" in result.stderr
    assert (folder(llmp_home) / BIG).is_file()  # fetched first (largest first), kept for the rerun
    assert not (folder(llmp_home) / "tokenizer.json").exists()
    rerun = run_llmp("download", REPO, "--endpoint", hub.url, "--json")
    assert rerun.returncode == 0, rerun.stderr
    statuses = {f["path"]: f["status"] for f in json.loads(rerun.stdout)["files"]}
    assert statuses[BIG] == "present" and statuses["tokenizer.json"] == "downloaded"
