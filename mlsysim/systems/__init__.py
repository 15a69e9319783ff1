"""Systems layer: fabrics, nodes and clusters as sourced data (:mod:`.registry`,
``data/*.toml``; kinds ``fabric``, ``node``, ``cluster``)."""
