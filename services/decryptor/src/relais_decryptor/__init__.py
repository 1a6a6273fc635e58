"""Decryptor: OpenPGP-decrypts fetched files and checks their integrity."""
