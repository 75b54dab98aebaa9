"""Thin blueprints by audience: parse the request, call one service, render or serialise."""
