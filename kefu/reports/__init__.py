"""Operations reports built from the store API: ``python -m kefu.reports daily`` (kefu/reports/daily.py).

Reports read only the store's typed API, never SQL, so they work on every backend the store supports
and count exactly what the agents' console sees.
"""
