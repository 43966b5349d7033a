"""Data sources -> Examples: local JSONL/TSV, Hugging Face `datasets` (hub id or saved to disk).

Text is NFC-normalised here, at the boundary. Errors name the file and line (or dataset row).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .errors import ConfigError, DataError
from .suite import DataSpec
from .tasks import TaskRecipe, adapter_class
from .types import Example


def load_examples(
    recipe: TaskRecipe,
    spec: DataSpec | None,
    lang: str,
    *,
    limit: int | None = None,
    base_dir: Path = Path("."),
) -> list[Example]:
    """The first `limit` examples of `recipe` in `lang` from `spec` (default: the recipe's HF source)."""
    if spec is None:
        _check_default_source(recipe, lang)
        spec = DataSpec(format="hf", filter=dict(recipe.hf_filter), **recipe.hf_source_for(lang))
    rows, where = _rows(spec, lang, base_dir)
    out: list[Example] = []
    seen: dict[str, str] = {}
    wanted = {col: _fill(v, lang) for col, v in spec.filter.items()}
    for loc, key, row in rows:
        if wanted and not all(str(row.get(col, "")).startswith(v) for col, v in wanted.items()):
            continue
        ex = _to_example(recipe, spec, lang, loc, key, row)
        if ex.id in seen:
            raise DataError(f"{loc}: duplicate example id {ex.id!r} (first at {seen[ex.id]}); ids must be unique")
        seen[ex.id] = loc
        out.append(ex)
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise DataError(f"{where}: no examples for language {lang!r}")
    return out


def _check_default_source(recipe: TaskRecipe, lang: str) -> None:
    """ConfigError unless the recipe has a hub source that holds `lang` (the list of valid languages)."""
    if not recipe.hf_source:
        raise ConfigError(f"task {recipe.name!r} has no default dataset; give a `data:` section")
    if lang not in recipe.hf_languages:
        raise ConfigError(f"task {recipe.name!r}: {lang!r} is not a language of its default dataset "
                          f"{recipe.hf_source.get('id', '')}; valid languages: {', '.join(recipe.hf_languages)}"
                          + (" (give a `data:` section for the others)" if recipe.hf_missing else ""))


def _rows(spec: DataSpec, lang: str, base_dir: Path) -> tuple[Iterator[tuple[str, int, Mapping[str, Any]]], str]:
    if spec.format in ("jsonl", "tsv", "hf_disk"):
        path = (base_dir / spec.path.format(lang=lang)).resolve()
        if not path.exists():
            raise DataError(f"{path}: data file not found (language {lang!r})")
        if spec.format == "jsonl":
            return jsonl_rows(path), str(path)
        if spec.format == "tsv":
            return _tsv_rows(path), str(path)
        return _hf_disk_rows(path, spec.split), str(path)
    return _hf_rows(spec, lang), f"{spec.id}:{spec.config or ''}"


def _fill(template: str, lang: str) -> str:
    """`{lang}` and `{lang_name}` (lower-case English name, as TyDiQA's ids use) filled in."""
    from .languages import language_or_unknown

    return template.format(lang=lang, lang_name=language_or_unknown(lang).name.lower().replace(" ", "_"))


def jsonl_rows(path: Path) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    """(`file:line`, line number, object) per non-blank line; DataError naming the file on a read or UTF-8 error and
    the line on bad JSON or a non-object."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc})") from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
        yield f"{path}:{lineno}", lineno, row


def _tsv_rows(path: Path) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if not header:
            raise DataError(f"{path}:1: empty TSV; the first line must be a header naming the columns")
        for lineno, cells in enumerate(reader, 2):
            if not cells:
                continue
            if len(cells) != len(header):
                raise DataError(f"{path}:{lineno}: {len(cells)} columns, header has {len(header)} ({header})")
            yield f"{path}:{lineno}", lineno, dict(zip(header, cells))


def _hf_rows(spec: DataSpec, lang: str) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    import datasets

    config = spec.config.format(lang=lang) if spec.config else None
    name = f"{spec.id}" + (f" (config {config!r}, split {spec.split!r})" if config else f" (split {spec.split!r})")
    try:
        ds = datasets.load_dataset(spec.id.format(lang=lang), config, split=spec.split or "test")
    except Exception as exc:  # datasets raises many types; all mean "cannot get this dataset"
        raise DataError(f"dataset {name}: cannot load ({type(exc).__name__}: {exc})") from None
    return _dataset_rows(ds, spec.id)


def _hf_disk_rows(path: Path, split: str | None) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise DataError(f"{path}: not a dataset saved with save_to_disk ({type(exc).__name__}: {exc})") from None
    if isinstance(ds, datasets.DatasetDict):
        if split is None or split not in ds:
            raise DataError(f"{path}: dataset has splits {sorted(ds)}; set `split:` to one of them")
        ds = ds[split]
    return _dataset_rows(ds, str(path))


def _dataset_rows(ds: Any, name: str) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    from datasets import ClassLabel

    class_labels = {k: f for k, f in ds.features.items() if isinstance(f, ClassLabel)}
    for i, row in enumerate(ds):
        for k, feature in class_labels.items():
            if isinstance(row.get(k), int) and row[k] >= 0:
                row[k] = feature.int2str(row[k])
        yield f"{name}[row {i}]", i, row


def _to_example(recipe: TaskRecipe, spec: DataSpec, lang: str, loc: str, key: int, row: Mapping[str, Any]) -> Example:
    fields, label = adapter_class(recipe.task_type).parse_row(
        recipe, row, spec.fields, spec.label_field or recipe.label_field, loc)
    raw_id = row.get(spec.id_field)
    ex_id = str(raw_id) if raw_id not in (None, "") else f"{lang}:{key}"  # line number or row index
    computed = recipe.example_meta(row, lang, loc) if recipe.example_meta else {}
    meta = {**computed, **{k: row[k] for k in spec.meta_fields if k in row}}
    return Example(id=ex_id, lang=lang, fields=fields, label=label, meta=meta)


def iter_texts(examples: Iterable[Example]) -> Iterator[str]:
    """Every text field of every example (for tokenizer training and previews); token lists are joined."""
    for ex in examples:
        for v in ex.fields.values():
            yield v if isinstance(v, str) else " ".join(v)
