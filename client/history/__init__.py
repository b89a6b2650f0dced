"""Listening history and likes: kept on this device at once, sent to the server in the background, shown in the
History, Your listening and Liked Songs pages."""

from client.history.controller import History, HistoryController
from client.history.history_page import HistoryPage
from client.history.liked_page import LIKED_CONTEXT, LikedSongsPage
from client.history.listening_page import ListeningPage

__all__ = ["LIKED_CONTEXT", "History", "HistoryController", "HistoryPage", "LikedSongsPage", "ListeningPage"]
