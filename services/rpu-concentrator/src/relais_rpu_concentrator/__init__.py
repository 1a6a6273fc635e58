"""Regional RPU concentrator: intake of establishments' files, integration, exports, alerts, replay."""
