"""The study layer: the review store, FSRS scheduling, the queue, rating and undo, settings,
the optimiser and review-log CSV files.

It never prints and never reads the clock: every function takes `now`.
"""
