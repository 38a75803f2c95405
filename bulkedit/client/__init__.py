"""Talking to the API: the aiohttp transport and OAuth tokens (transport), the
rate-limited retrying dispatcher, batched reads of live values (fetch) and the one
factory that wires them (connect). Imports the core only.
"""
