"""Camera frames: RTSP and file sources behind one FrameSource protocol.

Exceptions: StreamError
    └── SourceOpenError   a source that cannot be opened at all (bad path, bad URL)
"""
