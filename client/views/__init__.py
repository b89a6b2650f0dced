"""The widgets: the main window, its pages, the track tables and item models, the now-playing bar, the queue panel,
covers and the Settings dialog. Thin: they show state and say what the user asked for; behaviour lives elsewhere.
"""
