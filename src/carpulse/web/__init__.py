"""The web app: server-rendered pages, and the static files they and the API docs load."""
