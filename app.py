"""Start the web app on the default corpus: python app.py [--host 0.0.0.0] [--port 7860] [--auth users.txt]."""

import argparse
import logging

from assistant.settings import Settings
from assistant.ui import serve

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=None, help="address to bind (default 127.0.0.1 or GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=None, help="port (default 7860 or GRADIO_SERVER_PORT)")
    parser.add_argument("--auth", default=None, help="users file (name:password a line): ask for a login")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import bm25s  # noqa: F401 - it sets its own logger to DEBUG when imported: import it first, then quiet it

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    serve(settings=Settings.from_env(auth=args.auth), host=args.host, port=args.port)
