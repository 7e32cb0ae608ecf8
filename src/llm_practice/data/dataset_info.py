"""Read a dataset through LLaMA-Factory's registry, `dataset_info.json`.

A user coming from LLaMA-Factory keeps a `dataset_info.json` next to the data. Each entry names a
file (`file_name`, relative to the JSON file's folder), its `formatting` (`alpaca`, the default,
`sharegpt` or `openai`), `ranking` (preference data), `columns` (which key of a record holds the
prompt, query, response, history, messages, system, tools, chosen, rejected and kto_tag) and, for
the message formats, `tags` (the keys holding a message's role and content, and the role values).

`load_dataset_info(path, name)` turns one entry into a `DatasetSource`: the file to read and a
`DatasetFormat` that renames each record's keys to the standard spelling and reads it with
llmp's own reader for that layout, so validation, conversion and training see the same canonical
records. Keys a record carries that the entry does not map are reported like any unread field.
Entries that point at a hub or at images, video or audio are refused: llmp reads local text data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from . import alpaca, openai, sharegpt
from .formats import DatasetFormat
from .records import FieldProblem

FLAG = "--dataset-info"
REMOTE = ("hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name")
MEDIA = ("images", "videos", "audios")
ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output",
                  "history": None, "system": None, "tools": None,
                  "chosen": None, "rejected": None, "kto_tag": None}
MESSAGE_COLUMNS = {"messages": "conversations", "system": None, "tools": None,
                   "chosen": None, "rejected": None, "kto_tag": None}
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                 "assistant_tag": "gpt", "observation_tag": "observation",
                 "function_tag": "function_call", "system_tag": "system"}
STANDARD = {"alpaca": {"prompt": "instruction", "query": "input", "response": "output"}}


@dataclass(frozen=True)
class DatasetSource:
    name: str
    path: Path
    format: DatasetFormat


def load_dataset_info(info_path: str | Path, name: str) -> DatasetSource:
    """One entry of a LLaMA-Factory `dataset_info.json` -> the file and how to read it."""
    info_path = Path(info_path)
    try:
        registry = json.loads(info_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(FLAG, f"{info_path}: no such file", "Point it at your dataset_info.json.") from None
    except json.JSONDecodeError as e:
        raise ConfigError(FLAG, f"{info_path}: bad JSON at line {e.lineno} ({e.msg})") from None
    if not isinstance(registry, dict) or name not in registry:
        names = ", ".join(list(registry)[:20]) if isinstance(registry, dict) else "none"
        raise ConfigError(FLAG, f"{info_path}: no dataset named '{name}'", f"Names there: {names}.")
    entry = registry[name]
    where = f"{info_path}: {name}"
    if not isinstance(entry, dict):
        raise ConfigError(FLAG, f"{where}: must be an object")
    remote = [k for k in REMOTE if entry.get(k)]
    if remote:
        raise ConfigError(FLAG, f"{where}: reads from {remote[0]} = {entry[remote[0]]!r}, and llmp "
                          "reads local files only", "Download the data, then add a file_name entry.")
    if not entry.get("file_name"):
        raise ConfigError(FLAG, f"{where}: has no file_name")
    path = info_path.parent / entry["file_name"]
    if path.is_dir():
        raise ConfigError(FLAG, f"{where}: file_name {entry['file_name']!r} is a folder",
                          "llmp reads one file per entry: point file_name at the file.")
    formatting = entry.get("formatting", "alpaca")
    if formatting not in ("alpaca", "sharegpt", "openai"):
        raise ConfigError(FLAG, f"{where}: unknown formatting {formatting!r}",
                          "LLaMA-Factory's formattings are alpaca, sharegpt and openai.")
    columns = entry.get("columns") or {}
    tags = entry.get("tags") or {}
    defaults = ALPACA_COLUMNS if formatting == "alpaca" else MESSAGE_COLUMNS
    unknown = sorted(set(columns) - set(defaults)) + sorted(set(tags) - set(SHAREGPT_TAGS))
    media = [c for c in unknown if c in MEDIA]
    if media:
        raise ConfigError(FLAG, f"{where}: maps {media[0]} columns; images, video and audio are not "
                          "supported", "llmp trains text models: drop the column mapping.")
    if unknown:
        raise ConfigError(FLAG, f"{where}: unknown columns/tags {', '.join(unknown)}",
                          f"Columns for {formatting}: {', '.join(defaults)}; tags: "
                          f"{', '.join(SHAREGPT_TAGS)}.")
    cols = {**defaults, **columns}
    ranking = bool(entry.get("ranking"))
    if formatting == "alpaca":
        fmt = _alpaca_format(name, cols, ranking, pretraining=set(columns) == {"prompt"})
    else:
        fmt = _message_format(name, formatting, cols, {**SHAREGPT_TAGS, **tags}, ranking)
    return DatasetSource(name, path, fmt)


def _need_pair(obj: dict, cols: dict, ranking: bool) -> None:
    if ranking and not (cols["chosen"] in obj and cols["rejected"] in obj):
        raise FieldProblem(cols["chosen"] or "chosen", "is missing: the entry says ranking: true",
                           "Map the chosen and rejected columns in dataset_info.json.")


def _alpaca_format(name: str, cols: dict, ranking: bool, pretraining: bool) -> DatasetFormat:
    renames = {col: STANDARD["alpaca"].get(role, role) for role, col in cols.items() if col}

    def read(obj):
        if pretraining and isinstance(obj, str):  # a .txt file: one document per line
            return _text(obj, cols["prompt"])
        if not isinstance(obj, dict):
            raise FieldProblem("(record)", "must be an object", "alpaca records are objects.")
        _need_pair(obj, cols, ranking)
        mapped = {renames[k]: v for k, v in obj.items() if k in renames}
        if pretraining and set(mapped) == {"instruction"}:
            return _text(mapped["instruction"], cols["prompt"])
        try:
            return alpaca.to_canonical(mapped)
        except FieldProblem as e:
            raise _renamed(e, {v: k for k, v in renames.items()}) from None

    return DatasetFormat(f"dataset_info:{name}", f"alpaca columns {_show(cols)}",
                         lambda obj: True, read, alpaca.from_canonical, frozenset(renames))


def _text(value, column: str):
    """LLaMA-Factory's pre-training entries map only the prompt column: each value is a document."""
    from .text import text_to_canonical

    try:
        return text_to_canonical({"text": value})
    except FieldProblem as e:
        raise FieldProblem(column, e.problem, e.hint) from None


def _message_format(name: str, formatting: str, cols: dict, tags: dict, ranking: bool
                    ) -> DatasetFormat:
    std_role = {tags["user_tag"]: "user", tags["assistant_tag"]: "assistant",
                tags["observation_tag"]: "tool", tags["function_tag"]: "function_call",
                tags["system_tag"]: "system"}
    renames = {col: role for role, col in cols.items() if col}
    role_key, content_key = tags["role_tag"], tags["content_tag"]

    def message(msg):
        if not isinstance(msg, dict):
            return msg
        out = {k: v for k, v in msg.items() if k not in (role_key, content_key)}
        out["role"] = std_role.get(msg.get(role_key), msg.get(role_key))
        out["content"] = msg.get(content_key)
        return out

    def read(obj):
        if not isinstance(obj, dict):
            raise FieldProblem("(record)", "must be an object", f"{formatting} records are objects.")
        _need_pair(obj, cols, ranking)
        mapped = {renames[k]: v for k, v in obj.items() if k in renames}
        messages = mapped.pop("messages", None)
        if not isinstance(messages, list):
            raise FieldProblem(cols["messages"], "is missing or not a list of messages",
                               f"The entry maps messages to the '{cols['messages']}' column.")
        messages = [message(m) for m in messages]
        if mapped.get("system") and not (messages and messages[0].get("role") == "system"):
            messages.insert(0, {"role": "system", "content": mapped.pop("system")})
        mapped.pop("system", None)
        for side in ("chosen", "rejected"):
            if side in mapped:
                mapped[side] = message(mapped[side])
        try:
            return openai.to_canonical({"messages": messages, **mapped})
        except FieldProblem as e:
            raise _renamed(e, {"messages": cols["messages"], "label": cols["kto_tag"] or "label"}) from None

    writer = sharegpt.from_canonical if formatting == "sharegpt" else openai.from_canonical
    return DatasetFormat(f"dataset_info:{name}", f"{formatting} columns {_show(cols)}, tags "
                         f"{_show(tags)}", lambda obj: True, read, writer, frozenset(renames))


def _renamed(e: FieldProblem, back: dict) -> FieldProblem:
    """Report a problem under the user's column name, not the standard one."""
    head, sep, rest = e.field.partition("[")
    head, dot, tail = head.partition(".")
    return FieldProblem(back.get(head, head) + dot + tail + sep + rest, e.problem, e.hint)


def _show(mapping: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items() if v)
