"""Statistics of violations: per day, per kind, per site, and a per-site score out of 100."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from api.models import CaseState, ViolationRow

# what one violation costs a site's score, by severity tier; dismissed false alarms cost nothing
SCORE_PENALTY = {1: 10, 2: 5, 3: 1}
MAX_SCORE = 100


@dataclass(frozen=True, slots=True)
class Statistics:
    days: tuple[date, ...]
    per_day: dict[date, int]
    per_kind: dict[str, int]
    per_site: dict[str, int]
    score: dict[str, int]
    by_state: dict[str, int]


def local_day_start(now: datetime, zone: ZoneInfo, *, days_back: int = 0) -> datetime:
    """Midnight, `days_back` days before today, in `zone` (aware)."""
    local = now.astimezone(zone).date() - timedelta(days=days_back)
    return datetime(local.year, local.month, local.day, tzinfo=zone)


def site_score(rows: Iterable[ViolationRow]) -> int:
    penalty = sum(
        SCORE_PENALTY.get(row.severity, 1) for row in rows if row.state != CaseState.DISMISSED
    )
    return max(MAX_SCORE - penalty, 0)


def compute(
    rows: Iterable[ViolationRow],
    *,
    sites: Iterable[str],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
) -> Statistics:
    """Counts of the rows that were not dismissed; every site in `sites` gets a score."""
    rows = tuple(rows)
    counted = [row for row in rows if row.state != CaseState.DISMISSED]
    days = tuple(
        first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)
    )
    per_day = dict.fromkeys(days, 0)
    for row in counted:
        day = row.occurred_at.astimezone(zone).date()
        if day in per_day:
            per_day[day] += 1
    by_site: dict[str, list[ViolationRow]] = {site: [] for site in sites}
    for row in rows:
        by_site.setdefault(row.site, []).append(row)
    return Statistics(
        days=days,
        per_day=per_day,
        per_kind=dict(Counter(row.kind for row in counted).most_common()),
        per_site={
            site: sum(1 for r in found if r.state != CaseState.DISMISSED)
            for site, found in sorted(by_site.items())
        },
        score={site: site_score(found) for site, found in sorted(by_site.items())},
        by_state=dict(Counter(row.state for row in rows)),
    )
