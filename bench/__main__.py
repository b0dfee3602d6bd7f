"""``python -m bench NAME [options]``: run one benchmark; it prints one JSON object."""

from __future__ import annotations

import importlib
import sys

#: subcommand -> module with ``main(argv) -> int``
COMMANDS = {
    "calls": "bench.calls",
    "wall": "bench.wall",
    "compare": "bench.compare",
    "lanes": "bench.lanes",
    "scale": "bench.scale",
    "step": "bench.scale_steps",  # one measure of `scale`, in a child process of its own
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        print(f"usage: python -m bench {{{'|'.join(COMMANDS)}}} [--quick] [--help]", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[args[0]])
    return int(module.main(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
