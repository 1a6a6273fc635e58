"""Test oracles: readable Python models of rules that production applies another way (in SQL, vectorised), so the
tests can compare the two on the same input. Only tests use them."""
