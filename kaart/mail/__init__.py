"""E-mail that keeps residents in the loop: confirmation with the private link, updates on what
they follow, digests, the satisfaction question, staff digests — all through one outbox.

    settings.py   KAART_SMTP_URL, KAART_MAIL_FROM, KAART_PUBLIC_URL, checked
    addresses.py  an address: parsed, stored once, confirmed by a click (double opt-in)
    links.py      signed links in messages (confirm, unsubscribe, manage, satisfaction)
    outbox.py     a message rendered from templates/mail/ and written to the outbox in the
                  transaction of the change that causes it
    notify.py     who hears about a change: the author, followers (now or in a digest)
    follow.py     following a contribution, process, buurt or area; "Stuur mijn links"
    scheduled.py  what the worker writes by the clock: digests, process notices, the
                  satisfaction question, the staff digest
    smtp.py       one SMTP connection (STARTTLS / TLS) that sends a message
    worker.py     `kaart mail work`: scheduled work, then delivery with retries and dead letters
"""
