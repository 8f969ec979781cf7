"""Every callback_id, action_id and block_id, defined once.

Handlers match on these; builders set them. Values that carry data (a deal
ref, a page number) go in the element's ``value`` or the view's
``private_metadata``, never in the id.
"""

from enum import StrEnum


class View(StrEnum):
    NEW_DEAL = "deal_new"
    UPDATE_DEAL = "deal_update"
    GATE = "deal_gate"  # asks for what an advance is missing
    REASON = "deal_reason"  # a reason for moving back / overriding
    CHECKIN = "checkin_deal"  # the Monday questions for one deal
    DIGEST_COMMENT = "digest_comment"  # a manager's comment and forecast for the tier above
    ACTIVITY = "checkin_activity"  # last week's visits, calls and proposals
    QUALIFY = "deal_qualify"  # buying roles and evaluation items, any time
    NEW_DEAL_GATE = "deal_new_gate"  # what a new deal's stage needs the customer to have shown
    ACTION_PLAN = "action_plan"  # what, who, by when: agreed in the Monday team meeting
    FORECAST_REVIEW = "forecast_review"  # why forecast and actual differ: the source's four questions
    TEAM_TARGETS = "team_targets"  # a manager sets their reports' targets


class Action(StrEnum):
    ADVANCE = "deal_advance"
    OVERRIDE = "deal_override"
    UPDATE = "deal_update"
    QUALIFY = "deal_qualify"
    PAGE = "page"
    NEW_DEAL = "deal_new"
    CHECKIN_NO_CHANGE = "checkin_no_change"
    CHECKIN_UPDATE = "checkin_update"
    CHECKIN_WALK = "checkin_walk"
    CHECKIN_PAGE = "checkin_page"
    DIGEST_COMMENT = "digest_comment"
    ACTIVITY_REPORT = "checkin_activity"
    ACTIVITY_SKIP = "checkin_activity_skip"
    MEETING_PLAN = "meeting_plan"  # open the action-plan form for a deal in the team meeting list
    FORECAST_REVIEW = "forecast_review"
    DIGEST_SIGNOFF = "digest_signoff"  # a region head's one-click 认可 of the rolled-up forecast
    DIGEST_ADJUST = "digest_adjust"  # a region head's 认可 of their own figure, with a comment
    SET_TARGETS = "team_targets"


class Block(StrEnum):
    NAME = "name"
    ACCOUNT = "account"
    AMOUNT = "amount"
    CURRENCY = "currency"
    CLOSE_DATE = "close_date"
    STAGE = "stage"
    NEXT_STEP = "next_step"
    NEXT_STEP_DATE = "next_step_date"
    FORECAST = "forecast"
    CHARACTERISTICS = "characteristics"
    REASON = "reason"
    NOTE = "note"
    NEXT_MARKER = "next_marker"
    COMMENT = "comment"
    COMMIT = "commit"
    BEST_CASE = "best_case"
    VISITS = "visits"
    CALLS = "calls"
    PROPOSALS = "proposals"
    PERIOD = "period"
    TARGET_PREFIX = "target__"  # + the report's person id
    BANT_PREFIX = "bant__"  # + item key
    ROLE_PREFIX = "role__"  # + role key
    EVAL_PREFIX = "eval__"  # + evaluation key
    ITEM_PREFIX = "item__"  # + evaluation key + "__" + item key
    PLAN_WHAT = "plan_what"
    PLAN_WHO = "plan_who"
    PLAN_DUE = "plan_due"
    PLAN_DONE_PREFIX = "plan_done__"  # + action plan id: followed up in the check-in
    REVIEW_PREFIX = "review__"  # + question key (bot.domain.forecast.QUESTIONS)


FIELD = "value"  # the action_id of the single input inside each input block
