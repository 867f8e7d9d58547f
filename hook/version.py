"""The release (semver; CHANGELOG.md), in a module of its own so that anything may read it
without importing the application: pyproject.toml reads it, and `psc-hook --version`, the
Management API's User-Agent and the psc_hook_build_info metric report it."""

__version__ = "0.3.0"
