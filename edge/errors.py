"""Errors of the edge worker; the hierarchy is in edge/__init__.py."""


class EdgeError(Exception):
    """Base of every error the edge raises on purpose."""


class ConfigError(EdgeError):
    """An edge config file that cannot be used; `problems` holds one "key.path: reason" each."""

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        listed = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid edge config {path}:\n{listed}")


class OutboxError(EdgeError):
    """The on-disk outbox cannot be opened or written."""


class PublisherError(EdgeError):
    """The MQTT client cannot be set up (TLS files, options)."""
