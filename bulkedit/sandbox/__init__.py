"""A local emulator of the Dailymotion partner REST API, for tests, demos and benchmarks."""

from bulkedit.sandbox.config import AccountTier, ApiKey, SandboxConfig
from bulkedit.sandbox.server import Sandbox, running_sandbox

__all__ = ["AccountTier", "ApiKey", "Sandbox", "SandboxConfig", "running_sandbox"]
