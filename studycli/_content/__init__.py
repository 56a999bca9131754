"""In an installed wheel this package holds the shipped content: cards/ and solutions/."""
