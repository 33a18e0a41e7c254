"""An aiosmtpd handler for the tests: run as `python3 -m aiosmtpd -n -c smtp_sink.Sink FOLDER [LOGIN:PASSWORD]`.

With LOGIN:PASSWORD the server offers AUTH PLAIN (after STARTTLS, as aiosmtpd requires) and refuses mail from a
client that did not log in.

Every accepted message is written to FOLDER as `<n>.eml`, with an `X-Sink-TLS: yes|no` line first, saying whether the
client had switched to TLS (STARTTLS). Recipients whose address starts with `refuse` are refused with 550, as a real
server refuses an unknown mailbox.
"""
import base64
import itertools
import os


class Sink:
    def __init__(self, folder, credentials=None):
        self.folder = folder
        self.credentials = credentials
        self.counter = itertools.count(1)
        os.makedirs(folder, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) not in (1, 2):
            parser.error("Sink needs the folder to write messages to, and optionally LOGIN:PASSWORD")
        return cls(args[0], args[1] if len(args) == 2 else None)

    async def handle_AUTH(self, server, session, envelope, args):
        if self.credentials is None:
            return "504 5.5.4 Unrecognized authentication type"
        if args[0].upper() != "PLAIN" or len(args) != 2:
            return "504 5.5.4 Only AUTH PLAIN with an initial response"
        try:
            _, login, password = base64.b64decode(args[1], validate=True).split(b"\x00")
        except Exception:
            return "501 5.5.2 Can't decode the credentials"
        if f"{login.decode()}:{password.decode()}" != self.credentials:
            return "535 5.7.8 Authentication credentials invalid"
        session.authenticated = True
        return "235 2.7.0 Authentication successful"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refuse"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = "yes" if session.ssl is not None else "no"
        path = os.path.join(self.folder, "%05d.eml" % next(self.counter))
        with open(path + ".part", "wb") as f:
            f.write(b"X-Sink-TLS: " + tls.encode() + b"\r\n")
            f.write(b"X-Sink-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".part", path)
        return "250 Message accepted for delivery"
