"""The user's saved albums and followed artists: the controller that keeps them in step with the server, and the
Save and Follow buttons of the album and artist pages.

The controller is widget-less; the buttons only read its sets and call its commands.
"""

from client.library.controller import SavedLibrary
from client.library.toggles import FollowButton, SaveButton

__all__ = ["FollowButton", "SaveButton", "SavedLibrary"]
