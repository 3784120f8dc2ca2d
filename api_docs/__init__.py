"""The API description: /openapi.json from the routes, validate.py's schemas and this prose."""
