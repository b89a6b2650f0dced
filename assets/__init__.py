"""Icons, styles and small data the app ships."""
