"""Boards and exports: the rollups behind them and the queries they show."""
