"""Training and evaluation of the kitchen model: dataset conversion, metrics and the training run.

Errors: TrainingError (ValueError) is the base; DatasetError (a dataset that cannot be read or
converted) derives from it.
"""
