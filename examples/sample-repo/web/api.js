// SPDX-License-Identifier: MIT
export async function fetch_user(id) {
  const res = await fetch(`/api/users/${id}`);
  return res.json();
}
