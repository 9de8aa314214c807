"""Imported by nothing: the endpoint tests check that a request naming it does not import it."""

IMPORTED = True


def run():
    raise AssertionError("a request ran a function it named")
