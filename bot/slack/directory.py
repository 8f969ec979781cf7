"""Who a Slack user is, from the Web API: the services' ``Directory`` and ``ProfileSource``
ports, for Slack."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.people import Directory, SlackProfile
from bot.services.profiles import ProfileSource, SourceUnavailable

log = logging.getLogger("coach.slack")
NOT_FOUND = ("user_not_found", "users_not_found")
PAGE = 200  # users.list's recommended page size


def profile_of(u: dict[str, Any]) -> SlackProfile:
    return SlackProfile(u["id"], (u.get("profile") or {}).get("email"), u.get("tz"), bool(u.get("deleted")),
                        u.get("locale"))


class SlackDirectory(Directory):
    """Profiles from ``users.info`` and ``users.lookupByEmail``; None when Slack has no answer."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def user(self, user_id: str) -> SlackProfile | None:
        try:
            return profile_of(self.client.users_info(user=user_id, include_locale=True)["user"])
        except SlackApiError as e:
            log.warning("users.info %s failed: %s", user_id, e.response.get("error"))
            return None

    def by_email(self, email: str) -> SlackProfile | None:
        try:
            return profile_of(self.client.users_lookupByEmail(email=email)["user"])
        except SlackApiError as e:
            if e.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail failed: %s", e.response.get("error"))
            return None


class SlackProfiles(ProfileSource):
    """Profiles for ``coach org sync``: "no such user" is None, any other error says what Slack answered."""

    def __init__(self, client: WebClient, *, page: int = PAGE) -> None:
        self.client, self.page = client, page

    def _one(self, method: str, call: Callable[[], Any]) -> SlackProfile | None:
        try:
            return profile_of(call()["user"])
        except SlackApiError as e:
            if e.response.get("error") in NOT_FOUND:
                return None
            raise SourceUnavailable(f"{method} answered {e.response.get('error')}") from e
        except OSError as e:
            raise SourceUnavailable(f"{method} failed: {e}") from e

    def user(self, user_id: str) -> SlackProfile | None:
        return self._one("users.info", lambda: self.client.users_info(user=user_id, include_locale=True))

    def by_email(self, email: str) -> SlackProfile | None:
        return self._one("users.lookupByEmail", lambda: self.client.users_lookupByEmail(email=email))

    def every_user(self) -> Iterator[SlackProfile]:
        cursor: str | None = None
        while True:
            try:
                page = self.client.users_list(limit=self.page, cursor=cursor, include_locale=True)
            except SlackApiError as e:
                raise SourceUnavailable(f"users.list answered {e.response.get('error')}") from e
            except OSError as e:
                raise SourceUnavailable(f"users.list failed: {e}") from e
            members: list[dict[str, Any]] = page.get("members", [])
            for u in members:
                if not u.get("is_bot") and u.get("id") != "USLACKBOT":
                    yield profile_of(u)
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return
