"""handoff/http_edge.py on the real service: one error type as JSON, one authentication decorator."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_login_me_and_admin_routes_share_one_edge(live_clean):
    live = live_clean
    await live.service.users.create("ravi", "password-123", "agent", "en")
    await live.service.users.create("boss", "password-123", "admin", "en")
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
        bad = await http.post("/api/login", json={"username": 7})
        assert (bad.status_code, bad.json()["error"]) == (400, "bad_request") and bad.json()["message"]
        wrong = await http.post("/api/login", json={"username": "ravi", "password": "nope-nope"})
        assert (wrong.status_code, wrong.json()["error"]) == (401, "bad_credentials")
        token = (await http.post("/api/login", json={"username": "ravi", "password": "password-123"})).json()[
            "token"
        ]
        me = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["agent"]["username"] == "ravi"
        visitor_token = live.signer.issue("v_1", "visitor", 60)
        for header in ("", "Bearer forged.token", f"Bearer {visitor_token}", f"Bearer {token}x"):
            refused = await http.get("/api/me", headers={"Authorization": header})
            assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized"), header
        forbidden = await http.get("/api/analytics/log", headers={"Authorization": f"Bearer {token}"})
        assert (forbidden.status_code, forbidden.json()["error"]) == (403, "forbidden")
        admin = live.signer.issue("boss", "agent", 60, role="admin")
        missing = await http.get("/api/privacy/export", headers={"Authorization": f"Bearer {admin}"})
        assert (missing.status_code, missing.json()["error"]) == (400, "bad_request")
        await live.service.users.delete("ravi")
        gone = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert gone.status_code == 401  # a deleted agent is refused at once
