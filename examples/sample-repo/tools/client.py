import requests


def fetch_user(user_id):
    return requests.get(f"https://example.com/users/{user_id}").json()
