"""Recommendations in the app: Discover Weekly on Home and track radio, both made by the server."""

from client.recommendations.radio import TrackRadio
from client.recommendations.weekly import DiscoverWeekly, Pick, discover_weekly
from client.recommendations.weekly_card import DiscoverWeeklyCard

__all__ = ["DiscoverWeekly", "DiscoverWeeklyCard", "Pick", "TrackRadio", "discover_weekly"]
