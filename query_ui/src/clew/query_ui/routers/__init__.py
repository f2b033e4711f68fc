"""The HTTP routes: JSON API and HTML pages."""
