"""Statistics for supervisors and staff, and the parents' summary of today at their site."""

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from api.access import Allow, Reader
from api.deps import Components, ComponentsDep
from api.principal import Principal, Role
from api.stats import Statistics, compute, local_day_start
from api.store import ViolationFilter

router = APIRouter(prefix="/api/v1", tags=["statistics"])
Parent = Annotated[Principal, Depends(Allow(Role.PARENT))]
MAX_ROWS = 200_000


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class DayCount(_Out):
    day: date
    count: int


class KindCount(_Out):
    kind: str
    count: int


class SiteFigures(_Out):
    site: str
    count: int
    score: int


class StatsPublic(_Out):
    days: tuple[DayCount, ...]
    per_kind: tuple[KindCount, ...]
    per_site: tuple[SiteFigures, ...]
    by_state: dict[str, int]


class PublicCamera(_Out):
    code: str
    name: str
    area_type: str
    live_url: str


class ParentSummaryPublic(_Out):
    site: str
    site_name: str
    day: date
    violations_today: int
    rectified_today: int
    per_kind: tuple[KindCount, ...]
    score: int
    cameras: tuple[PublicCamera, ...]


def statistics(components: Components, caller: Principal, days: int) -> Statistics:
    zone = ZoneInfo(components.settings.timezone)
    now = components.clock()
    since = local_day_start(now, zone, days_back=days - 1)
    rows = components.store.all_matching(
        ViolationFilter(sites=caller.sites, since=since), limit=MAX_ROWS
    )
    sites = [site.code for site in components.registry.sites(caller.sites)]
    return compute(
        rows,
        sites=sites,
        first_day=since.date(),
        last_day=now.astimezone(zone).date(),
        zone=zone,
    )


@router.get("/stats")
def get_stats(
    components: ComponentsDep,
    caller: Reader,
    days: Annotated[int, Query(ge=1, le=366, description="this many local days up to today")] = 14,
) -> StatsPublic:
    """Violations per day, per kind and per site of the caller's sites, dismissed ones left out;
    each site's score is 100 less 10 / 5 / 1 per tier-1 / 2 / 3 violation (never below 0)."""
    found = statistics(components, caller, days)
    return StatsPublic(
        days=tuple(DayCount(day=d, count=n) for d, n in found.per_day.items()),
        per_kind=tuple(KindCount(kind=k, count=n) for k, n in found.per_kind.items()),
        per_site=tuple(
            SiteFigures(site=s, count=n, score=found.score[s]) for s, n in found.per_site.items()
        ),
        by_state=found.by_state,
    )


@router.get("/parent/summary")
def parent_summary(components: ComponentsDep, caller: Parent) -> ParentSummaryPublic:
    """Today at the parent's site: counts, the score, and the public cameras to watch."""
    site = caller.home_site or ""
    found = statistics(components, caller, 1)
    site_row = components.registry.site(site)
    cameras = components.registry.cameras(site, public_only=True)
    today = found.days[-1]
    rectified = found.by_state.get("rectified", 0) + found.by_state.get("verified", 0)
    return ParentSummaryPublic(
        site=site,
        site_name=site_row.name,
        day=today,
        violations_today=found.per_day.get(today, 0),
        rectified_today=rectified,
        per_kind=tuple(KindCount(kind=k, count=n) for k, n in found.per_kind.items()),
        score=found.score.get(site, 100),
        cameras=tuple(
            PublicCamera(
                code=c.code,
                name=c.name,
                area_type=c.area_type,
                live_url=f"/api/v1/sites/{site}/cameras/{c.code}/live.mjpeg",
            )
            for c in cameras
        ),
    )
