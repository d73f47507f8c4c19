"""Where customers reach Kefu: Rasa input channels behind one edge (kefu/channels/edge.py).

``credentials.yml`` names them by class (``kefu.channels.rest.KefuRestInput``,
``kefu.channels.socketio.KefuSocketIOInput``); each keeps Rasa's URL and reply shape.
"""
