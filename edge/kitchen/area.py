"""Area types of a kitchen camera and how each makes the rules stricter (built-in defaults).

A camera watches one area type (the 食品处理区 of 餐饮服务食品安全操作规范, and the entrance):

| code | 中文 | what happens there |
|---|---|---|
| rough_processing | 粗加工 | washing, cutting, sorting raw ingredients |
| cooking | 烹饪 | hot cooking, holding and plating of cooked dishes |
| special_room | 专间 | ready-to-eat food: cold dishes, plating/分餐 rooms; the strictest area |
| washing | 洗消 | washing and disinfecting tableware |
| storage | 库房 | dry and cold stores |
| sample_retention | 留样 | 48 h food samples: taken, sealed and refrigerated |
| entrance | 出入口 | doors, changing point; staff put hats and masks on here |

Why the defaults (DEFAULT_AREAS: where a rule runs; STRICTER: per area, caps that only ever make a
rule more sensitive, taken as min(rule value, cap)):
- no_hat: hair must be covered in every food-handling area, not at the entrance where it is put
  on. 专间 and 留样 handle ready-to-eat food: active at any hour, 1.5 s / 2 s and confidence 0.4.
- no_mask: the 规范 requires masks in 专间 and during 分餐/plating: by default the rule runs
  in cooking, special_room and sample_retention during the `plating` schedule, and in 专间 / 留样
  at any hour with the stricter timing. `areas: all` and `schedule: service`: masks everywhere.
- rodent: every area including the entrance (where they come in). Where food is stored or ready to
  eat (库房, 专间, 留样) a rodent matters at any hour, not only at night, and 0.6 s suffices.
- uncovered_food: where cooked or stored food waits (烹饪, 专间, 留样, 库房); not 粗加工, where raw
  food is open while being worked. Ready-to-eat food in 专间 / 留样 may stay open 30 s, not 60 s.
- camera health: everywhere, always; the area changes nothing.
A camera with no area configured gets every rule, with no area caps.
"""

from dataclasses import dataclass
from enum import StrEnum

from contracts import ViolationKind


class AreaType(StrEnum):
    ROUGH_PROCESSING = "rough_processing"  # 粗加工
    COOKING = "cooking"  # 烹饪
    SPECIAL_ROOM = "special_room"  # 专间
    WASHING = "washing"  # 洗消
    STORAGE = "storage"  # 库房
    SAMPLE_RETENTION = "sample_retention"  # 留样
    ENTRANCE = "entrance"  # 出入口


AREA_NAMES_ZH: dict[AreaType, str] = {
    AreaType.ROUGH_PROCESSING: "粗加工",
    AreaType.COOKING: "烹饪",
    AreaType.SPECIAL_ROOM: "专间",
    AreaType.WASHING: "洗消",
    AreaType.STORAGE: "库房",
    AreaType.SAMPLE_RETENTION: "留样",
    AreaType.ENTRANCE: "出入口",
}


@dataclass(frozen=True, slots=True)
class AreaPolicy:
    """How an area changes a rule; None leaves the rule's own value."""

    min_duration_s: float | None = None
    min_confidence: float | None = None
    always_active: bool = False  # ignore the rule's schedule in this area


_ALL = frozenset(AreaType)
_READY_TO_EAT = AreaPolicy(min_duration_s=1.5, min_confidence=0.4, always_active=True)
_SAMPLES = AreaPolicy(min_duration_s=2.0, min_confidence=0.4, always_active=True)

DEFAULT_AREAS: dict[ViolationKind, frozenset[AreaType]] = {
    ViolationKind.NO_HAT: _ALL - {AreaType.ENTRANCE},
    ViolationKind.NO_MASK: frozenset(
        {AreaType.COOKING, AreaType.SPECIAL_ROOM, AreaType.SAMPLE_RETENTION}
    ),
    ViolationKind.RODENT: _ALL,
    ViolationKind.UNCOVERED_FOOD: frozenset(
        {AreaType.COOKING, AreaType.SPECIAL_ROOM, AreaType.SAMPLE_RETENTION, AreaType.STORAGE}
    ),
    ViolationKind.CAMERA_OFFLINE: _ALL,
    ViolationKind.CAMERA_FROZEN: _ALL,
    ViolationKind.CAMERA_BLURRED_OR_COVERED: _ALL,
}

STRICTER: dict[ViolationKind, dict[AreaType, AreaPolicy]] = {
    ViolationKind.NO_HAT: {
        AreaType.SPECIAL_ROOM: _READY_TO_EAT,
        AreaType.SAMPLE_RETENTION: _SAMPLES,
    },
    ViolationKind.NO_MASK: {
        AreaType.SPECIAL_ROOM: _READY_TO_EAT,
        AreaType.SAMPLE_RETENTION: _SAMPLES,
    },
    ViolationKind.RODENT: {
        area: AreaPolicy(min_duration_s=0.6, min_confidence=0.4, always_active=True)
        for area in (AreaType.STORAGE, AreaType.SPECIAL_ROOM, AreaType.SAMPLE_RETENTION)
    },
    ViolationKind.UNCOVERED_FOOD: {
        AreaType.SPECIAL_ROOM: AreaPolicy(min_duration_s=30.0, always_active=True),
        AreaType.SAMPLE_RETENTION: AreaPolicy(min_duration_s=30.0, always_active=True),
    },
}


def stricter(policy: AreaPolicy, *, min_duration_s: float, min_confidence: float) -> AreaPolicy:
    """A built-in cap applied to a rule's values: it may only tighten them, never loosen."""
    return AreaPolicy(
        min_duration_s=None
        if policy.min_duration_s is None
        else min(policy.min_duration_s, min_duration_s),
        min_confidence=None
        if policy.min_confidence is None
        else min(policy.min_confidence, min_confidence),
        always_active=policy.always_active,
    )
