"""commit-msg hook: a commit subject (the message's first line) is at most 72 characters; detail goes in the body."""

import sys

LIMIT = 72


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        subject = f.readline().rstrip("\n")
    if len(subject) > LIMIT:
        print(f"commit subject is {len(subject)} characters (at most {LIMIT}); move the detail into the body")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
