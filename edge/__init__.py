"""The edge worker: config, zones, rules, the on-disk outbox, the MQTT publisher and the runtime.

Exceptions: EdgeError
    ├── ConfigError   an edge config file that cannot be used (`problems`: "key.path: reason")
    ├── OutboxError   the on-disk outbox cannot be opened or written
    └── PublisherError  the MQTT client cannot be set up (TLS files, options)
"""
