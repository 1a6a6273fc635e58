"""What went wrong while reading a referential file, record by record, without stopping the file."""

from __future__ import annotations

from dataclasses import dataclass, field


class RecordRejected(ValueError):
    """One record breaks a rule; the parser reports it and goes on with the next record."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


@dataclass(frozen=True, slots=True)
class ParseIssue:
    """A rule broken at one place of one file; `str()` gives the message shown to ARS staff (in French)."""

    file: str
    rule: str
    line: int | None = None
    record: int | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.record is not None:
            where.append(f"enregistrement {self.record}")
        if self.line is not None:
            where.append(f"ligne {self.line}")
        return f"{', '.join(where)} : {self.rule}"


@dataclass(slots=True)
class ParseReport:
    """Counts and issues for one file.

    Only the first `max_issues` issues are kept so that a file broken on every line cannot exhaust memory;
    `issue_count` still counts them all.
    """

    file: str
    max_issues: int = 1000
    encoding: str | None = None
    records_read: int = 0
    records_accepted: int = 0
    issue_count: int = 0
    issues: list[ParseIssue] = field(default_factory=list)

    def add(self, rule: str, *, line: int | None = None, record: int | None = None) -> None:
        self.issue_count += 1
        if len(self.issues) < self.max_issues:
            self.issues.append(ParseIssue(self.file, rule, line=line, record=record))

    @property
    def ok(self) -> bool:
        return self.issue_count == 0
