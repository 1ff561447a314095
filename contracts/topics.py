"""The MQTT topic scheme: brightkitchen/v1/<site>/<edge>/<channel>."""

from dataclasses import dataclass
from enum import StrEnum

from contracts.errors import TopicError
from contracts.identifiers import is_identifier

TOPIC_ROOT = "brightkitchen/v1"


class Channel(StrEnum):
    VIOLATION = "violation"
    VIOLATION_END = "violation_end"
    STATUS = "status"


VIOLATION_SUBSCRIPTION = f"{TOPIC_ROOT}/+/+/{Channel.VIOLATION}"
VIOLATION_END_SUBSCRIPTION = f"{TOPIC_ROOT}/+/+/{Channel.VIOLATION_END}"
STATUS_SUBSCRIPTION = f"{TOPIC_ROOT}/+/+/{Channel.STATUS}"


@dataclass(frozen=True, slots=True)
class TopicAddress:
    site: str
    edge: str
    channel: Channel


def _topic(site: str, edge: str, channel: Channel) -> str:
    for name, value in (("site", site), ("edge", edge)):
        if not is_identifier(value):
            raise TopicError(f"{name} {value!r} is not a valid identifier")
    return f"{TOPIC_ROOT}/{site}/{edge}/{channel}"


def violation_topic(site: str, edge: str) -> str:
    return _topic(site, edge, Channel.VIOLATION)


def violation_end_topic(site: str, edge: str) -> str:
    return _topic(site, edge, Channel.VIOLATION_END)


def status_topic(site: str, edge: str) -> str:
    return _topic(site, edge, Channel.STATUS)


def parse_topic(topic: str) -> TopicAddress:
    """Split a received topic into its parts; raise TopicError for anything not of our scheme."""
    root_levels = TOPIC_ROOT.count("/") + 1
    levels = topic.split("/")
    if len(levels) != root_levels + 3 or "/".join(levels[:root_levels]) != TOPIC_ROOT:
        raise TopicError(f"topic {topic!r} is not {TOPIC_ROOT}/<site>/<edge>/<channel>")
    site, edge, channel = levels[root_levels:]
    if not (is_identifier(site) and is_identifier(edge)):
        raise TopicError(f"topic {topic!r} has an invalid site or edge identifier")
    try:
        return TopicAddress(site=site, edge=edge, channel=Channel(channel))
    except ValueError as err:
        raise TopicError(f"topic {topic!r} has an unknown channel {channel!r}") from err
