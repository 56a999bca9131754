"""The check layer: running code in isolated processes, `check` (prove each checker) and
`solve` (run a learner's attempt against a card's checker), and the cards a git branch changed
(`check --changed`)."""
