"""Policies as operators write them: one policy's Cedar text, its scope and where it came
from; splitting a `.cedar` file into its policies; the errors that name file and line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from dome.errors import ConfigError
from dome.policy.scope import Scope

# Letters, digits and _ . : / - as the issue asks, plus @ because config names may hold it.
POLICY_ID: Final = re.compile(r"[A-Za-z0-9_.:/@-]+")


@dataclass(frozen=True, slots=True)
class PolicySource:
    """One policy's Cedar text, annotations included, as applied at `scope`."""

    id: str
    scope: Scope
    text: str
    file: str | None = None
    line: int | None = None  # where the policy starts in `file`


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    file: str
    line: int | None
    policy_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.policy_id is None:
            return f"{where}: {self.message}"
        return f'{where}: policy "{self.policy_id}": {self.message}'


class PolicyFileError(ConfigError):
    """A policy file that cannot be applied; one line per problem, each naming file and line."""

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(map(str, self.problems)))


@dataclass(frozen=True, slots=True)
class PolicyChunk:
    """The text of one policy in a file, found without parsing Cedar."""

    text: str  # the comment lines directly above it, then the policy through its `;`
    line: int  # 1-based line of its first token (an annotation or the effect)
    text_line: int  # the line `text` starts on (earlier than `line` when it has comments)
    terminated: bool  # False when the file ends before its `;`


def split_policies(text: str) -> list[PolicyChunk]:
    """Split Cedar policy text at each `;` outside strings and comments.

    Cedar uses `;` only to end a policy, so each piece is exactly one policy; a piece
    that does not parse is a syntax error located in that policy alone.
    """
    chunks: list[PolicyChunk] = []
    start: int | None = None
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if text.startswith("//", i):
            newline = text.find("\n", i)
            i = end if newline < 0 else newline
            continue
        if char.isspace():
            i += 1
            continue
        if start is None:
            start = i
        if char == '"':
            i = _string_end(text, i)
            continue
        i += 1
        if char == ";":
            chunks.append(_chunk(text, start, i, terminated=True))
            start = None
    if start is not None:
        chunks.append(_chunk(text, start, end, terminated=False))
    return chunks


def _string_end(text: str, quote: int) -> int:
    """The offset just past the string literal opening at `quote` (or the end of text)."""
    i = quote + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    return len(text)


def _chunk(text: str, start: int, stop: int, *, terminated: bool) -> PolicyChunk:
    line = text.count("\n", 0, start) + 1
    line_start = text.rfind("\n", 0, start) + 1
    begin = start
    if not text[line_start:start].strip():
        begin = line_start
        # Take the comment lines directly above as the policy's own documentation.
        while begin > 0:
            previous = text.rfind("\n", 0, begin - 1) + 1
            if not text[previous : begin - 1].strip().startswith("//"):
                break
            begin = previous
    return PolicyChunk(text[begin:stop], line, text.count("\n", 0, begin) + 1, terminated)


def line_of(chunk: PolicyChunk, fragment: str) -> int:
    """The file line of the first line of the policy that holds `fragment`, else its
    first line."""
    for number, content in enumerate(chunk.text.split("\n"), start=chunk.text_line):
        if number >= chunk.line and fragment in content:
            return number
    return chunk.line
