"""The floor the site is measured against: Django answering a short text, nothing else."""
