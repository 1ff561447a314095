"""Hide the passwords in source URLs and in error text before anything is logged or raised."""

import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

MASK = "***"

# query parameters that some cameras take credentials in, e.g. ?user=admin&password=...
_SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "pass", "token", "secret"})
# user:password@ after a scheme, wherever it occurs in a text
_USERINFO_RE = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/@:]*):(?P<secret>[^\s/]*)@")
_QUERY_SECRET_RE = re.compile(
    r"(?P<head>[?&;](?:" + "|".join(sorted(_SECRET_QUERY_KEYS)) + r")=)(?P<secret>[^&;\s'\"]*)",
    re.IGNORECASE,
)
# a password this short would mask unrelated characters of a message; the URL patterns still apply
_MIN_LITERAL_SECRET_LEN = 4


def redact_url(url: str) -> str:
    """The URL with its password (and secret query parameters) replaced by ***; the rest kept."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            host = netloc.rpartition("@")[2]
            netloc = f"{parts.username or ''}:{MASK}@{host}"
        query = parts.query
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in _SECRET_QUERY_KEYS for key, _ in pairs):
            query = urlencode(
                [(k, MASK if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs], safe="*"
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        # not parseable as a URL (e.g. a bad port): mask by pattern instead
        return redact_text(url)


def redact_text(text: str, *urls: str) -> str:
    """Mask every user:password@ and secret query value in text, and the passwords of urls anywhere.

    For error messages from libraries (FFmpeg puts the full URL in its messages).
    """
    for url in urls:
        for secret in _secrets_of(url):
            text = text.replace(secret, MASK)
    text = _USERINFO_RE.sub(lambda m: f"{m['head']}:{MASK}@", text)
    return _QUERY_SECRET_RE.sub(lambda m: f"{m['head']}{MASK}", text)


def _secrets_of(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        found = [parts.password] if parts.password else []
        found += [
            v
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() in _SECRET_QUERY_KEYS
        ]
    except ValueError:
        return []
    literal = {s for s in found if len(s) >= _MIN_LITERAL_SECRET_LEN}
    literal |= {unquote(s) for s in literal}
    # longest first, so a secret that contains another is masked whole
    return sorted(literal, key=len, reverse=True)
