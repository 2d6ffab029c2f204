"""The frame loops: stills, galleries, videos and zooms made from their config."""
