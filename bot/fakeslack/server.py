"""A fake of Slack's Web API over real HTTP, for tests and offline demos.

Point slack_sdk's ``WebClient(base_url=fake.base_url)`` at it. It answers like Slack
(HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``), enforces the
documented Block Kit limits, records every call, and can inject rate limits and errors.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from bot.fakeslack.socket_mode import FakeSocketMode

Params = dict[str, Any]

# Documented limits (docs.slack.dev, Block Kit reference).
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "files")
MAX_UPLOAD = 1024 * 1024 * 1024  # files.getUploadURLExternal accepts up to 1 GB


@dataclass(frozen=True)
class Call:
    """One request the fake answered. ``headers`` keys are lower-case."""

    method: str
    params: Params
    headers: dict[str, str]
    at: float
    status: int
    response: dict[str, Any]
    dropped: bool = False  # done, but the connection was closed before the answer (the caller saw an error)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int = 0
    drop: bool = False  # do the work, then close the connection without answering


@dataclass
class _User:
    id: str
    email: str
    name: str
    real_name: str
    tz: str | None
    is_bot: bool
    deleted: bool = False
    locale: str = "en-US"


@dataclass
class UploadedFile:
    """A file uploaded through files.getUploadURLExternal and its upload URL, and where it was shared."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    title: str | None = None
    data: bytes | None = None  # None until the bytes arrive at the upload URL
    channel: str | None = None  # set by files.completeUploadExternal
    ts: str | None = None  # the message that shares it
    initial_comment: str | None = None


@dataclass
class _Message:
    channel: str
    data: dict[str, Any]


class SlackError(Exception):
    """Answer ``{"ok": false, "error": error}`` (with HTTP ``status``)."""

    def __init__(self, error: str, detail: str | None = None, status: int = 200) -> None:
        super().__init__(error)
        self.error, self.detail, self.status = error, detail, status

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.detail:
            body["response_metadata"] = {"messages": [f"[ERROR] {self.detail}"]}
        return body


class FakeSlack:
    """A local Slack workspace with a Web API on ``base_url`` and ``response_url()`` endpoints."""

    TEAM_ID = "T0TEAM"
    TEAM_NAME = "Fake Workspace"
    APP_ID = "A0APP"
    BOT_ID = "B0BOT"
    BOT_USER_ID = "U0BOT"

    def __init__(self, *, expected_token: str | None = None, app_token: str | None = None, port: int = 0) -> None:
        """``expected_token``/``app_token``: when given, other tokens get ``invalid_auth``."""
        self.expected_token = expected_token
        self.app_token = app_token
        self._port = port
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._caps: dict[str, tuple[float, deque[float]]] = {}  # method -> (per second, times of accepted calls)
        self._users: dict[str, _User] = {}
        self._messages: dict[str, _Message] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}  # user id -> view id
        self._response_urls: set[str] = set()
        self._files: dict[str, UploadedFile] = {}
        self._last_ts_us = 0
        self._view_seq = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._socket_mode: FakeSocketMode | None = None
        self._methods: dict[str, Callable[[Params], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.list": self._users_list,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "apps.connections.open": self._apps_connections_open,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._socket_mode is not None:
            self._socket_mode.stop()
            self._socket_mode = None
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "FakeSlack is not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """The Web API root, with the trailing slash slack_sdk needs."""
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def socket_mode(self) -> FakeSocketMode:
        """The Socket Mode endpoint ``apps.connections.open`` hands out (started on first use)."""
        with self._cond:
            if self._socket_mode is None:
                self._socket_mode = FakeSocketMode(self.APP_ID)
                self._socket_mode.start()
            return self._socket_mode

    # -- workspace ---------------------------------------------------------------------------

    def add_user(self, user_id: str, *, email: str, name: str, real_name: str | None = None,
                 tz: str | None = "UTC", is_bot: bool = False, deleted: bool = False, locale: str = "en-US") -> None:
        """A workspace member; ``tz=None`` is a profile without a timezone, ``deleted`` a deactivated account,
        ``locale`` their Slack language (``zh-CN``...), sent by users.info with include_locale."""
        if tz is not None:
            ZoneInfo(tz)  # fail here, not in a request, on an unknown zone
        with self._cond:
            self._users[user_id] = _User(user_id, email, name, real_name or name, tz, is_bot, deleted, locale)

    def locale_of(self, user_id: str) -> str:
        with self._cond:
            user = self._users.get(user_id)
            return user.locale if user else ""

    def update_user(self, user_id: str, *, tz: str | object | None = ..., deleted: bool | None = None) -> None:
        """Change a member's profile as Slack would: a timezone move, a deactivation (or reactivation)."""
        with self._cond:
            user = self._users[user_id]
            if tz is not ...:
                assert tz is None or isinstance(tz, str)
                if tz is not None:
                    ZoneInfo(tz)
                user.tz = tz
            if deleted is not None:
                user.deleted = deleted

    def dm_channel(self, user_id: str) -> str:
        """The DM channel id ``conversations.open`` gives for ``user_id``."""
        return "D" + user_id

    def response_url(self) -> str:
        """A fresh URL on this server that accepts POSTs like a Slack ``response_url``."""
        url_id = uuid.uuid4().hex
        with self._cond:
            self._response_urls.add(url_id)
        return f"http://127.0.0.1:{self.port}/response/{url_id}"

    # -- recorded calls ----------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def rejected(self) -> list[Call]:
        """Calls answered with ``ok: false`` (including injected failures)."""
        return [c for c in self.calls if not c.ok]

    def clear(self) -> None:
        """Forget recorded calls (the workspace and pending failures stay)."""
        with self._cond:
            self._calls.clear()

    def messages(self, channel: str | None = None) -> list[Call]:
        """Delivered ``chat.postMessage`` calls, optionally to ``channel`` (a user id and their DM id match)."""
        want = None if channel is None else self._conversation_key(channel)
        return [c for c in self.calls_to("chat.postMessage")
                if c.ok and (want is None or self._conversation_key(c.params["channel"]) == want)]

    def files(self, channel: str | None = None) -> list[UploadedFile]:
        """Files shared by files.completeUploadExternal, optionally in ``channel`` (a user id matches their DM)."""
        want = None if channel is None else self._conversation_key(channel)
        with self._cond:
            return [f for f in self._files.values() if f.channel is not None
                    and (want is None or self._conversation_key(f.channel) == want)]

    def responses(self, url: str | None = None) -> list[Call]:
        """Delivered posts to ``response_url()`` URLs, optionally to one ``url``."""
        return [c for c in self.calls_to("response_url") if c.ok and (url is None or c.params["response_url"] == url)]

    def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 5.0) -> Call:
        """The first recorded call matching ``predicate``, waiting up to ``timeout`` for it to arrive."""
        hit: Call | None = None

        def match() -> bool:
            nonlocal hit
            hit = next((c for c in self._calls if predicate(c)), None)
            return hit is not None

        with self._cond:
            if not self._cond.wait_for(match, timeout):
                seen = [f"{c.method}:{c.status}:{c.error or 'ok'}" for c in self._calls]
                raise TimeoutError(f"no matching call within {timeout}s; calls so far: {seen}")
        assert hit is not None
        return hit

    # -- failure injection -------------------------------------------------------------------

    def fail_next(self, method: str, *, status: int = 429, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status`` (429 carries ``Retry-After``)."""
        error = {429: "ratelimited", 503: "service_unavailable"}.get(status, "fatal_error")
        self._inject(method, _Failure(status, error, retry_after), times)

    def error_next(self, method: str, error: str = "channel_not_found", times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP 200 and ``{"ok": false, "error": error}``."""
        self._inject(method, _Failure(200, error), times)

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """Carry out the next ``times`` calls to ``method`` but close the connection instead of
        answering, as when Slack did the work and the network lost the reply."""
        self._inject(method, _Failure(200, "", drop=True), times)

    def slow_down(self, method: str, seconds: float) -> None:
        """Make every call to ``method`` take at least ``seconds`` (0 to stop)."""
        with self._cond:
            self._delays[method] = seconds

    def limit_rate(self, method: str, per_second: float | None) -> None:
        """Answer calls to ``method`` past ``per_second`` in any one-second window with 429 and
        ``Retry-After: 1`` (not carried out), as Slack's rate limits do; None to lift the cap."""
        with self._cond:
            if per_second is None:
                self._caps.pop(method, None)
            else:
                self._caps[method] = (per_second, deque())

    def _inject(self, method: str, failure: _Failure, times: int) -> None:
        with self._cond:
            self._failures.setdefault(method, deque()).extend([failure] * times)

    # -- request handling (called from server threads) ---------------------------------------

    def _serve(self, method: str, params: Params, headers: dict[str, str],
               error: SlackError | None = None) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """Answer one request and record it; returns (status, body, extra headers), or None
        when the connection is to be dropped without an answer."""
        with self._cond:
            delay = self._delays.get(method, 0.0)
        if delay:
            time.sleep(delay)
        with self._cond:
            pending = self._failures.get(method)
            drop = bool(pending) and pending[0].drop
            if drop:
                pending.popleft()
            status, body, extra = self._answer(method, params, headers, error)
            self._calls.append(Call(method, params, headers, time.monotonic(), status, body, dropped=drop))
            self._cond.notify_all()
        return None if drop else (status, body, extra)

    def _answer(self, method: str, params: Params, headers: dict[str, str],
                error: SlackError | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        cap = self._caps.get(method)
        if cap is not None:
            per_second, accepted = cap
            now = time.monotonic()
            while accepted and accepted[0] <= now - 1.0:
                accepted.popleft()
            if len(accepted) >= per_second:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
            accepted.append(now)
        pending = self._failures.get(method)
        if pending and not pending[0].drop:
            failure = pending.popleft()
            extra = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            return failure.status, {"ok": False, "error": failure.error}, extra
        try:
            if error is not None:
                raise error
            if method == "response_url":
                return 200, {"ok": True, **self._post_response_url(params)}, {}
            if method == "file_upload":
                return self._receive_upload(params)
            self._authenticate(method, _token(params, headers))
            handler = self._methods.get(method)
            if handler is None:
                raise SlackError("unknown_method")
            return 200, {"ok": True, **handler(params)}, {}
        except SlackError as e:
            return e.status, e.body(), {}

    def _authenticate(self, method: str, token: str | None) -> None:
        if method == "apps.connections.open":
            if not token:
                raise SlackError("not_authed")
            if not token.startswith("xapp-"):
                raise SlackError("not_allowed_token_type")
            if self.app_token is not None and token != self.app_token:
                raise SlackError("invalid_auth")
        elif self.expected_token is not None and token != self.expected_token:
            raise SlackError("invalid_auth")

    # -- Web API methods ---------------------------------------------------------------------

    def _auth_test(self, p: Params) -> dict[str, Any]:
        return {"url": "https://fake.slack.test/", "team": self.TEAM_NAME, "user": "bot", "team_id": self.TEAM_ID,
                "user_id": self.BOT_USER_ID, "bot_id": self.BOT_ID, "is_enterprise_install": False}

    def _users_info(self, p: Params) -> dict[str, Any]:
        user = self._users.get(p.get("user", ""))
        if user is None:
            raise SlackError("user_not_found")
        out = self._user_json(user)
        if str(p.get("include_locale", "")).lower() in ("1", "true"):
            out["locale"] = user.locale  # as Slack: only when asked for
        return {"user": out}

    def _users_lookup_by_email(self, p: Params) -> dict[str, Any]:
        email = str(p.get("email", "")).lower()
        for user in self._users.values():
            if user.email.lower() == email:
                return {"user": self._user_json(user)}
        raise SlackError("users_not_found")

    def _users_list(self, p: Params) -> dict[str, Any]:
        """Members in a stable order, ``limit`` a page (at most 1000, as Slack), ``cursor`` the next page's start."""
        try:
            limit = min(int(p.get("limit") or 100), 1000)
            start = int(p.get("cursor") or 0)
        except ValueError:
            raise SlackError("invalid_cursor") from None
        users = sorted(self._users.values(), key=lambda u: u.id)
        page = users[start:start + limit]
        more = start + limit < len(users)
        locale = str(p.get("include_locale", "")).lower() in ("1", "true")
        members = [{**self._user_json(u), **({"locale": u.locale} if locale else {})} for u in page]
        return {"members": members, "cache_ts": 0,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _conversations_open(self, p: Params) -> dict[str, Any]:
        users = [u for u in str(p.get("users", "")).split(",") if u]
        if len(users) != 1:
            raise SlackError("invalid_arguments", "the fake opens DMs with exactly one user")
        if users[0] not in self._users:
            raise SlackError("user_not_found")
        return {"channel": {"id": self.dm_channel(users[0]), "is_im": True, "user": users[0]}}

    def _conversations_history(self, p: Params) -> dict[str, Any]:
        """Newest first; ``metadata`` only with ``include_all_metadata``; paged by ``cursor``."""
        want = self._conversation_key(str(p.get("channel", "")))
        if not want.startswith(("C", "G")) and want not in self._users:
            raise SlackError("channel_not_found")
        oldest, latest = float(p.get("oldest") or 0), float(p.get("latest") or "inf")
        limit = max(1, min(int(p.get("limit") or 100), 999))
        with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted(
            (m.data for m in self._messages.values()
             if self._conversation_key(m.channel) == want and oldest <= float(m.data["ts"]) <= latest),
            key=lambda m: float(m["ts"]), reverse=True)
        start = int(p.get("cursor") or 0)
        page = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                for m in found[start:start + limit]]
        more = start + limit < len(found)
        return {"messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _chat_post_message(self, p: Params) -> dict[str, Any]:
        channel = self._channel(p)
        _check_content(p)
        ts = self._next_ts()
        message = {"type": "message", "user": self.BOT_USER_ID, "bot_id": self.BOT_ID, "team": self.TEAM_ID,
                   "ts": ts, **{k: p[k] for k in ("text", "blocks", "thread_ts", "metadata") if k in p}}
        self._messages[ts] = _Message(channel, dict(message))  # a copy: chat.update must not rewrite this answer
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, p: Params) -> dict[str, Any]:
        self._channel(p)
        if p.get("user") not in self._users:
            raise SlackError("user_not_in_channel")
        _check_content(p)
        return {"message_ts": self._next_ts()}

    def _chat_update(self, p: Params) -> dict[str, Any]:
        message = self._find_message(p)
        _check_content(p)
        message.data |= {k: p[k] for k in ("text", "blocks") if k in p}
        return {"channel": message.channel, "ts": p["ts"], "text": message.data.get("text", ""),
                "message": message.data}

    def _chat_delete(self, p: Params) -> dict[str, Any]:
        message = self._find_message(p)
        del self._messages[p["ts"]]
        return {"channel": message.channel, "ts": p["ts"]}

    def _views_open(self, p: Params) -> dict[str, Any]:
        """``views.open`` and ``views.push``."""
        if not p.get("trigger_id"):
            raise SlackError("invalid_arguments", "missing required field: trigger_id")
        view = self._store_view(p.get("view"), "modal")
        return {"view": view}

    def _views_update(self, p: Params) -> dict[str, Any]:
        if p.get("view_id"):
            old = self._views.get(p["view_id"])
        elif p.get("external_id"):
            old = next((v for v in self._views.values() if v.get("external_id") == p["external_id"]), None)
        else:
            raise SlackError("invalid_arguments", "view_id or external_id is required")
        if old is None:
            raise SlackError("not_found")
        if p.get("hash") and p["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        return {"view": self._store_view(p.get("view"), old["type"], old["id"])}

    def _views_publish(self, p: Params) -> dict[str, Any]:
        user_id = p.get("user_id", "")
        if user_id not in self._users:
            raise SlackError("user_not_found")
        old = self._views.get(self._home_views.get(user_id, ""))
        if old is not None and p.get("hash") and p["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        view = self._store_view(p.get("view"), "home", old["id"] if old else None)
        self._home_views[user_id] = view["id"]
        return {"view": view}

    def _files_get_upload_url_external(self, p: Params) -> dict[str, Any]:
        filename = str(p.get("filename") or "")
        try:
            length = int(p.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or not 0 < length <= MAX_UPLOAD:
            raise SlackError("invalid_arguments", "filename and a length of 1 byte to 1 GB are required")
        file_id = f"F{uuid.uuid4().hex[:10].upper()}"
        self._files[file_id] = UploadedFile(file_id, filename, length, p.get("alt_txt"))
        return {"upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    def _receive_upload(self, p: Params) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The upload URL: the raw bytes of a file, which must be as long as announced."""
        f = self._files.get(p["file_id"])
        data: bytes = p["data"]
        if f is None:
            return 404, {"ok": False, "error": "upload_url_not_found"}, {}
        if len(data) != f.length:
            return 400, {"ok": False, "error": "length_mismatch"}, {}
        f.data = data
        return 200, {"ok": True, "size": len(data)}, {}

    def _files_complete_upload_external(self, p: Params) -> dict[str, Any]:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments", "files must be a JSON array of {id, title}")
        found = []
        for item in files:
            f = self._files.get(str(item.get("id", "")) if isinstance(item, dict) else "")
            if f is None or f.data is None:
                raise SlackError("file_not_found", "every file must be uploaded to its upload_url first")
            found.append((f, item))
        channel = None
        if p.get("channel_id") or p.get("channels"):
            channel = self._channel({"channel": p.get("channel_id") or str(p.get("channels")).split(",")[0]})
        out = []
        ts = self._next_ts() if channel else None
        for f, item in found:
            f.title = item.get("title") or f.filename
            f.channel, f.ts, f.initial_comment = channel, ts, p.get("initial_comment")
            out.append(self._file_json(f))
        if channel and ts:
            # The share is a message in the conversation, as in Slack's history (a file_share with its files).
            self._messages[ts] = _Message(channel, {"type": "message", "subtype": "file_share", "ts": ts,
                                                    "user": self.BOT_USER_ID, "bot_id": self.BOT_ID,
                                                    "text": p.get("initial_comment") or "",
                                                    "files": [self._file_json(f) for f, _ in found]})
        return {"files": out}

    def _file_json(self, f: UploadedFile) -> dict[str, Any]:
        return {"id": f.id, "name": f.filename, "title": f.title or f.filename, "size": f.length,
                "mimetype": "image/png" if f.filename.lower().endswith(".png") else "application/octet-stream"}

    def _apps_connections_open(self, p: Params) -> dict[str, Any]:
        return {"url": self.socket_mode.url}

    def _post_response_url(self, p: Params) -> dict[str, Any]:
        if p["url_id"] not in self._response_urls:
            raise SlackError("expired_url", status=404)
        if "blocks" in p and (problem := _blocks_problem(p["blocks"], MESSAGE_MAX_BLOCKS)):
            raise SlackError("invalid_blocks", problem, status=400)
        return {}

    # -- helpers -----------------------------------------------------------------------------

    def _user_json(self, user: _User) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": user.id, "team_id": self.TEAM_ID, "name": user.name, "real_name": user.real_name,
            "deleted": user.deleted, "is_bot": user.is_bot,
            "profile": {"email": user.email, "real_name": user.real_name, "display_name": user.name},
        }
        if user.tz is not None:  # Slack leaves the timezone fields out of a profile without one
            now = datetime.now(ZoneInfo(user.tz))
            offset = now.utcoffset()
            out.update(tz=user.tz, tz_label=now.tzname(), tz_offset=int(offset.total_seconds()) if offset else 0)
        return out

    def _conversation_key(self, channel: str) -> str:
        """A user's id for their id or DM channel id; other channel ids as they are."""
        if channel.startswith("D") and channel[1:] in self._users:
            return channel[1:]
        return channel

    def _channel(self, p: Params) -> str:
        """The channel a message goes to; a user id becomes their DM channel, like Slack does."""
        channel = str(p.get("channel", ""))
        if not channel or (channel[0] in "UW" and channel not in self._users):
            raise SlackError("channel_not_found")
        return self.dm_channel(channel) if channel in self._users else channel

    def _find_message(self, p: Params) -> _Message:
        message = self._messages.get(str(p.get("ts", "")))
        if message is None or self._conversation_key(message.channel) != self._conversation_key(
                str(p.get("channel", ""))):
            raise SlackError("message_not_found")
        return message

    def _next_ts(self) -> str:
        """A message timestamp, strictly increasing."""
        self._last_ts_us = max(time.time_ns() // 1000, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _store_view(self, view: Any, kind: str, view_id: str | None = None) -> dict[str, Any]:
        _check_view(view, kind)
        if view_id is None:
            self._view_seq += 1
            view_id = f"V{self._view_seq:08d}"
        stored = {"state": {"values": {}}, **view, "id": view_id, "team_id": self.TEAM_ID, "app_id": self.APP_ID,
                  "bot_id": self.BOT_ID, "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
                  "root_view_id": view_id, "previous_view_id": None}
        self._views[view_id] = stored
        return stored


# -- Block Kit checks --------------------------------------------------------------------------

def _check_content(p: Params) -> None:
    if not (p.get("text") or p.get("blocks") or p.get("attachments")):
        raise SlackError("no_text")
    if "blocks" in p and (problem := _blocks_problem(p["blocks"], MESSAGE_MAX_BLOCKS)):
        raise SlackError("invalid_blocks", problem)


def _check_view(view: Any, kind: str) -> None:
    if not isinstance(view, dict) or view.get("type") != kind:
        raise SlackError("invalid_arguments", f"view must be an object of type {kind}")
    for key in ("title", "close", "submit"):
        if (key in view or (key == "title" and kind == "modal")) and not _text_ok(view.get(key), 24, plain=True):
            raise SlackError("invalid_arguments", f"view {key} must be plain_text of 1-24 characters")
    if len(view.get("private_metadata", "")) > 3000 or len(view.get("callback_id", "")) > 255:
        raise SlackError("invalid_arguments", "private_metadata over 3000 or callback_id over 255 characters")
    if problem := _blocks_problem(view.get("blocks"), VIEW_MAX_BLOCKS):
        raise SlackError("invalid_blocks", problem)


def _blocks_problem(blocks: Any, limit: int) -> str | None:
    """Why Slack would reject ``blocks`` (documented limits only), or None."""
    if not isinstance(blocks, list):
        return "blocks must be an array"
    if len(blocks) > limit:
        return f"no more than {limit} items allowed [json-pointer:/blocks]"
    for i, block in enumerate(blocks):
        if problem := _block_problem(block):
            return f"{problem} [json-pointer:/blocks/{i}]"
    return None


def _block_problem(block: Any) -> str | None:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return "a block must be an object with a type"
    if len(str(block.get("block_id", ""))) > 255:
        return "block_id over 255 characters"
    kind = block["type"]
    if kind == "section":
        fields = block.get("fields", [])
        if "text" not in block and not fields:
            return "section needs text or fields"
        if "text" in block and not _text_ok(block["text"], 3000):
            return "section text must be 1-3000 characters"
        if not isinstance(fields, list) or len(fields) > 10 or not all(_text_ok(f, 2000) for f in fields):
            return "section fields: at most 10, each 1-2000 characters"
    elif kind == "header":
        if not _text_ok(block.get("text"), 150, plain=True):
            return "header text must be plain_text of 1-150 characters"
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            return "context needs 1-10 elements"
        if not all(isinstance(e, dict) and (e.get("type") == "image" or _text_ok(e, 3000)) for e in elements):
            return "context text elements must be 1-3000 characters"
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            return "actions needs 1-25 elements"
    return None


def _text_ok(obj: Any, limit: int, *, plain: bool = False) -> bool:
    """Whether ``obj`` is a text object (plain_text only if ``plain``) of 1..``limit`` characters."""
    kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    return (isinstance(obj, dict) and obj.get("type") in kinds and isinstance(obj.get("text"), str)
            and 1 <= len(obj["text"]) <= limit)


# -- HTTP ----------------------------------------------------------------------------------------

def _token(params: Params, headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.startswith("Bearer "):
        return auth[len("Bearer "):]
    return params.get("token")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops bursts of connections, costing a 1 s SYN retry
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/api/"):
            method, extra = url.path[len("/api/"):], {}
        elif url.path.startswith("/upload/"):
            size = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(size)
            answer = self.server.fake._serve("file_upload", {"file_id": url.path[len("/upload/"):], "data": data,
                                                              "size": size}, {}, None)
            if answer is None:
                self.close_connection = True
                return
            status, body, _ = answer
            text = f"OK - {len(data)}".encode() if status == 200 else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
            return
        elif url.path.startswith("/response/"):
            url_id = url.path[len("/response/"):]
            method = "response_url"
            extra = {"url_id": url_id, "response_url": f"http://127.0.0.1:{self.server.fake.port}{url.path}"}
        else:
            self.send_error(404)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        params: Params = dict(parse_qsl(url.query, keep_blank_values=True))
        error = None
        try:
            params |= self._body_params(headers.get("content-type", ""))
        except ValueError:
            error = SlackError("invalid_json")
        answer = self.server.fake._serve(method, params | extra, headers, error)
        if answer is None:
            self.close_connection = True
            return
        status, body, extra_headers = answer
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST

    def _body_params(self, content_type: str) -> Params:
        """Form or JSON body fields, with JSON-string fields (``blocks``, ``view``...) decoded."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if not raw:
            return {}
        if content_type.startswith("application/json"):
            params = json.loads(raw)
            if not isinstance(params, dict):
                raise ValueError("JSON body is not an object")
        else:
            params = dict(parse_qsl(raw, keep_blank_values=True))
        for key in JSON_FIELDS:
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):  # not JSON: keep the string, as Slack would reject it
                    params[key] = json.loads(params[key])
        return params

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
