"""`prepare-pt --executor ray`: the map step as Ray tasks on a local 2-CPU Ray cluster started by
the test; the kept documents equal the local executor's, a killed worker's task is re-run, and a
stopped run resumes from its work folder."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest

from llm_practice.data.prepare import PrepareConfig, prepare_pretraining

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

WORDS = ("harbour lantern kelp otter charter museum railway tower island moth bread barley crown "
         "pearl physicist library garden bridge market river festival mountain tea").split()


def _doc(rng: random.Random, n: int = 80) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def _edit(text: str) -> str:
    return text[:40] + "zz" + text[42:]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A local Ray cluster with 2 worker CPUs; its files stay under the test's temporary folder."""
    import os

    temp = tmp_path_factory.mktemp("ray")
    saved = {k: os.environ.get(k) for k in ("HOME", "RAY_AUTH_MODE")}
    os.environ.update(HOME=str(temp), RAY_AUTH_MODE="disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=str(temp / "r"))
    yield
    ray.shutdown()
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
    local = prepare_pretraining(paths, tmp_path / "local.jsonl", PrepareConfig(workers=1))
    assert local.removed == {"exact_duplicate": 1, "near_duplicate": 1}
    on_ray = prepare_pretraining(paths, tmp_path / "ray.jsonl",
                                 PrepareConfig(workers=2, executor="ray"))
    assert on_ray.removed == local.removed
    assert _kept(tmp_path / "ray.jsonl") == _kept(tmp_path / "local.jsonl")


def test_a_killed_ray_worker_is_retried_and_a_stopped_run_resumes(cluster, tmp_path):
    paths = _inputs(tmp_path / "in", files=16, docs=150)
    fresh = tmp_path / "fresh.jsonl"
    prepare_pretraining(paths, fresh, PrepareConfig(workers=1))
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for proc in psutil.process_iter(["pid", "cmdline"]):
                if any("ray::map_file" in part for part in proc.info["cmdline"] or []):
                    proc.kill()
                    killed.append(proc.info["pid"])
                    return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    work, out = tmp_path / "work", tmp_path / "out.jsonl"
    report = prepare_pretraining(paths, out, PrepareConfig(workers=2, executor="ray", work_dir=work))
    killer.join()
    assert killed, "no Ray worker was seen running map_file"
    assert _kept(out) == _kept(fresh) and report.files_mapped == 16
    for stored in sorted(work.glob("map-*.pkl"))[:5]:  # as if stopped before these files
        stored.unlink()
    resumed = prepare_pretraining(paths, out, PrepareConfig(workers=2, executor="ray", work_dir=work))
    assert (resumed.files_mapped, resumed.files_reused) == (5, 11)
    assert _kept(out) == _kept(fresh)


def test_an_unreachable_cluster_address_is_a_clear_error(tmp_path):
    from click.testing import CliRunner

    from llm_practice.cli.main import cli

    paths = _inputs(tmp_path / "in")
    result = CliRunner().invoke(cli, ["data", "prepare-pt", str(paths[0]), str(tmp_path / "o.jsonl"),
                                      "--executor", "ray", "--address", "127.0.0.1:9"])
    assert result.exit_code == 2 and "cannot reach a Ray cluster at 127.0.0.1:9" in result.output
