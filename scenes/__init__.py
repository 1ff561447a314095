"""Synthetic canteen scenes: labelled images and scripted videos, deterministic by seed."""
