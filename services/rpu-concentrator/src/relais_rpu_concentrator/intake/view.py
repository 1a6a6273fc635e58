"""What one SFTP account sees and may do, decided on paths alone (no disk, no SSH).

An establishment sees its own folder as `/`: `/depot` (it writes there; it may list but not read back) and
`/accuses` (read-only). An ARS account sees the intake root: `/<FINESS>/depot` and `/<FINESS>/accuses` of every
establishment, read-only. Anything else (other establishments, the archive, stray entries) does not exist for
the client. A path that climbs above `/` with `..` is refused outright rather than clamped: it is an attempt to
leave the folder, and the client is told so.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from relais_finess import is_valid
from relais_rpu_concentrator.intake.accounts import Account, Role
from relais_rpu_concentrator.intake.paths import ACCUSES, AREAS, DEPOT, UnsafeName, check_file_name


class AccessDenied(Exception):
    """The account may not do this; the message is shown to the client, in French."""


class NotFound(Exception):
    """Nothing the account may see is at this path."""


class Kind(Enum):
    ROOT = "root"
    ESTABLISHMENT = "establishment"  # /<FINESS> in an ARS view
    AREA = "area"  # depot/ or accuses/
    FILE = "file"


@dataclass(frozen=True, slots=True)
class Location:
    kind: Kind
    virtual: str
    local: Path
    area: str | None = None
    name: str | None = None

    @property
    def is_dir(self) -> bool:
        return self.kind is not Kind.FILE


def split_virtual(raw: bytes) -> tuple[str, ...]:
    """The components of a client path, `.` and inner `..` resolved; refused when it climbs above `/`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AccessDenied("chemin refusé : encodage UTF-8 attendu") from None
    parts: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise AccessDenied("chemin refusé : il sort de votre dossier")
            parts.pop()
            continue
        try:
            parts.append(check_file_name(part))
        except UnsafeName as error:
            raise AccessDenied(str(error)) from None
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class View:
    intake_root: Path
    account: Account

    @property
    def home(self) -> Path:
        """The local folder shown as `/` (the SFTP chroot)."""
        if self.account.role is Role.ARS:
            return self.intake_root
        assert self.account.finess is not None  # guaranteed by Account for establishments
        return self.intake_root / self.account.finess

    @property
    def read_only(self) -> bool:
        return self.account.role is Role.ARS

    def locate(self, raw: bytes) -> Location:
        parts = split_virtual(raw)
        virtual = "/" + "/".join(parts)
        local = self.home.joinpath(*parts)
        inner = parts
        if self.account.role is Role.ARS:
            if not parts:
                return Location(Kind.ROOT, virtual, local)
            if not is_valid(parts[0]):
                raise NotFound(f"{virtual} : introuvable")
            if len(parts) == 1:
                return Location(Kind.ESTABLISHMENT, virtual, local)
            inner = parts[1:]
        if not inner:
            return Location(Kind.ROOT, virtual, local)
        if inner[0] not in AREAS or len(inner) > 2:
            raise NotFound(f"{virtual} : introuvable")
        if len(inner) == 1:
            return Location(Kind.AREA, virtual, local, area=inner[0])
        return Location(Kind.FILE, virtual, local, area=inner[0], name=inner[1])

    def components(self, location: Location) -> list[Path]:
        """Every local path from below the intake root down to the location: none of them may be a link."""
        relative = location.local.relative_to(self.intake_root).parts
        return [self.intake_root.joinpath(*relative[: i + 1]) for i in range(len(relative))]

    def shows(self, folder: Location, name: str, mode: int) -> bool:
        """Whether a directory entry is listed; links and special files never are."""
        if folder.kind is Kind.AREA:
            return stat.S_ISREG(mode)
        if not stat.S_ISDIR(mode):
            return False
        if folder.kind is Kind.ROOT and self.account.role is Role.ARS:
            return bool(is_valid(name))
        return name in AREAS

    def require_read(self, location: Location) -> None:
        if location.kind is not Kind.FILE:
            raise AccessDenied(f"{location.virtual} : est un dossier")
        if location.area == DEPOT and not self.read_only:
            raise AccessDenied("depot/ est en écriture seule : un fichier déposé ne peut pas être relu")

    def require_write(self, location: Location) -> None:
        """Create, overwrite, rename or remove: only files of the establishment's own depot/."""
        if self.read_only:
            raise AccessDenied("compte ARS en lecture seule : aucune écriture n'est permise")
        if location.area == ACCUSES:
            raise AccessDenied(
                "accuses/ est en lecture seule : les accusés de réception ne peuvent être ni écrits, "
                "ni renommés, ni supprimés"
            )
        if location.kind is not Kind.FILE or location.area != DEPOT:
            raise AccessDenied("dépôt refusé : déposez vos fichiers directement dans depot/")
