"""The content layer: the card format, loading cards, `lint`, reading solution modules, topics.

It knows nothing of reviews, schedules or terminals. Other layers import from here.
"""
