"""The handoff service: visitor and agent sockets, the queue, agents, translation, the SQL log.

`python -m handoff` runs it (handoff/app.py). docs/handoff.md maps its modules, one per concern,
and follows a visitor message and an agent's claim through them; docs/protocol.md is the socket
protocol that handoff/protocol.py and handoff/routes.py implement.
"""
