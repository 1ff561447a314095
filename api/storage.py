"""Storage: where evidence files live, behind a small protocol; FilesystemStorage by default.

Keys are made by the service from ids only (`clip/site-1/<uuid>.mp4`) and checked against a
strict pattern, so no name a client sends can reach the file system.
"""

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from api.errors import ApiError

_KEY = re.compile(r"^[a-z]+(/[A-Za-z0-9][A-Za-z0-9_-]{0,63})+\.(mp4|jpg|png)$")
CHUNK_BYTES = 64 * 1024


class StorageKeyError(ApiError):
    """A key that is not one the service makes."""


def check_key(key: str) -> str:
    if _KEY.fullmatch(key) is None or ".." in key:
        raise StorageKeyError(f"storage key {key!r} is not of the form kind/id/.../id.ext")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there, all or nothing."""

    def exists(self, key: str) -> bool: ...

    def read(self, key: str) -> bytes: ...

    def size_bytes(self, key: str) -> int: ...

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes start..end inclusive, in chunks."""

    def delete(self, key: str) -> bool:
        """True when something was deleted."""

    def usage_bytes(self) -> int: ...


class FilesystemStorage:
    """Files under `root`, written to a temporary name and renamed, so readers never see half."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        path = (self._root / check_key(key)).resolve()
        if not path.is_relative_to(self._root):
            raise StorageKeyError(f"storage key {key!r} leaves the storage root")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".upload-", delete=False) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        Path(tmp.name).replace(path)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def size_bytes(self, key: str) -> int:
        return self._path(key).stat().st_size

    def iter_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            handle.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = handle.read(min(CHUNK_BYTES, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    def delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def usage_bytes(self) -> int:
        return sum(
            path.stat().st_size
            for path in self._root.rglob("*")
            if path.is_file() and not path.name.startswith(".upload-")
        )
