"""Helpers shared by the engine and its layers."""
