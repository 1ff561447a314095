"""Identifiers of sites, edges, cameras, rules and zones: safe as topic levels and file names."""

import re
from typing import Annotated

from pydantic import StringConstraints

# Letters, digits, '_' and '-' only: never '/', '+', '#', '.', spaces or control characters, so an
# identifier can never add a topic level, inject a wildcard or walk a file path.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_IDENTIFIER_RE = re.compile(IDENTIFIER_PATTERN)

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]


def is_identifier(value: str) -> bool:
    """True when `value` may be used as a site, edge or camera id."""
    return _IDENTIFIER_RE.fullmatch(value) is not None
