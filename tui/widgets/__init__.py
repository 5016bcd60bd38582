"""Textual widgets: each renders one thing and posts messages up; none reaches into a sibling."""
