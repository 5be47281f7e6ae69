"""Small eSpeak NG synthesis server, run as a script with only the standard library.

Usage:
    python espeak_server.py LIBRARY [DATA_PATH]

libespeak-ng keeps synthesis state in static variables (pitch flutter phase,
wave phase, echo buffer) that neither ``espeak_Terminate`` nor a new voice
resets: a second utterance in one process differs from the same utterance
synthesized first. This server initializes the engine once and answers every
request from a freshly forked child of that never-used engine, after seeding
both random generators eSpeak NG draws from (its own, for breath noise, and
libc's ``rand``). The samples then depend only on the request. Forking this
small process costs well under a millisecond.

Protocol on stdin/stdout: a request is a 4-byte little-endian length and a
UTF-8 JSON object ``{"text", "voice", "rate", "pitch", "seed"}``; every
message of the server (one on start-up, one per request) is a status byte
(0: ok, 1: error), a 4-byte length and the payload: the sample rate as text on
start-up, the word events and samples of a request (a 4-byte word count, per
word its 1-based character position and first sample as two int32, then int16
samples; all little-endian), or an error message. The server stops at the end
of its input.
"""

from __future__ import annotations

import ctypes
import json
import os
import struct
import sys
from typing import BinaryIO

__all__ = ["serve"]

# espeak_AUDIO_OUTPUT, espeak_PARAMETER and flags of speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_PARAMETER_RATE = 1
_PARAMETER_PITCH = 3
_POSITION_CHARACTER = 1
_CHARS_UTF8 = 1
_HEADER = struct.Struct("<BI")
_LENGTH = struct.Struct("<I")

_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_WORD = struct.Struct("<ii")


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of speak_lib.h."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character index
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),  # sample index in the output
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class _Engine:
    """An initialized libespeak-ng that collects samples through its callback."""

    def __init__(self, library: str, data_path: str | None) -> None:
        lib = ctypes.CDLL(library)
        lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.set_seed = getattr(lib, "espeak_ng_SetRandSeed", None)
        if self.set_seed is not None:  # eSpeak NG 1.52 and later
            self.set_seed.argtypes = [ctypes.c_long]
        path = data_path.encode() if data_path else None
        self.sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, path, 0)
        if self.sample_rate <= 0:
            raise RuntimeError(
                f"libespeak-ng found no voice data at {data_path or 'its default path'}"
            )
        self.lib = lib
        self.libc = ctypes.CDLL(None)
        self.chunks: list[bytes] = []
        self.words: list[tuple[int, int]] = []
        self.callback = _SynthCallback(self._collect)
        lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, samples, num_samples: int, events) -> int:
        if num_samples > 0:
            self.chunks.append(ctypes.string_at(samples, 2 * num_samples))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                self.words.append((event.text_position, event.sample))
            index += 1
        return 0

    def synthesize(self, request: dict) -> bytes:
        """Returns the word events and int16 samples (native byte order) of a
        request: a count, then (1-based character position, first sample) of
        each word eSpeak NG announced, then the samples."""
        lib = self.lib
        if lib.espeak_SetVoiceByName(request["voice"].encode()) != 0:
            raise ValueError(f"unknown eSpeak NG voice {request['voice']!r}")
        lib.espeak_SetParameter(_PARAMETER_RATE, int(request["rate"]), 0)
        lib.espeak_SetParameter(_PARAMETER_PITCH, int(request["pitch"]), 0)
        seed = int(request["seed"])
        if self.set_seed is not None:
            self.set_seed(seed)
        self.libc.srand(ctypes.c_uint(seed))
        text = request["text"].encode() + b"\0"
        status = lib.espeak_Synth(
            text, len(text), 0, _POSITION_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if status != 0 or lib.espeak_Synchronize() != 0:
            raise RuntimeError(f"espeak_Synth failed with status {status}")
        if not self.chunks:
            raise RuntimeError("eSpeak NG returned no audio")
        words = b"".join(_WORD.pack(*word) for word in self.words)
        return _LENGTH.pack(len(self.words)) + words + b"".join(self.chunks)


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """Reads ``size`` bytes; ``None`` at the end of the stream."""
    data = stream.read(size)
    return data if len(data) == size else None


def _answer(engine: _Engine, request: dict) -> tuple[int, bytes]:
    """Synthesizes in a forked child and returns (status, payload)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            try:
                message = b"\0" + engine.synthesize(request)
            except Exception as error:
                message = b"\1" + str(error).encode()
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(message)
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    if not message:
        return 1, f"eSpeak NG crashed on {request['text']!r}".encode()
    return message[0], message[1:]


def serve(library: str, data_path: str | None) -> None:
    """Answers requests from stdin on stdout until stdin ends."""
    reader, writer = sys.stdin.buffer, sys.stdout.buffer

    def send(status: int, payload: bytes) -> None:
        writer.write(_HEADER.pack(status, len(payload)) + payload)
        writer.flush()

    try:
        engine = _Engine(library, data_path)
    except (OSError, RuntimeError) as error:
        send(1, str(error).encode())
        return
    send(0, str(engine.sample_rate).encode())
    while (header := _read_exactly(reader, _LENGTH.size)) is not None:
        body = _read_exactly(reader, _LENGTH.unpack(header)[0])
        if body is None:
            return
        send(*_answer(engine, json.loads(body)))


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
