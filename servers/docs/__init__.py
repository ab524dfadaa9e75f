"""askpanda-docs: Search over PanDA documentation."""
