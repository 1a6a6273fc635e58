"""Everything that leaves the concentrator: the exports — daily to Santé publique France (spf_export), monthly to
ATIH (atih_export), daily to the ARS (ars_export) — delivered over SFTP or HTTPS through one delivery ledger, and
the same-day absence alerts to the ARS (mail, webhook, Kafka event) with an alert ledger.

Pure logic (manifest, retry, absence rule) has no asyncssh / httpx / asyncpg imports; those live in `adapters/`.
What the regional passages table provides arrives through the Protocols of `ports.py`.
"""
