"""Slack listeners, grouped by feature. Each module has ``register(app, deps)``, called by
``bot.app.create_app``; they stay thin: ack, parse the payload, call a service, render, reply."""
