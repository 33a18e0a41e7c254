"""An aiosmtpd handler for the tests: run as `python3 -m aiosmtpd -n -c smtp_sink.Sink FOLDER`.

Every accepted message is written to FOLDER as `<n>.eml`, with an `X-Sink-TLS: yes|no` line first, saying whether the
client had switched to TLS (STARTTLS). Recipients whose address starts with `refuse` are refused with 550, as a real
server refuses an unknown mailbox.
"""
import itertools
import os


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(1)
        os.makedirs(folder, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("Sink needs the folder to write messages to")
        return cls(args[0])

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
