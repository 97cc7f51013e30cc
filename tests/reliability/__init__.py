"""The reliability suite's rows: hostile inputs and faults, one module per kind of trouble.

Each module defines ``ROWS``, a list of :class:`~tests.reliability.table.Row`;
``tests/test_reliability.py`` runs every row of every module from that one table.
"""
