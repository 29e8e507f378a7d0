// Family page: sign in, pick a resident, chat with the assistant on their
// behalf, see live alerts (help requests, health, staff replies) and an
// overview (meal orders, tickets, help requests).
import {
  $, api, errorText, fmtDay, fmtTime, h, HELP_STATUS, initAuth, label, MEAL, MODE, newMessageId, openStream,
  ORDER_STATUS, showError, TICKET_STATUS,
} from "./common.js";

const picker = $("#resident-picker");
const pickerNote = $("#picker-note");
const log = $("#chat-log");
const form = $("#chat-form");
const input = $("#chat-input");
const sendButton = $('[data-testid="chat-send"]');
const chatError = $("#chat-error");
const alerts = $("#alerts");
const streamState = $("#stream-state");

let account = null;
let residents = new Map(); // resident id → LinkedResident
let currentRid = null;
let seenTurns = new Set(); // turn ids already in the log (history and stream overlap)
let pending = null; // {rid, text, id}: a send that failed, retried with the same message id
let busy = false;
let stream = null;
let overviewTimer = null;
const helpAlerts = new Map(); // help id → its <li>, updated in place as the status moves on

const enc = encodeURIComponent;

// ---- chat log -------------------------------------------------------------

// Who said it goes in data-who (shown by CSS), so a bubble's text is exactly the message.
const BUBBLE = {
  me: { testid: "msg-me", who: "我" },
  bot: { testid: "msg-bot", who: "银铃" },
  operator: { testid: "msg-operator", who: "工作人员" },
  elder: { testid: "msg-elder", who: "老人" },
  family: { testid: "msg-family", who: "其他家属" },
  system: { testid: "msg-system", who: "提示" },
};

function scrollDown() {
  log.scrollTop = log.scrollHeight;
}

function addBubble(kind, text, time = null) {
  const spec = BUBBLE[kind];
  const bubble = h("div", { class: `msg msg-${kind}`, testid: spec.testid, data: { who: spec.who } }, text);
  if (time) bubble.title = fmtTime(time);
  log.querySelector(".note")?.remove();
  log.append(bubble);
  scrollDown();
  return bubble;
}

// Old quick replies go once a new answer arrives: only the latest ones apply.
function clearQuickReplies() {
  for (const row of log.querySelectorAll(".quick-replies")) row.remove();
}

function addQuickReplies(buttons) {
  const row = h("div", { class: "quick-replies" });
  for (const b of buttons) {
    if (!b || !b.title) continue;
    const payload = b.payload || b.title;
    row.append(h("button", { type: "button", class: "secondary", testid: "quick-reply", onclick: () => send(payload, b.title) }, b.title));
  }
  log.append(row);
  scrollDown();
}

function renderReply(reply) {
  for (const m of reply.messages || []) {
    if (m.text) addBubble("bot", m.text);
    if (m.buttons && m.buttons.length) addQuickReplies(m.buttons);
  }
  if (reply.handed_off) addBubble("system", "已转给工作人员，请稍等，工作人员会在这里回复。");
}

// A tapped quick reply sends its payload (e.g. "/affirm"); the log keeps that. Show the words
// on the button instead, as the bubble showed when it was tapped.
const PAYLOAD_WORDS = { "/affirm": "对", "/deny": "不对" };

function renderTurn(turn) {
  if (turn.id != null) {
    if (seenTurns.has(turn.id)) return;
    seenTurns.add(turn.id);
  }
  let kind = turn.role;
  if (kind === "family") kind = turn.actor === `family:${account.id}` ? "me" : "family";
  if (kind === "user") kind = "elder";
  if (!BUBBLE[kind]) kind = "system";
  const text = turn.text || "";
  addBubble(kind, (kind === "me" || kind === "family" || kind === "elder") && PAYLOAD_WORDS[text] || text,
    turn.created_at);
}

function setBusy(value) {
  busy = value;
  sendButton.disabled = value || !currentRid;
  for (const b of log.querySelectorAll('[data-testid="quick-reply"]')) b.disabled = value;
}

// Send one message for the current resident. `shownAs` is a quick reply's
// title (its payload is what is sent).
async function send(text, shownAs = null) {
  if (!currentRid || busy || !text) return;
  const rid = currentRid;
  const id = pending && pending.rid === rid && pending.text === text ? pending.id : newMessageId();
  pending = { rid, text, id };
  showError(chatError, "");
  setBusy(true);
  const mine = addBubble("me", shownAs || text);
  if (!shownAs) input.value = "";
  try {
    const reply = await api("POST", `/api/residents/${enc(rid)}/chat`, { message: text, message_id: id });
    pending = null;
    if (rid !== currentRid) return; // switched resident meanwhile: its history shows this turn
    clearQuickReplies();
    renderReply(reply);
    scheduleOverview();
  } catch (err) {
    if (rid !== currentRid || err.status === 401) return;
    mine.remove(); // not sent: put it back in the box to try again
    if (!shownAs) input.value = text;
    showError(chatError, errorText(err));
  } finally {
    setBusy(false);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) {
    showError(chatError, "请先输入要说的话");
    return;
  }
  send(text);
});

// ---- residents ------------------------------------------------------------

function fillPicker(list) {
  residents = new Map(list.map((r) => [r.resident_id, r]));
  picker.replaceChildren();
  for (const r of list) {
    const text = `${r.name} · 关系：${r.relation || "家属"}${r.consent ? "" : "（未授权）"}`;
    picker.append(h("option", { value: r.resident_id, disabled: !r.consent }, text));
  }
  const first = list.find((r) => r.consent);
  picker.disabled = !first;
  if (!list.length) showNote("这个账号还没有关联老人。请联系工作人员。");
  else if (!first) showNote("老人还没有授权您查看。请联系工作人员办理授权。");
  else showNote("");
  if (first) picker.value = first.resident_id;
  selectResident(first ? first.resident_id : null);
}

function showNote(text) {
  pickerNote.textContent = text;
  pickerNote.hidden = !text;
}

picker.addEventListener("change", () => selectResident(picker.value));

async function selectResident(rid) {
  currentRid = rid;
  seenTurns = new Set();
  pending = null;
  log.replaceChildren();
  showError(chatError, "");
  input.disabled = !rid;
  setBusy(false);
  clearOverview();
  if (!rid) return;
  scheduleOverview(0);
  try {
    const turns = await api("GET", `/api/residents/${enc(rid)}/conversation`);
    if (rid !== currentRid) return;
    for (const turn of turns || []) renderTurn(turn);
  } catch (err) {
    if (rid === currentRid && err.status !== 401) showError(chatError, errorText(err));
  }
  if (rid === currentRid && !log.children.length) {
    log.append(h("p", { class: "note" }, "还没有对话。可以问银铃：明天的午饭订了吗？"));
  }
}

// ---- overview -------------------------------------------------------------

function clearOverview() {
  for (const id of ["#orders", "#tickets", "#help-list"]) $(id).replaceChildren();
  $("#overview-title").textContent = "近况";
  showError($("#overview-error"), "");
}

// Several triggers (a reply, a burst of alerts) collapse into one request.
function scheduleOverview(delay = 300) {
  clearTimeout(overviewTimer);
  overviewTimer = setTimeout(refreshOverview, delay);
}

function fillList(list, items, render, emptyText) {
  list.replaceChildren(...items.map(render));
  if (!items.length) list.append(h("li", { class: "empty" }, emptyText));
}

async function refreshOverview() {
  const rid = currentRid;
  if (!rid) return;
  let data;
  try {
    data = await api("GET", `/api/residents/${enc(rid)}/overview`);
  } catch (err) {
    if (rid === currentRid && err.status !== 401) showError($("#overview-error"), errorText(err));
    return;
  }
  if (rid !== currentRid) return;
  showError($("#overview-error"), "");
  if (data.resident && data.resident.name) $("#overview-title").textContent = `${data.resident.name}的近况`;
  fillList($("#orders"), data.orders || [], (o) =>
    h("li", { testid: "order", data: { orderId: o.id, status: o.status } },
      h("strong", {}, `${fmtDay(o.date)} ${label(MEAL, o.meal)}`),
      ` · ${o.canteen_name || ""} · ${o.portions} 份 · ${label(MODE, o.mode)}`,
      o.serve_from ? ` · ${o.serve_from} 开饭` : "",
      " ", h("span", { class: `badge status-${o.status}` }, label(ORDER_STATUS, o.status))),
  "没有订餐");
  fillList($("#tickets"), data.tickets || [], (t) =>
    h("li", { testid: "ticket", data: { ticketId: t.id, status: t.status } },
      h("strong", {}, t.service_name || t.service_code || "服务"),
      t.preferred_date ? ` · ${fmtDay(t.preferred_date)}` : "",
      " ", h("span", { class: `badge status-${t.status}` }, label(TICKET_STATUS, t.status))),
  "没有服务工单");
  fillList($("#help-list"), data.help || [], (x) =>
    h("li", { testid: "help-item", data: { helpId: x.id, status: x.status } },
      h("strong", {}, fmtTime(x.created_at)), x.text ? ` “${x.text}” ` : " ",
      h("span", { class: `badge status-${x.status}` }, helpStatusText(x))),
  "没有求助记录");
}

// ---- alerts ---------------------------------------------------------------

function helpStatusText(x) {
  if (x.status === "acknowledged" && x.acknowledged_at) return `已受理 ${fmtTime(x.acknowledged_at)}`;
  return label(HELP_STATUS, x.status);
}

function residentName(rid, fallback) {
  return fallback || residents.get(rid)?.name || "老人";
}

function trimAlerts() {
  alerts.querySelector(".empty")?.remove();
  while (alerts.children.length > 50) {
    const last = alerts.lastElementChild;
    if (last.dataset.helpId) helpAlerts.delete(last.dataset.helpId);
    last.remove();
  }
}

function onHelp(x) {
  const key = String(x.id);
  let item = helpAlerts.get(key);
  const isNew = !item;
  if (isNew) {
    item = h("li", { class: "alert alert-help", testid: "alert-help", data: { helpId: key } });
    helpAlerts.set(key, item);
  }
  item.dataset.status = x.status;
  item.className = `alert alert-help status-${x.status}`;
  item.replaceChildren(
    h("strong", {}, `${residentName(x.resident_id, x.resident_name)} 求助`), " ",
    h("span", { class: `badge status-${x.status}`, testid: "alert-status" }, helpStatusText(x)),
    x.text ? h("p", {}, `说：“${x.text}”`) : null,
    h("small", {}, fmtTime(x.created_at)),
  );
  if (isNew) alerts.prepend(item);
  trimAlerts();
  if (x.resident_id === currentRid) scheduleOverview();
}

function onHealth(x) {
  alerts.prepend(h("li", { class: "alert alert-health", testid: "alert-health" },
    h("strong", {}, `${residentName(x.resident_id)} 健康提醒`),
    h("p", {}, x.message || ""), h("small", {}, fmtTime(x.created_at))));
  trimAlerts();
  if (x.resident_id === currentRid) scheduleOverview();
}

// Staff replies: in the chat when it is the resident on screen, else as an alert. Staff notes
// in the conversation (an operator took it, handed it back to the bot) show in the chat too.
function onTurn(data) {
  const turn = data.turn || data;
  // our own and the bot's turns come back with the chat reply
  if (turn.role !== "operator" && turn.role !== "system") return;
  if (turn.resident_id === currentRid) {
    renderTurn(turn);
    scheduleOverview();
    return;
  }
  if (turn.role !== "operator") return;
  alerts.prepend(h("li", { class: "alert alert-turn", testid: "alert-turn" },
    h("strong", {}, `工作人员回复（${residentName(turn.resident_id)}）`),
    h("p", {}, turn.text || ""), h("small", {}, fmtTime(turn.created_at))));
  trimAlerts();
}

function setStreamState(state) {
  streamState.textContent = state === "open" ? "已连接，有新情况会马上显示" : "连接中断，正在重连…";
  streamState.classList.toggle("error", state !== "open");
}

// ---- sign-in --------------------------------------------------------------

initAuth({
  onSignedIn(acc) {
    account = acc;
    alerts.replaceChildren(h("li", { class: "empty" }, "暂时没有新提醒"));
    helpAlerts.clear();
    stream = openStream({ help: onHelp, health: onHealth, turn: onTurn }, setStreamState);
    fillPicker(acc.residents || []);
  },
  onSignedOut() {
    if (stream) stream.close();
    stream = null;
    account = null;
    clearTimeout(overviewTimer);
    currentRid = null;
    log.replaceChildren();
    alerts.replaceChildren();
    helpAlerts.clear();
    picker.replaceChildren();
    clearOverview();
  },
});
