"""Kefu: the library behind the Kefu customer-service assistant.

Sub-packages are the pieces that actions call, each behind a small interface whose
backend is chosen by configuration (``kefu.yml`` or environment):

- ``kefu.store``: the shop's database (customers, products, orders, audit log).
"""

__version__ = "0.1.0"
