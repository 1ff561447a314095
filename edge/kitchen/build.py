"""From a validated `kitchen` config section to one KitchenRuleEngine per camera.

Per camera and rule (see area.py for the table of defaults):
- the rule runs on a camera it watches whose area is among the rule's areas (a camera with no
  area gets every rule), and, when the rule names include zones, only if at least one of them is
  drawn on that camera;
- its min_duration_s and min_confidence are the area override's when one is configured, else the
  built-in area cap applied to the rule's own value (caps only ever tighten), else the rule's;
  likewise its schedule (the built-in caps of 专间 / 留样 / 库房 make it active at any hour);
- max_gap_s, when not configured, is max(1 s, 2 frame intervals at the camera's detect_fps).
"""

import logging
import math
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from contracts import ViolationKind
from edge.kitchen.area import DEFAULT_AREAS, STRICTER, AreaPolicy, AreaType, stricter
from edge.kitchen.config import (
    ActiveWhenConfig,
    CameraBlurredOrCoveredRuleConfig,
    CameraFrozenRuleConfig,
    DetectionRuleConfig,
    HealthRuleConfig,
    KitchenCameraConfig,
    KitchenRulesConfig,
    NoHatRuleConfig,
    NoMaskRuleConfig,
    RodentRuleConfig,
    ScheduleConfig,
    TrackerConfig,
)
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.errors import KitchenConfigError
from edge.kitchen.health import CameraHealth, HealthThresholds
from edge.kitchen.incidents import RuleIdentity, Timing
from edge.kitchen.rules import (
    DetectionRule,
    NoHatRule,
    NoMaskRule,
    RodentRule,
    RuleSettings,
    UncoveredFoodRule,
    ZoneFilter,
)
from edge.kitchen.scene import MotionSupport, SceneTracker, TrackingSettings
from edge.kitchen.schedule import ActiveWhen, Schedule, TimeWindow
from edge.kitchen.tracker import TrackerSettings
from edge.zones import Zone

logger = logging.getLogger(__name__)

IdFactory = Callable[[], uuid.UUID]
_HEALTH_KINDS = ("camera_offline", "camera_frozen", "camera_blurred_or_covered")


class CameraSpec(Protocol):
    """What the build needs of a camera (edge.config.CameraConfig has it)."""

    @property
    def id(self) -> str: ...

    @property
    def detect_fps(self) -> float: ...

    @property
    def stall_timeout_s(self) -> float: ...


def kitchen_problems(config: KitchenRulesConfig, camera_ids: Collection[str]) -> list[str]:
    """Checks across the kitchen section and the cameras, each "kitchen.key.path: reason"."""
    problems = [
        f"kitchen.cameras.{camera_id}: unknown camera (not in cameras)"
        for camera_id in config.cameras
        if camera_id not in camera_ids
    ]
    schedules = config.all_schedules
    rule_ids: dict[str, int] = {}
    health_cameras: dict[tuple[str, str], int] = {}
    for index, rule in enumerate(config.rules or ()):
        where = f"kitchen.rules.{index}"
        if rule.id in rule_ids:
            problems.append(f"{where}.id: duplicate rule id {rule.id!r} (also {rule_ids[rule.id]})")
        rule_ids.setdefault(rule.id, index)
        problems.extend(
            f"{where}.cameras: unknown camera {camera_id!r}"
            for camera_id in rule.cameras or ()
            if camera_id not in camera_ids
        )
        references = [("schedule", rule.schedule)]
        if not isinstance(rule, HealthRuleConfig):
            references += [
                (f"area_overrides.{area.value}.schedule", override.schedule)
                for area, override in rule.area_overrides.items()
                if override.schedule is not None
            ]
            problems.extend(_zone_problems(where, rule, config.cameras, camera_ids))
        for key, active in references:
            problems.extend(
                f"{where}.{key}: unknown schedule {name!r} (known: {', '.join(sorted(schedules))})"
                for name in active.names
                if name not in schedules
            )
        if isinstance(rule, HealthRuleConfig):
            for camera_id in camera_ids:
                if rule.watches(camera_id):
                    other = health_cameras.setdefault((rule.kind, camera_id), index)
                    if other != index:
                        problems.append(
                            f"{where}.cameras: camera {camera_id!r} already has a {rule.kind}"
                            f" rule (kitchen.rules.{other})"
                        )
    return problems


def _zone_problems(
    where: str,
    rule: DetectionRuleConfig,
    cameras: dict[str, KitchenCameraConfig],
    camera_ids: Collection[str],
) -> list[str]:
    drawn = {
        zone.id
        for camera_id, camera in cameras.items()
        if camera_id in camera_ids and rule.watches(camera_id)
        for zone in camera.zones
    }
    return [
        f"{where}.zones.{key}: zone {zone_id!r} is drawn on none of the rule's cameras"
        for key, zone_ids in (("include", rule.zones.include), ("exclude", rule.zones.exclude))
        for zone_id in zone_ids
        if zone_id not in drawn
    ]


def build_kitchen_rules(
    config: KitchenRulesConfig,
    cameras: Sequence[CameraSpec],
    *,
    started_at: datetime,
    new_id: IdFactory = uuid.uuid4,
) -> dict[str, KitchenRuleEngine]:
    """One engine per camera; raises KitchenConfigError listing every cross-check problem."""
    problems = kitchen_problems(config, [camera.id for camera in cameras])
    if problems:
        raise KitchenConfigError(problems)
    return {
        camera.id: _engine(config, camera, started_at=started_at, new_id=new_id)
        for camera in cameras
    }


def _engine(
    config: KitchenRulesConfig, camera: CameraSpec, *, started_at: datetime, new_id: IdFactory
) -> KitchenRuleEngine:
    kitchen_camera = config.cameras.get(camera.id, KitchenCameraConfig())
    rules: list[DetectionRule] = []
    motion: MotionSupport | None = None
    health: dict[str, RuleSettings] = {}
    thresholds = HealthThresholds()
    for rule in config.effective_rules:
        if not rule.watches(camera.id):
            continue
        if isinstance(rule, HealthRuleConfig):
            health[rule.kind] = _health_settings(config, rule, camera)
            if isinstance(rule, CameraFrozenRuleConfig):
                thresholds = _replace_thresholds(thresholds, frozen_max_change=rule.max_change)
            if isinstance(rule, CameraBlurredOrCoveredRuleConfig):
                thresholds = _blur_thresholds(thresholds, rule)
            continue
        settings = _detection_settings(config, rule, camera, kitchen_camera)
        if settings is None:
            continue
        if isinstance(rule, NoHatRuleConfig):
            rules.append(NoHatRule(settings, min_part_px=rule.min_part_px, new_id=new_id))
        elif isinstance(rule, NoMaskRuleConfig):
            rules.append(NoMaskRule(settings, min_part_px=rule.min_part_px, new_id=new_id))
        elif isinstance(rule, RodentRuleConfig):
            rules.append(
                RodentRule(
                    settings, cat_cover=rule.cat_cover, detect_fps=rule.detect_fps, new_id=new_id
                )
            )
            if motion is None and rule.motion is not None:
                motion = MotionSupport(**rule.motion.model_dump())
        else:
            rules.append(UncoveredFoodRule(settings, new_id=new_id))
    camera_health = None
    if health:
        camera_health = CameraHealth(
            started_at=started_at,
            stall_timeout_s=camera.stall_timeout_s,
            offline=health.get("camera_offline"),
            frozen=health.get("camera_frozen"),
            blurred_or_covered=health.get("camera_blurred_or_covered"),
            thresholds=thresholds,
            sample_interval_s=config.health_sample_interval_s,
        )
    labels = config.labels
    tracking = TrackingSettings(
        people=_tracker(config.tracking.people),
        rodents=_tracker(config.tracking.rodents),
        food=_tracker(config.tracking.food),
    )
    logger.info(
        "kitchen rules camera=%s area=%s rules=%s health=%s",
        camera.id,
        kitchen_camera.area.value if kitchen_camera.area else "-",
        ",".join(rule.rule_id for rule in rules) or "-",
        ",".join(sorted(health)) or "-",
    )
    return KitchenRuleEngine(
        camera.id,
        rules=rules,
        health=camera_health,
        tracker=SceneTracker(labels, tracking, motion),
    )


def _tracker(config: TrackerConfig) -> TrackerSettings:
    return TrackerSettings(**config.model_dump())


def _active(config: KitchenRulesConfig, active: ActiveWhenConfig) -> ActiveWhen:
    schedules = config.all_schedules

    def runtime(name: str) -> Schedule:
        schedule: ScheduleConfig = schedules[name]
        return Schedule(
            windows=tuple(
                TimeWindow(start_min=w.start, end_min=w.end, days=frozenset(w.days))
                for w in schedule.windows
            ),
            off_dates=frozenset(schedule.off_dates),
        )

    parts = [f"during {'|'.join(active.during)}"] if active.during else []
    parts += [f"outside {'|'.join(active.outside)}"] if active.outside else []
    return ActiveWhen(
        timezone=config.zone_info,
        during=tuple(runtime(name) for name in active.during),
        outside=tuple(runtime(name) for name in active.outside),
        description=" or ".join(parts) or "always",
    )


def _identity(rule: DetectionRuleConfig | HealthRuleConfig, camera: CameraSpec) -> RuleIdentity:
    return RuleIdentity(
        rule_id=rule.id, kind=ViolationKind(rule.kind), severity=rule.severity, camera_id=camera.id
    )


def _detection_settings(
    config: KitchenRulesConfig,
    rule: DetectionRuleConfig,
    camera: CameraSpec,
    kitchen_camera: KitchenCameraConfig,
) -> RuleSettings | None:
    kind = ViolationKind(rule.kind)
    area = kitchen_camera.area
    areas = DEFAULT_AREAS[kind] if rule.areas is None else frozenset(rule.areas)
    if area is not None and area not in areas:
        return None
    zones = {zone.id: zone for zone in kitchen_camera.zones}
    include = tuple(
        Zone.from_points(zone_id, zones[zone_id].polygon)
        for zone_id in rule.zones.include
        if zone_id in zones
    )
    if rule.zones.include and not include:
        logger.info(
            "rule skips camera: none of its include zones is drawn there rule=%s camera=%s",
            rule.id,
            camera.id,
        )
        return None
    exclude = tuple(
        Zone.from_points(zone_id, zones[zone_id].polygon)
        for zone_id in rule.zones.exclude
        if zone_id in zones
    )
    policy = _area_policy(rule, kind, area)
    override = rule.area_overrides.get(area) if area is not None else None
    schedule = rule.schedule
    if override is not None and override.schedule is not None:
        schedule = override.schedule
    elif policy.always_active:
        schedule = ActiveWhenConfig()
    is_rodent = isinstance(rule, RodentRuleConfig)
    min_duration_s = _first(
        override.min_duration_s if override else None, policy.min_duration_s, rule.min_duration_s
    )
    min_confidence = _first(
        override.min_confidence if override else None, policy.min_confidence, rule.min_confidence
    )
    timing = Timing(
        min_duration_s=rule.min_duration_s if min_duration_s is None else min_duration_s,
        cooldown_s=rule.cooldown_s,
        max_gap_s=max(1.0, 2.0 / camera.detect_fps) if rule.max_gap_s is None else rule.max_gap_s,
        clear_s=rule.clear_s,
        # a rodent incident ends when none was seen for clear_s: there is no "covered" evidence
        lost_s=rule.clear_s if is_rodent else rule.lost_after_s,
    )
    return RuleSettings(
        identity=_identity(rule, camera),
        timing=timing,
        min_confidence=rule.min_confidence if min_confidence is None else min_confidence,
        active=_active(config, schedule),
        zones=ZoneFilter(include=include, exclude=exclude),
    )


def _first(*values: float | None) -> float | None:
    return next((value for value in values if value is not None), None)


def _area_policy(
    rule: DetectionRuleConfig, kind: ViolationKind, area: AreaType | None
) -> AreaPolicy:
    if area is None or not rule.area_defaults or area not in STRICTER.get(kind, {}):
        return AreaPolicy()
    return stricter(
        STRICTER[kind][area],
        min_duration_s=rule.min_duration_s,
        min_confidence=rule.min_confidence,
    )


def _health_settings(
    config: KitchenRulesConfig, rule: HealthRuleConfig, camera: CameraSpec
) -> RuleSettings:
    sample_s = config.health_sample_interval_s
    # samples come every sample_s (frames) or tick (offline, about 1 s): tolerate two missing
    max_gap_s = max(3.0, 3.0 * sample_s)
    return RuleSettings(
        identity=_identity(rule, camera),
        timing=Timing(
            min_duration_s=rule.min_duration_s,
            cooldown_s=rule.cooldown_s,
            max_gap_s=max_gap_s,
            clear_s=rule.clear_s,
            lost_s=math.inf,
        ),
        active=_active(config, rule.schedule),
    )


def _replace_thresholds(thresholds: HealthThresholds, **changes: float) -> HealthThresholds:
    return replace(thresholds, **changes)


def _blur_thresholds(
    thresholds: HealthThresholds, rule: CameraBlurredOrCoveredRuleConfig
) -> HealthThresholds:
    return _replace_thresholds(
        thresholds,
        min_sharpness=rule.min_sharpness,
        min_relative_sharpness=rule.min_relative_sharpness,
        min_brightness=rule.min_brightness,
        max_flat_fraction=rule.max_flat_fraction,
        recover_margin=rule.recover_margin,
    )
