from __future__ import annotations

import pytest

from codec import BitstreamError, read_header
from codec.bitstream import FORMAT_VERSION, HEADER_BYTES

from .helpers import ROUND_TRIP_ARCHITECTURES, codec_with_spread_latents, photo


@pytest.fixture(scope="module")
def coded() -> tuple:
    model = codec_with_spread_latents(ROUND_TRIP_ARCHITECTURES[1], seed=7)
    return model, model.compress(photo(24, 40))


def test_header_is_small_and_readable(coded: tuple) -> None:
    model, data = coded
    header = read_header(data)
    assert (header.height, header.width, header.model_id) == (24, 40, model.model_id)
    assert HEADER_BYTES == 31
    assert header.rate == 0


def test_wrong_model(coded: tuple) -> None:
    model, data = coded
    other = codec_with_spread_latents(ROUND_TRIP_ARCHITECTURES[1], seed=9)
    with pytest.raises(BitstreamError) as info:
        other.decompress(data)
    message = str(info.value)
    assert f"made by model {model.model_id.hex()[:8]}" in message
    assert f"this is model {other.model_id.hex()[:8]}" in message


@pytest.mark.parametrize("keep", [0, 3, 20, HEADER_BYTES, HEADER_BYTES + 1, -1, -5])
def test_truncated(coded: tuple, keep: int) -> None:
    model, data = coded
    with pytest.raises(BitstreamError, match="truncated"):
        model.decompress(data[:keep])


def test_bad_magic(coded: tuple) -> None:
    model, data = coded
    with pytest.raises(BitstreamError, match="not a codecnas bitstream"):
        model.decompress(b"\x89PNG" + data[4:])
    with pytest.raises(BitstreamError, match="not a codecnas bitstream"):
        model.decompress(b"GIF")


def test_bad_version(coded: tuple) -> None:
    model, data = coded
    bad = data[:4] + bytes([FORMAT_VERSION + 1]) + data[5:]
    with pytest.raises(BitstreamError, match=f"version {FORMAT_VERSION + 1}"):
        model.decompress(bad)


def test_trailing_garbage(coded: tuple) -> None:
    model, data = coded
    with pytest.raises(BitstreamError, match="3 bytes of trailing garbage"):
        model.decompress(data + b"abc")


def test_impossible_size(coded: tuple) -> None:
    model, data = coded
    zero_height = data[:21] + bytes(4) + data[25:]
    with pytest.raises(BitstreamError, match="impossible image size 0x40"):
        model.decompress(zero_height)


@pytest.mark.parametrize("position", [HEADER_BYTES + 3, HEADER_BYTES + 10, HEADER_BYTES + 25])
def test_corrupted_payload_is_detected(coded: tuple, position: int) -> None:
    model, data = coded
    corrupt = bytearray(data)
    corrupt[position] ^= 0x5A
    with pytest.raises(BitstreamError):
        model.decompress(bytes(corrupt))
