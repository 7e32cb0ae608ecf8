"""Turn what the user typed after `llmp estimate` into a `ModelShape`.

MODEL may be a local folder with config.json, a .gguf file, a registered model name, a catalog
name, or a hub repo id (OWNER/NAME: only config.json and the safetensors headers are read, through
huggingface_hub's HTTP API, so a 15 GB model is sized from a few hundred kilobytes). `--params 7b`
needs no model at all: the shape is borrowed from the nearest model of that size.

Exact totals come from safetensors headers (local files or the hub) or the GGUF tensor table;
otherwise the count is computed from config.json (`params.count_parameters`).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ConfigError, HubError, HubUnreachableError, ModelFormatError, ModelNotFoundError
from .params import ModelShape, count_parameters


@dataclass(frozen=True)
class ModelSource:
    label: str  # what the user asked for
    kind: str  # "folder", "gguf", "registered", "catalog", "hub", "params"
    shape: ModelShape
    gguf_type: str | None = None
    gguf_bytes: int | None = None
    checkpoint_dtype: str | None = None


def read_config(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ModelFormatError(path, f"cannot read it ({e.strerror}).") from e
    except json.JSONDecodeError as e:
        raise ModelFormatError(path, f"line {e.lineno}: not valid JSON ({e.msg}).",
                               "Download config.json again, or fix the JSON.") from e
    if not isinstance(data, dict):
        raise ModelFormatError(path, "config.json must hold a JSON object.")
    return data


def _parse_config(raw: bytes, where: str) -> dict:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFormatError(where, f"config.json is not valid JSON ({e}).") from e
    if not isinstance(data, dict):
        raise ModelFormatError(where, "config.json must hold a JSON object.")
    return data


def _safetensors_header_total(path: Path) -> int:
    """Parameters in one .safetensors file, from its JSON header (the first 8 bytes + N)."""
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelFormatError(path, "truncated safetensors file (no header).")
        (size,) = struct.unpack("<Q", head)
        if size > 100_000_000:
            raise ModelFormatError(path, "the safetensors header length is implausible.")
        try:
            header = json.loads(f.read(size))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ModelFormatError(path, "the safetensors header is not valid JSON.") from e
    total = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        n = 1
        for d in info.get("shape", []):
            n *= int(d)
        total += n
    return total


def _dtype_name(config: dict) -> str | None:
    raw = config.get("torch_dtype") or config.get("dtype")
    return str(raw).replace("torch.", "") if raw else None


def from_folder(folder: Path, label: str | None = None, kind: str = "folder") -> ModelSource:
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelFormatError(folder, "no config.json in this folder.",
                               "Point at a Hugging Face model folder, a .gguf file, or use --params 7b.")
    config = read_config(config_path)
    shape = count_parameters(config)
    files = sorted(folder.glob("*.safetensors"))
    if files:
        total = sum(_safetensors_header_total(f) for f in files)
        shape = shape.with_total(total, "safetensors headers")
    elif shape.method == "llama formula":
        # An architecture the formulas do not know: let transformers build it on the meta device
        # (no memory for weights). Only this path imports torch.
        try:
            from .params import count_on_meta_device

            shape = shape.with_total(count_on_meta_device(str(folder)), "meta device (transformers)")
        except ImportError:
            pass  # no transformers: the llama-formula count stands, and its note says so
        except (ValueError, KeyError, OSError):
            pass  # transformers does not know it either
    return ModelSource(label or str(folder), kind, shape, checkpoint_dtype=_dtype_name(config))


# GGUF architecture names that differ from transformers' model_type.
_GGUF_ARCH = {"gemma3": "gemma3_text", "qwen2moe": "qwen2_moe", "qwen3moe": "qwen3_moe",
              "deepseek2": "deepseek_v2", "internlm2": "llama", "chatglm": "llama", "glm4": "glm4"}


def from_gguf(path: Path, label: str | None = None, kind: str = "gguf") -> ModelSource:
    from ..models.gguf import inspect_gguf

    summary = inspect_gguf(path)
    m, arch = summary.metadata, summary.architecture

    def key(name, default=None):
        return m.get(f"{arch}.{name}", default)

    hidden = key("embedding_length")
    heads = key("attention.head_count")
    if not hidden or not heads or not key("block_count"):
        raise ModelFormatError(path, f"the GGUF header lacks the shape of its '{arch}' model.",
                               "Estimate with --params instead, e.g. `llmp estimate --params 7b`.")
    kv = key("attention.head_count_kv", heads)
    config = {
        "model_type": _GGUF_ARCH.get(arch, arch),
        "hidden_size": hidden, "num_hidden_layers": key("block_count"),
        "num_attention_heads": heads,
        "num_key_value_heads": kv if isinstance(kv, int) else heads,
        "head_dim": key("attention.key_length", hidden // heads),
        "intermediate_size": key("feed_forward_length", 4 * hidden),
        "vocab_size": key("vocab_size") or m.get("tokenizer.ggml.tokens#count") or 32000,
        "max_position_embeddings": summary.context_length,
        "num_experts": key("expert_count", 0), "num_experts_per_tok": key("expert_used_count", 0),
        "moe_intermediate_size": key("expert_feed_forward_length"),
    }
    shape = count_parameters(config)
    shape = replace(shape.with_total(summary.parameters, "GGUF tensors"), architecture=arch)
    return ModelSource(label or str(path), kind, shape, gguf_type=summary.file_type,
                       gguf_bytes=summary.size_bytes)


def from_params(text: str) -> ModelSource:
    from .catalog import load_catalog
    from .params import parse_size

    total = parse_size(text)
    entries = [e for e in load_catalog() if e.config and not e.experts]
    nearest = min(entries, key=lambda e: abs(e.params - total))
    shape = count_parameters(nearest.config).with_total(total, "--params")
    note = f"shape (layers, heads, vocab) assumed like {nearest.name} ({nearest.params / 1e9:.2f}B)"
    return ModelSource(text, "params", replace(shape, architecture="unknown", notes=(note,)))


def from_hub(repo_id: str, endpoint: str, revision: str | None = None) -> ModelSource:
    """Read config.json and the safetensors headers (HTTP Range requests), never the weights."""
    try:
        from huggingface_hub import HfApi
        from huggingface_hub import errors as hf_errors

        from ..hub.hf_errors import hub_error
    except ImportError as e:
        raise HubError(repo_id, "huggingface_hub is not installed, so hub repos cannot be read.",
                       "Install it with: pip install 'llm-practice[hub]' (or pass a local folder).") from e
    from huggingface_hub import constants as hf_constants

    if hf_constants.HF_HUB_OFFLINE:
        raise HubError(repo_id, f"HF_HUB_OFFLINE is set, so {repo_id} cannot be read from {endpoint}.",
                       "Unset HF_HUB_OFFLINE, or estimate a local folder or --params 7b.")
    api = HfApi(endpoint=endpoint)
    try:
        # One plain GET (huggingface_hub's own session and error mapping): hf_hub_download
        # would retry a dead endpoint for half a minute, and cache a file we need once.
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        url = hf_hub_url(repo_id, "config.json", revision=revision, endpoint=endpoint)
        response = get_session().get(url, headers=build_hf_headers(), follow_redirects=True, timeout=30)
        hf_raise_for_status(response)
        config = _parse_config(response.content, url)
        shape = count_parameters(config)
        try:
            meta = api.get_safetensors_metadata(repo_id, revision=revision)
            shape = shape.with_total(sum(meta.parameter_count.values()), "safetensors headers (hub)")
        except hf_errors.NotASafetensorsRepoError:
            pass  # .bin-only repos: the config count stands
    except hf_errors.LocalEntryNotFoundError as e:  # the hub could not be reached
        error = HubUnreachableError(repo_id, [endpoint], str(e).splitlines()[0])
        error.hint = "Check the network, or use a mirror: --endpoint https://hf-mirror.com."
        raise error from e
    except (hf_errors.RepositoryNotFoundError, hf_errors.RevisionNotFoundError) as e:
        raise hub_error(e, repo_id, endpoint, revision) from e
    except hf_errors.EntryNotFoundError as e:
        raise HubError(repo_id, f"'{repo_id}' on {endpoint} has no config.json.",
                       "Estimate from a GGUF file or with --params instead.") from e
    except hf_errors.OfflineModeIsEnabled as e:
        raise HubError(repo_id, f"HF_HUB_OFFLINE is set, so {repo_id} cannot be read from {endpoint}.",
                       "Unset HF_HUB_OFFLINE, or estimate a local folder or --params 7b.") from e
    except hf_errors.HfHubHTTPError as e:
        raise hub_error(e, repo_id, endpoint, revision) or HubError(
            repo_id, f"{endpoint} answered with an error for {repo_id}: {e}",
            "Try again, or use a mirror with --endpoint https://hf-mirror.com.") from e
    except Exception as e:
        transport = isinstance(e, OSError) or type(e).__module__.startswith(
            ("httpx", "httpcore", "requests", "urllib3"))
        if not transport:
            raise
        error = HubUnreachableError(repo_id, [endpoint], str(e) or type(e).__name__)
        error.hint = "Check the network, or use a mirror: --endpoint https://hf-mirror.com."
        raise error from e
    return ModelSource(repo_id, "hub", shape, checkpoint_dtype=_dtype_name(config))


def resolve_model(model: str | None, params: str | None, endpoint: str) -> ModelSource:
    """Find out what MODEL is, in the order a user would expect."""
    if params:
        return from_params(params)
    if not model:
        raise ConfigError("MODEL", "no model given.",
                          "Pass a folder, a .gguf file, a model name or a hub id, or use --params 7b.")
    path = Path(model).expanduser()
    if path.is_dir():
        return from_folder(path)
    if path.is_file() and path.suffix.lower() == ".json":
        config = read_config(path)
        return ModelSource(str(path), "config", count_parameters(config),
                           checkpoint_dtype=_dtype_name(config))
    if path.is_file():
        return from_gguf(path)
    from ..models.registry import list_models

    registered = list_models()
    for info in registered:
        if model == info.name or model in info.aliases:
            if info.format == "gguf":
                return from_gguf(info.path, label=info.name, kind="registered")
            return from_folder(info.path, label=info.name, kind="registered")
    from .catalog import find_entry

    entry = find_entry(model)
    if entry is not None and entry.config:
        shape = count_parameters(entry.config).with_total(entry.params, "catalog")
        return ModelSource(entry.name, "catalog", shape)
    if "/" in model and not model.startswith((".", "/", "~")):
        return from_hub(model, endpoint)
    raise ModelNotFoundError(model, [m.name for m in registered])
