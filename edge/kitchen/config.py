"""The `kitchen` config section: schedules, per-camera area and zones, and the kitchen rules.

Pydantic models only (frozen, extra="forbid"), to be embedded in EdgeConfig as `kitchen:`; they
import nothing of edge.config, so edge.config may import them. Cross-checks that need the camera
list (unknown cameras, zones, schedules) are in build.kitchen_problems; build.build_kitchen_rules
turns a validated config into one KitchenRuleEngine per camera.

Times are "HH:MM" strings, 00:00..24:00 in the configured IANA time zone (default
Asia/Shanghai). Write them quoted: YAML 1.1 reads an unquoted 21:00 as the number 1260, which is
accepted as the same time (minutes after midnight). Built-in schedules (redefine a name to
change it): service 06:00-13:30 and 15:30-19:30, plating 06:30-07:30, 10:30-12:30 and
16:30-18:30, night 21:00-06:00, all daily.
"""

from datetime import date
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts import Identifier
from edge.kitchen.area import AreaType
from edge.kitchen.scene import Labels
from edge.kitchen.schedule import Weekday, parse_clock
from edge.zones import polygon_problem

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0, le=86_400.0)]

_DAY_NAMES = {day.name.lower(): day for day in Weekday}
_DAY_SETS = {
    "all": tuple(Weekday),
    "daily": tuple(Weekday),
    "weekdays": tuple(Weekday)[:5],
    "weekends": tuple(Weekday)[5:],
}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _days(value: object) -> object:
    """ "all", "weekdays", "weekends", or a list of mon..sun and ranges like "mon-fri"."""
    if isinstance(value, str):
        if value.lower() in _DAY_SETS:
            return _DAY_SETS[value.lower()]
        value = [value]
    if not isinstance(value, list | tuple):
        return value
    days: list[Weekday] = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"{item!r} is not a day: use mon..sun, mon-fri, weekdays or all")
        first, _, last = item.lower().partition("-")
        if first not in _DAY_NAMES or (last and last not in _DAY_NAMES):
            raise ValueError(f"{item!r} is not a day: use mon..sun, mon-fri, weekdays or all")
        start, end = _DAY_NAMES[first], _DAY_NAMES[last or first]
        span = range(start, end + 1) if end >= start else [*range(start, 7), *range(0, end + 1)]
        days.extend(Weekday(day) for day in span if Weekday(day) not in days)
    return tuple(days)


class WindowConfig(_Strict):
    days: tuple[Weekday, ...] = Field(default=tuple(Weekday), min_length=1)
    start: int = Field(description='"HH:MM" local time')
    end: int = Field(description='"HH:MM"; at or before start: ends on the next day')

    _days = field_validator("days", mode="before")(_days)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_clock(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
            return value  # YAML 1.1 read an unquoted HH:MM as minutes
        raise ValueError('must be a time "HH:MM" between 00:00 and 24:00')

    @model_validator(mode="after")
    def _length(self) -> Self:
        if self.start == self.end or (self.start == 1440):
            raise ValueError("start and end must differ and start must be before 24:00")
        return self


class ScheduleConfig(_Strict):
    windows: tuple[WindowConfig, ...]
    off_dates: tuple[date, ...] = Field(default=(), description="holidays: no window starts")

    @model_validator(mode="before")
    @classmethod
    def _list_is_windows(cls, data: object) -> object:
        return {"windows": data} if isinstance(data, list) else data

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        # checked here, not with min_length, which would also fire when a window is invalid
        if not self.windows:
            raise ValueError("a schedule needs at least one window")
        return self


def _window(start: str, end: str) -> WindowConfig:
    return WindowConfig(start=parse_clock(start), end=parse_clock(end))


BUILTIN_SCHEDULES: dict[str, ScheduleConfig] = {
    "service": ScheduleConfig(windows=(_window("06:00", "13:30"), _window("15:30", "19:30"))),
    "plating": ScheduleConfig(
        windows=(
            _window("06:30", "07:30"),
            _window("10:30", "12:30"),
            _window("16:30", "18:30"),
        )
    ),
    "night": ScheduleConfig(windows=(_window("21:00", "06:00"),)),
}


class ActiveWhenConfig(_Strict):
    """Active during any `during` schedule, or outside every `outside` one."""

    during: tuple[Identifier, ...] = ()
    outside: tuple[Identifier, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if data == "always":
            return {}
        if isinstance(data, str):
            return {"during": [data]}
        if isinstance(data, list):
            return {"during": data}
        return data

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.during, *self.outside)


ALWAYS = ActiveWhenConfig()


class ZoneConfig(_Strict):
    id: Identifier
    polygon: tuple[tuple[Fraction, Fraction], ...] = Field(min_length=3)

    @field_validator("polygon")
    @classmethod
    def _valid(cls, polygon: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        problem = polygon_problem(polygon)
        if problem is not None:
            raise ValueError(problem)
        return polygon


class KitchenCameraConfig(_Strict):
    area: AreaType | None = Field(default=None, description="absent: every rule, no area caps")
    zones: tuple[ZoneConfig, ...] = ()

    @model_validator(mode="after")
    def _unique_zones(self) -> Self:
        ids = [zone.id for zone in self.zones]
        duplicates = sorted({zone_id for zone_id in ids if ids.count(zone_id) > 1})
        if duplicates:
            raise ValueError(f"duplicate zone id(s): {', '.join(duplicates)}")
        return self


class ZoneSelectionConfig(_Strict):
    include: tuple[Identifier, ...] = Field(default=(), description="empty: the whole frame")
    exclude: tuple[Identifier, ...] = ()


class AreaOverrideConfig(_Strict):
    min_duration_s: Seconds | None = None
    min_confidence: Fraction | None = None
    schedule: ActiveWhenConfig | None = None


class TrackerConfig(_Strict):
    high_confidence: Fraction = 0.4
    low_confidence: Fraction = 0.1
    min_iou: float = Field(default=0.2, gt=0.0, le=1.0)
    centre_gate: float = Field(default=1.0, ge=0.0, le=10.0)
    max_age_s: float = Field(default=2.0, gt=0.0, le=600.0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.low_confidence > self.high_confidence:
            raise ValueError("low_confidence must not exceed high_confidence")
        return self


class TrackingConfig(_Strict):
    people: TrackerConfig = TrackerConfig(centre_gate=0.5)
    rodents: TrackerConfig = TrackerConfig(max_age_s=1.5, centre_gate=2.0)
    food: TrackerConfig = TrackerConfig(max_age_s=30.0, min_iou=0.3, centre_gate=0.5)


class _RuleBase(_Strict):
    id: Identifier
    cameras: Annotated[tuple[Identifier, ...], Field(min_length=1)] | None = Field(
        default=None, description='camera ids, or "all" (the default)'
    )
    severity: int = Field(default=3, ge=1, le=3)
    schedule: ActiveWhenConfig = ALWAYS
    min_duration_s: Seconds = 3.0
    cooldown_s: Seconds = 30.0
    clear_s: Seconds = 3.0

    @field_validator("cameras", mode="before")
    @classmethod
    def _all_cameras(cls, cameras: object) -> object:
        return None if cameras == "all" else cameras

    def watches(self, camera_id: str) -> bool:
        return self.cameras is None or camera_id in self.cameras


class _DetectionRuleBase(_RuleBase):
    areas: tuple[AreaType, ...] | None = Field(
        default=None, description='area types, "all", or absent: the kind\'s defaults'
    )
    area_defaults: bool = Field(default=True, description="apply the built-in stricter areas")
    area_overrides: dict[AreaType, AreaOverrideConfig] = Field(default_factory=dict)
    zones: ZoneSelectionConfig = ZoneSelectionConfig()
    min_confidence: Fraction = 0.5
    max_gap_s: Seconds | None = Field(default=None, description="absent: max(1 s, 2 frames)")
    lost_after_s: Seconds = 10.0

    @field_validator("areas", mode="before")
    @classmethod
    def _all_areas(cls, areas: object) -> object:
        return tuple(AreaType) if areas == "all" else areas


class NoHatRuleConfig(_DetectionRuleBase):
    kind: Literal["no_hat"]
    schedule: ActiveWhenConfig = ActiveWhenConfig(during=("service",))
    min_part_px: float = Field(default=8.0, ge=0.0, description="smaller heads are uncertain")


class NoMaskRuleConfig(_DetectionRuleBase):
    kind: Literal["no_mask"]
    schedule: ActiveWhenConfig = ActiveWhenConfig(during=("plating",))
    min_part_px: float = Field(default=8.0, ge=0.0, description="smaller faces are uncertain")


class MotionSupportConfig(_Strict):
    min_confidence: Fraction = 0.25
    boost: Fraction = 0.15
    max_blob_fraction: Fraction = 0.01


class RodentRuleConfig(_DetectionRuleBase):
    kind: Literal["rodent"]
    severity: int = Field(default=1, ge=1, le=3)
    schedule: ActiveWhenConfig = ActiveWhenConfig(during=("night",), outside=("service",))
    min_duration_s: Seconds = 1.0
    clear_s: Seconds = Field(default=10.0, description="no rodent seen this long ends it")
    detect_fps: float = Field(default=5.0, gt=0.0, le=30.0)
    cat_cover: Fraction = 0.3
    motion: MotionSupportConfig | None = MotionSupportConfig()


class UncoveredFoodRuleConfig(_DetectionRuleBase):
    kind: Literal["uncovered_food"]
    severity: int = Field(default=2, ge=1, le=3)
    min_duration_s: Seconds = Field(default=60.0, description="how long food may stay open")
    max_gap_s: Seconds | None = 10.0


class _HealthRuleBase(_RuleBase):
    severity: int = Field(default=2, ge=1, le=3)


class CameraOfflineRuleConfig(_HealthRuleBase):
    kind: Literal["camera_offline"]
    min_duration_s: Seconds = Field(default=60.0, description="outage length before the alert")
    clear_s: Seconds = 10.0


class CameraFrozenRuleConfig(_HealthRuleBase):
    kind: Literal["camera_frozen"]
    min_duration_s: Seconds = 30.0
    clear_s: Seconds = 5.0
    max_change: float = Field(default=0.05, ge=0.0, le=255.0)


class CameraBlurredOrCoveredRuleConfig(_HealthRuleBase):
    kind: Literal["camera_blurred_or_covered"]
    min_duration_s: Seconds = 15.0
    clear_s: Seconds = 10.0
    min_sharpness: float = Field(default=8.0, ge=0.0)
    min_relative_sharpness: Fraction = 0.2
    min_brightness: float = Field(default=12.0, ge=0.0, le=255.0)
    max_flat_fraction: Fraction = 0.9
    recover_margin: float = Field(default=1.25, ge=1.0, le=10.0)


DetectionRuleConfig = (
    NoHatRuleConfig | NoMaskRuleConfig | RodentRuleConfig | UncoveredFoodRuleConfig
)
HealthRuleConfig = (
    CameraOfflineRuleConfig | CameraFrozenRuleConfig | CameraBlurredOrCoveredRuleConfig
)
KitchenRuleConfig = Annotated[DetectionRuleConfig | HealthRuleConfig, Field(discriminator="kind")]


def default_rules() -> tuple[DetectionRuleConfig | HealthRuleConfig, ...]:
    """One rule of each kind with its defaults: what `rules` absent means."""
    return (
        NoHatRuleConfig(id="no_hat", kind="no_hat"),
        NoMaskRuleConfig(id="no_mask", kind="no_mask"),
        RodentRuleConfig(id="rodent", kind="rodent"),
        UncoveredFoodRuleConfig(id="uncovered_food", kind="uncovered_food"),
        CameraOfflineRuleConfig(id="camera_offline", kind="camera_offline"),
        CameraFrozenRuleConfig(id="camera_frozen", kind="camera_frozen"),
        CameraBlurredOrCoveredRuleConfig(
            id="camera_blurred_or_covered", kind="camera_blurred_or_covered"
        ),
    )


class KitchenRulesConfig(_Strict):
    timezone: str = Field(default="Asia/Shanghai", description="IANA time zone of the schedules")
    schedules: dict[Identifier, ScheduleConfig] = Field(default_factory=dict)
    cameras: dict[Identifier, KitchenCameraConfig] = Field(default_factory=dict)
    labels: Labels = Labels()  # the model's class name for each role
    tracking: TrackingConfig = TrackingConfig()
    health_sample_interval_s: float = Field(default=1.0, gt=0.0, le=60.0)
    rules: tuple[KitchenRuleConfig, ...] | None = Field(
        default=None, description="absent: one rule of each kind with its defaults"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {name!r} (e.g. Asia/Shanghai)") from None
        return name

    @property
    def zone_info(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_rules(self) -> tuple[DetectionRuleConfig | HealthRuleConfig, ...]:
        return default_rules() if self.rules is None else self.rules

    @property
    def all_schedules(self) -> dict[str, ScheduleConfig]:
        return {**BUILTIN_SCHEDULES, **self.schedules}
