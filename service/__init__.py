"""provkit service: the FastAPI verification API, the ``provkit`` CLI and the generation pipeline."""
