"""Textual screens: compose widgets, route messages to app state, set attributes down."""
