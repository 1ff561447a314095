"""Errors of the scene generator.

SceneError (ValueError)
├── SceneConfigError   a SceneConfig or a size that cannot describe a scene
├── ScenarioError      a scenario timeline that cannot be rendered
├── DatasetWriteError  a dataset folder that cannot be written
├── MarkerVideoError   (scenes.marker_video) a marker video that cannot be written
└── MarkerModelError   (scenes.marker_model) a marker model that cannot be built
"""


class SceneError(ValueError):
    """Base of every error raised by the scenes package."""


class SceneConfigError(SceneError):
    """A SceneConfig field or an image size is out of range; the message names the field."""


class ScenarioError(SceneError):
    """A scenario's timeline, size or fps cannot be rendered."""


class DatasetWriteError(SceneError):
    """The dataset folder or its arguments are unusable."""
