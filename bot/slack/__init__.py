"""The Slack adapter: Web API clients, the directory of profiles, payloads, replies, a request's unit of work."""
