"""Every error class declares its exit code and HTTP status; the CLI and the server use them, and
each pair is one the README documents."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

import llm_practice.errors as errors_module
from llm_practice.errors import LlmpError

README = Path(__file__).resolve().parents[1] / "README.md"
README_ZH = README.with_name("README_zh.md")


def all_error_classes() -> list[type[LlmpError]]:
    import llm_practice  # noqa: F401  (and every module that may define one)
    import llm_practice.cli.main  # noqa: F401

    found, todo = [], [LlmpError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


def documented(readme: Path) -> dict[int, set[int]]:
    """exit code -> HTTP statuses, from the README's error table."""
    table = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| (\d+) \| ([\d, ]+) \|", line)
        if m:
            table[int(m.group(1))] = {int(s) for s in m.group(2).split(",")}
    return table


def instance(cls: type[LlmpError]) -> LlmpError:
    """An instance without knowing each constructor's arguments."""
    error = cls.__new__(cls)
    Exception.__init__(error, "boom")
    error.message, error.hint = f"{cls.__name__} happened", "do the thing"
    return error


CLASSES = all_error_classes()


def test_every_error_class_is_found_and_declares_sane_codes():
    names = {c.__name__ for c in CLASSES}
    defined = {n for n, v in vars(errors_module).items() if isinstance(v, type) and issubclass(v, LlmpError)}
    assert defined <= names
    assert {"QueueFullError", "ModelNotServedError", "ConfigError", "EndpointError"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_class_maps_to_a_documented_exit_code_and_status(cls):
    for readme in (README, README_ZH):
        table = documented(readme)
        assert cls.exit_code in table, f"{cls.__name__}: exit code {cls.exit_code} not in {readme.name}"
        assert cls.http_status in table[cls.exit_code], \
            f"{cls.__name__}: HTTP {cls.http_status} not documented with exit code {cls.exit_code}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_cli_exits_with_the_class_code(cls, capsys):
    from llm_practice.cli.errors import handle_errors

    with pytest.raises(click.exceptions.Exit) as exit_info:
        with handle_errors():
            raise instance(cls)
    assert exit_info.value.exit_code == cls.exit_code
    assert f"{cls.__name__} happened" in capsys.readouterr().err


def test_the_server_answers_with_the_class_status_in_openai_shape():
    from llm_practice.serve.app import create_app
    from llm_practice.serve.config import ServeConfig

    app = create_app(ServeConfig(ui=False), served={})
    router = APIRouter()

    @router.get("/raise/{name}")
    async def raise_named(name: str):
        raise instance(next(c for c in CLASSES if c.__name__ == name))

    app.include_router(router)
    client = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    for cls in CLASSES:
        r = client.get(f"/raise/{cls.__name__}")
        assert r.status_code == cls.http_status, cls.__name__
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["message"].startswith(f"{cls.__name__} happened") and error["code"] == cls.code
    assert client.get("/raise/QueueFullError").json()["error"]["type"] == "rate_limit_error"
    assert client.get("/raise/ModelNotFoundError").json()["error"]["type"] == "not_found_error"


def test_specific_mappings_the_issue_names():
    from llm_practice.errors import ConfigError, ModelNotFoundError, QueueFullError

    assert QueueFullError.http_status == 429 and QueueFullError(3).code == "queue_full"
    assert ModelNotFoundError.http_status == 404
    assert ConfigError("x", "bad").http_status == 400 and ConfigError("x", "bad").param == "x"
