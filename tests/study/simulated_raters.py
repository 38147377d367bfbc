"""Simulated raters over HTTP: each asks for its next task and votes until the server says 204.

A request that fails at the transport level (server killed, restarting) is retried unchanged, as
the rater page does; only votes the server answered 200 count as acknowledged.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import httpx

RETRY_PAUSE_S = 0.05


@dataclass
class Tally:
    """Votes the server acknowledged (task_id -> choice), and how requests went."""

    acknowledged: dict[str, str] = field(default_factory=dict)
    transport_errors: int = 0
    unexpected: list[tuple[int, str]] = field(default_factory=list)


async def _request(
    client: httpx.AsyncClient, tally: Tally, method: str, url: str, **kw
) -> httpx.Response:
    while True:
        try:
            return await client.request(method, url, **kw)
        except httpx.TransportError:
            tally.transport_errors += 1
            await asyncio.sleep(RETRY_PAUSE_S)


async def rater(
    client: httpx.AsyncClient, token: str, tally: Tally, *, seed: int, resend: bool = False
) -> None:
    """Answer every task of one rater; with `resend`, send each vote twice at once."""
    rng = random.Random(seed)
    while True:
        response = await _request(client, tally, "GET", "/api/next", params={"token": token})
        if response.status_code == 204:
            return
        if response.status_code != 200:
            tally.unexpected.append((response.status_code, response.text))
            return
        task_id = response.json()["task_id"]
        body = {"token": token, "task_id": task_id, "choice": rng.choice(["left", "right"])}
        copies = 2 if resend else 1
        answers = await asyncio.gather(
            *(_request(client, tally, "POST", "/api/vote", json=body) for _ in range(copies))
        )
        for answer in answers:
            if answer.status_code != 200:
                tally.unexpected.append((answer.status_code, answer.text))
                return
        tally.acknowledged[task_id] = body["choice"]


async def run_raters(
    base_url: str, tokens: list[str], tally: Tally, *, resend: bool = False
) -> None:
    """All raters at once over one connection pool."""
    limits = httpx.Limits(
        max_connections=len(tokens) * 2, max_keepalive_connections=len(tokens) * 2
    )
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        await asyncio.gather(
            *(rater(client, token, tally, seed=i, resend=resend) for i, token in enumerate(tokens))
        )
