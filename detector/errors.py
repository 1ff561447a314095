"""Errors of the detector package.

Exceptions: DetectorError    the detector cannot do it (a bad image, a model that misbehaves)
    └── ModelError          a model file that is missing, corrupt, or not an ultralytics export
"""


class DetectorError(Exception):
    """The detector cannot turn this input into detections."""


class ModelError(DetectorError):
    """A model file that cannot be used; the message names the path, what was expected and found."""
