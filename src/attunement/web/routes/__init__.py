"""Routers: auth (sign-in), pages (clinician), admin, api (JSON)."""
