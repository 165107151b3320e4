"""What the public reads: the live list and its poll, CSV and XLSX, statistics and charts, the
widget, the verification page, the API, the legal pages and the contact form. No models."""
