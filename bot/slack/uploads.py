"""Sharing files (the charts) in a Slack conversation with ``files_upload_v2``: ask for an upload URL
per file, send the bytes there, then complete the upload into the conversation in one message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from slack_sdk import WebClient


class Shareable(Protocol):
    @property
    def filename(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def alt(self) -> str: ...
    @property
    def data(self) -> bytes: ...


def conversation_id(client: WebClient, channel: str) -> str:
    """A channel id for ``channel``: a user id becomes the id of the bot's DM with them."""
    if channel[:1] in ("U", "W"):
        return str(client.conversations_open(users=channel)["channel"]["id"])
    return channel


def share_files(client: WebClient, channel: str, files: Sequence[Shareable], *, comment: str = "") -> tuple[str, str]:
    """Upload ``files`` and share them in ``channel`` (a user id means their DM) with ``comment``;
    returns (channel id, the first file's id)."""
    where = conversation_id(client, channel)
    uploads: list[dict[str, Any]] = [{"file": f.data, "filename": f.filename, "title": f.title, "alt_txt": f.alt}
                                     for f in files]
    answer = client.files_upload_v2(channel=where, initial_comment=comment or None, file_uploads=uploads)
    return where, str(answer["files"][0]["id"])
