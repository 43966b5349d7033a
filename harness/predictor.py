"""Predictor: the model behind one narrow method, `predict(inputs) -> outputs` (DESIGN.md noun 5).

`HFPredictor` loads any fine-tuned checkpoint (local directory or hub id) through transformers
Auto classes: safetensors only unless pickle is explicitly allowed (then `weights_only=True`),
never remote code unless asked. Inputs are deduplicated, looked up in the prediction cache
(harness/cache.py) when one is given, and the rest sorted by token length and batched with dynamic
padding under `torch.inference_mode()` (pinned host memory and non-blocking copies on CUDA).
With a prediction cache, a local checkpoint already fingerprinted under the same file identity is loaded only
at the first cache miss (`checkpoint_file_key`): a fully cached re-run starts with the tokenizer and config alone.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import numpy as np

from .cache import PredictionCache, feature_key, namespace
from .errors import CheckpointError, ConfigError

ProgressFn = Callable[[int, int], None]  # (completed, total)

HEADS = {
    "sequence_classification": "AutoModelForSequenceClassification",
    "token_classification": "AutoModelForTokenClassification",
    "question_answering": "AutoModelForQuestionAnswering",
    "multiple_choice": "AutoModelForMultipleChoice",
    "encoder": "AutoModel",
}
# What `forward` returns per feature: the head's logits row; per-token logits (len, labels); QA start/end
# logits per token (len, 2); or the mean over real tokens of one layer's hidden states ("mean_hidden:<layer>").
OUTPUT_KINDS = ("logits", "token_logits", "span_logits", "mean_hidden")
Feature = tuple  # token ids: tuple[int, ...], or one tuple per choice for multiple choice
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICES = ("auto", "cpu", "cuda")


class Predictor(Protocol):
    """What the task adapters need from a model."""

    id2label: Mapping[int, str]
    fingerprint: str
    calls: int  # number of inputs actually sent to the model (cache hits excluded)
    tokenizer: Any
    max_length: int

    def predict(self, inputs: Sequence[tuple[str, ...]], progress: ProgressFn | None = None) -> np.ndarray:
        """One row of outputs per text input (same order): sequence classification."""

    def forward(self, features: Sequence[Feature], kind: str = "logits",
                progress: ProgressFn | None = None) -> list[np.ndarray]:
        """One output array per tokenized feature (same order); see OUTPUT_KINDS."""


class HFPredictor:
    """A transformers checkpoint with a task head."""

    def __init__(
        self,
        model: str,
        *,
        head: str = "sequence_classification",
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 32,
        max_length: int = 256,
        allow_pickle: bool = False,
        trust_remote_code: bool = False,
        revision: str | None = None,
        cache: PredictionCache | None = None,
    ):
        import torch
        import transformers

        if head not in HEADS:
            raise ConfigError(f"unknown model head {head!r} (known: {sorted(HEADS)})")
        if device not in DEVICES:
            raise ConfigError(f"--device must be one of {DEVICES}, got {device!r}")
        if dtype not in DTYPES:
            raise ConfigError(f"--dtype must be one of {DTYPES}, got {dtype!r}")
        if batch_size < 1:
            raise ConfigError(f"--batch-size must be >= 1, got {batch_size}")
        self.source = model
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = _resolve_device(device, torch)
        self.dtype = _resolve_dtype(dtype, self.device, torch)
        self.calls = 0
        self.cache = cache
        self.cache_hits = 0  # unique inputs served by the cache
        self.head = head
        self._namespaces: dict[str, bytes] = {}
        self._auto = getattr(transformers, HEADS[head])
        self._allow_pickle = allow_pickle
        self._kwargs = dict(trust_remote_code=trust_remote_code, revision=revision)
        self._model = None
        try:
            with no_hf_progress_bars():
                self.tokenizer = transformers.AutoTokenizer.from_pretrained(model, **self._kwargs)
                cfg = transformers.AutoConfig.from_pretrained(model, **self._kwargs)
        except (OSError, ValueError, EnvironmentError) as exc:
            raise CheckpointError(_load_hint(model, exc, allow_pickle)) from None
        self.id2label = {int(i): str(n) for i, n in cfg.id2label.items()}
        self.name_or_path = str(getattr(cfg, "_name_or_path", model))
        # With a prediction cache, a local checkpoint whose files are unchanged since a run that fingerprinted them
        # is not loaded here: a re-run served entirely from the cache never loads it (the first miss does).
        self._files = checkpoint_file_key(model, head, allow_pickle, revision) if cache is not None else None
        known = cache.fingerprint(self._files) if cache is not None and self._files else None
        self.fingerprint: str = known or ""
        if not known:
            self._load_model()

    @property
    def model(self):
        """The torch module, loaded on first use (see __init__)."""
        if self._model is None:
            self._load_model()
        return self._model

    @property
    def model_loaded(self) -> bool:
        return self._model is not None

    def _load_model(self) -> None:
        import torch

        try:
            with no_hf_progress_bars():
                model, info = self._auto.from_pretrained(
                    self.source, use_safetensors=None if self._allow_pickle else True, output_loading_info=True,
                    **self._kwargs)
        except (OSError, ValueError, EnvironmentError) as exc:
            raise CheckpointError(_load_hint(self.source, exc, self._allow_pickle)) from None
        missing = [k for k in info.get("missing_keys", []) if "classifier" in k or "qa_outputs" in k]
        if missing:
            raise CheckpointError(
                f"{self.source}: the checkpoint has no trained task head (missing {sorted(missing)[:4]}); "
                "fine-tune it for the task first: a randomly initialised head would make every number meaningless"
            )
        model.eval().to(self.device)
        fingerprint = _fingerprint(model, torch)
        if self._files and self.cache is not None:
            self.cache.remember_fingerprint(self._files, fingerprint)
        if self.fingerprint and fingerprint != self.fingerprint:
            raise CheckpointError(
                f"{self.source}: the weights changed although the files kept their names, sizes and time stamps "
                f"(fingerprint {self.fingerprint[:12]} remembered by the prediction cache, {fingerprint[:12]} now); "
                "outputs this run already took from the cache may belong to the old weights. The cache now knows "
                "the new fingerprint: run the command again (into a new --out), or pass --no-cache")
        self.fingerprint = fingerprint
        self._model = model

    def predict(self, inputs: Sequence[tuple[str, ...]], progress: ProgressFn | None = None) -> np.ndarray:
        """Logits (float32) per text input of 1 or 2 fields; identical inputs are run once."""
        if not len(inputs):
            return np.zeros((0, len(self.id2label)), dtype=np.float32)
        unique = list(dict.fromkeys(inputs))
        enc = self._encode(unique)
        outputs = self.forward([tuple(ids) for ids in enc["input_ids"]], "logits", progress)
        position = {x: i for i, x in enumerate(unique)}
        table = np.stack(outputs).astype(np.float32)
        return table[[position[x] for x in inputs]]

    def forward(self, features: Sequence[Feature], kind: str = "logits",
                progress: ProgressFn | None = None) -> list[np.ndarray]:
        """Run the model on tokenized features, deduplicated, served from the cache where possible, the
        rest sorted by length and batched with dynamic padding; one float32 array per feature, trimmed to
        the feature's own length for per-token kinds. Each computed batch is cached as soon as it is done."""
        import torch

        base, _, arg = kind.partition(":")
        if base not in OUTPUT_KINDS:
            raise ConfigError(f"unknown output kind {kind!r} (known: {OUTPUT_KINDS})")
        unique = list(dict.fromkeys(features))
        results: list[np.ndarray | None] = [None] * len(unique)
        keys: list[bytes] = []
        if self.cache is not None and unique:
            ns = self._namespace(kind)
            keys = [feature_key(ns, f) for f in unique]
            results = self.cache.get(keys)
        todo = [i for i, r in enumerate(results) if r is None]
        self.cache_hits += len(unique) - len(todo)
        # longest first: later, smaller batches reuse the freed blocks of earlier ones instead of growing the heap
        order = sorted(todo, key=lambda i: (-_feature_len(unique[i]), i))
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        autocast = self.dtype != torch.float32
        pin = self.device.type == "cuda"
        done = len(unique) - len(todo)
        if progress and done:
            progress(done, len(unique))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                ids, mask = _pad([unique[i] for i in idx], pad, torch)
                if pin:  # page-locked host memory lets the copies below overlap with queued GPU work
                    ids, mask = ids.pin_memory(), mask.pin_memory()
                ids = ids.to(self.device, non_blocking=True)
                mask = mask.to(self.device, non_blocking=True)
                with torch.autocast(self.device.type, dtype=self.dtype, enabled=autocast):
                    out = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=base == "mean_hidden")
                for i, arr in zip(idx, _batch_outputs(out, base, arg, mask)):
                    results[i] = arr
                if keys:
                    self.cache.put([(keys[i], results[i]) for i in idx])
                done += len(idx)
                self.calls += len(idx)
                if progress:
                    progress(done, len(unique))
        if order:
            release_freed_memory()
        position = {x: i for i, x in enumerate(unique)}
        return [results[position[f]] for f in features]

    def _namespace(self, kind: str) -> bytes:
        if kind not in self._namespaces:
            self._namespaces[kind] = namespace(self.fingerprint, kind, self.describe()["dtype"])
        return self._namespaces[kind]

    def _encode(self, unique: list[tuple[str, ...]]) -> Mapping[str, list[list[int]]]:
        arity = {len(x) for x in unique}
        if arity == {1}:
            return self.tokenizer([x[0] for x in unique], truncation=True, max_length=self.max_length)
        if arity == {2}:
            return self.tokenizer([x[0] for x in unique], [x[1] for x in unique], truncation=True, max_length=self.max_length)
        raise ConfigError(f"inputs must all have 1 or 2 text fields, got arities {sorted(arity)}")

    def describe(self) -> dict[str, str]:
        """Manifest entry for run.json."""
        return {"source": self.source, "fingerprint": self.fingerprint, "device": str(self.device),
                "dtype": str(self.dtype).removeprefix("torch."), "max_length": str(self.max_length)}


def _feature_len(feature: Feature) -> int:
    return max((len(c) for c in feature), default=0) if feature and isinstance(feature[0], tuple) else len(feature)


def _pad(batch: list[Feature], pad_id: int, torch):
    """Right-pad a batch to its longest feature: (B, L) ids and mask, or (B, C, L) for multiple choice."""
    length = max(_feature_len(f) for f in batch)
    nested = bool(batch) and bool(batch[0]) and isinstance(batch[0][0], tuple)
    rows = [list(f) for f in batch] if nested else [[f] for f in batch]
    ids = np.full((len(rows), len(rows[0]), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), len(rows[0]), length), dtype=np.int64)
    for b, choices in enumerate(rows):
        for c, seq in enumerate(choices):
            ids[b, c, : len(seq)] = seq  # numpy fills from a tuple far faster than torch.tensor per row
            mask[b, c, : len(seq)] = 1
    ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
    return (ids_t, mask_t) if nested else (ids_t[:, 0], mask_t[:, 0])


def _batch_outputs(out, kind: str, arg: str, mask) -> list[np.ndarray]:
    """Each feature's output from one batch's model output (see OUTPUT_KINDS); one device->host copy."""
    lengths = mask.sum(dim=-1).cpu().tolist()
    if kind == "logits":
        return list(out.logits.float().cpu().numpy())
    if kind == "token_logits":
        logits = out.logits.float().cpu().numpy()
        return [logits[b, :n] for b, n in enumerate(lengths)]
    if kind == "span_logits":
        both = torch_stack_last(out.start_logits, out.end_logits)
        return [both[b, :n] for b, n in enumerate(lengths)]
    hidden = out.hidden_states[int(arg) if arg else -1].float()
    m = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1)
    return list(pooled.cpu().numpy())


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows): nothing to trim
        return None


def release_freed_memory() -> None:
    """Return freed heap pages to the OS (glibc): batches of varying shapes leave the heap holding hundreds of
    MB that the process no longer uses, which would otherwise add up over the units of a long sweep."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def torch_stack_last(a, b) -> np.ndarray:
    """Two (B, L) tensors -> one (B, L, 2) float32 array on the host."""
    import torch

    return torch.stack([a.float(), b.float()], dim=-1).cpu().numpy()


@contextlib.contextmanager
def no_hf_progress_bars() -> Iterator[None]:
    """Silence transformers' tqdm bars (weight loading/saving) so they do not fight the CLI's own bars."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _resolve_device(device: str, torch):
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but no CUDA device is available")
    return torch.device(device)


def _resolve_dtype(dtype: str, device, torch):
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if dtype == "float16" and device.type == "cpu":
        raise ConfigError("--dtype float16 is for GPUs; on the CPU use bfloat16 or float32")
    return getattr(torch, dtype)


def _fingerprint(model, torch) -> str:
    """sha256 over the config and every parameter/buffer tensor (independent of file layout)."""
    h = hashlib.sha256(json.dumps(model.config.to_diff_dict(), sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        t = tensor.detach().to("cpu").contiguous().reshape(-1)
        h.update(str(t.dtype).encode())
        h.update(t.view(torch.uint8).numpy() if t.numel() else b"")  # buffer, not a copy: peak memory
    return h.hexdigest()


FILE_KEY_VERSION = 1


def local_checkpoint_dir(source: str, revision: str | None) -> Path | None:
    """The directory `from_pretrained(source)` reads without the network: `source` itself when it is a
    directory; for a hub id in offline mode (HF_HUB_OFFLINE=1), its snapshot in the Hugging Face cache for
    `revision` (default main); else None (online, a hub id may resolve to newer files on every call)."""
    path = Path(source)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:  # pragma: no cover - a dependency of transformers
        return None
    offline = constants.is_offline_mode() if hasattr(constants, "is_offline_mode") else constants.HF_HUB_OFFLINE
    if not offline:
        return None
    try:
        found = try_to_load_from_cache(source, "config.json", revision=revision)
    except Exception:  # not a repo id (an invalid name), an unreadable cache: no fast path, loading decides
        return None
    return Path(found).parent if isinstance(found, str) else None


def checkpoint_file_key(source: str, head: str, allow_pickle: bool, revision: str | None) -> str | None:
    """The identity of a local checkpoint's files (`local_checkpoint_dir`), or None when there is no local
    directory to describe (a hub id while online).

    Every regular file at the top of the directory (symlinks followed, as in a hub snapshot) by name, size,
    modification and change time (ns) and inode, plus the head, loading options and torch/transformers versions:
    what `from_pretrained` would read and how. Rewriting, replacing, adding or removing any file changes it (its
    change time cannot be set back). Used only to skip loading and hashing the weights (`_fingerprint`) when the
    prediction cache already knows them; a model loaded later is checked against the remembered fingerprint."""
    import torch
    import transformers

    path = local_checkpoint_dir(source, revision)
    if path is None:
        return None
    try:
        files = []
        for f in sorted(path.iterdir()):
            if f.is_file():
                st = f.stat()
                files.append([f.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino])
    except OSError:
        return None
    material = [FILE_KEY_VERSION, source, str(path.resolve()), head, allow_pickle, revision, torch.__version__,
                transformers.__version__, files]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def _load_hint(model: str, exc: Exception, allow_pickle: bool) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    p = Path(model)
    if p.exists() and not allow_pickle and not any(p.glob("*.safetensors")) and any(p.glob("*.bin")):
        return (f"{model}: only pickle weights (*.bin) found. Pickle can run code when loaded; convert the "
                "checkpoint to safetensors, or pass --allow-pickle to load it with torch weights_only=True")
    if not p.exists() and ("/" not in model or model.startswith((".", "/"))):
        return f"{model}: no such checkpoint directory ({text})"
    return f"{model}: cannot load checkpoint ({text})"
