"""Coordinated vulnerability disclosure: disclosure policy, cases, embargoes, SSVC (pure)."""
