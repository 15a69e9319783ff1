"""Infra layer: electricity grids, datacenter efficiency tiers and cloud prices."""
