"""The studio: a local web page to find a look on a still or a video frame and preview it
live (``dreamvideo studio``). A FastAPI app (``studio.app``) whose page talks only to its
JSON endpoints under ``/api``; FastAPI and uvicorn come with ``pip install "dreamvideo[studio]"``."""
