"""An Ollama Modelfile for an exported GGUF: the model's chat template as Go template, stop tokens.

Ollama's TEMPLATE is Go's text/template, not Jinja, so a Jinja chat template cannot be copied
across. We recognise the template family from the tokens it writes (ChatML, Llama 3, Gemma),
write that family's Go template, and carry over the default system prompt the Jinja template
inserts when a conversation has none (SmolLM2 and Qwen do) as `SYSTEM`. A test renders the Go
template with Go itself and checks it equals the Jinja rendering for a two-turn conversation.
An unknown family gets no TEMPLATE: Ollama then reads the template from the GGUF's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    marker: str  # a token only this family's Jinja template writes
    template: str  # Go text/template over .System and .Messages (Ollama's variables)
    stops: tuple[str, ...]
    system_open: str  # how the family opens / closes a system turn (to find a default system prompt)
    system_close: str


FAMILIES = (
    Family(
        "chatml", "<|im_start|>",
        "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
        "{{- range .Messages }}{{- if ne .Role \"system\" }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n"
        "{{ end }}{{- end }}<|im_start|>assistant\n",
        ("<|im_end|>", "<|im_start|>"), "<|im_start|>system\n", "<|im_end|>"),
    Family(
        "llama3", "<|start_header_id|>",
        "<|begin_of_text|>{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
        "{{ end }}{{- range .Messages }}{{- if ne .Role \"system\" }}<|start_header_id|>{{ .Role }}"
        "<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}{{- end }}"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        ("<|eot_id|>", "<|start_header_id|>"), "<|start_header_id|>system<|end_header_id|>\n\n", "<|eot_id|>"),
    Family(
        "gemma", "<start_of_turn>",
        "<bos>{{- range $i, $m := .Messages }}{{- if ne $m.Role \"system\" }}<start_of_turn>"
        "{{ if eq $m.Role \"assistant\" }}model{{ else }}{{ $m.Role }}{{ end }}\n"
        "{{ if and $.System (eq $i 0) }}{{ $.System }}\n\n{{ end }}{{ $m.Content }}<end_of_turn>\n{{ end }}{{- end }}"
        "<start_of_turn>model\n",
        ("<end_of_turn>", "<start_of_turn>"), "", ""),
)


def detect_family(chat_template: str | None) -> Family | None:
    if not chat_template:
        return None
    return next((f for f in FAMILIES if f.marker in chat_template), None)


def default_system(tokenizer, family: Family) -> str | None:
    """The system prompt the Jinja template adds by itself when a conversation has none."""
    if not family.system_open:
        return None
    text = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False)
    start = text.find(family.system_open)
    if start < 0:
        return None
    start += len(family.system_open)
    end = text.find(family.system_close, start)
    return text[start:end] if end > start else None


def _quote(text: str) -> str:
    return '"""' + text.replace('"""', '\\"\\"\\"') + '"""'


def modelfile(gguf_name: str, tokenizer) -> tuple[str, Family | None]:
    """The Modelfile text (FROM a GGUF next to it) and the family it recognised."""
    family = detect_family(getattr(tokenizer, "chat_template", None))
    lines = [f"# Written by llmp export. Create the model with: ollama create NAME -f Modelfile",
             f"FROM ./{gguf_name}"]
    stops: list[str] = []
    if family is None:
        lines.append("# Chat template family not recognised: Ollama reads it from the GGUF metadata.")
    else:
        lines.append(f"TEMPLATE {_quote(family.template)}")
        system = default_system(tokenizer, family)
        if system:
            lines.append(f"SYSTEM {_quote(system)}")
        stops += family.stops
    eos = getattr(tokenizer, "eos_token", None)
    if eos and eos not in stops:
        stops.append(eos)
    lines += [f'PARAMETER stop "{s}"' for s in stops]
    return "\n".join(lines) + "\n", family
