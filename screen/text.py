"""Text as the screen reads it: one normal form for the phrase lists and the classifier alike.
The form itself is content's (content/text.py), which the city index is keyed by too."""
from content.text import normalize

__all__ = ["normalize"]
