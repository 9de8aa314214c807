import pytest

pytest_plugins = ["emulators.testing"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--lean",
        action="store_true",
        help="this environment has the base package without the controller extra "
        "(make test-django6); tests/test_installs.py checks that it is so",
    )
