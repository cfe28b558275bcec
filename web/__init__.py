"""The clinicians' web dashboard: the desk's views in a browser, signed in by a one-time link."""
