"""The SFTP side of the intake: one `IntakeSftpServer` per session, confined to what its account's `View` allows.

Every operation is re-implemented here on top of the view; `map_path` refuses, so that any operation of the base
class not overridden here fails closed instead of touching the disk unchecked. Links are never created and never
followed: every path component is `lstat`-ed, and files are opened with O_NOFOLLOW.

Completion rule: a file written to depot/ is received when the client closes it, under a final name (not *.tmp,
*.part, *.filepart, nor a dot-name); a file written under such a temporary name is received when it is renamed to a
final name. A handle still open when the session ends (dropped connection, killed client) was never closed by the
client, so its file is incomplete by definition: it is deleted, not received. A close that arrives while the
channel is already closing cannot be acknowledged to the client, and is treated the same way.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from asyncssh import SFTPAttrs, SFTPName

from relais_rpu_concentrator.intake.paths import DEPOT, is_temporary_name
from relais_rpu_concentrator.intake.reception import FileReception, ReceptionFailed
from relais_rpu_concentrator.intake.view import AccessDenied, Location, NotFound, View

log = logging.getLogger(__name__)

_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
LINKS_REFUSED = "liens symboliques et liens physiques non autorisés"


@dataclass(slots=True)
class OpenFile:
    fd: int
    location: Location
    writing: bool
    append: bool = False
    aborted: bool = False
    closed: bool = False

    # Used by asyncssh for the ranges@asyncssh.com extension.
    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return os.lseek(self.fd, offset, whence)

    def fileno(self) -> int:
        return self.fd


@contextmanager
def _sftp_errors() -> Iterator[None]:
    """Domain refusals and disk errors become SFTP status codes with a French reason."""
    try:
        yield
    except AccessDenied as error:
        raise asyncssh.SFTPPermissionDenied(str(error)) from None
    except NotFound as error:
        raise asyncssh.SFTPNoSuchFile(str(error)) from None
    except FileNotFoundError:
        raise asyncssh.SFTPNoSuchFile("fichier ou dossier introuvable") from None
    except FileExistsError:
        raise asyncssh.SFTPFileAlreadyExists("un fichier porte déjà ce nom") from None
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW met a link
            raise asyncssh.SFTPNoSuchFile("fichier ou dossier introuvable") from None
        raise asyncssh.SFTPFailure(f"erreur du serveur : {error.strerror or error}") from None


class IntakeSftpServer(asyncssh.SFTPServer):
    def __init__(
        self,
        chan: asyncssh.SSHServerChannel[bytes],
        view: View,
        reception: FileReception,
        max_file_bytes: int,
    ) -> None:
        super().__init__(chan, chroot=bytes(view.home))
        self._view = view
        self._reception = reception
        self._max = max_file_bytes
        self._writing: set[Path] = set()

    # --- paths ---------------------------------------------------------------------------------------------

    def map_path(self, path: bytes) -> bytes:
        raise asyncssh.SFTPOpUnsupported("opération non prise en charge par le concentrateur")

    def _locate(self, path: bytes, *, must_exist: bool = True) -> tuple[Location, os.stat_result | None]:
        """The location and its lstat (None when absent and allowed to be); a link anywhere hides the path."""
        location = self._view.locate(path)
        # The intake root itself may be a link (see paths.ensure_establishment_dirs); what lies below may not.
        found: os.stat_result | None = os.stat(self._view.intake_root)
        for component in self._view.components(location):
            try:
                found = os.lstat(component)
            except FileNotFoundError:
                if must_exist or component != location.local:
                    raise NotFound(f"{location.virtual} : introuvable") from None
                return location, None
            if stat.S_ISLNK(found.st_mode):
                raise NotFound(f"{location.virtual} : introuvable")
        if found is not None and location.is_dir != stat.S_ISDIR(found.st_mode):
            raise NotFound(f"{location.virtual} : introuvable")
        return location, found

    def realpath(self, path: bytes) -> bytes:
        with _sftp_errors():
            return self._view.locate(path).virtual.encode("utf-8")

    def lstat(self, path: bytes) -> os.stat_result:
        with _sftp_errors():
            _, found = self._locate(path)
            assert found is not None
            return found

    stat = lstat  # links are never followed: stat and lstat agree

    async def scandir(self, path: bytes) -> AsyncIterator[SFTPName]:
        with _sftp_errors():
            folder, found = self._locate(path)
            if not folder.is_dir:
                raise NotFound(f"{folder.virtual} : n'est pas un dossier")
            assert found is not None
            entries = [(".", found), ("..", found)]
            with os.scandir(folder.local) as scan:
                for entry in scan:
                    attrs = entry.stat(follow_symlinks=False)
                    if self._view.shows(folder, entry.name, attrs.st_mode):
                        entries.append((entry.name, attrs))
        for name, attrs in entries:
            yield SFTPName(name.encode("utf-8"), attrs=SFTPAttrs.from_local(attrs))

    # --- files ---------------------------------------------------------------------------------------------

    def open(self, path: bytes, pflags: int, attrs: SFTPAttrs) -> OpenFile:
        with _sftp_errors():
            if not pflags & asyncssh.FXF_WRITE:
                location, _ = self._locate(path)
                self._view.require_read(location)
                return OpenFile(os.open(location.local, os.O_RDONLY | _NOFOLLOW), location, writing=False)
            location, _ = self._locate(path, must_exist=False)
            self._view.require_write(location)
            flags = os.O_WRONLY | _NOFOLLOW
            for sftp_flag, os_flag in (
                (asyncssh.FXF_CREAT, os.O_CREAT),
                (asyncssh.FXF_TRUNC, os.O_TRUNC),
                (asyncssh.FXF_EXCL, os.O_EXCL),
                (asyncssh.FXF_APPEND, os.O_APPEND),
            ):
                if pflags & sftp_flag:
                    flags |= os_flag
            opened = OpenFile(
                os.open(location.local, flags, 0o640),
                location,
                writing=True,
                append=bool(pflags & asyncssh.FXF_APPEND),
            )
            self._writing.add(location.local)
            return opened

    def open56(self, path: bytes, desired_access: int, flags: int, attrs: SFTPAttrs) -> OpenFile:
        raise asyncssh.SFTPOpUnsupported("SFTP version 3 uniquement")

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        opened = _opened(file_obj)
        if opened.writing:
            raise asyncssh.SFTPPermissionDenied(
                "depot/ est en écriture seule : un fichier déposé ne peut pas être relu"
            )
        with _sftp_errors():
            return os.pread(opened.fd, size, offset)

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        opened = _opened(file_obj)
        if not opened.writing or opened.aborted:
            raise asyncssh.SFTPPermissionDenied("fichier non ouvert en écriture")
        # With O_APPEND the kernel writes at the end whatever the offset: the end is what the limit applies to.
        start = os.fstat(opened.fd).st_size if opened.append else offset
        if start + len(data) > self._max:
            self._abort(opened)
            raise asyncssh.SFTPFailure(
                f"fichier trop volumineux : la limite est de {self._max} octets ; dépôt annulé, fichier supprimé"
            )
        with _sftp_errors():
            return os.pwrite(opened.fd, data, offset)

    def _abort(self, opened: OpenFile) -> None:
        self._release(opened)
        opened.aborted = True
        opened.location.local.unlink(missing_ok=True)

    def _release(self, opened: OpenFile) -> None:
        if not opened.closed:
            opened.closed = True
            os.close(opened.fd)
            self._writing.discard(opened.location.local)

    async def close(self, file_obj: object) -> None:
        opened = _opened(file_obj)
        if opened.closed:
            return
        self._release(opened)
        location = opened.location
        if not opened.writing:
            return
        if self.channel.is_closing():  # not a close from the client: the session is ending under the file
            log.warning("incomplete upload deleted", extra={"path": location.virtual})
            location.local.unlink(missing_ok=True)
            return
        if not is_temporary_name(location.name or ""):
            await self._receive(location)

    async def _receive(self, location: Location) -> None:
        account = self._view.account
        finess = account.finess
        assert finess is not None and location.name is not None  # only establishments write
        try:
            await self._reception.receive(
                finess=finess, account=account.name, path=location.local, file_name=location.name
            )
        except ReceptionFailed as error:
            raise asyncssh.SFTPFailure(str(error)) from None

    def fstat(self, file_obj: object) -> os.stat_result:
        return os.fstat(_opened(file_obj).fd)

    def fsetstat(self, file_obj: object, attrs: SFTPAttrs) -> None:
        opened = _opened(file_obj)
        if not opened.writing:
            raise asyncssh.SFTPPermissionDenied("modification refusée : fichier en lecture seule")
        self._set_times(attrs, lambda times: os.utime(opened.fd, times))

    def setstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        with _sftp_errors():
            location, _ = self._locate(path)
            self._view.require_write(location)
            self._set_times(attrs, lambda times: os.utime(location.local, times, follow_symlinks=False))

    @staticmethod
    def _set_times(attrs: SFTPAttrs, apply: Callable[[tuple[int, int]], None]) -> None:
        # Clients set times after `put -p`; permissions and owners stay the server's, sizes are written, not set.
        if attrs.size is not None:
            raise asyncssh.SFTPPermissionDenied("changement de taille non autorisé")
        if attrs.atime is not None and attrs.mtime is not None:
            apply((attrs.atime, attrs.mtime))

    def remove(self, path: bytes) -> None:
        with _sftp_errors():
            location, _ = self._locate(path)
            self._view.require_write(location)
            if location.local in self._writing:
                raise AccessDenied("fichier en cours de transfert")
            location.local.unlink()

    async def rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._rename(oldpath, newpath, replace=False)

    async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._rename(oldpath, newpath, replace=True)

    async def _rename(self, oldpath: bytes, newpath: bytes, *, replace: bool) -> None:
        with _sftp_errors():
            source, _ = self._locate(oldpath)
            self._view.require_write(source)
            target, existing = self._locate(newpath, must_exist=False)
            self._view.require_write(target)
            if source.local in self._writing or target.local in self._writing:
                raise AccessDenied("fichier en cours de transfert")
            if existing is not None and not replace:
                raise FileExistsError(target.local)
            os.replace(source.local, target.local)
        if target.area == DEPOT and not is_temporary_name(target.name or ""):
            await self._receive(target)

    # --- refused outright ----------------------------------------------------------------------------------

    def mkdir(self, path: bytes, attrs: SFTPAttrs) -> None:
        raise asyncssh.SFTPPermissionDenied("création de dossier non autorisée")

    def rmdir(self, path: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("suppression de dossier non autorisée")

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied(LINKS_REFUSED)

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied(LINKS_REFUSED)

    def readlink(self, path: bytes) -> bytes:
        raise asyncssh.SFTPPermissionDenied(LINKS_REFUSED)

    def exit(self) -> None:
        for path in list(self._writing):  # asyncssh closes open handles first; this is only a safety net
            log.warning("incomplete upload deleted", extra={"path": str(path)})
            path.unlink(missing_ok=True)
        self._writing.clear()


def _opened(file_obj: object) -> OpenFile:
    if not isinstance(file_obj, OpenFile):
        raise asyncssh.SFTPFailure("descripteur inconnu")
    return file_obj
