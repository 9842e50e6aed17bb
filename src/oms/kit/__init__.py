"""Domain-free building blocks: the clock, cursors, tokens, diffs, geography checks."""
