"""Kefu's human side: why and when a person is brought in, how urgent it is, when agents work.

- ``reasons``: every reason code, with the label agents read;
- ``triggers``: the rules the dialogue policy applies (thresholds in kefu.yml ``escalation``);
- ``conversation``: the conversation as those rules read it, from Rasa's events;
- ``hours``: working hours and what a waiting customer is told;
- ``priority``: a ticket's priority for the agents' inbox.
"""

from kefu.escalation.reasons import Reason
from kefu.escalation.settings import EscalationSettings, escalation_settings

__all__ = ["EscalationSettings", "Reason", "escalation_settings"]
