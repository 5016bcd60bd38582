"""Tests of tui.adapters."""
