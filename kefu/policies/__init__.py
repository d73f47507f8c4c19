"""Kefu's dialogue policies (Rasa 3 GraphComponents), named in config.yml beside Rasa's own."""
