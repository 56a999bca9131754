"""The study layer: the review store, FSRS scheduling, the queue, rating and undo (and the
replay they share), cramming, statistics, settings, the optimiser, and review-log CSV files
with their import (a merge) and export.

It never prints and never reads the clock: every function takes `now`.
"""
