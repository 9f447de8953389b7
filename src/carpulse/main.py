"""The ASGI application uvicorn serves, built from the environment's settings."""

from carpulse.app import create_app

app = create_app()
