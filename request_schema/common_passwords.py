"""Well-known passwords: the words at their heart, and spotting one dressed up."""

from __future__ import annotations

import re

# Words at the heart of the most-used passwords; a password that is one of them dressed up
# with capitals, digit-for-letter swaps and a few digits or symbols around it is refused.
COMMON_PASSWORD_WORDS = frozenset(
    """password passwort motdepasse contrasena qwerty qwertyuiop azerty asdfgh asdfghjkl
    zxcvbn zxcvbnm letmein welcome admin administrator login iloveyou trustno1 monkey dragon
    master sunshine princess football baseball soccer hockey superman batman starwars shadow
    michael jennifer jordan hunter ranger buster charlie freedom whatever computer internet
    secret summer winter spring autumn abc abcd abcdef abcdefg abcdefgh changeme default
    hello helloworld test tester testing guest user root toor pass passw passwd access
    flower lovely loveme mustang harley killer pepper cheese cookie chocolate banana orange
    america london berlin paris google facebook microsoft apple samsung nintendo pokemon
    qazwsx wsxedc qwe asd zxc aaa qwer""".split()
)
LEET_SWAPS = str.maketrans("@4310$5!7", "aaeiossit")


def is_common_password(password: str) -> bool:
    """Tell whether a password is a well-known one dressed up with swaps, digits and symbols."""
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", password.lower())
    return core.translate(LEET_SWAPS) in COMMON_PASSWORD_WORDS
