"""The API's request and response bodies, declared once as pydantic models."""
