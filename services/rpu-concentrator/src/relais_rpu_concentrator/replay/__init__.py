"""Replay ("reprise") requested by the ARS: retransmit a FINESS × period to Santé publique France (spec §4)."""
