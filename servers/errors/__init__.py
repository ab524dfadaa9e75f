"""askpanda-errors: PanDA error codes: explanations, categories and retry advice, offline."""
