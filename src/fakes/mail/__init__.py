"""A mail catcher: mail handed to it is kept in memory and listed per recipient, newest first, with its links.

Mount `MailFake().app` under `/_sandbox/mail` (POST `/messages` keeps one, GET `/?to=ADDRESS` lists them).
"""

from fakes.mail.fake import MailFake, extract_links

__all__ = ["MailFake", "extract_links"]
