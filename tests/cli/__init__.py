"""Tests of tui.cli."""
