"""CSV import and export. Every file is checked whole first: any problem, nothing written."""
