"""Systems layer: fabrics, nodes and clusters."""
