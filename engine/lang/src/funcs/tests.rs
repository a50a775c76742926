// Placeholder replaced by data-driven function cases in tests/data/functions.
