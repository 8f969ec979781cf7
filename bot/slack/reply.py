"""Answering the person who acted, privately."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.render.blocks import as_dicts, fallback_text, macro, section
from bot.services.errors import UserError
from bot.slack.client import webhook_client
from bot.slack.payload import metadata_of, user_id_of

log = logging.getLogger("coach.handlers")


def error_blocks(e: UserError) -> list[Block]:
    return [section(macro("errors.j2", e.key, **e.params))]


@dataclass
class Replier:
    """Answers the person privately: through the response_url when Slack gave
    one, else as an ephemeral in the channel the work started in, else a DM."""

    client: WebClient
    body: dict[str, Any]

    def ephemeral(self, blocks: list[Block], *, replace: bool = False) -> None:
        payload = as_dicts(blocks)
        text = fallback_text(blocks)
        url = self.body.get("response_url")
        if url:
            hook = webhook_client(url)
            resp = hook.send(text=text, blocks=payload, response_type="ephemeral", replace_original=replace or None)
            if resp.status_code != 200:  # WebhookClient does not raise: say so in the log
                log.error("response_url answered %s: %s", resp.status_code, resp.body)
            return
        user = user_id_of(self.body)
        if not user:  # a payload naming nobody (Slack never sends one): there is no one to answer
            log.info("no user in the payload to answer: %s", text[:200])
            return
        channel = metadata_of(self.body).get("channel") or (self.body.get("channel") or {}).get("id")
        if channel and not str(channel).startswith("D"):
            try:
                self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=payload)
                return
            except SlackApiError as e:  # e.g. the bot is not in that channel: fall back to a DM
                log.info("ephemeral in %s failed (%s); sending a DM", channel, e.response.get("error"))
        self.client.chat_postMessage(channel=user, text=text, blocks=payload)

    def error(self, e: UserError) -> None:
        self.ephemeral(error_blocks(e))
