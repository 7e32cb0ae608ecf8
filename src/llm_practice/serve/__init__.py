"""`llmp serve`: an OpenAI-compatible API and a web UI over the local chat engines."""
