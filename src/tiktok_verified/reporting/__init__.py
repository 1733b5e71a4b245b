"""What people read: the executive summary and PACE answers (content), their Markdown and HTML
rendering, and the SVG figures."""
