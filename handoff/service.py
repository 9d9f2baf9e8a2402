"""The handoff service's pieces, wired together (no I/O until they are used).

    Store, Presence, UserStore      Redis (handoff/store.py, presence.py, agents.py)
    Announcer                       Socket.IO rooms (announcer.py)
    Transcript                      store a message, then announce it (transcript.py)
    WaitingLine                     escalation, queue views, statuses, routing (waiting.py)
    BotTurn                         a visitor message to Rasa and back (bot_turn.py)
    Packets                         what agents see, live translation (packets.py)
    VisitorDesk, AgentDesk          what visitors and agents can do (visitor_desk.py, agent_desk.py)
    Sweeper                         presence, grace period, idle conversations (sweeper.py)

handoff/sockets.py dispatches socket events to the desks through the table in handoff/routes.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional

from redis.asyncio import Redis

from handoff.agent_desk import AgentDesk
from handoff.agents import UserStore
from handoff.announcer import Announcer
from handoff.bot_turn import BotTurn
from handoff.canned import CannedReply
from handoff.hours import OpeningHours
from handoff.mailer import Mailer
from handoff.packets import Packets
from handoff.presence import Presence
from handoff.rasa_client import RasaClient
from handoff.store import Store
from handoff.sweeper import Sweeper
from handoff.texts import Texts
from handoff.transcript import Transcript
from handoff.translation import LiveTranslator
from handoff.visitor_desk import VisitorDesk
from handoff.waiting import Timing, WaitingLine


@dataclass
class Service:
    store: Store
    presence: Presence
    users: UserStore
    announcer: Announcer
    transcript: Transcript
    waiting: WaitingLine
    bot: BotTurn
    packets: Packets
    visitors: VisitorDesk
    agents: AgentDesk
    sweeper: Sweeper


def build_service(
    redis: Redis,
    sio: Any,
    rasa: RasaClient,
    translator: LiveTranslator,
    texts: Texts,
    canned: List[CannedReply],
    hours: OpeningHours,
    timing: Timing,
    mailer: Optional[Mailer] = None,
    max_messages: int = 0,
    anonymous_ttl: int = 7 * 86400,
) -> Service:
    mailer = mailer or Mailer(None)
    store, presence, users = Store(redis, max_messages, anonymous_ttl), Presence(redis), UserStore(redis)
    announcer = Announcer(sio)
    transcript = Transcript(store, announcer, texts)
    waiting = WaitingLine(store, presence, users, hours, announcer, transcript, timing)
    bot = BotTurn(store, rasa, announcer, transcript, waiting)
    packets = Packets(store, users, translator)
    return Service(
        store=store,
        presence=presence,
        users=users,
        announcer=announcer,
        transcript=transcript,
        waiting=waiting,
        bot=bot,
        packets=packets,
        visitors=VisitorDesk(store, announcer, transcript, waiting, bot, packets, mailer),
        agents=AgentDesk(store, users, announcer, transcript, waiting, packets, canned, mailer),
        sweeper=Sweeper(store, presence, users, transcript, waiting, timing, bot),
    )
