"""Kefu's custom actions, grouped by skill: identification, orders, products, handoff.

Actions call the store API (``kefu.store``); they never write SQL.
"""
