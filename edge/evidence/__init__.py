"""Evidence on the edge: frame rings, clips and snapshots, the on-disk store and the uploader.

A FrameRing per camera keeps the last seconds as JPEG; on an incident the EvidenceRecorder takes
the `pre` seconds from the ring, collects the `post` seconds as they arrive, writes an H.264 MP4
and an annotated snapshot into the EvidenceStore in a background thread, and the
EvidenceUploader sends what is pending to the API until it is acknowledged.

Modules: config (EvidenceConfig, UploadConfig), ring (FrameRing), clip (encode_clip), snapshot
(render_snapshot), items and store (EvidenceStore), recorder (EvidenceRecorder), uploader
(EvidenceUploader, build_api_client).

Exceptions: EvidenceError (an edge.errors.EdgeError)
    ├── StoreError          the evidence directory or its index cannot be opened or written
    │   └── QuotaExceededError  new evidence refused: the quota is full of unacknowledged files
    └── ClipError           a clip cannot be encoded (no frames, encoder failure)
"""
