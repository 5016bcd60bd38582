"""Tests of tui.app."""
