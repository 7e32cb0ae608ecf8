"""Where `prepare-pt`'s map step runs: local worker processes, or Ray tasks on a cluster.

The map step (clean, filter, mask, split, hash: see `mapstep.py`) is independent per
document and per input file; the reduce step (exact and MinHash near-duplicate removal across the
whole corpus, mixing, writing) stays in the driver, so the kept documents are the same whichever
executor ran the map, and duplicates are found across files and workers, not per shard.

- `local` (default): a `multiprocessing` pool on this machine; no cluster software needed.
- `ray`: one Ray task per input file, read by the worker that cleans it; `address` is a running
  cluster (`ray start --head` on one machine, `ray start --address HEAD:6379` on the others, or
  Ray on Slurm), `None` starts a local Ray instance with `workers` CPUs. Ray re-runs the task of
  a worker that dies (up to 3 times); past that the run stops with an error, and with
  `work_dir` a new run redoes only unfinished files. Files must be readable at the same path on
  every node. Output shards are written by the driver (`shards.py`), so their layout and content
  do not depend on the executor.

Why Ray rather than datatrove's executors: datatrove runs its own pipeline blocks and its own
four-stage MinHash deduplication with files between stages; adopting it means rewriting this
pipeline in its blocks. Ray tasks run the existing map function unchanged, keep the one global
deduplication in the driver, and reach Slurm clusters through Ray's own Slurm launch scripts.
"""

from __future__ import annotations

from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ConfigError, EngineMissingError, LlmpError
from .documents import read_documents
from .mapstep import batches, init_worker, map_batch

EXECUTORS = ("local", "ray")
Run = Callable[[list[Path]], Iterator[list[tuple]]]


@contextmanager
def local_executor(config, boilerplate, workers: int):
    """-> run(files): map batches of those files' documents in a process pool, in order."""
    from multiprocessing import get_context

    pool = get_context("spawn").Pool(workers, initializer=init_worker,
                                     initargs=(config, boilerplate)) if workers > 1 else None
    if pool is None:
        init_worker(config, boilerplate)

    def run(files: list[Path]):
        failure: list[Exception] = []
        items = batches(read_documents(files, config.doc_unit), failure)
        yield from (pool.imap(map_batch, items, chunksize=1) if pool else map(map_batch, items))
        if failure:
            raise failure[0]

    try:
        yield run
    finally:
        if pool:
            pool.terminate()


def map_file(path: str, config, boilerplate) -> list[list[tuple]]:
    """One input file's map results (runs inside a Ray worker)."""
    init_worker(config, boilerplate)
    failure: list[Exception] = []
    out = [map_batch(b) for b in batches(read_documents([Path(path)], config.doc_unit), failure)]
    if failure:
        raise failure[0]
    return out


@contextmanager
def ray_executor(config, boilerplate, workers: int, address: str | None):
    try:
        import ray
    except ImportError as e:
        raise EngineMissingError("ray", "pip install 'llm-practice[cluster]'",
                                 "needed for --executor ray") from e
    if address and address != "auto":
        _reachable(address)  # ray.init retries an unreachable address for minutes
    started = not ray.is_initialized()  # a caller's own Ray session is used as it is
    if started:
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        except ConnectionError as e:
            raise ConfigError("--address", f"no Ray cluster at {address}: {e}",
                              "Start one with `ray start --head`, or leave --address out to "
                              "start a local one.") from None
    task = ray.remote(max_retries=3)(map_file)
    shared = (ray.put(config), ray.put(boilerplate))
    window = max(2, 2 * workers)

    def run(files: list[Path]):
        pending: deque = deque()
        for path in files:
            pending.append((path, task.remote(str(Path(path).resolve()), *shared)))
            while len(pending) >= window:
                yield from _get(ray, *pending.popleft(), config.work_dir)
        while pending:
            yield from _get(ray, *pending.popleft(), config.work_dir)

    try:
        yield run
    finally:
        if started:
            ray.shutdown()


def _reachable(address: str, timeout: float = 5.0) -> None:
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return
    except (OSError, ValueError) as e:
        raise ConfigError("--address", f"cannot reach a Ray cluster at {address} ({e})",
                          "Give HOST:PORT of the head node (`ray start --head` prints it), or auto "
                          "on a node of the cluster, or leave --address out to start a local one.") from None


def _get(ray, path: Path, ref, work_dir) -> list[list[tuple]]:
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:  # the user's error (a bad record) inside the task
        raise e.as_instanceof_cause() from None
    except ray.exceptions.RayError as e:  # workers died more often than Ray retries, node lost...
        hint = (f"Start the same command again: files finished in {work_dir} are not redone."
                if work_dir else "Add --work-dir DIR so that a run started again redoes only "
                "the files it had not finished.")
        raise LlmpError(f"Ray could not clean {path}: {type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''}", hint) from None
