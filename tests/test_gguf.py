"""The GGUF header check that guards every import and engine load."""

from __future__ import annotations

import pytest

from llm_practice.errors import ModelFormatError
from llm_practice.models.bundled import bundled_gguf_path
from llm_practice.models.gguf import inspect_gguf


def test_bundled_gguf_reads_its_own_metadata():
    s = inspect_gguf(bundled_gguf_path())
    assert s.architecture == "llama"
    assert s.parameters == 134_515_008  # SmolLM2-135M's published parameter count
    assert s.file_type == "Q4_1"
    assert s.context_length == 8192
    assert "<|im_start|>" in s.chat_template


@pytest.mark.parametrize("keep", [10, 1000, 3_000_000, 98_000_000])
def test_truncated_anywhere_is_refused_with_the_path(tmp_path, keep):
    src = bundled_gguf_path().read_bytes()
    broken = tmp_path / "cut.gguf"
    broken.write_bytes(src[:keep])
    with pytest.raises(ModelFormatError) as info:
        inspect_gguf(broken)
    assert info.value.path == broken
    assert "truncated" in str(info.value)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelFormatError, match="not a GGUF"):
        inspect_gguf(empty)
    with pytest.raises(ModelFormatError, match="cannot read"):
        inspect_gguf(tmp_path / "nope.gguf")
