"""Training and evaluation of the kitchen model: data, training run, evaluation and model card.

Modules: datasets (VOC -> YOLO, label readers), metrics (box and event metrics), train (ultralytics,
needs the `train` extra), evaluate (labelled image sets), scenario_eval (scenario videos through the
edge's rules), cli (`brightkitchen train` / `eval`), pipeline + pipeline_eval (`make model`),
model_card + card_text (MODEL_CARD.md from the measured report).

Errors: TrainingError (ValueError) is the base; DatasetError (a dataset that cannot be read or
converted) derives from it.
"""
