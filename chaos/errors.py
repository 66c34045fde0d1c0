"""Errors of the harness itself. Failures of the system under test are data, not exceptions."""


class ChaosError(Exception):
    """Base class of every error the harness raises on purpose (exit code 3, or 2 for config)."""


class ScenarioError(ChaosError):
    """Raised when a scenario file is malformed; the message quotes the bad value and its place."""


class PlatformError(ChaosError):
    """Raised when a platform cannot start, hurt or heal a service, or a fault had no effect."""


class LoadError(ChaosError):
    """Raised when the load generator (Locust) cannot start or dies unexpectedly."""


class CheckError(ChaosError):
    """Raised when the checker cannot read the system's final state (the verdict is unknown)."""
