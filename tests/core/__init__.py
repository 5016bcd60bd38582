"""Tests of tui.core."""
