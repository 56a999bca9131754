"""Writing the content to other tools' formats: the Anki deck package."""
