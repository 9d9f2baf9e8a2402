"""The HTTP edge: one error type, one Sanic handler that turns it into JSON, one authentication
decorator for agents' and admins' routes.

    raise HttpError(400, "bad_request", "send {username, password}")   ->  400 {"error", "message"}

`requires_agent(role=None)` reads `Authorization: Bearer <agent token>` (POST /api/login): 401 for
a missing, forged, expired or visitor token or a deleted agent, 403 for the wrong role, 503 when
Redis cannot be read. The handler gets the agent as `request.ctx.agent`.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

from redis.exceptions import RedisError
from sanic import Sanic, response
from sanic.request import Request

from handoff.agents import UserStore
from handoff.tokens import InvalidToken, TokenSigner


class HttpError(Exception):
    """An HTTP error answer: `{"error": code, "message": message}` with `status`."""

    def __init__(self, status: int, code: str, message: str, retry_after: Optional[int] = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def install_error_handler(app: Sanic) -> None:
    @app.exception(HttpError)
    async def as_json(request: Request, error: HttpError) -> Any:
        body: dict = {"error": error.code, "message": error.message}
        if error.retry_after is None:
            return response.json(body, status=error.status)
        body["retry_after"] = error.retry_after
        return response.json(body, status=error.status, headers={"Retry-After": str(error.retry_after)})


class HttpAuth:
    def __init__(self, signer: TokenSigner, users: UserStore) -> None:
        self.signer, self.users = signer, users

    async def agent_of(self, request: Request) -> Any:
        header = request.headers.get("authorization", "")
        try:
            claims = self.signer.verify(header.removeprefix("Bearer ").strip(), "agent")
            agent = await self.users.get(claims["sub"])
            if agent is not None and claims.get("ver", 0) != agent.token_version:
                agent = None  # revoked: password changed or logged out since
        except InvalidToken:
            agent = None
        except RedisError:
            raise HttpError(503, "unavailable", "storage is unavailable") from None
        if agent is None:
            raise HttpError(401, "unauthorized", "log in again")
        return agent

    def requires_agent(
        self, role: Optional[str] = None, denied: str = "your role does not allow this"
    ) -> Callable:
        def decorate(handler: Callable) -> Callable:
            @functools.wraps(handler)
            async def wrapped(request: Request, *args: Any, **kwargs: Any) -> Any:
                agent = await self.agent_of(request)
                if role is not None and agent.role != role:
                    raise HttpError(403, "forbidden", denied)
                request.ctx.agent = agent
                return await handler(request, *args, **kwargs)

            return wrapped

        return decorate
