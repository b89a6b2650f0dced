"""Sources and the file object PyAV reads them through."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from player import BytesSource, FileSource, SourceError, SourceReader


class GrowingSource:
    """A source whose size is not known (bytes still arriving), like a network download."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def size(self) -> int | None:
        return None

    def read_at(self, offset: int, size: int) -> bytes:
        return self.data[offset:offset + size]


@given(data=st.binary(max_size=2000), offset=st.integers(0, 2500), size=st.integers(0, 2500))
def test_bytes_source_reads_like_slicing(data: bytes, offset: int, size: int) -> None:
    assert BytesSource(data).read_at(offset, size) == data[offset:offset + size]


def test_file_source_reads_at_any_offset(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 4)
    source = FileSource(path)
    assert source.size() == 1024
    assert source.read_at(250, 10) == bytes(range(250, 256)) + bytes(range(4))
    assert source.read_at(1020, 100) == bytes(range(252, 256))


def test_a_missing_file_is_a_source_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"gone\.flac"):
        FileSource(tmp_path / "gone.flac")


@given(data=st.binary(min_size=1, max_size=500), moves=st.lists(
    st.tuples(st.integers(-600, 600), st.sampled_from([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END]),
              st.integers(0, 600)), max_size=10))
def test_reader_behaves_like_a_file(data: bytes, moves: list[tuple[int, int, int]]) -> None:
    reader = SourceReader(GrowingSource(data))
    position = 0
    for offset, whence, size in moves:
        target = offset + {io.SEEK_SET: 0, io.SEEK_CUR: position, io.SEEK_END: len(data)}[whence]
        if target < 0:
            with pytest.raises(SourceError):  # as a real file raises OSError(EINVAL)
                reader.seek(offset, whence)
            continue
        assert reader.seek(offset, whence) == target
        assert reader.read(size) == data[target:target + size]
        position = min(len(data), target + size) if target < len(data) else target
        assert reader.tell() == position
