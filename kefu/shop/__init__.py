"""The shop's business layer: what each change to an order is, by the rules of kefu.yml.

``kefu.shop.changes`` holds one object per change kind (cancel, return, exchange, item change,
order address, order payment, default address): its form and slots, the statuses that allow it,
its plan from the customer's choices, the facts of its proposal and the store write it calls.
The actions drive a change through its kind; the store checks the same rules (``ShopRules``).
"""
