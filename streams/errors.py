"""The streams package's exceptions (hierarchy in streams/__init__.py); never holding passwords."""


class StreamError(Exception):
    """Base of every error raised by a frame source."""


class SourceOpenError(StreamError):
    """A source cannot be opened: a missing or unreadable file, a refused or unauthorized URL."""


class StreamReadError(StreamError):
    """An open source failed, ended or stalled while reading."""
