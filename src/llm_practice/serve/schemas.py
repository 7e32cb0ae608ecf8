"""OpenAI request bodies the server accepts (the fields clients actually send), validated strictly.

Unknown top-level fields are ignored like OpenAI does, so newer clients keep working; wrong types
and out-of-range values are 400s that name the field. Every string must be valid Unicode (a lone
surrogate such as "\ud800", which JSON allows, cannot be encoded for the model), and `stop` is
capped like OpenAI's (at most 4 strings) so a stop check costs little per token.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_STOPS = 4
MAX_STOP_CHARS = 256


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"not valid Unicode text (a lone surrogate at position {e.start})") from None
    return text


Text = Annotated[str, AfterValidator(_encodable)]


def _stops(value):
    stops = [value] if isinstance(value, str) else value or []
    if len(stops) > MAX_STOPS:
        raise ValueError(f"at most {MAX_STOPS} stop strings, got {len(stops)}")
    if any(len(s) > MAX_STOP_CHARS for s in stops):
        raise ValueError(f"a stop string may have at most {MAX_STOP_CHARS} characters")
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ContentPart(_Body):
    type: Literal["text"]
    text: Text


class ChatMessage(_Body):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Union[Text, list[ContentPart], None] = None
    name: Text | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class ResponseFormat(_Body):
    type: Literal["text", "json_object", "json_schema"] = "text"


class StreamOptions(_Body):
    include_usage: bool = True


class _Sampling(_Body):
    model: Text | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float = Field(1.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    seed: int | None = Field(None, ge=0, le=2**32 - 2)
    stop: Annotated[Union[Text, list[Text], None], AfterValidator(_stops)] = None
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    # llama.cpp server's name; absent means the engine's default loop guard
    repeat_penalty: float | None = Field(None, ge=1.0, le=2.0)
    n: int = Field(1, ge=1, le=1)
    user: Text | None = None

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else [s for s in self.stop if s]


class ChatCompletionRequest(_Sampling):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    response_format: ResponseFormat | None = None


class CompletionRequest(_Sampling):
    prompt: Union[Text, list[Text]]
    echo: bool = False


class EmbeddingRequest(_Body):
    model: Text | None = None
    input: Union[Text, list[Text]]
    encoding_format: Literal["float", "base64"] = "float"
    input_type: Literal["query", "passage"] = "passage"  # e5 embeds queries and passages differently

    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)
