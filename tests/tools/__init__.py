"""Tests of tools/: input events, actions, the safety policy and audit log, the desktop adapters."""
