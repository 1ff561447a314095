"""Object detection: image -> Detections, behind the Detector protocol.

Exceptions: DetectorError
    └── ModelError   a model file that is missing, corrupt, or not an ultralytics YOLO export
"""
