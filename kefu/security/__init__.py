"""Kefu's trust boundary: settings, shared secrets, signed customer tokens, identification
lockouts, the secret-checked action server and what the logs may keep."""
