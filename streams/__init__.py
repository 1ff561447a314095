"""Camera frames: RTSP and file sources behind one FrameSource protocol.

Exceptions: StreamError
    ├── SourceOpenError   a source that cannot be opened (bad path, refused, unauthorized, no video)
    └── StreamReadError   an open source that failed or stalled while reading
"""
