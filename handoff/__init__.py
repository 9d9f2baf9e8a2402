"""The handoff service: visitor and agent sockets, queue, agents, translation.

Built in steps (issue 3). Present so far: the conversation state machine
(`handoff/state.py`) and the socket protocol (`handoff/protocol.py`, written
out in docs/protocol.md).
"""
