"""Log-likelihoods from a causal LM in transformers, batched: the engine under `ppl` and `mcq`.

    scorer = Scorer(resolve_model("smollm2-135m-instruct"))
    scorer.loglikelihood([("Question ... Answer:", " A"), ("Question ... Answer:", " B")])
    # -> [(logprob, is_greedy), ...]

Tokenisation follows lm-evaluation-harness (`_encode_pair`): trailing spaces of the context move
to the continuation, the pair is encoded whole and the continuation is what the context's
tokens do not cover, so scores agree with the harness on the same prompts. Requests that share a
context and continue it by one token each (answer letters) are scored with ONE forward pass of
the context, and sequences are batched longest first with right padding under a token budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..chat.hf import quiet_transformers
from .target import EvalModel

Progress = Callable[[int], None]  # called with how many units were just finished


@dataclass
class _Seq:
    tokens: list[int]
    # (request index, first continuation position in tokens, continuation ids)
    reads: list[tuple[int, int, list[int]]]


class Scorer:
    def __init__(self, model: EvalModel, *, threads: int | None = None, dtype: str = "float32",
                 batch_tokens: int = 4096, device: str | None = None):
        from ..chat.engine import default_threads
        from ..settings import get_settings

        self.model = model
        self.batch_tokens = batch_tokens
        folder = model.hf_folder()
        with quiet_transformers():
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            torch.set_num_threads(threads or get_settings().threads or default_threads())
            self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
            lm = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype))
            if model.adapter is not None:
                from peft import PeftModel

                # merged in memory: the same numbers as the adapter, one matmul per layer
                lm = PeftModel.from_pretrained(lm, str(model.adapter)).merge_and_unload()
            self.lm = lm.to(self.device).eval()
        self.max_length = int(getattr(self.lm.config, "max_position_embeddings", 2048) or 2048)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        config = self.lm.config
        plain_head = not any(getattr(config, k, None) for k in ("final_logit_softcapping", "logit_scale",
                                                                 "output_multiplier_scale"))
        self._head_only = plain_head and hasattr(self.lm, "get_decoder") and self.lm.get_output_embeddings() is not None

    # ---- tokens -------------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        spaces = len(context) - len(context.rstrip())
        if spaces:
            continuation = context[-spaces:] + continuation
            context = context[:-spaces]
        whole = self.encode(context + continuation)
        ctx = self.encode(context)
        return ctx, whole[len(ctx):]

    # ---- forward passes ------------------------------------------------------------------------

    def _batches(self, seqs: list[_Seq]) -> list[list[_Seq]]:
        order = sorted(seqs, key=lambda s: -len(s.tokens))
        batches, current = [], []
        for seq in order:
            width = len(current[0].tokens) if current else len(seq.tokens)
            if current and width * (len(current) + 1) > self.batch_tokens:
                batches.append(current)
                current = []
            current.append(seq)
        if current:
            batches.append(current)
        return batches

    def _logprobs(self, ids, mask, wanted: list[tuple[int, int]]):
        """Log-softmax rows at the `wanted` (row, position) pairs only.

        The output projection over the whole vocabulary is most of the memory (tokens x vocab
        floats) and a good part of the compute for a small model, so when the head is a plain
        linear layer it is applied to the wanted hidden states alone; models that post-process
        their logits (soft-capping, scaling) take the full forward pass."""
        import torch

        rows = torch.tensor([r for r, _ in wanted], device=ids.device)
        cols = torch.tensor([c for _, c in wanted], device=ids.device)
        if self._head_only:
            hidden = self.lm.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
            logits = self.lm.get_output_embeddings()(hidden[rows, cols])
        else:
            logits = self.lm(input_ids=ids, attention_mask=mask).logits[rows, cols]
        return torch.log_softmax(logits.float(), dim=-1)

    def _run(self, seqs: list[_Seq], n_requests: int, progress: Progress | None
             ) -> list[tuple[float, bool]]:
        import torch

        out: list[tuple[float, bool] | None] = [None] * n_requests
        for batch in self._batches(seqs):
            width = max(len(s.tokens) for s in batch)
            ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, seq in enumerate(batch):
                ids[row, :len(seq.tokens)] = torch.tensor(seq.tokens)
                mask[row, :len(seq.tokens)] = 1
            # the logits at position p predict token p+1: collect only the positions we read
            wanted = [(row, start - 1 + k) for row, seq in enumerate(batch)
                      for _, start, cont in seq.reads for k in range(len(cont))]
            with torch.inference_mode():
                logprobs = self._logprobs(ids.to(self.device), mask.to(self.device), wanted).cpu()
            done, at = 0, 0
            for seq in batch:
                for index, _, cont in seq.reads:
                    rows = logprobs[at:at + len(cont)]
                    at += len(cont)
                    target = torch.tensor(cont)
                    total = float(rows.gather(1, target[:, None]).sum())
                    greedy = bool((rows.argmax(-1) == target).all())
                    out[index] = (total, greedy)
                    done += 1
            if progress:
                progress(done)
        return out  # type: ignore[return-value]

    def loglikelihood(self, requests: Sequence[tuple[str, str]], progress: Progress | None = None
                      ) -> list[tuple[float, bool]]:
        """Sum of log-probabilities of each continuation given its context, and whether greedy
        decoding would have produced it."""
        groups: dict[tuple[int, ...], list[tuple[int, list[int]]]] = {}
        singles: list[_Seq] = []
        limit = self.max_length
        for index, (context, continuation) in enumerate(requests):
            ctx, cont = self.encode_pair(context, continuation)
            if not cont:
                raise ValueError(f"empty continuation for request {index}")
            groups.setdefault(tuple(ctx), []).append((index, cont))
        for ctx, members in groups.items():
            if ctx and all(len(cont) == 1 for _, cont in members):
                tokens = list(ctx)[-limit:]
                reads = [(index, len(tokens), cont) for index, cont in members]
                singles.append(_Seq(tokens, reads))
                continue
            for index, cont in members:
                if len(cont) >= limit:
                    raise ValueError(f"request {index}: the continuation is longer than the context window")
                whole = (list(ctx) + cont)[-limit:]
                start = len(whole) - len(cont)
                if start < 1:
                    raise ValueError(f"request {index} has no context token before its continuation")
                singles.append(_Seq(whole, [(index, start, cont)]))
        return self._run(singles, len(requests), progress)

    def window_nll(self, windows: list[tuple[list[int], int]], progress: Progress | None = None
                   ) -> list[tuple[float, int]]:
        """For each (tokens, n_scored): the summed negative log-likelihood of the last `n_scored`
        tokens (each predicted from everything before it in the window) and that count."""
        seqs = [_Seq(tokens, [(i, len(tokens) - n, tokens[len(tokens) - n:])])
                for i, (tokens, n) in enumerate(windows)]
        scores = self._run(seqs, len(windows), progress)
        return [(-logprob, n) for (logprob, _), (_, n) in zip(scores, windows)]
