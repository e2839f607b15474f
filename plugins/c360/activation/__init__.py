"""Activation: scored audiences synced to marketing tools."""
