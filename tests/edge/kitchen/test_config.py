"""The kitchen config section: the documented example, area resolution, and clear errors."""

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from contracts import ViolationKind
from edge.kitchen.build import build_kitchen_rules, kitchen_problems
from edge.kitchen.config import KitchenRulesConfig
from edge.kitchen.engine import KitchenRuleEngine
from edge.kitchen.errors import KitchenConfigError
from edge.kitchen.rules import DetectionRule
from tests.edge.kitchen.timeline import at

EXAMPLE = Path(__file__).with_name("kitchen_example.yaml")
CAMERAS = ("cam-prep", "cam-cold", "cam-store", "cam-door")


@dataclass(frozen=True)
class StubCamera:
    id: str
    detect_fps: float = 5.0
    stall_timeout_s: float = 5.0


def example() -> dict[str, object]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    section: dict[str, object] = data["kitchen"]
    return section


def engines(config: KitchenRulesConfig) -> dict[str, KitchenRuleEngine]:
    return build_kitchen_rules(config, [StubCamera(c) for c in CAMERAS], started_at=at(0.0))


def rule(engine: KitchenRuleEngine, rule_id: str) -> DetectionRule:
    [found] = [r for r in engine.rules if r.rule_id == rule_id]
    return found


def test_the_documented_example_builds_one_engine_per_camera() -> None:
    config = KitchenRulesConfig.model_validate(example())
    built = engines(config)

    assert set(built) == set(CAMERAS)
    assert built["cam-prep"].rule_ids == ("hat", "rats")  # no masks or open-food checks at 粗加工
    assert built["cam-cold"].rule_ids == ("hat", "mask", "rats", "food-counter")
    assert built["cam-store"].rule_ids == ("hat", "rats", "food-store")
    assert built["cam-door"].rule_ids == ("rats",)  # hats go on at the entrance
    assert all(engine.health is not None for engine in built.values())


def test_the_special_room_makes_rules_stricter() -> None:
    built = engines(KitchenRulesConfig.model_validate(example()))
    prep_hat = rule(built["cam-prep"], "hat").settings
    cold_hat = rule(built["cam-cold"], "hat").settings
    cold_mask = rule(built["cam-cold"], "mask").settings
    food = rule(built["cam-cold"], "food-counter").settings

    assert (prep_hat.timing.min_duration_s, prep_hat.min_confidence) == (3.0, 0.5)
    assert (cold_hat.timing.min_duration_s, cold_hat.min_confidence) == (1.5, 0.4)
    assert (cold_mask.timing.min_duration_s, cold_mask.min_confidence) == (1.0, 0.4)
    assert food.timing.min_duration_s == 30.0
    # 22:00 on a Monday in Shanghai: outside service, yet the 专间 rules stay on
    late = at(12 * 3600.0)
    assert not prep_hat.active.is_active(late)
    assert cold_hat.active.is_active(late)
    assert cold_mask.active.is_active(late)


def test_area_defaults_can_be_switched_off_and_storage_rodents_are_always_on() -> None:
    built = engines(KitchenRulesConfig.model_validate(example()))
    store_food = rule(built["cam-store"], "food-store").settings
    store_rats = rule(built["cam-store"], "rats").settings
    prep_rats = rule(built["cam-prep"], "rats").settings

    assert store_food.timing.min_duration_s == 300.0
    monday_10 = at(0.0)  # in service: rodents are watched in the store only
    assert store_rats.active.is_active(monday_10)
    assert not prep_rats.active.is_active(monday_10)
    assert store_rats.identity.severity == 1
    assert store_rats.timing.lost_s == 10.0  # clear_s: no rodent seen this long


def test_zones_and_timing_defaults_resolve_per_camera() -> None:
    built = engines(KitchenRulesConfig.model_validate(example()))
    hat = rule(built["cam-prep"], "hat").settings
    food = rule(built["cam-cold"], "food-counter").settings

    assert [zone.zone_id for zone in hat.zones.exclude] == ["back-door"]
    assert [zone.zone_id for zone in food.zones.include] == ["plating-counter"]
    assert hat.timing.max_gap_s == 1.0  # max(1 s, 2 frames at 5 fps)
    assert food.timing.max_gap_s == 10.0
    assert food.identity.kind is ViolationKind.UNCOVERED_FOOD


def test_without_rules_every_kind_runs_with_its_defaults() -> None:
    built = engines(
        KitchenRulesConfig.model_validate({"cameras": {"cam-cold": {"area": "special_room"}}})
    )

    assert built["cam-cold"].rule_ids == ("no_hat", "no_mask", "rodent", "uncovered_food")
    assert built["cam-prep"].rule_ids == ("no_hat", "no_mask", "rodent", "uncovered_food")
    health = built["cam-prep"].health
    assert health is not None
    assert health.stall_timeout_s == 5.0


def test_unquoted_times_read_by_yaml_as_minutes_are_accepted() -> None:
    data = yaml.safe_load("schedules:\n  night:\n    - {start: 21:00, end: 06:00}\n")
    assert data["schedules"]["night"][0]["start"] == 1260  # YAML 1.1 sexagesimal
    config = KitchenRulesConfig.model_validate(data)
    window = config.schedules["night"].windows[0]
    assert (window.start, window.end) == (21 * 60, 6 * 60)


@pytest.mark.parametrize(
    ("section", "location", "reason"),
    [
        ({"timezone": "Mars/Olympus"}, ("timezone",), "unknown IANA time zone"),
        (
            {"schedules": {"s": [{"start": "25:00", "end": "06:00"}]}},
            ("schedules", "s", "windows", 0, "start"),
            "between 00:00 and 24:00",
        ),
        (
            {"schedules": {"s": [{"days": ["funday"], "start": "01:00", "end": "02:00"}]}},
            ("schedules", "s", "windows", 0, "days"),
            "is not a day",
        ),
        (
            {"schedules": {"s": [{"start": "06:00", "end": "06:00"}]}},
            ("schedules", "s", "windows", 0),
            "must differ",
        ),
        ({"schedules": {"s": []}}, ("schedules", "s"), "at least one window"),
        ({"cameras": {"c": {"area": "kitchen"}}}, ("cameras", "c", "area"), "rough_processing"),
        (
            {
                "cameras": {
                    "c": {"zones": [{"id": "z", "polygon": [[0, 0], [1, 1], [0, 1], [1, 0]]}]}
                }
            },
            ("cameras", "c", "zones", 0, "polygon"),
            "crosses itself",
        ),
        (
            {"rules": [{"id": "r", "kind": "no_hat", "min_duration_s": -1}]},
            ("rules", 0, "no_hat", "min_duration_s"),
            "greater than or equal",
        ),
        (
            {"rules": [{"id": "r", "kind": "smoking"}]},
            ("rules", 0),
            "does not match any of the expected tags",
        ),
        (
            {"rules": [{"id": "r", "kind": "camera_frozen", "zones": {}}]},
            ("rules", 0, "camera_frozen", "zones"),
            "Extra inputs",
        ),
    ],
)
def test_schema_errors_name_the_key_and_the_reason(
    section: dict[str, object], location: tuple[object, ...], reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        KitchenRulesConfig.model_validate(section)

    errors = caught.value.errors(include_input=False)
    assert [tuple(error["loc"]) for error in errors] == [location]
    assert reason in str(errors[0].get("ctx", {}).get("error", errors[0]["msg"]))


def test_cross_checks_list_every_problem_with_its_path() -> None:
    config = KitchenRulesConfig.model_validate(
        {
            "cameras": {
                "cam-x": {},
                "cam-prep": {"zones": [{"id": "door", "polygon": [[0, 0], [1, 0], [1, 1]]}]},
            },
            "rules": [
                {"id": "hat", "kind": "no_hat", "schedule": "lunch"},
                {
                    "id": "hat",
                    "kind": "no_mask",
                    "cameras": ["cam-y"],
                    "zones": {"include": ["door", "yard"]},
                },
                {"id": "off-1", "kind": "camera_offline"},
                {"id": "off-2", "kind": "camera_offline", "cameras": ["cam-door"]},
                {
                    "id": "mask2",
                    "kind": "no_mask",
                    "area_overrides": {"special_room": {"schedule": {"outside": ["siesta"]}}},
                },
            ],
        }
    )

    problems = kitchen_problems(config, CAMERAS)
    assert problems == [
        "kitchen.cameras.cam-x: unknown camera (not in cameras)",
        "kitchen.rules.0.schedule: unknown schedule 'lunch' (known: night, plating, service)",
        "kitchen.rules.1.id: duplicate rule id 'hat' (also 0)",
        "kitchen.rules.1.cameras: unknown camera 'cam-y'",
        "kitchen.rules.1.zones.include: zone 'door' is drawn on none of the rule's cameras",
        "kitchen.rules.1.zones.include: zone 'yard' is drawn on none of the rule's cameras",
        "kitchen.rules.3.cameras: camera 'cam-door' already has a camera_offline rule"
        " (kitchen.rules.2)",
        "kitchen.rules.4.area_overrides.special_room.schedule: unknown schedule 'siesta'"
        " (known: night, plating, service)",
    ]
    with pytest.raises(KitchenConfigError) as caught:
        engines(config)
    assert caught.value.problems == problems


def test_a_rule_whose_include_zones_are_not_on_a_camera_skips_it() -> None:
    config = KitchenRulesConfig.model_validate(
        {
            "cameras": {
                "cam-prep": {"zones": [{"id": "table", "polygon": [[0, 0], [1, 0], [1, 1]]}]}
            },
            "rules": [{"id": "hat", "kind": "no_hat", "zones": {"include": ["table"]}}],
        }
    )
    built = engines(config)
    assert built["cam-prep"].rule_ids == ("hat",)
    assert built["cam-cold"].rule_ids == ()
    assert built["cam-cold"].health is None
