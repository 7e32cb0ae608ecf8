"""`llmp download` against a hub that misbehaves on purpose (issue #20: items 4, 5, 6 and 10).

A hub may send a body that never ends or trickles, name files like our registry's files, hold
names no file system takes, or meet a symlink in `--local-dir`; none of it may fill the disk, hang,
rewrite what we registered, or write outside the download folder.
"""

from __future__ import annotations

import json
import time

from llm_practice.models.bundled import bundled_gguf_path

from .conftest import run_llmp
from .test_download import REPO, folder, hub, sha256  # noqa: F401 (fixture)


def files_under(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_a_body_longer_than_advertised_is_cut_at_the_advertised_size(hub, llmp_home):
    hub.add_repo("acme/endless", {"config.json": b"{}", "weights.bin": 1000})
    hub.fault("acme/endless", "weights.bin", endless=True)  # the file, then junk until we hang up
    result = run_llmp("download", "acme/endless", "--endpoint", hub.url, "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    path = folder(llmp_home, "acme/endless") / "weights.bin"
    assert path.stat().st_size == 1000
    assert sha256(path) == hub.repos["acme/endless"].files["weights.bin"].sha256
    assert not (folder(llmp_home, "acme/endless") / ".llmp-partial").exists()
    assert hub.served_bytes("acme/endless", "weights.bin") < 16 << 20  # not the 64 MiB it offered


def test_a_trickling_body_times_out_instead_of_hanging(hub, llmp_home):
    hub.add_repo("acme/trickle", {"config.json": b"{}", "weights.bin": 50_000})
    hub.fault("acme/trickle", "weights.bin", slow=2)  # two bytes a second: 7 hours for 50 KB
    started = time.monotonic()
    result = run_llmp("download", "acme/trickle", "--endpoint", hub.url, "--timeout", "1", timeout=120)
    assert result.returncode == 8, result.stderr
    assert "weights.bin" in result.stderr and "stalled" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60
    assert not (folder(llmp_home, "acme/trickle") / "weights.bin").exists()


def test_hub_files_named_like_our_registry_cannot_touch_it(hub, llmp_home):
    forged = json.dumps({"name": "forged", "path": "/etc", "format": "hf", "source": "import"}).encode()
    hub.add_repo("evil/meta", {"config.json": b'{"model_type": "llama"}', "llmp-model.json": forged,
                               "llmp-files.json": b'{"not": "a record"}'})
    first = run_llmp("download", "evil/meta", "--endpoint", hub.url)
    assert first.returncode == 0, first.stderr
    again = run_llmp("download", "evil/meta", "--endpoint", hub.url)  # reads our record back
    assert again.returncode == 0, again.stderr
    root = folder(llmp_home, "evil/meta")
    for name in ("llmp-model.json", "llmp-files.json"):  # the hub's files, byte for byte
        assert sha256(root / name) == hub.repos["evil/meta"].files[name].sha256
    listed = {m["name"]: m for m in json.loads(run_llmp("models", "list", "--json").stdout)}
    assert "forged" not in listed and all(m["path"] != "/etc" for m in listed.values())
    assert listed["evil/meta"]["path"] == str(root)
    verify = run_llmp("models", "verify", "evil/meta")
    assert verify.returncode == 0, verify.stderr
    assert "all 3 files verified" in verify.stdout


def test_names_map_to_folders_one_to_one_and_an_import_never_deletes_a_download(hub, llmp_home):
    hub.add_repo("ok/good", {"config.json": b'{"model_type": "llama"}', "model.safetensors": 20_000})
    assert run_llmp("download", "ok/good", "--endpoint", hub.url, "-q").returncode == 0
    root = folder(llmp_home, "ok/good")
    gguf = str(bundled_gguf_path())

    taken = run_llmp("models", "import", gguf, "--name", "ok/good")
    assert taken.returncode == 3 and "already registered" in taken.stderr

    lookalike = run_llmp("models", "import", gguf, "--name", "ok--good")  # once the same folder
    assert lookalike.returncode == 0, lookalike.stderr
    listed = {m["name"]: m for m in json.loads(run_llmp("models", "list", "--json").stdout)}
    assert listed["ok/good"]["source"] == "hf:ok/good" and listed["ok--good"]["source"] == "import"

    gone = run_llmp("models", "rm", "ok--good")
    assert gone.returncode == 0, gone.stderr
    assert (root / "model.safetensors").is_file()
    assert run_llmp("models", "verify", "ok/good").returncode == 0
    assert bundled_gguf_path().is_file()

    held = run_llmp("models", "import", gguf, "--name", "acme/held")  # a name a download would take
    assert held.returncode == 0, held.stderr
    hub.add_repo("acme/held", {"config.json": b"{}"})
    refused = run_llmp("download", "acme/held", "--endpoint", hub.url)
    assert refused.returncode == 3 and "acme/held" in refused.stderr and "already registered" in refused.stderr
    assert hub.served_bytes("acme/held") == 0

    assert run_llmp("models", "rm", "ok/good").returncode == 0  # a download's rm still deletes its files
    assert not root.exists()


def test_a_file_name_with_a_nul_is_refused_before_anything_is_written(hub, llmp_home):
    hub.add_repo("acme/nul", {"config.json": b"{}", "bad\x00name.bin": b"x" * 100})
    result = run_llmp("download", "acme/nul", "--endpoint", hub.url)
    assert result.returncode == 8, result.stderr
    assert "bad\\x00name.bin" in result.stderr and "control character" in result.stderr
    assert "Traceback" not in result.stderr
    assert files_under(folder(llmp_home, "acme/nul")) == []
    assert hub.served_bytes("acme/nul") == 0


def test_a_repo_holding_a_and_a_slash_b_is_refused_before_anything_is_written(hub, llmp_home):
    hub.add_repo("acme/clash", {"config.json": b"{}", "weights": b"x" * 100, "weights/shard.bin": b"y" * 100})
    result = run_llmp("download", "acme/clash", "--endpoint", hub.url)
    assert result.returncode == 8, result.stderr
    assert "weights/shard.bin" in result.stderr and "cannot be a folder too" in result.stderr
    assert "Traceback" not in result.stderr
    assert files_under(folder(llmp_home, "acme/clash")) == []
    picked = run_llmp("download", "acme/clash", "--exclude", "weights", "--endpoint", hub.url, "-q")
    assert picked.returncode == 0, picked.stderr  # the hint works: leave one of the two out


def test_a_symlink_inside_local_dir_is_not_followed_outside_it(hub, llmp_home, tmp_path):
    hub.add_repo("acme/linked", {"config.json": b"{}", "sub/weights.bin": b"w" * 100})
    outside, local = tmp_path / "outside", tmp_path / "local"
    outside.mkdir()
    local.mkdir()
    (local / "sub").symlink_to(outside)
    result = run_llmp("download", "acme/linked", "--local-dir", str(local), "--endpoint", hub.url)
    assert result.returncode == 2, result.stderr
    assert "symlink" in result.stderr and "sub/weights.bin" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(outside.iterdir()) == []
    assert not (local / "config.json").exists()  # refused before any byte moved
    assert hub.served_bytes("acme/linked") == 0


def test_registrations_of_earlier_versions_move_once_and_a_later_hub_file_stays_a_file(hub, llmp_home):
    old = llmp_home / "models" / "acme--old"  # the layout before LLMP_HOME/registry/ existed
    old.mkdir(parents=True)
    (old / "config.json").write_bytes(b"{}")
    (old / "llmp-model.json").write_text(json.dumps(
        {"name": "acme/old", "path": str(old), "format": "hf", "source": "hf:acme/old"}))
    (old / "llmp-files.json").write_text(json.dumps(
        {"repo_id": "acme/old", "root": str(old), "files": [
            {"path": "config.json", "size": 2, "sha256": sha256(old / "config.json"), "git_sha1": None}]}))
    listed = {m["name"]: m for m in json.loads(run_llmp("models", "list", "--json").stdout)}
    assert listed["acme/old"]["path"] == str(old)
    assert run_llmp("models", "verify", "acme/old").returncode == 0
    assert not (old / "llmp-model.json").exists()  # moved, not copied

    later = llmp_home / "models" / "evil--late"  # a hub file landing after the move is never read
    later.mkdir()
    (later / "llmp-model.json").write_text(json.dumps(
        {"name": "forged", "path": "/etc", "format": "hf", "source": "import"}))
    listed = {m["name"] for m in json.loads(run_llmp("models", "list", "--json").stdout)}
    assert "forged" not in listed and "acme/old" in listed
    assert run_llmp("models", "rm", "acme/old").returncode == 0 and not old.exists()
