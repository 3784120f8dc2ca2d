"""The building blocks of validate.py: the Field and Schema classes, the well-known passwords."""
