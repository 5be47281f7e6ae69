"""What differs between the supported ESPnet releases, kept in one place."""
