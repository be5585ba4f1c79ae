#!/usr/bin/env python3
"""Prints a report of users."""

from client import fetch_user


def main():
    for user_id in (1, 2, 3):
        print(fetch_user(user_id))


if __name__ == "__main__":
    main()
