"""Where a journal's objects live: a local directory, or an object store reached by URL.

Every store offers the same five operations on named objects, and the journal runs one algorithm over
all of them. The one that matters is ``create``: it stores an object only if no object of that name
exists, atomically, so two writers racing for the same record name cannot both win. Locally that is a
private temporary file, fsynced, then hard-linked to its name (``link`` fails if the name exists) and the
directory fsynced; object stores do it with a conditional write (``s3.py``, ``http.py``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from cloudorch.errors import UsageError
from cloudorch.journal.errors import JournalError
from cloudorch.project import dot_dir

#: the URL schemes a journal can live at
SCHEMES = ("file", "s3", "gs", "azblob")


class Store(Protocol):
    #: the store as messages name it (credentials never included)
    where: str

    def names(self, folder: str) -> list[str]:
        """The names of the objects directly in ``folder`` (e.g. "records"), in no particular order."""

    def read(self, name: str) -> bytes | None:
        """An object's bytes; None when it does not exist."""

    def create(self, name: str, data: bytes) -> bool:
        """Store ``data`` as ``name`` only if nothing is stored there; False when something is."""

    def replace(self, name: str, data: bytes) -> None:
        """Store ``data`` as ``name``, over whatever is there (the head index, nothing that is trusted)."""

    def delete(self, name: str) -> None:
        """Remove ``name`` if it exists."""


class LocalStore:
    """A directory; record files are never rewritten, so a crash leaves each one whole or absent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = str(root)

    def names(self, folder: str) -> list[str]:
        try:
            return [n for n in os.listdir(self.root / folder) if not n.startswith(".")]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise self._failed("read", exc) from None

    def read(self, name: str) -> bytes | None:
        try:
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._failed("read", exc) from None

    def create(self, name: str, data: bytes) -> bool:
        path = self.root / name
        try:
            tmp = self._written(path, data)
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            finally:
                os.unlink(tmp)
            _fsync_directory(path.parent)
            return True
        except OSError as exc:
            raise self._failed("write", exc) from None

    def replace(self, name: str, data: bytes) -> None:
        # not fsynced: replace serves the head index and the lock, which a crash may lose without harm
        # (the head only lags; a lost lock is one nobody held any more)
        path = self.root / name
        try:
            os.replace(self._written(path, data, durable=False), path)
        except OSError as exc:
            raise self._failed("write", exc) from None

    def delete(self, name: str) -> None:
        try:
            (self.root / name).unlink(missing_ok=True)
        except OSError as exc:
            raise self._failed("write", exc) from None

    @staticmethod
    def _written(path: Path, data: bytes, durable: bool = True) -> str:
        """``data`` in a private temporary file beside ``path``, on disk (``durable``) before anything links to it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp

    def _failed(self, what: str, exc: OSError) -> JournalError:
        return JournalError(f"cannot {what} the journal at {self.where}: {exc.strerror or exc}",
                            hint="check that the directory exists, is writable and has space")


def _fsync_directory(directory: Path) -> None:
    """Make a new name durable: without it, a crash can lose the link though the file's data is on disk."""
    if os.name == "nt":
        return  # Windows cannot open a directory for fsync; NTFS journals its metadata itself
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_store(project_dir: Path, url: str | None) -> Store:
    """The store at ``url``; None is the project's own, ``.cloudorch/journal/``."""
    if url is None:
        return LocalStore(dot_dir(project_dir) / "journal")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return LocalStore(Path(unquote(parts.path)))
    if scheme not in SCHEMES:
        raise UsageError(f"journal_url {url!r}: unsupported scheme {scheme + '://' if scheme else '(none)'}",
                         hint="use s3://bucket/prefix, gs://bucket/prefix, azblob://container/prefix or "
                              "file:///path; leave it unset for the project's .cloudorch/journal/")
    if not parts.netloc:
        raise UsageError(f"journal_url {url!r} names no bucket", hint=f"write it as {scheme}://bucket/prefix")
    prefix = parts.path.strip("/")
    if scheme == "s3":
        from cloudorch.journal.s3 import S3Store

        return S3Store(parts.netloc, prefix, url)
    from cloudorch.journal.http import blob_store

    return blob_store(scheme, parts.netloc, prefix, url)
