"""Local services started by the demo and the test fixtures: Mosquitto and an RTSP server."""
