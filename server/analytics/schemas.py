"""Analytics API shapes: the range every figure takes, and one answer per figure."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.analytics.errors import TO_NOT_BEFORE_FROM
from server.doctors.schemas import UNKNOWN_ZONE, time_zones
from server.instants import Day
from server.scheduling.errors import RANGE_OVER_MAX

MAX_DAYS = 366
DEFAULT_DAYS = 30


class RangeQuery(BaseModel):
    """Days [from, to] (inclusive) in `tz`; defaults: the 30 days up to today."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Day | None = Field(None, alias="from")
    to: Day | None = None
    tz: str = Field("UTC", max_length=64, description="IANA zone the days are cut in")
    doctor_id: uuid.UUID | None = Field(
        None, description="Admins: one doctor's figures. Doctors always get their own."
    )

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        # The doctors' list: zoneinfo files that are not IANA zones ("localtime", "Factory",
        # "posix/...") are unknown to PostgreSQL or differ per machine.
        if value != "UTC" and value not in time_zones():
            raise UNKNOWN_ZONE.error()
        return value

    @model_validator(mode="after")
    def _span(self) -> RangeQuery:
        if self.from_ and self.to:
            if self.to < self.from_:
                raise TO_NOT_BEFORE_FROM.error()
            if (self.to - self.from_).days >= MAX_DAYS:
                raise RANGE_OVER_MAX.error(days=MAX_DAYS)
        return self

    def days(self, today: date) -> tuple[date, date]:
        last = self.to or today
        first = self.from_ or last - timedelta(days=DEFAULT_DAYS - 1)
        if (last - first).days >= MAX_DAYS:
            first = last - timedelta(days=MAX_DAYS - 1)
        return first, last

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


class Scope(BaseModel):
    first_day: date
    last_day: date
    time_zone: str
    doctor_id: uuid.UUID | None = Field(description="null: the whole platform")


class DayCount(BaseModel):
    day: date
    count: int


class BookingsPerDay(BaseModel):
    scope: Scope
    days: list[DayCount] = Field(description="Every day of the range, zeros included")


class Outcomes(BaseModel):
    scope: Scope
    appointments: int = Field(description="Due in the range")
    cancelled: int
    cancellation_rate: float | None = Field(description="cancelled / appointments")
    past: int = Field(description="Due and already past, not cancelled")
    no_show: int
    no_show_rate: float | None = Field(description="no_show / past")


class DayAmount(BaseModel):
    day: date
    currency: str
    amount: int = Field(description="Minor units")


class RevenuePerDay(BaseModel):
    scope: Scope
    days: list[DayAmount] = Field(
        description="Payments taken per local day (of their completion) and currency, net of "
        "the refunds that went through, as GET /api/v1/payments/revenue counts them; sorted "
        "by day, then currency"
    )
    source: str = Field(description="`payments` when a payment was taken in the range, else `none`")


class Ranked(BaseModel):
    key: str
    appointments: int


class Busiest(BaseModel):
    scope: Scope
    specialties: list[Ranked]
    cities: list[Ranked]


class LeadTime(BaseModel):
    scope: Scope
    visits: int
    mean_hours: float | None
    median_hours: float | None
    p90_hours: float | None


class Connected(BaseModel):
    sockets: dict[str, int] = Field(description="Sockets connected to this node per namespace")
    total: int
