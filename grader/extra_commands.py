"""Commands added beside ``check``: registered here so cli.py stays small."""


def register(sub) -> None:
    return None
