"""Logbook drivers: signing in with Google (web flow and ID tokens), our tokens, and the implicit local driver."""
