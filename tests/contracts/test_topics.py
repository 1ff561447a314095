"""Topics are built and parsed only from identifiers that cannot add levels or wildcards."""

import pytest

from contracts import (
    STATUS_SUBSCRIPTION,
    VIOLATION_SUBSCRIPTION,
    Channel,
    TopicError,
    is_identifier,
    parse_topic,
    status_topic,
    violation_topic,
)


def test_topics_round_trip() -> None:
    assert violation_topic("school-1", "edge_a") == "brightkitchen/v1/school-1/edge_a/violation"
    address = parse_topic(status_topic("school-1", "edge_a"))
    assert (address.site, address.edge, address.channel) == ("school-1", "edge_a", Channel.STATUS)


def test_subscriptions_match_the_scheme() -> None:
    assert VIOLATION_SUBSCRIPTION == "brightkitchen/v1/+/+/violation"
    assert STATUS_SUBSCRIPTION == "brightkitchen/v1/+/+/status"


@pytest.mark.parametrize(
    "identifier",
    ["a/b", "+", "#", "a+", "a#b", "", " a", "a.b", "..", "-a", "é", "a" * 65, "a\x00"],
)
def test_unsafe_identifiers_are_refused(identifier: str) -> None:
    assert not is_identifier(identifier)
    with pytest.raises(TopicError):
        violation_topic(identifier, "edge")
    with pytest.raises(TopicError):
        status_topic("site", identifier)


@pytest.mark.parametrize(
    "topic",
    [
        "brightkitchen/v1/site/edge",
        "brightkitchen/v1/site/edge/violation/extra",
        "brightkitchen/v2/site/edge/violation",
        "other/v1/site/edge/violation",
        "brightkitchen/v1/site/edge/unknown",
        "brightkitchen/v1/si.te/edge/violation",
        "brightkitchen/v1/+/edge/violation",
        "brightkitchen/v1/site/#/violation",
        "brightkitchen/v1//edge/violation",
    ],
)
def test_foreign_topics_are_rejected(topic: str) -> None:
    with pytest.raises(TopicError):
        parse_topic(topic)
