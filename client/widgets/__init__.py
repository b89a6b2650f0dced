"""The widget kit every page shares: named controls, item models over catalog records, the track table, covers.

Below the pages and the feature packages (downloads/, playlists/): it imports none of them.
"""
