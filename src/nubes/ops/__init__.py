"""Operations: health and readiness, version, platform settings (later: metrics, monitoring, backups)."""
