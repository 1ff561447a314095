"""Errors of the kitchen rules; the hierarchy is in edge/kitchen/__init__.py."""

from edge.errors import EdgeError


class KitchenConfigError(EdgeError):
    """A kitchen section that cannot be built; `problems` holds one "key.path: reason" each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        listed = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid kitchen rules:\n{listed}")
