"""Who a Slack user is, from the Web API: the services' ``Directory`` port, for Slack."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.people import Directory, SlackProfile

log = logging.getLogger("coach.slack")


class SlackDirectory(Directory):
    """Profiles from ``users.info`` and ``users.lookupByEmail``; None when Slack has no answer."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def user(self, user_id: str) -> SlackProfile | None:
        try:
            u = self.client.users_info(user=user_id, include_locale=True)["user"]
        except SlackApiError as e:
            log.warning("users.info %s failed: %s", user_id, e.response.get("error"))
            return None
        return SlackProfile(u["id"], (u.get("profile") or {}).get("email"), u.get("tz"), u.get("locale"))

    def by_email(self, email: str) -> SlackProfile | None:
        try:
            u = self.client.users_lookupByEmail(email=email)["user"]
        except SlackApiError as e:
            if e.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail failed: %s", e.response.get("error"))
            return None
        return SlackProfile(u["id"], (u.get("profile") or {}).get("email"), u.get("tz"))
