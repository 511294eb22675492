"""An SMTP server that requires AUTH, for `modelwatch doctor`'s tests.

    /usr/bin/python3 smtp_auth.py HOST PORT USER PASSWORD

Offers AUTH PLAIN and LOGIN over plain text (a local test relay, no TLS),
accepts only USER/PASSWORD, refuses MAIL before AUTH, and never stores a
message. Runs until killed.
"""

import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    host, port, user, password = sys.argv[1:5]

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK (discarded)"

    controller = Controller(
        Handler(),
        hostname=host,
        port=int(port),
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
