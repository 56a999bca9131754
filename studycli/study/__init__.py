"""The study layer: the review store (and its opening: busy waits, backups before migrations,
honest errors), FSRS scheduling, the queue, rating and undo (and the replay they share), the
doctor, cramming, statistics, settings, the optimiser, and review-log CSV files with their
import (a merge) and export.

It never prints and never reads the clock: every function takes `now`.
"""
