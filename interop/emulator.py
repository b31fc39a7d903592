"""What every interop script gives Azure's Python clients to reach the
emulator: its bearer token as a credential (never printed), and the client
options (trust the emulator's CA; its challenge names
https://managedhsm.azure.net while it listens on 127.0.0.1, so the clients
are told not to insist that the two domains agree)."""
import time

from azure.core.credentials import AccessToken


class StaticToken:
    """The emulator's bearer token, read from its token file."""

    def __init__(self, token_file):
        self._token = open(token_file).read().strip()

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self._token, int(time.time()) + 3600)


def client_options(ca):
    return dict(connection_verify=ca, verify_challenge_resource=False)
