"""Infra layer: electricity grids, datacenter efficiency tiers and cloud prices as sourced data
(:mod:`.registry`, ``data/*.toml``; kinds ``grid``, ``datacenter``, ``cloud_rate``)."""
