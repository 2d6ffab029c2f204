"""Time in a video: optical flow, the consistency mask, scene cuts, the carried dream, flicker scores."""
