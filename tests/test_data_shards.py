"""`prepare-pt` into a folder of shards: JSONL or Parquet shards hold the same documents as the
one-file output, the manifest describes the files as they are, a folder with other files is refused,
and a run started again rewrites only the shards its journal does not list."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from click.testing import CliRunner

from llm_practice.cli.main import cli
from llm_practice.data.prepare import PrepareConfig, prepare_pretraining
from llm_practice.data.shards import read_manifest, read_shards

WORDS = "harbour lantern kelp otter charter museum railway tower island moth bread barley".split()


def _inputs(folder: Path) -> list[Path]:
    folder.mkdir()
    rng = random.Random(3)
    texts = [[" ".join(rng.choice(WORDS) for _ in range(60)) + "." for _ in range(30)] for _ in range(3)]
    texts[2][4] = texts[0][1]  # an exact duplicate in another file
    paths = []
    for i, group in enumerate(texts):
        paths.append(folder / f"part{i}.jsonl")
        paths[-1].write_text("".join(json.dumps({"text": t}) + "\n" for t in group))
    return paths


def _lines(path: Path) -> list[str]:
    return [json.loads(x)["text"] for x in path.read_text().splitlines()]


def test_jsonl_and_parquet_shards_hold_the_one_file_corpus_and_the_manifest_says_so(tmp_path):
    paths = _inputs(tmp_path / "in")
    one = tmp_path / "one.jsonl"
    prepare_pretraining(paths, one, PrepareConfig(workers=1))
    kept = _lines(one)
    assert len(kept) == 89 and len(set(kept)) == 89
    for fmt in ("jsonl", "parquet"):
        out = tmp_path / fmt
        report = prepare_pretraining(paths, out, PrepareConfig(workers=1, format=fmt, shard_size=20))
        assert list(read_shards(out)) == kept
        manifest = read_manifest(out)
        assert [s["file"] for s in manifest["shards"]] == [f"part-{i:05d}.{fmt}" for i in range(5)]
        assert [s["documents"] for s in manifest["shards"]] == [20, 20, 20, 20, 9]
        for shard in manifest["shards"]:
            data = (out / shard["file"]).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (shard["bytes"], shard["sha256"])
        assert manifest["documents"] == report.documents_out == 89 and report.shards == 5
        assert manifest["settings"]["shard_size"] == 20 and manifest["settings"]["format"] == fmt
        assert manifest["report"]["removed"] == {"exact_duplicate": 1}
        assert sorted(p.name for p in out.iterdir()) == sorted(
            [s["file"] for s in manifest["shards"]] + ["manifest.json"])  # no temporary files left
        assert all(p.stat().st_mode & 0o044 for p in out.iterdir())  # readable by other jobs
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_second_run_rewrites_only_missing_or_changed_shards(tmp_path):
    paths = _inputs(tmp_path / "in")
    out, work = tmp_path / "out", tmp_path / "work"
    config = PrepareConfig(workers=1, shard_size=20, work_dir=work)
    first = prepare_pretraining(paths, out, config)
    assert (first.shards_written, first.shards_reused) == (5, 0)
    shards = read_manifest(out)["shards"]
    (out / "part-00001.jsonl").unlink()  # as if stopped before it was renamed into place
    (out / "part-00003.jsonl").write_text('{"text": "changed by hand"}\n')
    (out / "manifest.json").unlink()
    (out / ".part-00004.jsonl.x1y2.tmp").write_text('{"text": "half')  # a killed writer's leftover
    kept = {p: p.stat().st_mtime_ns for p in (out / "part-00000.jsonl", out / "part-00002.jsonl")}
    second = prepare_pretraining(paths, out, config)
    assert (second.files_reused, second.shards_written, second.shards_reused) == (3, 2, 3)
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    assert read_manifest(out)["shards"] == shards  # the same bytes as the first run's
    assert list(read_shards(out)) == _lines_of(paths, tmp_path)
    assert not list(out.glob(".*"))
    fewer = prepare_pretraining(paths[:1], out, config)  # a shorter output: stale shards go
    assert fewer.shards == 2 and sorted(p.name for p in out.glob("part-*")) == [
        "part-00000.jsonl", "part-00001.jsonl"]


def _lines_of(paths: list[Path], tmp_path: Path) -> list[str]:
    one = tmp_path / "reference.jsonl"
    prepare_pretraining(paths, one, PrepareConfig(workers=1))
    return _lines(one)


def test_output_folder_and_flag_mistakes_are_clear(tmp_path):
    paths = _inputs(tmp_path / "in")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")

    def run(*args):
        return CliRunner().invoke(cli, ["data", "prepare-pt", str(paths[0]), *args, "--workers", "1"])

    result = run(str(mine))
    assert result.exit_code == 2 and "holds files that are not shards" in result.output
    assert (mine / "notes.txt").read_text() == "keep me"
    result = run(str(tmp_path / "c.jsonl"), "--format", "parquet")
    assert result.exit_code == 2 and "--format: writes a folder of shards" in result.output
    result = run(str(tmp_path / "c.jsonl"), "--shard-size", "10")
    assert result.exit_code == 2 and "--shard-size: writes a folder of shards" in result.output
    result = run(str(tmp_path / "c.csv"))
    assert result.exit_code == 2 and "OUT: must end in .jsonl or .txt" in result.output
    result = run(str(tmp_path / "corpus"), "--shard-size", "0")
    assert result.exit_code == 2 and "shard" in result.output.lower()
    result = run(str(tmp_path / "corpus"), "--format", "parquet")
    assert result.exit_code == 0, result.output
    assert "in 2 parquet shard(s)" not in result.output and "in 1 parquet shard(s)" in result.output
