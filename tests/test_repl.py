"""The interactive chat in a real pseudo-terminal: commands, Ctrl-C, /save."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.integration

LLMP = str(Path(sys.executable).parent / "llmp")


def spawn(*args, lang="en"):
    env = {**os.environ, "LLMP_LANG": lang, "TERM": "dumb"}
    child = pexpect.spawn(LLMP, ["chat", *args], env=env, encoding="utf-8", timeout=120)
    child.expect(">>> ")
    return child


def test_repl_commands_ctrl_c_and_save(tmp_path):
    child = spawn("--temperature", "0", "--max-tokens", "2000")
    child.sendline("/help")
    child.expect("/save FILE")
    child.expect(">>> ")

    child.sendline("Write a very long story about a dragon and a knight.")
    child.expect("knight.\r\n")  # the terminal's echo of the question
    child.expect(r"\w+ \w+ \w+ \w+")  # the answer is streaming
    child.sendintr()  # Ctrl-C stops the answer, not the session
    child.expect(r"\[stopped\]")
    child.expect(">>> ")

    child.sendline("Tell me the name of the capital of France.")
    child.expect("Paris")
    child.expect(">>> ")

    saved = tmp_path / "conv.json"
    child.sendline(f"/save {saved}")
    child.expect("Saved 4 messages")
    child.expect(">>> ")

    child.sendline("/system Answer in one word.")
    child.expect("System prompt set")
    child.expect(">>> ")
    child.sendline("/bogus")
    child.expect("Unknown command /bogus")
    child.expect(">>> ")
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    data = json.loads(saved.read_text())
    roles = [m["role"] for m in data["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert data["messages"][1]["content"]  # the interrupted answer is kept, partial
    assert "Paris" in data["messages"][3]["content"]


def test_repl_speaks_chinese_and_exits_on_ctrl_d():
    child = spawn(lang="zh")
    child.sendline("/help")
    child.expect("清空对话")
    child.expect(">>> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
