// The login form. It has no session yet, so its CSRF token is a
// double-submit cookie (set with the form, echoed in a hidden field).

import type { Principal } from "../auth.ts";
import { type Html, html, nothing } from "../html.ts";
import { layout } from "./layout.ts";

export function loginPage(csrf: string, next: string, error: string | null): Html {
  return layout(
    "Log in",
    null,
    html`<h1>Log in</h1>
${error === null ? nothing : html`<p class="error" role="alert" id="login-error">${error}</p>`}
<form class="login" method="post" action="/login">
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="hidden" name="next" value="${next}">
  <label for="user">User name</label>
  <input id="user" name="user" autocomplete="username" required autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Log in</button>
</form>`,
  );
}

export function errorPage(status: number, message: string, principal: Principal | null): Html {
  const loggedIn = principal !== null;
  return layout(
    `Error ${status}`,
    principal === null ? null : { principal, current: "other" },
    html`<h1>${status === 404 ? "Not found" : status === 403 ? "Not allowed" : "Cannot show this"}</h1>
<p id="error-message">${message}</p>
<p><a href="${loggedIn ? "/" : "/login"}">${loggedIn ? "Back to the overview" : "Log in"}</a></p>`,
  );
}
