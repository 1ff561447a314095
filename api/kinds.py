"""Display names of the violation kinds in the two languages the users read (中文 / English)."""

from types import MappingProxyType
from typing import Final

from contracts import ViolationKind

# (中文, English), after the catalogue in ../shared/DOMAIN.md
KIND_LABELS: Final = MappingProxyType(
    {
        ViolationKind.NO_HAT: ("未戴厨师帽", "No hat"),
        ViolationKind.NO_MASK: ("未戴口罩", "No mask"),
        ViolationKind.RODENT: ("鼠患", "Rodent"),
        ViolationKind.UNCOVERED_FOOD: ("食品未覆盖", "Uncovered food"),
        ViolationKind.SMOKING: ("吸烟", "Smoking"),
        ViolationKind.NO_UNIFORM: ("未穿工作服", "No uniform"),
        ViolationKind.PHONE: ("玩手机", "Phone use"),
        ViolationKind.INTRUSION: ("区域入侵", "Intrusion"),
        ViolationKind.BIN_OPEN: ("垃圾桶未盖", "Bin open"),
        ViolationKind.CAMERA_OFFLINE: ("视频离线", "Camera offline"),
        ViolationKind.CAMERA_FROZEN: ("画面冻结", "Camera frozen"),
        ViolationKind.CAMERA_BLURRED_OR_COVERED: ("画面模糊/遮挡", "Camera blurred or covered"),
    }
)


def kind_label(kind: ViolationKind | str) -> tuple[str, str]:
    """(中文, English) for `kind`; the code itself for a kind added without a label."""
    code = str(kind)
    found = KIND_LABELS.get(ViolationKind(code)) if code in set(ViolationKind) else None
    return found or (code, code)
