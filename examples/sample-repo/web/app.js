import { fetch_user } from "./api.js";

export async function showUser(id) {
  const user = await fetch_user(id);
  document.title = user.name;
}
