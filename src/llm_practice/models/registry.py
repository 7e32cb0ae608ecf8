"""The local model registry: every model `llmp chat` and `llmp serve` can run.

Models come from providers: functions `register_models(register)` published under the entry-point
group `llm_practice.models`. Our own built-ins (the bundled SmolLM2 and the models under
`LLMP_HOME/models/`) are registered through that same group, so a plugin package adds models
exactly the way we do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable, Literal

from ..atomic import atomic_write_json
from ..errors import ConfigError, ModelExistsError, ModelFormatError, ModelNotFoundError
from ..settings import get_settings

MANIFEST = "llmp-model.json"
FILES_RECORD = "llmp-files.json"  # written by `llmp download`: what the hub published
REGISTRY_DIR = "registry"  # LLMP_HOME/registry/<name>/: our metadata, apart from any downloaded file
ENTRY_POINT_GROUP = "llm_practice.models"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")

ModelFormat = Literal["gguf", "hf", "remote", "e5"]
ModelKind = Literal["chat", "base", "embedding"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path  # a .gguf file, or a Hugging Face model folder
    format: ModelFormat  # "remote": a model behind an OpenAI-compatible server at `url`
    source: str  # "bundled", "import", "hf:REPO", ...
    description: str = ""
    aliases: tuple[str, ...] = field(default=())
    kind: ModelKind = "chat"  # chat (instruct), base (continues text), embedding (vectors)
    url: str | None = None  # base URL of an OpenAI-compatible API, for format "remote"
    adapter: Path | None = None  # a PEFT LoRA folder applied on top of `path` (the base model)

    def to_json(self) -> dict:
        data = asdict(self)
        data["path"] = str(self.path)
        data["aliases"] = list(self.aliases)
        data["adapter"] = str(self.adapter) if self.adapter else None
        return data


Register = Callable[[ModelInfo], None]


def _providers() -> list[Callable[[Register], None]]:
    return [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]


def list_models(kinds: tuple[str, ...] = ("chat", "base")) -> list[ModelInfo]:
    """Registered models of these kinds (embedders only when asked for), sorted by name; the first
    registration of a name wins."""
    found: dict[str, ModelInfo] = {}

    def register(info: ModelInfo) -> None:
        found.setdefault(info.name, info)

    for provider in _providers():
        provider(register)
    return sorted((m for m in found.values() if m.kind in kinds), key=lambda m: m.name)


def get_model(name: str) -> ModelInfo:
    models = list_models()
    for info in models:
        if name == info.name or name in info.aliases:
            return info
    found = model_from_folder(name)
    if found is not None:
        return found
    raise ModelNotFoundError(name, [m.name for m in models])


def model_from_folder(name: str) -> ModelInfo | None:
    """A training run (`runs/NAME` or its folder) or a PEFT LoRA folder, as a model.

    A LoRA run or adapter folder becomes its base model's HF folder plus the adapter, which the
    transformers engine applies; a full fine-tuning run is the complete model in `final/`.
    """
    path = Path(name).expanduser()
    if name.startswith("runs/") and not path.exists():
        path = get_settings().runs_dir / name[len("runs/"):]
    if (path / "run.json").is_file():
        try:
            run = json.loads((path / "run.json").read_text(encoding="utf-8"))
        except ValueError:
            raise ModelFormatError(path / "run.json", "is not valid JSON.", "The run folder is damaged.") from None
        final = path / "final"
        if run.get("status") != "finished" or not final.is_dir():
            raise ModelFormatError(path, f"the run has status {run.get('status')!r} and no final model yet.",
                                   f"Finish it first: `llmp train {path / 'recipe.yaml'} --output {path} --resume`.")
        if run.get("stage") == "rm":
            raise ModelFormatError(path, "is a reward model: it scores answers and cannot chat.",
                                   f"Use it as `reward_model: runs/{path.name}` in a grpo, rloo or ppo recipe.")
        description = f"{run.get('stage')} run ({run.get('finetuning')}) of {run.get('base_model')}"
        if run.get("kind") == "adapter":
            return ModelInfo(name, Path(run["base_path"]), "hf", "run", description, adapter=final)
        return ModelInfo(name, final, "hf", "run", description)
    if (path / "adapter_config.json").is_file():
        try:
            base = json.loads((path / "adapter_config.json").read_text(encoding="utf-8")).get("base_model_name_or_path")
        except ValueError:
            base = None
        if not base or not (Path(base) / "config.json").is_file():
            raise ModelFormatError(path, f"a LoRA adapter whose base model {base!r} is not a folder here.",
                                   "Set base_model_name_or_path in adapter_config.json to the base model's folder.")
        return ModelInfo(name, Path(base), "hf", "adapter", f"LoRA adapter on {base}", adapter=path.resolve())
    return None


def model_dir(name: str) -> Path:
    """Where a model's registration (manifest, download record) lives: `org/repo` becomes `org~repo`.

    One folder per name and one name per folder: '~' cannot occur in a name, so `ok/good` and
    `ok--good` never share a folder. Downloaded files never land here (see `download_dir`), so a
    hub file named like our manifest cannot overwrite it.
    """
    return registry_root() / name.replace("/", "~")


def registry_root() -> Path:
    """`LLMP_HOME/registry/`; the first call after an upgrade moves older registrations into it."""
    root = get_settings().home / REGISTRY_DIR
    if not root.is_dir():
        _migrate_legacy(root)
    return root


def _migrate_legacy(root: Path) -> None:
    """Once, while `registry/` does not exist yet: move the manifests earlier versions kept inside
    `models/<folder>/` into it. Never again afterwards: a file a hub puts in a download folder
    later is only a file."""
    legacy = sorted(get_settings().models_dir.glob(f"*/{MANIFEST}"))
    root.mkdir(parents=True, exist_ok=True)
    for manifest in legacy:
        try:
            name = json.loads(manifest.read_text(encoding="utf-8"))["name"]
            if not isinstance(name, str) or not _NAME_RE.match(name):
                continue
            target = root / name.replace("/", "~")
            target.mkdir(exist_ok=True)
            for old in (manifest, manifest.with_name(FILES_RECORD)):
                if old.is_file() and not (target / old.name).exists():
                    shutil.copy2(old, target / old.name)
                    old.unlink()
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged or concurrently moved manifest: leave it where it is


def download_dir(repo_id: str) -> Path:
    """Where `llmp download` puts a repository's files: `LLMP_HOME/models/<org--repo>/`."""
    return get_settings().models_dir / repo_id.replace("/", "--")


def detect_format(path: Path) -> ModelFormat:
    """Tell a GGUF file from a Hugging Face folder, checking that it is complete enough to load."""
    from .gguf import inspect_gguf

    if path.is_file():
        inspect_gguf(path)
        return "gguf"
    if path.is_dir():
        if not (path / "config.json").is_file():
            ggufs = sorted(path.glob("*.gguf"))
            hint = (
                f"This folder holds {ggufs[0].name}: import that file instead."
                if ggufs
                else "Point at a .gguf file or a folder with config.json and the weights."
            )
            raise ModelFormatError(path, "not a Hugging Face model folder (no config.json).", hint)
        weights = [*path.glob("*.safetensors"), *path.glob("*.bin")]
        if not weights:
            raise ModelFormatError(
                path,
                "the folder has config.json but no weights (*.safetensors or *.bin).",
                "Finish the download (`llmp download` resumes) or import the complete folder.",
            )
        return "hf"
    raise ModelFormatError(path, "no such file or folder.", "Check the path and try again.")


def remote_model(base_url: str, name: str) -> ModelInfo:
    """A model served by an OpenAI-compatible API (llmp serve, vLLM, Ollama, a cloud API)."""
    return ModelInfo(name=name, path=Path("."), format="remote", source=f"openai:{base_url}", url=base_url)


def import_model(path: str | Path, name: str | None = None, description: str = "") -> ModelInfo:
    """Register a local GGUF file or HF folder under `name` (default: derived from the path).

    The files stay where they are; only a manifest is written under `LLMP_HOME/registry/`.
    """
    path = Path(os.path.abspath(Path(path).expanduser()))  # keep symlinks: name from the link
    fmt = detect_format(path)
    if name is None:
        name = (path.stem if fmt == "gguf" else path.name).lower()
    if not _NAME_RE.match(name):
        raise ConfigError(
            "--name",
            f"'{name}' is not a valid model name.",
            "Use letters, digits, '.', '_' and '-' (optionally one '/' as in org/model).",
        )
    if any(m.name == name or name in m.aliases for m in list_models()):
        raise ModelExistsError(name)
    info = ModelInfo(name=name, path=path, format=fmt, source="import", description=description)
    write_manifest(info)
    return info


def write_manifest(info: ModelInfo) -> Path:
    """Write the manifest atomically so a crash never leaves a half-written registration."""
    data = info.to_json() | {"registered_at": datetime.now(timezone.utc).isoformat()}
    return atomic_write_json(model_dir(info.name) / MANIFEST, data, indent=2)


def remove_model(name: str) -> ModelInfo:
    """Unregister a model; delete its files only when a download of it put them in `LLMP_HOME/models/`.

    What counts as a download is our own record (`llmp-files.json`, written only by `llmp download`
    next to the manifest), never anything inside the files' folder.
    """
    info = get_model(name)
    folder = model_dir(info.name)
    if not (folder / MANIFEST).is_file():
        raise ConfigError(
            "MODEL", f"'{info.name}' is {info.source}, not a local registration; it cannot be removed."
        )
    owned = _downloaded_root(folder)
    shutil.rmtree(folder)
    if owned is not None:
        shutil.rmtree(owned, ignore_errors=True)
    return info


def _downloaded_root(folder: Path) -> Path | None:
    """The download folder under `LLMP_HOME/models/` this registration owns, if any."""
    try:
        root = Path(json.loads((folder / FILES_RECORD).read_text(encoding="utf-8"))["root"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    models = get_settings().models_dir.resolve()
    return root if root.parent.resolve() == models and not root.is_symlink() else None


def register_local_models(register: Register) -> None:
    """Provider for models imported or downloaded into `LLMP_HOME/models/`."""
    root = registry_root()
    for manifest in sorted(root.glob(f"*/{MANIFEST}")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            register(
                ModelInfo(
                    name=data["name"],
                    path=Path(data["path"]),
                    format=data["format"],
                    source=data.get("source", "import"),
                    description=data.get("description", ""),
                    aliases=tuple(data.get("aliases", ())),
                    kind=data.get("kind", "chat"),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue  # a damaged manifest hides one model, never the whole list
