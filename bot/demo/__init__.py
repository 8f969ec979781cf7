"""Run the product without Slack: the embedded workspace, `coach demo` and `coach shell`."""
