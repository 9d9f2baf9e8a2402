"""The attachments' HTTP routes (registered by handoff/app.py; docs/protocol.md, Attachments).

| route | who | what |
|---|---|---|
| `POST /api/attachments` (multipart: `file`, `client_id`?, `conversation_id` for agents) | visitor or agent token | upload: checked, stored, posted as a message |
| `GET /api/attachments/<cid>/<aid>/link` | visitor (their conversation) or agent token | a fresh signed link `{url, expires_at}` |
| `GET /api/attachments/<cid>/<aid>?exp=&sig=` | whoever holds the link | the file |

Tokens ride in `Authorization: Bearer <token>`: the visitor token of the `session` event or an
agent token (POST /api/login). Errors are `{"error", "message"}` (handoff/http_edge.py):
401 `unauthorized`, 403 `forbidden` (not your conversation) / `bad_link` (tampered), 404
`not_found`, 409 `no_conversation` / `invalid_state` / `too_many_files`, 410 `link_expired`,
413 `too_large`, 415 `unsupported_type`, 422 `bad_file`, 429 `rate_limited` (+ `retry_after`),
503 `unavailable`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional, Tuple
from urllib.parse import quote

from redis.exceptions import RedisError
from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from handoff import protocol as p
from handoff.attachments.checks import Refused
from handoff.attachments.desk import AttachmentDesk, Upload
from handoff.attachments.links import BadLink, LinkSigner
from handoff.attachments.storage import ATTACHMENT_ID, CONVERSATION_ID, AttachmentStorage
from handoff.http_edge import HttpAuth, HttpError
from handoff.quotas import Quotas, RateLimited, request_ip
from handoff.tokens import InvalidToken

MULTIPART_ROOM = 64 * 1024  # the request body may exceed the file limit by the multipart framing
REFUSED_STATUS = {"too_large": 413, "unsupported_type": 415, "bad_file": 422}


def install_attachments(
    app: Sanic,
    auth: HttpAuth,
    desk: AttachmentDesk,
    storage: AttachmentStorage,
    links: LinkSigner,
    quotas: Quotas,
    forwarded_for: bool = False,
) -> None:
    """The routes, Sanic's request size limit, and a JSON answer when a body is over it."""
    max_bytes = desk.limits.max_bytes
    app.config.REQUEST_MAX_SIZE = max_bytes + MULTIPART_ROOM

    @app.exception(PayloadTooLarge)
    async def too_large(request: Request, error: Exception) -> Any:
        message = f"the file is over {max_bytes // 1024} KiB"
        return response.json({"error": "too_large", "message": message}, status=413)

    async def limit(request: Request, *pairs: Tuple[str, Optional[str]]) -> None:
        try:
            for name, key in pairs:
                await quotas.hit(name, key)
        except RateLimited as exc:
            message = f"too many files; try again in {exc.retry_after} s"
            raise HttpError(429, "rate_limited", message, exc.retry_after) from None

    def ip_of(request: Request) -> str:
        return request_ip(request.ip, request.headers.get("x-forwarded-for"), forwarded_for)

    async def who(request: Request) -> Tuple[Optional[str], Any]:
        """(visitor id, None) for a visitor token, (None, agent) for an agent token; else 401."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        try:
            return auth.signer.verify(token, "visitor")["sub"], None
        except InvalidToken as exc:
            if exc.reason != "wrong_kind":
                raise HttpError(401, "unauthorized", "send your visitor or agent token") from None
        return None, await auth.agent_of(request)

    def ids(cid: str, aid: str) -> None:
        if not CONVERSATION_ID.match(cid) or not ATTACHMENT_ID.match(aid):
            raise HttpError(404, "not_found", "no such file")

    @app.post("/api/attachments")
    async def upload(request: Request) -> Any:
        vid, agent = await who(request)
        file = request.files.get("file") if request.files else None
        if file is None:
            raise HttpError(400, "bad_request", "send the file as multipart/form-data field `file`")
        client_id = request.form.get("client_id") or ""
        if client_id and not p.CLIENT_ID.match(client_id):
            raise HttpError(400, "bad_request", "`client_id` must be 1-64 characters of A-Z a-z 0-9 _ . : -")
        upload = Upload(bytes(file.body), str(file.name or "")[:500], client_id)
        try:
            if agent is None:
                await limit(request, ("upload_ip", ip_of(request)), ("upload_visitor", vid))
                return response.json(await desk.from_visitor(vid, upload))
            cid = request.form.get("conversation_id") or ""
            if not CONVERSATION_ID.match(cid):
                raise HttpError(400, "bad_request", "`conversation_id` must be a conversation id")
            await limit(request, ("upload_agent", agent.username))
            return response.json(await desk.from_agent(agent, cid, upload))
        except Refused as exc:
            raise HttpError(REFUSED_STATUS[exc.code], exc.code, exc.message) from None
        except (RedisError, OSError):
            raise HttpError(503, "unavailable", "storage is unavailable; nothing was sent") from None

    @app.get("/api/attachments/<cid:str>/<aid:str>/link")
    async def link(request: Request, cid: str, aid: str) -> Any:
        ids(cid, aid)
        vid, agent = await who(request)
        await limit(request, ("download_ip", ip_of(request)))
        try:
            return response.json(await desk.link(cid, aid, vid if agent is None else None))
        except (RedisError, OSError):
            raise HttpError(503, "unavailable", "storage is unavailable") from None

    @app.get("/api/attachments/<cid:str>/<aid:str>")
    async def download(request: Request, cid: str, aid: str) -> Any:
        ids(cid, aid)
        await limit(request, ("download_ip", ip_of(request)))
        try:
            links.verify(cid, aid, request.args.get("exp") or "", request.args.get("sig") or "")
        except BadLink as exc:
            if exc.reason == "expired":
                raise HttpError(410, "link_expired", "this link has expired; open the file again") from None
            raise HttpError(403, "bad_link", "this link is not valid") from None
        try:
            found = await asyncio.to_thread(storage.get, cid, aid)
        except OSError:
            raise HttpError(503, "unavailable", "storage is unavailable") from None
        if found is None:
            raise HttpError(404, "not_found", "no such file (it may have been deleted)")
        attachment, data = found
        disposition = "inline" if attachment.type.startswith("image/") else "attachment"
        ascii_name = attachment.name.encode("ascii", "replace").decode().replace('"', "_")
        headers = {
            "Content-Disposition": f'{disposition}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(attachment.name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=300",
            "Referrer-Policy": "no-referrer",
        }
        return response.raw(data, content_type=attachment.type, headers=headers)
