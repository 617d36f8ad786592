"""Scenario and mapping templates shipped with tokenbom_xl (installed as tokenbom_xl.templates)."""
