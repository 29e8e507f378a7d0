// Shared by family.js and console.js: the API wrapper, Mandarin error texts,
// safe DOM building, time formatting, the sign-in flow and the alert stream.
// No build step and no external code: the machines are offline.

// The signed-in account and its CSRF token (from /api/auth/login or /api/me).
// The session token itself lives only in the HttpOnly cookie. `today` is the
// service's calendar day (China time, or the pinned demo day) from the same
// answers: pages default to it, since the browser's clock may be on another day.
export const session = { account: null, csrf: null, today: null };

let unauthorized = () => {};

export class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(`HTTP ${status}: ${detail}`);
    this.status = status; // 0 = the server could not be reached
    this.detail = detail; // the server's `detail` when it is a string, else ""
    this.retryAfter = retryAfter; // seconds, from Retry-After (429)
  }
}

function detailOf(data) {
  if (data && typeof data.detail === "string") return data.detail;
  return "";
}

// One JSON request. Cookies go with it (same origin); every state-changing
// request carries X-CSRF-Token. A 401 means the session is gone: the page goes
// back to the sign-in form, unless the caller handles 401 itself (sign-in,
// change password, reset).
export async function api(method, path, body, { on401 = "signin", csrfRetry = true } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", null);
  }
  const text = res.status === 204 ? "" : await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;
  const err = new ApiError(res.status, detailOf(data), Number(res.headers.get("Retry-After")) || null);
  // A stale CSRF token (another tab signed in again): fetch the current one once and retry.
  if (res.status === 403 && /csrf/i.test(err.detail) && csrfRetry && method !== "GET") {
    try {
      const me = await api("GET", "/api/me");
      session.csrf = me.csrf_token;
      session.account = me.account;
    } catch {
      throw err;
    }
    return api(method, path, body, { on401, csrfRetry: false });
  }
  if (res.status === 401 && on401 === "signin") {
    session.account = null;
    session.csrf = null;
    unauthorized();
  }
  throw err;
}

const CJK = /[\u4e00-\u9fff]/;

// Server error codes we know of (services/errors.py, the gateway) → plain Mandarin.
const DETAIL_TEXT = [
  [/weak_password/i, "密码要 8 到 128 位"],
  [/csrf/i, "页面已过期，请刷新页面后再试"],
  [/disabled/i, "这个账号已停用，请联系工作人员"],
  [/consent/i, "这位老人还没有授权家属查看"],
];

// Turn any failure into one short Mandarin sentence. `context` picks the
// wording where one status means different things (sign-in, handoff take …).
export function errorText(err, context = "") {
  if (!(err instanceof ApiError)) return "出了点问题，请再试一次";
  if (err.status === 0) return "连不上服务器，请检查网络后再试";
  if (err.status === 429) {
    if (err.retryAfter) {
      const minutes = Math.max(1, Math.ceil(err.retryAfter / 60));
      return `尝试次数太多，请 ${minutes} 分钟后再试`;
    }
    return "尝试次数太多，请过一会儿再试";
  }
  if (err.detail && CJK.test(err.detail)) return err.detail; // already Mandarin
  for (const [pattern, text] of DETAIL_TEXT) if (pattern.test(err.detail)) return text;
  if (context === "login" && (err.status === 401 || err.status === 400 || err.status === 422)) {
    return "用户名或密码不对";
  }
  if (context === "password" && (err.status === 401 || err.status === 403)) return "原密码不对";
  if (context === "reset" && [400, 401, 403, 404, 422].includes(err.status)) return "验证码不对或已过期";
  if (context === "take" && err.status === 409) return "已被其他话务员接手";
  switch (err.status) {
    case 400:
    case 422:
      return "填写的内容不对，请检查后再试";
    case 401:
      return "请重新登录";
    case 403:
      return "没有权限做这件事";
    case 404:
      return "没有找到，可能已被删除";
    case 409:
      return "已经被别人处理了，请刷新看看";
    default:
      return err.status >= 500 ? "系统出了点问题，请稍后再试" : "出了点问题，请再试一次";
  }
}

// Build an element. Children are nodes or plain strings (added as text, so
// data is never parsed as HTML). `testid` → data-testid, `data` → data-*,
// `on*` → event listeners, true → an empty attribute, null/false → skipped.
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "testid") node.dataset.testid = value;
    else if (key === "class") node.className = value;
    else if (key === "data") for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function showError(node, text) {
  node.textContent = text || "";
  node.hidden = !text;
}

// Keep a list's rows in place across refreshes: rows are keyed, updated in
// place and only moved when out of order, so a half-typed note or reply (and
// its focus) survives the 5-second refresh.
export function syncList(container, items, keyOf, create, update, emptyText = "暂无") {
  for (const child of [...container.children]) if (!child.dataset.key) child.remove();
  const existing = new Map([...container.children].map((c) => [c.dataset.key, c]));
  items.forEach((item, i) => {
    const key = String(keyOf(item));
    let node = existing.get(key);
    if (node) existing.delete(key);
    else {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item);
    const at = container.children[i];
    if (at !== node) container.insertBefore(node, at || null);
  });
  for (const node of existing.values()) node.remove();
  if (items.length === 0) container.append(h(container.tagName === "UL" ? "li" : "p", { class: "empty" }, emptyText));
}

// Server times are ISO strings; one without an offset is UTC (SQLite drops the zone).
export function parseTime(value) {
  if (!value) return null;
  const iso = /([zZ]|[+-]\d\d:?\d\d)$/.test(value) || value.length <= 10 ? value : `${value}Z`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

const pad = (n) => String(n).padStart(2, "0");

export function localDay(date = new Date()) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// "14:05" today, "5月3日 14:05" otherwise.
export function fmtTime(value) {
  const d = parseTime(value);
  if (!d) return "";
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return localDay(d) === localDay() ? hm : `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
}

// A calendar day "YYYY-MM-DD" → "今天" / "明天" / "5月3日".
export function fmtDay(value) {
  if (!value) return "";
  const [y, m, d] = String(value).slice(0, 10).split("-").map(Number);
  if (!y) return String(value);
  const day = new Date(y, m - 1, d);
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const diff = Math.round((day - today) / 86400000);
  if (diff === 0) return "今天";
  if (diff === 1) return "明天";
  if (diff === -1) return "昨天";
  return `${m}月${d}日`;
}

export const HELP_STATUS = { open: "未处理", acknowledged: "已受理", resolved: "已解决" };
export const CHANNEL = { text: "文字", speaker: "音箱", phone: "电话", web: "网页" };
export const MEAL = { breakfast: "早饭", lunch: "午饭", dinner: "晚饭" };
export const MODE = { dine_in: "堂食", delivery: "送餐" };
export const ORDER_STATUS = { booked: "已订", cancelled: "已取消", served: "已送达", delivered: "已送达" };
export const TICKET_STATUS = { open: "待处理", assigned: "已派人", done: "已完成", cancelled: "已取消" };
export const ROLE = { elder: "老人", user: "老人", family: "家属", bot: "银铃", operator: "工作人员", system: "系统" };

export const label = (map, value) => map[value] || value || "";

// 8 random bytes as hex: a message id for /chat, so a retried send is not
// answered twice. crypto.getRandomValues also works on plain http (LAN).
export function newMessageId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return "w" + [...bytes].map((b) => pad(b.toString(16))).join("");
}

// A label and its input; the input's id is also its data-testid.
function field(id, text, attrs) {
  return [h("label", { for: id }, text), h("input", { id, testid: id, required: true, ...attrs })];
}

// The sign-in card, the same on both pages: built into the page's empty
// <section id="signin">, whose data-title (the heading) and data-code-from
// (who gives reset codes to this page's users) are the page's own words.
function buildSignIn(section) {
  const { title = "登录", codeFrom = "工作人员" } = section.dataset;
  section.replaceChildren(
    h("h2", { id: "signin-title" }, title),
    h("form", { id: "login-form", novalidate: true },
      field("login-username", "用户名",
        { name: "username", autocomplete: "username", autocapitalize: "off", spellcheck: "false" }),
      field("login-password", "密码", { name: "password", type: "password", autocomplete: "current-password" }),
      h("p", { class: "error", testid: "login-error", role: "alert", hidden: true }),
      h("button", { type: "submit", testid: "login-submit" }, "登录")),
    h("details", { class: "reset" },
      h("summary", {}, `忘记密码？用${codeFrom}给的验证码重设`),
      h("form", { id: "reset-form", novalidate: true },
        field("reset-username", "用户名", { autocomplete: "username", autocapitalize: "off" }),
        field("reset-code", "验证码（8 位数字）", { inputmode: "numeric", autocomplete: "one-time-code" }),
        field("reset-new-password", "新密码（至少 8 位）", { type: "password", autocomplete: "new-password" }),
        h("p", { id: "reset-result", testid: "reset-result", role: "status", hidden: true }),
        h("button", { type: "submit", testid: "reset-submit" }, "重设密码"))),
  );
}

// The fields of the change-password form, built into the page's empty <form id="password-form">.
function buildPasswordForm(form) {
  form.replaceChildren(
    ...field("old-password", "原密码", { type: "password", autocomplete: "current-password" }),
    ...field("new-password", "新密码（至少 8 位）", { type: "password", autocomplete: "new-password" }),
    ...field("new-password2", "再输一遍新密码", { type: "password", autocomplete: "new-password" }),
    h("p", { id: "password-result", testid: "password-result", role: "status", hidden: true }),
    h("button", { type: "submit", testid: "password-submit" }, "修改密码"),
  );
}

// Sign-in, sign-out, change password and reset with a code, the same on both
// pages: the page has #who (with #account-name and the logout button), an
// empty #signin and #password-form (filled here, see above) and #app.
// `accept(account)` returns an error text when this page is not for that account.
export function initAuth({ onSignedIn, onSignedOut, accept = () => null }) {
  const signin = $("#signin");
  buildSignIn(signin);
  if ($("#password-form")) buildPasswordForm($("#password-form"));
  const app = $("#app");
  const who = $("#who");
  const loginForm = $("#login-form");
  const loginError = $('[data-testid="login-error"]');
  const submit = $('[data-testid="login-submit"]');

  let signedIn = false;

  function showSignIn(message = "") {
    if (signedIn) onSignedOut();
    signedIn = false;
    session.account = null;
    session.csrf = null;
    session.today = null;
    app.hidden = true;
    who.hidden = true;
    signin.hidden = false;
    showError(loginError, message);
    $('[data-testid="login-username"]').focus();
  }

  function enter(account, csrf, fromForm, today) {
    const refusal = accept(account);
    if (refusal) {
      // The wrong kind of account for this page. One just signed in here is
      // signed out again; an existing session (another tab) is left alone.
      if (fromForm) {
        session.csrf = csrf;
        api("POST", "/api/auth/logout", undefined, { on401: "throw" }).catch(() => {});
      }
      showSignIn(refusal);
      return;
    }
    session.account = account;
    session.csrf = csrf;
    session.today = today || null;
    signin.hidden = true;
    app.hidden = false;
    who.hidden = false;
    $("#account-name").textContent = account.display_name || account.username;
    signedIn = true;
    onSignedIn(account);
  }

  unauthorized = () => showSignIn("登录已过期，请重新登录");

  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $('[data-testid="login-username"]').value.trim();
    const passwordInput = $('[data-testid="login-password"]');
    if (!username || !passwordInput.value) {
      showError(loginError, "请填写用户名和密码");
      return;
    }
    submit.disabled = true;
    showError(loginError, "");
    try {
      const data = await api("POST", "/api/auth/login", { username, password: passwordInput.value }, { on401: "throw" });
      passwordInput.value = "";
      enter(data.account, data.csrf_token, true, data.today);
    } catch (err) {
      passwordInput.value = "";
      showError(loginError, errorText(err, "login"));
      passwordInput.focus();
    } finally {
      submit.disabled = false;
    }
  });

  $('[data-testid="logout"]').addEventListener("click", async () => {
    try {
      await api("POST", "/api/auth/logout", undefined, { on401: "throw" });
    } catch {
      // Signed out here either way; the server session then expires on its own.
    }
    showSignIn("");
  });

  const passwordForm = $("#password-form");
  if (passwordForm) {
    passwordForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = $("#password-result");
      const oldPassword = $("#old-password").value;
      const newPassword = $("#new-password").value;
      if (newPassword !== $("#new-password2").value) return showResult(out, "两次输入的新密码不一样", true);
      if (newPassword.length < 8) return showResult(out, "新密码至少 8 位", true);
      try {
        await api("POST", "/api/auth/password", { old_password: oldPassword, new_password: newPassword }, { on401: "throw" });
        passwordForm.reset();
        showResult(out, "密码已修改", false);
      } catch (err) {
        // 401 here is either a wrong old password or an expired session: ask /api/me which.
        if (err.status === 401) {
          try {
            await api("GET", "/api/me");
          } catch {
            return; // session gone: api() already went back to the sign-in form
          }
        }
        showResult(out, errorText(err, "password"), true);
      }
    });
  }

  const resetForm = $("#reset-form");
  if (resetForm) {
    resetForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = $("#reset-result");
      const body = {
        username: $("#reset-username").value.trim(),
        code: $("#reset-code").value.trim(),
        new_password: $("#reset-new-password").value,
      };
      if (body.new_password.length < 8) return showResult(out, "新密码至少 8 位", true);
      try {
        await api("POST", "/api/auth/reset", body, { on401: "throw" });
        resetForm.reset();
        showResult(out, "密码已重设，请用新密码登录", false);
      } catch (err) {
        showResult(out, errorText(err, "reset"), true);
      }
    });
  }

  // Already signed in (cookie)? Otherwise show the form.
  (async () => {
    try {
      const me = await api("GET", "/api/me", undefined, { on401: "throw" });
      enter(me.account, me.csrf_token, false, me.today);
    } catch (err) {
      showSignIn(err.status === 401 ? "" : errorText(err));
    }
  })();

  return { showSignIn };
}

export function showResult(node, text, isError) {
  node.textContent = text;
  node.hidden = false;
  node.classList.toggle("error", isError);
  node.classList.toggle("ok", !isError);
}

// The live alert stream. The browser reconnects by itself after a dropped
// connection; when the server refuses it (e.g. 401) the EventSource closes,
// so we ask /api/me (which sends a 401 to the sign-in form) and reconnect.
export function openStream(handlers, onState = () => {}) {
  let source = null;
  let timer = null;
  let stopped = false;

  function connect() {
    if (stopped) return;
    source = new EventSource("/api/alerts/stream");
    source.onopen = () => onState("open");
    for (const [name, handle] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return; // not JSON (a bare ping): nothing to show
        }
        handle(data);
      });
    }
    source.addEventListener("ping", () => onState("open"));
    source.onerror = () => {
      onState("retry");
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        timer = setTimeout(check, 5000);
      }
    };
  }

  async function check() {
    if (stopped) return;
    try {
      const me = await api("GET", "/api/me");
      session.csrf = me.csrf_token;
      connect();
    } catch (err) {
      if (err.status !== 401 && !stopped) timer = setTimeout(check, 10000);
    }
  }

  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      if (source) source.close();
    },
  };
}
