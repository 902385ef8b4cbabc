"""How choreo_lab words things for people: suggestions, short values, errors in one line."""

from __future__ import annotations

import difflib
import re
import textwrap
from collections.abc import Iterable

_MEMORY_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """" Did you mean 'payment'?" for the closest known name (any case), or ""."""
    by_lower = {str(k).lower(): str(k) for k in known}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1)
    return f" Did you mean {by_lower[close[0]]!r}?" if close else ""


def shorten(text: str, width: int) -> str:
    """`text`, cut to `width` characters ending in "…" if it is longer."""
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def describe_value(obj: object, limit: int = 100) -> str:
    """Type and repr of `obj` for an error message: shortened, without memory addresses
    (they change from run to run, and messages end up in the trace)."""
    return shorten(f"{type(obj).__name__} {_MEMORY_ADDRESS.sub('', repr(obj))}", limit)


def describe_error(error: BaseException, limit: int = 200) -> str:
    """"KeyError: 'lamp'": the error's type and the first line of its message, shortened."""
    message = str(error).splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return shorten(_MEMORY_ADDRESS.sub("", text), limit)


def plural(count: int, noun: str) -> str:
    """"1 subscription", "3 subscriptions"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def duration_text(ms: int) -> str:
    """A virtual duration in the largest unit that reads well: "3 d", "2 h", "30 s", "5 ms"."""
    for size, unit in ((86_400_000, "d"), (3_600_000, "h"), (60_000, "min"), (1000, "s")):
        amount = round(ms / size, 1)
        if amount >= 1:
            return f"{int(amount)} {unit}" if amount.is_integer() else f"{amount} {unit}"
    return f"{ms} ms"


#: Columns of text output (trace lines, tables, reports): what a JupyterLab output area shows
#: without wrapping at its default font, so long lines are broken here, between words, rather
#: than by the browser in the middle of one.
WIDTH = 100


def fit(line: str, width: int = WIDTH, indent: int = 4) -> str:
    """`line` broken between words into lines of at most `width` columns (a word longer than
    that stays whole); continuation lines are indented by `indent` columns."""
    if len(line) <= width:
        return line
    return textwrap.fill(line, width, subsequent_indent=" " * indent, break_long_words=False,
                         break_on_hyphens=False, drop_whitespace=True)
