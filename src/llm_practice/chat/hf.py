"""The transformers engine: Hugging Face model folders, and GGUF files through a one-time dequantise.

GGUF-loaded transformers models cannot be trained, and loading through `gguf_file=` dequantises
on every start, so the first load saves the dequantised model as safetensors under
`LLMP_HOME/cache/dequantized/`; later loads (and the training stages) read that folder.
The chat template and end-of-turn tokens come from the tokenizer and generation config.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

from ..atomic import atomic_path
from ..errors import BaseModelError, EngineUnsupportedError, ModelFormatError
from ..models.registry import ModelInfo
from ..settings import get_settings
from .engine import PENALTY_LAST_N, ChatEngine, ChatStream, GenerationParams, Message


@contextlib.contextmanager
def quiet_transformers():
    """Silence transformers' load-time logging and progress bars in the terminal UI."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from transformers.utils import logging as hf_logging

            before = hf_logging.get_verbosity()
            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
        except ImportError:
            yield
            return
        try:
            yield
        finally:
            hf_logging.set_verbosity(before)


def _gguf_cache_key(path: Path) -> str:
    stat = path.stat()
    with path.open("rb") as f:
        head = f.read(1 << 20)
    digest = hashlib.sha256(head + f"{stat.st_size}".encode()).hexdigest()[:16]
    return f"{path.stem}-{digest}"


def dequantized_folder(gguf_path: Path) -> Path:
    """Return an HF folder with the GGUF's weights in safetensors, creating it once."""
    target = get_settings().cache_dir / "dequantized" / _gguf_cache_key(gguf_path)
    if (target / "config.json").is_file():
        return target
    from ..models.gguf import inspect_gguf

    inspect_gguf(gguf_path)  # clear error for truncated files before transformers reads them
    try:  # atomic: a crash never leaves a half-written cache entry
        with atomic_path(target, folder=True) as tmp, quiet_transformers():
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            kwargs = {"gguf_file": gguf_path.name}
            tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(
                gguf_path.parent, dtype=torch.float32, **kwargs
            )
            # The weights are already plain fp32 tensors; the GGUF "quantizer" only marks how they
            # were read, and save_pretrained refuses to write while it is attached.
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
    except (ValueError, OSError, KeyError) as e:
        raise ModelFormatError(gguf_path, f"transformers could not dequantise it ({e}).",
                               "Use the default llama.cpp engine for this GGUF.") from e
    return target


def _with_adapter(lm, adapter: Path):
    """Apply a PEFT LoRA adapter and merge it, so generation runs at the base model's speed."""
    try:
        from peft import PeftModel
    except ImportError as e:
        from ..errors import EngineMissingError

        raise EngineMissingError("transformers", "pip install peft", "LoRA adapters need peft") from e
    return PeftModel.from_pretrained(lm, adapter).merge_and_unload()


class _Cancel:
    """A stopping criterion that a ChatStream's close() trips."""

    def __init__(self):
        self.event = threading.Event()

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool)


class _Penalties:
    """llama.cpp's penalties sampler as a transformers logits processor, so both engines apply
    the same rule: over the last 64 generated tokens, a seen token's logit is divided by
    `repeat` (multiplied when negative), then lowered by count * `frequency` + `presence`.
    (transformers' own `repetition_penalty` also counts the whole prompt, llama.cpp's does not.)"""

    def __init__(self, start: int, params: GenerationParams):
        self.start = start
        self.repeat, self.frequency = params.repeat_penalty, params.frequency_penalty
        self.presence = params.presence_penalty

    def __call__(self, input_ids, scores):
        import torch

        recent = input_ids[:, self.start:][:, -PENALTY_LAST_N:]
        if recent.shape[1] == 0:
            return scores
        counts = torch.zeros_like(scores).scatter_add_(1, recent, torch.ones_like(recent, dtype=scores.dtype))
        seen = counts > 0
        penalised = torch.where(scores > 0, scores / self.repeat, scores * self.repeat)
        scores = torch.where(seen, penalised, scores)
        return scores - counts * self.frequency - seen.to(scores.dtype) * self.presence


class TransformersEngine(ChatEngine):
    name = "transformers"

    def __init__(self, model: ModelInfo, *, threads: int | None = None, context: int = 4096,
                 dtype: str = "float32", device: str | None = None):
        super().__init__(model, threads=threads, context=context)
        folder = dequantized_folder(model.path) if model.format == "gguf" else model.path
        self.folder = folder
        with quiet_transformers():
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            torch.set_num_threads(self.threads)
            self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
            adapter = getattr(model, "adapter", None)
            # a training run saves its tokenizer (and chat template) next to the adapter
            tok_folder = adapter if adapter and (adapter / "tokenizer_config.json").is_file() else folder
            try:
                self.tokenizer = AutoTokenizer.from_pretrained(tok_folder)
                self.lm = AutoModelForCausalLM.from_pretrained(
                    folder, dtype=getattr(torch, dtype)
                )
                if adapter is not None:
                    self.lm = _with_adapter(self.lm, adapter)
                self.lm = self.lm.to(self.device)
            except (OSError, ValueError) as e:
                raise ModelFormatError(adapter or folder, f"transformers could not load it ({e}).") from e
        self.lm.eval()
        # A base model (no chat template) loads for completion; `chat` says what to use instead.
        self.chat_template = self.tokenizer.chat_template
        self.eos_token_ids = self._end_of_turn_ids()

    def can_chat(self) -> bool:
        return bool(self.chat_template)

    def _end_of_turn_ids(self) -> list[int]:
        ids = self.lm.generation_config.eos_token_id
        ids = [ids] if isinstance(ids, int) else list(ids or [])
        for token in (self.tokenizer.eos_token, "<|im_end|>", "<|eot_id|>", "<end_of_turn>"):
            if token and token in self.tokenizer.get_vocab():
                ids.append(self.tokenizer.convert_tokens_to_ids(token))
        return sorted(set(ids))

    def chat(self, messages: list[Message], params: GenerationParams) -> ChatStream:
        if not self.chat_template:
            raise BaseModelError(self.model.name, self.model.path)
        self._refuse_json(params)

        def encode():
            return self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)

        return ChatStream(lambda stream: self._generate(stream, encode, params))

    def complete(self, prompt: str, params: GenerationParams) -> ChatStream:
        self._refuse_json(params)
        return ChatStream(lambda stream: self._generate(
            stream, lambda: self.tokenizer(prompt, return_tensors="pt"), params))

    def _refuse_json(self, params: GenerationParams) -> None:
        if params.json_mode:
            raise EngineUnsupportedError(
                self.name, self.model.name, "JSON mode (response_format) needs a grammar sampler.",
                "Serve a GGUF model with the llama.cpp engine for response_format json_object.",
            )

    def _generate(self, stream: ChatStream, encode, params: GenerationParams) -> Iterator[str]:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList, TextIteratorStreamer

        inputs = encode().to(self.device)
        stream.prompt_tokens = int(inputs["input_ids"].shape[1])
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancel = _Cancel()
        stream.on_cancel(cancel.event.set)
        sample = params.temperature > 0
        kwargs = dict(
            **inputs,
            max_new_tokens=params.max_tokens,
            do_sample=sample,
            eos_token_id=self.eos_token_ids,
            pad_token_id=self.tokenizer.pad_token_id or self.eos_token_ids[0],
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([cancel]),
            stop_strings=params.stop or None,
            tokenizer=self.tokenizer if params.stop else None,
        )
        if (params.repeat_penalty, params.frequency_penalty, params.presence_penalty) != (1.0, 0.0, 0.0):
            kwargs["logits_processor"] = LogitsProcessorList([_Penalties(stream.prompt_tokens, params)])
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=0)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        result: dict = {}

        def run():
            try:
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                with torch.inference_mode():
                    result["ids"] = self.lm.generate(**kwargs)
            except BaseException as e:  # surface errors from the worker thread
                result["error"] = e
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            cut = ""  # the streamer's last text can end in a character cut off by max_new_tokens
            for delta in streamer:
                if cut:
                    yield cut
                    cut = ""
                if delta.endswith("\ufffd"):
                    cut = delta
                elif delta:
                    yield delta
            if cut.rstrip("\ufffd"):
                yield cut.rstrip("\ufffd")
        finally:
            cancel.event.set()  # harmless when finished; stops generation when abandoned
            worker.join()
            new = result["ids"][0, stream.prompt_tokens:].tolist() if "ids" in result else []
            ended = bool(new) and new[-1] in self.eos_token_ids
            # counted even when closed early; the end-of-turn token is not part of the answer
            stream.completion_tokens = len(new) - ended
        if "error" in result:
            raise result["error"]
        stream.finish_reason = "stop" if ended or len(new) < params.max_tokens else "length"
