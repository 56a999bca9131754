"""The content layer: the card format (its fields, declared once, and the JSON Schema made from
them), loading cards, `lint`, reading solution modules, topics, and scaffolding new cards.

It knows nothing of reviews, schedules or terminals. Other layers import from here.
"""
