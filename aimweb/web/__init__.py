"""Helpers shared by the blueprints: access decorators, htmx page-or-partial, downloads."""
