"""Log-likelihoods from a causal LM in transformers, batched: the engine under `ppl` and `mcq`.

    scorer = Scorer(resolve_model("smollm2-135m-instruct"))
    scorer.loglikelihood([("Question ... Answer:", " A"), ("Question ... Answer:", " B")])
    # -> [(logprob, is_greedy), ...]

Tokenisation follows lm-evaluation-harness (`_encode_pair`): trailing spaces of the context move
to the continuation, the pair is encoded whole and the continuation is what the context's
tokens do not cover, so scores agree with the harness on the same prompts. Requests that share a
context and continue it by one token each (answer letters) are scored with ONE forward pass of
the context. Sequences that open with the same tokens (a benchmark's header and few-shot examples)
run that shared prefix once: its keys and values are kept and each sequence runs only the tokens
after it, which is the same computation (attention over the same keys) on fewer positions. The
rest is batched longest first with right padding under a token budget.
"""

from __future__ import annotations

import inspect
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

    @property
    def first_read(self) -> int:
        return min(start for _, start, _ in self.reads)


MIN_SHARED = 8  # a shared prefix shorter than this is not worth a cache
PREFIXES_KEPT = 4  # prefixes whose keys and values stay in memory between calls


def _common(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def share_prefixes(seqs: list[_Seq]) -> list[tuple[int, list[_Seq]]]:
    """Group sequences by the tokens they open with: [(shared token count, members)].

    Sorted by tokens, sequences with a common opening are neighbours; a group takes the next
    sequence while the common part stays at least MIN_SHARED tokens and at least half of what the
    group shares so far (so two subjects' few-shot prefixes are not cut down to their common
    header). The shared part always ends before the first position a member reads from."""
    groups: list[tuple[int, list[_Seq]]] = []
    for seq in sorted(seqs, key=lambda s: s.tokens):
        cap = seq.first_read - 1
        if groups:
            shared, members = groups[-1]
            n = min(_common(members[-1].tokens, seq.tokens), cap, shared)
            if n >= MIN_SHARED and (len(members) == 1 or 2 * n >= shared):
                groups[-1] = (n, members + [seq])
                continue
        groups.append((cap, [seq]))
    return [(shared if len(members) > 1 else 0, members) for shared, members in groups]


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
        # keys/values of a prefix are reused only where every layer attends to all earlier tokens
        layer_types = getattr(config, "layer_types", None)
        self._share = (set(layer_types) <= {"full_attention"} if layer_types
                       else getattr(config, "sliding_window", None) is None)
        # (and where transformers takes a cache by that name: 5.x; older versions run sequences whole)
        self._share = self._share and "cache" in inspect.signature(self.lm.forward).parameters
        self._prefixes: dict[tuple[int, ...], list] = {}

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

    def _forward(self, ids, mask, rows, cols, cache=None):
        """Log-softmax rows at the (row, position) pairs `rows`, `cols` only.

        The output projection over the whole vocabulary is most of the memory (tokens x vocab
        floats) and a good part of the compute for a small model, so when the head is a plain
        linear layer it is applied to the wanted hidden states alone; models that post-process
        their logits (soft-capping, scaling) take the full forward pass."""
        import torch

        extra = {"cache": cache, "use_cache": True} if cache is not None else {}
        if self._head_only:
            hidden = self.lm.get_decoder()(input_ids=ids, attention_mask=mask, **extra).last_hidden_state
            logits = self.lm.get_output_embeddings()(hidden[rows, cols])
        else:
            logits = self.lm(input_ids=ids, attention_mask=mask, **extra).logits[rows, cols]
        return torch.log_softmax(logits.float(), dim=-1)

    def _prefix_kv(self, prefix: tuple[int, ...]) -> list:
        """Per layer (keys, values) of the prefix, batch 1, computed once and kept for a while."""
        import torch

        if prefix not in self._prefixes:
            if len(self._prefixes) >= PREFIXES_KEPT:
                self._prefixes.pop(next(iter(self._prefixes)))
            ids = torch.tensor([prefix], device=self.device)
            model = self.lm.get_decoder() if self._head_only else self.lm
            cache = model(input_ids=ids, use_cache=True).cache
            self._prefixes[prefix] = [(layer.keys, layer.values) for layer in cache.layers]
        return self._prefixes[prefix]

    def _batches(self, seqs: list[_Seq], skip: int = 0) -> list[list[_Seq]]:
        order = sorted(seqs, key=lambda s: -len(s.tokens))
        batches, current = [], []
        for seq in order:
            width = len((current[0] if current else seq).tokens) - skip
            if current and width * (len(current) + 1) > self.batch_tokens:
                batches.append(current)
                current = []
            current.append(seq)
        if current:
            batches.append(current)
        return batches

    def _run_batch(self, batch: list[_Seq], skip: int, out: list) -> int:
        """One forward pass over `batch`, the first `skip` tokens (shared by all) from the cache."""
        import torch

        width = max(len(s.tokens) for s in batch) - skip
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), skip + width), dtype=torch.long)
        mask[:, :skip] = 1
        for row, seq in enumerate(batch):
            ids[row, :len(seq.tokens) - skip] = torch.tensor(seq.tokens[skip:])
            mask[row, skip:len(seq.tokens)] = 1
        cache = None
        if skip:
            from transformers import DynamicCache

            kv = self._prefix_kv(tuple(batch[0].tokens[:skip]))
            cache = DynamicCache([(k.expand(len(batch), -1, -1, -1), v.expand(len(batch), -1, -1, -1))
                                  for k, v in kv], config=self.lm.config)
        # the logits at position p predict token p+1: collect only the positions we read
        wanted = [(row, start - 1 + k - skip) for row, seq in enumerate(batch)
                  for _, start, cont in seq.reads for k in range(len(cont))]
        rows = torch.tensor([r for r, _ in wanted], device=self.device)
        cols = torch.tensor([c for _, c in wanted], device=self.device)
        logprobs = self._forward(ids.to(self.device), mask.to(self.device), rows, cols, cache).cpu()
        done, at = 0, 0
        for seq in batch:
            for index, _, cont in seq.reads:
                part = logprobs[at:at + len(cont)]
                at += len(cont)
                target = torch.tensor(cont)
                out[index] = (float(part.gather(1, target[:, None]).sum()), bool((part.argmax(-1) == target).all()))
                done += 1
        return done

    def _run(self, seqs: list[_Seq], n_requests: int, progress: Progress | None
             ) -> list[tuple[float, bool]]:
        import torch

        out: list[tuple[float, bool] | None] = [None] * n_requests
        groups = share_prefixes(seqs) if self._share else [(0, seqs)]
        alone = [seq for shared, members in groups if not shared for seq in members]
        work = [(shared, batch) for shared, members in groups if shared
                for batch in self._batches(members, shared)]
        work += [(0, batch) for batch in self._batches(alone)]
        with torch.inference_mode():
            for skip, batch in work:
                done = self._run_batch(batch, skip, out)
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
