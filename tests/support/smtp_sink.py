"""A real SMTP server for modelwatch's tests, on aiosmtpd.

Run by the test harness as
    /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink DIR
with this folder on PYTHONPATH. Every accepted message is written verbatim
to DIR/<n>.eml, and Python's own MIME parser's reading of it to DIR/<n>.json
(subject decoded, parts with their content types and decoded bodies), so
tests check the message with an implementation independent of ours. Files
are written to a temporary name and renamed: a reader never sees half a file.

Recipients whose local part starts with one of these words get what a real
relay sometimes does:
- "reject": refused with a permanent 550, the way a server refuses an unknown user;
- "greylist": refused once with a 450 (greylisting), accepted afterwards;
- "flaky": the first time, the connection is dropped at its RCPT (the relay
  went away mid-way), accepted afterwards;
- "hang": the first time, its RCPT is never answered (a sender killed while
  waiting), accepted afterwards.
"Once" is per server process: a restarted server trips again.
"""

import asyncio

import email
import email.policy
import itertools
import json
import os
import threading


class Sink:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._tripped = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"
        if local.startswith(("greylist", "flaky", "hang")) and address not in self._tripped:
            self._tripped.add(address)
            if local.startswith("greylist"):
                return f"450 4.7.1 <{address}>: Recipient address rejected: Greylisted, try again later"
            if local.startswith("flaky"):
                server.transport.abort()
                return "421 4.4.2 connection dropped"
            await asyncio.sleep(3600)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            n = next(self._counter)
            while os.path.exists(os.path.join(self.directory, f"{n}.eml")):
                n = next(self._counter)
            raw = envelope.original_content or envelope.content
            info = summary(raw, envelope)
            # The client's port: envelopes sent over one connection share it.
            info["peer_port"] = session.peer[1] if isinstance(session.peer, tuple) else None
            self._write(f"{n}.json", json.dumps(info, ensure_ascii=False).encode("utf-8"))
            self._write(f"{n}.eml", raw)
        return f"250 OK queued as {n}"

    def _write(self, name, data):
        tmp = os.path.join(self.directory, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.directory, name))


def summary(raw, envelope):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "body": part.get_content(),
        })
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": envelope.rcpt_tos,
        "subject": str(msg["subject"]),
        "from": str(msg["from"]),
        "to": str(msg["to"]),
        "message_id": str(msg["message-id"]),
        "content_type": msg.get_content_type(),
        "parts": parts,
    }


def from_cli(parser, *args):
    # aiosmtpd's -c passes the remaining command-line words here.
    if len(args) != 1:
        parser.error("smtp_sink.Sink takes exactly one argument: the mail folder")
    return Sink(args[0])


Sink.from_cli = classmethod(lambda cls, parser, *args: from_cli(parser, *args))
