"""The agent console: where human agents take over conversations and review refunds.

It is a Rasa input channel (``kefu.console.channel.AgentConsoleInput`` in credentials.yml),
served by the Rasa server at ``/webhooks/console/``: in that process it reaches the
conversations (tracker and lock stores) and every channel's own output, so an agent's reply goes
to the customer the way Kefu's own answers do. Its data are the store's tickets and reviews
(kefu/store/desk.py); agents log in with accounts made by ``python -m kefu.console add-agent``.
"""
