"""The tables. Alembic migrations are the only way the schema changes;
``tests/integration/test_migrations.py`` checks these models and the
migrations agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend.

    SQLite keeps no offset, so values are normalised to UTC on the way in and
    marked UTC on the way out; naive datetimes are refused as a bug.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # combine, not replace(tzinfo=): replace's keyword call is four times slower, and reads
            # of a large org's deals make hundreds of thousands of these.
            return datetime.combine(value.date(), value.time(), UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            return _sqlite_utc  # SQLite's text straight to an aware datetime: one parse, no second pass
        return super().result_processor(dialect, coltype)


def _sqlite_utc(value: str | None) -> datetime | None:
    """SQLite's stored text (UTC, no offset, as SQLAlchemy writes it) as an aware UTC datetime."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text that already carries an offset
        parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


# Stable constraint names so migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: sa.Numeric(18, 2)}  # noqa: RUF012 (SQLAlchemy's API)


class Person(Base):
    __tablename__ = "person"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    slack_user_id: so.Mapped[str | None] = so.mapped_column(sa.String(32), unique=True)
    timezone: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    country: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    # The language chosen (org CSV `language`, `/deal language`): wins over the Slack locale.
    language: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    # The locale of the person's Slack profile (users.info include_locale); "" once asked and none given.
    slack_locale: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    manager_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    # Derived from the tree on every org change; stored so digests can select by tier.
    tier: so.Mapped[int] = so.mapped_column(default=0)
    # Set by `/deal away until DATE`: no prompts or reminders through that day.
    away_until: so.Mapped[date | None]
    # The currency this manager's digests total in (`/pipeline currency EUR`); None: the workspace's.
    reporting_currency: so.Mapped[str | None] = so.mapped_column(sa.String(3))
    # The Slack profile, read ahead of time by `coach org sync` and the daily refresh step:
    # the timezone came from Slack (so a move there is followed) rather than from the org file,
    # the account is deactivated (the person gets nothing), when it was last read, and why it
    # could not be (None when it was).
    timezone_from_slack: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    deactivated: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    profile_checked_at: so.Mapped[datetime | None]
    profile_problem: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime]
    updated_at: so.Mapped[datetime]

    manager: so.Mapped[Person | None] = so.relationship(remote_side=[id], back_populates="reports")
    reports: so.Mapped[list[Person]] = so.relationship(back_populates="manager", order_by="Person.email")

    def __repr__(self) -> str:
        return f"<Person {self.email}>"


class Deal(Base):
    __tablename__ = "deal"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    ref: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    # The deal's id in the CRM it was imported from (`coach deals import --mapping/--preset`), matched on
    # re-import; any text. The ref stays ours. A unique index (not a constraint: adding one would make
    # SQLite rebuild the table, and the rebuild's DROP would cascade to every deal's history).
    crm_id: so.Mapped[str | None] = so.mapped_column(sa.String(200), unique=True, index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    account: so.Mapped[str] = so.mapped_column(sa.String(200))
    owner_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    amount: so.Mapped[Decimal]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    close_date: so.Mapped[date | None]
    stage: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    forecast: so.Mapped[str] = so.mapped_column(sa.String(20))
    next_step: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    next_step_date: so.Mapped[date | None]
    lost_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    stage_entered_at: so.Mapped[datetime]
    created_at: so.Mapped[datetime]
    updated_at: so.Mapped[datetime]

    owner: so.Mapped[Person] = so.relationship()
    bant: so.Mapped[list[BantAnswer]] = so.relationship(cascade="all, delete-orphan", order_by="BantAnswer.item")
    contacts: so.Mapped[list[Contact]] = so.relationship(cascade="all, delete-orphan", order_by="Contact.id")
    characteristics: so.Mapped[list[ConfirmedCharacteristic]] = so.relationship(cascade="all, delete-orphan")
    evaluation_answers: so.Mapped[list[EvaluationAnswer]] = so.relationship(cascade="all, delete-orphan")
    history: so.Mapped[list[StageChange]] = so.relationship(
        cascade="all, delete-orphan", order_by="StageChange.changed_at, StageChange.id"
    )
    action_plans: so.Mapped[list[ActionPlan]] = so.relationship(cascade="all, delete-orphan",
                                                                 order_by="ActionPlan.id")

    def __repr__(self) -> str:
        return f"<Deal {self.ref} {self.stage}>"


class BantAnswer(Base):
    __tablename__ = "bant_answer"
    __table_args__ = (sa.UniqueConstraint("deal_id", "item", name="uq_bant_answer_deal_item"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deal.id", ondelete="CASCADE"))
    item: so.Mapped[str] = so.mapped_column(sa.String(40))
    answer: so.Mapped[str] = so.mapped_column(sa.Text)
    confirmed_at: so.Mapped[datetime]
    confirmed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))


class Contact(Base):
    """A person at the customer holding one of the four buying roles."""

    __tablename__ = "contact"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deal.id", ondelete="CASCADE"), index=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(40))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    title: so.Mapped[str] = so.mapped_column(sa.String(200), default="")


class ConfirmedCharacteristic(Base):
    __tablename__ = "confirmed_characteristic"
    __table_args__ = (sa.UniqueConstraint("deal_id", "key", name="uq_confirmed_characteristic_deal_key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deal.id", ondelete="CASCADE"))
    key: so.Mapped[str] = so.mapped_column(sa.String(60))
    confirmed_at: so.Mapped[datetime]
    confirmed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))

    confirmed_by: so.Mapped[Person | None] = so.relationship(lazy="joined")


class EvaluationAnswer(Base):
    __tablename__ = "evaluation_answer"
    __table_args__ = (
        sa.UniqueConstraint("deal_id", "evaluation", "item", name="uq_evaluation_answer_deal_evaluation_item"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deal.id", ondelete="CASCADE"))
    evaluation: so.Mapped[str] = so.mapped_column(sa.String(40))
    item: so.Mapped[str] = so.mapped_column(sa.String(60))
    answer: so.Mapped[bool]
    answered_at: so.Mapped[datetime]
    answered_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))

    answered_by: so.Mapped[Person | None] = so.relationship(lazy="joined")


class StageChange(Base):
    """One move of a deal between stages; creation is a move from nothing."""

    __tablename__ = "stage_change"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deal.id", ondelete="CASCADE"), index=True)
    from_stage: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    to_stage: so.Mapped[str] = so.mapped_column(sa.String(40))
    changed_at: so.Mapped[datetime] = so.mapped_column(index=True)
    changed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    gate_overridden: so.Mapped[bool] = so.mapped_column(default=False)

    changed_by: so.Mapped[Person | None] = so.relationship()


class DealSnapshot(Base):
    """A deal's key fields as they stood in a given week (keyed by its Monday)."""

    __tablename__ = "deal_snapshot"
    __table_args__ = (sa.UniqueConstraint("deal_id", "week", name="uq_deal_snapshot_deal_week"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deal.id", ondelete="CASCADE"))
    week: so.Mapped[date] = so.mapped_column(index=True)
    stage: so.Mapped[str] = so.mapped_column(sa.String(40))
    amount: so.Mapped[Decimal]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    close_date: so.Mapped[date | None]
    forecast: so.Mapped[str] = so.mapped_column(sa.String(20))
    taken_at: so.Mapped[datetime]


class HandledEvent(Base):
    """Events API deliveries already acted on, so Slack's retries take effect once."""

    __tablename__ = "handled_event"

    event_id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    handled_at: so.Mapped[datetime]


class CheckIn(Base):
    """A rep's Monday check-in for one week: prompted, partly or fully answered, or away."""

    __tablename__ = "check_in"
    __table_args__ = (sa.UniqueConstraint("person_id", "week", name="uq_check_in_person_week"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    week: so.Mapped[date] = so.mapped_column(index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12))  # pending | partial | complete | away
    prompted_at: so.Mapped[datetime | None]
    started_at: so.Mapped[datetime | None]
    completed_at: so.Mapped[datetime | None]
    updated_at: so.Mapped[datetime]
    # Where the prompt was posted, so it can be updated as deals are answered.
    prompt_channel: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    prompt_ts: so.Mapped[str | None] = so.mapped_column(sa.String(32))

    person: so.Mapped[Person] = so.relationship()
    reviews: so.Mapped[list[DealReview]] = so.relationship(cascade="all, delete-orphan", order_by="DealReview.id")


class DealReview(Base):
    """One deal answered in a check-in: unchanged, or updated (possibly after the digest: late)."""

    __tablename__ = "deal_review"
    __table_args__ = (sa.UniqueConstraint("check_in_id", "deal_id", name="uq_deal_review_check_in_deal"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    check_in_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("check_in.id", ondelete="CASCADE"))
    deal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deal.id", ondelete="CASCADE"))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(12))  # no_change | updated
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    answered_at: so.Mapped[datetime]
    late: so.Mapped[bool] = so.mapped_column(default=False)


class ScheduledSend(Base):
    """The send ledger: one row per scheduled message (week, step, recipient), claimed
    before it goes out and marked after, so no message is sent twice or skipped."""

    __tablename__ = "scheduled_send"
    __table_args__ = (
        sa.UniqueConstraint("week", "step", "recipient_id", name="uq_scheduled_send_key"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    week: so.Mapped[date]
    step: so.Mapped[str] = so.mapped_column(sa.String(40))
    recipient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), index=True)  # sending | sent | failed
    due_at: so.Mapped[datetime]
    # Who holds the send and until when (scheduler time); a lapsed lease means the holder died.
    claimed_by: so.Mapped[str] = so.mapped_column(sa.String(80))
    lease_until: so.Mapped[datetime]
    # Wall-clock time of the last claim: Slack's message ts are wall-clock, so recovery searches from here.
    claimed_wall: so.Mapped[datetime]
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    channel: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    ts: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    sent_at: so.Mapped[datetime | None]
    late: so.Mapped[bool] = so.mapped_column(default=False)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    updated_at: so.Mapped[datetime]

    recipient: so.Mapped[Person] = so.relationship()


class ManagerComment(Base):
    """A manager's word on their week's digest, carried into their own manager's digest."""

    __tablename__ = "manager_comment"
    __table_args__ = (sa.UniqueConstraint("author_id", "week", name="uq_manager_comment_author_week"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    week: so.Mapped[date] = so.mapped_column(index=True)
    text: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # The manager's own forecast for their subtree, in place of the summed rep forecast.
    commit_amount: so.Mapped[Decimal | None]
    best_case_amount: so.Mapped[Decimal | None]
    currency: so.Mapped[str | None] = so.mapped_column(sa.String(3))
    # A region head's sign-off (认可) of the forecast: as rolled up (one click) or adjusted.
    signed_off_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime]
    updated_at: so.Mapped[datetime]

    author: so.Mapped[Person] = so.relationship()


class ForecastCall(Base):
    """A manager's call for a forecast period: commit and best case, submitted up a tier.

    Every submission is a row (the history of the call); the latest per author and
    period is the call in force. The tier above approves it (认可) or returns it.
    """

    __tablename__ = "forecast_call"
    __table_args__ = (sa.Index("ix_forecast_call_author_period", "author_id", "period"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    period: so.Mapped[str] = so.mapped_column(sa.String(12))  # 2026-Q4, FY2027-Q1 or 2026-11
    commit_amount: so.Mapped[Decimal]
    best_case_amount: so.Mapped[Decimal]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    submitted_at: so.Mapped[datetime] = so.mapped_column(index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="submitted")
    reviewer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))
    review_comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    reviewed_at: so.Mapped[datetime | None]

    author: so.Mapped[Person] = so.relationship(foreign_keys=[author_id])


class Target(Base):
    """A person's revenue target for a period (a month, a quarter or a year)."""

    __tablename__ = "target"
    __table_args__ = (sa.UniqueConstraint("person_id", "period", name="uq_target_person_period"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    period: so.Mapped[str] = so.mapped_column(sa.String(10))  # 2026-11, 2026-Q4 or 2026
    starts: so.Mapped[date]
    ends: so.Mapped[date]
    amount: so.Mapped[Decimal]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    set_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))
    updated_at: so.Mapped[datetime]

    person: so.Mapped[Person] = so.relationship(foreign_keys=[person_id])


class WeeklyActivity(Base):
    """A rep's visits, calls and proposals sent in one week (keyed by its Monday), from the check-in."""

    __tablename__ = "weekly_activity"
    __table_args__ = (sa.UniqueConstraint("person_id", "week", name="uq_weekly_activity_person_week"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    week: so.Mapped[date] = so.mapped_column(index=True)
    visits: so.Mapped[int | None]
    calls: so.Mapped[int | None]
    proposals: so.Mapped[int | None]
    skipped: so.Mapped[bool] = so.mapped_column(default=False)
    recorded_at: so.Mapped[datetime]
class ExchangeRate(Base):
    """From ``valid_from`` on, one ``from_currency`` is worth ``rate`` ``to_currency`` (`coach rates import`)."""

    __tablename__ = "exchange_rate"
    __table_args__ = (
        sa.UniqueConstraint("valid_from", "from_currency", "to_currency", name="uq_exchange_rate_day_pair"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    valid_from: so.Mapped[date]
    from_currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    to_currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    rate: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(24, 10))
    imported_at: so.Mapped[datetime]


class ActionPlan(Base):
    """What the Monday team meeting agreed for a deal: what, who, by when; asked again at the next check-in."""

    __tablename__ = "action_plan"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deal.id", ondelete="CASCADE"), index=True)
    what: so.Mapped[str] = so.mapped_column(sa.Text)
    who: so.Mapped[str] = so.mapped_column(sa.String(200))
    due: so.Mapped[date]
    agreed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))
    agreed_at: so.Mapped[datetime]
    done: so.Mapped[bool | None]  # None until followed up in a check-in
    followed_up_at: so.Mapped[datetime | None]

    agreed_by: so.Mapped[Person | None] = so.relationship(lazy="joined")


class ForecastReview(Base):
    """A manager's answers when last period's signed-off forecast and what was won differ: carried up a tier."""

    __tablename__ = "forecast_review"
    __table_args__ = (sa.UniqueConstraint("author_id", "week", name="uq_forecast_review_author_week"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    week: so.Mapped[date] = so.mapped_column(index=True)  # the period reviewed
    forecast: so.Mapped[Decimal]
    won: so.Mapped[Decimal]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    wrong: so.Mapped[str] = so.mapped_column(sa.Text, default="")  # what did we do wrong?
    unknown: so.Mapped[str] = so.mapped_column(sa.Text, default="")  # what don't we know?
    misled: so.Mapped[str] = so.mapped_column(sa.Text, default="")  # did the customer mislead us?
    next_steps: so.Mapped[str] = so.mapped_column(sa.Text, default="")  # what do we do next?
    created_at: so.Mapped[datetime]

    author: so.Mapped[Person] = so.relationship()


class SendBudget(Base):
    """Slack's send budget, shared by every instance on this database: the next free send slot and
    until when a 429 said to wait. Times are wall-clock seconds since the epoch, as every instance
    reads them from its own clock (so the instances' clocks must agree, as NTP keeps them)."""

    __tablename__ = "send_budget"

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)  # the budget, e.g. the ledger's posts
    next_slot: so.Mapped[float] = so.mapped_column(sa.Double)
    paused_until: so.Mapped[float] = so.mapped_column(sa.Double)


class GoLive(Base):
    """When the schedule went live, or last started again from a fresh install or an import: what fell
    due before it is never sent (the first tick after starts from the next due moment)."""

    __tablename__ = "go_live"

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)  # "schedule"
    at: so.Mapped[datetime]
    why: so.Mapped[str] = so.mapped_column(sa.Text, default="")
