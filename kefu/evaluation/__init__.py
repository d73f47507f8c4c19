"""What tests and benchmarks share to play Kefu as customers do and check the outcome.

- ``harness``: Kefu served for real (trained model, live action server, temporary store).
- ``customer_simulator``: a scripted customer who follows a task's instruction.
- ``reference_world``: the shop's database as the task's gold calls leave it, to compare with
  the store after the conversation.

Both ``tests/`` and ``benchmarks/`` import from here, so a benchmark never reaches into the
test suite.
"""
