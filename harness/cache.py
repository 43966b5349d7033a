"""Prediction cache: model outputs keyed by checkpoint fingerprint, output kind, dtype and input token ids.

One sqlite file (stdlib, WAL mode) outside the installed package, by default
``<user cache dir>/predictions.sqlite`` (``$XROBUST_PREDICTION_CACHE_DIR``, else ``$XROBUST_CACHE_DIR``, else
the platform's user cache dir). Several processes (Ray workers, parallel runs) may share it: readers never
block, writers wait up to ``timeout`` seconds, and identical keys written twice hold identical values.

A key is a keyed blake2b of the feature's token ids, keyed by a namespace digest over the checkpoint
fingerprint, the output kind (``logits``, ``mean_hidden:8`` …), the compute dtype and the torch/transformers
versions: everything that changes the numbers except the device. Features are already truncated token
ids, so ``max_length`` is part of the key through them. Values are float32 arrays stored with their shape.

A second table remembers each local checkpoint's fingerprint under the identity of its files (see
``harness.predictor.checkpoint_file_key``), so a re-run whose outputs are all cached starts without loading the
weights; the weights are loaded, and their fingerprint checked against the remembered one, at the first miss.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import warnings
from array import array
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .errors import ConfigError

CACHE_FILE = "predictions.sqlite"
DIR_ENV_VAR = "XROBUST_PREDICTION_CACHE_DIR"
SCHEMA_VERSION = 1  # PRAGMA user_version; bump when keys or values change meaning
CLEAR_TIMEOUT = 5.0  # seconds `clear` waits for another process's write lock before giving up
CHUNK = 500  # rows per SELECT ... IN (...) / executemany: below SQLite's host-parameter limit
_SCHEMA = "CREATE TABLE IF NOT EXISTS outputs (key BLOB PRIMARY KEY, shape TEXT NOT NULL, data BLOB NOT NULL) WITHOUT ROWID"
# checkpoint files' identity (names, sizes, time stamps, inodes: see predictor.checkpoint_file_key) -> fingerprint,
# so that a run served entirely from the cache need not load and hash the weights
_FP_SCHEMA = "CREATE TABLE IF NOT EXISTS fingerprints (files TEXT PRIMARY KEY, fingerprint TEXT NOT NULL) WITHOUT ROWID"


class CacheWarning(UserWarning):
    """The prediction cache was rebuilt or switched off; results are unaffected, only speed."""


def default_cache_dir() -> Path:
    """Where the prediction cache lives unless `--cache-dir` says otherwise."""
    from .modelbuild import cache_root

    override = os.environ.get(DIR_ENV_VAR)
    return Path(override) if override else cache_root()


def namespace(fingerprint: str, kind: str, dtype: str) -> bytes:
    """32-byte digest of everything besides the input that determines a model output."""
    import torch
    import transformers

    material = [SCHEMA_VERSION, fingerprint, kind, dtype, torch.__version__, transformers.__version__]
    return hashlib.blake2b(json.dumps(material).encode(), digest_size=32).digest()


def feature_key(ns: bytes, feature: tuple) -> bytes:
    """16-byte key of one feature (a tuple of token ids, or a tuple of such tuples) in namespace `ns`."""
    h = hashlib.blake2b(digest_size=16, key=ns)
    if feature and isinstance(feature[0], tuple):
        h.update(b"n")  # nested (multiple choice): length-prefix each choice so boundaries are unambiguous
        for choice in feature:
            h.update(len(choice).to_bytes(4, "little"))
            h.update(array("q", choice).tobytes())
    else:
        h.update(b"f")
        h.update(array("q", feature).tobytes())
    return h.digest()


class PredictionCache:
    """A process-local handle on the shared sqlite cache; one connection per process (reopened after fork)."""

    def __init__(self, path: Path, timeout: float = 60.0):
        self.path = Path(path)
        self.timeout = timeout
        self.enabled = True
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._connect()  # fail early (exit 2) on an unusable location, before any model work

    def __getstate__(self) -> dict:
        # Pickled into Ray workers and other processes: the path travels, each process opens its own connection.
        return {"path": self.path, "timeout": self.timeout, "enabled": self.enabled}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _lock=threading.Lock(), _conn=None, _pid=-1)

    def get(self, keys: Sequence[bytes]) -> list[np.ndarray | None]:
        """The stored array for each key (same order), None where missing."""
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            if not self.enabled:
                return [None] * len(keys)
            try:
                conn = self._connection()
                for start in range(0, len(keys), CHUNK):
                    chunk = keys[start : start + CHUNK]
                    sql = f"SELECT key, shape, data FROM outputs WHERE key IN ({','.join('?' * len(chunk))})"
                    for key, shape, data in conn.execute(sql, chunk):
                        arr = _decode(shape, data)
                        if arr is not None:
                            found[key] = arr
            except sqlite3.Error as exc:
                self._disable(f"cannot read it ({exc})")
        return [found.get(k) for k in keys]

    def put(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Store float32 arrays under their keys in one transaction (an existing key keeps its value)."""
        rows = [(k, ",".join(map(str, a.shape)), np.ascontiguousarray(a, dtype="<f4").tobytes()) for k, a in items]
        with self._lock:
            if not self.enabled or not rows:
                return
            try:
                conn = self._connection()
                with conn:  # one transaction; committed here, so a kill -9 afterwards keeps these rows
                    for start in range(0, len(rows), CHUNK):
                        conn.executemany("INSERT OR IGNORE INTO outputs VALUES (?, ?, ?)", rows[start : start + CHUNK])
            except sqlite3.Error as exc:
                self._disable(f"cannot write to it ({exc})")

    def fingerprint(self, files: str) -> str | None:
        """The fingerprint remembered for a checkpoint's file identity, or None."""
        with self._lock:
            if not self.enabled:
                return None
            try:
                row = self._connection().execute("SELECT fingerprint FROM fingerprints WHERE files = ?",
                                                 (files,)).fetchone()
            except sqlite3.Error as exc:
                self._disable(f"cannot read it ({exc})")
                return None
        return str(row[0]) if row else None

    def remember_fingerprint(self, files: str, fingerprint: str) -> None:
        """Remember (or correct) the fingerprint of a checkpoint's file identity."""
        with self._lock:
            if not self.enabled:
                return
            try:
                with self._connection() as conn:
                    conn.execute("INSERT OR REPLACE INTO fingerprints VALUES (?, ?)", (files, fingerprint))
            except sqlite3.Error as exc:
                self._disable(f"cannot write to it ({exc})")

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection().execute("SELECT count(*) FROM outputs").fetchone()[0])

    def info(self) -> dict[str, int]:
        """Stored outputs, remembered checkpoint fingerprints, and bytes on disk (database + WAL)."""
        with self._lock:
            conn = self._connection()
            outputs = int(conn.execute("SELECT count(*) FROM outputs").fetchone()[0])
            checkpoints = int(conn.execute("SELECT count(DISTINCT fingerprint) FROM fingerprints").fetchone()[0])
        size = sum(Path(f"{self.path}{suffix}").stat().st_size for suffix in ("", "-wal")
                   if Path(f"{self.path}{suffix}").exists())
        return {"outputs": outputs, "checkpoints": checkpoints, "bytes": size}

    def clear(self) -> int:
        """Delete every stored output and fingerprint and give the space back to the file system; returns the
        bytes freed. ConfigError when another process holds the database (a run is using it) for longer than
        CLEAR_TIMEOUT seconds."""
        before = self.info()["bytes"]
        with self._lock:
            conn = self._connection()
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(CLEAR_TIMEOUT * 1000)}")
                with conn:
                    conn.execute("DELETE FROM outputs")
                    conn.execute("DELETE FROM fingerprints")
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError as exc:
                raise ConfigError(f"prediction cache {self.path}: cannot clear it ({exc}); another xrobust process is "
                                  "probably using it: try again when it has finished") from None
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return max(before - self.info()["bytes"], 0)

    def close(self) -> None:
        """Close this process's connection (a later call reopens it)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self._connect()
        assert self._conn is not None
        return self._conn

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):  # locked, unwritable, not a file: the user must act
                raise ConfigError(f"prediction cache {self.path}: {exc}; pass --cache-dir DIR or --no-cache") from None
            self._rebuild(exc)
        except OSError as exc:
            raise ConfigError(f"prediction cache {self.path}: cannot create it ({exc.strerror or exc}); "
                              "pass --cache-dir DIR or --no-cache") from None
        self._pid = os.getpid()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL: commits survive a killed process, fsync at checkpoints
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"schema version {version}, this xrobust writes {SCHEMA_VERSION}")
            conn.execute(_SCHEMA)
            conn.execute(_FP_SCHEMA)
            if version == 0:
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _rebuild(self, exc: Exception) -> None:
        # A damaged or foreign file is only a cache: keep it aside for inspection and start an empty one.
        aside = self.path.with_name(f"{self.path.name}.broken-{int(time.time())}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{self.path}{suffix}")
            if src.exists():
                os.replace(src, f"{aside}{suffix}")
        warnings.warn(f"prediction cache {self.path} was unreadable ({exc}); moved it to {aside} and started an "
                      "empty cache", CacheWarning, stacklevel=4)
        try:
            self._conn = self._open()
        except sqlite3.Error as again:
            raise ConfigError(f"prediction cache {self.path}: {again}; pass --cache-dir DIR or --no-cache") from None

    def _disable(self, why: str) -> None:
        self.enabled = False
        warnings.warn(f"prediction cache {self.path}: {why}; continuing without the cache (results are "
                      "unaffected, re-runs will recompute)", CacheWarning, stacklevel=4)


def _decode(shape: str, data: bytes) -> np.ndarray | None:
    dims = tuple(int(d) for d in shape.split(",")) if shape else ()
    if len(data) != 4 * int(np.prod(dims, dtype=np.int64)):
        return None  # a torn or foreign row: treat as a miss, the model recomputes it
    return np.frombuffer(data, dtype="<f4").reshape(dims).copy()


_OPEN: dict[tuple[int, str], PredictionCache] = {}
_OPEN_LOCK = threading.Lock()


def open_cache(cache_dir: Path | None = None, timeout: float = 60.0) -> PredictionCache:
    """The process's shared handle on `<cache_dir>/predictions.sqlite` (default `default_cache_dir()`)."""
    path = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / CACHE_FILE
    if path.parent.exists() and not path.parent.is_dir():
        raise ConfigError(f"--cache-dir {path.parent}: not a directory")
    with _OPEN_LOCK:
        key = (os.getpid(), str(path.resolve()))
        if key not in _OPEN or not _OPEN[key].enabled:
            if key in _OPEN:
                _OPEN[key].close()
            _OPEN[key] = PredictionCache(path, timeout)
        return _OPEN[key]
