"""Key control points: checkpoint templates, recording them, and the rules that react."""
