#!/usr/bin/env python
"""Entry point: `python run_eval.py --model repvideo --suite vbench` (see README.md)."""

import sys

from repvideo_eval.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
