"""Doctor search: queries, suggestions, nearby, and the event-driven indexer behind them."""
