"""`prepare-pt --executor ray`: the map step as Ray tasks on a local 2-CPU Ray cluster started by
the test; the kept documents and the shards equal the local executor's; a run whose worker and
then driver are killed (`kill -9`) resumes from its work folder without redoing finished files or
shards."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from llm_practice.data.prepare import PrepareConfig, prepare_pretraining
from llm_practice.data.shards import read_manifest, read_shards

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

WORDS = ("harbour lantern kelp otter charter museum railway tower island moth bread barley crown "
         "pearl physicist library garden bridge market river festival mountain tea").split()


def _doc(rng: random.Random, n: int = 80) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def _edit(text: str) -> str:
    return text[:40] + "zz" + text[42:]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster with 2 worker CPUs; its files stay in a temporary folder removed afterwards.
    The folder is a short one under the system's temp: Ray's socket paths inside it must fit the
    107-byte AF_UNIX limit, which pytest's (deeper still under xdist: `popen-gw1/`) does not."""
    import shutil
    import tempfile

    temp = Path(tempfile.mkdtemp(prefix="llmp-ray-"))
    saved = {k: os.environ.get(k) for k in ("HOME", "RAY_AUTH_MODE")}
    os.environ.update(HOME=str(temp), RAY_AUTH_MODE="disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=str(temp / "r"))
    yield
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _inputs(folder: Path, files: int = 8, docs: int = 60) -> list[Path]:
    """Documents in JSONL files, with exact and near duplicates planted in other files."""
    folder.mkdir()
    rng = random.Random(7)
    texts = [[_doc(rng) for _ in range(docs)] for _ in range(files)]
    texts[3][5] = texts[0][2]  # exact duplicate across files
    texts[6][9] = _edit(texts[1][4])  # near duplicate across files
    paths = []
    for i, group in enumerate(texts):
        path = folder / f"part{i}.jsonl"
        path.write_text("".join(json.dumps({"text": t}) + "\n" for t in group))
        paths.append(path)
    return paths


def _kept(path: Path) -> list[str]:
    return [json.loads(x)["text"] for x in path.read_text().splitlines()]


def test_ray_executor_keeps_what_the_local_executor_keeps(cluster, tmp_path):
    paths = _inputs(tmp_path / "in")
    local = prepare_pretraining(paths, tmp_path / "local", PrepareConfig(workers=1, shard_size=100))
    assert local.removed == {"exact_duplicate": 1, "near_duplicate": 1}
    on_ray = prepare_pretraining(paths, tmp_path / "ray", PrepareConfig(workers=2, executor="ray",
                                                                      shard_size=100))
    assert on_ray.removed == local.removed
    # the same shards, byte for byte (the driver writes them whichever executor cleaned)
    assert read_manifest(tmp_path / "ray")["shards"] == read_manifest(tmp_path / "local")["shards"]
    assert len(set(read_shards(tmp_path / "ray"))) == local.documents_out == 478


def _kill_a_map_worker(killed: list[int]) -> None:
    deadline = time.monotonic() + 60
    while not killed and time.monotonic() < deadline:
        for proc in psutil.process_iter(["pid", "cmdline"]):
            if any("ray::map_file" in part for part in proc.info["cmdline"] or []):
                proc.kill()
                killed.append(proc.info["pid"])
                return
        time.sleep(0.01)


def _wait(predicate, proc, what: str) -> None:
    deadline = time.monotonic() + 120
    while not predicate() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, f"the run ended before {what}: make the input bigger"


def test_kill_9_of_a_worker_and_of_the_driver_then_resume(cluster, tmp_path):
    """A Ray worker is killed mid-map (Ray re-runs its file), then the driver while it writes
    shards. The resumed run redoes no finished shard and only the files whose results are gone,
    and the output holds each kept document once, as the local executor's does."""
    _inputs(tmp_path / "in", files=16, docs=120)
    fresh = tmp_path / "fresh.jsonl"
    prepare_pretraining([tmp_path / "in"], fresh, PrepareConfig(workers=1))  # the local executor
    work, out = tmp_path / "work", tmp_path / "out"
    address = ray.get_runtime_context().gcs_address
    args = [sys.executable, "-c", "import sys; from llm_practice.cli.main import main; main(sys.argv[1:])",
            "data", "prepare-pt", str(tmp_path / "in"), str(out), "--executor", "ray", "--address",
            address, "--work-dir", str(work), "--shard-size", "2"]
    killed: list[int] = []
    driver = subprocess.Popen(args, env={**os.environ}, stderr=subprocess.DEVNULL)
    killer = threading.Thread(target=_kill_a_map_worker, args=(killed,))
    killer.start()
    killer.join()
    assert killed, "no Ray worker was seen running map_file"
    _wait(lambda: out.is_dir() and len(list(out.glob("part-*"))) >= 5, driver, "5 shards were written")
    driver.kill()
    driver.wait()
    assert len(list(work.glob("map-*.pkl"))) == 16 and not (out / "manifest.json").exists()
    written = {p: p.stat().st_mtime_ns for p in out.glob("part-*")}
    # as if the driver had also been killed before these files were stored (a real kill -9
    # mid-map: test_data_documents.py::test_kill_9_mid_run_then_resume, same code path)
    for stored in sorted(work.glob("map-*.pkl"))[:5]:
        stored.unlink()

    resumed = prepare_pretraining([tmp_path / "in"], out,
                                  PrepareConfig(executor="ray", work_dir=work, shard_size=2))
    assert (resumed.files_mapped, resumed.files_reused) == (5, 11)
    untouched = sum(p.stat().st_mtime_ns == t for p, t in written.items())
    # the last shard renamed before the kill may miss its journal line: then it is redone
    assert resumed.shards_reused == untouched >= len(written) - 1 >= 4
    assert resumed.shards_written == resumed.shards - resumed.shards_reused
    kept = list(read_shards(out))
    assert kept == _kept(fresh) and len(set(kept)) == len(kept) == resumed.documents_out


def test_an_unreachable_cluster_address_is_a_clear_error(tmp_path):
    from click.testing import CliRunner

    from llm_practice.cli.main import cli

    paths = _inputs(tmp_path / "in")
    result = CliRunner().invoke(cli, ["data", "prepare-pt", str(paths[0]), str(tmp_path / "o.jsonl"),
                                      "--executor", "ray", "--address", "127.0.0.1:9"])
    assert result.exit_code == 2 and "cannot reach a Ray cluster at 127.0.0.1:9" in result.output
