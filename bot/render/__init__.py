"""Rendering: Block Kit structure from slack_sdk models, wording from Jinja2 templates."""
