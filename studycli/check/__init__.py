"""The check layer: running code in isolated, contained processes (their own session, killed
whole; see contain.py), `check` (prove each checker) and
`solve` (run a learner's attempt against a card's checker), and the cards a git branch changed
(`check --changed`)."""
