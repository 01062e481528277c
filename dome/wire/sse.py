"""Server-sent events framing, sans I/O: feed bytes in any split, get whole events out.

Follows the WHATWG event-stream rules the SDKs implement: lines end in CRLF, LF or CR;
a blank line ends an event; several `data:` lines join with LF; `:` starts a comment.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    event: str | None
    data: bytes


class SseDecoder:
    """Incremental decoder. `feed` returns the events completed by the new bytes."""

    __slots__ = ("_buffer", "_data", "_event", "_pending_cr")

    def __init__(self) -> None:
        self._buffer = b""
        self._event: str | None = None
        self._data: list[bytes] = []
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if not chunk:
            return []
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF split across two reads
        self._pending_cr = False
        buffer = self._buffer + chunk
        events: list[SseEvent] = []
        start = 0
        size = len(buffer)
        while start < size:
            lf = buffer.find(b"\n", start)
            cr = buffer.find(b"\r", start)
            if lf < 0 and cr < 0:
                break
            if cr < 0 or (0 <= lf < cr):
                line, start = buffer[start:lf], lf + 1
            elif cr + 1 < size:
                line = buffer[start:cr]
                start = cr + 2 if buffer[cr + 1 : cr + 2] == b"\n" else cr + 1
            else:  # a CR at the very end: its LF may still come
                line, start = buffer[start:cr], cr + 1
                self._pending_cr = True
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._buffer = buffer[start:]
        return events

    def _line(self, line: bytes) -> SseEvent | None:
        if not line:
            if not self._data and self._event is None:
                return None
            event = SseEvent(self._event, b"\n".join(self._data))
            self._event, self._data = None, []
            return event
        if line.startswith(b":"):
            return None
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        return None


class MarkedEventScanner:
    """Yields only the events that contain one of `markers` (and maybe their neighbours).

    A relayed stream is mostly content deltas the broker does not need. This keeps the
    bytes since the last event boundary, finds the markers in each newly completed
    segment with a plain substring search, and runs the full decoder only on the event
    around each marker. Event spans start and end at boundaries, so a fresh decoder
    reads them correctly.
    """

    __slots__ = ("_markers", "_pending")

    _BOUNDARIES = (b"\n\n", b"\n\r\n", b"\r\r")

    def __init__(self, markers: tuple[bytes, ...]) -> None:
        self._markers = markers
        self._pending = b""

    def feed(self, chunk: bytes) -> list[SseEvent]:
        data = self._pending + chunk if self._pending else chunk
        end = 0
        for boundary in self._BOUNDARIES:
            found = data.rfind(boundary)
            if found >= 0:
                end = max(end, found + len(boundary))
        if not end:  # no event has ended yet
            self._pending = data
            return []
        segment, self._pending = data[:end], data[end:]
        spans = sorted({self._event_span(segment, at) for at in self._marker_positions(segment)})
        events: list[SseEvent] = []
        for start, stop in spans:
            events.extend(SseDecoder().feed(segment[start:stop]))
        return events

    def _marker_positions(self, segment: bytes) -> list[int]:
        positions = []
        for marker in self._markers:
            at = segment.find(marker)
            while at >= 0:
                positions.append(at)
                at = segment.find(marker, at + len(marker))
        return positions

    def _event_span(self, segment: bytes, at: int) -> tuple[int, int]:
        """The bytes of the one event around offset `at`, boundaries included."""
        start, stop = 0, len(segment)
        for boundary in self._BOUNDARIES:
            before = segment.rfind(boundary, 0, at)
            if before >= 0:
                start = max(start, before + len(boundary))
            after = segment.find(boundary, at)
            if after >= 0:
                stop = min(stop, after + len(boundary))
        return start, stop
