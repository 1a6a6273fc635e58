"""Everything that leaves the concentrator: delivery of exports to Santé publique France (SFTP or HTTPS) with a
delivery ledger, and the same-day absence alerts to the ARS (mail, webhook) with an alert ledger.

Pure logic (manifest, retry, absence rule) has no asyncssh / httpx / asyncpg imports; those live in `adapters/`.
What the regional passages table provides arrives through the Protocols of `ports.py`.
"""
