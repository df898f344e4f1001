"""User-facing errors: one clear line, no traceback."""


class UserError(Exception):
    """A problem the user can fix (bad file, bad column, bad setting)."""


class DataError(UserError):
    """Input data cannot be read or does not fit the schema."""


class RegistryError(UserError):
    """The registry is unreachable or lacks what was asked for."""


class BundleError(UserError):
    """A model bundle is missing files or is corrupted."""


class ModelIntegrityError(BundleError):
    """A model's files do not match the checksums written when it was logged or exported:
    tampered with, truncated or damaged in storage. Never loaded."""
