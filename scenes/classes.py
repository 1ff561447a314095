"""The class catalogue of the kitchen model: one tuple, in the order the model's class ids follow.

Why these classes: each required violation becomes a plain "a box of class X exists" rule, and the
compliant twin of every violating class is a class of its own, so that the model must decide between
the two on the attribute that matters instead of on the scene around it:

- ``person``: a whole visible person (staff); gives the rules a target to track and count.
- ``head_covered`` / ``head_bare``: a head whose hair is covered by a chef's toque, a disposable
  hair net or a cap / a head with visible hair (or bald and uncovered). ``head_bare`` -> no_hat.
- ``face_masked`` / ``face_bare``: a face whose mask covers nose and mouth / a face without a
  mask, or with the mask worn under the nose or on the chin. ``face_bare`` -> no_mask. A face is
  labelled only when seen from the front or three-quarters (never from behind or from above).
- ``rodent``: a rat or a mouse, tail included. -> rodent.
- ``cat``: a hard negative for rodents (a known false visit); never a violation by itself.
- ``food_covered`` / ``food_uncovered``: a tray, basin or bowl holding food, covered by a lid or
  cling film / open. ``food_uncovered`` -> uncovered_food. Empty containers are not labelled.
"""

from enum import StrEnum


class KitchenClass(StrEnum):
    PERSON = "person"
    HEAD_COVERED = "head_covered"
    HEAD_BARE = "head_bare"
    FACE_MASKED = "face_masked"
    FACE_BARE = "face_bare"
    RODENT = "rodent"
    CAT = "cat"
    FOOD_COVERED = "food_covered"
    FOOD_UNCOVERED = "food_uncovered"


CLASS_NAMES: tuple[str, ...] = tuple(member.value for member in KitchenClass)
"""Class names by class id: ``CLASS_NAMES[class_id]``. The order is part of the model's contract."""


def class_id(name: str | KitchenClass) -> int:
    """The class id of a class name; raises KeyError naming the unknown class."""
    try:
        return CLASS_NAMES.index(str(name))
    except ValueError:
        raise KeyError(f"unknown class {name!r}; known: {', '.join(CLASS_NAMES)}") from None
