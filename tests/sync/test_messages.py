"""The sync messages survive a JSON round trip, and malformed ones are refused with MalformedMessage."""

from __future__ import annotations

import json

import pytest

from sync import (
    LoggedUpdate,
    MalformedMessage,
    OutgoingUpdate,
    PullResult,
    PushRequest,
    PushResult,
)


def test_messages_round_trip_through_json_with_bytes_in_base64() -> None:
    push = PushRequest((OutgoingUpdate("u1", b"\x00\xffdata"),))
    pull = PullResult(b"snap", 3, (LoggedUpdate(4, "u1", b"\x01"),), 4)
    result = PushResult((4,), 4)
    for message in (push, pull, result):
        assert type(message).from_json(json.loads(json.dumps(message.to_json()))) == message
    assert pull.blobs() == [b"snap", b"\x01"]


@pytest.mark.parametrize("body", [None, [], {}, {"updates": []}, {"updates": [{"update_id": "u"}]},
                                  {"updates": [{"update_id": "", "data": ""}]},
                                  {"updates": [{"update_id": "u", "data": "not base64!"}]},
                                  {"updates": [{"update_id": 5, "data": ""}]}])
def test_malformed_pushes_are_refused(body: object) -> None:
    with pytest.raises(MalformedMessage):
        PushRequest.from_json(body)
