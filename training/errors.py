"""Errors of the training package.

TrainingError (ValueError)
└── DatasetError   a dataset (VOC, YOLO, data.yaml) that cannot be read or converted; names the path
"""


class TrainingError(ValueError):
    """Base of every error raised by the training package."""


class DatasetError(TrainingError):
    """A dataset file or folder is missing or malformed; the message names the path and why."""
