"""Study commands: review, solve, due, history, suspend, unsuspend."""
